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
	"github.com/rolloutdev/terraform-provider-rollout/internal/pipeline"
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
	p, ok := r.planOf(ctx, req, resp)
	if !ok || !p.allowed() {
		return
	}
	p.planTargetGroups(ctx)
	pipeline.CheckPromote(nil, recordOf(p.state.LastRollout), settingsOf(ctx, p.state.Rollout), settingsOf(ctx, p.plan.Rollout), !p.same, reportTo(&resp.Diagnostics))
	if h, held := pipeline.HeldOf(recordOf(p.state.LastRollout)); held && p.same {
		p.planHeld(ctx, h)
		return
	}
	if p.same {
		p.planUnchanged(ctx)
		return
	}
	p.planFlip(ctx)
}

// blueGreenPlan is one plan of a change to a blue/green: the state, the plan
// and what bluegreen.Decide makes of them.
type blueGreenPlan struct {
	r           *blueGreenResource
	req         resource.ModifyPlanRequest
	resp        *resource.ModifyPlanResponse
	plan, state blueGreenModel
	st          bluegreen.State
	active      bluegreen.Color
	d           bluegreen.Decision
	// want is the traffic the plan serves; same is true when the listener
	// serves it already.
	want map[bluegreen.Color]int
	same bool
}

// planOf reads the plan and the state and decides what the change does (not
// ok while an attribute it needs is unknown).
func (r *blueGreenResource) planOf(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) (*blueGreenPlan, bool) {
	p := &blueGreenPlan{r: r, req: req, resp: resp}
	resp.Diagnostics.Append(req.Plan.Get(ctx, &p.plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &p.state)...)
	plan := p.plan
	if resp.Diagnostics.HasError() || plan.Active.IsUnknown() || plan.Port.IsUnknown() || plan.Protocol.IsUnknown() || plan.VPCID.IsUnknown() || plan.TargetType.IsUnknown() {
		return nil, false
	}
	p.st = r.stateOf(ctx, p.state, &resp.Diagnostics)
	p.active = bluegreen.Color(plan.Active.ValueString())
	p.d = bluegreen.Decide(p.st, p.active, plan.settings())
	p.want = wantWeights(p.active)
	p.same = serves(p.st.Weights, p.want)
	return p, true
}

// allowed reports whether the change may be planned: not one that needs two
// applies, nor an idle replacement while a detached flip runs. It warns of
// settings the live target group keeps.
func (p *blueGreenPlan) allowed() bool {
	d, diags := p.d, &p.resp.Diagnostics
	if d.Refused != "" {
		at := path.Root("port")
		if d.Flip {
			at = path.Root("active")
		}
		diags.AddAttributeError(at, "Change Needs Two Applies", pipeline.Detail(nil, d.Refused+"."))
		return false
	}
	if d.Later != "" {
		diags.AddAttributeWarning(path.Root("port"), "Live Target Group Keeps Old Settings", pipeline.Detail(nil, bluegreen.LaterAdvice(d.Later)+"."))
	}
	if recordOf(p.state.LastRollout).Status == pipeline.StatusRunning && d.Replace != "" {
		// Replacing the idle color points the listener at the new target
		// group, over the weights the running flip writes.
		pipeline.RefuseWhileRunning(problem.At("port"), recordOf(p.state.LastRollout), reportTo(diags))
		return false
	}
	return true
}

// set plans one attribute.
func (p *blueGreenPlan) set(ctx context.Context, name string, v attr.Value) {
	p.resp.Diagnostics.Append(p.resp.Plan.SetAttribute(ctx, path.Root(name), v)...)
}

// planTargetGroups plans the target groups: both kept, but the idle one
// replaced (unknown until the apply) when its settings change.
func (p *blueGreenPlan) planTargetGroups(ctx context.Context) {
	state, d := p.state, p.d
	fps := stringMap(ctx, state.Settings, &p.resp.Diagnostics)
	p.set(ctx, "blue_target_group_arn", state.BlueARN)
	p.set(ctx, "green_target_group_arn", state.GreenARN)
	if d.Replace != "" {
		fps[string(d.Replace)] = p.plan.settings().Fingerprint()
		p.set(ctx, string(d.Replace)+"_target_group_arn", types.StringUnknown())
	}
	p.set(ctx, "target_group_settings", settingsValue(fps))
	arnAfter := func(c bluegreen.Color) attr.Value {
		if c == d.Replace {
			return types.StringUnknown()
		}
		return types.StringValue(state.arnOf(c))
	}
	p.set(ctx, "live_target_group_arn", arnAfter(p.active))
	p.set(ctx, "idle_target_group_arn", arnAfter(p.active.Other()))
}

// planHeld plans a change that keeps the traffic of a held rollout: the hold
// goes on, or acts (a promote, an abort) and moves traffic.
func (p *blueGreenPlan) planHeld(ctx context.Context, h pipeline.HeldRun) {
	state, resp := p.state, p.resp
	p.set(ctx, "traffic", state.Traffic)
	p.set(ctx, "history", state.History)
	p.set(ctx, "previous_active", state.PreviousActive)
	prev := bluegreen.Color(state.PreviousActive.ValueString())
	steps, acts, ok := pipeline.PlanHeldSame(ctx, p.r.client, p.r.subject(state, prev), h, settingsOf(ctx, p.plan.Rollout), splitOf(state, p.want), lookedAt(ctx, p.req.Private), reportTo(&resp.Diagnostics))
	if !ok {
		return
	}
	keepOrAct(ctx, p.req.State, resp, plannedStepsValue(steps), acts, state.LastRollout)
	if acts {
		p.set(ctx, "history", types.ListUnknown(historyObjectType))
		p.set(ctx, "traffic", types.MapUnknown(types.Int64Type))
		p.set(ctx, "live_target_group_arn", types.StringUnknown())
		p.set(ctx, "idle_target_group_arn", types.StringUnknown())
	}
}

// planUnchanged plans a change that keeps the traffic the listener serves.
func (p *blueGreenPlan) planUnchanged(ctx context.Context) {
	state := p.state
	p.set(ctx, "traffic", state.Traffic)
	p.set(ctx, "planned_steps", state.PlannedSteps)
	p.set(ctx, "last_rollout", recordValue(pipeline.PlanRunningSame(ctx, p.r.client, p.r.subjectOf(state), recordOf(state.LastRollout), settingsOf(ctx, p.plan.Rollout), reportTo(&p.resp.Diagnostics))))
	p.set(ctx, "history", state.History)
	p.set(ctx, "previous_active", state.PreviousActive)
}

// planFlip plans a flip: the traffic moves to the active color by the steps
// of the rollout.
func (p *blueGreenPlan) planFlip(ctx context.Context) {
	plan, state, diags := p.plan, p.state, &p.resp.Diagnostics
	p.set(ctx, "traffic", trafficValue(p.want))
	p.set(ctx, "last_rollout", types.ObjectUnknown(lastRolloutAttrTypes))
	p.set(ctx, "history", types.ListUnknown(historyObjectType))
	p.set(ctx, "previous_active", flipOrigin(state, p.active))
	strategy, known, ds := strategyFrom(ctx, plan.Rollout)
	diags.Append(ds...)
	if !known || len(strategy.Problems()) > 0 {
		p.set(ctx, "planned_steps", types.ListUnknown(plannedStepObjectType))
		return
	}
	if !pipeline.RefuseWhileForeign(ctx, p.r.client, controller(plan.ControlledBy), problem.At("active"), reportTo(diags)) {
		return
	}
	settings, _ := settingsFrom(ctx, plan.Rollout)
	steps, ok := pipeline.Plan(ctx, p.r.client, pipeline.Planned{At: problem.At("active"), Kind: "listener", From: splitOf(state, p.st.Weights), To: splitOf(state, p.want),
		Strategy: strategy, Settings: settings, Last: recordOf(state.LastRollout), Subj: p.r.subjectOf(state)}, reportTo(diags))
	if !ok {
		return
	}
	p.set(ctx, "planned_steps", plannedStepsValue(steps))
	checkScheduleTimeout(ctx, plan.Timeouts, pipeline.Updating, steps, plan.Rollout, diags)
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
	if !pipeline.RefuseWhileForeign(ctx, r.client, controller(plan.ControlledBy), problem.At("active"), reportTo(&resp.Diagnostics)) {
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
	resp.Diagnostics.AddAttributeWarning(path.Root("active"), "Listener Traffic Moves On Create", pipeline.Detail(nil,
		fmt.Sprintf("%s forwards to %s now. Creating this deployment sends all of it at once to the new %s target group, which has no targets yet.", plan.ref().ID(), fwd.Split.Short(), plan.Active.ValueString()),
		"Register targets in it right after the apply (ECS services and Auto Scaling groups that reference blue_target_group_arn and green_target_group_arn do), or create the deployment on a listener that does not serve production traffic yet."))
}

// subjectOf is a blue/green in state as the plan reads it (nil without a
// client).
func (r *blueGreenResource) subjectOf(m blueGreenModel) pipeline.Subject {
	if r.client == nil {
		return nil
	}
	return r.subject(m, bluegreen.Color(m.PreviousActive.ValueString()))
}
