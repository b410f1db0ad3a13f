package provider

import (
	"context"
	"fmt"
	"regexp"
	"sync"

	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/rolloutdev/terraform-provider-rollout/internal/arn"
	"github.com/rolloutdev/terraform-provider-rollout/internal/orchestrator"
	"github.com/rolloutdev/terraform-provider-rollout/internal/pipeline"
)

var _ datasource.DataSourceWithValidateConfig = (*orchestratorPolicyDataSource)(nil)

// NewOrchestratorPolicyDataSource builds rollout_orchestrator_policy.
func NewOrchestratorPolicyDataSource() datasource.DataSource { return &orchestratorPolicyDataSource{} }

type orchestratorPolicyDataSource struct{}

type orchestratorPolicyModel struct {
	ID                  types.String `tfsdk:"id"`
	Name                types.String `tfsdk:"name"`
	ListenerARNs        types.List   `tfsdk:"listener_arns"`
	FunctionARNs        types.List   `tfsdk:"function_arns"`
	ParameterARNs       types.List   `tfsdk:"parameter_arns"`
	SNSTopicARNs        types.List   `tfsdk:"sns_topic_arns"`
	EventBusARNs        types.List   `tfsdk:"event_bus_arns"`
	FunctionRoleARN     types.String `tfsdk:"function_role_arn"`
	StatesRoleARN       types.String `tfsdk:"states_role_arn"`
	FunctionPolicy      types.String `tfsdk:"function_policy"`
	StatesPolicy        types.String `tfsdk:"states_policy"`
	FunctionTrustPolicy types.String `tfsdk:"function_trust_policy"`
	StatesTrustPolicy   types.String `tfsdk:"states_trust_policy"`
	ProviderPolicy      types.String `tfsdk:"provider_policy"`
}

func (d *orchestratorPolicyDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_orchestrator_policy"
}

// arnPatternREs holds the compiled ARN patterns of the schema's lists: the
// schema is built again for every engine command, and compiling them each
// time was a visible part of it.
var arnPatternREs sync.Map

func arnPatternRE(service, prefix string) *regexp.Regexp {
	key := service + "\x00" + prefix
	if re, ok := arnPatternREs.Load(key); ok {
		return re.(*regexp.Regexp)
	}
	re, _ := arnPatternREs.LoadOrStore(key, regexp.MustCompile(`^arn:(aws|aws-cn|aws-us-gov|\*):`+service+`:[a-z0-9*-]*:[0-9*]*:`+prefix+`.+$`))
	return re.(*regexp.Regexp)
}

func (d *orchestratorPolicyDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	arns := func(what, all, service, prefix, example string) schema.ListAttribute {
		return schema.ListAttribute{
			ElementType: types.StringType, Optional: true,
			MarkdownDescription: fmt.Sprintf("The %s detached rollouts may touch, 1 to 100 ARNs (`*` wildcards allowed). Default: %s.", what, all),
			Validators: []validator.List{listvalidator.SizeBetween(1, 100), listvalidator.UniqueValues(),
				listvalidator.ValueStringsAre(stringvalidator.RegexMatches(arnPatternRE(service, prefix),
					"must be an ARN such as "+example+" (wildcards allowed)"))},
		}
	}
	computed := func(d string) schema.StringAttribute {
		return schema.StringAttribute{Computed: true, MarkdownDescription: d}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Renders the least-privilege IAM policies of a `rollout_orchestrator`: the function's role (move the subjects, read the gates, invoke the hooks, publish the notices, write its logs), " +
			"the state machine's role (invoke the function), their trust policies, and what the credentials Terraform runs with need for the orchestrator and detached rollouts. " +
			"It reads nothing from AWS. Scope the function's policy to the listeners, functions and flags your detached rollouts move.",
		Attributes: map[string]schema.Attribute{
			"id": computed("The orchestrator's name."),
			"name": schema.StringAttribute{Required: true, MarkdownDescription: "The `rollout_orchestrator`'s name.",
				Validators: []validator.String{stringvalidator.RegexMatches(orchestratorNameRE, "must be 1 to 64 letters, digits, hyphens and underscores")}},
			"listener_arns": arns("listeners and rules (splits, blue/green flips)", "every one", "elasticloadbalancing", "listener(-rule)?/",
				"arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/web/*"),
			"function_arns": arns("Lambda functions whose aliases they move, and their hook functions", "every one", "lambda", "function:",
				"arn:aws:lambda:eu-west-1:123456789012:function:orders"),
			"parameter_arns": arns("SSM parameters of the flags they ramp or switch off", "`arn:aws:ssm:*:*:parameter/rollout/flags/*`", "ssm", "parameter/",
				"arn:aws:ssm:eu-west-1:123456789012:parameter/rollout/flags/*"),
			"sns_topic_arns": arns("SNS topics their notices go to (`rollout.notifications.sns_topic_arn`)", "every one", "sns", "",
				"arn:aws:sns:eu-west-1:123456789012:rollouts"),
			"event_bus_arns": arns("EventBridge buses their notices go to (`rollout.notifications.event_bus_name`)", "every one", "events", "event-bus/",
				"arn:aws:events:eu-west-1:123456789012:event-bus/default"),
			"function_role_arn":     schema.StringAttribute{Optional: true, MarkdownDescription: "The function's role, passed by the provider (`iam:PassRole` in `provider_policy`).", Validators: []validator.String{arnOf{arn.IAMRole}}},
			"states_role_arn":       schema.StringAttribute{Optional: true, MarkdownDescription: "The state machine's role, passed by the provider.", Validators: []validator.String{arnOf{arn.IAMRole}}},
			"function_policy":       computed("JSON policy of the function's role."),
			"states_policy":         computed("JSON policy of the state machine's role."),
			"function_trust_policy": computed("JSON trust policy of the function's role (`lambda.amazonaws.com`)."),
			"states_trust_policy":   computed("JSON trust policy of the state machine's role (`states.amazonaws.com`)."),
			"provider_policy":       computed("JSON policy Terraform's credentials need for the orchestrator and detached rollouts, besides what each resource needs."),
		},
	}
}

func (d *orchestratorPolicyDataSource) ValidateConfig(ctx context.Context, req datasource.ValidateConfigRequest, resp *datasource.ValidateConfigResponse) {
	var m orchestratorPolicyModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if m.FunctionRoleARN.IsNull() != m.StatesRoleARN.IsNull() && !m.FunctionRoleARN.IsUnknown() && !m.StatesRoleARN.IsUnknown() {
		resp.Diagnostics.AddAttributeError(path.Root("states_role_arn"), "One Role Of Two", pipeline.Detail(nil,
			"Only one of function_role_arn and states_role_arn is set: iam:PassRole would be scoped to it, and passing the other refused.",
			"Set both, or neither (iam:PassRole on any role passed to Lambda or Step Functions)."))
	}
}

func (d *orchestratorPolicyDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m orchestratorPolicyModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	s := orchestrator.Scope{Name: m.Name.ValueString(), FunctionRole: m.FunctionRoleARN.ValueString(), StatesRole: m.StatesRoleARN.ValueString()}
	for _, l := range []struct {
		v  types.List
		to *[]string
	}{{m.ListenerARNs, &s.Listeners}, {m.FunctionARNs, &s.Functions}, {m.ParameterARNs, &s.Parameters}, {m.SNSTopicARNs, &s.Topics}, {m.EventBusARNs, &s.Buses}} {
		if !l.v.IsNull() {
			resp.Diagnostics.Append(l.v.ElementsAs(ctx, l.to, false)...)
		}
	}
	p := orchestrator.PoliciesOf(s)
	m.ID = m.Name
	m.FunctionPolicy, m.StatesPolicy = types.StringValue(p.Function), types.StringValue(p.States)
	m.FunctionTrustPolicy, m.StatesTrustPolicy, m.ProviderPolicy = types.StringValue(p.FunctionTrust), types.StringValue(p.StatesTrust), types.StringValue(p.Provider)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
