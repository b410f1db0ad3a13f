package problem

import "testing"

func TestPathString(t *testing.T) {
	for _, c := range []struct {
		p    Path
		want string
	}{
		{nil, ""},
		{At("steps").Index(2).Name("percent"), "steps[2].percent"},
		{At("custom").Name("queries").Index(0).Name("id"), "custom.queries[0].id"},
		{At("target_groups").Index(1).Name("weight"), "target_groups[1].weight"},
		{At("services").Key("web").Name("target_groups"), `services["web"].target_groups`},
		{At("services").Key("web").Name("target_groups").Parent(), `services["web"]`},
		{At("a").Parent(), ""},
	} {
		if got := c.p.String(); got != c.want {
			t.Errorf("%v.String() = %q, want %q", c.p, got, c.want)
		}
	}
	base := At("a")
	x, y := base.Name("b"), base.Name("c")
	if x.String() != "a.b" || y.String() != "a.c" {
		t.Fatalf("paths share storage: %s %s", x, y)
	}
	if (Problem{Reason: "whole"}).Error() != "whole" || New(At("w"), "c", "is %d", 3).Error() != "w: is 3" {
		t.Fatal("Error()")
	}
}
