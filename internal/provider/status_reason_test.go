package provider_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rolloutdev/terraform-provider-rollout/internal/emulator"
)

// rollout_status says why a detached run is held again when AWS refused
// its promote (the orchestrator's run tag says so): reason names the
// refusal and the permission, as last_rollout.reason does.
func TestStatusDataSourceSaysRefusedPromote(t *testing.T) {
	d, _ := newDRigNotices(t)
	if diags := d.apply(d.config(d.s.to, true, "")); diags.HasError("") {
		t.Fatal(diags)
	}
	d.e.Emu.FaultNext("elasticloadbalancing:ModifyListener", emulator.Denied, 1000)
	if diags := d.r.PlanApply(d.config(d.s.to, true, "go")); diags.HasError("") {
		t.Fatalf("promote: %s", diags)
	}
	if err := d.states.Run(context.Background(), d.e.Clock.Now().Add(30*time.Minute), nil); err != nil {
		t.Fatal(err)
	}
	if run := d.lease().Run; !strings.HasPrefix(run, "refused ") {
		t.Fatalf("run tag %q: the promote was not refused", run)
	}
	listener := d.s.config(d.s.to, nil)["listener_arn"]
	got, diags := d.e.NewEngine(nil).ReadData("rollout_status", map[string]any{"listener_arn": listener})
	if diags.HasError("") {
		t.Fatalf("read: %s", diags)
	}
	t.Logf("rollout_status: status %v, reason %v", got["status"], got["reason"])
	if got["status"] != "held" {
		t.Errorf("status %v, want held", got["status"])
	}
	reason, _ := got["reason"].(string)
	if !strings.Contains(reason, "promote was refused") || !strings.Contains(reason, "elasticloadbalancing:ModifyListener") {
		t.Errorf("reason %q does not say the promote was refused, naming the permission", reason)
	}
	// Once promoted again, the refusal is no longer the reason.
	d.e.Emu.ClearFaults()
	if rd := d.r.Refresh(); rd.HasError("") {
		t.Fatalf("refresh: %s", rd)
	}
	stop := d.ticking()
	diags = d.r.PlanApply(d.config(d.s.to, true, "go"))
	stop()
	if diags.HasError("") {
		t.Fatalf("promote again: %s", diags)
	}
	d.settle()
	got, _ = d.e.NewEngine(nil).ReadData("rollout_status", map[string]any{"listener_arn": listener})
	if got["status"] != "succeeded" || got["reason"] != "" {
		t.Errorf("after the promote: status %v, reason %q; want succeeded with no reason", got["status"], got["reason"])
	}
}
