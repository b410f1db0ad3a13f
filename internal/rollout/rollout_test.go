package rollout

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

func tg(n int) string {
	return fmt.Sprintf("arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/t%d/%d", n, n)
}

func split(ws ...int) weights.Split {
	var s weights.Split
	for i, w := range ws {
		s = append(s, weights.Target{ARN: tg(i), Weight: w})
	}
	return s
}

// shareOf is target group i's share in percent, two decimals.
func shareOf(s weights.Split, i int) float64 { return s.Percentages()[tg(i)] }

func TestPlanStrategies(t *testing.T) {
	canary := Strategy{Kind: Canary, Steps: []Step{{Percent: 5, Pause: time.Minute}, {Percent: 10, Pause: time.Minute}, {Percent: 25, Pause: 2 * time.Minute}, {Percent: 50, Pause: 5 * time.Minute}, {Percent: 100, Pause: 0}}}
	cases := []struct {
		name   string
		from   weights.Split
		to     weights.Split
		s      Strategy
		shares []float64 // share of target group 1 at each step
		pauses []time.Duration
	}{
		{"all at once", split(100, 0), split(0, 100), Strategy{Kind: AllAtOnce}, []float64{100}, []time.Duration{0}},
		{"canary up", split(100, 0), split(0, 100), canary, []float64{5, 10, 25, 50, 100}, []time.Duration{time.Minute, time.Minute, 2 * time.Minute, 5 * time.Minute, 0}},
		{"canary down", split(0, 100), split(100, 0), canary, []float64{95, 90, 75, 50, 0}, nil},
		{"canary from 90/10", split(90, 10), split(0, 100), Strategy{Kind: Canary, Steps: []Step{{Percent: 50, Pause: time.Minute}, {Percent: 100, Pause: 0}}}, []float64{55, 100}, nil},
		{"linear 20", split(100, 0), split(0, 100), Strategy{Kind: Linear, StepPercent: 20, Interval: 2 * time.Minute}, []float64{20, 40, 60, 80, 100}, []time.Duration{2 * time.Minute, 2 * time.Minute, 2 * time.Minute, 2 * time.Minute, 0}},
		{"linear 30 ends at 100", split(100, 0), split(0, 100), Strategy{Kind: Linear, StepPercent: 30, Interval: time.Minute}, []float64{30, 60, 90, 100}, nil},
		{"weights not percents", split(900, 100), split(1, 1), Strategy{Kind: Canary, Steps: []Step{{Percent: 50, Pause: 0}, {Percent: 100, Pause: 0}}}, []float64{30, 50}, nil},
		{"same shares, other weights: one step", split(90, 10), split(9, 1), canary, []float64{10}, nil},
		{"nothing to do", split(90, 10), split(90, 10), canary, nil, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Plan(c.from, c.to, c.s)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(c.shares) {
				t.Fatalf("%d steps %v, want %d", len(got), got, len(c.shares))
			}
			for i, st := range got {
				if sh := shareOf(st.Weights, 1); sh != c.shares[i] {
					t.Errorf("step %d: target group 1 has %v%%, want %v%% (%v)", i, sh, c.shares[i], st.Weights)
				}
				if c.pauses != nil && st.Pause != c.pauses[i] {
					t.Errorf("step %d: pause %v, want %v", i, st.Pause, c.pauses[i])
				}
			}
			if len(got) > 0 && !got[len(got)-1].Weights.Equal(c.to) {
				t.Errorf("last step %v is not the desired %v", got[len(got)-1].Weights, c.to)
			}
		})
	}
}

func TestPlanFiveTargetGroups(t *testing.T) {
	from, to := split(100, 0, 0, 0, 0), split(0, 25, 25, 25, 25)
	got, err := Plan(from, to, Strategy{Kind: Linear, StepPercent: 50})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || shareOf(got[0].Weights, 0) != 50 || shareOf(got[0].Weights, 3) != 12.5 {
		t.Fatalf("got %v", got)
	}
}

func TestPlanRefusesTooManyTargetGroups(t *testing.T) {
	from := weights.Split{{ARN: tg(10), Weight: 1}, {ARN: tg(11), Weight: 1}, {ARN: tg(12), Weight: 1}}
	to := split(1, 1, 1)
	if _, err := Plan(from, to, Strategy{Kind: Linear, StepPercent: 50}); err == nil || !strings.Contains(err.Error(), "at most 5") {
		t.Fatalf("a stepped shift over 6 target groups: err = %v", err)
	}
	if got, err := Plan(from, to, Strategy{Kind: AllAtOnce}); err != nil || len(got) != 1 {
		t.Fatalf("all at once over 6 target groups = %v, %v", got, err)
	}
}

func TestStrategyProblems(t *testing.T) {
	cases := []struct {
		s    Strategy
		want string
	}{
		{Strategy{Kind: Canary}, "at least one step"},
		{Strategy{Kind: Canary, Steps: []Step{{Percent: 0, Pause: 0}, {Percent: 100, Pause: 0}}}, "steps[0].percent: 0 is outside 1 to 100"},
		{Strategy{Kind: Canary, Steps: []Step{{Percent: 50, Pause: 0}, {Percent: 40, Pause: 0}, {Percent: 100, Pause: 0}}}, "steps[1].percent: 40 does not increase"},
		{Strategy{Kind: Canary, Steps: []Step{{Percent: 10, Pause: 0}, {Percent: 50, Pause: 0}}}, "the last step is 50"},
		{Strategy{Kind: Linear, StepPercent: 0}, "linear.step_percent: 0"},
		{Strategy{Kind: "blue_green"}, `"blue_green" is not one of`},
	}
	for _, c := range cases {
		ps := c.s.Problems()
		var texts []string
		for _, p := range ps {
			texts = append(texts, p.Error())
		}
		if len(ps) == 0 || !strings.Contains(strings.Join(texts, "; "), c.want) {
			t.Errorf("%+v: problems %v, want one containing %q", c.s, ps, c.want)
		}
		if _, err := Plan(split(1, 0), split(0, 1), c.s); err == nil {
			t.Errorf("%+v: Plan accepted an invalid strategy", c.s)
		}
	}
	if ps := (Strategy{Kind: Linear, StepPercent: 10, Interval: time.Minute}).Problems(); len(ps) != 0 {
		t.Errorf("valid linear strategy: %v", ps)
	}
}

func TestDecide(t *testing.T) {
	cases := []struct {
		p    Policy
		f    Failure
		want Policy
	}{
		{Auto, Failure{Gate: GateHealth, HealthyFraction: 0.2}, Immediate},
		{Auto, Failure{Gate: GateHealth, HealthyFraction: 0.49}, Immediate},
		{Auto, Failure{Gate: GateHealth, HealthyFraction: 0.5}, Gradual},
		{Auto, Failure{Gate: GateAlarm}, Immediate},
		{Auto, Failure{Gate: GateErrorRate}, Immediate},
		{Auto, Failure{Gate: GateLatency}, Gradual},
		{Auto, Failure{Gate: GateVolume}, Gradual},
		{Auto, Failure{Gate: GateHook}, Immediate},
		{Gradual, Failure{Gate: GateAlarm}, Gradual},
		{Immediate, Failure{Gate: GateLatency}, Immediate},
	}
	for _, c := range cases {
		if got := Decide(c.p, c.f); got != c.want {
			t.Errorf("Decide(%s, %s %.2f) = %s, want %s", c.p, c.f.Gate, c.f.HealthyFraction, got, c.want)
		}
	}
}

func TestRollbackPlan(t *testing.T) {
	now, orig := split(50, 50), split(100, 0)
	imm, err := RollbackPlan(now, orig, Immediate)
	if err != nil || len(imm) != 1 || !imm[0].Weights.Equal(orig) {
		t.Fatalf("immediate rollback = %v, %v", imm, err)
	}
	gr, err := RollbackPlan(now, orig, Gradual)
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{37.5, 25, 12.5, 0}
	if len(gr) != len(want) {
		t.Fatalf("gradual rollback = %v", gr)
	}
	for i, st := range gr {
		if sh := shareOf(st.Weights, 1); sh != want[i] {
			t.Errorf("gradual step %d: %v%%, want %v%%", i, sh, want[i])
		}
	}
	if _, err := RollbackPlan(now, orig, Auto); err == nil {
		t.Error("RollbackPlan(auto) must ask for a decided policy")
	}
}

// FuzzPlan checks the schedule's invariants for 2 to 5 target groups in
// either direction: every step is valid for AWS, the last step is the
// desired split exactly, and the gaining target groups never lose share.
func FuzzPlan(f *testing.F) {
	f.Add(100, 0, 0, 0, 0, 0, 100, 0, 0, 0, 2, 10)
	f.Add(1, 2, 3, 4, 5, 5, 4, 3, 2, 1, 5, 33)
	f.Add(999, 1, 0, 0, 0, 1, 999, 0, 0, 0, 2, 1)
	f.Fuzz(func(t *testing.T, a0, a1, a2, a3, a4, b0, b1, b2, b3, b4, n, step int) {
		if n < 2 || n > 5 || step < 1 || step > 100 {
			return
		}
		from := split(a0, a1, a2, a3, a4)[:n]
		to := split(b0, b1, b2, b3, b4)[:n]
		if len(from.Problems()) > 0 || len(to.Problems()) > 0 {
			return
		}
		got, err := Plan(from, to, Strategy{Kind: Linear, StepPercent: step})
		if err != nil {
			t.Fatalf("Plan(%v, %v, linear %d): %v", from, to, step, err)
		}
		if from.Equal(to) {
			if len(got) != 0 {
				t.Fatalf("no change planned %d steps", len(got))
			}
			return
		}
		if len(got) == 0 || !got[len(got)-1].Weights.Equal(to) {
			t.Fatalf("last step of %v is not %v", got, to)
		}
		prev := from.Percentages()
		for i, st := range got {
			if ps := st.Weights.Problems(); len(ps) > 0 {
				t.Fatalf("step %d %v is not valid for AWS: %v", i, st.Weights, ps)
			}
			cur := st.Weights.Percentages()
			for j := 0; j < n; j++ {
				arn := tg(j)
				target := to.Percentages()[arn]
				// Each group moves towards its target, never past it, give or
				// take the 0.1 % resolution of intermediate weights (twice:
				// once on each of two consecutive steps).
				if prev[arn] <= target && (cur[arn] < prev[arn]-0.21 || cur[arn] > target+0.11) {
					t.Fatalf("step %d: gaining group %d went %v -> %v (target %v)", i, j, prev[arn], cur[arn], target)
				}
				if prev[arn] >= target && (cur[arn] > prev[arn]+0.21 || cur[arn] < target-0.11) {
					t.Fatalf("step %d: losing group %d went %v -> %v (target %v)", i, j, prev[arn], cur[arn], target)
				}
			}
			prev = cur
		}
	})
}

func TestPresets(t *testing.T) {
	if len(Presets) != 10 {
		t.Fatalf("%d presets, want CodeDeploy's 9 and flag_ramp: %v", len(Presets), PresetNames())
	}
	c := Presets["canary_10_percent_5_minutes"]
	steps, err := Plan(split(1, 0), split(0, 1), c)
	if err != nil || len(steps) != 2 || steps[0].Percent != 10 || steps[0].Pause != 5*time.Minute {
		t.Fatalf("canary_10_percent_5_minutes plans %+v, %v", steps, err)
	}
	l := Presets["linear_10_percent_every_1_minute"]
	steps, err = Plan(split(1, 0), split(0, 1), l)
	if err != nil || len(steps) != 10 || steps[0].Pause != time.Minute {
		t.Fatalf("linear_10_percent_every_1_minute plans %d steps, %v", len(steps), err)
	}
	for _, n := range PresetNames() {
		if ps := Presets[n].Problems(); len(ps) > 0 {
			t.Errorf("preset %s: %v", n, ps)
		}
	}
}
