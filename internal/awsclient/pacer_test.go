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
		if err := p.Wait(ctx, ClassELBModify, false); err != nil {
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
	if err := p.Wait(ctx, ClassELBModify, true); err != nil || clk.Now() != before {
		t.Fatalf("an urgent request waited %v (%v)", clk.Now().Sub(before), err)
	}
	if err := p.Wait(ctx, ClassELBModify, false); err != nil {
		t.Fatal(err)
	}
	if waited := clk.Now().Sub(before); waited < 900*time.Millisecond {
		t.Fatalf("the request after an urgent one waited %v; the urgent one borrowed its token, so about 1s", waited)
	}
	before = clk.Now()
	for i := 0; i < 100; i++ {
		_ = p.Wait(ctx, ClassAlarms, false)
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

// A poll's request waits while a write's waits, even with a token there;
// a write's goes before a waiting poll's; a batch's wait takes the
// priority its reads have when the token comes.
func TestPacerServesWritesFirst(t *testing.T) {
	clk := clock.NewFake(time.Unix(0, 0))
	p := NewPacer(clk, map[string]Budget{ClassELBDescribe: {PerSecond: 5, Burst: 5}})
	b := p.buckets[ClassELBDescribe]
	b.waiting[prioWrite]++ // a write's read waits
	ctx, cancel := clk.WithDeadline(context.Background(), clk.Now().Add(50*time.Millisecond))
	defer cancel()
	if err := p.Wait(ctx, ClassELBDescribe, false); err == nil {
		t.Fatal("a poll's request took a token while a write's waited")
	}
	if err := p.Wait(rollout.Writing(context.Background()), ClassELBDescribe, false); err != nil {
		t.Fatalf("a write's request waited behind another write's: %v", err)
	}
	b.waiting[prioWrite]--
	b.waiting[prioPoll]++ // a poll's read waits
	before := clk.Now()
	if err := p.Wait(rollout.Writing(context.Background()), ClassELBDescribe, false); err != nil || clk.Now() != before {
		t.Fatalf("a write's request waited %v behind a poll's (%v)", clk.Now().Sub(before), err)
	}
	b.waiting[prioPoll]--
	b.waiting[prioWrite]++
	prio := prioPoll
	ctx2, cancel2 := clk.WithDeadline(context.Background(), clk.Now().Add(50*time.Millisecond))
	defer cancel2()
	if err := p.waitFor(ctx2, ClassELBDescribe, false, func() int { return prio }); err == nil {
		t.Fatal("a poll's batch took a token while a write's read waited")
	}
	prio = prioWrite // a write's read joined the batch
	if err := p.waitFor(context.Background(), ClassELBDescribe, false, func() int { return prio }); err != nil {
		t.Fatal(err)
	}
	if b.waiting != [2]int{0, 1} {
		t.Fatalf("the waiting requests are counted %v after they went", b.waiting)
	}
}
