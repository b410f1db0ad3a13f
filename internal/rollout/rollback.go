package rollout

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

// rollback takes the subject from res.Current back to from by the policy.
// Once started it finishes: every step runs on a live context (live), so a
// cancel or the deadline cannot cut it short, and a gradual rollback then
// jumps to its last step instead of pausing. Before each write the subject
// must still serve what the rollout left: a change by someone else stops
// the rollback with nothing written over it.
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
		lctx, cancel := r.live(ctx)
		what, err := r.SwitchOff(lctx)
		cancel()
		if err == nil {
			res.Status, res.SwitchedOff = RolledBack, what
			r.log("rollout rolled back by switching flags off; traffic left where it is", "flags", what, "weights", res.Current.String())
			return res
		}
		// The flags could not be switched off: the canary must not keep
		// serving, so traffic moves back instead.
		res.SwitchOffErr, res.SwitchedOff = err, what
		r.log("switching the flags off failed; moving traffic back instead", "error", Bound(err.Error()))
		res.Policy = Immediate
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
		lctx, cancel := r.live(ctx)
		got, err := r.move(lctx, res.expected(), st.Weights)
		cancel()
		if err != nil {
			if ce := (*ChangedError)(nil); errors.As(err, &ce) {
				out := r.changed(res, f.Step, ce)
				out.Failure.Reason = Bound(fmt.Sprintf("while rolling back after the %s gate failed (%s): %s", f.Gate, f.Reason, ce.Error()))
				return out
			}
			if errors.Is(err, ErrUnknownWeights) {
				res.Unknown, res.pending = true, st.Weights
			}
			res.Status, res.Err = Failed, fmt.Errorf("rolling back: %w", err)
			return res
		}
		res.Current, res.Unknown, res.pending = got, false, nil
		res.RollbackSteps = append(res.RollbackSteps, st.Weights)
		r.log("rollback step applied", "step", j+1, "of", len(plan), "weights", st.Weights.String())
	}
	res.Status = RolledBack
	r.log("rollout rolled back", "weights", res.Current.String())
	return res
}

// live is the context of one rollback step: not cancelled with the apply,
// and bounded by RollbackGrace on the Runner's clock.
func (r *Runner) live(ctx context.Context) (context.Context, context.CancelFunc) {
	grace := r.RollbackGrace
	if grace <= 0 {
		grace = DefaultRollbackGrace
	}
	return r.Clock.WithDeadline(context.WithoutCancel(ctx), r.Clock.Now().Add(grace))
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
