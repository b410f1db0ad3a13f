package provider_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rolloutdev/terraform-provider-rollout/internal/acctest"
	"github.com/rolloutdev/terraform-provider-rollout/internal/awsclient"
	"github.com/rolloutdev/terraform-provider-rollout/internal/emulator"
	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
)

// How a detached run ends when its resource is destroyed, and how a hold
// whose promote AWS refused is shown: on the in-process engine, the state
// machine played by acctest.States on the fake clock.

// newDRigNotices is newDRig (detached) keeping the notice queue.
func newDRigNotices(t *testing.T) (*dRig, *acctest.NoticeQueue) {
	e := acctest.NewEnv(t)
	c := conformanceClient(t, e)
	s := mSplitKit("split on a listener", false).make(t, e, c)
	d := &dRig{t: t, e: e, s: s}
	d.states = e.NewStates(acctest.Name("end"))
	var q *acctest.NoticeQueue
	d.topic, q = e.SNSNotices("end")
	d.r = e.NewEngine(nil).Resource(s.typ)
	if diags := d.r.PlanApply(s.config(s.from, nil)); diags.HasError("") {
		t.Fatalf("create: %s", diags)
	}
	return d, q
}

func (d *dRig) lease() awsclient.Lease {
	d.t.Helper()
	l, err := d.s.lease.ReadLease(context.Background())
	if err != nil {
		d.t.Fatal(err)
	}
	return l
}

// ticking makes the orchestrator's calls due whenever the provider waits
// on the clock, until the returned func is called.
func (d *dRig) ticking() func() {
	d.e.Clock.OnSleep(func(context.Context, time.Duration, time.Time) { _ = d.states.Tick(context.Background()) })
	return func() { d.e.Clock.OnSleep(nil) }
}

// Destroying the resource of a detached run held after its first step
// ends the run where it is, as destroying an in-apply held run does: one
// end notice (failed, gate aborted) in the run's numbering and under its
// started_at, a status tag that says failed (so that a later create or
// adopt of the subject finds no rollout in progress), nothing written to
// the subject, and the execution ended by the orchestrator, not stopped.
func TestDetachedDestroyHeldEndsRun(t *testing.T) {
	d, q := newDRigNotices(t)
	if diags := d.apply(d.config(d.s.to, true, "")); diags.HasError("") {
		t.Fatal(diags)
	}
	if st := d.lease().Status; !strings.HasPrefix(st, "held ") {
		t.Fatalf("not held: status tag %q", st)
	}
	held := d.s.live()
	before := len(d.s.writes())
	stop := d.ticking()
	diags := d.r.PlanDestroy().Apply()
	stop()
	if diags.HasError("") {
		t.Fatalf("destroy: %s", diags)
	}
	t.Logf("destroy said: %s", diags)
	if !diags.HasWarning("(?s)Detached Rollout Ended.*failed, gate aborted") {
		t.Errorf("the destroy does not say the rollout ended failed: %s", diags)
	}
	if w := d.s.writes()[before:]; len(w) != 0 {
		t.Errorf("the destroy wrote %v to the subject", w)
	}
	if live := d.s.live(); live.Canonical() != held.Canonical() {
		t.Errorf("the subject serves %s, held at %s", live.Short(), held.Short())
	}
	ns, _ := q.Read(3)
	checkRun(t, ns)
	if len(ns) != 3 || ns[2].Type != rollout.NoticeFailed || ns[2].Failure == nil || ns[2].Failure.Gate != rollout.GateAborted {
		t.Fatalf("notices %v, want started, held, failed (aborted)", acctest.Kinds(ns))
	}
	st, ok := awsclient.ParseStatus(d.lease().Status)
	if !ok || st.Type != rollout.NoticeFailed || st.Step != 1 || st.Steps != 2 {
		t.Errorf("status tag %q, want failed 1/2", d.lease().Status)
	}
	if x := d.e.Emu.Executions()[0]; x.Status == "RUNNING" || x.Status == "ABORTED" {
		t.Errorf("the execution is %s: the orchestrator did not end it", x.Status)
	}
	n := d.e.NewEngine(nil).Resource(d.s.typ)
	cfg := d.config(d.s.to, false, "")
	cfg["adopt"] = true
	if p := n.Plan(cfg); p.Diags.HasWarning("Rollout In Progress Found") {
		t.Errorf("a create after the destroy warns of a rollout in progress: %s", p.Diags)
	}
}

// When the orchestrator does not end the run in time (its calls are not
// made: here nothing plays the state machine), the destroy stops the
// execution and says so: no end notice was sent; the status tag says
// failed all the same, so that nothing later finds a rollout in progress.
func TestDetachedDestroyStopsExecutionWhenNotEnded(t *testing.T) {
	d, _ := newDRigNotices(t)
	if diags := d.apply(d.config(d.s.to, true, "")); diags.HasError("") {
		t.Fatal(diags)
	}
	diags := d.r.PlanDestroy().Apply()
	if diags.HasError("") {
		t.Fatalf("destroy: %s", diags)
	}
	t.Logf("destroy said: %s", diags)
	if !diags.HasWarning("(?s)Detached Rollout Stopped.*had not ended") {
		t.Errorf("the destroy does not say it stopped the execution that did not end: %s", diags)
	}
	if x := d.e.Emu.Executions()[0]; x.Status != "ABORTED" {
		t.Errorf("the execution is %s, want ABORTED (stopped)", x.Status)
	}
	if st, ok := awsclient.ParseStatus(d.lease().Status); !ok || st.Type != rollout.NoticeFailed {
		t.Errorf("status tag %q, want failed", d.lease().Status)
	}
}

// A detached promote whose first write AWS refuses (the orchestrator's
// role lacks elasticloadbalancing:ModifyListener) holds the run again where
// it was, as in an apply's run, and says so where a plan looks: the
// status tag says held, the run tag that the promote was refused, and the
// refresh warns (naming the permission) and forgets the refused token, so
// that the same configuration applied again promotes again. The
// orchestrator does not try the write every poll meanwhile; no end notice
// is sent.
func TestDetachedPromoteRefusedStaysHeld(t *testing.T) {
	d, q := newDRigNotices(t)
	if diags := d.apply(d.config(d.s.to, true, "")); diags.HasError("") {
		t.Fatal(diags)
	}
	held := d.s.live()
	d.e.Emu.FaultNext("elasticloadbalancing:ModifyListener", emulator.Denied, 1000)
	if diags := d.r.PlanApply(d.config(d.s.to, true, "go")); diags.HasError("") {
		t.Fatalf("promote: %s", diags)
	}
	calls := 0
	d.states.Fault = func(string) acctest.CallFault { calls++; return "" }
	if err := d.states.Run(context.Background(), d.e.Clock.Now().Add(30*time.Minute), nil); err != nil {
		t.Fatal(err)
	}
	if live := d.s.live(); live.Canonical() != held.Canonical() {
		t.Fatalf("serves %s, held at %s", live.Short(), held.Short())
	}
	if st, ok := awsclient.ParseStatus(d.lease().Status); !ok || st.Type != rollout.NoticeHeld || st.Step != 1 {
		t.Errorf("status tag %q, want held 1/2", d.lease().Status)
	}
	if run := d.lease().Run; !strings.HasPrefix(run, "refused ") || !strings.Contains(run, "elasticloadbalancing:ModifyListener") {
		t.Errorf("run tag %q does not say the promote was refused, naming the permission", run)
	}
	rd := d.r.Refresh()
	t.Logf("refresh said: %s; last_rollout %s: %s", rd, d.r.String("last_rollout.status"), d.r.String("last_rollout.reason"))
	if !rd.HasWarning("(?s)Promote Not Applied.*elasticloadbalancing:ModifyListener") {
		t.Errorf("the refresh does not say the promote was refused, naming the permission: %s", rd)
	}
	if r := d.r.String("last_rollout.reason"); !strings.Contains(r, "held after step 1") || !strings.Contains(r, "refused") {
		t.Errorf("last_rollout.reason %q does not say it is held because the promote was refused", r)
	}
	ns, _ := q.Read(3)
	if got := acctest.Kinds(ns); len(ns) != 3 || ns[2].Type != rollout.NoticePromoted {
		t.Errorf("notices %v, want started, held, promoted (no end)", got)
	}
	// The same configuration, applied again once the permission is there,
	// promotes again.
	d.e.Emu.ClearFaults()
	p := d.r.Plan(d.config(d.s.to, true, "go"))
	if p.Diags.HasError("") {
		t.Fatalf("plan: %s", p.Diags)
	}
	stop := d.ticking()
	diags := p.Apply()
	stop()
	if diags.HasError("") {
		t.Fatalf("promote again: %s", diags)
	}
	d.settle()
	if got := d.r.String("last_rollout.status"); got != string(rollout.Succeeded) {
		t.Errorf("after promoting again last_rollout.status = %q (%s), want succeeded", got, d.r.String("last_rollout.reason"))
	}
}

// A detached run whose promote AWS always refuses, left held: it ends at
// the execution's deadline, whose failure says so (not "the apply reached
// its timeout": no apply is waiting).
func TestDetachedPromoteRefusedUntilDeadline(t *testing.T) {
	d, _ := newDRigNotices(t)
	if diags := d.apply(d.config(d.s.to, true, "")); diags.HasError("") {
		t.Fatal(diags)
	}
	d.e.Emu.FaultNext("elasticloadbalancing:ModifyListener", emulator.Denied, 100000)
	if diags := d.r.PlanApply(d.config(d.s.to, true, "go")); diags.HasError("") {
		t.Fatalf("promote: %s", diags)
	}
	if err := d.states.Run(context.Background(), d.e.Clock.Now().Add(6*time.Hour), nil); err != nil {
		t.Fatal(err)
	}
	_ = d.r.Refresh()
	x := d.e.Emu.Executions()[0]
	t.Logf("calls %d; execution %s; last_rollout %s / %s / %s", d.states.Calls, x.Status, d.r.String("last_rollout.status"), d.r.String("last_rollout.gate"), d.r.String("last_rollout.reason"))
	if x.Status == "RUNNING" {
		t.Fatal("the execution still runs after 6 hours")
	}
	if r := d.r.String("last_rollout.reason"); strings.Contains(r, "apply") || !strings.Contains(r, "deadline") {
		t.Errorf("last_rollout.reason %q: want the execution's deadline", r)
	}
}

// on_destroy = "restore" with a held detached run: the run ends where it
// is first (its end notice), then the restore is declined as for any
// change that did not succeed (no traffic moved at once without gates).
func TestDetachedDestroyHeldRestore(t *testing.T) {
	d, q := newDRigNotices(t)
	cfg := d.config(d.s.to, true, "")
	cfg["on_destroy"] = "restore"
	if diags := d.apply(cfg); diags.HasError("") {
		t.Fatal(diags)
	}
	before := len(d.s.writes())
	stop := d.ticking()
	diags := d.r.PlanDestroy().Apply()
	stop()
	t.Logf("destroy said: %s", diags)
	if diags.HasError("") || !diags.HasWarning("Detached Rollout Ended") || !diags.HasWarning("Not Restored") {
		t.Errorf("destroy: %s", diags)
	}
	if w := d.s.writes()[before:]; len(w) != 0 {
		t.Errorf("the destroy wrote %v", w)
	}
	ns, _ := q.Read(3)
	checkRun(t, ns)
}

// A destroy while the detached run is running (in a pause, not held) ends
// it the same way: where it is, failed, gate aborted, nothing written.
func TestDetachedDestroyRunningEndsRun(t *testing.T) {
	d, q := newDRigNotices(t)
	cfg := d.config(d.s.to, false, "")
	cfg["rollout"].(map[string]any)["steps"] = []any{map[string]any{"percent": 20, "pause": "30m"}, map[string]any{"percent": 100}}
	stop := d.ticking()
	diags := d.r.PlanApply(cfg)
	stop()
	if diags.HasError("") || d.r.String("last_rollout.status") != "running" {
		t.Fatalf("apply: %s; last_rollout.status %s", diags, d.r.String("last_rollout.status"))
	}
	if err := d.states.Run(context.Background(), d.e.Clock.Now().Add(5*time.Minute), nil); err != nil {
		t.Fatal(err)
	}
	at := d.s.live()
	before := len(d.s.writes())
	stop = d.ticking()
	diags = d.r.PlanDestroy().Apply()
	stop()
	t.Logf("destroy said: %s", diags)
	if diags.HasError("") || !diags.HasWarning("(?s)Detached Rollout Ended.*failed, gate aborted") {
		t.Errorf("destroy: %s", diags)
	}
	if w := d.s.writes()[before:]; len(w) != 0 || d.s.live().Canonical() != at.Canonical() {
		t.Errorf("the destroy wrote %v (serves %s, was %s)", w, d.s.live().Short(), at.Short())
	}
	ns, _ := q.Read(3)
	checkRun(t, ns)
	if st, ok := awsclient.ParseStatus(d.lease().Status); !ok || st.Type != rollout.NoticeFailed {
		t.Errorf("status tag %q, want failed", d.lease().Status)
	}
}
