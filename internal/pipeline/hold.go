package pipeline

import (
	"context"
	"fmt"
	"time"

	"github.com/rolloutdev/terraform-provider-rollout/internal/awsclient"
	"github.com/rolloutdev/terraform-provider-rollout/internal/problem"
	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

// Holds: a step with pause = "hold" ends the apply's run there, held
// (rollout.Held). The state keeps where the rollout goes (the configured
// weights: the plan's), and last_rollout where it is (serving), where it
// started (from) and the promote token it was held with. While it is held:
//
//	plan   the same configuration: a new rollout.promote, or a
//	       hold_timeout that had passed when the state was refreshed
//	       (lookedAt: core's final plan of a saved plan must show what the
//	       saved plan showed), makes last_rollout unknown (the apply acts)
//	       and planned_steps the steps still to run; otherwise the plan is
//	       empty and a warning says how to go on. Back to from: one step
//	       back. Anything else is refused.
//	apply  promoted (or timed out with hold_timeout_action = "promote",
//	       as its plan showed): the engine resumes from the held step
//	       (Runner.Resume) under the run's started_at and seq, with the
//	       gates checked again, its guard reading the subject before the
//	       first write; timed out with "rollback": Runner.Expire rolls back;
//	       not promoted: nothing is written, and a hold timeout that
//	       passed since the plan is refused ("Hold Timed Out Since Plan");
//	       back to from: one guarded rollback (gate "aborted").
//
// A refresh keeps the target while held (RefreshDetached); a change made by
// hand during the hold is found by the read before the promoted write, and
// wins: nothing more is written.

// PauseText is a planned step's pause as planned_steps shows it.
func PauseText(s rollout.PlannedStep) string {
	if s.Hold {
		return PauseHold
	}
	return s.Pause.String()
}

// HeldRun is what a held rollout's last_rollout says.
type HeldRun struct {
	From, Serving, Target weights.Split
	Step                  int
	// started is when the run started (its notices' started_at), heldAt
	// when it was held.
	started, heldAt time.Time
	promote         string
	// undelivered counts the run's notices not delivered before its hold:
	// the run goes on counting from there.
	undelivered int
}

// HeldOf reads a held rollout's record; false when the record is not one.
func HeldOf(last Record) (HeldRun, bool) {
	if last.Status != string(rollout.Held) {
		return HeldRun{}, false
	}
	var h HeldRun
	var err1, err2, err3 error
	h.From, err1 = weights.ParseCanonical(last.From)
	h.Serving, err2 = weights.ParseCanonical(last.Serving)
	h.Target, err3 = weights.ParseCanonical(last.Target)
	h.Step = int(last.StepReached)
	h.started, _ = time.Parse(time.RFC3339, last.StartedAt)
	h.heldAt, _ = time.Parse(time.RFC3339, last.FinishedAt)
	h.promote = last.PromoteText()
	h.undelivered = int(last.NoticesUndelivered)
	if h.started.IsZero() {
		h.started = h.heldAt
	}
	if err1 != nil || err2 != nil || err3 != nil || h.Step < 1 || len(h.From) == 0 || len(h.Target) == 0 {
		return HeldRun{}, false
	}
	return h, true
}

// promoted says whether the configuration promotes the hold.
func (h HeldRun) promoted(s Settings) bool { return newPromote(s.Promote, h.promote) }

// newPromote says whether token is a new rollout.promote after last: set
// and different. Removing rollout.promote (null) promotes nothing.
func newPromote(token, last string) bool { return token != "" && token != last }

// expired says whether the hold has waited longer than its timeout.
func (h HeldRun) expired(s Settings, now time.Time) bool {
	return s.HoldTimeout > 0 && !h.heldAt.IsZero() && now.Sub(h.heldAt) >= s.HoldTimeout
}

// steps is the held rollout's schedule under the configuration's
// strategy, checked to pass where the rollout is held.
func (h HeldRun) steps(s Settings, norm rollout.Normalizer) ([]rollout.PlannedStep, error) {
	steps, err := Schedule(h.From, h.Target, s.Strategy)
	if err != nil {
		return nil, err
	}
	if len(steps) <= h.Step {
		return nil, fmt.Errorf("the schedule now has %d steps, and the rollout is held after step %d", len(steps), h.Step)
	}
	at := steps[h.Step-1].Weights
	if norm != nil {
		at = norm.Normalize(at)
	}
	if !at.Equal(h.Serving) {
		return nil, fmt.Errorf("step %d of the schedule now goes to %s, and the rollout is held at %s", h.Step, at.Short(), h.Serving.Short())
	}
	return steps, nil
}

// heldRecord is the last_rollout of a run that ended held at serving.
func heldRecord(ch Change, res rollout.Result, serving weights.Split) Record {
	res.Current = serving
	return withRun(RecordChange(ch, res), ch.From, "", serving).WithPromote(ch.Settings.Promote)
}

// endHeld makes a run that ended held an outcome the resource saves as it
// saves a success: the configured weights in state, where it is held in
// last_rollout.serving (RecordOutcome).
func endHeld(s Subject, ch Change, out *Outcome, diags Report) {
	out.serving = out.Res.Current
	out.Res.Current = ch.To
	if out.Res.Err != nil {
		// The first write after the promote was refused: nothing moved,
		// and the rollout is held where it was (rollout.refusedAfterHold).
		diags.AddAttributeError(s.Attr().Parent().Name("rollout").Name("promote"), "Promote Not Applied", Detail(out.Res.Err,
			fmt.Sprintf("AWS refused the first write after the hold of %s %s (step %d of %d), so nothing was written: the rollout is still held after step %d, serving %s, on its way to %s. It was not rolled back (the refusal changed nothing, and the canary had passed its gates); its status still says held, and no notice ended it.",
				s.Kind(), s.ID(), out.Res.StepReached+1, out.Res.Steps, out.Res.StepReached, out.serving.Short(), ch.To.Short()),
			fmt.Sprintf("Give the credentials the permission the error names (the provider's IAM permissions table lists what each resource needs), then apply again: the plan promotes it again with the same rollout.promote. To go back instead, set the configuration to %s and apply.", ch.From.Short())))
		return
	}
	diags.AddAttributeWarning(s.Attr().Parent().Name("rollout").Name("promote"), "Rollout Held", Detail(nil,
		fmt.Sprintf("The rollout of %s %s is held after step %d of %d: it serves %s, on its way to %s.", s.Kind(), s.ID(), out.Res.StepReached, out.Res.Steps, out.serving.Short(), ch.To.Short()),
		fmt.Sprintf("Nothing watches it now. To go on, set rollout.promote to a new value and apply (the gates are checked again first). To go back, set the configuration to %s and apply.%s",
			ch.From.Short(), holdTimeoutText(ch.Settings))))
}

func holdTimeoutText(s Settings) string {
	if s.HoldTimeout <= 0 {
		return ""
	}
	what := "rolls it back"
	if s.HoldAction == rollout.HoldPromote {
		what = "promotes it"
	}
	return fmt.Sprintf(" After %s (hold_timeout), the next apply %s.", ShortDuration(s.HoldTimeout), what)
}

// heldChange is the apply of a change while a rollout is held: on to its
// target (promoted, timed out, or still held), back to where it started,
// or refused.
// It compares forms exactly, as the plan of a held rollout does
// (planHeld): a run held in the apply records the configured forms.
func heldChange(ctx context.Context, c *awsclient.Client, s Subject, ch Change, h HeldRun, diags Report) Outcome {
	switch {
	case ch.To.Canonical() == h.Target.Canonical():
		return heldOnward(ctx, c, s, ch, h, diags)
	case ch.To.Canonical() == h.From.Canonical():
		return heldBack(ctx, c, s, ch, h, diags)
	default:
		refuseWhileHeld(s.Attr(), h, diags)
		return Outcome{}
	}
}

// heldOnward is the apply of a held rollout's target: it goes on when
// promoted, acts on a hold timeout the plan showed, refuses one that
// passed since the plan, and otherwise stays held, writing nothing.
func heldOnward(ctx context.Context, c *awsclient.Client, s Subject, ch Change, h HeldRun, diags Report) Outcome {
	norm, _ := s.Router().(rollout.Normalizer)
	steps, err := h.steps(ch.Settings, norm)
	if err != nil {
		scheduleChangedWhileHeld(s.Attr().Parent(), h, ch.Settings, err, diags)
		return Outcome{}
	}
	// A hold timeout acts only when the plan showed it (ch.acts); one that
	// passed since the plan is refused, before any write.
	timedOut := !h.promoted(ch.Settings) && ch.Acts
	switch {
	case h.promoted(ch.Settings) || timedOut:
	case h.expired(ch.Settings, c.Clock.Now()):
		holdTimedOutSincePlan(s, h, ch.Settings, diags)
		return Outcome{Steps: steps[h.Step:]}
	default:
		diags.AddAttributeWarning(s.Attr().Parent().Name("rollout").Name("promote"), "Rollout Still Held", Detail(nil,
			fmt.Sprintf("The rollout of %s %s is still held after step %d of %d, serving %s; this apply wrote nothing to it.", s.Kind(), s.ID(), h.Step, len(steps), h.Serving.Short()),
			"Set rollout.promote to a new value and apply to go on."+holdTimeoutText(ch.Settings)))
		last := ch.Last
		return Outcome{Steps: keptSteps(steps, h, ch.Planned), Moved: true, Res: rollout.Result{Status: rollout.Held, Current: ch.To, StepReached: h.Step, Steps: len(steps), Started: h.started, Finished: h.heldAt}, Record: &last}
	}
	l, ok := claimHeld(ctx, s, ch, diags)
	if !ok {
		return Outcome{Steps: steps[h.Step:]}
	}
	ch.From, ch.LeaseToken = h.From, l.Token
	runner, ok := newRunner(ctx, c, s, ch, diags)
	if !ok {
		return Outcome{Steps: steps[h.Step:], Lease: l}
	}
	var p *rollout.Progress
	if h.promoted(ch.Settings) || ch.Settings.HoldAction == rollout.HoldPromote {
		Log.Info(ctx, "promoting the held rollout", map[string]any{"step": h.Step, "promoted": h.promoted(ch.Settings)})
		p = runner.Resume(h.From, steps, h.Step, h.started)
	} else {
		Log.Info(ctx, "the hold timed out: rolling back", map[string]any{"step": h.Step, "timeout": ch.Settings.HoldTimeout.String()})
		p = runner.Expire(ctx, h.From, steps, h.Step, h.started, ch.Settings.HoldTimeout)
	}
	out := Outcome{Steps: steps[h.Step:], Lease: l}
	out.Res = runner.Drive(ctx, p)
	CloseNotices(runner, &out.Res, ch.Settings, diags)
	out.Res.NotifyFailures += h.undelivered
	settle(ctx, c, s, ch, &out, diags)
	if out.Res.Status == rollout.Held && out.Res.Err != nil {
		// Its promote was refused by AWS before anything moved: the
		// record stays the hold's (its token, when it was held), so the
		// same configuration promotes it again.
		last := ch.Last
		out.Record = &last
	} else if out.Res.Status == rollout.Held && out.serving != nil {
		// Held again at a later hold: the record keeps where the rollout
		// started (ch.from here), not the weights the resource's state
		// keeps (its target).
		rec := heldRecord(ch, out.Res, out.serving)
		out.Record = &rec
	}
	return out
}

// heldBack is the apply of the weights a held rollout started from: it
// rolls back from the hold (an abort), moving back, not switching flags
// off.
func heldBack(ctx context.Context, c *awsclient.Client, s Subject, ch Change, h HeldRun, diags Report) Outcome {
	l, ok := claimHeld(ctx, s, ch, diags)
	if !ok {
		return Outcome{}
	}
	ch.From, ch.LeaseToken = h.From, l.Token
	runner, ok := newRunner(ctx, c, s, ch, diags)
	if !ok {
		return Outcome{Lease: l}
	}
	if ch.Settings.Policy == rollout.FeatureFlag || ch.Settings.Policy == rollout.KillSwitch {
		runner.Policy = rollout.Immediate // asked to move back, not to switch flags off
	}
	out := Outcome{Steps: backStep(h), Lease: l}
	// The run's schedule counts the notices it sent before its hold (none
	// known when the schedule cannot be made now).
	steps, _ := Schedule(h.From, h.Target, ch.Settings.Strategy)
	out.Res = runner.RollBackHeld(ctx, h.Serving, h.From, steps, h.Step, h.started, rollout.Failure{Gate: rollout.GateAborted, Step: h.Step,
		Reason: "the configuration went back to where the held rollout started"})
	CloseNotices(runner, &out.Res, ch.Settings, diags)
	out.Res.NotifyFailures += h.undelivered
	if out.Res.NothingMoved() && out.Res.Status != rollout.RolledBack {
		s.WriteError(diags, out.Res.Err)
		return out
	}
	out.Moved = true
	if out.Res.Status != rollout.RolledBack {
		addRolloutError(diags, s, out.Res, ch.Limit, h.From)
	}
	return out
}

// backStep is the one step that takes a held rollout back.
func backStep(h HeldRun) []rollout.PlannedStep {
	return []rollout.PlannedStep{{Percent: 100, Weights: h.From}}
}

// claimHeld checks the lease of a held rollout's subject: still this
// resource's.
func claimHeld(ctx context.Context, s Subject, ch Change, diags Report) (Lease, bool) {
	o := ch.Owner
	if o == nil {
		return Lease{}, true
	}
	return Claim(ctx, o.Base, s, o.ResourceType, o.Mine, o.Adopt, ch.To, ch.Settings.Attempt, diags)
}

// holdTimedOutSincePlan refuses the apply of a plan that showed a held
// rollout kept as it is, when its hold_timeout has passed since: the plan
// did not show the timeout's action.
func holdTimedOutSincePlan(s Subject, h HeldRun, settings Settings, diags Report) {
	what := fmt.Sprintf("rolls it back to %s", h.From.Short())
	if settings.HoldAction == rollout.HoldPromote {
		what = "goes on with the steps still to run"
	}
	diags.AddAttributeError(s.Attr().Parent().Name("rollout").Name("hold_timeout"), "Hold Timed Out Since Plan", Detail(nil,
		fmt.Sprintf("The rollout of %s %s has been held after step %d since %s, and hold_timeout (%s) has passed. The plan started from the state as last read (by its refresh, or, planned with -refresh=false, by the last refresh or apply before it), when the timeout had not passed, so it showed the rollout kept as it is.",
			s.Kind(), s.ID(), h.Step, h.heldAt.UTC().Format(time.RFC3339), ShortDuration(settings.HoldTimeout)),
		fmt.Sprintf("Nothing was moved and nothing else applied. Run plan again with refresh (without -refresh=false): it shows what the timeout does (it %s, hold_timeout_action), then apply; or set rollout.promote to a new value to go on, or the configuration back to %s to roll back.", what, h.From.Short())))
}

func scheduleChangedWhileHeld(base problem.Path, h HeldRun, s Settings, err error, diags Report) {
	if s.Removed {
		diags.AddAttributeError(base.Name("rollout"), "Rollout Removed While Held", Detail(nil,
			fmt.Sprintf("The rollout block was removed, but a rollout is held after step %d, serving %s, on its way to %s; without the block it cannot go on from there.", h.Step, h.Serving.Short(), h.Target.Short()),
			fmt.Sprintf("Nothing was moved. Put the rollout block back as it was, then promote the rollout (a new rollout.promote) or roll it back (the configuration back to %s); remove the block once it has ended.", h.From.Short())))
		return
	}
	diags.AddAttributeError(base.Name("rollout").Name("steps"), "Schedule Changed While Held", Detail(nil,
		fmt.Sprintf("The rollout is held after step %d, serving %s; %v, so it cannot go on from there.", h.Step, h.Serving.Short(), err),
		fmt.Sprintf("Nothing was moved. Put the rollout's steps back as they were when it was held, or set the configuration back to %s to roll it back.", h.From.Short())))
}

func refuseWhileHeld(at problem.Path, h HeldRun, diags Report) {
	diags.AddAttributeError(at, "Rollout Held", Detail(nil,
		fmt.Sprintf("A rollout is held after step %d, serving %s, on its way to %s. A change to anything else would start a new rollout from the middle of that one.", h.Step, h.Serving.Short(), h.Target.Short()),
		fmt.Sprintf("Promote it (keep the configuration at %s and set rollout.promote to a new value), or roll it back (set the configuration to %s), then make the new change.", h.Target.Short(), h.From.Short())))
}

// planHeld is the plan of a held rollout's subject. to is the planned
// weights, live what it serves (nil when it could not be read). It returns
// the steps the apply will run, whether the apply acts (last_rollout is
// then unknown), and false when the plan is refused.
func planHeld(base problem.Path, attrAt problem.Path, h HeldRun, s Settings, to, live weights.Split, norm rollout.Normalizer, now time.Time, diags Report) ([]rollout.PlannedStep, bool, bool) {
	switch to.Canonical() {
	case h.Target.Canonical():
	case h.From.Canonical():
		if live != nil && !live.Equal(h.Serving) {
			// A person's change wins: the rollback's guard finds it and
			// writes nothing (rollout.Runner.move).
			diags.AddAttributeWarning(attrAt, "Changed During Hold", Detail(nil,
				fmt.Sprintf("The configuration is back where the held rollout started (%s), but the subject serves %s now, not the %s the rollout was held at: someone or something changed it during the hold.", h.From.Short(), live.Short(), h.Serving.Short()),
				fmt.Sprintf("That change wins: applying stops the rollout with nothing written, not even its rollback, and records what it serves (last_rollout gate changed_during_rollout). To go back to %s after that, change rollout.attempt and apply.", h.From.Short())))
			return backStep(h), true, true
		}
		diags.AddAttributeWarning(attrAt, "Applying Rolls Back The Held Rollout", Detail(nil,
			fmt.Sprintf("The configuration is back where the held rollout started (%s).", h.From.Short()),
			fmt.Sprintf("Applying moves %s back in one step, by rollout.rollback.", h.Serving.Short())))
		return backStep(h), true, true
	default:
		refuseWhileHeld(attrAt, h, diags)
		return nil, false, false
	}
	steps, err := h.steps(s, norm)
	if err != nil {
		scheduleChangedWhileHeld(base, h, s, err, diags)
		return nil, false, false
	}
	if live != nil && !live.Equal(h.Serving) {
		diags.AddAttributeWarning(attrAt, "Changed During Hold", Detail(nil,
			fmt.Sprintf("The rollout is held at %s, but the subject serves %s now: someone or something changed it during the hold.", h.Serving.Short(), live.Short()),
			"That change wins: if the subject still serves it when this plan is applied, promoting stops at once with nothing written, and records what it serves (put back as it was, the run goes on as planned). To keep it, promote (which records it), then set the configuration to it."))
	}
	rest := steps[h.Step:]
	switch {
	case h.promoted(s):
		return rest, true, true
	case h.expired(s, now):
		what := fmt.Sprintf("rolls the rollout back to %s", h.From.Short())
		if s.HoldAction == rollout.HoldPromote {
			what = "goes on with the steps still to run"
		}
		diags.AddAttributeWarning(base.Name("rollout").Name("hold_timeout"), "Hold Timed Out", Detail(nil,
			fmt.Sprintf("The rollout has been held after step %d since %s, longer than hold_timeout (%s).", h.Step, h.heldAt.UTC().Format(time.RFC3339), ShortDuration(s.HoldTimeout)),
			"Applying "+what+" (hold_timeout_action)."))
		if s.HoldAction != rollout.HoldPromote {
			return backStep(h), true, true
		}
		return rest, true, true
	}
	diags.AddAttributeWarning(base.Name("rollout").Name("promote"), "Rollout Held", Detail(nil,
		fmt.Sprintf("The rollout is held after step %d of %d, serving %s; %d steps are still to run, to %s.", h.Step, len(steps), h.Serving.Short(), len(rest), h.Target.Short()),
		fmt.Sprintf("Applying without a new rollout.promote writes nothing. Set rollout.promote to a new value to go on, or the configuration back to %s to roll back.%s", h.From.Short(), holdTimeoutText(s))))
	return rest, false, true
}

// CheckPromote refuses, at plan, a new rollout.promote when no rollout is
// held (last is the state's last_rollout). A plan that also starts a
// rollout (moving: the weights change) only sets the token that rollout's
// holds will be promoted from.
func CheckPromote(base problem.Path, last Record, stateSettings, planSettings Settings, moving bool, diags Report) {
	if planSettings.Promote == stateSettings.Promote || planSettings.Promote == "" || moving {
		return
	}
	if _, held := HeldOf(last); held || last.Status == StatusRunning {
		// A detached rollout's hold: the apply checks the step it is at.
		return
	}
	status := last.Status
	if status == "" {
		status = "none"
	}
	diags.AddAttributeError(base.Name("rollout").Name("promote"), "Nothing To Promote", Detail(nil,
		fmt.Sprintf("rollout.promote changes to %q, but no rollout is held here (last_rollout.status is %s).", planSettings.Promote, status),
		"Nothing was sent. Promote only after an apply ends held (a step with pause = \"hold\"); set rollout.promote back to its last value."))
}

// keptSteps are the steps an apply that does not act on a held rollout
// records: the ones planned_steps has in state and the plan kept
// (keepOrAct), which the last apply that moved it recorded — its whole
// schedule, or the part after an earlier hold.
func keptSteps(steps []rollout.PlannedStep, h HeldRun, planned PlannedSteps) []rollout.PlannedStep {
	for j := 0; j <= h.Step && j < len(steps); j++ {
		if planned != nil && planned(steps[j:]) {
			return steps[j:]
		}
	}
	return steps[h.Step:]
}

// KeepsTarget says whether the state keeps the configured weights rather
// than what the subject serves: a detached rollout runs, or a rollout is
// held.
func KeepsTarget(last Record) bool {
	_, held := HeldOf(last)
	return held || last.Status == StatusRunning
}

// EndOnDestroy ends the rollout of a subject whose resource is destroyed
// (settings are its rollout block's, token its lease): a running detached rollout
// is stopped (stopDetached); a held one ends where it is, with nothing
// written to the subject (endHeldOnDestroy).
func EndOnDestroy(ctx context.Context, c *awsclient.Client, s Subject, last Record, settings Settings, token string, diags Report) {
	stopDetached(ctx, c, s, last, settings, token, diags)
	if !diags.HasError() {
		endHeldOnDestroy(ctx, c, s, last, settings, token, diags)
	}
}

// endHeldOnDestroy ends a held rollout whose resource is destroyed: the
// run's end notice (failed, gate aborted), in its numbering and under its
// started_at, and the status tag that says so, unless another owner took
// the subject (its tags are the new owner's). The subject stays where it
// was held; the warning says so.
func endHeldOnDestroy(ctx context.Context, c *awsclient.Client, s Subject, last Record, settings Settings, token string, diags Report) {
	h, held := HeldOf(last)
	if !held || c == nil {
		return
	}
	steps, _ := Schedule(h.From, h.Target, settings.Strategy)
	if len(steps) <= h.Step {
		// The schedule cannot be made again: the notice's number counts
		// the steps up to the hold and no earlier hold.
		steps = make([]rollout.PlannedStep, h.Step+1)
		for i := range steps {
			steps[i] = rollout.PlannedStep{Weights: h.Serving}
		}
		steps[h.Step].Weights = h.Target
	}
	ch := Change{From: h.From, To: h.Target, Settings: settings, Limit: time.Minute}
	runner, ok := newRunner(ctx, c, s, ch, diags)
	if !ok {
		return
	}
	if takenBy(ctx, s, token) != "" {
		if k, ok := keepers.Load(runner); ok {
			k.(*awsclient.StatusKeeper).Disown() // the new owner's tags
		}
	}
	// What it serves now, read once (a person may have changed it since
	// the hold): the notice and the warning say that, not the record.
	serving, serves := servesNow(ctx, s, h.Serving)
	res := runner.EndHeld(h.From, serving, steps, h.Step, h.started, rollout.Failure{Gate: rollout.GateAborted, Step: h.Step,
		Reason: fmt.Sprintf("its resource was destroyed while the rollout was held after step %d; the %s stays at %s", h.Step, s.Kind(), serves)})
	CloseNotices(runner, &res, settings, diags)
	diags.AddWarning("Held Rollout Ended", Detail(nil,
		fmt.Sprintf("The rollout of %s %s was held after step %d, serving %s, on its way to %s; destroy ended it there (its status and notices say failed, gate aborted) and wrote nothing to it.", s.Kind(), s.ID(), h.Step, h.Serving.Short(), h.Target.Short()),
		fmt.Sprintf("It serves %s. Set what it serves yourself if it must change (back to %s, where the rollout started).", serves, h.From.Short())))
}

// servesNow reads what s serves (once), for a destroy's words: the split
// read and its text, or, when the read fails, recorded (the state's) and
// a text that says it is the record and could not be read.
func servesNow(ctx context.Context, s Subject, recorded weights.Split) (weights.Split, string) {
	live, err := ReadSplit(ctx, s)
	if err != nil {
		return recorded, servesText(nil, err, recorded.Short())
	}
	return live, live.Short()
}

// servesText says what a subject serves: live, or when reading it failed
// (err) the recorded value, saying so.
func servesText(live weights.Split, err error, recorded string) string {
	if err != nil {
		return fmt.Sprintf("%s as last recorded (reading it failed: %s)", recorded, rollout.Bound(err.Error()))
	}
	return live.Short()
}
