package rollout

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

// fail starts taking the subject back from p.Res.Current to p.From, by the
// policy, because of f. Once started a rollback finishes: every step runs on
// a live context (live), so a cancel or the deadline cannot cut it short,
// and a gradual rollback then jumps to its last step instead of pausing.
// Every request of a rollback is urgent (Urgent): its writes, the guard's
// reads, a gradual rollback's health read between steps, the flags it
// switches off; none waits behind other rollouts' in the API budget.
// Before each write the subject must still serve what the rollout left: a
// change by someone else stops the rollback with nothing written over it.
func (r *Runner) fail(ctx context.Context, p *Progress, f *Failure) {
	res := &p.Res
	res.Failure = f
	if r.Hold {
		res.Status, res.Policy = Failed, None
		p.Phase = PhaseDone
		r.log("rollout gate failed; holding where it is (no rollback)", "step", f.Step, "gate", string(f.Gate), "reason", f.Reason, "weights", res.Current.String())
		r.notify(context.WithoutCancel(ctx), p, NoticeGateFailed, f.Step, res.Current)
		r.notify(context.WithoutCancel(ctx), p, NoticeFailed, f.Step, res.Current)
		return
	}
	res.Policy = DecideWithFlags(r.Policy, *f, r.SwitchOff != nil)
	if (res.Policy == FeatureFlag || res.Policy == KillSwitch) && (r.SwitchOff == nil || res.Unknown) {
		res.Policy = Immediate
	}
	p.BackFrom = res.Current
	r.notify(context.WithoutCancel(ctx), p, NoticeGateFailed, f.Step, res.Current)
	r.log("rollout gate failed; rolling back", "step", f.Step, "gate", string(f.Gate), "reason", f.Reason, "policy", string(res.Policy))
	if res.Policy == FeatureFlag || res.Policy == KillSwitch {
		p.Phase = PhaseSwitchOff
		return
	}
	r.planBack(ctx, p)
}

// switchOff rolls back by switching flags off, leaving traffic where it
// is; when they cannot be, traffic moves back at once instead.
func (r *Runner) switchOff(ctx context.Context, p *Progress) {
	res := &p.Res
	lctx, cancel := r.live(ctx)
	what, err := r.SwitchOff(lctx)
	cancel()
	if err == nil {
		res.Status, res.SwitchedOff = RolledBack, what
		p.Phase = PhaseDone
		r.log("rollout rolled back by switching flags off; traffic left where it is", "flags", what, "weights", res.Current.String())
		r.notify(context.WithoutCancel(ctx), p, NoticeRolledBack, res.Failure.Step, p.BackFrom)
		return
	}
	// The flags could not be switched off: the canary must not keep
	// serving, so traffic moves back instead.
	res.SwitchOffErr, res.SwitchOffErrText, res.SwitchedOff = err, err.Error(), what
	r.log("switching the flags off failed; moving traffic back instead", "error", Bound(err.Error()))
	res.Policy = Immediate
	r.planBack(ctx, p)
}

// planBack plans the rollback by the result's policy and starts it.
func (r *Runner) planBack(ctx context.Context, p *Progress) {
	res := &p.Res
	plan, err := RollbackPlan(res.Current, p.From, res.Policy)
	if err != nil {
		res.Status, res.Err, res.ErrText = Failed, err, err.Error()
		p.Phase = PhaseDone
		r.log("the rollback could not be planned; the run stops where it is", "error", err.Error(), "weights", res.Current.String())
		r.notify(context.WithoutCancel(ctx), p, NoticeFailed, res.Failure.Step, res.Current)
		return
	}
	if res.Unknown {
		// A write may have landed unconfirmed: write the original weights
		// whatever the last confirmed split was.
		res.Policy = Immediate
		plan = []PlannedStep{{Percent: 100, Weights: p.From}}
	}
	p.Back, p.BackIndex, p.BackWaited = plan, 0, false
	p.BackGaining = Gaining(res.Current, p.From)
	p.Phase = PhaseBack
}

// back takes the rollback's next step: after a poll interval when it is
// gradual (and health, when gated, still holds), at once otherwise.
func (r *Runner) back(ctx context.Context, p *Progress) (time.Duration, error) {
	res := &p.Res
	j := p.BackIndex
	if j >= len(p.Back) {
		res.Status = RolledBack
		p.Phase = PhaseDone
		r.log("rollout rolled back", "weights", res.Current.String())
		r.notify(context.WithoutCancel(ctx), p, NoticeRolledBack, res.Failure.Step, p.BackFrom)
		return 0, nil
	}
	st := p.Back[j]
	finishNow := func(why string) {
		r.log(why)
		st = p.Back[len(p.Back)-1]
		p.Back = append(p.Back[:j], st)
	}
	if j > 0 && res.Policy == Gradual {
		switch {
		case !p.BackWaited && (p.Hurry || ctx.Err() != nil || r.pastDeadline()):
			finishNow("rollback interrupted (cancel or timeout); finishing it at once")
		case !p.BackWaited:
			p.BackWaited = true
			return r.poll(), nil
		case p.Hurry || r.pastDeadline():
			finishNow("rollback interrupted (cancel or timeout); finishing it at once")
		default:
			if g := r.Gates.Health; g != nil {
				// A rollback's read: urgent, so that it never waits
				// behind other rollouts' requests in the API budget. It
				// stays cancellable: a Ctrl-C while it waits finishes the
				// rollback at once, below.
				hf, _, err := r.checkHealth(Urgent(ctx), *g, p.BackGaining, res.Failure.Step)
				if err != nil || hf != nil {
					// The rollback always completes: the split before the
					// apply is the known reference.
					why := "cancelled"
					if hf != nil {
						why = hf.Reason
					}
					r.log("rollback health gate failed; finishing the rollback at once", "reason", why)
					st = p.Back[len(p.Back)-1]
					p.Back = append(p.Back[:j], st)
				}
			}
		}
	}
	p.BackWaited = false
	lctx, cancel := r.live(ctx)
	got, err := r.move(lctx, res.expected(), st.Weights)
	cancel()
	if err != nil {
		if ce := (*ChangedError)(nil); errors.As(err, &ce) {
			f := res.Failure
			r.changed(ctx, p, f.Step, ce)
			res.Failure.Reason = Bound(fmt.Sprintf("while rolling back after the %s gate failed (%s): %s", f.Gate, f.Reason, ce.Error()))
			return 0, nil
		}
		if errors.Is(err, ErrUnknownWeights) {
			res.Unknown, res.Pending = true, st.Weights
		}
		err = fmt.Errorf("rolling back: %w", err)
		res.Status, res.Err, res.ErrText = Failed, err, err.Error()
		p.Phase = PhaseDone
		r.notify(context.WithoutCancel(ctx), p, NoticeFailed, res.Failure.Step, p.BackFrom)
		return 0, nil
	}
	res.Current, res.Unknown, res.Pending = got, false, nil
	res.RollbackSteps = append(res.RollbackSteps, st.Weights)
	r.log("rollback step applied", "step", j+1, "of", len(p.Back), "weights", st.Weights.String())
	p.BackIndex++
	return 0, nil
}

// rollback takes the subject from res.Current back to from because of f,
// and drives the rollback to its end.
func (r *Runner) rollback(ctx context.Context, res Result, from weights.Split, f *Failure) Result {
	p := &Progress{From: from, Res: res, Phase: PhaseDone, Sent: res.sent}
	r.fail(ctx, p, f)
	return r.Drive(ctx, p)
}

// live is the context of one rollback step: not cancelled with the apply,
// and bounded by RollbackGrace on the Runner's clock.
func (r *Runner) live(ctx context.Context) (context.Context, context.CancelFunc) {
	grace := r.RollbackGrace
	if grace <= 0 {
		grace = DefaultRollbackGrace
	}
	return r.Clock.WithDeadline(Urgent(context.WithoutCancel(ctx)), r.Clock.Now().Add(grace))
}

// Stabilize watches a subject that a run has just taken from `from` to
// `at` (res, a succeeded Result) for d: the health of the target groups
// serving traffic and the alarms, every poll interval and once at the end.
// A failure rolls back to from by the policy, as a failed step does. A
// release stabilizes a service before the services that depend on it start.
// The run's end notice is Stabilize's (the Runner's Stabilizes held the
// run's succeeded back): succeeded after the watch, the rollback's, or
// failed when the watch is stopped.
func (r *Runner) Stabilize(ctx context.Context, res Result, from weights.Split, d time.Duration) Result {
	var serving []string
	for _, w := range res.Current {
		if w.Weight > 0 {
			serving = append(serving, w.ARN)
		}
	}
	// check reads health and alarms once; the last check tries a failed
	// read again a poll interval later, as a check before a shift does.
	check := func(last bool) (*Failure, error) {
		for {
			var f *Failure
			var retry bool
			var err error
			if g := r.Gates.Health; g != nil {
				f, retry, err = r.checkHealth(ctx, *g, serving, res.StepReached)
			}
			if f == nil && err == nil && !retry {
				f, retry, err = r.checkAlarms(ctx, res.StepReached)
			}
			if f != nil || err != nil || !retry || !last {
				return f, err
			}
			if err := r.sleep(ctx, r.poll()); err != nil {
				return nil, err
			}
		}
	}
	timedOut := func() Result {
		return r.finish(r.rollback(ctx, res, from, &Failure{Gate: GateTimeout, Step: res.StepReached, Reason: "the apply reached its timeout while stabilizing"}))
	}
	// The run's end notice is the watch's: succeeded after it, failed
	// when it stops, or the rollback's.
	end := func(t NoticeType) Result {
		p := &Progress{Res: res, Sent: res.sent}
		r.notify(context.WithoutCancel(ctx), p, t, res.StepReached, from)
		p.Res.sent = p.Sent
		return r.finish(p.Res)
	}
	stopped := func(err error) Result {
		res.Status, res.Err, res.ErrText = Failed, err, err.Error()
		r.log("rollout stopped", "step", res.StepReached, "of", res.Steps, "weights", res.Current.String(), "error", err.Error())
		return end(NoticeFailed)
	}
	r.log("stabilizing", "weights", res.Current.String(), "for", d.String())
	r.readFailures = nil
	for left := d; ; {
		f, err := check(left <= 0)
		if err != nil {
			if errors.Is(err, ErrTimedOut) {
				return timedOut()
			}
			return stopped(err)
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
				return timedOut()
			}
			return stopped(err)
		}
		left -= step
	}
	r.log("stabilized", "weights", res.Current.String())
	return end(NoticeSucceeded)
}

// RollBack takes a subject that a run took from original to current back
// to original, because of something outside its own gates (a release
// rolling back the services it started): one write for auto and
// immediate, four for gradual; feature_flag switches the flags off.
func (r *Runner) RollBack(ctx context.Context, current, original weights.Split, steps int, reason string) Result {
	return r.RollBackFor(ctx, current, original, steps, Failure{Gate: GateRelease, Step: steps, Reason: Bound(reason)})
}

// RollBackFor is RollBack for the reason f (a held rollout set back to
// where it started: GateAborted).
func (r *Runner) RollBackFor(ctx context.Context, current, original weights.Split, steps int, f Failure) Result {
	res := Result{Status: Succeeded, Current: current, StepReached: steps, Steps: steps, Started: startedAt(r.Clock.Now())}
	back := *r
	back.Hold = false // asked for: never held
	return back.finish(back.rollback(ctx, res, original, &f))
}

// RollBackHeld is RollBackFor a run of steps held after step held that
// started at started (its configuration set back to where it started:
// GateAborted): the rollback's notices go on from the held run's, under
// its started_at, so that the held run ends with its one end notice.
func (r *Runner) RollBackHeld(ctx context.Context, current, original weights.Split, steps []PlannedStep, held int, started time.Time, f Failure) Result {
	res := Result{Status: Succeeded, Current: current, StepReached: held, Steps: len(steps), Started: started}
	// The notices the run sent before its hold (as heldProgress counts them).
	res.sent = sentAtHold(steps, held)
	back := *r
	back.Hold = false // asked for: never held
	return back.finish(back.rollback(ctx, res, original, &f))
}

// EndHeld ends, where it is, a run of steps held after step held that
// started at started and serves at: nothing is written (its resource is
// destroyed, f says why). Its end notice (failed) goes on from the held
// run's notices, under its started_at, and its status is recorded.
func (r *Runner) EndHeld(from, at weights.Split, steps []PlannedStep, held int, started time.Time, f Failure) Result {
	p := heldProgress(from, steps, held, started)
	p.Res.Current = at
	r.Stop(p, &f)
	p.Res.Finished, p.Res.sent = r.Clock.Now(), p.Sent
	return p.Res
}

func (r *Runner) finish(res Result) Result {
	res.Finished = r.Clock.Now()
	return res
}
