package provider_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rolloutdev/terraform-provider-rollout/internal/acctest"
	"github.com/rolloutdev/terraform-provider-rollout/internal/awsclient"
	"github.com/rolloutdev/terraform-provider-rollout/internal/emulator"
	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

// Defects of issue 27's review of holds, promote, notices and detached
// runs, each proven through the real resource code in the in-process
// engine (acctest.Engine) on the fake clock.

// heldSplit is a traffic split at the emulator whose rollout holds after
// its first step (10 %), with its notices on an SNS topic.
type heldSplit struct {
	e       *acctest.Env
	c       *awsclient.Client
	ref     awsclient.Ref
	from    weights.Split
	to      weights.Split
	q       *acctest.NoticeQueue
	topic   string
	eng     *acctest.Engine
	r       *acctest.Resource
	promote string
	extra   map[string]any
}

func newHeldSplit(t *testing.T) *heldSplit {
	e := acctest.NewEnv(t)
	h := &heldSplit{e: e, c: conformanceClient(t, e)}
	f := e.NewFixture(2)
	h.ref = awsclient.Ref{ListenerARN: f.Listener}
	h.from = weights.Split{{ARN: f.TGs[0], Weight: 100}, {ARN: f.TGs[1], Weight: 0}}
	h.to = weights.Split{{ARN: f.TGs[0], Weight: 0}, {ARN: f.TGs[1], Weight: 100}}
	e.SetWeights(h.ref, h.from)
	h.topic, h.q = e.SNSNotices("r27")
	h.eng = e.NewEngine(nil)
	h.r = h.eng.Resource("rollout_traffic_split")
	return h
}

func (h *heldSplit) config(w weights.Split) map[string]any {
	ro := map[string]any{"strategy": "canary", "poll_interval": "1m",
		"steps":         []any{map[string]any{"percent": 10, "pause": "hold"}, map[string]any{"percent": 100}},
		"notifications": map[string]any{"sns_topic_arn": h.topic}}
	if h.promote != "" {
		ro["promote"] = h.promote
	}
	cfg := map[string]any{"listener_arn": h.ref.ListenerARN, "target_groups": mTGs(w), "rollout": ro}
	for k, v := range h.extra {
		cfg[k] = v
	}
	return cfg
}

// hold creates the split at from, then applies the change to to, which
// holds after its first step.
func (h *heldSplit) hold(t *testing.T) {
	t.Helper()
	if d := h.r.PlanApply(h.config(h.from)); d.HasError("") {
		t.Fatalf("create: %s", d)
	}
	if d := h.r.PlanApply(h.config(h.to)); d.HasError("") {
		t.Fatalf("apply: %s", d)
	}
	if got := h.r.String("last_rollout.status"); got != string(rollout.Held) {
		t.Fatalf("last_rollout.status = %q, want held", got)
	}
}

func (h *heldSplit) status(t *testing.T) awsclient.Status {
	t.Helper()
	l, err := awsclient.ListenerLease(h.c, h.ref).ReadLease(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	st, ok := awsclient.ParseStatus(l.Status)
	if !ok {
		t.Fatalf("status tag %q", l.Status)
	}
	return st
}

// checkRun checks the notices of one run: one started_at, seq 1..n, and
// exactly one end notice, the last.
func checkRun(t *testing.T, ns []rollout.Notice) {
	t.Helper()
	ends := 0
	for i, n := range ns {
		if n.Seq != i+1 {
			t.Errorf("notice %d (%s) has seq %d", i+1, n.Type, n.Seq)
		}
		if !n.Started.Equal(ns[0].Started) {
			t.Errorf("notice %d (%s) has started_at %s, the run's is %s", i+1, n.Type, n.Started, ns[0].Started)
		}
		switch n.Type {
		case rollout.NoticeSucceeded, rollout.NoticeRolledBack, rollout.NoticeFailed, rollout.NoticeChanged:
			ends++
			if i != len(ns)-1 {
				t.Errorf("end notice %s is not the last: %v", n.Type, acctest.Kinds(ns))
			}
		}
	}
	if ends != 1 {
		t.Errorf("%d end notices, want 1: %v", ends, acctest.Kinds(ns))
	}
}

// Item 1: destroying a resource whose rollout is held ends the run: its
// status tag and one end notice (failed, gate aborted) say so, in the
// run's numbering and under its started_at; nothing is written to the
// subject, which stays where it was held.
func TestReview27_destroyHeldEndsRun(t *testing.T) {
	h := newHeldSplit(t)
	h.hold(t)
	held := h.e.RecordSplitsOf(h.ref.ListenerARN)
	if d := h.r.PlanDestroy().Apply(); d.HasError("") {
		t.Fatalf("destroy: %s", d)
	}
	if w := held(); len(w) != 0 {
		t.Errorf("destroy wrote %v to the subject", w)
	}
	ns, _ := h.q.Read(3)
	checkRun(t, ns)
	if len(ns) != 3 || ns[2].Type != rollout.NoticeFailed || ns[2].Failure == nil || ns[2].Failure.Gate != rollout.GateAborted {
		t.Fatalf("notices %v, want started, held, failed (aborted)", acctest.Kinds(ns))
	}
	if st := h.status(t); st.Type != rollout.NoticeFailed || st.Step != 1 {
		t.Errorf("status tag says %s %d/%d, want failed 1/2", st.Type, st.Step, st.Steps)
	}
}

// Item 2: a subject whose rollout is held, imported into a new resource
// that adopts it: the plan says what it found (the status tag says held)
// and that applying starts a new rollout from where it is held.
func TestReview27_importHeldPlanSaysSo(t *testing.T) {
	h := newHeldSplit(t)
	h.hold(t)
	b := h.eng.Resource("rollout_traffic_split")
	if d := b.Import(h.ref.ListenerARN); d.HasError("") {
		t.Fatalf("import: %s", d)
	}
	h.extra = map[string]any{"adopt": true}
	p := b.Plan(h.config(h.to))
	if !p.Diags.HasWarning("(?s)Rollout In Progress Found.*held after step 1 of 2") {
		t.Fatalf("the plan does not say it found a held rollout: %s", p.Diags)
	}
	// A new resource that adopts it (a create) says the same.
	c := h.eng.Resource("rollout_traffic_split")
	if p := c.Plan(h.config(h.to)); !p.Diags.HasWarning("Rollout In Progress Found") {
		t.Fatalf("the create's plan does not say it found a held rollout: %s", p.Diags)
	}
}

// Item 3: a hold that timed out (hold_timeout_action rollback) rolls back
// to where the rollout started, in an earlier apply: the error says so,
// not "the weights it had before this apply" (which were the held ones).
func TestReview27_holdTimeoutRollbackWording(t *testing.T) {
	h := newHeldSplit(t)
	h.extra = nil
	cfg := func(w weights.Split) map[string]any {
		c := h.config(w)
		ro := c["rollout"].(map[string]any)
		ro["hold_timeout"], ro["hold_timeout_action"] = "30m", "rollback"
		return c
	}
	if d := h.r.PlanApply(cfg(h.from)); d.HasError("") {
		t.Fatalf("create: %s", d)
	}
	if d := h.r.PlanApply(cfg(h.to)); d.HasError("") || h.r.String("last_rollout.status") != "held" {
		t.Fatalf("apply: %s", d)
	}
	_ = h.e.Clock.Sleep(context.Background(), 31*time.Minute)
	if d := h.r.Refresh(); d.HasError("") {
		t.Fatalf("refresh: %s", d)
	}
	d := h.r.PlanApply(cfg(h.to))
	if !d.HasError("Rollout Rolled Back") {
		t.Fatalf("want Rollout Rolled Back, got %s", d)
	}
	if d.HasError("before this apply") {
		t.Errorf("the error says the weights before this apply, which were the held ones: %s", d)
	}
	if !d.HasError("(?s)when the rollout started.*" + regexp.QuoteMeta(h.from.Short())) {
		t.Errorf("the error does not say it went back to where the rollout started (%s): %s", h.from.Short(), d)
	}
	if got := h.e.Clock.Now(); got.IsZero() {
		t.Fatal("clock")
	}
}

// Item 4: AWS refusing the first write after a promote (AccessDenied)
// changed nothing: the rollout stays held where it is, nothing else is
// written (no rollback, whose writes the same permission would refuse),
// the error names the permission, the status tag still says held, no end
// notice is sent, and applying again (the same token) goes on.
func TestReview27_promoteWriteDeniedStaysHeld(t *testing.T) {
	h := newHeldSplit(t)
	h.hold(t)
	heldAt := h.status(t)
	writes := h.e.RecordSplitsOf(h.ref.ListenerARN)
	h.e.Emu.FaultNext("elasticloadbalancing:ModifyListener", emulator.Denied, 1)
	h.promote = "p1"
	d := h.r.PlanApply(h.config(h.to))
	if w := writes(); len(w) != 0 {
		t.Errorf("a refused promote wrote %v", w)
	}
	if !d.HasError("(?s)still held.*elasticloadbalancing:ModifyListener") {
		t.Errorf("the error does not name the permission and say the rollout is still held: %s", d)
	}
	if d.HasError("Rolled Back") {
		t.Errorf("a refused write rolled the canary back: %s", d)
	}
	if got := h.r.String("last_rollout.status"); got != string(rollout.Held) {
		t.Errorf("last_rollout.status = %q, want held", got)
	}
	if st := h.status(t); st.Type != rollout.NoticeHeld || st.Step != heldAt.Step {
		t.Errorf("status tag says %s %d/%d, want held %d/%d", st.Type, st.Step, st.Steps, heldAt.Step, heldAt.Steps)
	}
	ns, _ := h.q.Read(3)
	for _, n := range ns {
		switch n.Type {
		case rollout.NoticeSucceeded, rollout.NoticeRolledBack, rollout.NoticeFailed, rollout.NoticeChanged, rollout.NoticeGateFailed:
			t.Errorf("a refused promote sent %s: %v", n.Type, acctest.Kinds(ns))
		}
	}
	// Fixed: the same configuration applied again goes on.
	if d := h.r.PlanApply(h.config(h.to)); d.HasError("") {
		t.Fatalf("promote again: %s", d)
	}
	if got := h.r.String("last_rollout.status"); got != string(rollout.Succeeded) {
		t.Errorf("after the retry last_rollout.status = %q, want succeeded", got)
	}
	ns, _ = h.q.Read(6)
	var dedup []rollout.Notice
	for _, n := range ns {
		if len(dedup) > 0 && dedup[len(dedup)-1].Seq == n.Seq {
			if dedup[len(dedup)-1].Type != n.Type {
				t.Errorf("seq %d repeated by another notice: %v", n.Seq, acctest.Kinds(ns))
			}
			continue
		}
		dedup = append(dedup, n)
	}
	checkRun(t, dedup)
}

// Item 5: a release's services refuse holds, so rollout.promote in one is
// refused at plan, on its attribute path, not accepted silently.
func TestReview27_releasePromoteRefused(t *testing.T) {
	e := acctest.NewEnv(t)
	f := e.NewFixture(2)
	eng := e.NewEngine(nil)
	r := eng.Resource("rollout_release")
	cfg := map[string]any{"services": map[string]any{"api": map[string]any{"listener_arn": f.Listener,
		"target_groups": []any{map[string]any{"arn": f.TGs[0], "weight": 0}, map[string]any{"arn": f.TGs[1], "weight": 100}},
		"rollout":       map[string]any{"strategy": "canary", "steps": []any{map[string]any{"percent": 50, "pause": "1m"}, map[string]any{"percent": 100}}, "promote": "p1"}}}}
	p := r.Plan(cfg)
	var found bool
	for _, d := range p.Diags {
		if d.Summary == "Promote In A Release" && d.Attribute != nil && strings.Contains(fmt.Sprint(d.Attribute), "promote") {
			found = true
		}
	}
	if !found {
		t.Fatalf("rollout.promote in a release's service was not refused on its path: %s", p.Diags)
	}
}

// Item 7: a person changes the subject during the hold, then the
// configuration goes back to where the rollout started (an abort): the
// plan says that the person's change wins (nothing is written), and the
// apply writes nothing.
func TestReview27_abortAfterHandChangeWarned(t *testing.T) {
	h := newHeldSplit(t)
	h.hold(t)
	hand := weights.Split{{ARN: h.from[0].ARN, Weight: 50}, {ARN: h.from[1].ARN, Weight: 50}}
	h.e.SetWeights(h.ref, hand)
	writes := h.e.RecordSplitsOf(h.ref.ListenerARN)
	if d := h.r.Refresh(); d.HasError("") {
		t.Fatalf("refresh: %s", d)
	}
	p := h.r.Plan(h.config(h.from))
	if !p.Diags.HasWarning("(?s)Changed During Hold.*" + regexp.QuoteMeta(hand.Short())) {
		t.Errorf("the abort's plan does not say the subject was changed during the hold: %s", p.Diags)
	}
	if p.Diags.HasError("") {
		return
	}
	d := p.Apply()
	if w := writes(); len(w) != 0 {
		t.Errorf("the abort wrote %v over the person's change", w)
	}
	t.Logf("apply: %s", d)
}
