// Package provider is the Terraform side of the rollout provider: schemas,
// plan-time checks and the translation between Terraform values and the
// domain packages. It holds no rollout logic of its own.
package provider

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/float64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/function"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/rolloutdev/terraform-provider-rollout/internal/arn"
	"github.com/rolloutdev/terraform-provider-rollout/internal/awsclient"
	"github.com/rolloutdev/terraform-provider-rollout/internal/clock"
	"github.com/rolloutdev/terraform-provider-rollout/internal/pipeline"
)

var (
	_ provider.Provider              = (*rolloutProvider)(nil)
	_ provider.ProviderWithFunctions = (*rolloutProvider)(nil)
)

// Option changes how a provider instance is built; tests use it to inject a
// fake clock.
type Option func(*rolloutProvider)

// WithClock makes the provider wait and tell the time through c.
func WithClock(c clock.Clock) Option { return func(p *rolloutProvider) { p.clock = c } }

// WithPacerClock makes the api_budget's pacer space requests by c (the
// real clock by default, whatever WithClock says): a test on a fake clock
// paces without waiting in real time.
func WithPacerClock(c clock.Clock) Option { return func(p *rolloutProvider) { p.pacerClock = c } }

// WithNoticeClock bounds each publish of a notice by c (the real clock by
// default): a test can make a delivery slower than the bound without
// waiting for it.
func WithNoticeClock(c clock.Clock) Option { return func(p *rolloutProvider) { p.noticeClock = c } }

// WithConfigured hands a test the AWS client the provider built, once
// configured (its pacer, to draw on the same budget as other rollouts).
func WithConfigured(f func(*awsclient.Client)) Option {
	return func(p *rolloutProvider) { p.configured = f }
}

// New returns a function that builds the provider, as providerserver wants.
func New(version string, opts ...Option) func() provider.Provider {
	return func() provider.Provider {
		p := &rolloutProvider{version: version, clock: clock.Real{}}
		for _, o := range opts {
			o(p)
		}
		return p
	}
}

type rolloutProvider struct {
	version string
	clock   clock.Clock
	// pacerClock and noticeClock: nil for the real clock (WithPacerClock,
	// WithNoticeClock).
	pacerClock, noticeClock clock.Clock
	configured              func(*awsclient.Client)
}

type providerModel struct {
	Region                 types.String `tfsdk:"region"`
	Profile                types.String `tfsdk:"profile"`
	SharedConfigFiles      types.List   `tfsdk:"shared_config_files"`
	SharedCredentialsFiles types.List   `tfsdk:"shared_credentials_files"`
	AssumeRole             *assumeRole  `tfsdk:"assume_role"`
	Endpoints              *endpoints   `tfsdk:"endpoints"`
	MaxRetries             types.Int64  `tfsdk:"max_retries"`
	APIBudget              *apiBudget   `tfsdk:"api_budget"`
}

// apiBudget is the provider's api_budget block: requests a second by
// action class (awsclient.DefaultBudgets when unset).
type apiBudget struct {
	Enabled            types.Bool    `tfsdk:"enabled"`
	ELBDescribe        types.Float64 `tfsdk:"elb_describe_per_second"`
	ELBModify          types.Float64 `tfsdk:"elb_modify_per_second"`
	CloudWatchDescribe types.Float64 `tfsdk:"cloudwatch_describe_per_second"`
	CloudWatchMetrics  types.Float64 `tfsdk:"cloudwatch_metric_data_per_second"`
	Lambda             types.Float64 `tfsdk:"lambda_per_second"`
	SSM                types.Float64 `tfsdk:"ssm_per_second"`
}

// budgets is the pacing api_budget asks for; nil for none.
func (b *apiBudget) budgets() map[string]awsclient.Budget {
	out := map[string]awsclient.Budget{}
	for k, v := range awsclient.DefaultBudgets {
		out[k] = v
	}
	if b == nil {
		return out
	}
	if !b.Enabled.IsNull() && !b.Enabled.ValueBool() {
		return nil
	}
	for class, v := range map[string]types.Float64{awsclient.ClassELBDescribe: b.ELBDescribe, awsclient.ClassELBModify: b.ELBModify, awsclient.ClassAlarms: b.CloudWatchDescribe,
		awsclient.ClassMetricData: b.CloudWatchMetrics, awsclient.ClassLambda: b.Lambda, awsclient.ClassSSM: b.SSM} {
		if !v.IsNull() && !v.IsUnknown() {
			d := out[class]
			d.PerSecond = v.ValueFloat64()
			d.Burst = max(d.Burst, int(math.Ceil(d.PerSecond)))
			out[class] = d
		}
	}
	return out
}

type assumeRole struct {
	RoleARN     types.String `tfsdk:"role_arn"`
	SessionName types.String `tfsdk:"session_name"`
	ExternalID  types.String `tfsdk:"external_id"`
	Duration    types.String `tfsdk:"duration"`
}

type endpoints struct {
	ELBv2      types.String `tfsdk:"elbv2"`
	CloudWatch types.String `tfsdk:"cloudwatch"`
	Lambda     types.String `tfsdk:"lambda"`
	STS        types.String `tfsdk:"sts"`
	SSM        types.String `tfsdk:"ssm"`
	States     types.String `tfsdk:"stepfunctions"`
	SNS        types.String `tfsdk:"sns"`
	Events     types.String `tfsdk:"eventbridge"`
	ECS        types.String `tfsdk:"ecs"`
	CodeDeploy types.String `tfsdk:"codedeploy"`
	AllowHTTP  types.Bool   `tfsdk:"allow_http"`
}

func (p *rolloutProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "rollout"
	resp.Version = p.version
}

func endpointAttr(service string) schema.StringAttribute {
	return schema.StringAttribute{
		Optional:            true,
		MarkdownDescription: fmt.Sprintf("Base URL of the %s API, instead of the public regional endpoint: a VPC endpoint, a FIPS endpoint or a local emulator.", service),
		Validators:          []validator.String{endpointURL{}},
	}
}

func (p *rolloutProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Progressive delivery on AWS Application Load Balancers: weights, canaries, blue/green flips and rollbacks as a plan and an apply. " +
			"Credentials come from the standard AWS chain (environment, shared files, SSO, web identity, container and instance roles).",
		Attributes: map[string]schema.Attribute{
			"region": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "AWS region of the load balancers. Defaults to `AWS_REGION`, `AWS_DEFAULT_REGION` or the region of the shared config profile.",
				Validators:          []validator.String{regionName{}},
			},
			"profile": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Named profile of the shared config and credentials files. Defaults to `AWS_PROFILE`, then `default`.",
				Validators:          []validator.String{stringvalidator.LengthAtLeast(1)},
			},
			"shared_config_files": schema.ListAttribute{
				ElementType:         types.StringType,
				Optional:            true,
				MarkdownDescription: "Paths of shared config files, instead of `~/.aws/config`.",
			},
			"shared_credentials_files": schema.ListAttribute{
				ElementType:         types.StringType,
				Optional:            true,
				MarkdownDescription: "Paths of shared credentials files, instead of `~/.aws/credentials`.",
			},
			"assume_role": schema.SingleNestedAttribute{
				Optional:            true,
				MarkdownDescription: "An IAM role to assume with the credentials found, for example a deploy role in the workload account.",
				Attributes: map[string]schema.Attribute{
					"role_arn": schema.StringAttribute{
						Required:            true,
						MarkdownDescription: "ARN of the role to assume.",
						Validators:          []validator.String{arnOf{arn.IAMRole}},
					},
					"session_name": schema.StringAttribute{
						Optional:            true,
						MarkdownDescription: "Session name shown in CloudTrail: 2 to 64 of `A-Za-z0-9+=,.@_-`.",
						Validators: []validator.String{
							stringvalidator.LengthBetween(2, 64),
							stringvalidator.RegexMatches(sessionNameRE, "must be 2 to 64 of the characters A-Z a-z 0-9 + = , . @ _ -"),
						},
					},
					"external_id": schema.StringAttribute{
						Optional:            true,
						Sensitive:           true,
						MarkdownDescription: "External ID the role's trust policy asks for: 2 to 1224 of `A-Za-z0-9+=,.@:/_-`. Sensitive: never shown in plans or diagnostics.",
						Validators:          []validator.String{secretString{min: 2, max: 1224, re: externalIDRE, chars: "A-Z a-z 0-9 + = , . @ : / _ -"}},
					},
					"duration": schema.StringAttribute{
						Optional:            true,
						MarkdownDescription: "How long the assumed credentials last, as a Go duration from `15m` to `12h`. Defaults to `1h`.",
						Validators:          []validator.String{goDuration{min: 15 * time.Minute, max: 12 * time.Hour}},
					},
				},
			},
			"endpoints": schema.SingleNestedAttribute{
				Optional:            true,
				MarkdownDescription: "Custom endpoints per service.",
				Attributes: map[string]schema.Attribute{
					"elbv2":         endpointAttr("Elastic Load Balancing (v2)"),
					"cloudwatch":    endpointAttr("CloudWatch"),
					"lambda":        endpointAttr("Lambda"),
					"sts":           endpointAttr("STS (used by `assume_role`)"),
					"ssm":           endpointAttr("Systems Manager (feature flags in Parameter Store)"),
					"stepfunctions": endpointAttr("Step Functions (detached rollouts)"),
					"sns":           endpointAttr("SNS (rollout notices)"),
					"eventbridge":   endpointAttr("EventBridge (rollout notices)"),
					"ecs":           endpointAttr("ECS (the deployments of `controlled_by.ecs_service`)"),
					"codedeploy":    endpointAttr("CodeDeploy (the deployments of `controlled_by.codedeploy_group`)"),
					"allow_http": schema.BoolAttribute{
						Optional:            true,
						MarkdownDescription: "Allow plain `http://` endpoints on hosts other than this machine. Default false: `http://` is accepted only for loopback addresses (`127.0.0.1`, `::1`, `localhost`), such as a local emulator.",
					},
				},
			},
			"api_budget": schema.SingleNestedAttribute{
				Optional: true,
				MarkdownDescription: "How fast this provider may call AWS, in requests a second per action class, for all the rollouts of one run together. AWS throttles per account and Region, " +
					"shared with every other tool in the account; the defaults are about half of AWS's buckets. A rollback's requests go first, borrowing from the requests after them, and no " +
					"request waits for another rollout's pause, only for its turn. See the guide *A hundred rollouts*.",
				Attributes: map[string]schema.Attribute{
					"enabled":                           schema.BoolAttribute{Optional: true, MarkdownDescription: "`false` sends every request at once (AWS's throttling and the SDK's retries alone). Default `true`."},
					"elb_describe_per_second":           budgetAttr("Elastic Load Balancing `Describe*` (listeners, rules, target health, tags)", awsclient.ClassELBDescribe),
					"elb_modify_per_second":             budgetAttr("Elastic Load Balancing writes (`ModifyListener`, `ModifyRule`, tags)", awsclient.ClassELBModify),
					"cloudwatch_describe_per_second":    budgetAttr("CloudWatch `DescribeAlarms` and the other alarm calls", awsclient.ClassAlarms),
					"cloudwatch_metric_data_per_second": budgetAttr("CloudWatch `GetMetricData`", awsclient.ClassMetricData),
					"lambda_per_second":                 budgetAttr("Lambda's control plane (aliases, versions, tags; not a hook's `Invoke`)", awsclient.ClassLambda),
					"ssm_per_second":                    budgetAttr("Parameter Store (flags)", awsclient.ClassSSM),
				},
			},
			"max_retries": schema.Int64Attribute{
				Optional: true,
				MarkdownDescription: fmt.Sprintf("How many times a throttled or failed AWS request is retried, with the SDK's adaptive retry mode (client-side rate limiting after throttling). From 0 to 100; defaults to %d.",
					awsclient.DefaultMaxRetries),
				Validators: []validator.Int64{int64validator.Between(0, 100)},
			},
		},
	}
}

func (p *rolloutProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var m providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	known := map[string]interface{ IsUnknown() bool }{
		"region": m.Region, "profile": m.Profile, "shared_config_files": m.SharedConfigFiles,
		"shared_credentials_files": m.SharedCredentialsFiles, "max_retries": m.MaxRetries,
	}
	// An unknown endpoint would otherwise read as "" and send requests to the
	// public AWS endpoint instead of the one configured.
	if e := m.Endpoints; e != nil {
		known["endpoints.elbv2"], known["endpoints.cloudwatch"], known["endpoints.lambda"], known["endpoints.sts"], known["endpoints.ssm"] = e.ELBv2, e.CloudWatch, e.Lambda, e.STS, e.SSM
		known["endpoints.stepfunctions"], known["endpoints.sns"], known["endpoints.eventbridge"] = e.States, e.SNS, e.Events
		known["endpoints.ecs"], known["endpoints.codedeploy"] = e.ECS, e.CodeDeploy
	}
	if ar := m.AssumeRole; ar != nil {
		known["assume_role.role_arn"], known["assume_role.session_name"], known["assume_role.external_id"], known["assume_role.duration"] = ar.RoleARN, ar.SessionName, ar.ExternalID, ar.Duration
	}
	for name, v := range known {
		if v.IsUnknown() {
			addError(&resp.Diagnostics, pathOf(attrPath(name)), "Provider Configuration Not Known", nil,
				fmt.Sprintf("%s depends on a value that is known only after apply.", name),
				"The provider must know how to reach AWS while planning. Use a literal, a variable or a value known at plan time, or apply the resource it depends on first (-target).")
		}
	}
	if resp.Diagnostics.HasError() {
		return
	}

	cfg := awsclient.Config{
		Region:          m.Region.ValueString(),
		Profile:         m.Profile.ValueString(),
		MaxRetries:      awsclient.DefaultMaxRetries,
		ProviderVersion: p.version,
	}
	if !m.MaxRetries.IsNull() {
		cfg.MaxRetries = int(m.MaxRetries.ValueInt64())
	}
	cfg.Budgets = m.APIBudget.budgets()
	cfg.PacerClock, cfg.NoticeClock = p.pacerClock, p.noticeClock
	resp.Diagnostics.Append(m.SharedConfigFiles.ElementsAs(ctx, &cfg.SharedConfigFiles, false)...)
	resp.Diagnostics.Append(m.SharedCredentialsFiles.ElementsAs(ctx, &cfg.SharedCredentialsFiles, false)...)
	if e := m.Endpoints; e != nil {
		cfg.Endpoints = awsclient.Endpoints{ELBv2: e.ELBv2.ValueString(), CloudWatch: e.CloudWatch.ValueString(), Lambda: e.Lambda.ValueString(), STS: e.STS.ValueString(), SSM: e.SSM.ValueString(), StepFunctions: e.States.ValueString(),
			SNS: e.SNS.ValueString(), EventBridge: e.Events.ValueString(), ECS: e.ECS.ValueString(), CodeDeploy: e.CodeDeploy.ValueString()}
	}
	if ar := m.AssumeRole; ar != nil {
		cfg.AssumeRole = &awsclient.AssumeRole{RoleARN: ar.RoleARN.ValueString(), SessionName: ar.SessionName.ValueString(), ExternalID: ar.ExternalID.ValueString()}
		if cfg.AssumeRole.SessionName == "" {
			cfg.AssumeRole.SessionName = "terraform-provider-rollout"
		}
		if d := ar.Duration.ValueString(); d != "" {
			cfg.AssumeRole.Duration, _ = time.ParseDuration(d) // checked by its validator
		}
	}
	if resp.Diagnostics.HasError() {
		return
	}

	client, err := awsclient.New(ctx, cfg, p.clock)
	if errors.Is(err, awsclient.ErrNoRegion) {
		addError(&resp.Diagnostics, pathOf(path.Root("region")), "Missing AWS Region", nil,
			"No AWS region is set in the provider block, in AWS_REGION or AWS_DEFAULT_REGION, or in the shared config profile.",
			"Set region in the provider block (for example region = \"eu-west-1\") or export AWS_REGION.")
		return
	}
	if err != nil {
		addError(&resp.Diagnostics, nil, "Cannot Configure AWS Client", err,
			"The provider could not load the AWS configuration (shared config and credentials files, profile, environment).",
			"Check that the profile exists in the files named and that the files are readable.")
		return
	}
	tflog.Info(ctx, "configured AWS clients", map[string]any{"provider_version": p.version, "region": client.Region, "max_retries": cfg.MaxRetries})
	if p.configured != nil {
		p.configured(client)
	}
	resp.ResourceData = client
	resp.DataSourceData = client
}

func (p *rolloutProvider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{
		NewTrafficSplitResource,
		NewAlarmResource,
		NewOrchestratorResource,
		NewBlueGreenResource,
		NewLambdaAliasResource,
		NewFeatureFlagResource,
		NewReleaseResource,
	}
}

// Functions are the provider-defined functions (Terraform 1.8+, OpenTofu
// 1.7+).
func (p *rolloutProvider) Functions(context.Context) []func() function.Function {
	return []func() function.Function{NewFlagBucketFunction, NewFlagEnabledFunction}
}

func (p *rolloutProvider) DataSources(context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{
		NewOrchestratorPolicyDataSource,
		NewListenerWeightsDataSource,
		NewAlarmStateDataSource,
		NewTargetHealthDataSource,
		NewFeatureFlagDataSource,
		NewStatusDataSource,
	}
}

// clientFrom turns ProviderData into the AWS client, or says why it cannot.
// ProviderData is nil while Terraform validates a configuration before the
// provider is configured; that is not an error.
func clientFrom(data any, diags interface {
	AddError(string, string)
}) *awsclient.Client {
	if data == nil {
		return nil
	}
	c, ok := data.(*awsclient.Client)
	if !ok {
		diags.AddError("Unexpected Provider Data",
			pipeline.Detail(nil, fmt.Sprintf("The provider handed this resource a %T where it expected *awsclient.Client.", data),
				"This is a bug in the provider; please report it with the provider version."))
		return nil
	}
	return c
}

// attrPath turns "a.b" into the path of nested attribute b of a.
func attrPath(name string) path.Path {
	parts := strings.Split(name, ".")
	p := path.Root(parts[0])
	for _, n := range parts[1:] {
		p = p.AtName(n)
	}
	return p
}

// budgetAttr is one class's rate in api_budget.
func budgetAttr(what, class string) schema.Float64Attribute {
	return schema.Float64Attribute{
		Optional:            true,
		MarkdownDescription: fmt.Sprintf("Requests a second to %s, from 0.1 to 1000. Default %g.", what, awsclient.DefaultBudgets[class].PerSecond),
		Validators:          []validator.Float64{float64validator.Between(0.1, 1000)},
	}
}
