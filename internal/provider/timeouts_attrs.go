package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/rolloutdev/terraform-provider-rollout/internal/pipeline"
	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
)

// The timeouts block: a schedule's waits against the create or update
// timeout.

// checkScheduleTimeout refuses a schedule whose pauses alone outlast the
// timeout.
func checkScheduleTimeout(ctx context.Context, t timeouts.Value, op pipeline.Operation, steps []rollout.PlannedStep, ro types.Object, diags *diag.Diagnostics) {
	s, _ := settingsFrom(ctx, ro)
	if s.Detached != nil {
		// The schedule runs in AWS; the apply waits for its first step
		// only (checkDetached bounds the rest).
		return
	}
	total := rollout.TotalPause(steps) + pipeline.GateWaits(s, steps)
	checkTimeoutTotal(ctx, t, op, total, fmt.Sprintf("The %d steps of this rollout pause for %s in all", len(steps), total), diags)
}

// checkTimeoutTotal refuses a change whose waits (total, described by what)
// outlast the create or update timeout.
func checkTimeoutTotal(ctx context.Context, t timeouts.Value, op pipeline.Operation, total time.Duration, what string, diags *diag.Diagnostics) {
	if total == 0 || t.IsUnknown() {
		return
	}
	name, limit, d := "update", time.Duration(0), diag.Diagnostics(nil)
	if op == pipeline.Creating {
		name = "create"
		limit, d = t.Create(ctx, defaultApplyTimeout)
	} else {
		limit, d = t.Update(ctx, defaultApplyTimeout)
	}
	if d.HasError() {
		return
	}
	if total > limit {
		diags.AddAttributeError(path.Root("timeouts").AtName(name), "Schedule Longer Than Timeout", pipeline.Detail(nil,
			fmt.Sprintf("%s, longer than the %s timeout of %s (metrics delays count as pauses), so the apply would stop half way and roll back.", what, name, limit),
			fmt.Sprintf("Set timeouts = { %s = \"%s\" } or more (pauses plus time for gates and hooks), or shorten the pauses.", name, pipeline.ShortDuration((total+15*time.Minute).Round(time.Minute)))))
	}
}
