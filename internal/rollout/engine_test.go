package rollout

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/rolloutdev/terraform-provider-rollout/internal/clock"
	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

// One engine, two drivers: the in-apply driver (Drive) and a detached one
// that carries the progress as JSON between calls, one Advance per call,
// with a fresh Runner each time (as the orchestrator Lambda does), must
// make the same writes in the same order, call the same hooks, wait the
// same waits and end the same way, whatever the gates answer.

// detachedDrive runs a progress as the orchestrator does: each call starts
// from the progress as JSON, on a Runner built anew, and the waits are
// someone else's (here the fake clock's, as a Step Functions Wait).
//
// With repeat, every call is made twice from the same progress, the first
// answer lost (as Step Functions' Retry does after a crash or a timeout).
func detachedDrive(t testing.TB, mk func() *Runner, clk *clock.Fake, from weights.Split, steps []PlannedStep, repeat bool) (Result, int) {
	t.Helper()
	p := mk().Start(from, steps)
	calls := 0
	call := func() (Progress, time.Duration, bool) {
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > MaxProgressBytes {
			t.Fatalf("the progress is %d bytes", len(b))
		}
		var q Progress
		if err := json.Unmarshal(b, &q); err != nil {
			t.Fatal(err)
		}
		calls++
		r := mk()
		r.Repeatable = true
		wait, done := r.Advance(context.Background(), &q)
		return q, wait, done
	}
	for {
		if repeat {
			_, _, _ = call()
		}
		q, wait, done := call()
		if done {
			q.Res.Finished = clk.Now()
			return q.Res, calls
		}
		if wait > 0 {
			_ = clk.Sleep(context.Background(), wait)
		}
		p = &q
	}
}

// scenario is one randomized script of gate answers and faults.
type scenario struct {
	steps                    []PlannedStep
	from                     weights.Split
	gates                    Gates
	policy                   Policy
	failGate, failAt         int
	readErrAt, readErrTimes  int
	writeErrAt               int
	writeErrLands, handAt    int
	deadline                 time.Duration
	hookFails, unhealthyFrom int
	// healthErrAt and healthErrTimes fail target health reads beside the
	// alarms' (each gate counts its own failures).
	healthErrAt, healthErrTimes int
}

func newScenario(seed int64) (scenario, bool) {
	rng := rand.New(rand.NewSource(seed))
	from := weights.Split{{ARN: blue, Weight: 100}, {ARN: green, Weight: 0}}
	to := weights.Split{{ARN: blue, Weight: 0}, {ARN: green, Weight: 100}}
	var st Strategy
	if rng.Intn(2) == 0 {
		st = Strategy{Kind: Linear, StepPercent: 10 + rng.Intn(50), Interval: time.Duration(rng.Intn(4)) * time.Minute}
	} else {
		st = Strategy{Kind: Canary, Steps: []Step{{Percent: 5 + rng.Intn(20), Pause: time.Duration(rng.Intn(5)) * time.Minute}, {Percent: 50, Pause: time.Duration(rng.Intn(5)) * time.Minute, Hold: rng.Intn(5) == 0}, {Percent: 100}}}
	}
	steps, err := Plan(from, to, st)
	if err != nil {
		return scenario{}, false
	}
	g := Gates{Alarms: []string{"a"}}
	if rng.Intn(2) == 0 {
		g.Health = &HealthGate{MinHealthyTargets: 1, MinHealthyPercent: 100, Timeout: time.Duration(rng.Intn(3)) * time.Minute}
	}
	if rng.Intn(2) == 0 {
		g.Metrics = &MetricsGate{MaxErrorRatePercent: fptr(5), Delay: time.Duration(rng.Intn(2)) * time.Minute}
	}
	if rng.Intn(2) == 0 {
		g.BeforeShift = "before"
	}
	if rng.Intn(2) == 0 {
		g.AfterPause = "after"
	}
	s := scenario{steps: steps, from: from, gates: g, policy: []Policy{Auto, Immediate, Gradual}[rng.Intn(3)],
		failGate: rng.Intn(6), failAt: rng.Intn(len(steps) + 2), readErrAt: rng.Intn(20), readErrTimes: rng.Intn(4),
		writeErrAt: rng.Intn(len(steps) + 3), writeErrLands: rng.Intn(3), handAt: rng.Intn(30), hookFails: rng.Intn(3), unhealthyFrom: rng.Intn(4)}
	if rng.Intn(4) == 0 {
		s.deadline = time.Duration(1+rng.Intn(20)) * time.Minute
	}
	s.healthErrAt, s.healthErrTimes = rng.Intn(20), rng.Intn(4)
	return s, true
}

// script builds the scenario's scripted subject; every call to it answers
// the same for both drivers.
func (s scenario) script() *script {
	reads := 0
	p := &script{serving: s.from}
	p.alarm = func(step int) string {
		if s.failGate == 0 && step == s.failAt {
			return StateAlarm
		}
		return StateOK
	}
	p.alarmErr = func(n int) error {
		if n >= s.readErrAt && n < s.readErrAt+s.readErrTimes {
			return errors.New("Throttling")
		}
		return nil
	}
	p.healthErr = func(n int) error {
		if n >= s.healthErrAt && n < s.healthErrAt+s.healthErrTimes {
			return errors.New("Throttling")
		}
		return nil
	}
	p.health = func(step int, _ string) Health {
		if s.failGate == 1 && step == s.failAt {
			return Health{Healthy: step % 2, Total: 3}
		}
		return Health{Healthy: 3, Total: 3}
	}
	p.metrics = func(step int, _ string) Metrics {
		if s.failGate == 2 && step == s.failAt {
			return Metrics{Requests: 100, Errors5xx: 50}
		}
		return Metrics{Requests: 100}
	}
	p.hook = func(step int, hp HookPayload) HookResult {
		if s.failGate == 3 && step == s.failAt && s.hookFails > 0 {
			return HookResult{Status: "Failed", Reason: "smoke test"}
		}
		return HookResult{Status: HookStatusSucceeded}
	}
	p.applyErr = func(n int) error {
		if s.failGate == 4 && n == s.writeErrAt {
			if s.writeErrLands > 0 {
				return fmt.Errorf("reset: %w", ErrUnknownWeights)
			}
			return errors.New("ValidationError")
		}
		return nil
	}
	p.lands = s.writeErrLands == 2
	p.readErr = func(int) error {
		reads++
		if s.failGate == 5 && reads == s.handAt {
			p.serving = weights.Split{{ARN: blue, Weight: 77}, {ARN: green, Weight: 23}} // a person's change
		}
		return nil
	}
	return p
}

func (s scenario) runner(p *script, clk *clock.Fake, start time.Time) *Runner {
	r := runner(p, s.gates, clk)
	r.Policy = s.policy
	if s.deadline > 0 {
		r.Deadline = start.Add(s.deadline)
	}
	return r
}

func sameRun(t *testing.T, what string, a, b Result, pa, pb *script, sa, sb []time.Duration) {
	t.Helper()
	if fmt.Sprint(pa.applied) != fmt.Sprint(pb.applied) {
		t.Fatalf("%s: in-apply wrote %v, detached %v", what, pa.applied, pb.applied)
	}
	if len(pa.payloads) != len(pb.payloads) {
		t.Fatalf("%s: in-apply called %d hooks, detached %d", what, len(pa.payloads), len(pb.payloads))
	}
	for i := range pa.payloads {
		if fmt.Sprint(pa.payloads[i]) != fmt.Sprint(pb.payloads[i]) {
			t.Fatalf("%s: hook %d got %+v in-apply, %+v detached", what, i, pa.payloads[i], pb.payloads[i])
		}
	}
	if fmt.Sprint(sa) != fmt.Sprint(sb) {
		t.Fatalf("%s: in-apply waited %v, detached %v", what, sa, sb)
	}
	if fmt.Sprint(pa.notices) != fmt.Sprint(pb.notices) {
		t.Fatalf("%s: in-apply noticed %v, detached %v", what, pa.notices, pb.notices)
	}
	if a.Status != b.Status || !a.Current.Equal(b.Current) || a.StepReached != b.StepReached || a.Policy != b.Policy || a.Unknown != b.Unknown ||
		fmt.Sprint(a.Failure) != fmt.Sprint(b.Failure) || fmt.Sprint(a.RollbackSteps) != fmt.Sprint(b.RollbackSteps) {
		t.Fatalf("%s: in-apply ended %+v (%+v), detached %+v (%+v)", what, a, a.Failure, b, b.Failure)
	}
}

func checkDrivers(t *testing.T, seed int64) string {
	s, ok := newScenario(seed)
	if !ok {
		return ""
	}
	ca, cb := clock.NewFake(time.Unix(0, 0)), clock.NewFake(time.Unix(0, 0))
	pa, pb := s.script(), s.script()
	a := s.runner(pa, ca, ca.Now()).Run(context.Background(), s.from, s.steps)
	// The orchestrator is given the deadline as a time, once.
	start := cb.Now()
	b, calls := detachedDrive(t, func() *Runner { return s.runner(pb, cb, start) }, cb, s.from, s.steps, false)
	sameRun(t, fmt.Sprintf("seed %d", seed), a, b, pa, pb, ca.Sleeps(), cb.Sleeps())
	// A call ends at a wait, before a write and after one.
	if bound := 4 + len(cb.Sleeps()) + 2*(len(s.steps)+len(b.RollbackSteps)); calls > bound {
		t.Fatalf("seed %d: %d detached calls for %d waits, %d steps and %d rollback steps", seed, calls, len(cb.Sleeps()), len(s.steps), len(b.RollbackSteps))
	}
	out := string(a.Status)
	if a.Failure != nil {
		out += "/" + string(a.Failure.Gate)
	}
	if a.Unknown {
		out += "/unknown"
	}
	return out
}

func TestDriversAgree(t *testing.T) {
	seen := map[string]int{}
	for seed := int64(1); seed <= 2000; seed++ {
		seen[checkDrivers(t, seed)]++
	}
	// The scenarios reach every way a run ends.
	for _, want := range []string{"succeeded", "held", "rolled_back/alarms", "rolled_back/health", "rolled_back/metrics.max_error_rate_percent", "rolled_back/hooks",
		"rolled_back/timeouts", "rolled_back/apply", "failed/apply", "failed/apply/unknown", "failed/changed_during_rollout"} {
		if seen[want] == 0 {
			t.Errorf("no scenario ended %s; seen %v", want, seen)
		}
	}
}

func FuzzDriversAgree(f *testing.F) {
	for _, s := range []int64{1, 2, 3, 99} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, seed int64) { _ = checkDrivers(t, seed) })
}

// The progress a detached run carries stays small: Step Functions allows
// 256 KB, and each call sends it twice (in and out).
func TestProgressIsSmall(t *testing.T) {
	five := weights.Split{}
	for i := 0; i < 5; i++ {
		five = append(five, weights.Target{ARN: fmt.Sprintf("arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/service-%d/0123456789abcdef", i), Weight: 1})
	}
	to := append(weights.Split(nil), five...)
	for i := range to {
		to[i].Weight = 1 + i
	}
	steps, err := Plan(five, to, Strategy{Kind: Linear, StepPercent: 1, Interval: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	r := &Runner{Clock: clock.NewFake(time.Unix(0, 0))}
	p := r.Start(five, steps)
	// The worst case: a gradual rollback from the last step, each of its
	// steps recorded.
	p.Step, p.Phase, p.Back = len(steps), PhaseBack, steps
	for _, st := range steps {
		p.Res.RollbackSteps = append(p.Res.RollbackSteps, st.Weights)
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > MaxProgressBytes {
		t.Fatalf("a 100-step schedule over 5 target groups, rolled back step by step, is %d bytes of progress, above %d", len(b), MaxProgressBytes)
	}
	var q Progress
	if err := json.Unmarshal(b, &q); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(q.Steps) != fmt.Sprint(p.Steps) || fmt.Sprint(q.Back) != fmt.Sprint(p.Back) || fmt.Sprint(q.Res.RollbackSteps) != fmt.Sprint(p.Res.RollbackSteps) {
		t.Fatal("the progress does not survive JSON")
	}
	t.Logf("100 steps over 5 target groups, rolled back step by step: %d bytes", len(b))
}

// A call repeated after a lost answer (the orchestrator crashed after its
// write, or Step Functions lost the reply) never takes a step twice and
// never takes its own write for someone else's: every call made twice, the
// writes and the outcome are the in-apply driver's.
func TestRepeatedCallsTakeNoStepTwice(t *testing.T) {
	seen := map[Status]int{}
	for seed := int64(1); seed <= 1000; seed++ {
		s, ok := newScenario(seed)
		if !ok {
			continue
		}
		// Answers that depend on how many reads were made cannot be the
		// same when calls repeat: keep the ones keyed by step.
		s.readErrTimes, s.healthErrTimes = 0, 0
		if s.failGate == 5 {
			s.failGate = 6
		}
		// A write whose answer was lost but which landed is found made
		// by the repeat, which goes on: the in-apply driver, told the
		// outcome is unknown, rolls back. Both are right.
		if s.failGate == 4 && s.writeErrLands == 2 {
			s.failGate = 6
		}
		ca, cb := clock.NewFake(time.Unix(0, 0)), clock.NewFake(time.Unix(0, 0))
		pa, pb := s.script(), s.script()
		pb.repeated = true
		a := s.runner(pa, ca, ca.Now()).Run(context.Background(), s.from, s.steps)
		start := cb.Now()
		b, _ := detachedDrive(t, func() *Runner { return s.runner(pb, cb, start) }, cb, s.from, s.steps, true)
		if fmt.Sprint(pa.applied) != fmt.Sprint(pb.applied) {
			t.Fatalf("seed %d: in-apply wrote %v, repeated calls %v", seed, pa.applied, pb.applied)
		}
		if a.Status != b.Status || !a.Current.Equal(b.Current) || fmt.Sprint(a.Failure) != fmt.Sprint(b.Failure) {
			t.Fatalf("seed %d: in-apply ended %s at %s (%+v), repeated calls %s at %s (%+v)", seed, a.Status, a.Current, a.Failure, b.Status, b.Current, b.Failure)
		}
		seen[a.Status]++
	}
	if seen[Succeeded] == 0 || seen[RolledBack] == 0 || seen[Failed] == 0 {
		t.Fatalf("the scenarios do not reach every end: %v", seen)
	}
}

// Each gate's failed reads travel in the progress, under a key of their
// own; a progress written before gates counted their own (one
// "read_failures" count) is still read: its count goes to every gate, so a
// detached run that was two failures from its limit when the orchestrator
// was updated is still one failure from it.
func TestReadFailuresInTheProgress(t *testing.T) {
	steps := canary(t)
	throttled := errors.New("Throttling: Rate exceeded")
	p := &script{alarmErr: func(int) error { return throttled }}
	clk := clock.NewFake(time.Unix(0, 0))
	r := runner(p, Gates{Alarms: []string{"a"}, Health: &HealthGate{MinHealthyTargets: 1, MinHealthyPercent: 100}}, clk)
	r.Repeatable = true
	pr := r.Start(start, steps)
	pr.Phase = PhaseAlarms // the health read before step 1 answered
	if _, done := r.Advance(context.Background(), pr); done {
		t.Fatalf("the run ended at the first failed read: %s", pr.Res.Summary())
	}
	b, err := json.Marshal(pr)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"gate_read_failures":{"alarms":1}`) || strings.Contains(string(b), `"read_failures":`) {
		t.Fatalf("the progress carries the failed reads as %s", b)
	}

	// An older progress: one count for every gate.
	var old map[string]any
	if err := json.Unmarshal(b, &old); err != nil {
		t.Fatal(err)
	}
	delete(old, "gate_read_failures")
	old["read_failures"] = 2
	b, _ = json.Marshal(old)
	var q Progress
	if err := json.Unmarshal(b, &q); err != nil {
		t.Fatal(err)
	}
	r2 := runner(p, Gates{Alarms: []string{"a"}, Health: &HealthGate{MinHealthyTargets: 1, MinHealthyPercent: 100}}, clk)
	r2.Repeatable = true
	for done := false; !done; {
		_, done = r2.Advance(context.Background(), &q)
		if !q.Done() && q.Phase != PhaseBack {
			t.Fatalf("the old progress's count was not taken: the run is at %s after one more failed read", q.Phase)
		}
	}
	if q.Res.Status != RolledBack || q.Res.Failure == nil || q.Res.Failure.Gate != GateAlarm || !q.Res.Failure.Unreadable {
		t.Fatalf("the run ended %s", q.Res.Summary())
	}
	if q.OldReadFailures != 0 {
		t.Fatalf("the old count stays in the progress: %d", q.OldReadFailures)
	}
}
