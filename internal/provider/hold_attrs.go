package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/rolloutdev/terraform-provider-rollout/internal/awsclient"
	"github.com/rolloutdev/terraform-provider-rollout/internal/pipeline"
)

// The rollout block's hold attributes as the provider checks them, and the
// plan and private-state plumbing of a held rollout: what the pipeline's
// hold (internal/pipeline/hold.go) needs from Terraform, and nothing it decides.

// checkHolds refuses, at plan, holds that cannot work: a hold as the last
// step, a hold timeout without holds or shorter than the poll interval.
func checkHolds(m rolloutModel, steps []stepModel, base path.Path, diags *diag.Diagnostics) {
	holds := 0
	for i, s := range steps {
		if s.Pause.ValueString() != pipeline.PauseHold {
			continue
		}
		holds++
		if i == len(steps)-1 {
			diags.AddAttributeError(base.AtName("steps").AtListIndex(i).AtName("pause"), "Hold As Last Step", pipeline.Detail(nil,
				fmt.Sprintf("rollout.steps[%d] is the last step and holds; after the last step there is nothing to promote.", i),
				"Put the hold on an earlier step, or give the last step a pause (or none)."))
		}
	}
	timeout, err := time.ParseDuration(m.HoldTimeout.ValueString())
	switch {
	case m.HoldTimeout.IsNull() || m.HoldTimeout.IsUnknown():
		if !m.HoldAction.IsNull() && !m.HoldAction.IsUnknown() {
			diags.AddAttributeError(base.AtName("hold_timeout_action"), "Hold Timeout Action Without Timeout", pipeline.Detail(nil,
				"rollout.hold_timeout_action is set, but rollout.hold_timeout is not: a hold waits for ever.",
				"Set hold_timeout, or remove hold_timeout_action."))
		}
	case holds == 0 && !m.Steps.IsUnknown():
		diags.AddAttributeError(base.AtName("hold_timeout"), "Hold Timeout Without Hold", pipeline.Detail(nil,
			"rollout.hold_timeout is set, but no step holds (pause = \"hold\").",
			"Give a step pause = \"hold\", or remove hold_timeout."))
	case err != nil || timeout < minPollInterval || timeout > maxHoldTimeout:
		// Not a duration, or out of range: the attribute's validator says
		// so; compared with poll_interval it would read as 0s.
	case !m.PollInterval.IsUnknown() && timeout < parseDuration(m.PollInterval, pipeline.DefaultPollInterval):
		diags.AddAttributeError(base.AtName("hold_timeout"), "Hold Timeout Shorter Than Poll Interval", pipeline.Detail(nil,
			fmt.Sprintf("rollout.hold_timeout is %s, shorter than poll_interval (%s): the hold would time out before it is first looked at.", timeout, parseDuration(m.PollInterval, pipeline.DefaultPollInterval)),
			"Set hold_timeout to poll_interval or more."))
	}
}

// settingsOf is a rollout block's settings, for a plan's checks.
func settingsOf(ctx context.Context, o types.Object) pipeline.Settings {
	s, _ := settingsFrom(ctx, o)
	return s
}

// keepOrAct sets a held subject's plan: when the apply acts, the steps
// still to run and last_rollout unknown; when it does not, planned_steps
// and last_rollout as the state has them (the plan is empty: nothing
// happens; the warning says what is still to run).
func keepOrAct(ctx context.Context, state tfsdk.State, resp *resource.ModifyPlanResponse, steps types.List, acts bool, last types.Object) {
	if acts {
		last = types.ObjectUnknown(lastRolloutAttrTypes)
	} else {
		resp.Diagnostics.Append(state.GetAttribute(ctx, path.Root("planned_steps"), &steps)...)
	}
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("planned_steps"), steps)...)
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("last_rollout"), last)...)
}

// lookedKey is the private state key where a refresh of a held rollout
// records when it looked (markLooked).
const lookedKey = "held_looked_at"

type privateGetter interface {
	GetKey(ctx context.Context, key string) ([]byte, diag.Diagnostics)
}

type privateSetter interface {
	SetKey(ctx context.Context, key string, value []byte) diag.Diagnostics
}

// markLooked records, in a refresh of a held rollout, when it looked: the
// moment the plan made from this state asks whether the hold timed out
// (lookedAt). Core plans a saved plan again at apply, from the prior state
// the saved plan was made from; a plan that asked the clock would then
// show the timeout's action where the saved plan showed none.
func markLooked(ctx context.Context, c *awsclient.Client, last pipeline.Record, private privateSetter, diags *diag.Diagnostics) {
	if _, held := pipeline.HeldOf(last); !held || c == nil || private == nil {
		return
	}
	at, _ := json.Marshal(c.Clock.Now().UTC().Format(time.RFC3339Nano))
	diags.Append(private.SetKey(ctx, lookedKey, at)...)
}

// lookedAt is when a refresh last looked at a held rollout (markLooked),
// as the private state of the state a plan starts from records it; zero
// when none did. The plan asks whether the hold timed out as of then, or
// as of when it was held, whichever came last (pipeline.PlanHeldSame).
func lookedAt(ctx context.Context, private privateGetter) time.Time {
	if private == nil {
		return time.Time{}
	}
	raw, _ := private.GetKey(ctx, lookedKey)
	var text string
	if len(raw) == 0 || json.Unmarshal(raw, &text) != nil {
		return time.Time{}
	}
	t, _ := time.Parse(time.RFC3339Nano, text)
	return t
}

// refuseHold refuses holds in a release's service: a release runs its
// services in one apply, in order, and rolls back what it started when one
// fails; a service stopped half-way between two applies would hold its
// dependents and the release's rollback across applies.
func refuseHold(ctx context.Context, o types.Object, at path.Path, diags *diag.Diagnostics) {
	if !o.IsNull() && !o.IsUnknown() {
		if v, ok := o.Attributes()["promote"].(types.String); ok && !v.IsNull() {
			diags.AddAttributeError(at.AtName("promote"), "Promote In A Release", pipeline.Detail(nil,
				"rollout.promote is set; it goes on after a hold, and a release's services cannot hold: a release runs its services, their order and the rollback of what it started in one apply.",
				"Remove rollout.promote. To have a person look at a canary before it goes on, roll that service out on its own (rollout_traffic_split) with a hold and promote it there, and release the rest once it is promoted."))
		}
	}
	st, known, _ := strategyFrom(ctx, o)
	if !known {
		return
	}
	for i, s := range st.Steps {
		if s.Hold {
			diags.AddAttributeError(at.AtName("steps").AtListIndex(i).AtName("pause"), "Hold In A Release", pipeline.Detail(nil,
				fmt.Sprintf("steps[%d] holds; a release runs its services, their order and the rollback of what it started in one apply, and a service cannot stop half-way between two applies.", i),
				"Use a pause (a duration) here. To have a person look at a canary before it goes on, roll that service out on its own (rollout_traffic_split) with a hold, and release the rest once it is promoted."))
		}
	}
}
