package provider

import (
	"context"
	"errors"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
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
	ID              types.String `tfsdk:"id"`
	ListenerARN     types.String `tfsdk:"listener_arn"`
	RuleARN         types.String `tfsdk:"rule_arn"`
	TargetGroups    types.List   `tfsdk:"target_groups"`
	Stickiness      types.Object `tfsdk:"stickiness"`
	OnDestroy       types.String `tfsdk:"on_destroy"`
	Percentages     types.Map    `tfsdk:"percentages"`
	ReplacedActions types.String `tfsdk:"replaced_actions"`
}

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

func (r *trafficSplitResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Owns the weights of the forward action of an Application Load Balancer listener's default action, or of a listener rule. " +
			"Create takes the action over (and records the one it replaced), every change is confirmed by reading the listener back, " +
			"and a change made outside Terraform shows in the next plan.",
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
			"target_groups": targetGroupsResourceAttr(),
			"stickiness":    stickinessResourceAttr(),
			"on_destroy": schema.StringAttribute{
				Optional: true,
				Computed: true,
				Default:  stringdefault.StaticString(onDestroyKeep),
				MarkdownDescription: "What destroy does to the listener: `keep` leaves the forward action as it is (the default: traffic never moves on destroy), " +
					"`restore` puts back the action that was in place before this resource took it over.",
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
	checkSplit(ctx, m.TargetGroups, path.Root("target_groups"), &resp.Diagnostics)
	checkStickiness(m.Stickiness, path.Root("stickiness"), &resp.Diagnostics)
}

// ModifyPlan fills in percentages from the planned weights, so the plan says
// how traffic will be shared before anything moves.
func (r *trafficSplitResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return
	}
	var plan trafficSplitModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	s, known, d := splitFromList(ctx, plan.TargetGroups)
	resp.Diagnostics.Append(d...)
	if !known {
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("percentages"), types.MapUnknown(types.Float64Type))...)
		return
	}
	if want := percentagesValue(s); !plan.Percentages.Equal(want) {
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("percentages"), want)...)
	}
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
		r.addReadError(&resp.Diagnostics, ref, err)
		return
	}
	replaced, err := current.Encode()
	if err != nil {
		addError(&resp.Diagnostics, nil, "Cannot Record Replaced Action", err, "The provider could not encode the listener's current actions.", "This is a bug in the provider; please report it.")
		return
	}
	fwd, _ := r.forwardFrom(ctx, plan)
	if before, ok := current.Forward(); ok {
		tflog.Info(ctx, "taking over forward action", map[string]any{"id": ref.ID(), "from": before.Split.String(), "to": fwd.Split.String()})
	} else {
		tflog.Info(ctx, "replacing non-forward action with a forward action", map[string]any{"id": ref.ID(), "to": fwd.Split.String()})
	}
	if _, err := r.client.SetForward(ctx, ref, current, fwd); err != nil {
		r.addWriteError(&resp.Diagnostics, ref, err)
		return
	}
	plan.ID = types.StringValue(ref.ID())
	plan.ReplacedActions = types.StringValue(replaced)
	plan.Percentages = percentagesValue(fwd.Split)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *trafficSplitResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state trafficSplitModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() || r.client == nil {
		return
	}
	ref := state.ref()
	acts, err := r.client.ReadActions(ctx, ref)
	if errors.Is(err, awsclient.ErrNotFound) {
		tflog.Warn(ctx, "listener or rule no longer exists; removing from state", map[string]any{"id": ref.ID()})
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		r.addReadError(&resp.Diagnostics, ref, err)
		return
	}
	prior, _, _ := splitFromList(ctx, state.TargetGroups)
	fwd, ok := acts.Forward()
	if !ok {
		tflog.Warn(ctx, "the listener or rule no longer forwards; the next plan will restore the forward action", map[string]any{"id": ref.ID()})
	}
	got := fwd.Split.OrderedLike(prior)
	state.ID = types.StringValue(ref.ID())
	state.TargetGroups = listFromSplit(got)
	state.Percentages = percentagesValue(got)
	state.Stickiness = stickinessValue(fwd.Stickiness, state.Stickiness)
	if state.OnDestroy.IsNull() {
		state.OnDestroy = types.StringValue(onDestroyKeep)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *trafficSplitResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state trafficSplitModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() || r.client == nil {
		return
	}
	ref := plan.ref()
	fwd, _ := r.forwardFrom(ctx, plan)
	before, _, _ := splitFromList(ctx, state.TargetGroups)
	tflog.Info(ctx, "shifting traffic", map[string]any{"id": ref.ID(), "from": before.String(), "to": fwd.Split.String()})
	if _, err := r.client.SetForward(ctx, ref, nil, fwd); err != nil {
		r.addWriteError(&resp.Diagnostics, ref, err)
		return
	}
	plan.ID = types.StringValue(ref.ID())
	plan.ReplacedActions = state.ReplacedActions
	plan.Percentages = percentagesValue(fwd.Split)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *trafficSplitResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state trafficSplitModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() || r.client == nil {
		return
	}
	ref := state.ref()
	if state.OnDestroy.ValueString() != onDestroyRestore {
		tflog.Info(ctx, "on_destroy = keep: leaving the forward action as it is", map[string]any{"id": ref.ID()})
		return
	}
	if state.ReplacedActions.IsNull() || state.ReplacedActions.ValueString() == "" {
		resp.Diagnostics.AddWarning("Nothing To Restore",
			detail(nil, fmt.Sprintf("on_destroy is \"restore\" but this resource has no record of the action it replaced on %s (it was imported).", ref.ID()),
				"The forward action was left as it is. Set the listener's action yourself if it must change."))
		return
	}
	acts, err := awsclient.DecodeActions(state.ReplacedActions.ValueString())
	if err != nil {
		addError(&resp.Diagnostics, pathOf(path.Root("replaced_actions")), "Cannot Read Replaced Action", err,
			"The recorded action is not valid JSON.", "Set on_destroy = \"keep\" and apply, then destroy again.")
		return
	}
	tflog.Info(ctx, "on_destroy = restore: putting back the replaced action", map[string]any{"id": ref.ID()})
	err = r.client.WriteActions(ctx, ref, acts)
	if errors.Is(err, awsclient.ErrNotFound) {
		return
	}
	if err != nil {
		addError(&resp.Diagnostics, nil, "Cannot Restore Replaced Action", err,
			fmt.Sprintf("AWS refused to put back the action that %s had before this resource took it over; it still forwards as this resource last set it.", ref.ID()),
			"A target group of the old action may have been deleted. Set on_destroy = \"keep\" and apply, then destroy again, or fix the old target groups.")
	}
}

func (r *trafficSplitResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	id := req.ID
	attr := ""
	if _, err := arn.ListenerRule.Check(id); err == nil {
		attr = "rule_arn"
	} else if _, err := arn.Listener.Check(id); err == nil {
		attr = "listener_arn"
	} else {
		addError(&resp.Diagnostics, nil, "Invalid Import ID", nil,
			fmt.Sprintf("%q is neither an Application Load Balancer listener ARN nor a listener rule ARN.", id),
			"Import with the ARN of the listener (…:listener/app/NAME/LB-ID/LISTENER-ID) or of the rule (…:listener-rule/app/NAME/LB-ID/LISTENER-ID/RULE-ID).")
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), id)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root(attr), id)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("on_destroy"), onDestroyKeep)...)
}

func (r *trafficSplitResource) addReadError(diags interface{ AddError(string, string) }, ref awsclient.Ref, err error) {
	addReadError(diags, r.client, ref, err)
}

// addReadError explains a failed read of a listener or rule.
func addReadError(diags interface{ AddError(string, string) }, client *awsclient.Client, ref awsclient.Ref, err error) {
	if errors.Is(err, awsclient.ErrNotFound) {
		diags.AddError(fmt.Sprintf("%s Not Found", title(ref.Kind())), detail(nil,
			fmt.Sprintf("The %s %s does not exist in region %s.", ref.Kind(), ref.ID(), client.Region),
			fmt.Sprintf("Check the ARN and the provider's region, and that the %s is created before this resource (reference its arn attribute).", ref.Kind())))
		return
	}
	diags.AddError(fmt.Sprintf("Cannot Read %s", title(ref.Kind())), detail(err,
		fmt.Sprintf("Reading the actions of %s failed.", ref.ID()),
		"Check the credentials' elasticloadbalancing:Describe* permissions and the endpoint."))
}

func (r *trafficSplitResource) addWriteError(diags interface{ AddError(string, string) }, ref awsclient.Ref, err error) {
	var nc *awsclient.NotConfirmedError
	switch {
	case errors.As(err, &nc):
		diags.AddError("Weights Not Confirmed", detail(nil, nc.Error()+".",
			"Something else is changing this listener at the same time (another stack, a controller, a pipeline). Stop the other writer, then run apply again; the next plan shows the weights the listener really has."))
	case errors.Is(err, awsclient.ErrNotFound):
		r.addReadError(diags, ref, err)
	default:
		diags.AddError(fmt.Sprintf("Cannot Modify %s", title(ref.Kind())), detail(err,
			fmt.Sprintf("AWS refused the new forward action of %s; the listener keeps its previous weights.", ref.ID()),
			"Check that every target group exists, is of target type instance, ip or lambda as the load balancer allows, belongs to the load balancer's VPC, and that the credentials allow elasticloadbalancing:ModifyListener and ModifyRule."))
	}
}

func title(kind string) string {
	if kind == "rule" {
		return "Listener Rule"
	}
	return "Listener"
}
