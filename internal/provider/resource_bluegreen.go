package provider

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/mapvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/objectdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/rolloutdev/terraform-provider-rollout/internal/arn"
	"github.com/rolloutdev/terraform-provider-rollout/internal/awsclient"
	"github.com/rolloutdev/terraform-provider-rollout/internal/bluegreen"
	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

var (
	_ resource.ResourceWithConfigure      = (*blueGreenResource)(nil)
	_ resource.ResourceWithImportState    = (*blueGreenResource)(nil)
	_ resource.ResourceWithValidateConfig = (*blueGreenResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*blueGreenResource)(nil)
)

// NewBlueGreenResource builds rollout_deployment_bluegreen.
func NewBlueGreenResource() resource.Resource { return &blueGreenResource{} }

type blueGreenResource struct{ client *awsclient.Client }

type blueGreenModel struct {
	ID                  types.String   `tfsdk:"id"`
	ListenerARN         types.String   `tfsdk:"listener_arn"`
	RuleARN             types.String   `tfsdk:"rule_arn"`
	NamePrefix          types.String   `tfsdk:"name_prefix"`
	Port                types.Int64    `tfsdk:"port"`
	Protocol            types.String   `tfsdk:"protocol"`
	VPCID               types.String   `tfsdk:"vpc_id"`
	TargetType          types.String   `tfsdk:"target_type"`
	HealthCheck         types.Object   `tfsdk:"health_check"`
	DeregistrationDelay types.Int64    `tfsdk:"deregistration_delay"`
	Tags                types.Map      `tfsdk:"tags"`
	Active              types.String   `tfsdk:"active"`
	Rollout             types.Object   `tfsdk:"rollout"`
	TestListenerARN     types.String   `tfsdk:"test_listener_arn"`
	Timeouts            timeouts.Value `tfsdk:"timeouts"`
	BlueARN             types.String   `tfsdk:"blue_target_group_arn"`
	GreenARN            types.String   `tfsdk:"green_target_group_arn"`
	LiveARN             types.String   `tfsdk:"live_target_group_arn"`
	IdleARN             types.String   `tfsdk:"idle_target_group_arn"`
	PreviousActive      types.String   `tfsdk:"previous_active"`
	Traffic             types.Map      `tfsdk:"traffic"`
	Settings            types.Map      `tfsdk:"target_group_settings"`
	PlannedSteps        types.List     `tfsdk:"planned_steps"`
	LastRollout         types.Object   `tfsdk:"last_rollout"`
	History             types.List     `tfsdk:"history"`
	ReplacedActions     types.String   `tfsdk:"replaced_actions"`
	Adopt               types.Bool     `tfsdk:"adopt"`
	OwnerTag            types.String   `tfsdk:"owner_tag"`
}

func (m blueGreenModel) ref() awsclient.Ref {
	return awsclient.Ref{ListenerARN: m.ListenerARN.ValueString(), RuleARN: m.RuleARN.ValueString()}
}

func (m blueGreenModel) arnOf(c bluegreen.Color) string { return m.arnAttr(c).ValueString() }

func (m blueGreenModel) arnAttr(c bluegreen.Color) types.String {
	if c == bluegreen.Blue {
		return m.BlueARN
	}
	return m.GreenARN
}

func (m *blueGreenModel) setARN(c bluegreen.Color, v types.String) {
	if c == bluegreen.Blue {
		m.BlueARN = v
	} else {
		m.GreenARN = v
	}
}

type healthCheckModel struct {
	Path               types.String `tfsdk:"path"`
	HealthyThreshold   types.Int64  `tfsdk:"healthy_threshold"`
	UnhealthyThreshold types.Int64  `tfsdk:"unhealthy_threshold"`
	Interval           types.Int64  `tfsdk:"interval"`
	Timeout            types.Int64  `tfsdk:"timeout"`
	Matcher            types.String `tfsdk:"matcher"`
}

var (
	healthCheckAttrTypes = map[string]attr.Type{"path": types.StringType, "healthy_threshold": types.Int64Type, "unhealthy_threshold": types.Int64Type, "interval": types.Int64Type, "timeout": types.Int64Type, "matcher": types.StringType}
	historyAttrTypes     = map[string]attr.Type{"from": types.StringType, "to": types.StringType, "status": types.StringType, "started_at": types.StringType, "finished_at": types.StringType}
	historyObjectType    = types.ObjectType{AttrTypes: historyAttrTypes}
	defaultHealthCheck   = awsclient.HealthCheck{Path: "/", HealthyThreshold: 5, UnhealthyThreshold: 2, Interval: 30, Timeout: 5, Matcher: "200"}
	namePrefixRE         = regexp.MustCompile(fmt.Sprintf(`^[a-zA-Z0-9]([a-zA-Z0-9-]{0,%d}[a-zA-Z0-9])?$`, bluegreen.MaxPrefix-2))
	vpcIDRE              = regexp.MustCompile(`^vpc-[0-9a-zA-Z-]+$`)
	healthPathRE         = regexp.MustCompile(`^/`)
	matcherRE            = regexp.MustCompile(`^\d{3}(-\d{3})?(,\d{3}(-\d{3})?)*$`)
)

// colorTag marks each target group with its color.
const colorTag = "rollout:color"

func healthCheckValue(h awsclient.HealthCheck) types.Object {
	return types.ObjectValueMust(healthCheckAttrTypes, map[string]attr.Value{
		"path": types.StringValue(h.Path), "healthy_threshold": types.Int64Value(int64(h.HealthyThreshold)),
		"unhealthy_threshold": types.Int64Value(int64(h.UnhealthyThreshold)), "interval": types.Int64Value(int64(h.Interval)),
		"timeout": types.Int64Value(int64(h.Timeout)), "matcher": types.StringValue(h.Matcher),
	})
}

func (r *blueGreenResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_deployment_bluegreen"
}

func (r *blueGreenResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	computed := func(d string) schema.StringAttribute {
		return schema.StringAttribute{Computed: true, MarkdownDescription: d}
	}
	i64 := func(d string, def int64, min, max int64) schema.Int64Attribute {
		return schema.Int64Attribute{Optional: true, Computed: true, Default: int64default.StaticInt64(def), MarkdownDescription: d,
			Validators: []validator.Int64{int64validator.Between(min, max)}}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Blue/green on an Application Load Balancer: this resource creates and owns a blue and a green target group and the forward action of a listener (or rule). " +
			"Changing `active` moves traffic from the live color to the other, through the same rollout, gates and rollback as `rollout_traffic_split`, and the plan shows the schedule. " +
			"The color that is not live is kept for an instant rollback; a `test_listener_arn` always forwards to it.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true, MarkdownDescription: "The ARN of the listener or rule.", PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
			"listener_arn": schema.StringAttribute{
				Optional: true, MarkdownDescription: "Listener whose default action this resource owns. Exactly one of `listener_arn` and `rule_arn`.",
				Validators:    []validator.String{arnOf{arn.Listener}, stringvalidator.ExactlyOneOf(path.MatchRoot("listener_arn"), path.MatchRoot("rule_arn"))},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"rule_arn": schema.StringAttribute{
				Optional: true, MarkdownDescription: "Listener rule whose action this resource owns.",
				Validators: []validator.String{arnOf{arn.ListenerRule}}, PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"name_prefix": schema.StringAttribute{
				Required: true, MarkdownDescription: fmt.Sprintf("Start of the target group names (`PREFIX-blue-xxxx`, `PREFIX-green-xxxx`): 1 to %d letters, digits and hyphens, not starting or ending with a hyphen.", bluegreen.MaxPrefix),
				Validators:    []validator.String{stringvalidator.RegexMatches(namePrefixRE, fmt.Sprintf("must be 1 to %d letters, digits and hyphens, not starting or ending with a hyphen", bluegreen.MaxPrefix))},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"port": schema.Int64Attribute{
				Required: true, MarkdownDescription: "Port the targets listen on, 1 to 65535. A change replaces the idle color's target group only (see the guide).",
				Validators: []validator.Int64{int64validator.Between(1, 65535)},
			},
			"protocol": schema.StringAttribute{
				Required: true, MarkdownDescription: "`HTTP` or `HTTPS`. A change replaces the idle color's target group only.",
				Validators: []validator.String{stringvalidator.OneOf("HTTP", "HTTPS")},
			},
			"vpc_id": schema.StringAttribute{
				Required: true, MarkdownDescription: "VPC of the targets (`vpc-…`). A change replaces the idle color's target group only.",
				Validators: []validator.String{stringvalidator.RegexMatches(vpcIDRE, "must be a VPC id such as vpc-0123456789abcdef0")},
			},
			"target_type": schema.StringAttribute{
				Optional: true, Computed: true, Default: stringdefault.StaticString("instance"),
				MarkdownDescription: "`instance` (the default, for EC2 and Auto Scaling groups) or `ip` (for ECS on Fargate). A change replaces the idle color's target group only.",
				Validators:          []validator.String{stringvalidator.OneOf("instance", "ip")},
			},
			"health_check": schema.SingleNestedAttribute{
				Optional: true, Computed: true, Default: objectdefault.StaticValue(healthCheckValue(defaultHealthCheck)),
				MarkdownDescription: "Health check of both target groups, changed in place.",
				Attributes: map[string]schema.Attribute{
					"path": schema.StringAttribute{Optional: true, Computed: true, Default: stringdefault.StaticString("/"), MarkdownDescription: "Path, starting with `/`. Default `/`.",
						Validators: []validator.String{stringvalidator.RegexMatches(healthPathRE, "must start with /"), stringvalidator.LengthAtMost(1024)}},
					"healthy_threshold":   i64("Consecutive successes before a target is healthy, 2 to 10. Default 5.", 5, 2, 10),
					"unhealthy_threshold": i64("Consecutive failures before a target is unhealthy, 2 to 10. Default 2.", 2, 2, 10),
					"interval":            i64("Seconds between checks, 5 to 300, above `timeout`. Default 30.", 30, 5, 300),
					"timeout":             i64("Seconds before a check fails, 2 to 120, below `interval`. Default 5.", 5, 2, 120),
					"matcher": schema.StringAttribute{Optional: true, Computed: true, Default: stringdefault.StaticString("200"), MarkdownDescription: "HTTP codes that mean healthy: `200`, `200,202` or `200-299`. Default `200`.",
						Validators: []validator.String{stringvalidator.RegexMatches(matcherRE, `must be HTTP codes such as "200", "200,202" or "200-299"`)}},
				},
			},
			"deregistration_delay": schema.Int64Attribute{
				Optional: true, Computed: true, Default: int64default.StaticInt64(300),
				MarkdownDescription: "Seconds a deregistering target keeps its connections, 0 to 3600. Default 300.",
				Validators:          []validator.Int64{int64validator.Between(0, 3600)},
			},
			"tags": schema.MapAttribute{
				ElementType: types.StringType, Optional: true,
				MarkdownDescription: fmt.Sprintf("Tags of both target groups, at most 49. Each also gets `%s = blue` or `green`.", colorTag),
				Validators:          []validator.Map{mapvalidator.SizeAtMost(49), mapvalidator.KeysAre(stringvalidator.LengthBetween(1, 128), stringvalidator.NoneOf(colorTag))},
			},
			"active": schema.StringAttribute{
				Required: true, MarkdownDescription: "`blue` or `green`: the color that serves the traffic. Change it to flip (or to roll back); the plan shows the schedule.",
				Validators: []validator.String{stringvalidator.OneOf("blue", "green")},
			},
			"rollout": rolloutResourceAttr(),
			"test_listener_arn": schema.StringAttribute{
				Optional: true, MarkdownDescription: "A second listener that always forwards 100 % to the idle color, so the candidate can be checked before it takes production traffic.",
				Validators: []validator.String{arnOf{arn.Listener}},
			},
			"timeouts": timeouts.Attributes(ctx, timeouts.Opts{Create: true, Update: true,
				UpdateDescription: "How long an update may take, rollout included. Default `60m`."}),
			"blue_target_group_arn":  computed("ARN of the blue target group."),
			"green_target_group_arn": computed("ARN of the green target group."),
			"live_target_group_arn":  computed("ARN of the target group that serves the traffic: wire it to the production ECS service or Auto Scaling group."),
			"idle_target_group_arn":  computed("ARN of the other target group: deploy the candidate there."),
			"previous_active":        computed("The color that was active before the last flip."),
			"traffic": schema.MapAttribute{
				ElementType: types.Int64Type, Computed: true,
				MarkdownDescription: "Weight per color as the listener serves it: `{ blue = 100, green = 0 }` when settled.",
			},
			"target_group_settings": schema.MapAttribute{
				ElementType: types.StringType, Computed: true,
				MarkdownDescription: "Per color, the protocol, port, VPC and target type its target group was created with, or `missing`; a color that differs from the configuration is replaced once idle.",
			},
			"planned_steps": plannedStepsAttr(),
			"last_rollout":  lastRolloutAttr(),
			"adopt":         adoptAttr(),
			"owner_tag":     ownerAttr(),
			"history": schema.ListNestedAttribute{
				Computed: true, MarkdownDescription: fmt.Sprintf("The last %d flips: from, to, status and times.", bluegreen.MaxHistory),
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"from": computed("Color before."), "to": computed("Color asked for."),
					"status":     computed("`succeeded`, `rolled_back` or `failed`."),
					"started_at": computed("RFC 3339."), "finished_at": computed("RFC 3339."),
				}},
			},
			"replaced_actions": schema.StringAttribute{
				Computed: true, MarkdownDescription: "JSON of the actions the listener (and test listener) had before this resource took them over; destroy puts them back.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
		},
	}
}

func (r *blueGreenResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.client = clientFrom(req.ProviderData, &resp.Diagnostics)
}

func (r *blueGreenResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m blueGreenModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	checkRollout(ctx, m.Rollout, path.Root("rollout"), &resp.Diagnostics)
	if !m.TestListenerARN.IsNull() && !m.TestListenerARN.IsUnknown() && m.TestListenerARN.Equal(m.ListenerARN) {
		resp.Diagnostics.AddAttributeError(path.Root("test_listener_arn"), "Test Listener Is The Listener", detail(nil,
			"test_listener_arn is the same listener as listener_arn.",
			"The test listener forwards to the idle color; give a second listener (another port), or remove test_listener_arn."))
	}
	if !m.HealthCheck.IsNull() && !m.HealthCheck.IsUnknown() {
		var h healthCheckModel
		resp.Diagnostics.Append(m.HealthCheck.As(ctx, &h, basetypes.ObjectAsOptions{UnhandledNullAsEmpty: true, UnhandledUnknownAsEmpty: true})...)
		iv, to := h.Interval, h.Timeout
		if !iv.IsNull() && !iv.IsUnknown() && !to.IsNull() && !to.IsUnknown() && to.ValueInt64() >= iv.ValueInt64() {
			resp.Diagnostics.AddAttributeError(path.Root("health_check").AtName("timeout"), "Health Check Timeout Too Long", detail(nil,
				fmt.Sprintf("health_check.timeout is %d s and health_check.interval %d s.", to.ValueInt64(), iv.ValueInt64()),
				"AWS requires the timeout to be shorter than the interval."))
		}
	}
}

func (m blueGreenModel) settings() bluegreen.Settings {
	return bluegreen.Settings{Port: int(m.Port.ValueInt64()), Protocol: m.Protocol.ValueString(), VPC: m.VPCID.ValueString(), TargetType: m.TargetType.ValueString()}
}

func stringMap(ctx context.Context, m types.Map, diags *diag.Diagnostics) map[string]string {
	out := map[string]string{}
	if !m.IsNull() && !m.IsUnknown() {
		diags.Append(m.ElementsAs(ctx, &out, false)...)
	}
	return out
}

func intMap(ctx context.Context, m types.Map, diags *diag.Diagnostics) map[string]int64 {
	out := map[string]int64{}
	if !m.IsNull() && !m.IsUnknown() {
		diags.Append(m.ElementsAs(ctx, &out, false)...)
	}
	return out
}

func (r *blueGreenResource) stateOf(ctx context.Context, m blueGreenModel, diags *diag.Diagnostics) bluegreen.State {
	tr := intMap(ctx, m.Traffic, diags)
	fp := stringMap(ctx, m.Settings, diags)
	return bluegreen.State{
		Active:       bluegreen.Color(m.Active.ValueString()),
		Weights:      map[bluegreen.Color]int{bluegreen.Blue: int(tr["blue"]), bluegreen.Green: int(tr["green"])},
		Fingerprints: map[bluegreen.Color]string{bluegreen.Blue: fp["blue"], bluegreen.Green: fp["green"]},
	}
}

// splitOf is the forward action of the two colors at the given weights.
func splitOf(m blueGreenModel, w map[bluegreen.Color]int) weights.Split {
	return weights.Split{{ARN: m.BlueARN.ValueString(), Weight: w[bluegreen.Blue]}, {ARN: m.GreenARN.ValueString(), Weight: w[bluegreen.Green]}}
}

func wantWeights(active bluegreen.Color) map[bluegreen.Color]int {
	return map[bluegreen.Color]int{active: 100, active.Other(): 0}
}

// settingsValue is target_group_settings: each color's fingerprint.
func settingsValue(fps map[string]string) types.Map {
	return types.MapValueMust(types.StringType, map[string]attr.Value{"blue": types.StringValue(fps["blue"]), "green": types.StringValue(fps["green"])})
}

func trafficValue(w map[bluegreen.Color]int) types.Map {
	return types.MapValueMust(types.Int64Type, map[string]attr.Value{"blue": types.Int64Value(int64(w[bluegreen.Blue])), "green": types.Int64Value(int64(w[bluegreen.Green]))})
}

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
	if st.Weights[bluegreen.Blue] == want[bluegreen.Blue] && st.Weights[bluegreen.Green] == want[bluegreen.Green] {
		set("traffic", state.Traffic)
		set("planned_steps", state.PlannedSteps)
		set("last_rollout", state.LastRollout)
		set("history", state.History)
		set("previous_active", state.PreviousActive)
		return
	}
	set("traffic", trafficValue(want))
	set("last_rollout", types.ObjectUnknown(lastRolloutAttrTypes))
	set("history", types.ListUnknown(historyObjectType))
	set("previous_active", state.Active)
	strat, known, ds := strategyFrom(ctx, plan.Rollout)
	resp.Diagnostics.Append(ds...)
	if !known || len(strat.Problems()) > 0 {
		set("planned_steps", types.ListUnknown(plannedStepObjectType))
		return
	}
	steps, err := schedule(splitOf(state, st.Weights), splitOf(state, want), strat)
	if err != nil {
		addError(&resp.Diagnostics, pathOf(path.Root("active")), "Schedule Not Possible", err)
		return
	}
	set("planned_steps", plannedStepsValue(steps))
	checkScheduleTimeout(ctx, plan.Timeouts, false, steps, plan.Rollout, &resp.Diagnostics)
	refuseRetry(state.LastRollout, splitOf(state, want), attemptOf(ctx, plan.Rollout), path.Root("active"), &resp.Diagnostics, true)
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

func (r *blueGreenResource) targetGroup(ctx context.Context, m blueGreenModel, c bluegreen.Color, diags *diag.Diagnostics) awsclient.TargetGroup {
	var h healthCheckModel
	diags.Append(m.HealthCheck.As(ctx, &h, basetypes.ObjectAsOptions{})...)
	tags := stringMap(ctx, m.Tags, diags)
	tags[colorTag] = string(c)
	return awsclient.TargetGroup{
		Port: int(m.Port.ValueInt64()), Protocol: m.Protocol.ValueString(), VPC: m.VPCID.ValueString(), TargetType: m.TargetType.ValueString(),
		HealthCheck: awsclient.HealthCheck{
			Path: h.Path.ValueString(), HealthyThreshold: int(h.HealthyThreshold.ValueInt64()), UnhealthyThreshold: int(h.UnhealthyThreshold.ValueInt64()),
			Interval: int(h.Interval.ValueInt64()), Timeout: int(h.Timeout.ValueInt64()), Matcher: h.Matcher.ValueString(),
		},
		DeregistrationDelay: int(m.DeregistrationDelay.ValueInt64()), Tags: tags,
	}
}

func randomSuffix() string {
	b := make([]byte, 2)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (r *blueGreenResource) createColor(ctx context.Context, m blueGreenModel, c bluegreen.Color, diags *diag.Diagnostics) string {
	tg := r.targetGroup(ctx, m, c, diags)
	tg.Name = bluegreen.Name(m.NamePrefix.ValueString(), c, randomSuffix())
	a, err := r.client.CreateTargetGroup(ctx, tg)
	if err != nil {
		if a != "" {
			_ = r.client.DeleteTargetGroup(ctx, a)
		}
		diags.AddError("Cannot Create Target Group", detail(err, fmt.Sprintf("Creating the %s target group %s failed.", c, tg.Name),
			"Check the VPC id, the port and protocol, and the credentials' elasticloadbalancing:CreateTargetGroup and ModifyTargetGroupAttributes permissions."))
		return ""
	}
	tflog.Info(ctx, "created target group", map[string]any{"color": string(c), "arn": a})
	return a
}

type replacedActions struct {
	Listener     json.RawMessage `json:"listener"`
	TestListener json.RawMessage `json:"test_listener,omitempty"`
}

func (r *blueGreenResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan blueGreenModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() || r.client == nil {
		return
	}
	ref := plan.ref()
	current, err := r.client.ReadActions(ctx, ref)
	if err != nil {
		addReadError(&resp.Diagnostics, r.client, ref, err)
		return
	}
	var rec replacedActions
	enc, _ := current.Encode()
	rec.Listener = json.RawMessage(enc)
	var testCurrent awsclient.Actions
	if tl := plan.TestListenerARN.ValueString(); tl != "" {
		if testCurrent, err = r.client.ReadActions(ctx, awsclient.Ref{ListenerARN: tl}); err != nil {
			addReadError(&resp.Diagnostics, r.client, awsclient.Ref{ListenerARN: tl}, err)
			return
		}
		enc, _ := testCurrent.Encode()
		rec.TestListener = json.RawMessage(enc)
	}
	token, ok := claim(ctx, r.client, ref, blueGreenType, "", plan.Adopt.ValueBool(), nil, "", &resp.Diagnostics)
	if !ok {
		return
	}
	plan.OwnerTag = types.StringValue(token)
	giveUp := func() { release(ctx, r.client, ref, token, types.ObjectNull(lastRolloutAttrTypes), &resp.Diagnostics) }
	blue := r.createColor(ctx, plan, bluegreen.Blue, &resp.Diagnostics)
	if blue == "" {
		giveUp()
		return
	}
	green := r.createColor(ctx, plan, bluegreen.Green, &resp.Diagnostics)
	if green == "" {
		_ = r.client.DeleteTargetGroup(ctx, blue)
		giveUp()
		return
	}
	plan.BlueARN, plan.GreenARN = types.StringValue(blue), types.StringValue(green)
	active := bluegreen.Color(plan.Active.ValueString())
	w := wantWeights(active)
	fwd := awsclient.Forward{Split: splitOf(plan, w)}
	if _, err := r.client.SetForward(ctx, ref, current, fwd); err != nil {
		addWriteError(&resp.Diagnostics, r.client, ref, err)
		if errors.Is(err, rollout.ErrUnknownWeights) {
			// The listener may forward to the new target groups: keep them,
			// and the state that names them, so destroy releases it first.
			b, _ := json.Marshal(rec)
			plan.ID, plan.ReplacedActions = types.StringValue(ref.ID()), types.StringValue(string(b))
			plan.Traffic = trafficValue(map[bluegreen.Color]int{bluegreen.Blue: 0, bluegreen.Green: 0})
			plan.Settings = settingsValue(map[string]string{"blue": plan.settings().Fingerprint(), "green": plan.settings().Fingerprint()})
			plan.LiveARN, plan.IdleARN = types.StringValue(plan.arnOf(active)), types.StringValue(plan.arnOf(active.Other()))
			plan.PreviousActive, plan.History = types.StringNull(), types.ListValueMust(historyObjectType, nil)
			plan.PlannedSteps = plannedStepsValue(nil)
			plan.LastRollout = types.ObjectNull(lastRolloutAttrTypes)
			resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
			return
		}
		_ = r.client.DeleteTargetGroup(ctx, blue)
		_ = r.client.DeleteTargetGroup(ctx, green)
		giveUp()
		return
	}
	r.pointTestListener(ctx, plan.TestListenerARN, testCurrent, plan.arnOf(active.Other()), &resp.Diagnostics)
	b, _ := json.Marshal(rec)
	now := r.client.Clock.Now()
	plan.ID = types.StringValue(ref.ID())
	plan.ReplacedActions = types.StringValue(string(b))
	plan.Traffic = trafficValue(w)
	fp := plan.settings().Fingerprint()
	plan.Settings = settingsValue(map[string]string{"blue": fp, "green": fp})
	plan.LiveARN, plan.IdleARN = types.StringValue(plan.arnOf(active)), types.StringValue(plan.arnOf(active.Other()))
	plan.PreviousActive = types.StringNull()
	plan.PlannedSteps = plannedStepsValue([]rollout.PlannedStep{{Percent: 100, Weights: fwd.Split}})
	plan.LastRollout = lastRolloutValue(rollout.Result{Status: rollout.Succeeded, StepReached: 1, Steps: 1, Current: fwd.Split, Started: now, Finished: now}, fwd.Split, attemptOf(ctx, plan.Rollout))
	plan.History = types.ListValueMust(historyObjectType, nil)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *blueGreenResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state blueGreenModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() || r.client == nil {
		return
	}
	st := r.stateOf(ctx, state, &resp.Diagnostics)
	active := bluegreen.Color(plan.Active.ValueString())
	d := bluegreen.Decide(st, active, plan.settings())
	if d.Refused != "" {
		resp.Diagnostics.AddAttributeError(path.Root("active"), "Change Needs Two Applies", detail(nil, d.Refused+"."))
		return
	}
	// Carry the state's facts; the steps below change them as they happen.
	plan.ID, plan.ReplacedActions = state.ID, state.ReplacedActions
	plan.BlueARN, plan.GreenARN = state.BlueARN, state.GreenARN
	plan.Traffic, plan.Settings, plan.History, plan.PreviousActive = state.Traffic, state.Settings, state.History, state.PreviousActive
	if plan.LastRollout.IsUnknown() {
		plan.LastRollout = state.LastRollout
	}
	plan.Active = state.Active
	save := func() { resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...) }

	// 0. Read before write: this resource still owns the listener, which
	// serves what the plan was made from; a flip to the color last rolled
	// back needs a new attempt.
	token, ok := claim(ctx, r.client, state.ref(), blueGreenType, state.OwnerTag.ValueString(), plan.Adopt.ValueBool(), nil, "", &resp.Diagnostics)
	if !ok {
		return
	}
	plan.OwnerTag = types.StringValue(token)
	want := wantWeights(active)
	flipping := st.Weights[bluegreen.Blue] != want[bluegreen.Blue] || st.Weights[bluegreen.Green] != want[bluegreen.Green]
	var to weights.Split
	if flipping {
		to = splitOf(state, want)
	}
	if flipping && refuseRetry(state.LastRollout, to, attemptOf(ctx, plan.Rollout), path.Root("active"), &resp.Diagnostics, false) {
		return
	}
	if !readBeforeWrite(ctx, r.subject(state, st.Active), splitOf(state, st.Weights), &resp.Diagnostics) {
		return
	}

	// 1. Settings AWS changes in place, on each target group kept.
	for _, c := range bluegreen.Colors {
		if c == d.Replace || st.Fingerprints[c] == bluegreen.Missing {
			continue
		}
		have := r.targetGroup(ctx, state, c, &resp.Diagnostics)
		want := r.targetGroup(ctx, plan, c, &resp.Diagnostics)
		have.ARN = state.arnOf(c)
		if err := r.client.UpdateTargetGroup(ctx, have, want); err != nil {
			resp.Diagnostics.AddError("Cannot Update Target Group", detail(err, fmt.Sprintf("Changing the %s target group %s failed.", c, have.ARN),
				"Check the credentials' elasticloadbalancing:ModifyTargetGroup, ModifyTargetGroupAttributes, AddTags and RemoveTags permissions."))
			return
		}
	}

	// 2. Replace the idle target group: create the new one, point every
	// forward action at it, then delete the old one.
	if c := d.Replace; c != "" {
		if !r.replaceIdle(ctx, &plan, state, st, c, &resp.Diagnostics) {
			save()
			return
		}
	}

	// 3. Move traffic if it is not where it should be.
	if flipping {
		r.flip(ctx, &plan, state, st, active, &resp.Diagnostics)
	} else {
		plan.Active = types.StringValue(string(active))
	}
	live := bluegreen.LiveOf(map[bluegreen.Color]int(r.stateOf(ctx, plan, &resp.Diagnostics).Weights), bluegreen.Color(plan.Active.ValueString()))
	plan.LiveARN, plan.IdleARN = types.StringValue(plan.arnOf(live)), types.StringValue(plan.arnOf(live.Other()))
	save()
}

func (r *blueGreenResource) replaceIdle(ctx context.Context, plan *blueGreenModel, state blueGreenModel, st bluegreen.State, c bluegreen.Color, diags *diag.Diagnostics) bool {
	old := state.arnOf(c)
	neu := r.createColor(ctx, *plan, c, diags)
	if neu == "" {
		return false
	}
	plan.setARN(c, types.StringValue(neu))
	if _, err := r.client.SetForward(ctx, state.ref(), nil, awsclient.Forward{Split: splitOf(*plan, st.Weights)}); err != nil {
		_ = r.client.DeleteTargetGroup(ctx, neu)
		plan.setARN(c, state.arnAttr(c))
		addWriteError(diags, r.client, state.ref(), err)
		return false
	}
	if c == st.Active.Other() && !r.pointTestListener(ctx, state.TestListenerARN, nil, neu, diags) {
		return false
	}
	fps := stringMap(ctx, plan.Settings, diags)
	fps[string(c)] = plan.settings().Fingerprint()
	plan.Settings = settingsValue(fps)
	if old != "" {
		if err := r.client.DeleteTargetGroup(ctx, old); err != nil {
			diags.AddWarning("Old Target Group Not Deleted", detail(err, fmt.Sprintf("The %s target group was replaced by %s, but deleting the old one %s failed; nothing forwards to it any more.", c, neu, old),
				"Delete it by hand, or check the elasticloadbalancing:DeleteTargetGroup permission."))
		}
	}
	tflog.Info(ctx, "replaced idle target group", map[string]any{"color": string(c), "old": old, "new": neu})
	return true
}

func (r *blueGreenResource) flip(ctx context.Context, plan *blueGreenModel, state blueGreenModel, st bluegreen.State, active bluegreen.Color, diags *diag.Diagnostics) {
	from := splitOf(*plan, st.Weights)
	to := splitOf(*plan, wantWeights(active))
	settings, d := settingsFrom(ctx, plan.Rollout)
	diags.Append(d...)
	limit, ds := plan.Timeouts.Update(ctx, defaultApplyTimeout)
	diags.Append(ds...)
	if diags.HasError() {
		return
	}
	prev := st.Active
	tflog.Info(ctx, "flipping", map[string]any{"from": string(prev), "to": string(active)})
	// Read before write and the retry rule were checked before any write
	// of this update.
	ch := change{from: from, to: to, settings: settings, planned: plan.PlannedSteps, last: types.ObjectNull(lastRolloutAttrTypes), limit: limit}
	out := runChange(ctx, r.client, r.subject(state, prev), ch, diags)
	if !out.moved {
		return
	}
	res := out.res
	plan.PlannedSteps = plannedStepsValue(out.steps)
	got := res.Current.Map()
	w := map[bluegreen.Color]int{bluegreen.Blue: got[plan.BlueARN.ValueString()], bluegreen.Green: got[plan.GreenARN.ValueString()]}
	plan.Traffic = trafficValue(w)
	plan.LastRollout = recordChange(ch, res)
	now := bluegreen.LiveOf(w, prev)
	plan.Active = types.StringValue(string(now))
	if now != prev {
		plan.PreviousActive = types.StringValue(string(prev))
	}
	hist := bluegreen.Record(historyFrom(ctx, plan.History, diags), bluegreen.Flip{From: prev, To: active, Status: string(res.Status), Started: res.Started, Finished: res.Finished})
	plan.History = historyValue(hist)
	if res.Status == rollout.Succeeded {
		r.pointTestListener(ctx, plan.TestListenerARN, nil, plan.arnOf(active.Other()), diags)
	}
}

// subject is the deployment's forward action as the traffic pipeline sees
// it; prev is the color live before this apply.
func (r *blueGreenResource) subject(m blueGreenModel, prev bluegreen.Color) listenerSubject {
	return listenerSubject{c: r.client, ref: m.ref(), attr: path.Root("active"),
		goBack: func(weights.Split) string { return fmt.Sprintf("set active back to %q", prev) }}
}

// pointTestListener makes the test listener, when there is one, forward
// everything to the idle target group. It returns false after an error.
func (r *blueGreenResource) pointTestListener(ctx context.Context, listener types.String, current awsclient.Actions, idle string, diags *diag.Diagnostics) bool {
	tl := listener.ValueString()
	if tl == "" {
		return true
	}
	ref := awsclient.Ref{ListenerARN: tl}
	if _, err := r.client.SetForward(ctx, ref, current, awsclient.Forward{Split: weights.Split{{ARN: idle, Weight: 1}}}); err != nil {
		addWriteError(diags, r.client, ref, err)
		return false
	}
	return true
}

func historyFrom(ctx context.Context, l types.List, diags *diag.Diagnostics) []bluegreen.Flip {
	if l.IsNull() || l.IsUnknown() {
		return nil
	}
	var raw []struct {
		From       types.String `tfsdk:"from"`
		To         types.String `tfsdk:"to"`
		Status     types.String `tfsdk:"status"`
		StartedAt  types.String `tfsdk:"started_at"`
		FinishedAt types.String `tfsdk:"finished_at"`
	}
	diags.Append(l.ElementsAs(ctx, &raw, false)...)
	var out []bluegreen.Flip
	for _, h := range raw {
		s, _ := time.Parse(time.RFC3339, h.StartedAt.ValueString())
		f, _ := time.Parse(time.RFC3339, h.FinishedAt.ValueString())
		out = append(out, bluegreen.Flip{From: bluegreen.Color(h.From.ValueString()), To: bluegreen.Color(h.To.ValueString()), Status: h.Status.ValueString(), Started: s, Finished: f})
	}
	return out
}

func historyValue(h []bluegreen.Flip) types.List {
	elems := make([]attr.Value, 0, len(h))
	for _, f := range h {
		elems = append(elems, types.ObjectValueMust(historyAttrTypes, map[string]attr.Value{
			"from": types.StringValue(string(f.From)), "to": types.StringValue(string(f.To)), "status": types.StringValue(f.Status),
			"started_at": types.StringValue(f.Started.UTC().Format(time.RFC3339)), "finished_at": types.StringValue(f.Finished.UTC().Format(time.RFC3339)),
		}))
	}
	return types.ListValueMust(historyObjectType, elems)
}

func (r *blueGreenResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var m blueGreenModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || r.client == nil {
		return
	}
	ref := m.ref()
	acts, err := r.client.ReadActions(ctx, ref)
	if errors.Is(err, awsclient.ErrNotFound) {
		tflog.Warn(ctx, "listener or rule no longer exists; removing from state", map[string]any{"id": ref.ID()})
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		addReadError(&resp.Diagnostics, r.client, ref, err)
		return
	}
	fwd, _ := acts.Forward()
	got := fwd.Split.Map()
	w := map[bluegreen.Color]int{bluegreen.Blue: got[m.BlueARN.ValueString()], bluegreen.Green: got[m.GreenARN.ValueString()]}
	m.Traffic = trafficValue(w)
	prior := bluegreen.Color(m.Active.ValueString())
	if prior == "" {
		prior = bluegreen.Blue
	}
	live := bluegreen.LiveOf(w, prior)
	m.Active = types.StringValue(string(live))
	m.ID = types.StringValue(ref.ID())
	// One DescribeTargetGroups for both colors; attributes and tags only for
	// the live one, whose settings the state reports.
	found, err := r.client.DescribeTargetGroups(ctx, m.arnOf(bluegreen.Blue), m.arnOf(bluegreen.Green))
	if err != nil {
		resp.Diagnostics.AddError("Cannot Read Target Groups", detail(err, fmt.Sprintf("Reading the blue and green target groups %s and %s failed.", m.arnOf(bluegreen.Blue), m.arnOf(bluegreen.Green)), "Check the elasticloadbalancing:Describe* permissions."))
		return
	}
	fps := map[string]string{}
	for _, c := range bluegreen.Colors {
		tg, ok := found[m.arnOf(c)]
		if !ok {
			fps[string(c)] = bluegreen.Missing
			continue
		}
		fps[string(c)] = bluegreen.Settings{Port: tg.Port, Protocol: tg.Protocol, VPC: tg.VPC, TargetType: tg.TargetType}.Fingerprint()
		if m.NamePrefix.IsNull() { // imported
			m.NamePrefix = types.StringValue(bluegreen.PrefixOf(tg.Name))
			m.Port, m.Protocol = types.Int64Value(int64(tg.Port)), types.StringValue(tg.Protocol)
			m.VPCID, m.TargetType = types.StringValue(tg.VPC), types.StringValue(tg.TargetType)
		}
		if c == live {
			if err := r.client.ReadTargetGroupDetails(ctx, tg); err != nil {
				resp.Diagnostics.AddError("Cannot Read Target Group", detail(err, fmt.Sprintf("Reading the attributes and tags of the %s target group %s failed.", c, tg.ARN), "Check the elasticloadbalancing:Describe* permissions."))
				return
			}
			m.HealthCheck = healthCheckValue(tg.HealthCheck)
			m.DeregistrationDelay = types.Int64Value(int64(tg.DeregistrationDelay))
			delete(tg.Tags, colorTag)
			m.Tags = stringMapValue(ctx, m.Tags, tg.Tags, &resp.Diagnostics)
		}
	}
	m.Settings = settingsValue(fps)
	m.LiveARN, m.IdleARN = types.StringValue(m.arnOf(live)), types.StringValue(m.arnOf(live.Other()))
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *blueGreenResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var m blueGreenModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || r.client == nil {
		return
	}
	var rec replacedActions
	_ = json.Unmarshal([]byte(m.ReplacedActions.ValueString()), &rec)
	owned := map[string]bool{m.BlueARN.ValueString(): true, m.GreenARN.ValueString(): true}
	release(ctx, r.client, m.ref(), m.OwnerTag.ValueString(), m.LastRollout, &resp.Diagnostics)
	// Nothing may forward to the target groups once they are gone: put back
	// what the listeners had, or answer 503 when that is not possible.
	r.release(ctx, m.ref(), rec.Listener, owned, &resp.Diagnostics)
	if tl := m.TestListenerARN.ValueString(); tl != "" {
		r.release(ctx, awsclient.Ref{ListenerARN: tl}, rec.TestListener, owned, &resp.Diagnostics)
	}
	if resp.Diagnostics.HasError() {
		return
	}
	for _, c := range bluegreen.Colors {
		if err := r.client.DeleteTargetGroup(ctx, m.arnOf(c)); err != nil {
			resp.Diagnostics.AddError("Cannot Delete Target Group", detail(err, fmt.Sprintf("Deleting the %s target group %s failed; the listener no longer forwards to it.", c, m.arnOf(c)),
				"Check the elasticloadbalancing:DeleteTargetGroup permission, then destroy again."))
			return
		}
	}
}

// release points a listener away from the owned target groups: back to the
// recorded actions when every target group in them still exists, else to a
// fixed 503 answer.
func (r *blueGreenResource) release(ctx context.Context, ref awsclient.Ref, recorded json.RawMessage, owned map[string]bool, diags *diag.Diagnostics) {
	acts, err := r.client.ReadActions(ctx, ref)
	if errors.Is(err, awsclient.ErrNotFound) {
		return
	}
	if err != nil {
		addReadError(diags, r.client, ref, err)
		return
	}
	live, forwards := acts.Forward()
	if !bluegreen.NeedsRelease(live.Split, forwards, owned) {
		return
	}
	restore, err := awsclient.DecodeActions(string(recorded))
	valid := err == nil && len(restore) > 0
	rec, recForwards := restore.Forward()
	var exists map[string]bool
	if valid && recForwards && len(rec.Split) > 0 {
		var arns []string
		for _, t := range rec.Split {
			arns = append(arns, t.ARN)
		}
		if found, err := r.client.DescribeTargetGroups(ctx, arns...); err == nil {
			exists = map[string]bool{}
			for a, tg := range found {
				exists[a] = tg != nil
			}
		}
	}
	usable := bluegreen.CanRestore(valid, rec.Split, recForwards, owned, exists)
	if !usable {
		restore = acts.WithFixedResponse(503, "Service unavailable: its blue/green deployment was destroyed.")
		diags.AddWarning("Listener Answers 503", detail(nil,
			fmt.Sprintf("%s forwarded to the target groups being destroyed, and the action it had before this resource cannot be put back (its target groups are gone).", ref.ID()),
			"It now answers 503 with a fixed response. Point it at a target group of your own."))
	}
	tflog.Info(ctx, "releasing listener before deleting target groups", map[string]any{"id": ref.ID()})
	if err := r.client.WriteActions(ctx, ref, restore); err != nil {
		diags.AddError("Cannot Release Listener", detail(err, fmt.Sprintf("%s still forwards to the target groups of this deployment; they were not deleted.", ref.ID()),
			"Check the elasticloadbalancing:ModifyListener permission, then destroy again."))
	}
}

func (r *blueGreenResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	parts := strings.Split(req.ID, ",")
	bad := len(parts) != 3
	attr := ""
	if !bad {
		attr = refAttrOf(parts[0])
		bad = attr == ""
		for _, p := range parts[1:] {
			if _, err := arn.TargetGroup.Check(p); err != nil {
				bad = true
			}
		}
	}
	if bad {
		resp.Diagnostics.AddError("Invalid Import ID", detail(nil,
			fmt.Sprintf("%q is not LISTENER_OR_RULE_ARN,BLUE_TARGET_GROUP_ARN,GREEN_TARGET_GROUP_ARN.", req.ID),
			"Import with the listener (or rule) ARN and the two target group ARNs, comma-separated, blue first."))
		return
	}
	set := func(name string, v any) { resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root(name), v)...) }
	set("id", parts[0])
	set(attr, parts[0])
	set("blue_target_group_arn", parts[1])
	set("green_target_group_arn", parts[2])
	importLease(ctx, r.client, attrRef(attr, parts[0]), resp)
}

// blueGreenType is the resource type in owner tags.
const blueGreenType = "rollout_deployment_bluegreen"
