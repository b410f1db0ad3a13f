package provider

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/mapvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/rolloutdev/terraform-provider-rollout/internal/alarms"
	"github.com/rolloutdev/terraform-provider-rollout/internal/arn"
	"github.com/rolloutdev/terraform-provider-rollout/internal/awsclient"
	"github.com/rolloutdev/terraform-provider-rollout/internal/pipeline"
)

var (
	_ resource.ResourceWithConfigure      = (*alarmResource)(nil)
	_ resource.ResourceWithImportState    = (*alarmResource)(nil)
	_ resource.ResourceWithValidateConfig = (*alarmResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*alarmResource)(nil)
)

// NewAlarmResource builds rollout_alarm.
func NewAlarmResource() resource.Resource { return &alarmResource{} }

type alarmResource struct{ client *awsclient.Client }

type alarmModel struct {
	ID                      types.String  `tfsdk:"id"`
	Name                    types.String  `tfsdk:"name"`
	Preset                  types.String  `tfsdk:"preset"`
	TargetGroupARN          types.String  `tfsdk:"target_group_arn"`
	LoadBalancerARN         types.String  `tfsdk:"load_balancer_arn"`
	Threshold               types.Float64 `tfsdk:"threshold"`
	EvaluationPeriods       types.Int64   `tfsdk:"evaluation_periods"`
	DatapointsToAlarm       types.Int64   `tfsdk:"datapoints_to_alarm"`
	Period                  types.Int64   `tfsdk:"period"`
	TreatMissingData        types.String  `tfsdk:"treat_missing_data"`
	AlarmActions            types.Set     `tfsdk:"alarm_actions"`
	OKActions               types.Set     `tfsdk:"ok_actions"`
	InsufficientDataActions types.Set     `tfsdk:"insufficient_data_actions"`
	Description             types.String  `tfsdk:"description"`
	Tags                    types.Map     `tfsdk:"tags"`
	Custom                  types.Object  `tfsdk:"custom"`
	ARN                     types.String  `tfsdk:"arn"`
	State                   types.String  `tfsdk:"state"`
	StateReason             types.String  `tfsdk:"state_reason"`
}

type customModel struct {
	ComparisonOperator types.String `tfsdk:"comparison_operator"`
	Metric             types.Object `tfsdk:"metric"`
	Queries            types.List   `tfsdk:"queries"`
}

type customMetricModel struct {
	Namespace         types.String `tfsdk:"namespace"`
	Name              types.String `tfsdk:"name"`
	Statistic         types.String `tfsdk:"statistic"`
	ExtendedStatistic types.String `tfsdk:"extended_statistic"`
	Dimensions        types.Map    `tfsdk:"dimensions"`
}

type queryModel struct {
	ID         types.String `tfsdk:"id"`
	Expression types.String `tfsdk:"expression"`
	Label      types.String `tfsdk:"label"`
	ReturnData types.Bool   `tfsdk:"return_data"`
	Metric     types.Object `tfsdk:"metric"`
}

type queryMetricModel struct {
	Namespace  types.String `tfsdk:"namespace"`
	Name       types.String `tfsdk:"name"`
	Stat       types.String `tfsdk:"stat"`
	Period     types.Int64  `tfsdk:"period"`
	Dimensions types.Map    `tfsdk:"dimensions"`
}

var (
	dimensionsType        = types.MapType{ElemType: types.StringType}
	customMetricAttrTypes = map[string]attr.Type{"namespace": types.StringType, "name": types.StringType, "statistic": types.StringType, "extended_statistic": types.StringType, "dimensions": dimensionsType}
	queryMetricAttrTypes  = map[string]attr.Type{"namespace": types.StringType, "name": types.StringType, "stat": types.StringType, "period": types.Int64Type, "dimensions": dimensionsType}
	queryAttrTypes        = map[string]attr.Type{"id": types.StringType, "expression": types.StringType, "label": types.StringType, "return_data": types.BoolType, "metric": types.ObjectType{AttrTypes: queryMetricAttrTypes}}
	customAttrTypes       = map[string]attr.Type{"comparison_operator": types.StringType, "metric": types.ObjectType{AttrTypes: customMetricAttrTypes}, "queries": types.ListType{ElemType: types.ObjectType{AttrTypes: queryAttrTypes}}}
	alarmNameRE           = regexp.MustCompile(`^[^\x00-\x1f\x7f]+$`)
)

func (r *alarmResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_alarm"
}

func presetTable() string {
	var b strings.Builder
	for _, p := range alarms.Presets[:len(alarms.Presets)-1] {
		d := alarms.DefaultsOf(p)
		tg := map[alarms.Need]string{alarms.Required: "required", alarms.Optional: "optional", alarms.Refused: "not allowed"}[d.TargetGroup]
		fmt.Fprintf(&b, "`%s` (%s; `target_group_arn` %s; defaults: threshold %g, %d × %d s, missing data %s), ", p, d.Description, tg, d.Threshold, d.EvaluationPeriods, d.Period, d.TreatMissingData)
	}
	return b.String()
}

func (r *alarmResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	str := func(d string, v ...validator.String) schema.StringAttribute {
		return schema.StringAttribute{Optional: true, MarkdownDescription: d, Validators: v}
	}
	dims := func(d string) schema.MapAttribute {
		return schema.MapAttribute{ElementType: types.StringType, Optional: true, MarkdownDescription: d,
			Validators: []validator.Map{mapvalidator.SizeAtMost(alarms.MaxDimensions)}}
	}
	actions := func(when string) schema.SetAttribute {
		return schema.SetAttribute{
			ElementType: types.StringType, Optional: true,
			MarkdownDescription: fmt.Sprintf("SNS topic ARNs notified when the alarm goes to %s, at most %d.", when, alarms.MaxActions),
			Validators:          []validator.Set{setvalidator.SizeAtMost(alarms.MaxActions), setvalidator.ValueStringsAre(arnOf{arn.SNSTopic})},
		}
	}
	var presets []string
	for _, p := range alarms.Presets {
		presets = append(presets, string(p))
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "A CloudWatch alarm made for rollouts: the right namespace, metric, statistic, dimensions and metric math for an Application Load Balancer, from one `preset`. " +
			"Its `name` goes straight into a traffic split's `rollout.gates.alarms`.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true, MarkdownDescription: "The alarm name.", PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
			"name": schema.StringAttribute{
				Required: true, MarkdownDescription: fmt.Sprintf("Alarm name, 1 to %d characters without control characters, unique in the account and region. Changing it replaces the alarm.", alarms.MaxNameLen),
				Validators:    []validator.String{stringvalidator.LengthBetween(1, alarms.MaxNameLen), stringvalidator.RegexMatches(alarmNameRE, "must not contain control characters")},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"preset": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "What the alarm watches: " + presetTable() + "or `custom` (a metric or metric math in `custom`).",
				Validators:          []validator.String{stringvalidator.OneOf(presets...)},
			},
			"target_group_arn":  str("Target group whose metrics the preset watches (dimension `TargetGroup`, derived from the ARN).", arnOf{arn.TargetGroup}),
			"load_balancer_arn": str("Application Load Balancer whose metrics the preset watches (dimension `LoadBalancer`, derived from the ARN). Required by every preset.", arnOf{arn.LoadBalancer}),
			"threshold": schema.Float64Attribute{
				Optional: true, Computed: true,
				MarkdownDescription: "Threshold, in the preset's unit: percent for `error_rate`, milliseconds for `p99_latency`, a count otherwise. Defaults per preset; required for `custom`.",
			},
			"evaluation_periods": schema.Int64Attribute{
				Optional: true, Computed: true, MarkdownDescription: "Periods evaluated; `evaluation_periods` × `period` is at most one day. Defaults per preset.",
				Validators: []validator.Int64{int64validator.AtLeast(1)},
			},
			"datapoints_to_alarm": schema.Int64Attribute{
				Optional: true, Computed: true, MarkdownDescription: "Breaching periods among `evaluation_periods` that fire the alarm, 1 to `evaluation_periods`. Default: all of them.",
				Validators: []validator.Int64{int64validator.AtLeast(1)},
			},
			"period": schema.Int64Attribute{
				Optional: true, Computed: true, MarkdownDescription: "Seconds per period: 10, 30 or a multiple of 60. Defaults per preset; for `custom.queries` each metric has its own.",
			},
			"treat_missing_data": schema.StringAttribute{
				Optional: true, Computed: true, MarkdownDescription: "`breaching`, `notBreaching`, `ignore` or `missing`. Defaults per preset (`breaching` for `low_traffic`: no data means no traffic).",
				Validators: []validator.String{stringvalidator.OneOf(alarms.TreatMissing...)},
			},
			"alarm_actions":             actions("ALARM"),
			"ok_actions":                actions("OK"),
			"insufficient_data_actions": actions("INSUFFICIENT_DATA"),
			"description":               str(fmt.Sprintf("Alarm description, at most %d characters.", alarms.MaxDescription), stringvalidator.LengthBetween(1, alarms.MaxDescription)),
			"tags": schema.MapAttribute{
				ElementType: types.StringType, Optional: true, MarkdownDescription: fmt.Sprintf("Tags, at most %d.", alarms.MaxTags),
				Validators: []validator.Map{mapvalidator.SizeAtMost(alarms.MaxTags), mapvalidator.KeysAre(stringvalidator.LengthBetween(1, 128)), mapvalidator.ValueStringsAre(stringvalidator.LengthAtMost(256))},
			},
			"custom": schema.SingleNestedAttribute{
				Optional:            true,
				MarkdownDescription: "With `preset = \"custom\"`: one metric (`metric`) or metric math (`queries`).",
				Attributes: map[string]schema.Attribute{
					"comparison_operator": str("`GreaterThanOrEqualToThreshold`, `GreaterThanThreshold`, `LessThanThreshold` or `LessThanOrEqualToThreshold`.", stringvalidator.OneOf(alarms.Comparisons...)),
					"metric": schema.SingleNestedAttribute{
						Optional: true, MarkdownDescription: "One metric and its statistic.",
						Attributes: map[string]schema.Attribute{
							"namespace":          schema.StringAttribute{Required: true, MarkdownDescription: "Metric namespace, such as `AWS/ApplicationELB`.", Validators: []validator.String{stringvalidator.LengthBetween(1, 255)}},
							"name":               schema.StringAttribute{Required: true, MarkdownDescription: "Metric name.", Validators: []validator.String{stringvalidator.LengthBetween(1, 255)}},
							"statistic":          str("One of " + strings.Join(alarms.Statistics, ", ") + ". Exactly one of `statistic` and `extended_statistic`."),
							"extended_statistic": str("A percentile such as `p99` or `p99.9`."),
							"dimensions":         dims("Dimensions, name to value."),
						},
					},
					"queries": schema.ListNestedAttribute{
						Optional: true, MarkdownDescription: fmt.Sprintf("Metric math: 1 to %d queries, ids unique and matching `^[a-z][a-zA-Z0-9_]*$`, exactly one with `return_data = true`.", alarms.MaxQueries),
						Validators: []validator.List{listvalidator.SizeAtLeast(1)},
						NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
							"id":          schema.StringAttribute{Required: true, MarkdownDescription: "Query id, used in expressions."},
							"expression":  str("A metric-math expression, such as `100 * errors / requests`."),
							"label":       str("A label for the result."),
							"return_data": schema.BoolAttribute{Optional: true, MarkdownDescription: "Whether the alarm watches this query. Exactly one query sets it."},
							"metric": schema.SingleNestedAttribute{
								Optional: true, MarkdownDescription: "A metric with its stat and period.",
								Attributes: map[string]schema.Attribute{
									"namespace":  schema.StringAttribute{Required: true, MarkdownDescription: "Metric namespace."},
									"name":       schema.StringAttribute{Required: true, MarkdownDescription: "Metric name."},
									"stat":       schema.StringAttribute{Required: true, MarkdownDescription: "Statistic, such as `Sum` or `p99`."},
									"period":     schema.Int64Attribute{Required: true, MarkdownDescription: "Seconds: 10, 30 or a multiple of 60."},
									"dimensions": dims("Dimensions, name to value."),
								},
							},
						}},
					},
				},
			},
			"arn":          schema.StringAttribute{Computed: true, MarkdownDescription: "Alarm ARN.", PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
			"state":        schema.StringAttribute{Computed: true, MarkdownDescription: "`OK`, `ALARM` or `INSUFFICIENT_DATA`, as of the last refresh."},
			"state_reason": schema.StringAttribute{Computed: true, MarkdownDescription: "Why the alarm is in its state, as CloudWatch says."},
		},
	}
}

func (r *alarmResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.client = clientFrom(req.ProviderData, &resp.Diagnostics)
}

// inputOf reads the alarm inputs; known is false when any is unknown.
func inputOf(ctx context.Context, m alarmModel, diags *diag.Diagnostics) (in alarms.Input, known bool) {
	known = true
	unk := func(vs ...attr.Value) {
		for _, v := range vs {
			if v.IsUnknown() {
				known = false
			}
		}
	}
	unk(m.Preset, m.TargetGroupARN, m.LoadBalancerARN, m.Threshold, m.EvaluationPeriods, m.DatapointsToAlarm, m.Period, m.TreatMissingData, m.Custom)
	in.Preset = alarms.Preset(m.Preset.ValueString())
	if d, err := arn.TargetGroupDimension(m.TargetGroupARN.ValueString()); err == nil {
		in.TargetGroup = d
	}
	if a, err := arn.LoadBalancer.Check(m.LoadBalancerARN.ValueString()); err == nil {
		in.LoadBalancer = strings.TrimPrefix(a.Resource, "loadbalancer/")
	}
	if !m.Threshold.IsNull() {
		v := m.Threshold.ValueFloat64()
		in.Threshold = &v
	}
	intp := func(v types.Int64) *int {
		if v.IsNull() || v.IsUnknown() {
			return nil
		}
		i := int(v.ValueInt64())
		return &i
	}
	in.EvaluationPeriods, in.DatapointsToAlarm, in.Period = intp(m.EvaluationPeriods), intp(m.DatapointsToAlarm), intp(m.Period)
	in.TreatMissingData = m.TreatMissingData.ValueString()
	if m.Custom.IsNull() || m.Custom.IsUnknown() {
		return in, known
	}
	var c customModel
	diags.Append(m.Custom.As(ctx, &c, basetypes.ObjectAsOptions{})...)
	unk(c.ComparisonOperator, c.Metric, c.Queries)
	in.Comparison = c.ComparisonOperator.ValueString()
	strMap := func(v types.Map) map[string]string {
		out := map[string]string{}
		if !v.IsNull() {
			diags.Append(v.ElementsAs(ctx, &out, false)...)
		}
		unk(v)
		return out
	}
	if !c.Metric.IsNull() && !c.Metric.IsUnknown() {
		var cm customMetricModel
		diags.Append(c.Metric.As(ctx, &cm, basetypes.ObjectAsOptions{})...)
		unk(cm.Namespace, cm.Name, cm.Statistic, cm.ExtendedStatistic)
		in.Metric = &alarms.Metric{Namespace: cm.Namespace.ValueString(), Name: cm.Name.ValueString(), Dimensions: strMap(cm.Dimensions)}
		in.Statistic, in.ExtendedStatistic = cm.Statistic.ValueString(), cm.ExtendedStatistic.ValueString()
	}
	if !c.Queries.IsNull() && !c.Queries.IsUnknown() {
		var qs []queryModel
		diags.Append(c.Queries.ElementsAs(ctx, &qs, false)...)
		for _, q := range qs {
			unk(q.ID, q.Expression, q.Label, q.ReturnData, q.Metric)
			aq := alarms.Query{ID: q.ID.ValueString(), Expression: q.Expression.ValueString(), Label: q.Label.ValueString(), ReturnData: q.ReturnData.ValueBool()}
			if !q.Metric.IsNull() && !q.Metric.IsUnknown() {
				var qm queryMetricModel
				diags.Append(q.Metric.As(ctx, &qm, basetypes.ObjectAsOptions{})...)
				unk(qm.Namespace, qm.Name, qm.Stat, qm.Period)
				aq.Metric = &alarms.Metric{Namespace: qm.Namespace.ValueString(), Name: qm.Name.ValueString(), Dimensions: strMap(qm.Dimensions)}
				aq.Stat, aq.Period = qm.Stat.ValueString(), int(qm.Period.ValueInt64())
			}
			in.Queries = append(in.Queries, aq)
		}
	}
	return in, known
}

func (r *alarmResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m alarmModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || m.Preset.IsUnknown() {
		return
	}
	in, _ := inputOf(ctx, m, &resp.Diagnostics)
	// Unknown ARNs are known to be set: stand in for them so the scope checks
	// still run.
	if m.TargetGroupARN.IsUnknown() {
		in.TargetGroup = "unknown"
	}
	if m.LoadBalancerARN.IsUnknown() {
		in.LoadBalancer = "unknown"
	}
	_, problems := alarms.Build(in)
	for _, p := range problems {
		if unknownAt(ctx, req.Config, attrPathOf(path.Empty(), p.Path)) {
			continue
		}
		resp.Diagnostics.AddAttributeError(attrPathOf(path.Empty(), p.Path), "Invalid Alarm", pipeline.Detail(nil,
			fmt.Sprintf("%s: %s.", p.Path, p.Reason),
			fmt.Sprintf("See the %s preset's inputs in the rollout_alarm documentation.", in.Preset)))
	}
}

// unknownAt reports whether the value at a problem's attribute is unknown
// (its check waits for the value).
func unknownAt(ctx context.Context, cfg interface {
	GetAttribute(context.Context, path.Path, any) diag.Diagnostics
}, at path.Path) bool {
	var v attr.Value
	if cfg.GetAttribute(ctx, at, &v).HasError() || v == nil {
		return false
	}
	return v.IsUnknown()
}

// ModifyPlan fills in the preset's defaults for what the configuration does
// not set, so the plan shows the alarm exactly as it will be.
func (r *alarmResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return
	}
	var plan, cfg alarmModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if cfg.Preset.IsUnknown() {
		return
	}
	in, _ := inputOf(ctx, cfg, &resp.Diagnostics)
	if cfg.TargetGroupARN.IsUnknown() {
		in.TargetGroup = "unknown"
	}
	if cfg.LoadBalancerARN.IsUnknown() {
		in.LoadBalancer = "unknown"
	}
	spec, problems := alarms.Build(in)
	if len(problems) > 0 {
		return
	}
	user := alarms.Recognize(spec)
	set := func(p string, c attr.Value, v attr.Value) {
		if c.IsNull() {
			resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root(p), v)...)
		}
	}
	if user.Threshold != nil {
		set("threshold", cfg.Threshold, types.Float64Value(*user.Threshold))
	}
	set("evaluation_periods", cfg.EvaluationPeriods, types.Int64Value(int64(spec.EvaluationPeriods)))
	if !cfg.EvaluationPeriods.IsUnknown() {
		set("datapoints_to_alarm", cfg.DatapointsToAlarm, types.Int64Value(int64(spec.DatapointsToAlarm)))
	}
	if len(spec.Queries) > 0 && in.Preset == alarms.Custom {
		set("period", cfg.Period, types.Int64Null())
	} else if len(spec.Queries) > 0 {
		set("period", cfg.Period, types.Int64Value(int64(spec.Queries[0].Period)))
	} else {
		set("period", cfg.Period, types.Int64Value(int64(spec.Period)))
	}
	set("treat_missing_data", cfg.TreatMissingData, types.StringValue(spec.TreatMissingData))
}

func (r *alarmResource) config(ctx context.Context, m alarmModel, diags *diag.Diagnostics) (awsclient.AlarmConfig, bool) {
	in, _ := inputOf(ctx, m, diags)
	spec, problems := alarms.Build(in)
	if len(problems) > 0 {
		diags.AddAttributeError(attrPathOf(path.Empty(), problems[0].Path), "Invalid Alarm", pipeline.Detail(nil, problems[0].Error()+"."))
		return awsclient.AlarmConfig{}, false
	}
	set := func(s types.Set) []string {
		var out []string
		if !s.IsNull() {
			diags.Append(s.ElementsAs(ctx, &out, false)...)
		}
		return out
	}
	return awsclient.AlarmConfig{
		Name: m.Name.ValueString(), Description: m.Description.ValueString(), Spec: spec,
		AlarmActions: set(m.AlarmActions), OKActions: set(m.OKActions), InsufficientDataActions: set(m.InsufficientDataActions),
	}, !diags.HasError()
}

// Create refuses an alarm name that is taken: PutMetricAlarm would silently
// take the existing alarm over, and destroy would then delete it.
func (r *alarmResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var name types.String
	resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, path.Root("name"), &name)...)
	if resp.Diagnostics.HasError() || r.client == nil {
		return
	}
	existing, err := r.client.DescribeAlarm(ctx, name.ValueString())
	if errors.Is(err, awsclient.ErrNotFound) {
		existing, err = nil, nil
	}
	if err != nil {
		resp.Diagnostics.AddError("Cannot Read Alarm", pipeline.Detail(err, fmt.Sprintf("Checking whether an alarm named %q already exists failed.", name.ValueString()),
			"Check the cloudwatch:DescribeAlarms permission, then apply again."))
		return
	}
	if existing != nil {
		resp.Diagnostics.AddAttributeError(path.Root("name"), "Alarm Already Exists", pipeline.Detail(nil,
			fmt.Sprintf("A CloudWatch alarm named %q already exists in this account and region. Creating this resource would take it over and delete it on destroy.", name.ValueString()),
			fmt.Sprintf("Nothing was changed. To manage that alarm, import it (terraform import ADDRESS %s, or an import block); otherwise choose another name.", name.ValueString())))
		return
	}
	r.write(ctx, req.Plan, &resp.State, &resp.Diagnostics)
}

func (r *alarmResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	r.write(ctx, req.Plan, &resp.State, &resp.Diagnostics)
}

func (r *alarmResource) write(ctx context.Context, planData interface {
	Get(context.Context, any) diag.Diagnostics
}, state interface {
	Set(context.Context, any) diag.Diagnostics
}, diags *diag.Diagnostics) {
	var plan alarmModel
	diags.Append(planData.Get(ctx, &plan)...)
	if diags.HasError() || r.client == nil {
		return
	}
	cfg, ok := r.config(ctx, plan, diags)
	if !ok {
		return
	}
	tflog.Info(ctx, "putting CloudWatch alarm", map[string]any{"name": cfg.Name, "preset": plan.Preset.ValueString()})
	if err := r.client.PutAlarm(ctx, cfg); err != nil {
		diags.AddError("Cannot Put Alarm", pipeline.Detail(err, fmt.Sprintf("CloudWatch refused alarm %q.", cfg.Name),
			"Check the credentials' cloudwatch:PutMetricAlarm permission, and that the SNS topics exist in this region."))
		return
	}
	got, err := r.client.DescribeAlarm(ctx, cfg.Name)
	if err != nil {
		diags.AddError("Cannot Read Alarm", pipeline.Detail(err, fmt.Sprintf("Alarm %q was written but could not be read back.", cfg.Name), "Check the cloudwatch:DescribeAlarms permission, then apply again."))
		return
	}
	if err := r.client.SetTags(ctx, got.ARN, stringMap(ctx, plan.Tags, diags)); err != nil {
		diags.AddError("Cannot Tag Alarm", pipeline.Detail(err, fmt.Sprintf("Alarm %q was written but its tags could not be set.", cfg.Name), "Check the cloudwatch:TagResource, UntagResource and ListTagsForResource permissions, then apply again."))
		return
	}
	plan.ID = types.StringValue(cfg.Name)
	plan.ARN = types.StringValue(got.ARN)
	plan.State = types.StringValue(got.State)
	plan.StateReason = types.StringValue(got.StateReason)
	diags.Append(state.Set(ctx, &plan)...)
}

func (r *alarmResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var st alarmModel
	resp.Diagnostics.Append(req.State.Get(ctx, &st)...)
	if resp.Diagnostics.HasError() || r.client == nil {
		return
	}
	name := st.ID.ValueString()
	got, err := r.client.DescribeAlarm(ctx, name)
	if errors.Is(err, awsclient.ErrNotFound) {
		tflog.Warn(ctx, "alarm no longer exists; removing from state", map[string]any{"name": name})
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		resp.Diagnostics.AddError("Cannot Read Alarm", pipeline.Detail(err, fmt.Sprintf("Reading alarm %q failed.", name), "Check the credentials' cloudwatch:DescribeAlarms permission and the endpoint."))
		return
	}
	tags, err := r.client.Tags(ctx, got.ARN)
	if err != nil {
		resp.Diagnostics.AddError("Cannot Read Alarm Tags", pipeline.Detail(err, fmt.Sprintf("Reading the tags of alarm %q failed.", name), "Check the cloudwatch:ListTagsForResource permission."))
		return
	}
	r.fill(ctx, &st, got, tags, &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, &st)...)
}

// fill sets the model from what CloudWatch reports, in the resource's terms.
func (r *alarmResource) fill(ctx context.Context, m *alarmModel, a *awsclient.Alarm, tags map[string]string, diags *diag.Diagnostics) {
	in := alarms.Recognize(a.Spec)
	alarmARN, _ := arn.Parse(a.ARN)
	elbARN := func(prior types.String, prefix, dim string) types.String {
		if dim == "" {
			return types.StringNull()
		}
		if d, err := arn.TargetGroupDimension(prior.ValueString()); err == nil && d == dim {
			return prior
		}
		if a, err := arn.LoadBalancer.Check(prior.ValueString()); err == nil && strings.TrimPrefix(a.Resource, "loadbalancer/") == dim {
			return prior
		}
		return types.StringValue(fmt.Sprintf("arn:%s:elasticloadbalancing:%s:%s:%s%s", alarmARN.Partition, alarmARN.Region, alarmARN.AccountID, prefix, dim))
	}
	m.ID, m.Name = types.StringValue(a.Name), types.StringValue(a.Name)
	m.Preset = types.StringValue(string(in.Preset))
	m.TargetGroupARN = elbARN(m.TargetGroupARN, "", in.TargetGroup)
	m.LoadBalancerARN = elbARN(m.LoadBalancerARN, "loadbalancer/", in.LoadBalancer)
	m.Threshold = types.Float64Value(*in.Threshold)
	m.EvaluationPeriods = types.Int64Value(int64(*in.EvaluationPeriods))
	m.DatapointsToAlarm = types.Int64Value(int64(*in.DatapointsToAlarm))
	m.Period = types.Int64Null()
	if in.Period != nil {
		m.Period = types.Int64Value(int64(*in.Period))
	}
	m.TreatMissingData = types.StringValue(in.TreatMissingData)
	setOf := func(prior types.Set, l []string) types.Set {
		if len(l) == 0 && prior.IsNull() {
			return prior
		}
		v, d := types.SetValueFrom(ctx, types.StringType, l)
		diags.Append(d...)
		return v
	}
	m.AlarmActions, m.OKActions, m.InsufficientDataActions = setOf(m.AlarmActions, a.AlarmActions), setOf(m.OKActions, a.OKActions), setOf(m.InsufficientDataActions, a.InsufficientDataActions)
	m.Description = types.StringNull()
	if a.Description != "" {
		m.Description = types.StringValue(a.Description)
	}
	m.Tags = stringMapValue(ctx, m.Tags, tags, diags)
	m.Custom = customValue(ctx, in, m.Custom, diags)
	m.ARN = types.StringValue(a.ARN)
	m.State = types.StringValue(a.State)
	m.StateReason = types.StringValue(a.StateReason)
}

// stringMapValue is a map of strings read from AWS: null while both AWS and
// the prior value have none, so an unset optional map does not show a diff.
func stringMapValue(ctx context.Context, prior types.Map, d map[string]string, diags *diag.Diagnostics) types.Map {
	if len(d) == 0 && prior.IsNull() {
		return types.MapNull(types.StringType)
	}
	v, ds := types.MapValueFrom(ctx, types.StringType, d)
	diags.Append(ds...)
	return v
}

func optString(s string) types.String {
	if s == "" {
		return types.StringNull()
	}
	return types.StringValue(s)
}

// customValue builds the custom attribute of a recognised alarm, keeping
// the prior value's nulls where CloudWatch has nothing to say.
func customValue(ctx context.Context, in alarms.Input, prior types.Object, diags *diag.Diagnostics) types.Object {
	if in.Preset != alarms.Custom {
		return types.ObjectNull(customAttrTypes)
	}
	var pc customModel
	if !prior.IsNull() && !prior.IsUnknown() {
		diags.Append(prior.As(ctx, &pc, basetypes.ObjectAsOptions{})...)
	}
	c := customModel{
		ComparisonOperator: types.StringValue(in.Comparison),
		Metric:             types.ObjectNull(customMetricAttrTypes),
		Queries:            types.ListNull(types.ObjectType{AttrTypes: queryAttrTypes}),
	}
	if in.Metric != nil {
		var pm customMetricModel
		if !pc.Metric.IsNull() && !pc.Metric.IsUnknown() {
			diags.Append(pc.Metric.As(ctx, &pm, basetypes.ObjectAsOptions{})...)
		} else {
			pm.Dimensions = types.MapNull(types.StringType)
		}
		v, d := types.ObjectValueFrom(ctx, customMetricAttrTypes, customMetricModel{
			Namespace: types.StringValue(in.Metric.Namespace), Name: types.StringValue(in.Metric.Name),
			Statistic: optString(in.Statistic), ExtendedStatistic: optString(in.ExtendedStatistic),
			Dimensions: stringMapValue(ctx, pm.Dimensions, in.Metric.Dimensions, diags),
		})
		diags.Append(d...)
		c.Metric = v
	}
	if len(in.Queries) > 0 {
		var pq []queryModel
		if !pc.Queries.IsNull() && !pc.Queries.IsUnknown() {
			diags.Append(pc.Queries.ElementsAs(ctx, &pq, false)...)
		}
		var qs []queryModel
		for i, q := range in.Queries {
			prev := queryModel{ReturnData: types.BoolNull(), Metric: types.ObjectNull(queryMetricAttrTypes)}
			if i < len(pq) {
				prev = pq[i]
			}
			qm := queryModel{ID: types.StringValue(q.ID), Expression: optString(q.Expression), Label: optString(q.Label), ReturnData: types.BoolValue(q.ReturnData), Metric: types.ObjectNull(queryMetricAttrTypes)}
			if !q.ReturnData && prev.ReturnData.IsNull() {
				qm.ReturnData = types.BoolNull()
			}
			if q.Metric != nil {
				var pm queryMetricModel
				if !prev.Metric.IsNull() && !prev.Metric.IsUnknown() {
					diags.Append(prev.Metric.As(ctx, &pm, basetypes.ObjectAsOptions{})...)
				} else {
					pm.Dimensions = types.MapNull(types.StringType)
				}
				v, d := types.ObjectValueFrom(ctx, queryMetricAttrTypes, queryMetricModel{
					Namespace: types.StringValue(q.Metric.Namespace), Name: types.StringValue(q.Metric.Name), Stat: types.StringValue(q.Stat),
					Period: types.Int64Value(int64(q.Period)), Dimensions: stringMapValue(ctx, pm.Dimensions, q.Metric.Dimensions, diags),
				})
				diags.Append(d...)
				qm.Metric = v
			}
			qs = append(qs, qm)
		}
		v, d := types.ListValueFrom(ctx, types.ObjectType{AttrTypes: queryAttrTypes}, qs)
		diags.Append(d...)
		c.Queries = v
	}
	v, d := types.ObjectValueFrom(ctx, customAttrTypes, c)
	diags.Append(d...)
	return v
}

func (r *alarmResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var st alarmModel
	resp.Diagnostics.Append(req.State.Get(ctx, &st)...)
	if resp.Diagnostics.HasError() || r.client == nil {
		return
	}
	if err := r.client.DeleteAlarm(ctx, st.ID.ValueString()); err != nil {
		resp.Diagnostics.AddError("Cannot Delete Alarm", pipeline.Detail(err, fmt.Sprintf("Deleting alarm %q failed.", st.ID.ValueString()), "Check the credentials' cloudwatch:DeleteAlarms permission, then destroy again."))
	}
}

func (r *alarmResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	if req.ID == "" || len(req.ID) > alarms.MaxNameLen || strings.HasPrefix(req.ID, "arn:") {
		resp.Diagnostics.AddError("Invalid Import ID", pipeline.Detail(nil,
			fmt.Sprintf("%q is not an alarm name.", req.ID),
			"Import a rollout_alarm by its name (1 to 255 characters), not its ARN: terraform import rollout_alarm.x my-alarm-name."))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), req.ID)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("name"), req.ID)...)
}
