package rollout

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rolloutdev/terraform-provider-rollout/internal/clock"
	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

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
	// Router reads and writes what the subject serves; Observe reads its
	// gates. The provider implements both on AWS; tests script them.
	Router       Router
	Observe      Observers
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
	// Primed, when set, is a reading of the subject taken just before the
	// run (the pipeline's read before write): the first write starts from
	// it when it is at most PrimedMaxAge old, instead of reading again.
	Primed *Reading

	readFailures int
	// rest is the Rest of the run's first reading: a change of it is
	// someone else's.
	rest *string
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
	// Unread is true when what the subject serves could not be read after
	// the run: Current is the last split confirmed, and someone may have
	// changed it since.
	Unread bool
	// SwitchedOff names the flags a feature_flag or kill_switch rollback
	// switched off.
	SwitchedOff string
	// SwitchOffErr is why switching the flags off failed, when the
	// rollback then moved traffic back instead.
	SwitchOffErr      error
	Started, Finished time.Time

	// pending is the split of a write whose outcome is unknown (Unknown):
	// the subject may serve it or Current.
	pending weights.Split
}

// Summary is one sentence on how the run ended.
func (r Result) Summary() string {
	switch r.Status {
	case Succeeded:
		return fmt.Sprintf("all %d steps applied", r.Steps)
	case Failed:
		if r.Failure != nil && r.Failure.Gate == GateChanged {
			return fmt.Sprintf("stopped at step %d of %d: changed during the rollout by someone or something else (%s); nothing more was written, and it serves %s", r.failedStep(), r.Steps, r.Failure.Reason, r.Current.Short())
		}
		if r.Policy == None && r.Failure != nil {
			return fmt.Sprintf("step %d of %d failed the %s gate: %s; not rolled back (rollback none), left at %s", r.failedStep(), r.Steps, r.Failure.Gate, r.Failure.Reason, r.Current.Short())
		}
	case RolledBack:
		if r.SwitchedOff != "" {
			return fmt.Sprintf("step %d of %d failed the %s gate: %s; switched off %s (%s) and left traffic at %s", r.failedStep(), r.Steps, r.Failure.Gate, r.Failure.Reason, r.SwitchedOff, r.Policy, r.Current.Short())
		}
		if r.SwitchOffErr != nil {
			return fmt.Sprintf("step %d of %d failed the %s gate: %s; could not switch the flags off (%v), so rolled back (%s) to %s", r.failedStep(), r.Steps, r.Failure.Gate, r.Failure.Reason, r.SwitchOffErr, r.Policy, r.Current.Short())
		}
		return fmt.Sprintf("step %d of %d failed the %s gate: %s; rolled back (%s) to %s", r.failedStep(), r.Steps, r.Failure.Gate, r.Failure.Reason, r.Policy, r.Current.Short())
	}
	if r.Failure != nil {
		return fmt.Sprintf("step %d of %d failed the %s gate: %s; the rollback stopped: %v; it serves %s", r.failedStep(), r.Steps, r.Failure.Gate, r.Failure.Reason, r.Err, r.Current.Short())
	}
	return fmt.Sprintf("stopped at step %d of %d: %v; it serves %s", r.StepReached, r.Steps, r.Err, r.Current.Short())
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

// Run takes the subject from `from` through steps. It never returns with
// the subject at a split that is not one of from, a step or a rollback step,
// unless someone else changed it (GateChanged), and then it wrote nothing
// after seeing that.
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
		got, err := r.move(cctx, []weights.Split{res.Current}, st.Weights)
		cancel()
		if err != nil {
			if ce := (*ChangedError)(nil); errors.As(err, &ce) {
				return r.changed(res, n, ce)
			}
			f := &Failure{Gate: GateApply, Step: n, Reason: err.Error()}
			if errors.Is(err, ErrUnknownWeights) || r.pastDeadline() {
				res.Unknown, res.pending = true, st.Weights
			}
			if n == 1 && !res.Unknown {
				res.Status, res.Failure, res.Err = Failed, f, err
				return res
			}
			return r.rollback(ctx, res, from, f)
		}
		before := res.Current
		res.Current, res.StepReached = got, n
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

// changed ends a run that found the subject changed by someone else: the
// other change wins. Nothing more is written, not even a rollback, and the
// result records what the subject serves now.
func (r *Runner) changed(res Result, n int, ce *ChangedError) Result {
	res.Status, res.Err = Failed, ce
	res.Failure = &Failure{Gate: GateChanged, Step: n, Reason: Bound(ce.Error())}
	res.Current, res.Unknown, res.pending = ce.Found, false, nil
	r.log("rollout stopped: the subject was changed by someone else; nothing more is written", "step", n, "found", ce.Found.String(), "expected", ce.Expected.String())
	return res
}

// expected is what the subject may serve when the next write starts: what
// the last write left, and what an unconfirmed write wanted.
func (res Result) expected() []weights.Split {
	if res.Unknown && res.pending != nil {
		return []weights.Split{res.Current, res.pending}
	}
	return []weights.Split{res.Current}
}

// stopped ends a run that cannot go on (cancelled, timed out, AWS error):
// the listener stays at the last confirmed step.
func (r *Runner) stopped(res Result, err error) Result {
	res.Status, res.Err = Failed, err
	r.log("rollout stopped", "step", res.StepReached, "of", res.Steps, "weights", res.Current.String(), "error", err.Error())
	return res
}

// TotalPause is the sum of the pauses of a schedule.
func TotalPause(steps []PlannedStep) time.Duration {
	var d time.Duration
	for _, s := range steps {
		d += s.Pause
	}
	return d
}
