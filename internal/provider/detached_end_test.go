package provider_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rolloutdev/terraform-provider-rollout/internal/acctest"
	"github.com/rolloutdev/terraform-provider-rollout/internal/awsclient"
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
