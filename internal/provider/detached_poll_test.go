package provider_test

import (
	"testing"
	"time"
)

// requestsDuring is how many AWS requests the emulator answered while f
// ran, and how far the fake clock moved.
func (d *dRig) requestsDuring(f func()) (int, time.Duration) {
	count := func() (n int) {
		for _, c := range d.e.Emu.Counts() {
			n += c
		}
		return n
	}
	before, start := count(), d.e.Clock.Now()
	f()
	return count() - before, d.e.Clock.Now().Sub(start)
}

// An apply that waits on a detached rollout whose orchestrator does not
// move (its first step unconfirmed, an abort not carried out) reads AWS at
// a bounded pace: it starts quickly, so that a fast orchestrator is seen
// at once, then backs off, so that a wait of an hour or more does not
// spend the API budget other rollouts need. It polled every 250 ms with
// two requests each (8 a second of waiting, thousands in an apply); now
// it is fewer than one a second, and the wait still ends as it did.
func TestDetachedWaitPollsAtBoundedPace(t *testing.T) {
	t.Run("first step", func(t *testing.T) {
		d := newDRig(t, true)
		cfg := d.config(d.s.to, false, "")
		cfg["rollout"].(map[string]any)["steps"] = []any{map[string]any{"percent": 20, "pause": "10m"}, map[string]any{"percent": 100}}
		var warned bool
		n, waited := d.requestsDuring(func() {
			diags := d.r.PlanApply(cfg) // nothing makes the orchestrator's calls
			warned = diags.HasWarning("First Step Not Confirmed")
			if diags.HasError("") {
				t.Fatal(diags)
			}
		})
		if !warned || waited < 15*time.Minute {
			t.Fatalf("the apply waited %s and did not say the first step was not confirmed", waited)
		}
		if limit := int(waited / time.Second); n > limit {
			t.Errorf("the apply made %d AWS requests while it waited %s for the first step, want at most %d (one a second)", n, waited, limit)
		}
		t.Logf("%d requests in %s", n, waited)
	})
	t.Run("abort", func(t *testing.T) {
		d := newDRig(t, true)
		if diags := d.apply(d.config(d.s.to, true, "")); diags.HasError("") {
			t.Fatal(diags)
		}
		var diags interface{ HasError(string) bool }
		n, waited := d.requestsDuring(func() {
			diags = d.r.PlanApply(d.config(d.s.from, true, "")) // the abort's call is never made
		})
		if !diags.HasError("Abort Not Confirmed") || waited < 15*time.Minute {
			t.Fatalf("the apply waited %s: %v", waited, diags)
		}
		if limit := int(waited / time.Second); n > limit {
			t.Errorf("the apply made %d AWS requests while it waited %s for the abort, want at most %d (one a second)", n, waited, limit)
		}
		t.Logf("%d requests in %s", n, waited)
	})
}
