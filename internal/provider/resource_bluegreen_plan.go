package provider

// Planning rollout_deployment_bluegreen: what a change does to each color and
// to traffic, shown before anything moves.

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/rolloutdev/terraform-provider-rollout/internal/bluegreen"
	"github.com/rolloutdev/terraform-provider-rollout/internal/problem"
)

func (r *blueGreenResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return
	}
	if req.State.Raw.IsNull() {
		r.warnTakeover(ctx, req, resp)
		return
	}
	var plan, state blueGreenModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() || plan.Active.IsUnknown() || plan.Port.IsUnknown() || plan.Protocol.IsUnknown() || plan.VPCID.IsUnknown() || plan.TargetType.IsUnknown() {
		return
	}
	st := r.stateOf(ctx, state, &resp.Diagnostics)
	active := bluegreen.Color(plan.Active.ValueString())
	d := bluegreen.Decide(st, active, plan.settings())
	if d.Refused != "" {
		at := path.Root("port")
		if d.Flip {
			at = path.Root("active")
		}
		resp.Diagnostics.AddAttributeError(at, "Change Needs Two Applies", detail(nil, d.Refused+"."))
		return
	}
	if d.Later != "" {
		resp.Diagnostics.AddAttributeWarning(path.Root("port"), "Live Target Group Keeps Old Settings", detail(nil, bluegreen.LaterAdvice(d.Later)+"."))
	}
	if recordOf(state.LastRollout).Status == statusRunning && d.Replace != "" {
		// Replacing the idle color points the listener at the new target
		// group, over the weights the running flip writes.
		refuseWhileRunning(problem.At("port"), recordOf(state.LastRollout), reportTo(&resp.Diagnostics))
		return
	}
	set := func(name string, v attr.Value) {
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root(name), v)...)
	}
	fps := stringMap(ctx, state.Settings, &resp.Diagnostics)
	set("blue_target_group_arn", state.BlueARN)
	set("green_target_group_arn", state.GreenARN)
	if d.Replace != "" {
		fps[string(d.Replace)] = plan.settings().Fingerprint()
		set(string(d.Replace)+"_target_group_arn", types.StringUnknown())
	}
	set("target_group_settings", settingsValue(fps))
	arnAfter := func(c bluegreen.Color) attr.Value {
		if c == d.Replace {
			return types.StringUnknown()
		}
		return types.StringValue(state.arnOf(c))
	}
	set("live_target_group_arn", arnAfter(active))
	set("idle_target_group_arn", arnAfter(active.Other()))
	want := wantWeights(active)
	same := st.Weights[bluegreen.Blue] == want[bluegreen.Blue] && st.Weights[bluegreen.Green] == want[bluegreen.Green]
	checkPromote(nil, recordOf(state.LastRollout), settingsOf(ctx, state.Rollout), settingsOf(ctx, plan.Rollout), !same, reportTo(&resp.Diagnostics))
	if h, held := heldOf(recordOf(state.LastRollout)); held && same {
		set("traffic", state.Traffic)
		set("history", state.History)
		set("previous_active", state.PreviousActive)
		prev := bluegreen.Color(state.PreviousActive.ValueString())
		steps, acts, ok := planHeldSame(ctx, r.client, r.subject(state, prev), h, settingsOf(ctx, plan.Rollout), splitOf(state, want), req.Private, reportTo(&resp.Diagnostics))
		if ok {
			keepOrAct(ctx, req.State, resp, plannedStepsValue(steps), acts, state.LastRollout)
			if acts {
				set("history", types.ListUnknown(historyObjectType))
				set("traffic", types.MapUnknown(types.Int64Type))
				set("live_target_group_arn", types.StringUnknown())
				set("idle_target_group_arn", types.StringUnknown())
			}
		}
		return
	}
	if same {
		set("traffic", state.Traffic)
		set("planned_steps", state.PlannedSteps)
		set("last_rollout", recordValue(planRunningSame(ctx, r.client, r.subjectOf(state), recordOf(state.LastRollout), settingsOf(ctx, plan.Rollout), reportTo(&resp.Diagnostics))))
		set("history", state.History)
		set("previous_active", state.PreviousActive)
		return
	}
	set("traffic", trafficValue(want))
	set("last_rollout", types.ObjectUnknown(lastRolloutAttrTypes))
	set("history", types.ListUnknown(historyObjectType))
	set("previous_active", flipOrigin(state, active))
	strategy, known, ds := strategyFrom(ctx, plan.Rollout)
	resp.Diagnostics.Append(ds...)
	if !known || len(strategy.Problems()) > 0 {
		set("planned_steps", types.ListUnknown(plannedStepObjectType))
		return
	}
	if !refuseWhileForeign(ctx, r.client, plan.ControlledBy, path.Root("active"), &resp.Diagnostics) {
		return
	}
	settings, _ := settingsFrom(ctx, plan.Rollout)
	steps, ok := planChange(ctx, r.client, plannedChange{at: problem.At("active"), kind: "listener", from: splitOf(state, st.Weights), to: splitOf(state, want),
		strategy: strategy, settings: settings, last: recordOf(state.LastRollout), subj: r.subjectOf(state)}, reportTo(&resp.Diagnostics))
	if !ok {
		return
	}
	set("planned_steps", plannedStepsValue(steps))
	checkScheduleTimeout(ctx, plan.Timeouts, updating, steps, plan.Rollout, &resp.Diagnostics)
}

// warnTakeover says, when planning a create, that the listener's current
// traffic moves at once to the new (still empty) target group of the active
// color: no surprise traffic moves.
func (r *blueGreenResource) warnTakeover(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	var plan blueGreenModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() || r.client == nil || plan.ListenerARN.IsUnknown() || plan.RuleARN.IsUnknown() || plan.Active.IsUnknown() {
		return
	}
	if !refuseWhileForeign(ctx, r.client, plan.ControlledBy, path.Root("active"), &resp.Diagnostics) {
		return
	}
	acts, err := r.client.ReadActions(ctx, plan.ref())
	if err != nil {
		return // Create reports it
	}
	fwd, ok := acts.Forward()
	if !ok || len(fwd.Split) == 0 {
		return
	}
	resp.Diagnostics.AddAttributeWarning(path.Root("active"), "Listener Traffic Moves On Create", detail(nil,
		fmt.Sprintf("%s forwards to %s now. Creating this deployment sends all of it at once to the new %s target group, which has no targets yet.", plan.ref().ID(), fwd.Split.Short(), plan.Active.ValueString()),
		"Register targets in it right after the apply (ECS services and Auto Scaling groups that reference blue_target_group_arn and green_target_group_arn do), or create the deployment on a listener that does not serve production traffic yet."))
}

// subjectOf is a blue/green in state as the plan reads it (nil without a
// client).
func (r *blueGreenResource) subjectOf(m blueGreenModel) subject {
	if r.client == nil {
		return nil
	}
	return r.subject(m, bluegreen.Color(m.PreviousActive.ValueString()))
}
