package provider_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

// Review 28 (adversarial review of the changes since 513d0ec).

// configHoldTimeout is a canary to at: 20% held (hold_timeout 10m, then
// action), 50% with a 30m pause, then 100%.
func (d *dRig) configHoldTimeout(at weights.Split, action string) map[string]any {
	ro := map[string]any{"strategy": "canary", "steps": []any{
		map[string]any{"percent": 20, "pause": "hold"},
		map[string]any{"percent": 50, "pause": "30m"},
		map[string]any{"percent": 100}}, "poll_interval": "1m",
		"hold_timeout": "10m", "hold_timeout_action": action,
		"gates": map[string]any{"alarms": []any{d.s.alarm}}, "notifications": map[string]any{"sns_topic_arn": d.topic}}
	if d.states != nil {
		ro["execution"] = map[string]any{"mode": "detached", "orchestrator": d.states.Machine}
	}
	return d.s.config(at, ro)
}

// applyHeld applies cfg, runs the orchestrator until the run is held (or
// ended), and refreshes.
func (d *dRig) applyHeld(cfg map[string]any) {
	d.t.Helper()
	stop := d.ticking()
	diags := d.r.PlanApply(cfg)
	stop()
	if diags.HasError("") {
		d.t.Fatal(diags)
	}
	held := func() bool {
		l, _ := d.s.lease.ReadLease(context.Background())
		return len(d.states.Running()) == 0 || strings.HasPrefix(l.Status, "held ")
	}
	if err := d.states.Run(context.Background(), d.e.Clock.Now().Add(time.Hour), held); err != nil {
		d.t.Fatal(err)
	}
	if diags := d.r.Refresh(); diags.HasError("") {
		d.t.Fatalf("refresh: %s", diags)
	}
}

// A saved plan aborts a held detached run; before it is applied, the hold
// times out and the run promotes itself (hold_timeout_action "promote"):
// it serves its next step and still runs. Nobody changed the subject, so
// the abort is the plain abort of a running run, which rolls it back.
// abortSincePlan took the run's own step for a person's change: it
// refused the abort ("Listener Changed Since Plan ... The rollout is still
// held in AWS"), though the run was not held and went on writing.
func TestReview28_AbortAfterHoldTimedOutAndPromoted(t *testing.T) {
	d := newDRig(t, true)
	d.applyHeld(d.configHoldTimeout(d.s.to, "promote"))
	if got, step := d.r.String("last_rollout.status"), d.r.String("last_rollout.step_reached"); got != "running" || step != "1" {
		t.Fatalf("last_rollout.status %q at step %s, want running, held at step 1", got, step)
	}
	p := d.r.Plan(d.configHoldTimeout(d.s.from, "promote"))
	if p.Diags.HasError("") {
		t.Fatalf("plan: %s", p.Diags)
	}
	// The hold times out: the orchestrator promotes the run to step 2.
	if err := d.states.Run(context.Background(), d.e.Clock.Now().Add(12*time.Minute), nil); err != nil {
		t.Fatal(err)
	}
	if l := d.lease(); !strings.HasPrefix(l.Status, "promoted 1/3 ") || len(d.states.Running()) != 1 {
		t.Fatalf("status tag %q, %d running: want the run promoted by its hold_timeout, running", l.Status, len(d.states.Running()))
	}
	defer d.ticking()()
	diags := p.Apply()
	if diags.HasError("") {
		t.Errorf("the abort of a run its hold_timeout promoted: %s", diags)
	}
	if n := len(d.states.Running()); n != 0 {
		t.Errorf("%d executions still running after the abort", n)
	}
	if got, gate := d.r.String("last_rollout.status"), d.r.String("last_rollout.gate"); got != "rolled_back" || gate != "aborted" {
		t.Errorf("last_rollout.status %q, gate %q; want rolled_back, aborted", got, gate)
	}
	if live := d.s.live(); !weights.SameShares(live, d.s.from) {
		t.Errorf("the listener serves %s, want %s (rolled back)", live.Short(), d.s.from.Short())
	}
}

// A detached flip made after an import (last_rollout null) used to be
// named from the flip alone: the same flip made after an earlier import,
// within Step Functions' 90 days, had the same name, and its start was
// refused (ExecutionAlreadyExists). With no record, the name now chains
// to the subject's run tag, which names the last run that ended on it
// (priorRun); any resource with detached runs had the same gap (import,
// A->B, B->A, import again, A->B).
func TestReview28_FlipAfterSecondImport(t *testing.T) {
	d := newDRigOf(t, mBlueGreenKit(), true)
	d.s.colors()
	if diags := d.apply(d.config(d.s.to, false, "")); diags.HasError("") {
		t.Fatal(diags)
	}
	id := d.r.String("listener_arn") + "," + d.r.String("blue_target_group_arn") + "," + d.r.String("green_target_group_arn")
	imported := func() {
		r := d.e.NewEngine(nil).Resource(d.s.typ)
		if diags := r.Import(id); diags.HasError("") {
			t.Fatal(diags)
		}
		d.r = r
	}
	flip := func(at weights.Split) {
		t.Helper()
		cfg := d.config(at, false, "")
		cfg["adopt"] = true
		if diags := d.apply(cfg); diags.HasError("") {
			t.Fatalf("flip to %s: %s", at.Short(), diags)
		}
		if got := d.r.String("last_rollout.status"); got != "succeeded" {
			t.Fatalf("flip to %s: last_rollout.status %q", at.Short(), got)
		}
	}
	imported()
	flip(d.s.from)
	flip(d.s.to)
	imported()
	flip(d.s.from)
}
