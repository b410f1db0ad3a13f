package provider_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/rolloutdev/terraform-provider-rollout/internal/emulator"
	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

// A destroy that ends a held rollout says what the subject serves as it
// reads it (once), not what the state recorded at the hold: a person may
// have changed it since. When the read fails, it says the record's value
// and that it could not be read.
func TestDestroyHeldSaysWhatItServes(t *testing.T) {
	h := newHeldSplit(t)
	h.hold(t)
	held := h.e.RecordSplitsOf(h.ref.ListenerARN)
	// A person sets the listener to 50/50 after the hold; no refresh.
	byHand := weights.Split{{ARN: h.from[0].ARN, Weight: 50}, {ARN: h.from[1].ARN, Weight: 50}}
	h.e.SetWeights(h.ref, byHand)
	plan := h.r.PlanDestroy()
	before := len(held())
	d := plan.Apply()
	if d.HasError("") {
		t.Fatalf("destroy: %s", d)
	}
	if w := held()[before:]; len(w) != 0 {
		t.Errorf("destroy wrote %v to the subject", w)
	}
	if !d.HasWarning("(?s)Held Rollout Ended.*It serves " + regexp.QuoteMeta(byHand.Short()) + `\.`) {
		t.Errorf("the warning does not say the listener serves %s (a person's change): %s", byHand.Short(), d)
	}
	ns, _ := h.q.Read(3)
	if len(ns) != 3 || ns[2].Type != rollout.NoticeFailed || ns[2].Failure == nil || !strings.Contains(ns[2].Failure.Reason, byHand.Short()) {
		t.Fatalf("the end notice does not say the listener stays at %s: %v", byHand.Short(), ns)
	}
}

// The same with the listener's read denied: the record, and that it could
// not be read.
func TestDestroyHeldReadFailedSaysRecord(t *testing.T) {
	h := newHeldSplit(t)
	h.hold(t)
	plan := h.r.PlanDestroy()
	// The state's record: the first step, 10 %.
	heldAt := weights.Split{{ARN: h.from[0].ARN, Weight: 900}, {ARN: h.from[1].ARN, Weight: 100}}
	if got := h.r.String("last_rollout.serving"); got != heldAt.Canonical() {
		t.Fatalf("last_rollout.serving = %s, want %s", got, heldAt.Canonical())
	}
	h.e.Emu.FaultNext("elasticloadbalancing:DescribeListeners", emulator.Denied, 1)
	d := plan.Apply()
	if d.HasError("") {
		t.Fatalf("destroy: %s", d)
	}
	t.Logf("destroy said: %s", d)
	if !d.HasWarning("(?s)Held Rollout Ended.*It serves " + regexp.QuoteMeta(heldAt.Short()) + ` as last recorded \(reading it failed: .*DescribeListeners`) {
		t.Errorf("the warning does not say it could not read the listener and give the record (%s): %s", heldAt.Short(), d)
	}
}

// A detached run that did not end when told to is stopped; the warning
// says what the subject serves as read, not the state's record.
func TestDetachedDestroyStoppedSaysWhatItServes(t *testing.T) {
	d, _ := newDRigNotices(t)
	if diags := d.apply(d.config(d.s.to, true, "")); diags.HasError("") {
		t.Fatal(diags)
	}
	byHand := weights.Split{{ARN: d.s.from[0].ARN, Weight: 50}, {ARN: d.s.from[1].ARN, Weight: 50}}
	d.s.set(byHand)
	d.states.Fault = nil
	diags := d.r.PlanDestroy().Apply()
	if diags.HasError("") {
		t.Fatalf("destroy: %s", diags)
	}
	if !diags.HasWarning("(?s)Detached Rollout (Stopped|Ended).*" + regexp.QuoteMeta(byHand.Short())) {
		t.Errorf("the warning does not say the listener serves %s (a person's change): %s", byHand.Short(), diags)
	}
}
