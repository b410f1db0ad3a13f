package provider

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/rolloutdev/terraform-provider-rollout/internal/arn"
	"github.com/rolloutdev/terraform-provider-rollout/internal/awsclient"
	"github.com/rolloutdev/terraform-provider-rollout/internal/pipeline"
	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
)

// Read-only views of rollout health: alarm states and target health.

var (
	_ datasource.DataSourceWithConfigure = (*alarmStateDataSource)(nil)
	_ datasource.DataSourceWithConfigure = (*targetHealthDataSource)(nil)
)

// NewAlarmStateDataSource builds rollout_alarm_state.
func NewAlarmStateDataSource() datasource.DataSource { return &alarmStateDataSource{} }

// NewTargetHealthDataSource builds rollout_target_health.
func NewTargetHealthDataSource() datasource.DataSource { return &targetHealthDataSource{} }

type alarmStateDataSource struct{ client *awsclient.Client }

type targetHealthDataSource struct{ client *awsclient.Client }

var alarmStateAttrTypes = map[string]attr.Type{"name": types.StringType, "state": types.StringType, "reason": types.StringType}

var targetHealthStates = []string{"healthy", "unhealthy", "draining", "initial", "unused", "unavailable"}

func targetHealthAttrTypes() map[string]attr.Type {
	m := map[string]attr.Type{"arn": types.StringType, "total": types.Int64Type}
	for _, s := range targetHealthStates {
		m[s] = types.Int64Type
	}
	return m
}

func (d *alarmStateDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_alarm_state"
}

func (d *alarmStateDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "The states of CloudWatch alarms (metric or composite) by name, as CloudWatch reports them now: what a rollout's alarms gate would see.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true, MarkdownDescription: "The names, joined by commas."},
			"names": schema.ListAttribute{
				ElementType: types.StringType, Required: true,
				MarkdownDescription: fmt.Sprintf("Alarm names, 1 to %d, each once. A name that does not exist is an error.", maxAlarms),
				Validators: []validator.List{listvalidator.SizeBetween(1, maxAlarms), listvalidator.UniqueValues(),
					listvalidator.ValueStringsAre(stringvalidator.LengthBetween(1, 255))},
			},
			"alarms": schema.ListNestedAttribute{
				Computed: true, MarkdownDescription: "Each alarm, in the order of `names`.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"name":   schema.StringAttribute{Computed: true, MarkdownDescription: "Alarm name."},
					"state":  schema.StringAttribute{Computed: true, MarkdownDescription: "`OK`, `ALARM` or `INSUFFICIENT_DATA`."},
					"reason": schema.StringAttribute{Computed: true, MarkdownDescription: "Why, as CloudWatch says."},
				}},
			},
			"any_in_alarm": schema.BoolAttribute{Computed: true, MarkdownDescription: "Whether any of the alarms is in `ALARM`."},
		},
	}
}

func (d *alarmStateDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	if req.ProviderData != nil {
		d.client = clientFrom(req.ProviderData, &resp.Diagnostics)
	}
}

func (d *alarmStateDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var names []string
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("names"), &names)...)
	if resp.Diagnostics.HasError() || d.client == nil {
		return
	}
	states, err := d.client.AlarmStates(ctx, names)
	if err != nil {
		resp.Diagnostics.AddError("Cannot Read Alarms", pipeline.Detail(err, "DescribeAlarms failed.", "Check the credentials' cloudwatch:DescribeAlarms permission and the endpoint."))
		return
	}
	by := map[string]rollout.AlarmState{}
	for _, s := range states {
		by[s.Name] = s
	}
	var elems []attr.Value
	var missing []string
	anyInAlarm := false
	for _, n := range names {
		s, ok := by[n]
		if !ok {
			missing = append(missing, n)
			continue
		}
		anyInAlarm = anyInAlarm || s.State == rollout.StateAlarm
		elems = append(elems, types.ObjectValueMust(alarmStateAttrTypes, map[string]attr.Value{
			"name": types.StringValue(n), "state": types.StringValue(s.State), "reason": types.StringValue(s.Reason),
		}))
	}
	if len(missing) > 0 {
		resp.Diagnostics.AddAttributeError(path.Root("names"), "Alarm Not Found", pipeline.Detail(nil,
			fmt.Sprintf("No metric or composite alarm is named %s in region %s.", quoteAll(missing), d.client.Region),
			"Check the names and the provider's region; a rollout_alarm's name attribute can be referenced directly."))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), strings.Join(names, ","))...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("names"), names)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("alarms"), types.ListValueMust(types.ObjectType{AttrTypes: alarmStateAttrTypes}, elems))...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("any_in_alarm"), anyInAlarm)...)
}

func quoteAll(l []string) string {
	q := make([]string, len(l))
	for i, s := range l {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

func (d *targetHealthDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_target_health"
}

func (d *targetHealthDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	counts := map[string]schema.Attribute{
		"arn":   schema.StringAttribute{Computed: true, MarkdownDescription: "Target group ARN."},
		"total": schema.Int64Attribute{Computed: true, MarkdownDescription: "Registered targets."},
	}
	for _, s := range targetHealthStates {
		counts[s] = schema.Int64Attribute{Computed: true, MarkdownDescription: fmt.Sprintf("Targets in state `%s`.", s)}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "How many targets of each target group are healthy, unhealthy, draining and so on (DescribeTargetHealth), as the load balancer reports them now: what a rollout's health gate would see.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true, MarkdownDescription: "The ARNs, joined by commas."},
			"target_group_arns": schema.ListAttribute{
				ElementType: types.StringType, Required: true, MarkdownDescription: "Target group ARNs, 1 to 20, each once.",
				Validators: []validator.List{listvalidator.SizeBetween(1, 20), listvalidator.UniqueValues(), listvalidator.ValueStringsAre(arnOf{arn.TargetGroup})},
			},
			"target_groups": schema.ListNestedAttribute{
				Computed: true, MarkdownDescription: "Counts per target group, in the order of `target_group_arns`.",
				NestedObject: schema.NestedAttributeObject{Attributes: counts},
			},
		},
	}
}

func (d *targetHealthDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	if req.ProviderData != nil {
		d.client = clientFrom(req.ProviderData, &resp.Diagnostics)
	}
}

func (d *targetHealthDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var tgs []string
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("target_group_arns"), &tgs)...)
	if resp.Diagnostics.HasError() || d.client == nil {
		return
	}
	typ := types.ObjectType{AttrTypes: targetHealthAttrTypes()}
	var elems []attr.Value
	for i, tg := range tgs {
		counts, err := d.client.TargetHealthCounts(ctx, tg)
		if err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("target_group_arns").AtListIndex(i), "Cannot Read Target Health", pipeline.Detail(err,
				fmt.Sprintf("DescribeTargetHealth of %s failed.", tg),
				"Check that the target group exists in the provider's region and the credentials' elasticloadbalancing:DescribeTargetHealth permission."))
			return
		}
		vals := map[string]attr.Value{"arn": types.StringValue(tg)}
		total := 0
		for _, s := range targetHealthStates {
			vals[s] = types.Int64Value(int64(counts[s]))
			total += counts[s]
		}
		vals["total"] = types.Int64Value(int64(total))
		elems = append(elems, types.ObjectValueMust(typ.AttrTypes, vals))
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), strings.Join(tgs, ","))...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("target_group_arns"), tgs)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("target_groups"), types.ListValueMust(typ, elems))...)
}
