package rollout

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
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
	// Held is a run stopped after a hold step, waiting to be promoted.
	Held Status = "held"
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
	Router  Router
	Observe Observers
	Clock   clock.Clock
	// Settings are the rollout's configuration (gates, poll interval,
	// rollback policy, holds; Flags, Topic and Bus are the driver's, which
	// makes SwitchOff and Notify of them).
	Settings
	// Deadline, by Clock, after which the run stops where it is; zero means
	// none.
	Deadline time.Time
	// DeadlineReason is the reason of the failure the deadline makes
	// (empty: "the apply reached its timeout", the in-apply driver's).
	DeadlineReason string
	// SubjectID and SubjectKind name what moves, in logs and hook payloads.
	SubjectID   string
	SubjectKind string
	Log         func(Event)
	// MaxReadFailures is how many reads in a row of one gate may fail
	// (each after the SDK's own retries) before the gate counts as failed
	// and the rollout rolls back; zero means DefaultMaxReadFailures. Each
	// gate counts its own (ReadFailures). A failed read is tried again at
	// the next poll.
	MaxReadFailures int
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
	// Repeatable is set by a driver whose calls may be repeated after a
	// lost answer or a crash (the orchestrator under Step Functions'
	// Retry). Each call then makes at most one write (Advance returns
	// after it), and a write that finds the subject already serving what
	// it would write takes it as made: the repeat never takes a step twice
	// and never mistakes its own earlier write for someone else's.
	Repeatable bool
	// Notify, when set, delivers the run's notices (notice.go). It must
	// not block a rollback: a driver's Notify queues, or bounds its time.
	Notify func(ctx context.Context, n Notice) error
	// Execution labels the notices of a detached rollout.
	Execution string
	// Promoted, when set, is asked during a hold whether to go on (a
	// detached run: the orchestrator watches the hold). Without it a run
	// ends at a hold, Held, and a later run resumes it (Resume).
	Promoted func(ctx context.Context) (bool, error)
	// Taken, when set, is asked before each step's write whether the
	// subject's lease was taken by another owner (or the subject is
	// gone), and says so; the run then stops where it is (Stop), writing
	// nothing more: the other owner wins, as any change by someone else
	// does. "" goes on (a read that failed too: the guard's read before
	// the write decides whether AWS can be reached).
	Taken func(ctx context.Context) string
	// Status, when set, is told every notice as it happens, before Notify
	// (the subject's status tag: awsclient.StatusKeeper). It must not
	// fail the run.
	Status func(ctx context.Context, n Notice)
	// Idle, when set, is called before the run waits (never while it rolls
	// back): a Status hook that keeps the latest notice writes it then, so
	// a run that does not wait writes its status once, at its end (the
	// driver's).
	Idle func(ctx context.Context)
	// Stabilizes is set when a run that succeeds is then watched by
	// Stabilize (a release's service): the run's end, succeeded or not, is
	// Stabilize's to say, so the run sends one end notice whichever way
	// the watch ends.
	Stabilizes bool
	// Primed, when set, is a reading of the subject taken just before the
	// run (the pipeline's read before write): the first write starts from
	// it when it is at most PrimedMaxAge old, instead of reading again.
	Primed *Reading

	readFailures ReadFailures
	// rest is the Rest of the run's first reading: a change of it is
	// someone else's.
	rest *string
	// wrote is set by move when a write was made (or found made).
	wrote bool
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

// Result says how a run ended (or, while it runs, stands) and what the
// subject serves. It is part of a run's Progress, so it serializes: errors
// travel as text (ErrText), and Err, when set, is the error itself.
type Result struct {
	Status Status `json:"status"`
	// Staggered is how long the start waited for its place among the
	// rollouts running at once (the driver's, not the engine's).
	Staggered time.Duration `json:"staggered,omitempty"`
	// StepReached is the last step applied, from 1; 0 when none was.
	StepReached int `json:"step_reached"`
	Steps       int `json:"steps"`
	// Current is the split the subject serves, as last confirmed.
	Current weights.Split `json:"current"`
	Failure *Failure      `json:"failure,omitempty"`
	// Policy is the rollback used, when there was one.
	Policy Policy `json:"policy,omitempty"`
	// RollbackSteps are the splits applied while rolling back, in order.
	RollbackSteps Splits `json:"rollback_steps,omitempty"`
	// Err is set when the run stopped without a gate failing: cancelled,
	// timed out, or an AWS error. ErrText is its text.
	Err     error  `json:"-"`
	ErrText string `json:"err,omitempty"`
	// Unknown is true when a write may have landed without being
	// confirmed and no later write was: Current is then the last split
	// confirmed, and the subject may serve Pending instead.
	Unknown bool          `json:"unknown,omitempty"`
	Pending weights.Split `json:"pending,omitempty"`
	// Unread is true when what the subject serves could not be read after
	// the run: Current is the last split confirmed, and someone may have
	// changed it since.
	Unread bool `json:"unread,omitempty"`
	// SwitchedOff names the flags a feature_flag or kill_switch rollback
	// switched off.
	SwitchedOff string `json:"switched_off,omitempty"`
	// NotifyFailures counts the notices that could not be delivered.
	NotifyFailures int `json:"notify_failures,omitempty"`
	// HeldAt is when a held run stopped at its hold.
	HeldAt time.Time `json:"held_at,omitzero"`
	// SwitchOffErr is why switching the flags off failed, when the
	// rollback then moved traffic back instead.
	SwitchOffErr     error     `json:"-"`
	SwitchOffErrText string    `json:"switch_off_err,omitempty"`
	Started          time.Time `json:"started"`
	Finished         time.Time `json:"finished,omitzero"`
	// sent is how many notices the run sent (the in-apply driver's): a
	// rollback or a stabilization after it numbers its own from there.
	sent int
}

// Summary is one sentence on how the run ended.
func (r Result) Summary() string {
	switch r.Status {
	case Succeeded:
		return fmt.Sprintf("all %d steps applied", r.Steps)
	case Held:
		return fmt.Sprintf("held after step %d of %d at %s, until promoted", r.StepReached, r.Steps, r.Current.Short())
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
		if r.SwitchOffErrText != "" {
			return fmt.Sprintf("step %d of %d failed the %s gate: %s; could not switch the flags off (%s), so rolled back (%s) to %s", r.failedStep(), r.Steps, r.Failure.Gate, r.Failure.Reason, r.SwitchOffErrText, r.Policy, r.Current.Short())
		}
		return fmt.Sprintf("step %d of %d failed the %s gate: %s; rolled back (%s) to %s", r.failedStep(), r.Steps, r.Failure.Gate, r.Failure.Reason, r.Policy, r.Current.Short())
	}
	if r.Failure != nil {
		return fmt.Sprintf("step %d of %d failed the %s gate: %s; the rollback stopped: %s; it serves %s", r.failedStep(), r.Steps, r.Failure.Gate, r.Failure.Reason, r.ErrText, r.Current.Short())
	}
	return fmt.Sprintf("stopped at step %d of %d: %s; it serves %s", r.StepReached, r.Steps, r.ErrText, r.Current.Short())
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
	r.readFailures = nil
	return r.Drive(ctx, r.Start(from, steps))
}

// callCtx is the context of one AWS call or hook: done at the deadline,
// by the Runner's clock.
func (r *Runner) callCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	if r.Deadline.IsZero() {
		return context.WithCancel(ctx)
	}
	return r.Clock.WithDeadline(ctx, r.Deadline)
}

// timedOut is the failure the deadline makes.
func (r *Runner) timedOut(p *Progress) *Failure {
	why := r.DeadlineReason
	if why == "" {
		why = "the apply reached its timeout"
	}
	return &Failure{Gate: GateTimeout, Step: p.Res.StepReached, Reason: why}
}

func (r *Runner) pastDeadline() bool {
	return !r.Deadline.IsZero() && !r.Clock.Now().Before(r.Deadline)
}

// expected is what the subject may serve when the next write starts: what
// the last write left, and what an unconfirmed write wanted.
func (res Result) expected() []weights.Split {
	if res.Unknown && res.Pending != nil {
		return []weights.Split{res.Current, res.Pending}
	}
	return []weights.Split{res.Current}
}

// TotalPause is the sum of the pauses of a schedule.
func TotalPause(steps []PlannedStep) time.Duration {
	var d time.Duration
	for _, s := range steps {
		d += s.Pause
	}
	return d
}

type urgentKey struct{}

// Urgent marks a context whose AWS requests must not wait behind others
// (a rollback's): a pacer lets them through at once.
func Urgent(ctx context.Context) context.Context { return context.WithValue(ctx, urgentKey{}, true) }

// IsUrgent reports whether ctx was marked Urgent, or escalated since.
func IsUrgent(ctx context.Context) bool {
	switch v := ctx.Value(urgentKey{}).(type) {
	case bool:
		return v
	case *atomic.Bool:
		return v.Load()
	}
	return false
}

// Escalatable is a context whose AWS requests become urgent once escalate
// is called (a step's write during which its alarm fired: what is left of
// it goes at once, and the rollback after it).
func Escalatable(ctx context.Context) (context.Context, func()) {
	if IsUrgent(ctx) {
		return ctx, func() {}
	}
	var u atomic.Bool
	return context.WithValue(ctx, urgentKey{}, &u), func() { u.Store(true) }
}
