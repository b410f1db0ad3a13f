package provider_test

import (
	"context"
	"time"

	"github.com/rolloutdev/terraform-provider-rollout/internal/awsclient"
	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

// The checker's detached driver: a history may run its rollouts detached
// (rollout.execution.mode = "detached"). The applies only start, promote or
// abort the run; the orchestrator's calls (acctest.States: the state
// machine played in-process on the fake clock, each call the real
// orchestrator.Handle) advance it between the operations, as Step
// Functions would: right after each apply until the run is held or ended,
// while time passes (a hold that times out is the orchestrator's to act
// on), and between a plan and its apply. A call's answer may be lost (the
// state machine retries it with the same input, after it ran) or every
// retry of a call may fail (Recover rolls back). The reference model and
// its invariants are the apply driver's: only the next planned step or the
// way back is written, the notices follow the same rules, the record and
// the status tag say what the subject serves.

// maxDrive bounds how long the calls of one drive may take on the fake
// clock: any schedule of the checker ends, or holds, well before.
const maxDrive = 3 * time.Hour

// detachedBlock is the rollout block's execution, nil when the history
// runs in the apply.
func (w *mWorld) detachedBlock() map[string]any {
	if w.states == nil {
		return nil
	}
	return map[string]any{"mode": "detached", "orchestrator": w.states.Machine}
}

// statusTagType is the run's state as its status tag says it ("held",
// "succeeded", …), "" when the tag says nothing readable.
func (w *mWorld) statusTagType() (string, int) {
	st, ok := awsclient.ParseStatus(w.statusTag())
	if !ok {
		return "", 0
	}
	return string(st.Type), st.Step
}

// drive makes the run's calls until it is held (at another hold than the
// one it started at) or has ended; the calls the apply's own waits saw
// made are the first of them.
func (w *mWorld) drive(startTag string) {
	if w.states == nil || len(w.states.Running()) == 0 {
		return
	}
	stop := func() bool {
		if len(w.states.Running()) == 0 {
			return true
		}
		typ, _ := w.statusTagType()
		return typ == string(rollout.NoticeHeld) && w.statusTag() != startTag
	}
	before := w.states.Calls
	if err := w.states.Run(context.Background(), w.e.Clock.Now().Add(maxDrive), stop); err != nil {
		w.fatalf("an orchestrator call failed: %v", err)
	}
	w.logf("  the orchestrator made %d more calls: status tag %q, %d executions running", w.states.Calls-before, w.statusTag(), len(w.states.Running()))
}

// passDetached lets d pass with the orchestrator's calls falling due in
// it. It says whether the run moved (its status tag changed, or it wrote
// the subject): a hold that timed out, acted on by the orchestrator. A run that moved is then driven
// until it holds again or ends.
func (w *mWorld) passDetached(d time.Duration) bool {
	tag := w.statusTag()
	mark := len(w.s.writes())
	// (a gradual rollback's first writes come before its status changes)
	moved := func() bool { return w.statusTag() != tag || len(w.s.writes()) > mark }
	if err := w.states.Run(context.Background(), w.e.Clock.Now().Add(d), moved); err != nil {
		w.fatalf("an orchestrator call failed: %v", err)
	}
	if !moved() {
		return false
	}
	w.drive(tag)
	return true
}

// pass lets d pass over a detached run: nothing is written unless a hold
// times out in it, and then the orchestrator does what hold_timeout_action
// says, as the model predicts.
func (w *mWorld) pass(label string, d time.Duration) {
	w.t.Helper()
	run := w.run
	mode := mNothing
	if run != nil && !run.ended && run.held >= 0 && w.holdTimeout > 0 && !w.e.Clock.Now().Add(d).Before(run.heldAt.Add(w.holdTimeout)) {
		mode = mBack
		if w.holdAction == rollout.HoldPromote {
			mode = mResume
		}
	}
	mark := len(w.s.writes())
	noticeMark := w.noticeMark()
	moved := w.passDetached(d)
	if r := w.r.Refresh(); r.HasError("") {
		w.fatalf("%s: refresh: %s", label, r)
	}
	w.logf("  → last_rollout %s at step %s, serving %s; status tag %q", w.lastStatus(), w.last_("step_reached"), w.norm(w.s.live()).Short(), w.statusTag())
	if !moved {
		if got, _ := w.writesSince(mark); len(got) > 0 {
			w.fatalf("%s: the orchestrator wrote %v while the run's status stayed %q", label, got, w.statusTag())
		}
		return
	}
	if mode == mNothing && w.last_("gate") == string(rollout.GateTimeout) {
		// The execution's deadline (rollout.execution.timeout) passed:
		// the orchestrator rolls back, as an apply at its timeout does.
		mode = mBack
		w.logf("  the execution's deadline passed: the run rolls back")
	}
	if mode == mNothing && !w.uncertain {
		w.fatalf("%s: the run moved (its status tag now says %q) and no hold timed out", label, w.statusTag())
	}
	pos, _ := w.checkWrites(mode, run, mark, false)
	delivered := w.deliveredSince(noticeMark)
	if !w.uncertain && mode != mNothing {
		want := w.predict(mode, run, 0, w.alarmFiring)
		w.checkOutcome(label, mode, run, want, delivered, nil)
		run.pos = pos
	}
	w.checkRecord(label)
	w.checkNotices(label, run, delivered)
	w.syncModel()
}

// offSchedule is what a person sets in a detached history: a split on no
// step of the schedule and not where it starts (on, off the given ones).
// The orchestrator's calls are repeatable: a call that finds the subject
// already serving the write it is to make takes it as its own, made by a
// call whose answer was lost, so a person who sets exactly the next step
// (or the way back) is not told from it (docs/design/detached.md,
// repeatable calls).
func (w *mWorld) offSchedule(on []weights.Split) []weights.Split {
	var out []weights.Split
	for _, p := range []int{5, 33, 50, 66, 95} {
		steps, err := rollout.Plan(w.s.from, w.s.to, rollout.Strategy{Kind: rollout.Canary, Steps: []rollout.Step{{Percent: p}, {Percent: 100}}})
		if err != nil {
			continue
		}
		x := w.norm(steps[0].Weights)
		if !inSplits(x, on) {
			out = append(out, x)
		}
	}
	if len(out) == 0 {
		return on[:1]
	}
	return out
}
