package awsclient

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/rolloutdev/terraform-provider-rollout/internal/clock"
	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
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

// pacedSubject is a subject whose every AWS request takes its turn in a
// pacer that other rollouts keep busy: each of its requests finds one of
// theirs ahead of it. It notes how long each request made while its run
// rolls back waited for its turn.
type pacedSubject struct {
	clk         *clock.Fake
	pacer       *Pacer
	serving     weights.Split
	writes      int
	alarmAt     int // the alarm fires once this many writes were made
	rollingBack bool
	waits       []string // "what waited d", while rolling back
}

func (s *pacedSubject) take(ctx context.Context, class, what string) error {
	// Another rollout's request takes the token first (it may borrow:
	// a rollback of its own).
	_ = s.pacer.Wait(rollout.Urgent(context.Background()), class)
	before := s.clk.Now()
	if err := s.pacer.Wait(ctx, class); err != nil {
		return err
	}
	if s.rollingBack {
		s.waits = append(s.waits, fmt.Sprintf("%s waited %s", what, s.clk.Now().Sub(before)))
	}
	return nil
}

func (s *pacedSubject) Read(ctx context.Context) (rollout.Reading, error) {
	if err := s.take(ctx, ClassELBDescribe, "the guard's read"); err != nil {
		return rollout.Reading{}, err
	}
	return rollout.Reading{Split: s.serving}, nil
}

func (s *pacedSubject) Write(ctx context.Context, _ rollout.Reading, w weights.Split) error {
	if err := s.take(ctx, ClassELBModify, "a write"); err != nil {
		return err
	}
	s.writes++
	s.serving = w
	return nil
}

func (s *pacedSubject) TargetHealth(ctx context.Context, _ string) (rollout.Health, error) {
	if err := s.take(ctx, ClassELBDescribe, "the health read"); err != nil {
		return rollout.Health{}, err
	}
	return rollout.Health{Healthy: 2, Total: 2}, nil
}

func (s *pacedSubject) AlarmStates(_ context.Context, names []string) ([]rollout.AlarmState, error) {
	st := rollout.StateOK
	if s.writes >= s.alarmAt {
		st = rollout.StateAlarm
	}
	return []rollout.AlarmState{{Name: names[0], State: st}}, nil
}

// Issue 27 (13): every request of a rollback is urgent under the API
// budget, the gradual rollback's health read between its steps as much as
// its writes: none waits behind the other rollouts' requests in the pacer.
func TestGradualRollbackRequestsAreUrgent(t *testing.T) {
	clk := clock.NewFake(time.Unix(0, 0))
	// One request of each class every 100 s, and the other rollouts keep
	// the bucket empty.
	pacer := NewPacer(clk, map[string]Budget{ClassELBDescribe: {PerSecond: 0.01, Burst: 1}, ClassELBModify: {PerSecond: 0.01, Burst: 1}})
	blue, green := "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/blue/1", "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/green/2"
	from := weights.Split{{ARN: blue, Weight: 100}, {ARN: green, Weight: 0}}
	to := weights.Split{{ARN: blue, Weight: 0}, {ARN: green, Weight: 100}}
	steps, err := rollout.Plan(from, to, rollout.Strategy{Kind: rollout.Canary, Steps: []rollout.Step{{Percent: 10, Pause: 5 * time.Minute}, {Percent: 50, Pause: 10 * time.Minute}, {Percent: 100}}})
	if err != nil {
		t.Fatal(err)
	}
	s := &pacedSubject{clk: clk, pacer: pacer, serving: from, alarmAt: 2}
	r := &rollout.Runner{
		Router:  s,
		Observe: rollout.Observers{Health: s, Alarms: s},
		Clock:   clk,
		Log: func(e rollout.Event) {
			if strings.Contains(e.Message, "rolling back") {
				s.rollingBack = true
			}
		},
		Settings: rollout.Settings{PollInterval: time.Minute, Policy: rollout.Gradual, Gates: rollout.Gates{Health: &rollout.HealthGate{MinHealthyTargets: 1, MinHealthyPercent: 100, Timeout: 10 * time.Minute}, Alarms: []string{"api-5xx"}}},
	}
	res := r.Run(context.Background(), from, steps)
	if res.Status != rollout.RolledBack || res.Policy != rollout.Gradual || !res.Current.Equal(from) || len(res.RollbackSteps) != 4 {
		t.Fatalf("the run ended %s", res.Summary())
	}
	health := 0
	for _, w := range s.waits {
		if strings.HasPrefix(w, "the health read") {
			health++
		}
		if !strings.HasSuffix(w, " waited 0s") {
			t.Errorf("rolling back, %s behind the other rollouts' requests; a rollback's requests go first (all: %v)", w, s.waits)
		}
	}
	if health != 3 {
		t.Fatalf("the gradual rollback read health %d times between its 4 steps, want 3 (%v)", health, s.waits)
	}
}

// pacedELB answers DescribeTargetHealth after its turn in the pacer, as
// the pacer's middleware makes every request wait.
type pacedELB struct {
	ELBAPI
	pacer *Pacer
	calls atomic.Int64
}

func (p *pacedELB) DescribeTargetHealth(ctx context.Context, _ *elb.DescribeTargetHealthInput, _ ...func(*elb.Options)) (*elb.DescribeTargetHealthOutput, error) {
	p.calls.Add(1)
	if err := p.pacer.Wait(ctx, ClassELBDescribe); err != nil {
		return nil, err
	}
	return &elb.DescribeTargetHealthOutput{TargetHealthDescriptions: []elbtypes.TargetHealthDescription{{TargetHealth: &elbtypes.TargetHealth{State: elbtypes.TargetHealthStateEnumHealthy}}}}, nil
}

// Issue 27 (13): a rollback's health read that joins another rollout's
// shared reading of the same target group, in flight and waiting for its
// turn, does not wait that turn: the reading becomes urgent. The pacer runs
// on the real clock here: the shared fetch is another goroutine, waiting in
// the pacer while the rollback's read joins it.
func TestAnUrgentReadHurriesTheSharedFetchItJoins(t *testing.T) {
	pacer := NewPacer(clock.Real{}, map[string]Budget{ClassELBDescribe: {PerSecond: 0.2, Burst: 1}})
	api := &pacedELB{pacer: pacer}
	c := &Client{ELB: api, Clock: clock.Real{}, Pacer: pacer}
	_ = pacer.Wait(context.Background(), ClassELBDescribe) // the bucket is empty: the next turn is in 5 s
	poll := make(chan error, 1)
	go func() { _, err := c.SharedTargetHealth(context.Background(), "tg"); poll <- err }() // another rollout's poll
	for api.calls.Load() == 0 {
		time.Sleep(time.Millisecond) // the fetch is another goroutine's: real time
	}
	start := time.Now()
	counts, err := c.SharedTargetHealth(rollout.Urgent(context.Background()), "tg")
	if err != nil || counts[string(elbtypes.TargetHealthStateEnumHealthy)] != 1 {
		t.Fatalf("the rollback's read got %v, %v", counts, err)
	}
	if waited := time.Since(start); waited > time.Second {
		t.Fatalf("the rollback's health read waited %s for the shared reading it joined; a rollback's read does not wait its turn", waited)
	}
	if err := <-poll; err != nil || api.calls.Load() != 1 {
		t.Fatalf("the poll's read: %v after %d requests; want the one shared reading", err, api.calls.Load())
	}
}
