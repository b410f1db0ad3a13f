package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/rolloutdev/terraform-provider-rollout/internal/arn"
	"github.com/rolloutdev/terraform-provider-rollout/internal/awsclient"
	"github.com/rolloutdev/terraform-provider-rollout/internal/pipeline"
)

var (
	_ datasource.DataSource              = (*listenerWeightsDataSource)(nil)
	_ datasource.DataSourceWithConfigure = (*listenerWeightsDataSource)(nil)
)

// NewListenerWeightsDataSource builds rollout_listener_weights.
func NewListenerWeightsDataSource() datasource.DataSource { return &listenerWeightsDataSource{} }

type listenerWeightsDataSource struct{ client *awsclient.Client }

type listenerWeightsModel struct {
	ID           types.String `tfsdk:"id"`
	ListenerARN  types.String `tfsdk:"listener_arn"`
	RuleARN      types.String `tfsdk:"rule_arn"`
	ActionType   types.String `tfsdk:"action_type"`
	TargetGroups types.List   `tfsdk:"target_groups"`
	Stickiness   types.Object `tfsdk:"stickiness"`
	Percentages  types.Map    `tfsdk:"percentages"`
}

func (d *listenerWeightsDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_listener_weights"
}

func (d *listenerWeightsDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Reads the weights of the forward action of a listener's default action or of a listener rule, as the load balancer serves them now.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true, MarkdownDescription: "The ARN read."},
			"listener_arn": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "ARN of an Application Load Balancer listener. Exactly one of `listener_arn` and `rule_arn`.",
				Validators: []validator.String{
					arnOf{arn.Listener},
					stringvalidator.ExactlyOneOf(path.MatchRoot("listener_arn"), path.MatchRoot("rule_arn")),
				},
			},
			"rule_arn": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "ARN of a listener rule. Exactly one of `listener_arn` and `rule_arn`.",
				Validators:          []validator.String{arnOf{arn.ListenerRule}},
			},
			"action_type": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "Type of the terminal action: `forward`, `fixed-response` or `redirect`. `target_groups` is empty unless it is `forward`.",
			},
			"target_groups": schema.ListNestedAttribute{
				Computed:            true,
				MarkdownDescription: "Target groups and weights, in the order AWS reports them.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"arn":    schema.StringAttribute{Computed: true, MarkdownDescription: "ARN of the target group."},
					"weight": schema.Int64Attribute{Computed: true, MarkdownDescription: "Its weight."},
				}},
			},
			"stickiness": schema.SingleNestedAttribute{
				Computed:            true,
				MarkdownDescription: "Target group stickiness; null when disabled.",
				Attributes: map[string]schema.Attribute{
					"enabled":          schema.BoolAttribute{Computed: true, MarkdownDescription: "Whether stickiness is on."},
					"duration_seconds": schema.Int64Attribute{Computed: true, MarkdownDescription: "How long a client sticks."},
				},
			},
			"percentages": schema.MapAttribute{
				ElementType:         types.Float64Type,
				Computed:            true,
				MarkdownDescription: "Share of traffic per target group ARN, in percent.",
			},
		},
	}
}

func (d *listenerWeightsDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.client = clientFrom(req.ProviderData, &resp.Diagnostics)
}

func (d *listenerWeightsDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m listenerWeightsModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || d.client == nil {
		return
	}
	ref := awsclient.Ref{ListenerARN: m.ListenerARN.ValueString(), RuleARN: m.RuleARN.ValueString()}
	acts, err := d.client.ReadActions(ctx, ref)
	if err != nil {
		pipeline.AddReadError(&resp.Diagnostics, d.client, ref, err)
		return
	}
	m.ID = types.StringValue(ref.ID())
	m.ActionType = types.StringValue(acts.TerminalType())
	fwd, _ := acts.Forward()
	m.TargetGroups = listFromSplit(fwd.Split)
	m.Percentages = percentagesValue(fwd.Split)
	m.Stickiness = stickinessValue(fwd.Stickiness, types.ObjectNull(stickinessAttrTypes))
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
