package rollout

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

// One engine, two drivers. A run's progress is a small serializable value
// (Progress), and one call (Advance) moves it on: it observes, decides and
// writes until the run must wait, and says for how long. Drive, the in-apply
// driver, loops Advance on the Runner's clock; a detached driver (the
// orchestrator Lambda) makes one call per invocation and carries the
// progress between them, with Step Functions doing the waiting. There is
// no second implementation of gates, rollback or the write path.

// Phase is where a run is in its schedule.
type Phase string

// The phases of a run, in order for each step; a failed gate goes to
// PhaseSwitchOff or PhaseBack (rolling back), and every run ends in
// PhaseDone.
const (
	PhaseHealth       Phase = "health"        // before a shift: waiting for healthy targets
	PhaseAlarms       Phase = "alarms"        // before a shift
	PhaseBeforeHook   Phase = "before_shift"  // before a shift
	PhaseWrite        Phase = "write"         // the shift
	PhasePause        Phase = "pause"         // polling health and alarms
	PhaseMetricsDelay Phase = "metrics_delay" // waiting for CloudWatch to publish the pause
	PhaseMetrics      Phase = "metrics"       // the pause's metrics, one gaining part at a time
	PhaseAfterHook    Phase = "after_pause"   // after the pause
	PhaseHold         Phase = "hold"          // stopped after a hold step, until promoted
	PhaseSwitchOff    Phase = "switch_off"    // rolling back by switching flags off
	PhaseBack         Phase = "back"          // rolling back by moving traffic
	PhaseDone         Phase = "done"
)

// Progress is where a run is. It holds what the run needs to go on, and
// nothing that can be read again: it is carried by a Step Functions
// execution, whose payloads are bounded.
type Progress struct {
	From    weights.Split `json:"from"`
	Steps   Schedule      `json:"steps"`
	Gaining []string      `json:"gaining,omitempty"`
	Phase   Phase         `json:"phase"`
	// Step is the step being worked on, from 1.
	Step int `json:"step"`
	// Since is when the health gate started waiting.
	Since time.Time `json:"since,omitzero"`
	// PauseStart and WindowEnd bound the current step's metrics window;
	// PauseLeft is what remains of its pause.
	PauseStart   time.Time     `json:"pause_start,omitzero"`
	WindowEnd    time.Time     `json:"window_end,omitzero"`
	PauseLeft    time.Duration `json:"pause_left,omitempty"`
	MetricsIndex int           `json:"metrics_index,omitempty"`
	// Before is what the current step moved from (hook payloads).
	Before weights.Split `json:"before,omitempty"`
	// ReadFailures are each gate's failed reads in a row.
	ReadFailures ReadFailures `json:"gate_read_failures,omitempty"`
	// OldReadFailures is the one count of failed reads in a row that a
	// progress written before gates counted their own carries: Advance
	// counts it for every gate, once.
	OldReadFailures int `json:"read_failures,omitempty"`
	// Rest is the Rest of the run's first reading (a flag's document
	// without its percentage): a change of it is someone else's.
	Rest *string `json:"rest,omitempty"`
	// Back is the rollback's plan, BackIndex its next step; BackWaited is
	// true when a gradual rollback has waited before that step; Hurry
	// finishes a rollback at once (Ctrl-C, the deadline).
	Back        Schedule `json:"back,omitempty"`
	BackIndex   int      `json:"back_index,omitempty"`
	BackWaited  bool     `json:"back_waited,omitempty"`
	BackGaining []string `json:"back_gaining,omitempty"`
	// BackFrom is what the rollback started from (its notices' before).
	BackFrom weights.Split `json:"back_from,omitempty"`
	Hurry    bool          `json:"hurry,omitempty"`
	Res      Result        `json:"result"`
	// Sent counts the notices of the run so far (their seq).
	Sent int `json:"sent,omitempty"`
	// Refusals counts the writes after the hold AWS refused in a row
	// (refusedAfterHold), until a write is made: above 0, a try again
	// sends no second promoted notice. RetryAt is when a timed-out hold
	// whose action is promote tries the write again (refusedBackoff).
	Refusals int       `json:"refusals,omitempty"`
	RetryAt  time.Time `json:"retry_at,omitzero"`
	// OldRefused is the refused state (1 or 2) a progress of job version
	// 2 or older carries beside Refusals (or, older, without it): Advance
	// reads it as one refusal at least, once.
	OldRefused int `json:"refused,omitempty"`
}

// MaxProgressBytes bounds a Progress as JSON. A Step Functions execution
// carries it between invocations, and a state's input or output may be at
// most 256 KiB; the schedule checks keep a run's progress far below this
// bound, so that the rest of the payload (the subject, the settings) fits.
const MaxProgressBytes = 32 * 1024

// Start is the progress of a run from `from` through steps.
func (r *Runner) Start(from weights.Split, steps []PlannedStep) *Progress {
	p := &Progress{From: from, Steps: steps, Phase: PhaseHealth, Step: 1,
		Res: Result{Status: Succeeded, Steps: len(steps), Current: from, Started: startedAt(r.Clock.Now())}}
	if len(steps) == 0 {
		p.Phase = PhaseDone
		return p
	}
	p.Gaining = Gaining(from, steps[len(steps)-1].Weights)
	r.log("rollout starting", "from", from.String(), "to", steps[len(steps)-1].Weights.String(), "steps", len(steps), "gaining", strings.Join(p.Gaining, ","))
	r.notify(context.Background(), p, NoticeStarted, 0, from)
	return p
}

// startedAt is a run's started_at: to the second, as last_rollout records
// it, so that a run resumed from that record (a promoted hold) has the same
// started_at in its notices after its hold as before.
func startedAt(t time.Time) time.Time { return t.Truncate(time.Second) }

// Resume is the progress of a run that was held after step held of steps
// (from 1), promoted: the gates are checked again before the next step,
// and a rollback goes back to from, where the run first started.
func (r *Runner) Resume(from weights.Split, steps []PlannedStep, held int, started time.Time) *Progress {
	p := heldProgress(from, steps, held, started)
	r.log("rollout promoted after its hold", "step", held, "of", len(steps))
	r.notify(context.Background(), p, NoticePromoted, held, p.Res.Current)
	return p
}

// Expire is the progress of a run held after step held of steps whose
// hold was not promoted within timeout, and whose hold action is to roll
// back: it fails the hold gate, and Drive rolls back to from.
func (r *Runner) Expire(ctx context.Context, from weights.Split, steps []PlannedStep, held int, started time.Time, timeout time.Duration) *Progress {
	p := heldProgress(from, steps, held, started)
	p.Res.HeldAt = started
	r.fail(ctx, p, &Failure{Gate: GateHold, Step: held, Reason: fmt.Sprintf("the hold after step %d was not promoted within %s", held, timeout)})
	return p
}

func heldProgress(from weights.Split, steps []PlannedStep, held int, started time.Time) *Progress {
	last := steps[len(steps)-1].Weights
	p := &Progress{From: from, Steps: steps, Gaining: Gaining(from, last), Phase: PhaseHealth, Step: held + 1,
		Res: Result{Status: Succeeded, Steps: len(steps), StepReached: held, Current: steps[held-1].Weights, Started: started}}
	p.Before = p.Res.Current
	// The notices from here go on from those the run sent before its hold.
	p.Sent = sentAtHold(steps, held)
	return p
}

// sentAtHold counts the notices a run sent until it held after step held
// of steps: started, one for each step up to the held one (step_completed,
// or held), and promoted for each hold before it (a run passes an earlier
// hold only when promoted).
func sentAtHold(steps []PlannedStep, held int) int {
	n := 1 + held
	for i := 0; i < held-1 && i < len(steps); i++ {
		if steps[i].Hold {
			n++
		}
	}
	return n
}

// Done reports whether the run has ended.
func (p *Progress) Done() bool { return p.Phase == PhaseDone }

// RollingBack reports whether the run is rolling back: a wait then may be
// cut short (Ctrl-C, the deadline), never the rollback.
func (p *Progress) RollingBack() bool { return p.Phase == PhaseBack || p.Phase == PhaseSwitchOff }

// writes reports whether the phase's work may write to AWS.
func (p *Progress) writes() bool {
	return p.Phase == PhaseWrite || p.Phase == PhaseBack || p.Phase == PhaseSwitchOff
}

// Result is how the run ended (or stands).
func (p *Progress) Result() Result { return p.Res }

// Drive runs a progress to its end, waiting on the Runner's clock: the
// in-apply driver. A Ctrl-C stops a run where it is, and the deadline rolls
// it back; neither cuts a rollback short.
func (r *Runner) Drive(ctx context.Context, p *Progress) Result {
	for {
		wait, done := r.Advance(ctx, p)
		if done {
			p.Res.Finished, p.Res.sent = r.Clock.Now(), p.Sent
			return p.Res
		}
		if wait <= 0 {
			continue
		}
		if p.RollingBack() {
			if err := r.Clock.Sleep(ctx, wait); err != nil {
				p.Hurry = true
			}
			continue
		}
		if r.Idle != nil {
			r.Idle(ctx)
		}
		if err := r.sleep(ctx, wait); err != nil {
			r.end(ctx, p, err)
		}
	}
}

// Advance moves the run on until it must wait, and returns how long, or
// true when it has ended. It never waits itself, but for a write not yet
// visible (a few seconds of confirmation back-off). A Repeatable runner
// also returns, with no wait, after each write.
func (r *Runner) Advance(ctx context.Context, p *Progress) (time.Duration, bool) {
	r.readFailures, r.rest = maps.Clone(p.ReadFailures), p.Rest
	if n := p.OldReadFailures; n > 0 {
		r.readFailures = ReadFailures{GateHealth: n, GateAlarm: n, GateMetrics: n, GateHook: n}
		p.OldReadFailures = 0
	}
	if p.OldRefused > 0 {
		p.Refusals = max(p.Refusals, 1)
		p.OldRefused = 0
	}
	defer func() { p.ReadFailures, p.Rest = maps.Clone(r.readFailures), r.rest }()
	for first := true; !p.Done(); first = false {
		if r.Repeatable && !first && p.writes() {
			// A write starts a call of its own, from a progress that
			// says it is to be made: a repeat of that call makes the
			// same write (found made), never a different one.
			return 0, false
		}
		if !p.RollingBack() && r.pastDeadline() {
			r.fail(ctx, p, r.timedOut(p))
			continue
		}
		r.wrote = false
		wait, err := r.advance(ctx, p)
		if err != nil {
			r.end(ctx, p, err)
			continue
		}
		if r.Repeatable && r.wrote && !p.Done() && wait <= 0 {
			// One write per call: a repeat of this call finds it made.
			return 0, false
		}
		if wait <= 0 {
			continue
		}
		// A wait ends at the deadline, so that both drivers roll back
		// there; a rollback's waits are not cut.
		if left := r.Deadline.Sub(r.Clock.Now()); !p.RollingBack() && !r.Deadline.IsZero() && wait > left {
			wait = left
		}
		if wait > 0 {
			return wait, false
		}
	}
	return 0, true
}

// Fail rolls the run back because of f (an abort, the orchestrator's
// recovery), by the rollback policy, from wherever it is. A run that is
// rolling back or has ended is left to finish as it is.
func (r *Runner) Fail(ctx context.Context, p *Progress, f *Failure) {
	if p.Done() || p.RollingBack() {
		return
	}
	if f.Step == 0 {
		f.Step = p.Res.StepReached
	}
	r.fail(ctx, p, f)
}

// Stop ends the run where it is because of f, writing nothing more (the
// subject's lease was taken by another owner: the other owner wins, as
// any change by someone else does). It sends the run's end notice:
// changed_during_rollout for a GateChanged failure, failed otherwise.
func (r *Runner) Stop(p *Progress, f *Failure) {
	if p.Done() {
		return
	}
	if f.Step == 0 {
		f.Step = p.Res.StepReached
	}
	p.Res.Status, p.Res.Failure, p.Res.ErrText = Failed, f, f.Reason
	p.Res.Err = errors.New(f.Reason)
	p.Phase = PhaseDone
	r.log("rollout stopped; nothing more is written", "step", f.Step, "gate", string(f.Gate), "reason", f.Reason)
	t := NoticeFailed
	if f.Gate == GateChanged {
		t = NoticeChanged
	}
	r.notify(context.Background(), p, t, f.Step, p.Res.Current)
}

// end ends a run that cannot go on: the deadline rolls back, because
// nothing would watch the new weights; a cancel or an AWS error stops it
// where it is.
func (r *Runner) end(ctx context.Context, p *Progress, err error) {
	if errors.Is(err, ErrTimedOut) {
		r.fail(ctx, p, r.timedOut(p))
		return
	}
	p.Res.Status, p.Res.Err = Failed, err
	p.Res.ErrText = err.Error()
	p.Phase = PhaseDone
	r.log("rollout stopped", "step", p.Res.StepReached, "of", p.Res.Steps, "weights", p.Res.Current.String(), "error", err.Error())
	r.notify(context.WithoutCancel(ctx), p, NoticeFailed, p.Res.StepReached, p.Res.Current)
}

// hold is a held run's wait: without Promoted the run ends Held (a later
// run resumes it); with it, the run goes on when promoted, and takes
// HoldAction when HoldTimeout passes first.
func (r *Runner) hold(ctx context.Context, p *Progress, n int) (time.Duration, error) {
	if r.Promoted == nil {
		p.Res.Status, p.Phase = Held, PhaseDone
		return 0, nil
	}
	ok, err := r.Promoted(ctx)
	if err != nil {
		r.log("reading whether the hold was promoted failed; asking again at the next poll", "error", Bound(err.Error()))
	}
	waited := r.Clock.Now().Sub(p.Res.HeldAt)
	timedOut := r.HoldTimeout > 0 && waited >= r.HoldTimeout
	if !ok && timedOut && r.HoldAction == HoldPromote && p.Refusals > 0 {
		// The timeout's promote was refused: it is tried again at
		// RetryAt, not every poll; a promote given meanwhile is tried at
		// the next poll.
		if left := p.RetryAt.Sub(r.Clock.Now()); left > 0 {
			return min(r.poll(), left), nil
		}
	}
	if ok || (timedOut && r.HoldAction == HoldPromote) {
		p.Before = p.Res.Current
		p.Res.Err, p.Res.ErrText = nil, ""
		if p.Refusals == 0 {
			r.log("rollout promoted after its hold", "step", n, "of", len(p.Steps), "timeout", timedOut)
			r.notify(ctx, p, NoticePromoted, n, p.Res.Current)
		} else {
			r.log("trying the write after the hold again: AWS refused it before", "step", n+1, "of", len(p.Steps))
		}
		p.Step, p.Phase = n+1, PhaseHealth
		return 0, nil
	}
	if timedOut {
		r.fail(ctx, p, &Failure{Gate: GateHold, Step: n, Reason: fmt.Sprintf("the hold after step %d was not promoted within %s", n, r.HoldTimeout)})
		return 0, nil
	}
	wait := r.poll()
	if r.HoldTimeout > 0 {
		wait = min(wait, r.HoldTimeout-waited)
	}
	return wait, nil
}

// refusedAfterHold holds again a run whose first write after its hold
// (promoted) AWS refused: nothing moved, for certain, and the canary that
// passed its gates is where it was held. Rolling it back would undo a
// healthy canary for a refusal that changed nothing (and the same
// permission would likely refuse the rollback's writes). The run is held
// after step held again, its status says so, and no notice is sent (the
// promoted notice stands; a later promote sends it again, the same seq).
// The in-apply driver ends it Held with the error (res.Err), which the
// apply reports; the detached driver waits a poll (the wait returned),
// as after a gate read that failed, before it reads the promote again (a
// promote tag still there tries the write again).
func (r *Runner) refusedAfterHold(ctx context.Context, p *Progress, held int, err error) time.Duration {
	p.Res.Err, p.Res.ErrText = err, err.Error()
	p.Step, p.Phase = held, PhaseHold
	r.log("the first write after the hold was refused; nothing moved, and the rollout is held again where it was", "step", held, "of", len(p.Steps), "error", Bound(err.Error()))
	at := p.Res.HeldAt
	if at.IsZero() { // a resumed run: held in an earlier apply
		at = r.Clock.Now()
	}
	r.restate(context.WithoutCancel(ctx), p, NoticeHeld, held, at)
	if r.Promoted == nil {
		return 0
	}
	p.Refusals++
	p.RetryAt = r.Clock.Now().Add(r.refusedBackoff(p.Refusals))
	return r.poll()
}

// maxRefusedBackoff bounds the interval between two tries of a timed-out
// hold's promote that AWS refuses.
const maxRefusedBackoff = time.Hour

// refusedBackoff is how long a timed-out hold whose promote AWS refused n
// times in a row waits before it tries again: a poll, then twice as long
// each time, up to maxRefusedBackoff (or the poll, when longer). Each try
// is a write AWS refuses and the step's gates; a permission given later
// is used within that bound, without a person promoting again.
func (r *Runner) refusedBackoff(n int) time.Duration {
	d := r.poll()
	for i := 1; i < n && d < maxRefusedBackoff; i++ {
		d *= 2
	}
	return max(min(d, maxRefusedBackoff), r.poll())
}

// HoldPromote is the HoldAction that goes on when a hold times out.
const HoldPromote = "promote"

// advance does one phase's work: it moves p to the next phase, or returns
// how long to wait in this one.
func (r *Runner) advance(ctx context.Context, p *Progress) (time.Duration, error) {
	switch p.Phase {
	case PhaseBack:
		return r.back(ctx, p)
	case PhaseSwitchOff:
		r.switchOff(ctx, p)
		return 0, nil
	}
	n, total := p.Step, len(p.Steps)
	if n < 1 || n > total {
		return 0, fmt.Errorf("a run at step %d of %d", n, total)
	}
	st := p.Steps[n-1]
	to := func(next Phase) func() { return func() { p.Phase = next } }
	switch p.Phase {
	case PhaseHealth:
		return r.healthGate(ctx, p, n)
	case PhaseAlarms:
		return r.gate(ctx, p, func() (*Failure, bool, error) { return r.checkAlarms(ctx, n) }, to(PhaseBeforeHook))
	case PhaseBeforeHook:
		fn := r.Gates.BeforeShift
		if fn == "" {
			p.Phase = PhaseWrite
			return 0, nil
		}
		return r.gate(ctx, p, func() (*Failure, bool, error) {
			return r.hook(ctx, fn, HookPayload{SubjectID: r.SubjectID, SubjectKind: r.SubjectKind, SplitID: r.SubjectID, Phase: PhaseBeforeShift, Step: n, Steps: total,
				Percent: st.Percent, From: p.Res.Current.Map(), To: st.Weights.Map()}, n)
		}, to(PhaseWrite))
	case PhaseWrite:
		if r.Taken != nil {
			if why := r.Taken(ctx); why != "" {
				r.Stop(p, &Failure{Gate: GateChanged, Step: p.Res.StepReached, Reason: why})
				return 0, nil
			}
		}
		return r.shift(ctx, p, n, st)
	case PhaseHold:
		return r.hold(ctx, p, n)
	case PhasePause:
		return r.pause(ctx, p, n, st)
	case PhaseMetricsDelay:
		return r.metricsDelay(p, n, st), nil
	case PhaseMetrics:
		if p.MetricsIndex >= len(p.Gaining) {
			p.Phase = PhaseAfterHook
			return 0, nil
		}
		tg := p.Gaining[p.MetricsIndex]
		return r.gate(ctx, p, func() (*Failure, bool, error) {
			return r.checkMetrics(ctx, *r.Gates.Metrics, tg, p.PauseStart, p.WindowEnd, st.Pause, n)
		}, func() { p.MetricsIndex++ })
	case PhaseAfterHook:
		fn := r.Gates.AfterPause
		if fn == "" {
			r.stepPassed(ctx, p, n)
			return 0, nil
		}
		return r.gate(ctx, p, func() (*Failure, bool, error) {
			return r.hook(ctx, fn, HookPayload{SubjectID: r.SubjectID, SubjectKind: r.SubjectKind, SplitID: r.SubjectID, Phase: PhaseAfterPause, Step: n, Steps: total,
				Percent: st.Percent, From: p.Before.Map(), To: st.Weights.Map()}, n)
		}, func() { r.stepPassed(ctx, p, n) })
	}
	return 0, fmt.Errorf("a run in an unknown phase %q", p.Phase)
}

// healthGate waits, before step n's shift, for the health gate: polled
// until it passes or its timeout, with the alarms watched meanwhile.
func (r *Runner) healthGate(ctx context.Context, p *Progress, n int) (time.Duration, error) {
	g := r.Gates.Health
	if g == nil {
		p.Phase = PhaseAlarms
		return 0, nil
	}
	if p.Since.IsZero() {
		p.Since = r.Clock.Now()
	}
	f, retry, alarmed, err := r.watchedHealth(ctx, *g, p.Gaining, n)
	if alarmed {
		// The alarms decided; the health is read again if they pass.
		if f != nil {
			r.fail(ctx, p, f)
		}
		return 0, err
	}
	switch {
	case err != nil:
		return 0, err
	case retry:
		return r.poll(), nil
	case f == nil:
		p.Since, p.Phase = time.Time{}, PhaseAlarms
		return 0, nil
	}
	waited := r.Clock.Now().Sub(p.Since)
	if waited >= g.Timeout || f.Unreadable {
		if g.Timeout > 0 && !f.Unreadable {
			f.Reason += fmt.Sprintf(" after waiting %s", g.Timeout)
		}
		r.fail(ctx, p, f)
		return 0, nil
	}
	r.log("rollout waiting for healthy targets", "step", n, "reason", f.Reason)
	return min(r.poll(), g.Timeout-waited), nil
}

// pause is step n's pause: health and alarms polled, for the pause's
// time on the clock since the step's write, however long the reads
// during it took (their turn in a busy API budget).
func (r *Runner) pause(ctx context.Context, p *Progress, n int, st PlannedStep) (time.Duration, error) {
	f, err := r.pollGates(ctx, p, n)
	switch {
	case err != nil:
		return 0, err
	case f != nil:
		r.fail(ctx, p, f)
		return 0, nil
	}
	if left := st.Pause - r.Clock.Now().Sub(p.PauseStart); left > 0 {
		d := min(r.poll(), left)
		p.PauseLeft = left - d
		return d, nil
	}
	p.Phase = PhaseMetricsDelay
	return 0, nil
}

// metricsDelay ends step n's pause window for the metrics gate and waits
// for CloudWatch to publish its last minutes.
func (r *Runner) metricsDelay(p *Progress, n int, st PlannedStep) time.Duration {
	g := r.Gates.Metrics
	if g == nil || st.Pause <= 0 {
		p.Phase = PhaseAfterHook
		return 0
	}
	p.WindowEnd, p.MetricsIndex, p.Phase = r.Clock.Now(), 0, PhaseMetrics
	if g.Delay > 0 {
		r.log("rollout waiting for CloudWatch to publish the pause's metrics", "step", n, "delay", g.Delay.String())
		return g.Delay
	}
	return 0
}

// stepPassed ends step n, whose gates passed: the next step, or the run's
// success.
func (r *Runner) stepPassed(ctx context.Context, p *Progress, n int) {
	total := len(p.Steps)
	r.log("rollout step passed its gates", "step", n, "of", total)
	r.notify(ctx, p, NoticeStepCompleted, n, p.Before)
	if n == total {
		p.Phase = PhaseDone
		r.log("rollout succeeded", "weights", p.Res.Current.String(), "steps", total)
		if !r.Stabilizes { // else Stabilize says how the run ended
			r.notify(ctx, p, NoticeSucceeded, n, p.From)
		}
		return
	}
	p.Step, p.Phase = n+1, PhaseHealth
}

// gate runs a check before a shift or after a pause: a read that failed is
// tried again a poll interval later; a failure rolls back; a pass calls
// pass (the next phase, or the next target group's metrics).
func (r *Runner) gate(ctx context.Context, p *Progress, check func() (*Failure, bool, error), pass func()) (time.Duration, error) {
	f, retry, err := check()
	switch {
	case err != nil:
		return 0, err
	case retry:
		return r.poll(), nil
	case f != nil:
		r.fail(ctx, p, f)
		return 0, nil
	}
	pass()
	return 0, nil
}

// pollGates checks health and alarms during a pause. A read that fails is
// tried again at the next poll.
func (r *Runner) pollGates(ctx context.Context, p *Progress, n int) (*Failure, error) {
	// Alarms first: their reading is shared by every rollout of the
	// provider and cheap, while a health read may wait for its turn in the
	// API budget; an alarm in ALARM rolls back without that wait.
	f, _, err := r.checkAlarms(ctx, n)
	if f != nil || err != nil {
		return f, err
	}
	if g := r.Gates.Health; g != nil {
		f, _, _, err := r.watchedHealth(ctx, *g, p.Gaining, n)
		return f, err
	}
	return nil, nil
}

// watchedHealth reads the health gate while the run's alarms are watched:
// an alarm that goes into ALARM while the read waits for its turn cuts it
// short, and the alarms decide instead (alarmed), not after that wait.
func (r *Runner) watchedHealth(ctx context.Context, g HealthGate, tgs []string, n int) (f *Failure, retryLater, alarmed bool, err error) {
	hctx, stop := r.watchAlarms(ctx)
	f, retryLater, err = r.checkHealth(hctx, g, tgs, n)
	if stop() && ctx.Err() == nil {
		f, _, err = r.checkAlarms(ctx, n)
		return f, false, true, err
	}
	return f, retryLater, false, err
}

// watchAlarms watches the run's alarms, when its alarm reader can, while
// a read under ctx waits: an alarm in ALARM cancels the read. stop ends
// the watch and reports whether it cancelled the read.
func (r *Runner) watchAlarms(ctx context.Context) (context.Context, func() bool) {
	wctx, cancel := context.WithCancel(ctx)
	stop := r.watchAlarmsThen(wctx, cancel)
	return wctx, func() bool { fired := stop(); cancel(); return fired }
}

// watchAlarmsThen watches the run's alarms, when its alarm reader can,
// and calls then once one is in ALARM. stop ends the watch and reports
// whether it fired.
func (r *Runner) watchAlarmsThen(ctx context.Context, then func()) func() bool {
	w, ok := r.Observe.Alarms.(AlarmWatcher)
	if !ok || len(r.Gates.Alarms) == 0 {
		return func() bool { return false }
	}
	var fired atomic.Bool
	end := w.WatchAlarms(ctx, r.Gates.Alarms, r.poll(), func() { fired.Store(true); then() })
	return func() bool { end(); return fired.Load() }
}

// shift makes step n's write, through the one write path.
func (r *Runner) shift(ctx context.Context, p *Progress, n int, st PlannedStep) (time.Duration, error) {
	// While the step is written (its turn in a busy budget, the guard's
	// read, the read-back), its alarms are watched: once one fires, what is
	// left of the write goes at once, and the alarm is judged right after,
	// not after the pause's first wait.
	ectx, escalate := Escalatable(ctx)
	stopWatch := r.watchAlarmsThen(ctx, escalate)
	cctx, cancel := r.callCtx(ectx)
	got, err := r.move(cctx, []weights.Split{p.Res.Current}, st.Weights)
	cancel()
	alarmed := stopWatch()
	if err != nil {
		if ce := (*ChangedError)(nil); errors.As(err, &ce) {
			r.changed(ctx, p, n, ce)
			return 0, nil
		}
		f := &Failure{Gate: GateApply, Step: n, Reason: err.Error()}
		if errors.Is(err, ErrUnknownWeights) || r.pastDeadline() {
			p.Res.Unknown, p.Res.Pending = true, st.Weights
		}
		if !p.Res.Unknown && n > 1 && p.Steps[n-2].Hold && p.Res.StepReached == n-1 {
			return r.refusedAfterHold(ctx, p, n-1, err), nil
		}
		if n == 1 && !p.Res.Unknown {
			// Nothing moved, for certain: the run ends failed, and says so.
			p.Res.Status, p.Res.Failure, p.Res.Err, p.Res.ErrText = Failed, f, err, err.Error()
			p.Phase = PhaseDone
			r.notify(context.WithoutCancel(ctx), p, NoticeFailed, n, p.Res.Current)
			return 0, nil
		}
		r.fail(ctx, p, f)
		return 0, nil
	}
	p.Before = p.Res.Current
	p.Res.Current, p.Res.StepReached, p.Refusals, p.RetryAt = got, n, 0, time.Time{}
	r.log("rollout step applied", "step", n, "of", len(p.Steps), "percent", st.Percent, "weights", st.Weights.String(), "pause", st.Pause.String())
	p.PauseStart = r.Clock.Now()
	if st.Hold {
		p.Phase, p.Res.HeldAt = PhaseHold, r.Clock.Now()
		r.log("rollout held after its step; it goes on when promoted", "step", n, "of", len(p.Steps))
		r.notify(ctx, p, NoticeHeld, n, p.Before)
		return 0, nil
	}
	if st.Pause > 0 {
		d := min(r.poll(), st.Pause)
		if alarmed {
			d = 0 // the pause's first poll reads the alarm now
		}
		p.PauseLeft, p.Phase = st.Pause-d, PhasePause
		return d, nil
	}
	p.Phase = PhaseMetricsDelay
	return 0, nil
}

// changed ends a run that found the subject changed by someone else: the
// other change wins. Nothing more is written, not even a rollback, and the
// result records what the subject serves now.
func (r *Runner) changed(ctx context.Context, p *Progress, n int, ce *ChangedError) {
	p.Res.Status, p.Res.Err, p.Res.ErrText = Failed, ce, ce.Error()
	p.Res.Failure = &Failure{Gate: GateChanged, Step: n, Reason: Bound(ce.Error())}
	p.Res.Current, p.Res.Unknown, p.Res.Pending = ce.Found, false, nil
	p.Phase = PhaseDone
	r.log("rollout stopped: the subject was changed by someone else; nothing more is written", "step", n, "found", ce.Found.String(), "expected", ce.Expected.String())
	r.notify(context.WithoutCancel(ctx), p, NoticeChanged, n, ce.Expected)
}
