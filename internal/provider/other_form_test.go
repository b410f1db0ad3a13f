package provider_test

import (
	"context"
	"testing"
	"time"

	"github.com/rolloutdev/terraform-provider-rollout/internal/acctest"

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

// A person rewrote what a split or a release service serves in another form
// of the same traffic (50/50 as 1/1; here 100/0 as 100 alone). The next plan
// shows the configured form; its apply writes that form and nothing else:
// no rollout (no traffic moves, so no schedule, no notices, the last
// rollout record kept), and the plan after it is empty. Before, the apply
// ran a one-step rollout that sent started and succeeded notices for a
// move that moved nothing (the checker's other-form move, seed 250), and a
// release service, whose stickiness had not changed, wrote nothing and
// planned the same change again forever.
func TestFormOnlyChangeIsNoRollout(t *testing.T) {
	for _, kit := range []mKit{mSplitKit("split on a listener", false), mReleaseKit()} {
		t.Run(kit.name, func(t *testing.T) {
			e := acctest.NewEnv(t)
			c := conformanceClient(t, e)
			s := kit.make(t, e, c)
			topic, notices := e.SNSNotices("form")
			r := e.NewEngine(nil).Resource(s.typ)
			ro := map[string]any{"strategy": "canary", "steps": []any{map[string]any{"percent": 50}, map[string]any{"percent": 100}},
				"poll_interval": "1m", "notifications": map[string]any{"sns_topic_arn": topic}}
			if d := r.PlanApply(s.config(s.from, ro)); d.HasError("") {
				t.Fatalf("create: %s", d)
			}
			lastAt := s.lastAt
			if lastAt == "" {
				lastAt = "last_rollout"
			}
			last := r.String(lastAt + ".status")
			other := weights.Split{s.from[0]}
			s.set(other)
			if d := r.Refresh(); d.HasError("") {
				t.Fatal(d)
			}
			p := r.Plan(s.config(s.from, ro))
			if p.Diags.HasError("") || !p.Changes() {
				t.Fatalf("the plan after the rewrite: changes %v, %s", p.Changes(), p.Diags)
			}
			if u := p.Unknown(); len(u) > 0 {
				t.Errorf("the plan of a form-only change leaves %v unknown: it plans a rollout", u)
			}
			before := len(s.writes())
			if d := p.Apply(); d.HasError("") {
				t.Fatalf("apply: %s", d)
			}
			if w := s.writes()[before:]; len(w) != 1 || !w[0].Equal(s.from) {
				t.Errorf("writes %v, want one write of the configured form %s", w, s.from.Short())
			}
			if live := s.live(); !live.Equal(s.from) {
				t.Errorf("the subject serves %s, want %s", live.Short(), s.from.Short())
			}
			if got, _ := notices.Read(0); len(got) != 0 {
				t.Errorf("notices %v for a change that moves no traffic", got)
			}
			if got := r.String(lastAt + ".status"); got != last {
				t.Errorf("last_rollout.status %q after the form-only change, want the last run's %q kept", got, last)
			}
			if again := r.Plan(s.config(s.from, ro)); again.Changes() || again.Diags.HasError("") {
				t.Errorf("the plan after the form was written: changes %v, %s", again.Changes(), again.Diags)
			}
		})
	}
}
