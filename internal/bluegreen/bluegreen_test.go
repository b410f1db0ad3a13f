package bluegreen

import (
	"strings"
	"testing"

	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

func TestDecide(t *testing.T) {
	old := Settings{8080, "HTTP", "vpc-1", "ip"}
	neu := Settings{9090, "HTTP", "vpc-1", "ip"}
	st := func(active Color, blueFP, greenFP string, bw, gw int) State {
		return State{Active: active, Weights: map[Color]int{Blue: bw, Green: gw}, Fingerprints: map[Color]string{Blue: blueFP, Green: greenFP}}
	}
	o, n := old.Fingerprint(), neu.Fingerprint()
	cases := []struct {
		name   string
		st     State
		active Color
		want   Settings
		flip   bool
		repl   Color
		later  Color
		refuse string
	}{
		{"nothing", st(Blue, o, o, 100, 0), Blue, old, false, "", "", ""},
		{"flip", st(Blue, o, o, 100, 0), Green, old, true, "", "", ""},
		{"settings change replaces idle, live later", st(Blue, o, o, 100, 0), Blue, neu, false, Green, Blue, ""},
		{"flip to the replaced color", st(Blue, o, n, 100, 0), Green, neu, true, "", Blue, ""},
		{"then the old live, now idle, is replaced", st(Green, o, n, 0, 100), Green, neu, false, Blue, "", ""},
		{"flip and replace at once is refused", st(Blue, o, o, 100, 0), Green, neu, false, "", "", "Apply in two steps"},
		{"a missing idle target group is recreated", st(Blue, o, Missing, 100, 0), Blue, old, false, Green, "", ""},
		{"flip to a missing one is refused", st(Blue, o, Missing, 100, 0), Green, old, false, "", "", "no longer exists"},
		{"idle that still serves traffic is not replaced", st(Blue, o, o, 50, 50), Blue, neu, false, "", "", "still serves traffic (weight 50)"},
	}
	for _, c := range cases {
		d := Decide(c.st, c.active, c.want)
		if c.refuse != "" {
			if !strings.Contains(d.Refused, c.refuse) {
				t.Errorf("%s: refused %q, want …%s…", c.name, d.Refused, c.refuse)
			}
			continue
		}
		if d.Refused != "" || d.Flip != c.flip || d.Replace != c.repl || d.Later != c.later {
			t.Errorf("%s: %+v, want flip %v replace %q later %q", c.name, d, c.flip, c.repl, c.later)
		}
	}
}

func TestNames(t *testing.T) {
	n := Name("web-prod", Green, "a1b2")
	if n != "web-prod-green-a1b2" || PrefixOf(n) != "web-prod" || ColorOfName(n) != Green || len(Name(strings.Repeat("x", MaxPrefix), Green, "abcd")) != 32 {
		t.Errorf("name %q prefix %q color %q", n, PrefixOf(n), ColorOfName(n))
	}
	if PrefixOf("other") != "other" || ColorOfName("other") != "" {
		t.Error("a foreign name")
	}
}

func TestHistoryAndLive(t *testing.T) {
	var h []Flip
	for i := 0; i < 12; i++ {
		h = Record(h, Flip{From: Blue, To: Green, Status: string(rune('a' + i))})
	}
	if len(h) != MaxHistory || h[0].Status != "c" || h[9].Status != "l" {
		t.Errorf("history %v", h)
	}
	if LiveOf(map[Color]int{Blue: 1, Green: 3}, Blue) != Green || LiveOf(map[Color]int{Blue: 5, Green: 5}, Green) != Green {
		t.Error("LiveOf")
	}
}

func FuzzDecide(f *testing.F) {
	f.Add(uint8(0), uint8(1), uint8(2), 100, 0, true)
	f.Fuzz(func(t *testing.T, a, bf, gf uint8, bw, gw int, flipTo bool) {
		fps := []string{"HTTP:80:v:ip", "HTTP:81:v:ip", Missing}
		st := State{Active: Colors[a%2], Weights: map[Color]int{Blue: bw, Green: gw}, Fingerprints: map[Color]string{Blue: fps[bf%3], Green: fps[gf%3]}}
		active := st.Active
		if flipTo {
			active = active.Other()
		}
		d := Decide(st, active, Settings{80, "HTTP", "v", "ip"})
		// Never replace the color that is live or about to go live, nor
		// one that carries traffic.
		if d.Replace != "" && (d.Replace == st.Active || d.Replace == active || st.Weights[d.Replace] > 0) {
			t.Fatalf("replaces %s in %+v to %s", d.Replace, st, active)
		}
		if d.Refused != "" && (d.Replace != "" || d.Flip && active == st.Active) {
			t.Fatalf("refused and acting: %+v", d)
		}
	})
}

func TestReleaseDecisions(t *testing.T) {
	owned := map[string]bool{"blue": true, "green": true}
	s := func(arns ...string) weights.Split {
		var out weights.Split
		for _, a := range arns {
			out = append(out, weights.Target{ARN: a, Weight: 1})
		}
		return out
	}
	for _, c := range []struct {
		name     string
		live     weights.Split
		forwards bool
		want     bool
	}{
		{"forwards to an owned target group", s("blue", "other"), true, true},
		{"forwards elsewhere: left alone", s("other"), true, false},
		{"no forward at all", nil, false, true},
	} {
		if got := NeedsRelease(c.live, c.forwards, owned); got != c.want {
			t.Errorf("NeedsRelease %s = %v, want %v", c.name, got, c.want)
		}
	}
	for _, c := range []struct {
		name     string
		valid    bool
		rec      weights.Split
		forwards bool
		exists   map[string]bool
		want     bool
	}{
		{"recorded forward to a target group that exists", true, s("old"), true, map[string]bool{"old": true}, true},
		{"its target group is gone", true, s("old"), true, map[string]bool{"old": false}, false},
		{"existence unknown (the lookup failed)", true, s("old"), true, nil, false},
		{"it forwarded to one of ours", true, s("blue"), true, map[string]bool{"blue": true}, false},
		{"a fixed response was recorded", true, nil, false, nil, true},
		{"nothing recorded (imported)", false, nil, false, nil, false},
	} {
		if got := CanRestore(c.valid, c.rec, c.forwards, owned, c.exists); got != c.want {
			t.Errorf("CanRestore %s = %v, want %v", c.name, got, c.want)
		}
	}
}
