package rollout

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rolloutdev/terraform-provider-rollout/internal/clock"
	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

// The Runner's parts a release uses: Hold, Stabilize and RollBack.

func TestHoldLeavesTheSubjectWhereItFailed(t *testing.T) {
	steps := canary(t)
	p := &script{alarm: func(step int) string { return map[bool]string{true: StateAlarm, false: StateOK}[step == 2] }}
	r := runner(p, Gates{Alarms: []string{"api-5xx"}}, clock.NewFake(time.Unix(0, 0)))
	r.Hold = true
	res := r.Run(context.Background(), start, steps)
	if res.Status != Failed || res.Policy != None || res.Failure == nil || res.Failure.Gate != GateAlarm {
		t.Fatalf("result = %+v, want failed at the alarm with no rollback", res)
	}
	sameSplits(t, p.applied, steps[0].Weights, steps[1].Weights)
	if !res.Current.Equal(steps[1].Weights) || res.NothingMoved() {
		t.Errorf("current = %s, want step 2's weights", res.Current)
	}
	if s := res.Summary(); !strings.Contains(s, "not rolled back (rollback none), left at") {
		t.Errorf("summary = %q", s)
	}
}

func TestStabilize(t *testing.T) {
	done := Result{Status: Succeeded, Current: end, StepReached: 3, Steps: 3}
	t.Run("passes after its duration, polling", func(t *testing.T) {
		c := clock.NewFake(time.Unix(0, 0))
		p := &script{}
		r := runner(p, Gates{Alarms: []string{"a"}, Health: &HealthGate{MinHealthyTargets: 1, MinHealthyPercent: 100}}, c)
		res := r.Stabilize(context.Background(), done, start, 150*time.Second)
		if res.Status != Succeeded || len(p.applied) != 0 {
			t.Fatalf("result = %+v, applied %v", res, p.applied)
		}
		if got := c.Sleeps(); len(got) != 3 || got[0] != time.Minute || got[2] != 30*time.Second {
			t.Errorf("sleeps = %v, want 1m 1m 30s", got)
		}
		if p.alarmRead != 4 {
			t.Errorf("alarms read %d times, want 4 (before each sleep and at the end)", p.alarmRead)
		}
	})
	t.Run("an alarm rolls back to where the run started", func(t *testing.T) {
		c := clock.NewFake(time.Unix(0, 0))
		p := &script{serving: end}
		reads := 0
		p.alarm = func(int) string {
			reads++
			if reads == 2 {
				return StateAlarm
			}
			return StateOK
		}
		r := runner(p, Gates{Alarms: []string{"api-5xx"}}, c)
		res := r.Stabilize(context.Background(), done, start, 5*time.Minute)
		if res.Status != RolledBack || res.Failure.Gate != GateAlarm || !strings.HasPrefix(res.Failure.Reason, "while stabilizing: ") {
			t.Fatalf("result = %+v", res)
		}
		sameSplits(t, p.applied, start)
	})
	t.Run("health of the serving target groups only", func(t *testing.T) {
		p := &script{health: func(_ int, tg string) Health {
			if tg == blue {
				return Health{} // blue serves nothing at `end`
			}
			return Health{Healthy: 1, Total: 1}
		}}
		r := runner(p, Gates{Health: &HealthGate{MinHealthyTargets: 1}}, clock.NewFake(time.Unix(0, 0)))
		if res := r.Stabilize(context.Background(), done, start, time.Minute); res.Status != Succeeded {
			t.Fatalf("result = %+v", res)
		}
	})
	t.Run("held: no rollback", func(t *testing.T) {
		p := &script{alarm: func(int) string { return StateAlarm }}
		r := runner(p, Gates{Alarms: []string{"a"}}, clock.NewFake(time.Unix(0, 0)))
		r.Hold = true
		res := r.Stabilize(context.Background(), done, start, time.Minute)
		if res.Status != Failed || res.Policy != None || len(p.applied) != 0 {
			t.Fatalf("result = %+v, applied %v", res, p.applied)
		}
	})
}

func TestRollBackForTheRelease(t *testing.T) {
	for _, c := range []struct {
		policy  Policy
		applied []weights.Split
	}{
		{Auto, []weights.Split{start}},
		{Immediate, []weights.Split{start}},
		{Gradual, []weights.Split{{{ARN: blue, Weight: 250}, {ARN: green, Weight: 750}}, {{ARN: blue, Weight: 500}, {ARN: green, Weight: 500}}, {{ARN: blue, Weight: 750}, {ARN: green, Weight: 250}}, start}},
	} {
		t.Run(string(c.policy), func(t *testing.T) {
			p := &script{serving: end}
			r := runner(p, Gates{}, clock.NewFake(time.Unix(0, 0)))
			r.Policy = c.policy
			r.Hold = true // a release's rollback of a started service is never held
			res := r.RollBack(context.Background(), end, start, 2, "web failed its alarms gate")
			if res.Status != RolledBack || res.Failure.Gate != GateRelease || !res.Current.Equal(start) {
				t.Fatalf("result = %+v", res)
			}
			sameSplits(t, p.applied, c.applied...)
			if !strings.Contains(res.Summary(), "failed the release gate: web failed its alarms gate; rolled back") {
				t.Errorf("summary = %q", res.Summary())
			}
			if !r.Hold {
				t.Error("RollBack changed Hold")
			}
		})
	}
}
