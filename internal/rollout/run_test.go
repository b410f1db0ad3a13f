package rollout

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/rolloutdev/terraform-provider-rollout/internal/clock"
	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout/noticeschema"
	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

// script is a scripted subject: a Router over the split it serves, and
// every gate reader, whose answers depend on how many splits were written.
type script struct {
	// serving is what the subject serves; nil reads as start.
	serving  weights.Split
	applied  []weights.Split
	health   func(step int, tg string) Health
	alarm    func(step int) string
	metrics  func(step int, tg string) Metrics
	hook     func(step int, p HookPayload) HookResult
	applyErr func(n int) error
	// lands makes a write whose error wraps ErrUnknownWeights take effect
	// (the answer was lost, not the write).
	lands    bool
	payloads []HookPayload
	windows  [][2]time.Time
	// alarmErr, when set, makes the nth DescribeAlarms (from 1) fail.
	alarmErr  func(n int) error
	alarmRead int
	// healthErr, when set, makes the nth target health read (from 1)
	// fail.
	healthErr  func(n int) error
	healthRead int
	// invoke, when set, answers hooks instead of hook.
	invoke func(ctx context.Context, p HookPayload) (HookResult, error)
	// applyCtx are the contexts' errors at each write, in order.
	applyCtx []error
	// reads counts Router reads; readErr, when set, fails the nth.
	reads   int
	readErr func(n int) error
	readCtx []error
	// notices are the notices sent, as "type@step".
	notices []string
	seq     map[int64]int
	// repeated is set when calls are repeated (a notice's seq may repeat).
	repeated bool
}

// notice records a notice (the Runner's Notify).
func (s *script) notice(_ context.Context, n Notice) error {
	if err := noticeschema.CheckValue(n); err != nil {
		panic(err) // every notice of every run here follows the published schema
	}
	// A run's notices are numbered 1, 2, … in the order they happen, and a
	// run promoted after its hold goes on from its held notice.
	if s.seq == nil {
		s.seq = map[int64]int{}
	}
	// A call repeated with the same input (Step Functions' retry) sends
	// its notices again with the same seq: a reader drops them.
	last := s.seq[n.Started.UnixNano()]
	if n.Seq != last+1 && (!s.repeated || n.Seq < 1 || n.Seq > last) {
		panic(fmt.Sprintf("notice %s@%d has seq %d after %d", n.Type, n.Step, n.Seq, last))
	}
	s.seq[n.Started.UnixNano()] = max(last, n.Seq)
	s.notices = append(s.notices, fmt.Sprintf("%s@%d", n.Type, n.Step))
	return nil
}

func (s *script) step() int { return len(s.applied) }

func (s *script) Read(ctx context.Context) (Reading, error) {
	s.reads++
	s.readCtx = append(s.readCtx, ctx.Err())
	if s.readErr != nil {
		if err := s.readErr(s.reads); err != nil {
			return Reading{}, err
		}
	}
	if s.serving == nil {
		s.serving = start
	}
	return Reading{Split: s.serving}, nil
}

func (s *script) Write(ctx context.Context, _ Reading, w weights.Split) error {
	s.applyCtx = append(s.applyCtx, ctx.Err())
	if s.applyErr != nil {
		if err := s.applyErr(len(s.applied) + 1); err != nil {
			if s.lands && errors.Is(err, ErrUnknownWeights) {
				s.serving = w
			}
			return err
		}
	}
	s.applied = append(s.applied, w)
	s.serving = w
	return nil
}

func (s *script) TargetHealth(_ context.Context, tg string) (Health, error) {
	s.healthRead++
	if s.healthErr != nil {
		if err := s.healthErr(s.healthRead); err != nil {
			return Health{}, err
		}
	}
	if s.health == nil {
		return Health{Healthy: 2, Total: 2}, nil
	}
	return s.health(s.step(), tg), nil
}

func (s *script) AlarmStates(_ context.Context, names []string) ([]AlarmState, error) {
	s.alarmRead++
	if s.alarmErr != nil {
		if err := s.alarmErr(s.alarmRead); err != nil {
			return nil, err
		}
	}
	var out []AlarmState
	for _, n := range names {
		st := StateOK
		if s.alarm != nil {
			st = s.alarm(s.step())
		}
		out = append(out, AlarmState{Name: n, State: st, Reason: "scripted"})
	}
	return out, nil
}

func (s *script) Metrics(_ context.Context, tg string, start, end time.Time) (Metrics, error) {
	s.windows = append(s.windows, [2]time.Time{start, end})
	if s.metrics == nil {
		return Metrics{Requests: 5000}, nil
	}
	return s.metrics(s.step(), tg), nil
}

func (s *script) Invoke(ctx context.Context, _ string, p HookPayload) (HookResult, error) {
	s.payloads = append(s.payloads, p)
	if s.invoke != nil {
		return s.invoke(ctx, p)
	}
	if s.hook == nil {
		return HookResult{Status: HookStatusSucceeded}, nil
	}
	return s.hook(s.step(), p), nil
}

var (
	blue  = "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/blue/1"
	green = "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/green/2"
	start = weights.Split{{ARN: blue, Weight: 100}, {ARN: green, Weight: 0}}
	end   = weights.Split{{ARN: blue, Weight: 0}, {ARN: green, Weight: 100}}
)

func canary(t *testing.T) []PlannedStep {
	t.Helper()
	steps, err := Plan(start, end, Strategy{Kind: Canary, Steps: []Step{{Percent: 10, Pause: 5 * time.Minute}, {Percent: 50, Pause: 10 * time.Minute}, {Percent: 100, Pause: 0}}})
	if err != nil {
		t.Fatal(err)
	}
	return steps
}

func runner(p *script, g Gates, c *clock.Fake) *Runner {
	return &Runner{
		Router:      p,
		Observe:     Observers{Health: p, Alarms: p, Metrics: p, Hooks: p},
		Clock:       c,
		SubjectID:   "listener/x",
		SubjectKind: "listener",
		Notify:      p.notice,
		Settings:    Settings{Gates: g, PollInterval: time.Minute, Policy: Auto},
	}
}

// failOnce makes the nth Apply fail, once.
func failOnce(n int) func(int) error {
	done := false
	return func(i int) error {
		if i == n && !done {
			done = true
			return errors.New("TargetGroupNotFound")
		}
		return nil
	}
}

func fptr(f float64) *float64 { return &f }
func iptr(i int64) *int64     { return &i }

func sameSplits(t *testing.T, got []weights.Split, want ...weights.Split) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("applied %d splits %v, want %d %v", len(got), got, len(want), want)
	}
	for i := range want {
		if !got[i].Equal(want[i]) {
			t.Fatalf("split %d applied is %s, want %s", i+1, got[i], want[i])
		}
	}
}

func TestRunSucceeds(t *testing.T) {
	c := clock.NewFake(time.Unix(0, 0))
	p := &script{}
	steps := canary(t)
	r := runner(p, Gates{Health: &HealthGate{MinHealthyTargets: 1, MinHealthyPercent: 100, Timeout: time.Minute}, Alarms: []string{"a"}, Metrics: &MetricsGate{MaxErrorRatePercent: fptr(1)}, BeforeShift: "f", AfterPause: "g"}, c)
	var events []Event
	r.Log = func(e Event) { events = append(events, e) }
	res := r.Run(context.Background(), start, steps)
	applied := 0
	for _, e := range events {
		if e.Message == "rollout step applied" {
			applied++
			if e.Fields["subject"] != "listener/x" || e.Fields["weights"] == "" {
				t.Errorf("event fields %v", e.Fields)
			}
		}
	}
	if applied != 3 || events[len(events)-1].Message != "rollout succeeded" {
		t.Errorf("%d step events, last %q; want 3 and a success", applied, events[len(events)-1].Message)
	}
	if res.Status != Succeeded || res.StepReached != 3 || !res.Current.Equal(end) {
		t.Fatalf("result %+v", res)
	}
	sameSplits(t, p.applied, steps[0].Weights, steps[1].Weights, end)
	if got := c.Elapsed(time.Unix(0, 0)); got != 15*time.Minute {
		t.Errorf("the run took %s by the clock, want the 15m of pauses", got)
	}
	if n := len(c.Sleeps()); n != 15 {
		t.Errorf("slept %d times, want 15 polls of 1m", n)
	}
	// Metrics are read over each pause (two steps have one).
	if len(p.windows) != 2 || p.windows[1][1].Sub(p.windows[1][0]) != 10*time.Minute {
		t.Errorf("metric windows %v, want two, the second 10m long", p.windows)
	}
	// A before_shift and an after_pause hook per step.
	// Both phases of a step name the split it moved from and the one it
	// moved to.
	if len(p.payloads) == 6 && (p.payloads[3].From[green] != steps[0].Weights.Map()[green] || p.payloads[2].From[green] != steps[0].Weights.Map()[green] || p.payloads[1].From[green] != 0) {
		t.Errorf("from weights of the hooks: %v %v %v", p.payloads[1].From, p.payloads[2].From, p.payloads[3].From)
	}
	if len(p.payloads) != 6 || p.payloads[0].Phase != PhaseBeforeShift || p.payloads[1].Phase != PhaseAfterPause || p.payloads[2].Step != 2 || p.payloads[2].To[green] != steps[1].Weights.Map()[green] {
		t.Errorf("hook payloads %+v", p.payloads)
	}
}

func TestRunRollsBack(t *testing.T) {
	steps := canary(t)
	cases := []struct {
		name       string
		probe      *script
		gates      Gates
		policy     Policy
		wantGate   Gate
		wantPolicy Policy
		wantStep   int
		applied    []weights.Split
		reason     string
	}{
		{
			name:     "alarm in the second pause",
			probe:    &script{alarm: func(step int) string { return map[bool]string{true: StateAlarm, false: StateOK}[step == 2] }},
			gates:    Gates{Alarms: []string{"api-5xx"}},
			wantGate: GateAlarm, wantPolicy: Immediate, wantStep: 2,
			applied: []weights.Split{steps[0].Weights, steps[1].Weights, start},
			reason:  `alarm "api-5xx" is in ALARM`,
		},
		{
			name:     "no healthy target in the gaining group",
			probe:    &script{health: func(int, string) Health { return Health{} }},
			gates:    Gates{Health: &HealthGate{MinHealthyTargets: 1, Timeout: 3 * time.Minute}},
			wantGate: GateHealth, wantPolicy: Immediate, wantStep: 1,
			applied: nil,
			reason:  "has 0 healthy of 0 registered targets (0 %); at least 1 and 0 % healthy are needed after waiting 3m0s",
		},
		{
			name:     "error rate over the first pause",
			probe:    &script{metrics: func(int, string) Metrics { return Metrics{Requests: 1000, Errors5xx: 20} }},
			gates:    Gates{Metrics: &MetricsGate{MaxErrorRatePercent: fptr(1), MinRequestCount: iptr(100)}},
			wantGate: GateErrorRate, wantPolicy: Immediate, wantStep: 1,
			applied: []weights.Split{steps[0].Weights, start},
			reason:  "answered 20 of 1000 requests with a 5XX (2 %), above max_error_rate_percent 1",
		},
		{
			name: "latency: gradual, four steps back",
			probe: &script{metrics: func(step int, _ string) Metrics {
				return Metrics{Requests: 1000, P99Ms: float64(step) * 400, HasP99: true}
			}},
			gates:    Gates{Metrics: &MetricsGate{MaxP99LatencyMs: fptr(500)}},
			wantGate: GateLatency, wantPolicy: Gradual, wantStep: 2,
			applied: []weights.Split{steps[0].Weights, steps[1].Weights, {{ARN: blue, Weight: 625}, {ARN: green, Weight: 375}}, {{ARN: blue, Weight: 750}, {ARN: green, Weight: 250}}, {{ARN: blue, Weight: 875}, {ARN: green, Weight: 125}}, start},
			reason:  "p99 target response time of 800 ms, above max_p99_latency_ms 500",
		},
		{
			name:     "too little traffic",
			probe:    &script{metrics: func(int, string) Metrics { return Metrics{Requests: 3} }},
			gates:    Gates{Metrics: &MetricsGate{MinRequestCount: iptr(100)}},
			policy:   Immediate,
			wantGate: GateVolume, wantPolicy: Immediate, wantStep: 1,
			applied: []weights.Split{steps[0].Weights, start},
			reason:  "served 3 requests in 5m0s, below min_request_count 100",
		},
		{
			name: "hook answers Failed after the second pause",
			probe: &script{hook: func(step int, p HookPayload) HookResult {
				if step == 2 && p.Phase == PhaseAfterPause {
					return HookResult{Status: "Failed", Reason: "smoke test 3 failed"}
				}
				return HookResult{Status: HookStatusSucceeded}
			}},
			gates:    Gates{AfterPause: "arn:aws:lambda:us-east-1:1:function:check"},
			wantGate: GateHook, wantPolicy: Immediate, wantStep: 2,
			applied: []weights.Split{steps[0].Weights, steps[1].Weights, start},
			reason:  `answered "Failed", not "Succeeded": smoke test 3 failed`,
		},
		{
			name:     "hook function error before the first shift",
			probe:    &script{hook: func(int, HookPayload) HookResult { return HookResult{FunctionError: "Unhandled", Reason: "boom"} }},
			gates:    Gates{BeforeShift: "arn:aws:lambda:us-east-1:1:function:check"},
			wantGate: GateHook, wantPolicy: Immediate, wantStep: 1,
			applied: nil,
			reason:  "failed with a Unhandled function error: boom",
		},
		{
			name:     "AWS refuses the second step",
			probe:    &script{applyErr: failOnce(2)},
			wantGate: GateApply, wantPolicy: Immediate, wantStep: 2,
			applied: []weights.Split{steps[0].Weights, start},
			reason:  "TargetGroupNotFound",
		},
		{
			name: "gradual rollback whose health gate fails finishes at once",
			probe: &script{
				health: func(step int, tg string) Health {
					if tg == blue && step >= 3 { // the old colour's targets go unhealthy once the rollback began
						return Health{Healthy: 0, Total: 2}
					}
					return Health{Healthy: 2, Total: 2}
				},
				metrics: func(step int, _ string) Metrics { return Metrics{Requests: 10, P99Ms: 900, HasP99: true} },
			},
			gates:    Gates{Health: &HealthGate{MinHealthyTargets: 1, MinHealthyPercent: 50}, Metrics: &MetricsGate{MaxP99LatencyMs: fptr(500)}},
			wantGate: GateLatency, wantPolicy: Gradual, wantStep: 1,
			applied: []weights.Split{steps[0].Weights, {{ARN: blue, Weight: 925}, {ARN: green, Weight: 75}}, {{ARN: blue, Weight: 950}, {ARN: green, Weight: 50}}, start},
			reason:  "p99",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			clk := clock.NewFake(time.Unix(0, 0))
			r := runner(c.probe, c.gates, clk)
			if c.policy != "" {
				r.Policy = c.policy
			}
			res := r.Run(context.Background(), start, steps)
			if res.Status != RolledBack {
				t.Fatalf("status %s (%v), want rolled_back", res.Status, res.Err)
			}
			if res.Failure.Gate != c.wantGate || res.Policy != c.wantPolicy || res.Failure.Step != c.wantStep {
				t.Errorf("failure %+v policy %s, want gate %s policy %s step %d", res.Failure, res.Policy, c.wantGate, c.wantPolicy, c.wantStep)
			}
			if !strings.Contains(res.Failure.Reason, c.reason) {
				t.Errorf("reason %q does not contain %q", res.Failure.Reason, c.reason)
			}
			sameSplits(t, c.probe.applied, c.applied...)
			if !res.Current.Equal(start) {
				t.Errorf("the listener serves %s after the rollback, want %s", res.Current, start)
			}
			if !strings.Contains(res.Summary(), "rolled back") {
				t.Errorf("summary %q", res.Summary())
			}
		})
	}
}

func TestRunStopsWhereItIs(t *testing.T) {
	steps := canary(t)
	t.Run("cancelled in the second pause", func(t *testing.T) {
		clk := clock.NewFake(time.Unix(0, 0))
		p := &script{}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		clk.OnSleep(func(context.Context, time.Duration, time.Time) {
			if p.step() == 2 {
				cancel()
			}
		})
		res := runner(p, Gates{}, clk).Run(ctx, start, steps)
		if res.Status != Failed || !errors.Is(res.Err, context.Canceled) || res.StepReached != 2 || !res.Current.Equal(steps[1].Weights) {
			t.Fatalf("result %+v, want failed at step 2 serving %s", res, steps[1].Weights)
		}
		sameSplits(t, p.applied, steps[0].Weights, steps[1].Weights)
	})
	t.Run("deadline during the second pause rolls back", func(t *testing.T) {
		// Finding 6: nothing would watch the canary after the apply ends,
		// so the timeout rolls back rather than leaving it half way.
		clk := clock.NewFake(time.Unix(0, 0))
		p := &script{}
		r := runner(p, Gates{}, clk)
		r.Deadline = time.Unix(0, 0).Add(8 * time.Minute)
		res := r.Run(context.Background(), start, steps)
		if res.Status != RolledBack || res.Failure == nil || res.Failure.Gate != GateTimeout || res.StepReached != 2 || !res.Current.Equal(start) {
			t.Fatalf("result %+v", res)
		}
		if got := clk.Elapsed(time.Unix(0, 0)); got != 8*time.Minute {
			t.Errorf("stopped after %s by the clock, want exactly the 8m deadline", got)
		}
		sameSplits(t, p.applied, steps[0].Weights, steps[1].Weights, start)
		if !strings.Contains(res.Summary(), "timeouts gate") {
			t.Errorf("summary %q", res.Summary())
		}
	})
	t.Run("nothing to do", func(t *testing.T) {
		res := runner(&script{}, Gates{}, clock.NewFake(time.Unix(0, 0))).Run(context.Background(), start, nil)
		if res.Status != Succeeded || res.Steps != 0 {
			t.Fatalf("result %+v", res)
		}
	})
	t.Run("AWS refuses the first step", func(t *testing.T) {
		p := &script{applyErr: func(int) error { return errors.New("denied") }}
		res := runner(p, Gates{}, clock.NewFake(time.Unix(0, 0))).Run(context.Background(), start, steps)
		if res.Status != Failed || res.Failure == nil || res.Failure.Gate != GateApply || !res.Current.Equal(start) {
			t.Fatalf("result %+v", res)
		}
	})
}

// Finding 4: a gate read that fails after the SDK's retries is tried again
// at the next poll; after MaxReadFailures in a row the gate fails and the
// rollout rolls back, unless IgnoreReadFailures.
func TestRunReadFailures(t *testing.T) {
	steps := canary(t)
	throttled := errors.New("Throttling: Rate exceeded")
	t.Run("one failed poll is tried again and the rollout goes on", func(t *testing.T) {
		p := &script{alarmErr: func(n int) error {
			if n == 4 {
				return throttled
			}
			return nil
		}}
		res := runner(p, Gates{Alarms: []string{"a"}}, clock.NewFake(time.Unix(0, 0))).Run(context.Background(), start, steps)
		if res.Status != Succeeded {
			t.Fatalf("result %s", res.Summary())
		}
	})
	t.Run("three failed polls in a row roll back", func(t *testing.T) {
		p := &script{alarmErr: func(n int) error {
			if n >= 4 {
				return throttled
			}
			return nil
		}}
		res := runner(p, Gates{Alarms: []string{"a"}}, clock.NewFake(time.Unix(0, 0))).Run(context.Background(), start, steps)
		if res.Status != RolledBack || res.Failure.Gate != GateAlarm || !res.Failure.Unreadable || res.Policy != Immediate {
			t.Fatalf("result %+v", res)
		}
		if !strings.Contains(res.Failure.Reason, "3 times in a row") || !strings.Contains(res.Failure.Reason, "Throttling") {
			t.Errorf("reason %q", res.Failure.Reason)
		}
		if !res.Current.Equal(start) || p.alarmRead != 6 {
			t.Errorf("serves %s after %d alarm reads", res.Current, p.alarmRead)
		}
	})
	t.Run("ignore_poll_failures goes on without the gate", func(t *testing.T) {
		p := &script{alarmErr: func(n int) error {
			if n >= 2 {
				return throttled
			}
			return nil
		}}
		r := runner(p, Gates{Alarms: []string{"a"}}, clock.NewFake(time.Unix(0, 0)))
		r.IgnoreReadFailures = true
		res := r.Run(context.Background(), start, steps)
		if res.Status != Succeeded || !res.Current.Equal(end) {
			t.Fatalf("result %s", res.Summary())
		}
	})
	t.Run("a gate read before a shift is retried a poll later", func(t *testing.T) {
		clk := clock.NewFake(time.Unix(0, 0))
		p := &script{alarmErr: func(n int) error {
			if n == 1 {
				return throttled
			}
			return nil
		}}
		res := runner(p, Gates{Alarms: []string{"a"}}, clk).Run(context.Background(), start, steps)
		if res.Status != Succeeded || clk.Sleeps()[0] != time.Minute {
			t.Fatalf("result %s, sleeps %v", res.Summary(), clk.Sleeps())
		}
	})
	t.Run("a hook that cannot be invoked fails its step even when read failures are ignored", func(t *testing.T) {
		p := &script{invoke: func(context.Context, HookPayload) (HookResult, error) {
			return HookResult{}, errors.New("ServiceException")
		}}
		r := runner(p, Gates{AfterPause: "f"}, clock.NewFake(time.Unix(0, 0)))
		r.IgnoreReadFailures = true
		res := r.Run(context.Background(), start, steps)
		if res.Status != RolledBack || res.Failure.Gate != GateHook || len(p.payloads) != 3 {
			t.Fatalf("result %+v after %d invocations", res, len(p.payloads))
		}
	})
}

// Issue 27 (1): a gate that cannot be read is not masked by another that
// can. Each gate counts its own failed reads in a row: a pause's poll reads
// the alarms, then health, and a health read that succeeds does not forgive
// the alarms' failures (nor the reverse). Both drivers, the detached one
// carrying the counts in its progress from call to call.
func TestAGateThatCannotBeReadIsNotMaskedByOneThatCan(t *testing.T) {
	// The last step bakes 10 minutes, polled every minute.
	steps, err := Plan(start, end, Strategy{Kind: Canary, Steps: []Step{{Percent: 10, Pause: 5 * time.Minute}, {Percent: 100, Pause: 10 * time.Minute}}})
	if err != nil {
		t.Fatal(err)
	}
	throttled := errors.New("Throttling: Rate exceeded")
	gates := Gates{Health: &HealthGate{MinHealthyTargets: 1, MinHealthyPercent: 100, Timeout: time.Minute}, Alarms: []string{"a"}}
	for _, c := range []struct {
		name       string
		unreadable Gate
		ignore     bool
		want       Status
	}{
		{"alarms unreadable beside readable health", GateAlarm, false, RolledBack},
		{"health unreadable beside readable alarms", GateHealth, false, RolledBack},
		{"ignore_poll_failures: alarms unreadable, the rollout goes on", GateAlarm, true, Succeeded},
		{"ignore_poll_failures: health unreadable, the rollout goes on", GateHealth, true, Succeeded},
	} {
		// From the last step's write on, the one gate cannot be read; the
		// other reads fine at every poll of its 10-minute bake.
		mk := func() (*script, *int) {
			p, failed := &script{}, new(int)
			fail := func(int) error {
				if p.step() >= 2 {
					*failed++
					return throttled
				}
				return nil
			}
			if c.unreadable == GateAlarm {
				p.alarmErr = fail
			} else {
				p.healthErr = fail
			}
			return p, failed
		}
		check := func(t *testing.T, res Result, p *script, failed *int) {
			t.Helper()
			if c.want == Succeeded {
				if res.Status != Succeeded || !res.Current.Equal(end) {
					t.Fatalf("the run ended %s; want it to go on without the %s gate (ignore_poll_failures)", res.Summary(), c.unreadable)
				}
				return
			}
			if res.Status != RolledBack || res.Failure == nil || res.Failure.Gate != c.unreadable || !res.Failure.Unreadable || res.Failure.Step != 2 || !res.Current.Equal(start) {
				t.Fatalf("the run ended %s (%+v); want rolled back at the last step (2) because the %s gate could not be read", res.Summary(), res.Failure, c.unreadable)
			}
			if !strings.Contains(res.Failure.Reason, "3 times in a row") || !strings.Contains(res.Failure.Reason, "Throttling") {
				t.Errorf("reason %q", res.Failure.Reason)
			}
			sameSplits(t, p.applied, steps[0].Weights, steps[1].Weights, start)
			if *failed != 3 {
				t.Errorf("%d reads of the %s gate failed; want the third to roll back", *failed, c.unreadable)
			}
		}
		t.Run(c.name+" (in the apply)", func(t *testing.T) {
			p, failed := mk()
			r := runner(p, gates, clock.NewFake(time.Unix(0, 0)))
			r.IgnoreReadFailures = c.ignore
			check(t, r.Run(context.Background(), start, steps), p, failed)
		})
		t.Run(c.name+" (detached)", func(t *testing.T) {
			p, failed := mk()
			clk := clock.NewFake(time.Unix(0, 0))
			res, _ := detachedDrive(t, func() *Runner {
				r := runner(p, gates, clk)
				r.IgnoreReadFailures = c.ignore
				return r
			}, clk, start, steps, false)
			check(t, res, p, failed)
		})
	}
}

// Finding 4: once a rollback has started, a cancel (Ctrl-C) does not stop it
// half way: it finishes at once, with a context of its own.
func TestRollbackFinishesAfterCancel(t *testing.T) {
	steps := canary(t)
	clk := clock.NewFake(time.Unix(0, 0))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := &script{alarm: func(step int) string {
		if step == 2 {
			return StateAlarm
		}
		return StateOK
	}}
	p.applyErr = func(n int) error {
		if n == 3 { // the first gradual rollback write: Ctrl-C arrives
			cancel()
		}
		return nil
	}
	r := runner(p, Gates{Alarms: []string{"a"}}, clk)
	r.Policy = Gradual
	res := r.Run(ctx, start, steps)
	if res.Status != RolledBack || !res.Current.Equal(start) {
		t.Fatalf("result %+v", res)
	}
	// 10 %, 50 %, then 25 % of the way back, and then at once all the way.
	if len(p.applied) != 4 || !p.applied[3].Equal(start) {
		t.Fatalf("applied %v", p.applied)
	}
	if p.applyCtx[3] != nil {
		t.Errorf("the last rollback write ran with a done context: %v", p.applyCtx[3])
	}
}

// Finding 6: a hook that outlives the apply's timeout is cut off at the
// deadline (on the injected clock) and the rollout rolls back; no later step
// is written.
func TestHookPastDeadlineRollsBack(t *testing.T) {
	steps := canary(t)
	clk := clock.NewFake(time.Unix(0, 0))
	p := &script{invoke: func(ctx context.Context, hp HookPayload) (HookResult, error) {
		if hp.Step == 1 {
			// The function runs for 20 minutes.
			if err := clk.Sleep(ctx, 20*time.Minute); err != nil {
				return HookResult{}, err
			}
		}
		return HookResult{Status: HookStatusSucceeded}, nil
	}}
	r := runner(p, Gates{AfterPause: "f"}, clk)
	r.Deadline = time.Unix(0, 0).Add(10 * time.Minute)
	res := r.Run(context.Background(), start, steps)
	if res.Status != RolledBack || res.Failure.Gate != GateHook || !strings.Contains(res.Failure.Reason, "timeout") {
		t.Fatalf("result %+v", res)
	}
	sameSplits(t, p.applied, steps[0].Weights, start)
}

// Finding 5: a write that may have landed unconfirmed is never reported as
// "nothing moved": the runner writes the original weights back.
func TestUnconfirmedFirstWriteRollsBack(t *testing.T) {
	steps := canary(t)
	calls := 0
	// The write landed; its answer was lost.
	p := &script{lands: true, applyErr: func(int) error {
		if calls++; calls == 1 {
			return fmt.Errorf("reading back: connection reset: %w", ErrUnknownWeights)
		}
		return nil
	}}
	res := runner(p, Gates{}, clock.NewFake(time.Unix(0, 0))).Run(context.Background(), start, steps)
	if res.Status != RolledBack || res.Unknown || !res.Current.Equal(start) {
		t.Fatalf("result %+v", res)
	}
	sameSplits(t, p.applied, start)
	t.Run("a lost write that did not land needs no write back", func(t *testing.T) {
		calls := 0
		p := &script{applyErr: func(int) error {
			if calls++; calls == 1 {
				return fmt.Errorf("connection reset: %w", ErrUnknownWeights)
			}
			return nil
		}}
		res := runner(p, Gates{}, clock.NewFake(time.Unix(0, 0))).Run(context.Background(), start, steps)
		if res.Status != RolledBack || res.Unknown || !res.Current.Equal(start) || len(p.applied) != 0 {
			t.Fatalf("result %+v, applied %v", res, p.applied)
		}
	})
	t.Run("and says so when the rollback cannot be confirmed either", func(t *testing.T) {
		p := &script{lands: true, applyErr: func(n int) error { return fmt.Errorf("timeout: %w", ErrUnknownWeights) }}
		res := runner(p, Gates{}, clock.NewFake(time.Unix(0, 0))).Run(context.Background(), start, steps)
		if res.Status != Failed || !res.Unknown || res.NothingMoved() {
			t.Fatalf("result %+v (nothing moved: %v)", res, res.NothingMoved())
		}
	})
	t.Run("a refused first write moved nothing", func(t *testing.T) {
		p := &script{applyErr: func(n int) error { return errors.New("ValidationError") }}
		res := runner(p, Gates{}, clock.NewFake(time.Unix(0, 0))).Run(context.Background(), start, steps)
		if !res.NothingMoved() || len(p.applied) != 0 {
			t.Fatalf("result %+v", res)
		}
	})
}

// Finding 8: gates that need data do not pass on none.
func TestGatesNeedData(t *testing.T) {
	for _, c := range []struct {
		name string
		g    MetricsGate
		m    Metrics
		gate Gate
	}{
		{"error rate on zero requests", MetricsGate{MaxErrorRatePercent: fptr(1)}, Metrics{}, GateVolume},
		{"error rate below the minimum", MetricsGate{MaxErrorRatePercent: fptr(1), MinRequestCount: iptr(100)}, Metrics{Requests: 99}, GateVolume},
		{"latency with no p99 data", MetricsGate{MaxP99LatencyMs: fptr(100)}, Metrics{Requests: 50}, GateVolume},
		{"error rate on enough requests", MetricsGate{MaxErrorRatePercent: fptr(1), MinRequestCount: iptr(100)}, Metrics{Requests: 100}, ""},
		{"error rate above the maximum", MetricsGate{MaxErrorRatePercent: fptr(1)}, Metrics{Requests: 100, Errors5xx: 2}, GateErrorRate},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := EvalMetrics(c.g, "tg", c.m, time.Minute)
			if (f == nil) != (c.gate == "") || (f != nil && f.Gate != c.gate) {
				t.Fatalf("failure %+v, want gate %q", f, c.gate)
			}
		})
	}
	t.Run("health timeout 0 checks once and does not wait", func(t *testing.T) {
		clk := clock.NewFake(time.Unix(0, 0))
		p := &script{health: func(int, string) Health { return Health{Healthy: 0, Total: 0} }}
		res := runner(p, Gates{Health: &HealthGate{MinHealthyTargets: 1, Timeout: 0}}, clk).Run(context.Background(), start, canary(t))
		if res.Status != RolledBack || res.Failure.Gate != GateHealth || len(clk.Sleeps()) != 0 {
			t.Fatalf("result %+v after sleeps %v", res, clk.Sleeps())
		}
	})
	t.Run("metrics are read after CloudWatch's delay, over the pause", func(t *testing.T) {
		clk := clock.NewFake(time.Unix(0, 0))
		p := &script{}
		res := runner(p, Gates{Metrics: &MetricsGate{MinRequestCount: iptr(1), Delay: DefaultMetricsDelay}}, clk).Run(context.Background(), start, canary(t))
		if res.Status != Succeeded || len(p.windows) != 2 {
			t.Fatalf("result %s, windows %v", res.Summary(), p.windows)
		}
		w := p.windows[0]
		if w[1].Sub(w[0]) != 5*time.Minute {
			t.Errorf("window %v, want the 5m pause", w)
		}
		if got := clk.Elapsed(time.Unix(0, 0)); got != 15*time.Minute+2*DefaultMetricsDelay {
			t.Errorf("took %s, want the pauses plus two delays", got)
		}
	})
}

func TestBound(t *testing.T) {
	long := strings.Repeat("é", 2000)
	b := Bound(long)
	if len(b) > MaxReasonBytes || !strings.HasSuffix(b, "(cut)") || !utf8.ValidString(b) {
		t.Fatalf("Bound gave %d bytes, valid %v", len(b), utf8.ValidString(b))
	}
	if Bound("short") != "short" {
		t.Fatal("a short string changed")
	}
}

func TestEvalAlarms(t *testing.T) {
	names := []string{"a", "b"}
	cases := []struct {
		states []AlarmState
		strict bool
		want   string
	}{
		{[]AlarmState{{"a", StateOK, ""}, {"b", StateOK, ""}}, false, ""},
		{[]AlarmState{{"a", StateOK, ""}, {"b", StateInsufficientData, ""}}, false, ""},
		{[]AlarmState{{"a", StateOK, ""}, {"b", StateInsufficientData, ""}}, true, `alarm "b" is in INSUFFICIENT_DATA`},
		{[]AlarmState{{"a", StateAlarm, "Threshold Crossed"}, {"b", StateOK, ""}}, false, `alarm "a" is in ALARM (Threshold Crossed)`},
		{[]AlarmState{{"a", StateOK, ""}}, false, `alarm "b" does not exist`},
	}
	for i, c := range cases {
		f := EvalAlarms(names, c.states, c.strict)
		if (f == nil) != (c.want == "") || (f != nil && !strings.Contains(f.Reason, c.want)) {
			t.Errorf("case %d: %+v, want %q", i, f, c.want)
		}
	}
}

func TestEvalHealth(t *testing.T) {
	cases := []struct {
		g    HealthGate
		hs   []Health
		fail bool
		frac float64
	}{
		{HealthGate{MinHealthyTargets: 1, MinHealthyPercent: 100}, []Health{{2, 2}}, false, 0},
		{HealthGate{MinHealthyTargets: 1, MinHealthyPercent: 100}, []Health{{1, 2}}, true, 0.5},
		{HealthGate{MinHealthyTargets: 1, MinHealthyPercent: 50}, []Health{{1, 2}}, false, 0},
		{HealthGate{MinHealthyTargets: 3, MinHealthyPercent: 0}, []Health{{2, 2}}, true, 1},
		{HealthGate{MinHealthyTargets: 0, MinHealthyPercent: 0}, []Health{{0, 0}}, false, 0},
		{HealthGate{MinHealthyTargets: 1, MinHealthyPercent: 0}, []Health{{0, 4}, {4, 4}}, true, 0.5},
	}
	for i, c := range cases {
		tgs := []string{blue, green}[:len(c.hs)]
		f := EvalHealth(c.g, tgs, c.hs)
		if (f != nil) != c.fail || (f != nil && f.HealthyFraction != c.frac) {
			t.Errorf("case %d: %+v, want fail %v fraction %v", i, f, c.fail, c.frac)
		}
	}
}

func TestGaining(t *testing.T) {
	three := weights.Split{{ARN: "a", Weight: 50}, {ARN: "b", Weight: 50}, {ARN: "c", Weight: 0}}
	to := weights.Split{{ARN: "a", Weight: 40}, {ARN: "b", Weight: 40}, {ARN: "c", Weight: 20}}
	if g := Gaining(three, to); len(g) != 1 || g[0] != "c" {
		t.Errorf("gaining %v, want [c]", g)
	}
	if g := Gaining(to, three); len(g) != 2 || g[0] != "a" || g[1] != "b" {
		t.Errorf("gaining back %v, want [a b]", g)
	}
}

// FuzzRun checks that whatever the gates answer, a run ends at the desired
// split (succeeded), at the original one (rolled back), or at a step it
// applied (failed), and never applies an invalid split.
func FuzzRun(f *testing.F) {
	f.Add(uint16(300), uint8(10), uint8(2), uint8(1), uint8(0))
	f.Add(uint16(5), uint8(30), uint8(5), uint8(3), uint8(2))
	f.Fuzz(func(t *testing.T, w0 uint16, pct, failAt, gate, policy uint8) {
		from := weights.Split{{ARN: blue, Weight: int(w0 % 1000)}, {ARN: green, Weight: 1}}
		to := weights.Split{{ARN: blue, Weight: 1}, {ARN: green, Weight: int(w0%1000) + 1}}
		st := Strategy{Kind: Linear, StepPercent: int(pct%100) + 1, Interval: time.Minute}
		steps, err := Plan(from, to, st)
		if err != nil {
			t.Skip()
		}
		fail := int(failAt % 8)
		p := &script{serving: from,
			alarm: func(step int) string {
				if gate%3 == 0 && step == fail {
					return StateAlarm
				}
				return StateOK
			},
			metrics: func(step int, _ string) Metrics {
				if gate%3 == 1 && step == fail {
					return Metrics{Requests: 10, P99Ms: 1000, HasP99: true}
				}
				return Metrics{Requests: 10, P99Ms: 10, HasP99: true}
			},
			health: func(step int, _ string) Health {
				if gate%3 == 2 && step == fail {
					return Health{Healthy: 0, Total: 3}
				}
				return Health{Healthy: 3, Total: 3}
			},
		}
		r := runner(p, Gates{Alarms: []string{"a"}, Health: &HealthGate{MinHealthyTargets: 1, MinHealthyPercent: 100, Timeout: time.Minute}, Metrics: &MetricsGate{MaxP99LatencyMs: fptr(500)}}, clock.NewFake(time.Unix(0, 0)))
		r.Policy = []Policy{Auto, Immediate, Gradual}[policy%3]
		res := r.Run(context.Background(), from, steps)
		for i, w := range p.applied {
			if ps := w.Problems(); len(ps) > 0 {
				t.Fatalf("applied split %d %s is invalid: %v", i, w, ps)
			}
		}
		switch res.Status {
		case Succeeded:
			if !res.Current.Equal(to) {
				t.Fatalf("succeeded at %s, want %s", res.Current, to)
			}
		case RolledBack:
			if !res.Current.Equal(from) {
				t.Fatalf("rolled back to %s, want %s", res.Current, from)
			}
		default:
			t.Fatalf("status %s: %v", res.Status, res.Err)
		}
		if n := len(p.applied); n > 0 && !p.applied[n-1].Equal(res.Current) {
			t.Fatalf("the last split applied %s is not the result's %s", p.applied[n-1], res.Current)
		}
	})
}

// BenchmarkRun is the runner's own cost for a 3-step canary with every gate,
// polled each minute through 15 minutes of pauses, on a fake clock.
func BenchmarkRun(b *testing.B) {
	steps, err := Plan(start, end, Strategy{Kind: Canary, Steps: []Step{{Percent: 10, Pause: 5 * time.Minute}, {Percent: 50, Pause: 10 * time.Minute}, {Percent: 100, Pause: 0}}})
	if err != nil {
		b.Fatal(err)
	}
	g := Gates{Health: &HealthGate{MinHealthyTargets: 1, MinHealthyPercent: 100, Timeout: time.Minute}, Alarms: []string{"a", "b"}, Metrics: &MetricsGate{MaxErrorRatePercent: fptr(1)}, BeforeShift: "f", AfterPause: "g"}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		r := runner(&script{}, g, clock.NewFake(time.Unix(0, 0)))
		if res := r.Run(context.Background(), start, steps); res.Status != Succeeded {
			b.Fatal(res.Summary())
		}
	}
}

// A gradual rollback's pauses (on the fake clock) never end the context of
// its later writes: each write's grace starts when it is sent.
func TestGradualRollbackWritesHaveLiveContexts(t *testing.T) {
	p := &script{alarm: func(step int) string {
		if step == 2 {
			return StateAlarm
		}
		return StateOK
	}}
	r := runner(p, Gates{Alarms: []string{"a"}}, clock.NewFake(time.Unix(0, 0)))
	r.Policy, r.RollbackGrace = Gradual, 90*time.Second
	res := r.Run(context.Background(), start, canary(t))
	if res.Status != RolledBack || len(p.applied) != 6 {
		t.Fatalf("result %s after %d writes", res.Summary(), len(p.applied))
	}
	for i, err := range p.applyCtx {
		if err != nil {
			t.Fatalf("write %d was sent with a done context: %v", i+1, err)
		}
	}
}

// The feature_flag strategy: a failed gate switches the named flags off and
// leaves traffic where it is; with auto, latency takes this path when flags
// are named, and an alarm still moves traffic back.
func TestFeatureFlagRollback(t *testing.T) {
	steps := canary(t)
	latencyAt2 := func(step int, _ string) Metrics {
		if step == 2 {
			return Metrics{Requests: 100, P99Ms: 900, HasP99: true}
		}
		return Metrics{Requests: 100, P99Ms: 10, HasP99: true}
	}
	for _, c := range []struct {
		name    string
		policy  Policy
		probe   *script
		gates   Gates
		flagsOf bool
		want    weights.Split
		off     bool
	}{
		{"feature_flag: flags off, traffic stays", FeatureFlag, &script{alarm: func(s int) string {
			if s == 2 {
				return StateAlarm
			}
			return StateOK
		}}, Gates{Alarms: []string{"a"}}, true, nil, true},
		{"auto with flags: latency switches flags off", Auto, &script{metrics: latencyAt2}, Gates{Metrics: &MetricsGate{MaxP99LatencyMs: fptr(500)}}, true, nil, true},
		{"auto with flags: an alarm moves traffic back", Auto, &script{alarm: func(s int) string {
			if s == 2 {
				return StateAlarm
			}
			return StateOK
		}}, Gates{Alarms: []string{"a"}}, true, start, false},
		{"feature_flag without flags rolls back at once", FeatureFlag, &script{metrics: latencyAt2}, Gates{Metrics: &MetricsGate{MaxP99LatencyMs: fptr(500)}}, false, start, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := runner(c.probe, c.gates, clock.NewFake(time.Unix(0, 0)))
			r.Policy = c.policy
			switched := 0
			if c.flagsOf {
				r.SwitchOff = func(context.Context) (string, error) { switched++; return "new-checkout", nil }
			}
			res := r.Run(context.Background(), start, steps)
			if res.Status != RolledBack {
				t.Fatalf("result %+v", res)
			}
			if c.off {
				if switched != 1 || res.SwitchedOff != "new-checkout" || !res.Current.Equal(steps[1].Weights) || len(c.probe.applied) != 2 {
					t.Fatalf("switched %d, result %+v, applied %v", switched, res, c.probe.applied)
				}
				if !strings.Contains(res.Summary(), "switched off new-checkout") {
					t.Errorf("summary %q", res.Summary())
				}
				return
			}
			if switched != 0 || !res.Current.Equal(c.want) {
				t.Fatalf("switched %d, serves %s", switched, res.Current)
			}
		})
	}
}
