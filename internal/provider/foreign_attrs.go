package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/listplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/objectplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/rolloutdev/terraform-provider-rollout/internal/arn"
	"github.com/rolloutdev/terraform-provider-rollout/internal/awsclient"
	"github.com/rolloutdev/terraform-provider-rollout/internal/pipeline"
)

// The coexistence attributes of a split (manage, controlled_by,
// foreign_deployment) as Terraform sees them: their schema, their checks,
// their values, and the plan and apply of a split that observes. The
// checks against a running foreign deployment are the pipeline's
// (internal/pipeline/foreign.go).

const (
	manageWrite   = "write"
	manageObserve = "observe"
)

func manageAttr() schema.StringAttribute {
	return schema.StringAttribute{
		Optional: true, Computed: true,
		Default: stringdefault.StaticString(manageWrite),
		MarkdownDescription: "`write` (the default): this resource sets the weights. `observe`: another system sets them (ECS or CodeDeploy deployments, named in `controlled_by`); " +
			"this resource writes nothing (no weights, no tags, destroy included), `target_groups` is read from the listener at each refresh, so the other system's shifts are no diff, " +
			"and the plan names the other system's deployment while one runs. Changing `observe` to `write` hands the listener over to this resource (it takes the owner tag, refused while a deployment of `controlled_by` runs); " +
			"`write` to `observe` hands it back (it gives the owner tag up and moves nothing; refused while a rollout of this resource runs detached or is held: promote it or roll it back first).",
		Validators: []validator.String{stringvalidator.OneOf(manageWrite, manageObserve)},
	}
}

func controlledByAttr() schema.SingleNestedAttribute {
	return schema.SingleNestedAttribute{
		Optional: true,
		MarkdownDescription: "The other system that shifts this listener's weights: exactly one of `ecs_service` and `codedeploy_group`. " +
			"With `manage = \"observe\"`, its deployment in progress shows in `foreign_deployment` and in the plan. With `manage = \"write\"`, the plan and the apply refuse to move traffic while one of its deployments runs.",
		Attributes: map[string]schema.Attribute{
			"ecs_service": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "ARN of the ECS service (the long format, `arn:aws:ecs:REGION:ACCOUNT:service/CLUSTER/NAME`) whose deployments shift the listener. Read with `ecs:ListServiceDeployments` and `ecs:DescribeServiceDeployments`.",
				Validators:          []validator.String{arnOf{arn.ECSService}},
			},
			"codedeploy_group": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "ARN of the CodeDeploy deployment group (`arn:aws:codedeploy:REGION:ACCOUNT:deploymentgroup:APPLICATION/GROUP`) whose deployments shift the listener. Read with `codedeploy:ListDeployments` and `codedeploy:GetDeployment`.",
				Validators:          []validator.String{arnOf{arn.CodeDeployGroup}},
			},
		},
	}
}

var foreignAttrTypes = map[string]attr.Type{"system": types.StringType, "id": types.StringType, "status": types.StringType, "stage": types.StringType, "started_at": types.StringType}

func foreignDeploymentAttr() schema.SingleNestedAttribute {
	s := func(d string) schema.StringAttribute {
		return schema.StringAttribute{Computed: true, MarkdownDescription: d}
	}
	return schema.SingleNestedAttribute{
		Computed:            true,
		MarkdownDescription: "The deployment of `controlled_by` that has not ended, as of the last refresh; null when none runs (or no `controlled_by`).",
		PlanModifiers:       []planmodifier.Object{objectplanmodifier.UseStateForUnknown()},
		Attributes: map[string]schema.Attribute{
			"system":     s("`ECS` or `CodeDeploy`."),
			"id":         s("The ECS service deployment's ARN, or the CodeDeploy deployment's ID."),
			"status":     s("ECS's status (`PENDING`, `IN_PROGRESS`, `ROLLBACK_IN_PROGRESS`, …) or CodeDeploy's (`Created`, `Queued`, `InProgress`, `Baking`, `Ready`)."),
			"stage":      s("ECS's lifecycle stage (`TEST_TRAFFIC_SHIFT`, `PRODUCTION_TRAFFIC_SHIFT`, `BAKE_TIME`, …); empty for CodeDeploy."),
			"started_at": s("When it started (RFC 3339)."),
		},
	}
}

// controllerOf is the controlled_by block as a Controller; ok is false when
// it is not set or not known.
func controllerOf(o types.Object) (awsclient.Controller, bool) {
	if o.IsNull() || o.IsUnknown() {
		return awsclient.Controller{}, false
	}
	a := o.Attributes()
	ecs, _ := a["ecs_service"].(types.String)
	cd, _ := a["codedeploy_group"].(types.String)
	if ecs.IsUnknown() || cd.IsUnknown() {
		return awsclient.Controller{}, false
	}
	c := awsclient.Controller{ECSService: ecs.ValueString(), CodeDeployGroup: cd.ValueString()}
	return c, c.ECSService != "" || c.CodeDeployGroup != ""
}

// checkControlledBy checks that controlled_by names exactly one system.
func checkControlledBy(controlledBy types.Object, at path.Path, diags *diag.Diagnostics) {
	if controlledBy.IsNull() || controlledBy.IsUnknown() {
		return
	}
	a := controlledBy.Attributes()
	ecs, _ := a["ecs_service"].(types.String)
	cd, _ := a["codedeploy_group"].(types.String)
	if !ecs.IsUnknown() && !cd.IsUnknown() && ecs.IsNull() == cd.IsNull() {
		diags.AddAttributeError(at, "Invalid Controlled By", pipeline.Detail(nil,
			"controlled_by must name exactly one system: ecs_service or codedeploy_group.",
			"Set the one whose deployments shift this listener."))
	}
}

// checkObserve checks a split's manage, controlled_by and what observe
// mode leaves to the other system.
func checkObserve(manage types.String, controlledBy, stickiness, ro types.Object, tgList types.List, onDestroy types.String, diags *diag.Diagnostics) {
	checkControlledBy(controlledBy, path.Root("controlled_by"), diags)
	if manage.IsUnknown() {
		return
	}
	if manage.ValueString() != manageObserve {
		if tgList.IsNull() {
			diags.AddAttributeError(path.Root("target_groups"), "Missing Target Groups", pipeline.Detail(nil,
				"target_groups is not set, and this resource writes the weights (manage is \"write\", the default).",
				"Set target_groups, or set manage = \"observe\" if another system sets the weights."))
		}
		return
	}
	refuse := func(p path.Path, what string) {
		diags.AddAttributeError(p, "Set While Observing", pipeline.Detail(nil,
			fmt.Sprintf("%s is set, but manage is \"observe\": this resource writes nothing, and the weights are the other system's.", what),
			fmt.Sprintf("Remove %s, or set manage = \"write\" to hand the listener over to this resource.", what)))
	}
	if !tgList.IsNull() {
		refuse(path.Root("target_groups"), "target_groups")
	}
	if !stickiness.IsNull() {
		refuse(path.Root("stickiness"), "stickiness")
	}
	if !ro.IsNull() {
		refuse(path.Root("rollout"), "rollout")
	}
	if onDestroy.ValueString() == onDestroyRestore {
		refuse(path.Root("on_destroy"), "on_destroy = \"restore\"")
	}
}

// foreignValue is a ForeignDeployment as the foreign_deployment attribute.
func foreignValue(f *awsclient.ForeignDeployment) types.Object {
	if f == nil {
		return types.ObjectNull(foreignAttrTypes)
	}
	started := ""
	if !f.Started.IsZero() {
		started = f.Started.UTC().Format(time.RFC3339)
	}
	return types.ObjectValueMust(foreignAttrTypes, map[string]attr.Value{"system": types.StringValue(f.System), "id": types.StringValue(f.ID),
		"status": types.StringValue(f.Status), "stage": types.StringValue(f.Stage), "started_at": types.StringValue(started)})
}

// foreignOf is the foreign_deployment attribute as a ForeignDeployment,
// nil when none runs.
func foreignOf(o types.Object) *awsclient.ForeignDeployment {
	if o.IsNull() || o.IsUnknown() {
		return nil
	}
	str := func(k string) string { v, _ := o.Attributes()[k].(types.String); return v.ValueString() }
	started, _ := time.Parse(time.RFC3339, str("started_at"))
	return &awsclient.ForeignDeployment{System: str("system"), ID: str("id"), Status: str("status"), Stage: str("stage"), Started: started}
}

// observedTargetGroupsAttr is target_groups of a split: set when the split
// writes, read from the listener when it observes.
func observedTargetGroupsAttr() schema.ListNestedAttribute {
	a := targetGroupsResourceAttr()
	a.Required, a.Optional, a.Computed = false, true, true
	a.MarkdownDescription += " Required with `manage = \"write\"` (the default); with `manage = \"observe\"` leave it out: it is what the listener forwards to, read at each refresh."
	a.PlanModifiers = []planmodifier.List{listplanmodifier.UseStateForUnknown()}
	return a
}

// observe records what the listener forwards to now, in a split that
// observes it: no write, no owner tag.
func (r *trafficSplitResource) observe(ctx context.Context, m *trafficSplitModel, current awsclient.Actions, diags *diag.Diagnostics) {
	fwd, ok := current.Forward()
	if !ok {
		diags.AddAttributeWarning(path.Root("manage"), "Listener Does Not Forward", pipeline.Detail(nil,
			fmt.Sprintf("%s does not forward to target groups now, so there are no weights to observe.", m.ref().ID()),
			"Nothing was written. The weights show once the other system sets a forward action."))
	}
	m.ID = types.StringValue(m.ref().ID())
	if m.TargetGroups.IsUnknown() { // a new resource; an update keeps the refreshed weights it planned
		m.TargetGroups = listFromSplit(fwd.Split)
		m.Percentages = percentagesValue(fwd.Split)
	}
	m.Stickiness = types.ObjectNull(stickinessAttrTypes)
	m.OwnerTag = types.StringValue("")
	if m.ReplacedActions.IsUnknown() {
		m.ReplacedActions = types.StringNull()
	}
	m.PlannedSteps = plannedStepsValue(nil)
	if m.LastRollout.IsUnknown() {
		m.LastRollout = types.ObjectNull(lastRolloutAttrTypes)
	}
	keepForeign(ctx, r.client, m, diags)
}

// planObserved plans a split that observes its listener: nothing moves;
// the weights and the foreign deployment are the refreshed ones (known
// after apply for a new resource: an apply records what it reads then),
// and a deployment of controlled_by in progress is named.
func (r *trafficSplitResource) planObserved(ctx context.Context, plan trafficSplitModel, state *trafficSplitModel, resp *resource.ModifyPlanResponse) {
	set := func(p string, v attr.Value) { resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root(p), v)...) }
	set("planned_steps", plannedStepsValue(nil))
	set("owner_tag", types.StringValue(""))
	if state != nil {
		set("target_groups", state.TargetGroups)
		set("percentages", state.Percentages)
		set("last_rollout", state.LastRollout)
		set("foreign_deployment", state.Foreign)
	} else {
		set("last_rollout", types.ObjectNull(lastRolloutAttrTypes))
	}
	ctl, ok := controllerOf(plan.ControlledBy)
	if !ok {
		set("foreign_deployment", types.ObjectNull(foreignAttrTypes))
		return
	}
	// The refresh before this plan read the deployment; a new resource, or
	// a new controlled_by, has no reading yet.
	var f *awsclient.ForeignDeployment
	switch {
	case state != nil && state.ControlledBy.Equal(plan.ControlledBy):
		f = foreignOf(state.Foreign)
	case r.client != nil:
		f, _ = r.client.ForeignDeployment(ctx, ctl)
	}
	if f != nil {
		resp.Diagnostics.AddAttributeWarning(path.Root("controlled_by"), "Foreign Deployment In Progress", pipeline.Detail(nil,
			fmt.Sprintf("%s is deploying: its %s. This resource observes the listener and writes nothing.", ctl.Name(), f),
			"The weights follow that deployment at each refresh; nothing needs doing here."))
	}
}

// keepForeign is the foreign deployment an apply records: the plan's, or
// a reading when the plan did not know it (a new resource).
func keepForeign(ctx context.Context, c *awsclient.Client, m *trafficSplitModel, diags *diag.Diagnostics) {
	if m.Foreign.IsUnknown() {
		m.Foreign = readForeignValue(ctx, c, m.ControlledBy, m.Foreign, diags)
	}
}

// tgARNs are the target group ARNs of a target_groups list.
func tgARNs(ctx context.Context, l types.List) []string {
	s, _, _ := splitFromList(ctx, l)
	var out []string
	for _, t := range s {
		out = append(out, t.ARN)
	}
	return out
}

// controller is the controlled_by block as a Controller: zero when it is
// not set or not known.
func controller(o types.Object) awsclient.Controller {
	c, _ := controllerOf(o)
	return c
}

// readForeignValue is the foreign_deployment a refresh records: the
// deployment of controlled_by that runs, or, when it cannot be read, what
// the attribute had (prior).
func readForeignValue(ctx context.Context, c *awsclient.Client, controlledBy types.Object, prior types.Object, diags *diag.Diagnostics) types.Object {
	f, ok := pipeline.ReadForeign(ctx, c, controller(controlledBy), reportTo(diags))
	if ok {
		return foreignValue(f)
	}
	if prior.IsUnknown() {
		return types.ObjectNull(foreignAttrTypes)
	}
	return prior
}
