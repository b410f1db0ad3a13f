package provider

import (
	"context"
	"fmt"
	"regexp"
	"strings"

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

	"github.com/rolloutdev/terraform-provider-rollout/internal/arn"
	"github.com/rolloutdev/terraform-provider-rollout/internal/awsclient"
	"github.com/rolloutdev/terraform-provider-rollout/internal/bluegreen"
	"github.com/rolloutdev/terraform-provider-rollout/internal/pipeline"
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
	ControlledBy        types.Object   `tfsdk:"controlled_by"`
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
	i64 := func(d string, def int64, lo, hi int64) schema.Int64Attribute {
		return schema.Int64Attribute{Optional: true, Computed: true, Default: int64default.StaticInt64(def), MarkdownDescription: d,
			Validators: []validator.Int64{int64validator.Between(lo, hi)}}
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
				Optional: true, MarkdownDescription: "Listener rule whose action this resource owns. Exactly one of `listener_arn` and `rule_arn`.",
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
				CreateDescription: "How long a create may take (target groups and the listener's first forward action). Default `60m`.",
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
			"controlled_by": controlledByAttr(),
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
	refuseKillSwitch(ctx, m.Rollout, path.Root("rollout"), &resp.Diagnostics)
	checkControlledBy(m.ControlledBy, path.Root("controlled_by"), &resp.Diagnostics)
	for _, a := range []struct {
		v    types.String
		name string
	}{{m.ListenerARN, "listener_arn"}, {m.TestListenerARN, "test_listener_arn"}} {
		if !a.v.IsNull() && !a.v.IsUnknown() && arn.IsNetwork(a.v.ValueString()) {
			resp.Diagnostics.AddAttributeError(path.Root(a.name), "Blue/Green On A Network Load Balancer", pipeline.Detail(nil,
				a.name+" is a Network Load Balancer's listener; rollout_deployment_bluegreen creates HTTP or HTTPS target groups, which a Network Load Balancer cannot forward to.",
				"Use rollout_traffic_split with your TCP, TLS or UDP target groups (a weight of 100 on one of them is a flip), or an Application Load Balancer's listener."))
		}
	}
	if !m.TestListenerARN.IsNull() {
		refuseDetached(ctx, m.Rollout, path.Root("rollout"), "A test listener is pointed at the new idle color when a flip succeeds, which the apply sees only when it runs the flip itself.", &resp.Diagnostics)
	}
	if !m.TestListenerARN.IsNull() && !m.TestListenerARN.IsUnknown() && m.TestListenerARN.Equal(m.ListenerARN) {
		resp.Diagnostics.AddAttributeError(path.Root("test_listener_arn"), "Test Listener Is The Listener", pipeline.Detail(nil,
			"test_listener_arn is the same listener as listener_arn.",
			"The test listener forwards to the idle color; give a second listener (another port), or remove test_listener_arn."))
	}
	if !m.HealthCheck.IsNull() && !m.HealthCheck.IsUnknown() {
		var h healthCheckModel
		resp.Diagnostics.Append(m.HealthCheck.As(ctx, &h, basetypes.ObjectAsOptions{UnhandledNullAsEmpty: true, UnhandledUnknownAsEmpty: true})...)
		iv, to := h.Interval, h.Timeout
		if !iv.IsNull() && !iv.IsUnknown() && !to.IsNull() && !to.IsUnknown() && to.ValueInt64() >= iv.ValueInt64() {
			resp.Diagnostics.AddAttributeError(path.Root("health_check").AtName("timeout"), "Health Check Timeout Too Long", pipeline.Detail(nil,
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

// weightsOf is each color's weight in a forward action. One that sends all
// its traffic to one color, in whatever form (that color alone at any
// weight, the other's zero-weight entry dropped), is that color at 100 and
// the other at 0: settled, as the plan and the read before write see it
// (weights.SameTraffic).
func weightsOf(m blueGreenModel, s weights.Split) map[bluegreen.Color]int {
	got := s.Map()
	w := map[bluegreen.Color]int{bluegreen.Blue: got[m.BlueARN.ValueString()], bluegreen.Green: got[m.GreenARN.ValueString()]}
	for _, c := range bluegreen.Colors {
		if w[c] > 0 && w[c] == s.Total() {
			return wantWeights(c)
		}
	}
	return w
}

func wantWeights(active bluegreen.Color) map[bluegreen.Color]int {
	return map[bluegreen.Color]int{active: 100, active.Other(): 0}
}

// serves reports whether the weights are w for both colors.
func serves(weights, w map[bluegreen.Color]int) bool {
	return weights[bluegreen.Blue] == w[bluegreen.Blue] && weights[bluegreen.Green] == w[bluegreen.Green]
}

// settingsValue is target_group_settings: each color's fingerprint.
func settingsValue(fps map[string]string) types.Map {
	return types.MapValueMust(types.StringType, map[string]attr.Value{"blue": types.StringValue(fps["blue"]), "green": types.StringValue(fps["green"])})
}

func trafficValue(w map[bluegreen.Color]int) types.Map {
	return types.MapValueMust(types.Int64Type, map[string]attr.Value{"blue": types.Int64Value(int64(w[bluegreen.Blue])), "green": types.Int64Value(int64(w[bluegreen.Green]))})
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
		resp.Diagnostics.AddError("Invalid Import ID", pipeline.Detail(nil,
			fmt.Sprintf("%q is not LISTENER_OR_RULE_ARN,BLUE_TARGET_GROUP_ARN,GREEN_TARGET_GROUP_ARN.", req.ID),
			"Import with the listener (or rule) ARN and the two target group ARNs, comma-separated, blue first."))
		return
	}
	set := func(name string, v any) { resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root(name), v)...) }
	set("id", parts[0])
	set(attr, parts[0])
	set("blue_target_group_arn", parts[1])
	set("green_target_group_arn", parts[2])
	if r.client != nil {
		importOwner(ctx, listenerSubject{c: r.client, ref: attrRef(attr, parts[0])}, resp)
	}
}

// blueGreenType is the resource type in owner tags.
const blueGreenType = "rollout_deployment_bluegreen"
