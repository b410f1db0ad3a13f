package provider_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rolloutdev/terraform-provider-rollout/internal/awsclient"
	"github.com/rolloutdev/terraform-provider-rollout/internal/emulator"
	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
)

// A subject's status tag that no run keeps any more (a stale tag) is not
// "Rollout In Progress Found" when a resource adopts the subject: the plan
// says what it found, and keeps warning of a run that really goes on.

// adoptPlan plans a new resource that adopts d's subject towards its
// target (detached on d's orchestrator when d has one).
func (d *dRig) adoptPlan() string {
	d.t.Helper()
	cfg := d.config(d.s.to, false, "")
	cfg["adopt"] = true
	p := d.e.NewEngine(nil).Resource(d.s.typ).Plan(cfg)
	if p.Diags.HasError("") {
		d.t.Fatalf("plan: %s", p.Diags)
	}
	return p.Diags.String()
}

// A detached start that AWS refused, whose tags could not be put back
// (every tag removal denied), leaves a status tag that says the run
// started: no execution of that name exists, and the plan of a resource
// adopting the subject says the tag is stale, not that a rollout runs.
func TestStaleStatusAfterRefusedDetachedStart(t *testing.T) {
	d := newDRig(t, true)
	d.e.Emu.FaultNext("states:StartExecution", emulator.Denied, 1)
	d.e.Emu.FaultNext("elasticloadbalancing:RemoveTags", emulator.Denied, 3)
	diags := d.r.PlanApply(d.config(d.s.to, false, ""))
	if !diags.HasError("Cannot Start Detached Rollout") {
		t.Fatalf("want the start refused: %s", diags)
	}
	d.e.Emu.ClearFaults()
	l := d.lease()
	st, ok := awsclient.ParseStatus(l.Status)
	if !ok || st.Type != rollout.NoticeStarted || st.Execution == "" || !strings.HasPrefix(l.Run, "running ") {
		t.Fatalf("the refused start left run %q and status %q; the test wants them left saying it runs", l.Run, l.Status)
	}
	if n := len(d.e.Emu.Executions()); n != 0 {
		t.Fatalf("%d executions; the start was refused", n)
	}
	said := d.adoptPlan()
	t.Logf("the adopting plan said: %s", said)
	if strings.Contains(said, "Rollout In Progress Found") {
		t.Errorf("the plan finds a rollout in progress where none runs: %s", said)
	}
	if !strings.Contains(said, "Stale Rollout Status Found") || !strings.Contains(said, "has no execution "+st.Execution) {
		t.Errorf("the plan does not say the status tag is stale, naming the execution that does not exist: %s", said)
	}
}

// A detached run held in AWS is a rollout in progress: the adopting plan
// says so.
func TestStaleStatusLiveDetachedHoldStillWarns(t *testing.T) {
	d := newDRig(t, true)
	if diags := d.apply(d.config(d.s.to, true, "")); diags.HasError("") {
		t.Fatal(diags)
	}
	if st := d.lease().Status; !strings.HasPrefix(st, "held ") {
		t.Fatalf("not held: status tag %q", st)
	}
	said := d.adoptPlan()
	if !strings.Contains(said, "Rollout In Progress Found") || strings.Contains(said, "Stale") {
		t.Errorf("the plan does not say it found the held detached rollout: %s", said)
	}
}

// A run in the apply keeps its owner tag and writes its status before
// each wait: a status that says it runs with no owner, or written longer
// ago than any wait, is stale; a recent one with its owner is not. A
// detached run's status whose run tag says it ended is stale too.
func TestStaleStatusInApply(t *testing.T) {
	d := newDRig(t, false)
	ctx := context.Background()
	now := d.e.Clock.Now()
	for _, c := range []struct {
		name, owner, run, execution string
		at                          time.Time
		stale                       string
	}{
		{"no owner", "", "", "", now.Add(-time.Minute), "no resource owns the listener"},
		{"written long ago", "rollout_traffic_split/gone", "", "", now.Add(-72 * time.Hour), "written 72h0m0s ago"},
		// A detached run whose end the orchestrator recorded in the run
		// tag but not in the status tag.
		{"ended detached", "rollout_traffic_split/gone", "rolled_back rollout-ended", "rollout-ended", now.Add(-time.Minute), "says the execution rollout-ended ended rolled_back"},
		{"running", "rollout_traffic_split/other", "", "", now.Add(-time.Minute), ""},
	} {
		if err := d.s.lease.SetOwner(ctx, c.owner); err != nil {
			t.Fatal(err)
		}
		if err := d.s.lease.SetRun(ctx, c.run); err != nil {
			t.Fatal(err)
		}
		status := awsclient.StatusValue(rollout.Notice{Type: rollout.NoticeStepCompleted, Step: 1, Steps: 2, At: c.at, Execution: c.execution})
		if err := d.s.lease.SetStatus(ctx, status); err != nil {
			t.Fatal(err)
		}
		said := d.adoptPlan()
		switch {
		case c.stale == "" && !strings.Contains(said, "Rollout In Progress Found"):
			t.Errorf("%s: the plan does not say it found the rollout in progress: %s", c.name, said)
		case c.stale != "" && (strings.Contains(said, "Rollout In Progress Found") || !strings.Contains(said, "Stale Rollout Status Found") || !strings.Contains(said, c.stale)):
			t.Errorf("%s: the plan does not say the status tag is stale (%s): %s", c.name, c.stale, said)
		}
	}
}
