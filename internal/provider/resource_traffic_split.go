package provider

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/rolloutdev/terraform-provider-rollout/internal/arn"
	"github.com/rolloutdev/terraform-provider-rollout/internal/awsclient"
	"github.com/rolloutdev/terraform-provider-rollout/internal/pipeline"
	"github.com/rolloutdev/terraform-provider-rollout/internal/problem"
	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

var (
	_ resource.Resource                   = (*trafficSplitResource)(nil)
	_ resource.ResourceWithConfigure      = (*trafficSplitResource)(nil)
	_ resource.ResourceWithImportState    = (*trafficSplitResource)(nil)
	_ resource.ResourceWithValidateConfig = (*trafficSplitResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*trafficSplitResource)(nil)
)

// NewTrafficSplitResource builds rollout_traffic_split.
func NewTrafficSplitResource() resource.Resource { return &trafficSplitResource{} }

type trafficSplitResource struct{ client *awsclient.Client }

type trafficSplitModel struct {
	ID              types.String   `tfsdk:"id"`
	ListenerARN     types.String   `tfsdk:"listener_arn"`
	RuleARN         types.String   `tfsdk:"rule_arn"`
	TargetGroups    types.List     `tfsdk:"target_groups"`
	Stickiness      types.Object   `tfsdk:"stickiness"`
	OnDestroy       types.String   `tfsdk:"on_destroy"`
	Percentages     types.Map      `tfsdk:"percentages"`
	ReplacedActions types.String   `tfsdk:"replaced_actions"`
	Rollout         types.Object   `tfsdk:"rollout"`
	PlannedSteps    types.List     `tfsdk:"planned_steps"`
	LastRollout     types.Object   `tfsdk:"last_rollout"`
	Timeouts        timeouts.Value `tfsdk:"timeouts"`
	Adopt           types.Bool     `tfsdk:"adopt"`
	OwnerTag        types.String   `tfsdk:"owner_tag"`
	Manage          types.String   `tfsdk:"manage"`
	ControlledBy    types.Object   `tfsdk:"controlled_by"`
	Foreign         types.Object   `tfsdk:"foreign_deployment"`
}

func (m trafficSplitModel) observing() bool { return m.Manage.ValueString() == manageObserve }

func (m trafficSplitModel) ref() awsclient.Ref {
	return awsclient.Ref{ListenerARN: m.ListenerARN.ValueString(), RuleARN: m.RuleARN.ValueString()}
}

const (
	onDestroyKeep    = "keep"
	onDestroyRestore = "restore"
)

func (r *trafficSplitResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_traffic_split"
}

func (r *trafficSplitResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Owns the weights of the forward action of an Application or Network Load Balancer listener's default action, or of an Application Load Balancer's listener rule. " +
			"Create takes the action over (and records the one it replaced), every change is confirmed by reading the listener back, " +
			"and a change made outside Terraform shows in the next plan. With `manage = \"observe\"` it writes nothing and follows the weights another system (ECS, CodeDeploy) sets.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "The ARN of the listener or rule.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"listener_arn": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "ARN of the Application Load Balancer listener whose default action this resource owns. Exactly one of `listener_arn` and `rule_arn`.",
				Validators: []validator.String{
					arnOf{arn.Listener},
					stringvalidator.ExactlyOneOf(path.MatchRoot("listener_arn"), path.MatchRoot("rule_arn")),
				},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"rule_arn": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "ARN of the listener rule whose action this resource owns. Exactly one of `listener_arn` and `rule_arn`.",
				Validators:          []validator.String{arnOf{arn.ListenerRule}},
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"target_groups":      observedTargetGroupsAttr(),
			"stickiness":         stickinessResourceAttr(),
			"manage":             manageAttr(),
			"controlled_by":      controlledByAttr(),
			"foreign_deployment": foreignDeploymentAttr(),
			"on_destroy": schema.StringAttribute{
				Optional: true,
				Computed: true,
				Default:  stringdefault.StaticString(onDestroyKeep),
				MarkdownDescription: "What destroy does to the listener: `keep` leaves the forward action as it is (the default: traffic never moves on destroy), " +
					"`restore` puts back the action that was in place before this resource took it over (refused, with nothing written, while a deployment of `controlled_by` runs).",
				Validators: []validator.String{stringvalidator.OneOf(onDestroyKeep, onDestroyRestore)},
			},
			"percentages": schema.MapAttribute{
				ElementType:         types.Float64Type,
				Computed:            true,
				MarkdownDescription: "Share of traffic per target group ARN, in percent (two decimals), known at plan time.",
			},
			"replaced_actions": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "JSON of the actions in place before this resource took the listener or rule over; `on_destroy = \"restore\"` puts them back. Null after import.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"adopt":         adoptAttr(),
			"owner_tag":     ownerAttr(),
			"rollout":       rolloutResourceAttr(),
			"planned_steps": plannedStepsAttr(),
			"last_rollout":  lastRolloutAttr(),
			"timeouts": timeouts.Attributes(ctx, timeouts.Opts{
				Create: true, Update: true,
				CreateDescription: "How long a create may take, rollout included (a Go duration). Default `60m`. The plan fails when the schedule's pauses add up to more.",
				UpdateDescription: "How long an update may take, rollout included (a Go duration). Default `60m`. The plan fails when the schedule's pauses add up to more.",
			}),
		},
	}
}

func (r *trafficSplitResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.client = clientFrom(req.ProviderData, &resp.Diagnostics)
}

func (r *trafficSplitResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m trafficSplitModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	checkObserve(m.Manage, m.ControlledBy, m.Stickiness, m.Rollout, m.TargetGroups, m.OnDestroy, &resp.Diagnostics)
	checkSplit(ctx, m.TargetGroups, path.Root("target_groups"), &resp.Diagnostics)
	checkStickiness(m.Stickiness, path.Root("stickiness"), &resp.Diagnostics)
	checkRollout(ctx, m.Rollout, path.Root("rollout"), &resp.Diagnostics)
	checkNetwork(ctx, m.ListenerARN, m.Stickiness, path.Root("stickiness"), m.Rollout, path.Root("rollout"), &resp.Diagnostics)
	refuseKillSwitch(ctx, m.Rollout, path.Root("rollout"), &resp.Diagnostics)
}

// ModifyPlan fills in percentages and the schedule from the planned
// weights, so the plan says how traffic will move before anything does.
func (r *trafficSplitResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return
	}
	var plan trafficSplitModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var state *trafficSplitModel
	if !req.State.Raw.IsNull() {
		state = &trafficSplitModel{}
		resp.Diagnostics.Append(req.State.Get(ctx, state)...)
		if resp.Diagnostics.HasError() {
			return
		}
	}
	priorCtl := types.ObjectNull(controlledByAttr().GetType().(types.ObjectType).AttrTypes)
	if state != nil {
		priorCtl = state.ControlledBy
	}
	if plan.observing() {
		r.modifyObservedPlan(ctx, plan, state, priorCtl, resp)
		return
	}
	if !plan.ControlledBy.Equal(priorCtl) {
		pipeline.CheckReach(ctx, r.client, controller(plan.ControlledBy), plan.ref(), tgARNs(ctx, plan.TargetGroups), problem.At("controlled_by"), reportTo(&resp.Diagnostics))
	}
	s, known, d := splitFromList(ctx, plan.TargetGroups)
	resp.Diagnostics.Append(d...)
	// A write beside a system that shifts the listener waits for its
	// deployment to end: a create (it takes the listener), a hand-over,
	// or any change of the forward action.
	if state == nil || state.observing() || !req.Plan.Raw.Equal(req.State.Raw) {
		if !pipeline.RefuseWhileForeign(ctx, r.client, controller(plan.ControlledBy), problem.At("target_groups"), reportTo(&resp.Diagnostics)) {
			return
		}
	}
	if !known {
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("percentages"), types.MapUnknown(types.Float64Type))...)
	} else if want := percentagesValue(s); !plan.Percentages.Equal(want) {
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("percentages"), want)...)
	}

	// The schedule: from the weights in state (refreshed) to the planned
	// ones. A plan that does not change the weights keeps the last schedule
	// and the last rollout's record.
	var from weights.Split
	fromKnown := false
	if state != nil {
		from, fromKnown, _ = splitFromList(ctx, state.TargetGroups)
		pipeline.CheckPromote(nil, recordOf(state.LastRollout), settingsOf(ctx, state.Rollout), settingsOf(ctx, plan.Rollout), !known || !from.Equal(s), reportTo(&resp.Diagnostics))
		if known && from.Equal(s) {
			r.planSameWeights(ctx, req, resp, plan, *state, s)
			return
		}
	}
	if state == nil {
		from, fromKnown = r.liveSplit(ctx, plan)
	}
	r.planSchedule(ctx, resp, plan, state, s, known && fromKnown, from)
}

// modifyObservedPlan is the plan of a split that observes (manage =
// "observe"): nothing is written, so only the hand-back and the reach of
// controlled_by are checked.
func (r *trafficSplitResource) modifyObservedPlan(ctx context.Context, plan trafficSplitModel, state *trafficSplitModel, priorCtl types.Object, resp *resource.ModifyPlanResponse) {
	if state != nil && !state.observing() && recordOf(state.LastRollout).Status == pipeline.StatusRunning {
		// Handing back would give up the owner tag under a rollout
		// that goes on writing.
		pipeline.RefuseWhileRunning(problem.At("manage"), recordOf(state.LastRollout), reportTo(&resp.Diagnostics))
		return
	}
	if state != nil && !state.observing() {
		if h, held := pipeline.HeldOf(recordOf(state.LastRollout)); held {
			// Handing back would strand the held canary: nothing could
			// promote it or roll it back, and its record would stay held.
			pipeline.RefuseHandBackWhileHeld(problem.At("manage"), h, reportTo(&resp.Diagnostics))
			return
		}
	}
	var tgs []string
	if state != nil {
		tgs = tgARNs(ctx, state.TargetGroups)
	} else if live, ok := r.liveSplit(ctx, plan); ok {
		for _, t := range live {
			tgs = append(tgs, t.ARN)
		}
	}
	if !plan.ControlledBy.Equal(priorCtl) {
		pipeline.CheckReach(ctx, r.client, controller(plan.ControlledBy), plan.ref(), tgs, problem.At("controlled_by"), reportTo(&resp.Diagnostics))
	}
	r.planObserved(ctx, plan, state, resp)
}

// planSameWeights is the plan of a change that keeps the weights (s):
// the last schedule and the last rollout's record stay, unless a held
// rollout is promoted or times out (pipeline.PlanHeldSame) or a running one is
// read (pipeline.PlanRunningSame).
func (r *trafficSplitResource) planSameWeights(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse, plan, state trafficSplitModel, s weights.Split) {
	if h, held := pipeline.HeldOf(recordOf(state.LastRollout)); held {
		steps, acts, ok := pipeline.PlanHeldSame(ctx, r.client, r.subject(plan), h, settingsOf(ctx, plan.Rollout), s, lookedAt(ctx, req.Private), reportTo(&resp.Diagnostics))
		if ok && !acts && !plan.Stickiness.IsUnknown() && stickinessFrom(plan.Stickiness) != stickinessFrom(state.Stickiness) {
			// Only an apply that moves the held rollout (promoted, or
			// rolled back) writes the listener, stickiness with it.
			refuseStickinessWhileHeld(h, &resp.Diagnostics)
			return
		}
		if ok {
			keepOrAct(ctx, req.State, resp, plannedStepsValue(steps), acts, state.LastRollout)
		}
		return
	}
	if recordOf(state.LastRollout).Status == pipeline.StatusRunning && !plan.Stickiness.IsUnknown() && !plan.Stickiness.Equal(state.Stickiness) {
		// The orchestrator writes the stickiness it started with
		// at every step.
		pipeline.RefuseWhileRunning(problem.At("stickiness"), recordOf(state.LastRollout), reportTo(&resp.Diagnostics))
		return
	}
	if !plan.PlannedSteps.Equal(state.PlannedSteps) {
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("planned_steps"), state.PlannedSteps)...)
	}
	if last := recordValue(pipeline.PlanRunningSame(ctx, r.client, r.subjectIfKnown(plan), recordOf(state.LastRollout), settingsOf(ctx, plan.Rollout), reportTo(&resp.Diagnostics))); !plan.LastRollout.Equal(last) {
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("last_rollout"), last)...)
	}
}

// planSchedule plans a change of the weights from to s: planned_steps,
// unknown until the weights, the strategy and where it starts from are
// known (known), and the timeout that must hold them.
func (r *trafficSplitResource) planSchedule(ctx context.Context, resp *resource.ModifyPlanResponse, plan trafficSplitModel, state *trafficSplitModel, s weights.Split, known bool, from weights.Split) {
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("last_rollout"), types.ObjectUnknown(lastRolloutAttrTypes))...)
	st, stKnown, d := strategyFrom(ctx, plan.Rollout)
	resp.Diagnostics.Append(d...)
	if !known || !stKnown || len(s.Problems()) > 0 || len(st.Problems()) > 0 {
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("planned_steps"), types.ListUnknown(plannedStepObjectType))...)
		return
	}
	last := types.ObjectNull(lastRolloutAttrTypes)
	if state != nil {
		last = state.LastRollout
	}
	settings, _ := settingsFrom(ctx, plan.Rollout)
	steps, ok := pipeline.Plan(ctx, r.client, pipeline.Planned{At: problem.At("target_groups"), Kind: "listener", From: from, To: s, Strategy: st, Settings: settings, Last: recordOf(last), Subj: r.subjectIfKnown(plan)}, reportTo(&resp.Diagnostics))
	if !ok {
		return
	}
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("planned_steps"), plannedStepsValue(steps))...)
	checkScheduleTimeout(ctx, plan.Timeouts, pipeline.Operation(state == nil), steps, plan.Rollout, &resp.Diagnostics)
}

// subjectIfKnown is the split's subject when the plan names its listener
// or rule and a client is configured; nil otherwise (nothing is read).
func (r *trafficSplitResource) subjectIfKnown(plan trafficSplitModel) pipeline.Subject {
	if r.client == nil || plan.ListenerARN.IsUnknown() || plan.RuleARN.IsUnknown() {
		return nil
	}
	return r.subject(plan)
}

// liveSplit reads, for a plan that creates the resource, what the listener
// forwards to now. known is false when that cannot be told at plan time.
func (r *trafficSplitResource) liveSplit(ctx context.Context, plan trafficSplitModel) (weights.Split, bool) {
	if r.client == nil || plan.ListenerARN.IsUnknown() || plan.RuleARN.IsUnknown() {
		return nil, false
	}
	acts, err := r.client.ReadActions(ctx, plan.ref())
	if err != nil {
		// Create reports it; the schedule is known once the listener is.
		return nil, false
	}
	fwd, _ := acts.Forward()
	return fwd.Split, true
}

func (r *trafficSplitResource) forwardFrom(ctx context.Context, m trafficSplitModel) (awsclient.Forward, bool) {
	s, known, _ := splitFromList(ctx, m.TargetGroups)
	return awsclient.Forward{Split: s, Stickiness: stickinessFrom(m.Stickiness)}, known
}

func (r *trafficSplitResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan trafficSplitModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() || r.client == nil {
		return
	}
	ref := plan.ref()
	current, err := r.client.ReadActions(ctx, ref)
	if err != nil {
		pipeline.AddReadError(&resp.Diagnostics, r.client, ref, err)
		return
	}
	replaced, err := current.Encode()
	if err != nil {
		addError(&resp.Diagnostics, nil, "Cannot Record Replaced Action", err, "The provider could not encode the listener's current actions.", "This is a bug in the provider; please report it.")
		return
	}
	if plan.observing() {
		r.observe(ctx, &plan, current, &resp.Diagnostics)
		resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
		return
	}
	fwd, _ := r.forwardFrom(ctx, plan)
	before, ok := current.Forward()
	if ok {
		tflog.Info(ctx, "taking over forward action", map[string]any{"id": ref.ID(), "from": before.Split.String(), "to": fwd.Split.String()})
	} else {
		tflog.Info(ctx, "replacing non-forward action with a forward action", map[string]any{"id": ref.ID(), "to": fwd.Split.String()})
	}
	limit, d := plan.Timeouts.Create(ctx, defaultApplyTimeout)
	resp.Diagnostics.Append(d...)
	plan.ID = types.StringValue(ref.ID())
	plan.ReplacedActions = types.StringValue(replaced)
	if !r.shift(ctx, &plan, before.Split, types.ObjectNull(lastRolloutAttrTypes), "", pipeline.AlreadyRead, limit, &resp.Diagnostics) {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}
func (r *trafficSplitResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state trafficSplitModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() || r.client == nil {
		return
	}
	ref := state.ref()
	acts, ok := readForRefresh(ctx, r.client, ref, resp)
	if !ok {
		return
	}
	prior, _, _ := splitFromList(ctx, state.TargetGroups)
	fwd, ok := acts.Forward()
	if !ok {
		tflog.Warn(ctx, "the listener or rule no longer forwards; the next plan will restore the forward action", map[string]any{"id": ref.ID()})
	}
	got := fwd.Split.OrderedLike(prior)
	state.ID = types.StringValue(ref.ID())
	last, running := pipeline.RefreshDetached(ctx, r.client, r.subject(state), recordOf(state.LastRollout), reportTo(&resp.Diagnostics))
	state.LastRollout = recordValue(last)
	markLooked(ctx, r.client, last, resp.Private, &resp.Diagnostics)
	if !running {
		// While a detached rollout runs, the weights are its steps: the
		// state keeps where it goes, and last_rollout.serving where it is.
		state.TargetGroups = listFromSplit(got)
		state.Percentages = percentagesValue(got)
	}
	if !state.observing() {
		state.Stickiness = stickinessValue(fwd.Stickiness, state.Stickiness)
	}
	if state.OnDestroy.IsNull() {
		state.OnDestroy = types.StringValue(onDestroyKeep)
	}
	if state.Manage.IsNull() {
		state.Manage = types.StringValue(manageWrite)
	}
	state.Foreign = readForeignValue(ctx, r.client, state.ControlledBy, state.Foreign, &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// readForRefresh reads what the listener or rule ref serves, for the Read of
// a split or a blue/green: one that no longer exists removes the resource
// from the state. It returns false when the Read has nothing more to do.
func readForRefresh(ctx context.Context, c *awsclient.Client, ref awsclient.Ref, resp *resource.ReadResponse) (awsclient.Actions, bool) {
	acts, err := c.ReadActions(ctx, ref)
	if errors.Is(err, awsclient.ErrNotFound) {
		tflog.Warn(ctx, "listener or rule no longer exists; removing from state", map[string]any{"id": ref.ID()})
		resp.State.RemoveResource(ctx)
		return nil, false
	}
	if err != nil {
		pipeline.AddReadError(&resp.Diagnostics, c, ref, err)
		return nil, false
	}
	return acts, true
}

func (r *trafficSplitResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state trafficSplitModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() || r.client == nil {
		return
	}
	if plan.observing() {
		if !state.observing() {
			// Handing back: the owner tag goes, nothing moves.
			pipeline.ReleaseLease(ctx, r.subject(state), state.OwnerTag.ValueString(), recordOf(state.LastRollout), reportTo(&resp.Diagnostics))
			tflog.Info(ctx, "handing the listener back to the system that shifts it", map[string]any{"id": plan.ref().ID()})
		}
		current, err := r.client.ReadActions(ctx, plan.ref())
		if err != nil {
			pipeline.AddReadError(&resp.Diagnostics, r.client, plan.ref(), err)
			return
		}
		plan.ReplacedActions = state.ReplacedActions
		r.observe(ctx, &plan, current, &resp.Diagnostics)
		resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
		return
	}
	before, _, _ := splitFromList(ctx, state.TargetGroups)
	limit, d := plan.Timeouts.Update(ctx, defaultApplyTimeout)
	resp.Diagnostics.Append(d...)
	plan.ID = types.StringValue(plan.ref().ID())
	plan.ReplacedActions = state.ReplacedActions
	if state.observing() {
		// Handing over: the listener is taken as a create takes it (its
		// owner tag), from the weights it serves now.
		tflog.Info(ctx, "taking the listener over from the system that shifted it", map[string]any{"id": plan.ref().ID()})
		state.OwnerTag = types.StringValue("")
	}
	// Read before write: the plan was made from the state's weights.
	if !r.shift(ctx, &plan, before, state.LastRollout, state.OwnerTag.ValueString(), pipeline.ReadsFirst, limit, &resp.Diagnostics) {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// subject is the split's forward action as the traffic pipeline sees it.
func (r *trafficSplitResource) subject(m trafficSplitModel) listenerSubject {
	return listenerSubject{c: r.client, ref: m.ref(), sticky: stickinessFrom(m.Stickiness), attr: problem.At("target_groups"),
		goBack: func(from weights.Split) string {
			return fmt.Sprintf("set target_groups to the weights from before the rollout started (%s)", from.Short())
		}}
}

// shift moves the listener from `from` to the planned weights through the
// traffic pipeline and records the outcome in m. last is the state's
// last_rollout (null on create), mine the lease token in state ("" on
// create); pipeline.ReadFirst reads the listener before the first write. It returns
// false when m must not be saved (nothing was changed, the lease is given
// back as it was, and the error says why); after a run that moved traffic
// it records the real weights, whatever the outcome.
func (r *trafficSplitResource) shift(ctx context.Context, m *trafficSplitModel, from weights.Split, last types.Object, mine string, readFirst pipeline.FirstRead, limit time.Duration, diags *diag.Diagnostics) bool {
	fwd, _ := r.forwardFrom(ctx, *m)
	settings, d := settingsFrom(ctx, m.Rollout)
	diags.Append(d...)
	if diags.HasError() {
		return false
	}
	if !pipeline.RefuseWhileForeign(ctx, r.client, controller(m.ControlledBy), problem.At("target_groups"), reportTo(diags)) {
		return false
	}
	onNetwork(m.ListenerARN, &settings)
	subj := r.subject(*m)
	ch := pipeline.Change{From: from, To: fwd.Split, Settings: settings, Planned: plannedOf(m.PlannedSteps, plannedStepsValue), Last: recordOf(last), ReadFirst: readFirst, Limit: limit, Acts: m.LastRollout.IsUnknown(),
		Owner: &pipeline.OwnerClaim{Base: nil, ResourceType: splitType, Mine: mine, Adopt: m.Adopt.ValueBool()}}
	out := pipeline.Run(ctx, r.client, subj, ch, reportTo(diags))
	m.OwnerTag = types.StringValue(out.Lease.Token)
	if !out.Moved {
		if diags.HasError() {
			pipeline.GiveBack(ctx, subj, out.Lease, reportTo(diags))
			return false
		}
		// Same weights: only stickiness (or nothing AWS sees) changes; the
		// last schedule and rollout record stay. The listener may serve
		// them in another form (out.found).
		expect := []weights.Split{from, fwd.Split}
		if out.Found != nil {
			expect = append(expect, out.Found)
		}
		if err := subj.set(ctx, expect, fwd.Split); err != nil {
			pipeline.AddWriteError(diags, r.client, m.ref(), err)
			pipeline.GiveBack(ctx, subj, out.Lease, reportTo(diags))
			return false
		}
		m.Percentages = percentagesValue(fwd.Split)
		if m.PlannedSteps.IsUnknown() {
			m.PlannedSteps = plannedStepsValue(nil)
		}
		if m.LastRollout.IsUnknown() {
			m.LastRollout = types.ObjectNull(lastRolloutAttrTypes)
		}
		keepForeign(ctx, r.client, m, diags)
		return true
	}
	got := out.Res.Current.OrderedLike(fwd.Split)
	m.TargetGroups = listFromSplit(got)
	m.Percentages = percentagesValue(got)
	m.PlannedSteps = plannedStepsValue(out.Steps)
	m.LastRollout = recordValue(pipeline.RecordOutcome(ch, out))
	keepForeign(ctx, r.client, m, diags)
	return true
}

func (r *trafficSplitResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state trafficSplitModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() || r.client == nil {
		return
	}
	ref := state.ref()
	if state.observing() {
		// An observing split writes nothing, ever: it holds no owner tag
		// (the hand-back gave it up, with rollout:last when the last
		// change did not ship), and the listener is the other system's.
		tflog.Info(ctx, "manage = observe: destroy writes nothing", map[string]any{"id": ref.ID()})
		return
	}
	subj := r.subject(state)
	// A restore moves traffic: like any write beside the system named in
	// controlled_by, it waits for that system's deployment to end. Refused
	// before any write (the lease and the state stay as they are), so the
	// recorded action can still be put back once it has ended.
	if r.restores(state) && !pipeline.RefuseRestoreWhileForeign(ctx, r.client, controller(state.ControlledBy), ref.ID(), reportTo(&resp.Diagnostics)) {
		return
	}
	if pipeline.EndOnDestroy(ctx, r.client, subj, recordOf(state.LastRollout), settingsOf(ctx, state.Rollout), state.OwnerTag.ValueString(), reportTo(&resp.Diagnostics)); resp.Diagnostics.HasError() {
		return
	}
	defer pipeline.ReleaseLease(ctx, subj, state.OwnerTag.ValueString(), recordOf(state.LastRollout), reportTo(&resp.Diagnostics))
	if state.OnDestroy.ValueString() != onDestroyRestore {
		tflog.Info(ctx, "on_destroy = keep: leaving the forward action as it is", map[string]any{"id": ref.ID()})
		return
	}
	if st := recordOf(state.LastRollout).Status; st != "" && st != string(rollout.Succeeded) {
		// A create that did not finish (a tainted resource being replaced):
		// restoring would move all traffic at once, with no gates.
		resp.Diagnostics.AddWarning("Replaced Action Not Restored", pipeline.Detail(nil,
			fmt.Sprintf("The last change of this resource ended %s, so destroy leaves %s as it is rather than move all its traffic back at once with no gates.", st, ref.ID()),
			"Set the listener's action yourself if it must change, or apply the resource again."))
		return
	}
	if state.ReplacedActions.IsNull() || state.ReplacedActions.ValueString() == "" {
		resp.Diagnostics.AddWarning("Nothing To Restore",
			pipeline.Detail(nil, fmt.Sprintf("on_destroy is \"restore\" but this resource has no record of the action it replaced on %s (it was imported).", ref.ID()),
				"The forward action was left as it is. Set the listener's action yourself if it must change."))
		return
	}
	acts, err := awsclient.DecodeActions(state.ReplacedActions.ValueString())
	if err != nil {
		addError(&resp.Diagnostics, pathOf(path.Root("replaced_actions")), "Cannot Read Replaced Action", err,
			"The recorded action is not valid JSON.", "Set on_destroy = \"keep\" and apply, then destroy again.")
		return
	}
	// Restore only what this resource still owns, and still serves what it
	// left: a listener another resource adopted, or someone changed since,
	// is theirs.
	if owner, ok := pipeline.StillOwned(ctx, subj, state.OwnerTag.ValueString(), reportTo(&resp.Diagnostics)); !ok {
		if owner != "" {
			notOwnedOnDestroy(&resp.Diagnostics, subj, owner, "put back the action it replaced")
		}
		return
	}
	recorded, _, _ := splitFromList(ctx, state.TargetGroups)
	tflog.Info(ctx, "on_destroy = restore: putting back the replaced action", map[string]any{"id": ref.ID()})
	pipeline.RestoreActions(ctx, r.client, subj, subj.ref, recorded, acts, reportTo(&resp.Diagnostics))
}

// restores says whether destroy would put the replaced action back: on
// destroy = "restore", after a change that shipped, with a recorded action.
func (r *trafficSplitResource) restores(state trafficSplitModel) bool {
	st := recordOf(state.LastRollout).Status
	return state.OnDestroy.ValueString() == onDestroyRestore && (st == "" || st == string(rollout.Succeeded)) &&
		!state.ReplacedActions.IsNull() && state.ReplacedActions.ValueString() != ""
}

func (r *trafficSplitResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	id := req.ID
	attr := refAttrOf(id)
	if attr == "" {
		addError(&resp.Diagnostics, nil, "Invalid Import ID", nil,
			fmt.Sprintf("%q is neither an Application Load Balancer listener ARN nor a listener rule ARN.", id),
			"Import with the ARN of the listener (…:listener/app/NAME/LB-ID/LISTENER-ID) or of the rule (…:listener-rule/app/NAME/LB-ID/LISTENER-ID/RULE-ID).")
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), id)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root(attr), id)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("on_destroy"), onDestroyKeep)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("manage"), manageWrite)...)
	if r.client != nil {
		importOwner(ctx, listenerSubject{c: r.client, ref: attrRef(attr, id)}, resp)
	}
}

// splitType is the resource type in owner tags.
const splitType = "rollout_traffic_split"

// refAttrOf names the attribute that an imported listener or rule ARN
// sets, or "" when id is neither.
func refAttrOf(id string) string {
	if _, err := arn.ListenerRule.Check(id); err == nil {
		return "rule_arn"
	}
	if _, err := arn.Listener.Check(id); err == nil {
		return "listener_arn"
	}
	return ""
}

// refuseStickinessWhileHeld refuses, at plan, a change of stickiness alone
// while a rollout is held: the apply would write nothing to the listener.
func refuseStickinessWhileHeld(h pipeline.HeldRun, diags *diag.Diagnostics) {
	diags.AddAttributeError(path.Root("stickiness"), "Stickiness Changed While Held", pipeline.Detail(nil,
		fmt.Sprintf("stickiness changes, but a rollout is held after step %d, serving %s on its way to %s; an apply that leaves the hold as it is writes nothing to the listener.", h.Step, h.Serving.Short(), h.Target.Short()),
		fmt.Sprintf("Change stickiness with the apply that promotes the rollout (a new rollout.promote) or rolls it back (the configuration back to %s): that apply writes it. Or set stickiness back as it was.", h.From.Short())))
}
