package provider_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rolloutdev/terraform-provider-rollout/internal/acctest"
	"github.com/rolloutdev/terraform-provider-rollout/internal/emulator"
)

// A detached hold that timed out with hold_timeout_action = "promote",
// whose write AWS refuses (the orchestrator's role lacks the permission):
// the orchestrator tries it again at a growing interval (the engine's
// refusedBackoff), not at every poll until the execution's deadline; once
// the permission is there, the run goes on by itself, with one promoted
// notice.
func TestDetachedTimedOutPromoteRefusedBacksOff(t *testing.T) {
	d, q := newDRigNotices(t)
	cfg := d.config(d.s.to, true, "")
	ro := cfg["rollout"].(map[string]any)
	ro["hold_timeout"], ro["hold_timeout_action"] = "10m", "promote"
	ro["execution"].(map[string]any)["timeout"] = "12h"
	stop := d.ticking()
	diags := d.r.PlanApply(cfg)
	stop()
	if diags.HasError("") {
		t.Fatal(diags)
	}
	// The first step is written; the next write is refused from now on.
	d.e.Emu.FaultNext("elasticloadbalancing:ModifyListener", emulator.Denied, 100000)
	if err := d.states.Run(context.Background(), d.e.Clock.Now().Add(4*time.Hour), nil); err != nil {
		t.Fatal(err)
	}
	tries := d.e.Emu.Faulted()[emulator.Denied]
	t.Logf("%d refused writes in 4h, %d calls", tries, d.states.Calls)
	if tries < 3 || tries > 12 {
		t.Errorf("the refused write was tried %d times in 4 hours; want a few, at a growing interval", tries)
	}
	if st := d.lease().Status; !strings.HasPrefix(st, "held 1/2") {
		t.Errorf("status tag %q, want held 1/2", st)
	}
	d.e.Emu.ClearFaults()
	if err := d.states.Run(context.Background(), d.e.Clock.Now().Add(2*time.Hour), nil); err != nil {
		t.Fatal(err)
	}
	if x := d.e.Emu.Executions()[0]; x.Status != "SUCCEEDED" {
		t.Fatalf("the execution is %s, want SUCCEEDED once the write is allowed", x.Status)
	}
	if live := d.s.live(); live.Canonical() != d.s.to.Canonical() {
		t.Errorf("serves %s, want %s", live.Short(), d.s.to.Short())
	}
	ns, _ := q.Read(5)
	if got := strings.Join(acctest.Kinds(ns), " "); got != "started@0 held@1 promoted@1 step_completed@2 succeeded@2" {
		t.Errorf("notices %s", got)
	}
}
