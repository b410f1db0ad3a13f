package provider_test

import (
	"context"
	"testing"
	"time"

	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

// A person rewrote the listener between a plan and its apply in another
// form of the same traffic (green's zero-weight entry dropped): the run
// starts from the form it found, and records it as where it started. The
// configuration set back to where it started, in the configured form, is
// still "back to where it started": the plan says the apply aborts the
// detached run, and the apply rolls it back (found with the checker's
// other-form move, seed 20). Before, the plan refused it as "Detached
// Rollout Running" and told the user to do exactly what they had done; and
// an abort that went back to the form found ended in "inconsistent result"
// (the state recorded that form, the plan the configured one). A run held
// in the apply is checked the same way.
func TestAbortAfterStartFromOtherForm(t *testing.T) {
	for _, detached := range []bool{true, false} {
		t.Run(map[bool]string{true: "detached", false: "in the apply"}[detached], func(t *testing.T) {
			abortAfterStartFromOtherForm(t, detached)
		})
	}
}

func abortAfterStartFromOtherForm(t *testing.T, detached bool) {
	d := newDRig(t, detached)
	other := weights.Split{d.s.from[0]} // {tg0: 100}, tg1's 0 dropped
	if !weights.SameTraffic(other, d.s.from) || other.Equal(d.s.from) {
		t.Fatalf("the rig's from %s has no other form %s", d.s.from.Short(), other.Short())
	}
	p := d.r.Plan(d.config(d.s.to, true, ""))
	if p.Diags.HasError("") {
		t.Fatal(p.Diags)
	}
	d.s.set(other)
	if detached {
		d.e.Clock.OnSleep(func(ctx context.Context, _ time.Duration, _ time.Time) { _ = d.states.Tick(ctx) })
	}
	diags := p.Apply()
	d.e.Clock.OnSleep(nil)
	if diags.HasError("") {
		t.Fatalf("the apply over the same traffic in another form: %s", diags)
	}
	d.settle()
	back := d.r.Plan(d.config(d.s.from, true, ""))
	if back.Diags.HasError("") || detached && !back.Diags.HasWarning("Applying Aborts The Detached Rollout") {
		t.Fatalf("the configuration back to where the run started (%s, found as %s): %s", d.s.from.Short(), other.Short(), back.Diags)
	}
	before := len(d.s.writes())
	if detached {
		defer d.ticking()()
	}
	if diags := back.Apply(); diags.HasError("") {
		t.Fatalf("the abort: %s", diags)
	}
	if w := d.s.writes()[before:]; len(w) == 0 {
		t.Errorf("the abort wrote nothing: the run's step still serves %s", d.s.live().Short())
	}
	if live := d.s.live(); !weights.SameTraffic(live, d.s.from) {
		t.Errorf("after the abort the listener serves %s, want the traffic of %s", live.Short(), d.s.from.Short())
	}
	if st, _ := d.r.Get("last_rollout.status"); st != "rolled_back" {
		t.Errorf("last_rollout.status %v after the abort, want rolled_back", st)
	}
}
