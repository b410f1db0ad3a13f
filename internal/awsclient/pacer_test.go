package awsclient

import (
	"context"
	"testing"
	"time"

	"github.com/rolloutdev/terraform-provider-rollout/internal/clock"
	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
)

// A class paced at 2 a second with a burst of 2 lets 2 requests through at
// once and one more every half second; an urgent request never waits and
// borrows from the next; a class without a budget is not paced.
func TestPacer(t *testing.T) {
	clk := clock.NewFake(time.Unix(0, 0))
	p := NewPacer(clk, map[string]Budget{ClassELBModify: {PerSecond: 2, Burst: 2}})
	ctx := context.Background()
	var at []time.Duration
	for i := 0; i < 5; i++ {
		if err := p.Wait(ctx, ClassELBModify); err != nil {
			t.Fatal(err)
		}
		at = append(at, clk.Now().Sub(time.Unix(0, 0)))
	}
	want := []time.Duration{0, 0, 500 * time.Millisecond, time.Second, 1500 * time.Millisecond}
	for i := range want {
		if d := at[i] - want[i]; d < -time.Millisecond || d > 5*time.Millisecond {
			t.Fatalf("request %d went at %v, want %v (all %v)", i+1, at[i], want[i], at)
		}
	}
	before := clk.Now()
	if err := p.Wait(rollout.Urgent(ctx), ClassELBModify); err != nil || clk.Now() != before {
		t.Fatalf("an urgent request waited %v (%v)", clk.Now().Sub(before), err)
	}
	if err := p.Wait(ctx, ClassELBModify); err != nil {
		t.Fatal(err)
	}
	if waited := clk.Now().Sub(before); waited < 900*time.Millisecond {
		t.Fatalf("the request after an urgent one waited %v; the urgent one borrowed its token, so about 1s", waited)
	}
	before = clk.Now()
	for i := 0; i < 100; i++ {
		_ = p.Wait(ctx, ClassAlarms)
	}
	if clk.Now() != before {
		t.Fatal("a class without a budget was paced")
	}
	if taken := p.Taken(); taken[ClassELBModify] != 7 {
		t.Fatalf("the pacer counted %d requests, want 7", taken[ClassELBModify])
	}
}

func TestClassOf(t *testing.T) {
	for _, c := range []struct{ service, op, want string }{
		{"Elastic Load Balancing v2", "DescribeListeners", ClassELBDescribe},
		{"Elastic Load Balancing v2", "ModifyListener", ClassELBModify},
		{"Elastic Load Balancing v2", "AddTags", ClassELBModify},
		{"CloudWatch", "DescribeAlarms", ClassAlarms},
		{"CloudWatch", "GetMetricData", ClassMetricData},
		{"Lambda", "UpdateAlias", ClassLambda},
		{"Lambda", "Invoke", ""},
		{"SSM", "GetParameter", ClassSSM},
		{"SNS", "Publish", ""},
	} {
		if got := ClassOf(c.service, c.op); got != c.want {
			t.Errorf("ClassOf(%q, %q) = %q, want %q", c.service, c.op, got, c.want)
		}
	}
}

// A request that becomes urgent while it waits (its rollout's alarm fired
// during its write) goes within escalationCheck, not at its turn.
func TestPacerEscalation(t *testing.T) {
	clk := clock.NewFake(time.Unix(0, 0))
	p := NewPacer(clk, map[string]Budget{ClassELBDescribe: {PerSecond: 0.01, Burst: 1}})
	ctx := context.Background()
	if err := p.Wait(ctx, ClassELBDescribe); err != nil { // the bucket is empty: the next turn is in 100 s
		t.Fatal(err)
	}
	ectx, escalate := rollout.Escalatable(ctx)
	clk.OnSleep(func(_ context.Context, _ time.Duration, now time.Time) {
		if now.Sub(time.Unix(0, 0)) >= time.Second {
			escalate()
		}
	})
	if err := p.Wait(ectx, ClassELBDescribe); err != nil {
		t.Fatal(err)
	}
	if el := clk.Elapsed(time.Unix(0, 0)); el < time.Second || el > time.Second+escalationCheck {
		t.Fatalf("the escalated request went after %s, want within %s of the escalation at 1s", el, escalationCheck)
	}
	if !rollout.IsUrgent(ectx) {
		t.Fatal("an escalated context is not urgent")
	}
}
