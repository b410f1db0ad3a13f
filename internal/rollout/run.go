package rollout

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rolloutdev/terraform-provider-rollout/internal/clock"
	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

// Probe is what a run needs from the outside world: set the weights (and
// confirm them), and observe the gates. The provider implements it on AWS;
// tests script it.
type Probe interface {
	Apply(ctx context.Context, w weights.Split) error
	TargetHealth(ctx context.Context, targetGroup string) (Health, error)
	AlarmStates(ctx context.Context, names []string) ([]AlarmState, error)
	Metrics(ctx context.Context, targetGroup string, start, end time.Time) (Metrics, error)
	Invoke(ctx context.Context, function string, p HookPayload) (HookResult, error)
}

// Health is a target group's registered and healthy targets.
type Health struct{ Healthy, Total int }

// AlarmState is one CloudWatch alarm's state.
type AlarmState struct {
	Name, State, Reason string
}

// Alarm states as CloudWatch names them.
const (
	StateOK               = "OK"
	StateAlarm            = "ALARM"
	StateInsufficientData = "INSUFFICIENT_DATA"
	PhaseBeforeShift      = "before_shift"
	PhaseAfterPause       = "after_pause"
	HookStatusSucceeded   = "Succeeded"
	defaultPollInterval   = 15 * time.Second
	defaultHealthTimeout  = 5 * time.Minute
	defaultMinHealthyTgts = 1
	defaultMinHealthyPct  = 100.0
)

// Metrics are a target group's load balancer metrics over a window.
type Metrics struct {
	Requests  float64
	Errors5xx float64
	// P99Ms is the 99th percentile of the target response time in
	// milliseconds; HasP99 is false when there was no data.
	P99Ms  float64
	HasP99 bool
}

// HookPayload is the JSON a validation hook receives.
type HookPayload struct {
	// SubjectID is what moves: a listener or rule ARN (later an alias, a
	// flag); SubjectKind says which ("listener", "rule").
	SubjectID   string `json:"subject_id"`
	SubjectKind string `json:"subject_kind"`
	// SplitID is SubjectID under its first name, kept for hooks written
	// against it.
	SplitID string         `json:"split_id"`
	Phase   string         `json:"phase"`
	Step    int            `json:"step"`
	Steps   int            `json:"steps"`
	Percent int            `json:"percent"`
	From    map[string]int `json:"from"`
	To      map[string]int `json:"to"`
}

// HookResult is what a hook answered: FunctionError is set when the function
// itself failed; otherwise Status must be "Succeeded".
type HookResult struct {
	Status, Reason, FunctionError string
}

// Gates is what must hold for a rollout to go on.
type Gates struct {
	Health                 *HealthGate
	Alarms                 []string
	FailOnInsufficientData bool
	Metrics                *MetricsGate
	BeforeShift            string // Lambda function ARN
	AfterPause             string // Lambda function ARN
}

// HealthGate: each gaining target group has at least MinHealthyTargets and
// MinHealthyPercent healthy targets, waiting up to Timeout before a shift.
type HealthGate struct {
	MinHealthyTargets int
	MinHealthyPercent float64
	Timeout           time.Duration
}

// DefaultHealthGate is the health gate with every setting at its default.
func DefaultHealthGate() HealthGate {
	return HealthGate{MinHealthyTargets: defaultMinHealthyTgts, MinHealthyPercent: defaultMinHealthyPct, Timeout: defaultHealthTimeout}
}

// MetricsGate: thresholds over each pause on the gaining target groups. A nil
// field is not checked.
type MetricsGate struct {
	MaxErrorRatePercent *float64
	MaxP99LatencyMs     *float64
	MinRequestCount     *int64
	// Delay is how long after a pause the metrics are read, for CloudWatch
	// to publish the pause's last minute.
	Delay time.Duration
	// ErrorsAre names the errors counted, in messages: "a 5XX" (the
	// default, for a load balancer) or "a function error" (Lambda).
	ErrorsAre string
}

// DefaultMetricsDelay is how long CloudWatch takes, at most in practice, to
// publish an Application Load Balancer's one-minute metrics.
const DefaultMetricsDelay = 90 * time.Second

// Status of a run.
type Status string

// Statuses of a run.
const (
	Succeeded  Status = "succeeded"
	RolledBack Status = "rolled_back"
	Failed     Status = "failed"
)

// ErrTimedOut is the error of a run that reached its deadline.
var ErrTimedOut = errors.New("the rollout reached its timeout")

// Event is one thing that happened during a run, for the log.
type Event struct {
	Message string
	Fields  map[string]any
}

// Runner runs a schedule step by step: gates before each shift, the shift,
// the pause polled every PollInterval, gates after the pause; a failed gate
// rolls back by the policy.
type Runner struct {
	Probe        Probe
	Clock        clock.Clock
	Gates        Gates
	PollInterval time.Duration
	Rollback     Policy
	// Deadline, by Clock, after which the run stops where it is; zero means
	// none.
	Deadline time.Time
	// SubjectID and SubjectKind name what moves, in logs and hook payloads.
	SubjectID   string
	SubjectKind string
	Log         func(Event)
	// MaxReadFailures is how many gate reads in a row may fail (each
	// after the SDK's own retries) before the gate counts as failed and the
	// rollout rolls back; zero means DefaultMaxReadFailures. A failed read
	// is tried again at the next poll.
	MaxReadFailures int
	// IgnoreReadFailures lets the rollout go on when health, alarms or
	// metrics cannot be read (CodeDeploy's ignorePollAlarmFailure). A hook
	// that cannot be invoked still fails its step.
	IgnoreReadFailures bool
	// RollbackGrace bounds a rollback that must finish after the apply was
	// cancelled or reached its deadline; zero means DefaultRollbackGrace.
	RollbackGrace time.Duration
	// SwitchOff, when set, turns flags off instead of moving traffic back
	// (the feature_flag and kill_switch policies) and says which it
	// switched. Without it those policies roll back immediately.
	SwitchOff func(ctx context.Context) (string, error)
	// Hold leaves the subject where it is when a gate fails, with no
	// rollback (Policy None): a release whose on_failure.rollback is
	// "none".
	Hold bool

	readFailures int
}

// Defaults of the Runner's fault handling.
const (
	DefaultMaxReadFailures = 3
	DefaultRollbackGrace   = 2 * time.Minute
	// MaxReasonBytes bounds a hook's reason and other outside text kept in
	// state and logs.
	MaxReasonBytes = 1024
)

// ErrUnknownWeights marks an Apply error after which the weights in place
// are not known: the write may have landed but could not be confirmed.
var ErrUnknownWeights = errors.New("the weights in place could not be confirmed")

// Result says how a run ended and what the listener serves.
type Result struct {
	Status Status
	// StepReached is the last step applied, from 1; 0 when none was.
	StepReached int
	Steps       int
	// Current is the split the listener serves, as last confirmed.
	Current weights.Split
	Failure *Failure
	// Policy is the rollback used, when there was one.
	Policy Policy
	// RollbackSteps are the splits applied while rolling back, in order.
	RollbackSteps []weights.Split
	// Err is set when the run stopped without a gate failing: cancelled,
	// timed out, or an AWS error.
	Err error
	// Unknown is true when a write may have landed without being
	// confirmed and no later write was: Current is then the last split
	// confirmed, and the listener may serve another one.
	Unknown bool
	// SwitchedOff names the flags a feature_flag or kill_switch rollback
	// switched off.
	SwitchedOff       string
	Started, Finished time.Time
}

// Summary is one sentence on how the run ended.
func (r Result) Summary() string {
	switch r.Status {
	case Succeeded:
		return fmt.Sprintf("all %d steps applied", r.Steps)
	case Failed:
		if r.Policy == None && r.Failure != nil {
			return fmt.Sprintf("step %d of %d failed the %s gate: %s; not rolled back (rollback none), left at %s", r.failedStep(), r.Steps, r.Failure.Gate, r.Failure.Reason, r.Current.Short())
		}
	case RolledBack:
		if r.SwitchedOff != "" {
			return fmt.Sprintf("step %d of %d failed the %s gate: %s; switched off %s (%s) and left traffic at %s", r.failedStep(), r.Steps, r.Failure.Gate, r.Failure.Reason, r.SwitchedOff, r.Policy, r.Current.Short())
		}
		return fmt.Sprintf("step %d of %d failed the %s gate: %s; rolled back (%s) to %s", r.failedStep(), r.Steps, r.Failure.Gate, r.Failure.Reason, r.Policy, r.Current.Short())
	}
	if r.Failure != nil {
		return fmt.Sprintf("step %d of %d failed the %s gate: %s; the rollback stopped: %v; the listener serves %s", r.failedStep(), r.Steps, r.Failure.Gate, r.Failure.Reason, r.Err, r.Current.Short())
	}
	return fmt.Sprintf("stopped at step %d of %d: %v; the listener serves %s", r.StepReached, r.Steps, r.Err, r.Current.Short())
}

// NothingMoved reports a run whose first write AWS refused: the listener
// serves what it did before, for certain. A write whose outcome is unknown
// is never "nothing moved".
func (r Result) NothingMoved() bool {
	return r.StepReached == 0 && r.Status == Failed && !r.Unknown && len(r.RollbackSteps) == 0 &&
		r.Failure != nil && r.Failure.Gate == GateApply
}

func (r Result) failedStep() int {
	if r.Failure != nil && r.Failure.Step > 0 {
		return r.Failure.Step
	}
	return r.StepReached
}

func (r *Runner) log(msg string, kv ...any) {
	if r.Log == nil {
		return
	}
	f := map[string]any{"subject": r.SubjectID}
	for i := 0; i+1 < len(kv); i += 2 {
		f[fmt.Sprint(kv[i])] = kv[i+1]
	}
	r.Log(Event{Message: msg, Fields: f})
}

func (r *Runner) poll() time.Duration {
	if r.PollInterval > 0 {
		return r.PollInterval
	}
	return defaultPollInterval
}

// sleep waits d by the clock, cut short at the deadline.
func (r *Runner) sleep(ctx context.Context, d time.Duration) error {
	if !r.Deadline.IsZero() {
		left := r.Deadline.Sub(r.Clock.Now())
		if left <= 0 {
			return ErrTimedOut
		}
		if d > left {
			if err := r.Clock.Sleep(ctx, left); err != nil {
				return err
			}
			return ErrTimedOut
		}
	}
	return r.Clock.Sleep(ctx, d)
}

// Gaining lists the target groups whose share is larger in to than in from,
// in to's order.
func Gaining(from, to weights.Split) []string {
	pf, pt := from.Percentages(), to.Percentages()
	var out []string
	for _, t := range to {
		if pt[t.ARN] > pf[t.ARN] {
			out = append(out, t.ARN)
		}
	}
	return out
}

// Run takes the listener from `from` through steps. It never returns with the
// listener at a split that is not one of from, a step or a rollback step.
func (r *Runner) Run(ctx context.Context, from weights.Split, steps []PlannedStep) Result {
	res := r.run(ctx, from, steps)
	res.Finished = r.Clock.Now()
	return res
}

func (r *Runner) run(ctx context.Context, from weights.Split, steps []PlannedStep) Result {
	res := Result{Status: Succeeded, Steps: len(steps), Current: from, Started: r.Clock.Now()}
	if len(steps) == 0 {
		return res
	}
	r.readFailures = 0
	to := steps[len(steps)-1].Weights
	gaining := Gaining(from, to)
	r.log("rollout starting", "from", from.String(), "to", to.String(), "steps", len(steps), "gaining", strings.Join(gaining, ","))
	// end is how a run that cannot go on ends: a cancel stops where it is;
	// the deadline rolls back, because nothing would watch the new weights.
	end := func(res Result, err error) Result {
		if errors.Is(err, ErrTimedOut) {
			return r.rollback(ctx, res, from, &Failure{Gate: GateTimeout, Step: res.StepReached, Reason: "the apply reached its timeout"})
		}
		return r.stopped(res, err)
	}
	for i, st := range steps {
		n := i + 1
		if f, err := r.beforeShift(ctx, n, len(steps), st, res.Current, gaining); err != nil {
			return end(res, err)
		} else if f != nil {
			return r.rollback(ctx, res, from, f)
		}
		cctx, cancel := r.callCtx(ctx)
		err := r.Probe.Apply(cctx, st.Weights)
		cancel()
		if err != nil {
			f := &Failure{Gate: GateApply, Step: n, Reason: err.Error()}
			if errors.Is(err, ErrUnknownWeights) || r.pastDeadline() {
				res.Unknown = true
			}
			if n == 1 && !res.Unknown {
				res.Status, res.Failure, res.Err = Failed, f, err
				return res
			}
			return r.rollback(ctx, res, from, f)
		}
		before := res.Current
		res.Current, res.StepReached = st.Weights, n
		r.log("rollout step applied", "step", n, "of", len(steps), "percent", st.Percent, "weights", st.Weights.String(), "pause", st.Pause.String())
		start := r.Clock.Now()
		for left := st.Pause; left > 0; {
			d := min(r.poll(), left)
			if err := r.sleep(ctx, d); err != nil {
				return end(res, err)
			}
			left -= d
			f, err := r.pollGates(ctx, n, gaining)
			if err != nil {
				return end(res, err)
			}
			if f != nil {
				return r.rollback(ctx, res, from, f)
			}
		}
		f, err := r.afterPause(ctx, n, len(steps), st, start, before, gaining)
		if err != nil {
			return end(res, err)
		}
		if f != nil {
			return r.rollback(ctx, res, from, f)
		}
		r.log("rollout step passed its gates", "step", n, "of", len(steps))
	}
	r.log("rollout succeeded", "weights", res.Current.String(), "steps", len(steps))
	return res
}

// callCtx is the context of one AWS call or hook: done at the deadline,
// by the Runner's clock.
func (r *Runner) callCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	if r.Deadline.IsZero() {
		return context.WithCancel(ctx)
	}
	return r.Clock.WithDeadline(ctx, r.Deadline)
}

func (r *Runner) pastDeadline() bool {
	return !r.Deadline.IsZero() && !r.Clock.Now().Before(r.Deadline)
}

// read runs one gate read. A read that fails is logged and, when retry is
// set, tried again a poll interval later; after MaxReadFailures failures in
// a row the gate fails (or, with IgnoreReadFailures, passes). A cancel or
// the deadline ends the read with its error.
func (r *Runner) read(ctx context.Context, gate Gate, what string, retry bool, fn func(context.Context) (*Failure, error)) (*Failure, error) {
	limit := r.MaxReadFailures
	if limit <= 0 {
		limit = DefaultMaxReadFailures
	}
	for {
		cctx, cancel := r.callCtx(ctx)
		f, err := fn(cctx)
		cancel()
		if err == nil {
			r.readFailures = 0
			return f, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if r.pastDeadline() {
			if gate == GateHook {
				return &Failure{Gate: GateHook, Reason: Bound(fmt.Sprintf("%s did not answer before the apply's timeout", what))}, nil
			}
			return nil, ErrTimedOut
		}
		r.readFailures++
		r.log("rollout gate could not be read", "gate", string(gate), "what", what, "failures_in_a_row", r.readFailures, "of", limit, "error", Bound(err.Error()))
		if r.readFailures >= limit {
			r.readFailures = 0
			if r.IgnoreReadFailures && gate != GateHook {
				r.log("rollout going on without the gate (ignore_poll_failures)", "gate", string(gate))
				return nil, nil
			}
			return &Failure{Gate: gate, Unreadable: true, Reason: Bound(fmt.Sprintf("%s failed %d times in a row: %v", what, limit, err))}, nil
		}
		if !retry {
			return nil, nil
		}
		if err := r.sleep(ctx, r.poll()); err != nil {
			return nil, err
		}
	}
}

// stopped ends a run that cannot go on (cancelled, timed out, AWS error):
// the listener stays at the last confirmed step.
func (r *Runner) stopped(res Result, err error) Result {
	res.Status, res.Err = Failed, err
	r.log("rollout stopped", "step", res.StepReached, "of", res.Steps, "weights", res.Current.String(), "error", err.Error())
	return res
}

func (r *Runner) beforeShift(ctx context.Context, n, total int, st PlannedStep, cur weights.Split, gaining []string) (*Failure, error) {
	if g := r.Gates.Health; g != nil {
		if f, err := r.waitHealthy(ctx, *g, gaining, n); f != nil || err != nil {
			return f, err
		}
	}
	if f, err := r.checkAlarms(ctx, n, true); f != nil || err != nil {
		return f, err
	}
	if fn := r.Gates.BeforeShift; fn != "" {
		return r.hook(ctx, fn, HookPayload{SubjectID: r.SubjectID, SubjectKind: r.SubjectKind, SplitID: r.SubjectID, Phase: PhaseBeforeShift, Step: n, Steps: total, Percent: st.Percent, From: cur.Map(), To: st.Weights.Map()}, n)
	}
	return nil, nil
}

// pollGates checks health and alarms during a pause. A read that fails is
// tried again at the next poll.
func (r *Runner) pollGates(ctx context.Context, n int, gaining []string) (*Failure, error) {
	if g := r.Gates.Health; g != nil {
		f, err := r.checkHealth(ctx, *g, gaining, n, false)
		if f != nil || err != nil {
			return f, err
		}
	}
	return r.checkAlarms(ctx, n, false)
}

// afterPause checks the metrics over the pause and calls the after_pause
// hook; before is the split the step moved from. CloudWatch publishes load
// balancer metrics a minute or more late, so the read waits MetricsDelay
// after the pause for the whole window to be in.
func (r *Runner) afterPause(ctx context.Context, n, total int, st PlannedStep, start time.Time, before weights.Split, gaining []string) (*Failure, error) {
	if g := r.Gates.Metrics; g != nil && st.Pause > 0 {
		end := r.Clock.Now()
		if g.Delay > 0 {
			r.log("rollout waiting for CloudWatch to publish the pause's metrics", "step", n, "delay", g.Delay.String())
			if err := r.sleep(ctx, g.Delay); err != nil {
				return nil, err
			}
		}
		for _, tg := range gaining {
			var m Metrics
			f, err := r.read(ctx, GateMetrics, "reading the metrics of "+tg, true, func(cctx context.Context) (*Failure, error) {
				var err error
				m, err = r.Probe.Metrics(cctx, tg, start, end)
				return nil, err
			})
			if f != nil || err != nil {
				if f != nil {
					f.Step = n
				}
				return f, err
			}
			r.log("rollout metrics", "step", n, "target_group", tg, "requests", m.Requests, "errors_5xx", m.Errors5xx, "p99_ms", m.P99Ms)
			if f := EvalMetrics(*g, tg, m, st.Pause); f != nil {
				f.Step = n
				return f, nil
			}
		}
	}
	if fn := r.Gates.AfterPause; fn != "" {
		return r.hook(ctx, fn, HookPayload{SubjectID: r.SubjectID, SubjectKind: r.SubjectKind, SplitID: r.SubjectID, Phase: PhaseAfterPause, Step: n, Steps: total, Percent: st.Percent, From: before.Map(), To: st.Weights.Map()}, n)
	}
	return nil, nil
}

// waitHealthy polls the health gate until it passes or its timeout ends;
// a timeout of zero checks once and does not wait.
func (r *Runner) waitHealthy(ctx context.Context, g HealthGate, tgs []string, n int) (*Failure, error) {
	timeout := g.Timeout
	start := r.Clock.Now()
	for {
		f, err := r.checkHealth(ctx, g, tgs, n, true)
		if f == nil || err != nil {
			return f, err
		}
		waited := r.Clock.Now().Sub(start)
		if waited >= timeout || f.Unreadable {
			if timeout > 0 && !f.Unreadable {
				f.Reason += fmt.Sprintf(" after waiting %s", timeout)
			}
			return f, nil
		}
		r.log("rollout waiting for healthy targets", "step", n, "reason", f.Reason)
		if err := r.sleep(ctx, min(r.poll(), timeout-waited)); err != nil {
			return nil, err
		}
	}
}

func (r *Runner) checkHealth(ctx context.Context, g HealthGate, tgs []string, n int, retry bool) (*Failure, error) {
	var hs []Health
	f, err := r.read(ctx, GateHealth, "reading the target health of "+strings.Join(tgs, ", "), retry, func(cctx context.Context) (*Failure, error) {
		hs = hs[:0]
		for _, tg := range tgs {
			h, err := r.Probe.TargetHealth(cctx, tg)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", tg, err)
			}
			hs = append(hs, h)
		}
		return nil, nil
	})
	if err != nil {
		return nil, err
	}
	if f != nil {
		f.Step, f.Unreadable = n, true
		return f, nil
	}
	if len(hs) < len(tgs) {
		return nil, nil // not read, and ignored
	}
	f = EvalHealth(g, tgs, hs)
	if f != nil {
		f.Step = n
	}
	return f, nil
}

func (r *Runner) checkAlarms(ctx context.Context, n int, retry bool) (*Failure, error) {
	if len(r.Gates.Alarms) == 0 {
		return nil, nil
	}
	var states []AlarmState
	read := false
	f, err := r.read(ctx, GateAlarm, "reading the alarms", retry, func(cctx context.Context) (*Failure, error) {
		var err error
		states, err = r.Probe.AlarmStates(cctx, r.Gates.Alarms)
		read = err == nil
		return nil, err
	})
	if err != nil || f != nil {
		if f != nil {
			f.Step = n
		}
		return f, err
	}
	if !read {
		return nil, nil
	}
	f = EvalAlarms(r.Gates.Alarms, states, r.Gates.FailOnInsufficientData)
	if f != nil {
		f.Step = n
	}
	return f, nil
}

// hook invokes a validation hook. An invocation that fails is tried again
// a poll interval later, up to MaxReadFailures times; one that does not
// answer before the deadline fails the step.
func (r *Runner) hook(ctx context.Context, fn string, p HookPayload, n int) (*Failure, error) {
	var hr HookResult
	f, err := r.read(ctx, GateHook, fmt.Sprintf("the %s hook %s", p.Phase, fn), true, func(cctx context.Context) (*Failure, error) {
		var err error
		hr, err = r.Probe.Invoke(cctx, fn, p)
		return nil, err
	})
	if err != nil || f != nil {
		if f != nil {
			f.Step = n
		}
		return f, err
	}
	r.log("rollout hook answered", "step", n, "phase", p.Phase, "function", fn, "status", Bound(hr.Status), "function_error", Bound(hr.FunctionError))
	f = EvalHook(p.Phase, fn, hr)
	if f != nil {
		f.Step = n
	}
	return f, nil
}

// Bound cuts outside text (a hook's answer, an AWS error) to MaxReasonBytes
// on a UTF-8 boundary, so state and logs stay small.
func Bound(s string) string {
	if len(s) <= MaxReasonBytes {
		return s
	}
	cut := MaxReasonBytes - len(" … (cut)")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + " … (cut)"
}

// rollback takes the listener from res.Current back to from by the policy.
// Once started it finishes: after a cancel or the deadline it goes on with a
// context of its own, bounded by RollbackGrace, and a gradual rollback then
// jumps to its last step instead of pausing.
func (r *Runner) rollback(ctx context.Context, res Result, from weights.Split, f *Failure) Result {
	res.Failure = f
	if r.Hold {
		res.Status, res.Policy = Failed, None
		r.log("rollout gate failed; holding where it is (no rollback)", "step", f.Step, "gate", string(f.Gate), "reason", f.Reason, "weights", res.Current.String())
		return res
	}
	res.Policy = DecideWithFlags(r.Rollback, *f, r.SwitchOff != nil)
	if (res.Policy == FeatureFlag || res.Policy == KillSwitch) && (r.SwitchOff == nil || res.Unknown) {
		res.Policy = Immediate
	}
	r.log("rollout gate failed; rolling back", "step", f.Step, "gate", string(f.Gate), "reason", f.Reason, "policy", string(res.Policy))
	if res.Policy == FeatureFlag || res.Policy == KillSwitch {
		grace := r.RollbackGrace
		if grace <= 0 {
			grace = DefaultRollbackGrace
		}
		rctx, cancel := r.Clock.WithDeadline(context.WithoutCancel(ctx), r.Clock.Now().Add(grace))
		defer cancel()
		what, err := r.SwitchOff(rctx)
		if err != nil {
			res.Status, res.Err = Failed, fmt.Errorf("switching the flags off: %w", err)
			return res
		}
		res.Status, res.SwitchedOff = RolledBack, what
		r.log("rollout rolled back by switching flags off; traffic left where it is", "flags", what, "weights", res.Current.String())
		return res
	}
	plan, err := RollbackPlan(res.Current, from, res.Policy)
	if err != nil {
		res.Status, res.Err = Failed, err
		return res
	}
	if res.Unknown {
		// A write may have landed unconfirmed: write the original weights
		// whatever the last confirmed split was.
		res.Policy = Immediate
		plan = []PlannedStep{{Percent: 100, Weights: from}}
	}
	grace := r.RollbackGrace
	if grace <= 0 {
		grace = DefaultRollbackGrace
	}
	hurry := func() bool { return ctx.Err() != nil || r.pastDeadline() }
	gaining := Gaining(res.Current, from)
	for j := 0; j < len(plan); j++ {
		st := plan[j]
		if j > 0 && res.Policy == Gradual {
			if hurry() || r.Clock.Sleep(ctx, r.poll()) != nil || r.pastDeadline() {
				r.log("rollback interrupted (cancel or timeout); finishing it at once")
				st = plan[len(plan)-1]
				plan = plan[:j+1]
			} else if g := r.Gates.Health; g != nil {
				hf, err := r.checkHealth(ctx, *g, gaining, f.Step, false)
				if err != nil || hf != nil {
					// The rollback always completes: the split before the
					// apply is the known reference.
					why := "cancelled"
					if hf != nil {
						why = hf.Reason
					}
					r.log("rollback health gate failed; finishing the rollback at once", "reason", why)
					st = plan[len(plan)-1]
					plan = plan[:j+1]
				}
			}
		}
		// Each write has a context of its own, so a cancel or the deadline
		// cannot cut the rollback short; RollbackGrace bounds it.
		rctx, cancel := r.Clock.WithDeadline(context.WithoutCancel(ctx), r.Clock.Now().Add(grace))
		err := r.Probe.Apply(rctx, st.Weights)
		cancel()
		if err != nil {
			if errors.Is(err, ErrUnknownWeights) {
				res.Unknown = true
			}
			res.Status, res.Err = Failed, fmt.Errorf("rolling back: %w", err)
			return res
		}
		res.Current, res.Unknown = st.Weights, false
		res.RollbackSteps = append(res.RollbackSteps, st.Weights)
		r.log("rollback step applied", "step", j+1, "of", len(plan), "weights", st.Weights.String())
	}
	res.Status = RolledBack
	r.log("rollout rolled back", "weights", res.Current.String())
	return res
}

// Stabilize watches a subject that a run has just taken from `from` to
// `at` (res, a succeeded Result) for d: the health of the target groups
// serving traffic and the alarms, every poll interval and once at the end.
// A failure rolls back to from by the policy, as a failed step does. A
// release stabilizes a service before the services that depend on it start.
func (r *Runner) Stabilize(ctx context.Context, res Result, from weights.Split, d time.Duration) Result {
	var serving []string
	for _, w := range res.Current {
		if w.Weight > 0 {
			serving = append(serving, w.ARN)
		}
	}
	check := func(retry bool) (*Failure, error) {
		if g := r.Gates.Health; g != nil {
			if f, err := r.checkHealth(ctx, *g, serving, res.StepReached, retry); f != nil || err != nil {
				return f, err
			}
		}
		return r.checkAlarms(ctx, res.StepReached, retry)
	}
	r.log("stabilizing", "weights", res.Current.String(), "for", d.String())
	r.readFailures = 0
	for left := d; ; {
		f, err := check(left <= 0)
		if err != nil {
			if errors.Is(err, ErrTimedOut) {
				return r.finish(r.rollback(ctx, res, from, &Failure{Gate: GateTimeout, Step: res.StepReached, Reason: "the apply reached its timeout while stabilizing"}))
			}
			return r.finish(r.stopped(res, err))
		}
		if f != nil {
			f.Reason = "while stabilizing: " + f.Reason
			return r.finish(r.rollback(ctx, res, from, f))
		}
		if left <= 0 {
			break
		}
		step := min(r.poll(), left)
		if err := r.sleep(ctx, step); err != nil {
			if errors.Is(err, ErrTimedOut) {
				return r.finish(r.rollback(ctx, res, from, &Failure{Gate: GateTimeout, Step: res.StepReached, Reason: "the apply reached its timeout while stabilizing"}))
			}
			return r.finish(r.stopped(res, err))
		}
		left -= step
	}
	r.log("stabilized", "weights", res.Current.String())
	return res
}

// RollBack takes a subject that a run took from original to current back
// to original, because of something outside its own gates (a release
// rolling back the services it started): one write for auto and
// immediate, four for gradual; feature_flag switches the flags off.
func (r *Runner) RollBack(ctx context.Context, current, original weights.Split, steps int, reason string) Result {
	res := Result{Status: Succeeded, Current: current, StepReached: steps, Steps: steps, Started: r.Clock.Now()}
	back := *r
	back.Hold = false // asked for: never held
	return back.finish(back.rollback(ctx, res, original, &Failure{Gate: GateRelease, Step: steps, Reason: Bound(reason)}))
}

func (r *Runner) finish(res Result) Result {
	res.Finished = r.Clock.Now()
	return res
}

// EvalHealth checks each target group's health against the gate.
func EvalHealth(g HealthGate, tgs []string, hs []Health) *Failure {
	healthy, total := 0, 0
	var bad []string
	for i, tg := range tgs {
		h := hs[i]
		healthy += h.Healthy
		total += h.Total
		pct := 0.0
		if h.Total > 0 {
			pct = 100 * float64(h.Healthy) / float64(h.Total)
		}
		if h.Healthy < g.MinHealthyTargets || pct < g.MinHealthyPercent {
			bad = append(bad, fmt.Sprintf("%s has %d healthy of %d registered targets (%.0f %%)", tg, h.Healthy, h.Total, pct))
		}
	}
	if len(bad) == 0 {
		return nil
	}
	frac := 0.0
	if total > 0 {
		frac = float64(healthy) / float64(total)
	}
	return &Failure{Gate: GateHealth, HealthyFraction: frac,
		Reason: fmt.Sprintf("%s; at least %d and %.0f %% healthy are needed", strings.Join(bad, "; "), g.MinHealthyTargets, g.MinHealthyPercent)}
}

// EvalAlarms fails on the first named alarm in ALARM (or INSUFFICIENT_DATA
// when failOnInsufficient), and on a named alarm that does not exist.
func EvalAlarms(names []string, states []AlarmState, failOnInsufficient bool) *Failure {
	by := map[string]AlarmState{}
	for _, s := range states {
		by[s.Name] = s
	}
	for _, n := range names {
		s, ok := by[n]
		switch {
		case !ok:
			return &Failure{Gate: GateAlarm, Reason: fmt.Sprintf("alarm %q does not exist", n)}
		case s.State == StateAlarm:
			return &Failure{Gate: GateAlarm, Reason: fmt.Sprintf("alarm %q is in ALARM (%s)", n, s.Reason)}
		case s.State == StateInsufficientData && failOnInsufficient:
			return &Failure{Gate: GateAlarm, Reason: fmt.Sprintf("alarm %q is in INSUFFICIENT_DATA and fail_on_insufficient_data is true", n)}
		}
	}
	return nil
}

// EvalMetrics checks one target group's metrics over a pause. A step never
// passes on no data: with fewer requests than MinRequestCount (or, for an
// error-rate gate without it, none at all), or a latency gate with no
// TargetResponseTime data, the step fails the volume gate.
func EvalMetrics(g MetricsGate, tg string, m Metrics, pause time.Duration) *Failure {
	need := int64(0)
	if g.MinRequestCount != nil {
		need = *g.MinRequestCount
	} else if g.MaxErrorRatePercent != nil {
		need = 1
	}
	if m.Requests < float64(need) {
		what := "min_request_count"
		if g.MinRequestCount == nil {
			what = "the one request needed to judge the error rate (min_request_count is not set)"
		}
		return &Failure{Gate: GateVolume, Reason: fmt.Sprintf("%s served %.0f requests in %s, below %s %d", tg, m.Requests, pause, what, need)}
	}
	if g.MaxErrorRatePercent != nil && m.Requests > 0 {
		rate := 100 * m.Errors5xx / m.Requests
		if rate > *g.MaxErrorRatePercent {
			what := g.ErrorsAre
			if what == "" {
				what = "a 5XX"
			}
			return &Failure{Gate: GateErrorRate, Reason: fmt.Sprintf("%s answered %.0f of %.0f requests with %s (%.3g %%), above max_error_rate_percent %g", tg, m.Errors5xx, m.Requests, what, rate, *g.MaxErrorRatePercent)}
		}
	}
	if g.MaxP99LatencyMs != nil {
		if !m.HasP99 {
			return &Failure{Gate: GateVolume, Reason: fmt.Sprintf("%s has no TargetResponseTime data for the pause, so max_p99_latency_ms cannot be judged", tg)}
		}
		if m.P99Ms > *g.MaxP99LatencyMs {
			return &Failure{Gate: GateLatency, Reason: fmt.Sprintf("%s has a p99 target response time of %s ms, above max_p99_latency_ms %g", tg, trim(m.P99Ms), *g.MaxP99LatencyMs)}
		}
	}
	return nil
}

// EvalHook fails on a function error or a status other than Succeeded.
func EvalHook(phase, fn string, hr HookResult) *Failure {
	switch {
	case hr.FunctionError != "":
		return &Failure{Gate: GateHook, Reason: Bound(fmt.Sprintf("the %s hook %s failed with a %s function error: %s", phase, fn, hr.FunctionError, hr.Reason))}
	case hr.Status != HookStatusSucceeded:
		why := ""
		if hr.Reason != "" {
			why = ": " + hr.Reason
		}
		st := hr.Status
		if st == "" {
			st = "no status"
		}
		return &Failure{Gate: GateHook, Reason: Bound(fmt.Sprintf("the %s hook %s answered %q, not %q%s", phase, fn, st, HookStatusSucceeded, why))}
	}
	return nil
}

func trim(f float64) string {
	if f == math.Trunc(f) {
		return fmt.Sprintf("%.0f", f)
	}
	return fmt.Sprintf("%.1f", f)
}

// TotalPause is the sum of the pauses of a schedule.
func TotalPause(steps []PlannedStep) time.Duration {
	var d time.Duration
	for _, s := range steps {
		d += s.Pause
	}
	return d
}
