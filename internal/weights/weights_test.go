package weights

import (
	"strings"
	"testing"
)

func tg(n string) string { return "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/" + n + "/1" }

func TestProblems(t *testing.T) {
	cases := []struct {
		name string
		s    Split
		want []string // substrings, one per problem, in order
	}{
		{"two groups", Split{{tg("a"), 90}, {tg("b"), 10}}, nil},
		{"one group", Split{{tg("a"), 1}}, nil},
		{"zero and max", Split{{tg("a"), 0}, {tg("b"), 999}}, nil},
		{"five groups", Split{{tg("a"), 1}, {tg("b"), 1}, {tg("c"), 1}, {tg("d"), 1}, {tg("e"), 1}}, nil},
		{"empty", Split{}, []string{"1 to 5 target groups, this one has 0"}},
		{"six groups", Split{{tg("a"), 1}, {tg("b"), 1}, {tg("c"), 1}, {tg("d"), 1}, {tg("e"), 1}, {tg("f"), 1}}, []string{"this one has 6"}},
		{"weight too high", Split{{tg("a"), 1000}}, []string{"target_groups[0].weight: weight 1000 is outside 0 to 999"}},
		{"negative weight", Split{{tg("a"), 5}, {tg("b"), -1}}, []string{"target_groups[1].weight: weight -1"}},
		{"all zero", Split{{tg("a"), 0}, {tg("b"), 0}}, []string{"every weight is 0"}},
		{"duplicate", Split{{tg("a"), 1}, {tg("a"), 2}}, []string{"target_groups[1].arn: the target group " + tg("a") + " is already listed at target_groups[0]"}},
		{"unknown arns not compared", Split{{"", 1}, {"", 2}}, nil},
		{"several", Split{{tg("a"), 0}, {tg("a"), 0}, {tg("b"), -3}}, []string{"target_groups[1].arn", "target_groups[2].weight", "every weight is 0"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := c.s.Problems()
			if len(got) != len(c.want) {
				t.Fatalf("Problems() = %v, want %d problems %v", got, len(c.want), c.want)
			}
			for i, p := range got {
				if !strings.Contains(p.Error(), c.want[i]) {
					t.Errorf("problem %d = %q, want it to contain %q", i, p.Error(), c.want[i])
				}
			}
		})
	}
}

func TestPercentages(t *testing.T) {
	cases := []struct {
		s    Split
		want map[string]float64
	}{
		{Split{{tg("a"), 90}, {tg("b"), 10}}, map[string]float64{tg("a"): 90, tg("b"): 10}},
		{Split{{tg("a"), 1}, {tg("b"), 2}}, map[string]float64{tg("a"): 33.33, tg("b"): 66.67}},
		{Split{{tg("a"), 999}, {tg("b"), 0}}, map[string]float64{tg("a"): 100, tg("b"): 0}},
		{Split{{tg("a"), 0}}, map[string]float64{tg("a"): 0}},
		{Split{{tg("a"), 1}, {tg("b"), 1}, {tg("c"), 1}}, map[string]float64{tg("a"): 33.33, tg("b"): 33.33, tg("c"): 33.33}},
	}
	for _, c := range cases {
		got := c.s.Percentages()
		if len(got) != len(c.want) {
			t.Fatalf("Percentages(%v) = %v, want %v", c.s, got, c.want)
		}
		for k, v := range c.want {
			if got[k] != v {
				t.Errorf("Percentages(%v)[%s] = %v, want %v", c.s, k, got[k], v)
			}
		}
	}
}

func TestEqualAndOrder(t *testing.T) {
	a := Split{{tg("a"), 90}, {tg("b"), 10}}
	b := Split{{tg("b"), 10}, {tg("a"), 90}}
	if !a.Equal(b) {
		t.Error("same weights in another order should be Equal")
	}
	if a.Equal(Split{{tg("a"), 90}, {tg("b"), 11}}) {
		t.Error("different weights should not be Equal")
	}
	if a.Equal(Split{{tg("a"), 90}, {tg("c"), 10}}) {
		t.Error("different target groups should not be Equal")
	}
	if a.Equal(Split{{tg("a"), 90}}) {
		t.Error("different lengths should not be Equal")
	}
	got := Split{{tg("c"), 1}, {tg("b"), 10}, {tg("a"), 90}}.OrderedLike(a)
	want := Split{{tg("a"), 90}, {tg("b"), 10}, {tg("c"), 1}}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("OrderedLike = %v, want %v", got, want)
		}
	}
	if s := a.String(); !strings.Contains(s, "=90") || !strings.Contains(s, "=10") {
		t.Errorf("String() = %q", s)
	}
}

func FuzzPercentages(f *testing.F) {
	f.Add(90, 10, 0, 2)
	f.Add(1, 2, 3, 3)
	f.Add(0, 0, 999, 3)
	f.Fuzz(func(t *testing.T, w1, w2, w3, n int) {
		if n < 1 || n > 3 {
			return
		}
		s := Split{{tg("a"), w1}, {tg("b"), w2}, {tg("c"), w3}}[:n]
		if len(s.Problems()) > 0 {
			return
		}
		sum := 0.0
		for _, p := range s.Percentages() {
			if p < 0 || p > 100 {
				t.Fatalf("percentage %v out of range for %v", p, s)
			}
			sum += p
		}
		// Rounding to two decimals leaves at most 0.005 per group.
		if sum < 100-0.005*float64(n) || sum > 100+0.005*float64(n) {
			t.Fatalf("percentages of %v add up to %v", s, sum)
		}
		if !s.Equal(s.OrderedLike(Split{{tg("c"), 0}, {tg("a"), 0}})) {
			t.Fatalf("OrderedLike changed the split %v", s)
		}
	})
}

func TestShort(t *testing.T) {
	s := Split{{ARN: "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/blue/73e2d6bc24d8a067", Weight: 90}, {ARN: "other", Weight: 10}}
	if got := s.Short(); got != "blue=90, other=10" {
		t.Errorf("Short() = %q", got)
	}
}

func TestParseCanonical(t *testing.T) {
	s := Split{{ARN: "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/b/2", Weight: 30}, {ARN: "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/a/1", Weight: 70}}
	got, err := ParseCanonical(s.Canonical())
	if err != nil || !got.Equal(s) {
		t.Fatalf("ParseCanonical(%q) = %v, %v", s.Canonical(), got, err)
	}
	if got, err := ParseCanonical(""); err != nil || got != nil {
		t.Fatalf("the empty split: %v %v", got, err)
	}
	for _, bad := range []string{"x", "a=b", "=1"} {
		if _, err := ParseCanonical(bad); err == nil {
			t.Errorf("ParseCanonical(%q) took it", bad)
		}
	}
}

// SameTraffic (exact) and SameShares (to within 0.05 %) are one
// comparison, SameWithin, at two tolerances: each row says what each
// says, both ways round.
func TestSameTraffic(t *testing.T) {
	a, b, c := tg("a"), tg("b"), tg("c")
	cases := []struct {
		name            string
		x, y            Split
		want, tolerated bool // SameTraffic, SameShares
	}{
		{"equal", Split{{a, 90}, {b, 10}}, Split{{a, 90}, {b, 10}}, true, true},
		{"order", Split{{a, 90}, {b, 10}}, Split{{b, 10}, {a, 90}}, true, true},
		{"zero entry dropped", Split{{a, 100}, {b, 0}}, Split{{a, 100}}, true, true},
		{"single target group form", Split{{a, 100}, {b, 0}}, Split{{a, 1}}, true, true},
		{"other zero entry", Split{{a, 100}, {b, 0}}, Split{{a, 100}, {c, 0}}, true, true},
		{"scale", Split{{a, 50}, {b, 50}}, Split{{a, 1}, {b, 1}}, true, true},
		{"1/1 and 500/500", Split{{ARN: "x", Weight: 1}, {ARN: "y", Weight: 1}}, Split{{ARN: "y", Weight: 500}, {ARN: "x", Weight: 500}}, true, true},
		{"other target group", Split{{a, 100}, {b, 0}}, Split{{c, 1}}, false, false},
		{"different target groups", Split{{ARN: "x", Weight: 1}}, Split{{ARN: "y", Weight: 1}}, false, false},
		{"other share", Split{{a, 100}, {b, 0}}, Split{{a, 99}, {b, 1}}, false, false},
		{"a 0.1 % move", Split{{ARN: "x", Weight: 1}, {ARN: "y", Weight: 1}}, Split{{ARN: "x", Weight: 501}, {ARN: "y", Weight: 499}}, false, false},
		{"a 0.05 % move", Split{{a, 5000}, {b, 5000}}, Split{{a, 5005}, {b, 4995}}, false, true},
		{"a 0.06 % move", Split{{a, 5000}, {b, 5000}}, Split{{a, 5006}, {b, 4994}}, false, false},
		{"a share off by less than a rounding", Split{{a, 999}, {b, 998}}, Split{{a, 998}, {b, 997}}, false, true},
		{"traffic added beside", Split{{a, 100}, {b, 0}}, Split{{a, 50}, {c, 50}}, false, false},
		{"nothing served", Split{{a, 0}}, Split{{a, 0}}, true, true},
		{"nothing served, other form", Split{{a, 0}}, Split{{b, 0}}, false, false},
		{"nothing and something", Split{{a, 0}}, Split{{a, 1}}, false, false},
		{"empty", nil, Split{{a, 1}}, false, false},
	}
	for _, k := range cases {
		t.Run(k.name, func(t *testing.T) {
			for _, xy := range [][2]Split{{k.x, k.y}, {k.y, k.x}} {
				if got := SameTraffic(xy[0], xy[1]); got != k.want {
					t.Errorf("SameTraffic(%s, %s) = %v, want %v", xy[0], xy[1], got, k.want)
				}
				if got := SameShares(xy[0], xy[1]); got != k.tolerated {
					t.Errorf("SameShares(%s, %s) = %v, want %v", xy[0], xy[1], got, k.tolerated)
				}
			}
		})
	}
}

// What SameTraffic calls the same, SameShares does (exact is within any
// tolerance): a split and its forms (another scale, zero-weight entries
// dropped, another order) are both; and any two splits SameTraffic
// calls the same are SameShares too.
func FuzzSameTrafficWithinShares(f *testing.F) {
	f.Add(uint16(90), uint16(10), uint16(0), uint8(2), true, uint16(9), uint16(1), uint16(0))
	f.Add(uint16(999), uint16(998), uint16(0), uint8(1), false, uint16(998), uint16(997), uint16(0))
	f.Add(uint16(0), uint16(0), uint16(0), uint8(0), false, uint16(0), uint16(0), uint16(0))
	f.Fuzz(func(t *testing.T, w1, w2, w3 uint16, scale uint8, drop bool, v1, v2, v3 uint16) {
		split := func(ws ...uint16) Split {
			var s Split
			for i, w := range ws {
				s = append(s, Target{tg(string(rune('a' + i))), int(w % 1000)})
			}
			return s
		}
		x := split(w1, w2, w3)
		var form Split
		for i := len(x) - 1; i >= 0; i-- {
			if drop && x[i].Weight == 0 {
				continue
			}
			form = append(form, Target{x[i].ARN, x[i].Weight * (int(scale%10) + 1)})
		}
		if x.Total() > 0 && (!SameTraffic(x, form) || !SameShares(x, form)) {
			t.Fatalf("%s and its form %s: SameTraffic %v, SameShares %v", x, form, SameTraffic(x, form), SameShares(x, form))
		}
		y := split(v1, v2, v3)
		for _, p := range [][2]Split{{x, form}, {x, y}, {y, x}, {form, y}} {
			if SameTraffic(p[0], p[1]) && !SameShares(p[0], p[1]) {
				t.Fatalf("SameTraffic(%s, %s) but not SameShares", p[0], p[1])
			}
			for _, tol := range []float64{0.01, 0.05, 1} {
				if SameWithin(p[0], p[1], tol/2) && !SameWithin(p[0], p[1], tol) {
					t.Fatalf("%s and %s the same within %v %% but not within %v %%", p[0], p[1], tol/2, tol)
				}
			}
		}
	})
}
