package provider

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"

	"github.com/rolloutdev/terraform-provider-rollout/internal/arn"
	"github.com/rolloutdev/terraform-provider-rollout/internal/awsclient"
	"github.com/rolloutdev/terraform-provider-rollout/internal/orchestrator"
	"github.com/rolloutdev/terraform-provider-rollout/internal/pipeline"
	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
	"github.com/rolloutdev/terraform-provider-rollout/internal/subjects"
	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

// rollout_status: a subject's live weights, its owner, and where its last
// rollout stands, from the status tag each driver keeps on the subject
// (awsclient.StatusKeeper). CI waits on it; dashboards show it; nobody
// reads a state file.

var (
	_ datasource.DataSource              = (*statusDataSource)(nil)
	_ datasource.DataSourceWithConfigure = (*statusDataSource)(nil)
)

// NewStatusDataSource builds rollout_status.
func NewStatusDataSource() datasource.DataSource { return &statusDataSource{} }

type statusDataSource struct{ client *awsclient.Client }

type statusModel struct {
	ListenerARN types.String `tfsdk:"listener_arn"`
	RuleARN     types.String `tfsdk:"rule_arn"`
	LambdaAlias types.Object `tfsdk:"lambda_alias"`
	FeatureFlag types.String `tfsdk:"feature_flag"`
	Wait        types.Object `tfsdk:"wait"`

	ID          types.String `tfsdk:"id"`
	Kind        types.String `tfsdk:"kind"`
	Weights     types.Map    `tfsdk:"weights"`
	Percentages types.Map    `tfsdk:"percentages"`
	Owner       types.String `tfsdk:"owner"`
	Status      types.String `tfsdk:"status"`
	LastEvent   types.String `tfsdk:"last_event"`
	Step        types.Int64  `tfsdk:"step"`
	Steps       types.Int64  `tfsdk:"steps"`
	Held        types.Bool   `tfsdk:"held"`
	Execution   types.String `tfsdk:"execution"`
	UpdatedAt   types.String `tfsdk:"updated_at"`
	Reason      types.String `tfsdk:"reason"`
}

type statusAliasModel struct {
	FunctionName types.String `tfsdk:"function_name"`
	AliasName    types.String `tfsdk:"alias_name"`
}

type statusWaitModel struct {
	Until        types.List   `tfsdk:"until"`
	Timeout      types.String `tfsdk:"timeout"`
	PollInterval types.String `tfsdk:"poll_interval"`
}

// The statuses rollout_status says, from the last notice.
const (
	statusNone      = "none"
	statusChanged   = "changed_during_rollout"
	maxStatusWait   = 12 * time.Hour
	defaultWaitPoll = 10 * time.Second
)

var statusWords = []string{statusNone, pipeline.StatusRunning, string(rollout.Held), string(rollout.Succeeded), string(rollout.RolledBack), string(rollout.Failed), statusChanged}

// statusOf is the status a notice type leaves.
func statusOf(t rollout.NoticeType) string {
	switch t {
	case rollout.NoticeStarted, rollout.NoticeStepCompleted, rollout.NoticePromoted, rollout.NoticeGateFailed:
		return pipeline.StatusRunning
	case rollout.NoticeHeld:
		return string(rollout.Held)
	case rollout.NoticeSucceeded:
		return string(rollout.Succeeded)
	case rollout.NoticeRolledBack:
		return string(rollout.RolledBack)
	case rollout.NoticeChanged:
		return statusChanged
	}
	return string(rollout.Failed)
}

var flagRefRE = regexp.MustCompile(`^(/([a-zA-Z0-9_.-]+/)*)?[a-z][a-z0-9._-]{0,127}$`)

func (d *statusDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_status"
}

func (d *statusDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	one := stringvalidator.ExactlyOneOf(path.MatchRoot("listener_arn"), path.MatchRoot("rule_arn"), path.MatchRoot("lambda_alias"), path.MatchRoot("feature_flag"))
	computed := func(d string) schema.StringAttribute {
		return schema.StringAttribute{Computed: true, MarkdownDescription: d}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Where a subject's rollout stands, read from AWS: the weights it serves, the resource that owns it, and the status its last rollout left on it " +
			"(a tag each step writes, whether the rollout runs in an apply or detached). CI can wait on it (`wait`), and a dashboard or another workspace can show it, without reading state. " +
			"Exactly one of `listener_arn`, `rule_arn`, `lambda_alias` and `feature_flag`.",
		Attributes: map[string]schema.Attribute{
			"listener_arn": schema.StringAttribute{Optional: true, MarkdownDescription: "ARN of a listener whose default action a rollout moves.",
				Validators: []validator.String{arnOf{arn.Listener}, one}},
			"rule_arn": schema.StringAttribute{Optional: true, MarkdownDescription: "ARN of a listener rule a rollout moves.",
				Validators: []validator.String{arnOf{arn.ListenerRule}}},
			"lambda_alias": schema.SingleNestedAttribute{
				Optional:            true,
				MarkdownDescription: "A Lambda alias a rollout moves.",
				Attributes: map[string]schema.Attribute{
					"function_name": schema.StringAttribute{Required: true, MarkdownDescription: "The function: name, partial ARN or ARN, without a qualifier.",
						Validators: []validator.String{stringvalidator.RegexMatches(functionNameRE, "must be a function name (1 to 64 of a-z A-Z 0-9 - _), a partial ARN ACCOUNT:function:NAME or an ARN arn:aws:lambda:REGION:ACCOUNT:function:NAME, without a qualifier")}},
					"alias_name": schema.StringAttribute{Required: true, MarkdownDescription: "The alias.", Validators: []validator.String{aliasName{}}},
				},
			},
			"feature_flag": schema.StringAttribute{Optional: true, MarkdownDescription: "A feature flag whose ramp a rollout moves: its key (under `" + DefaultFlagPrefix + "`) or its parameter name.",
				Validators: []validator.String{stringvalidator.RegexMatches(flagRefRE, "must be a flag key or a parameter name /PREFIX/KEY")}},
			"wait": schema.SingleNestedAttribute{
				Optional: true,
				MarkdownDescription: "Read until the status is one of `until`, polling every `poll_interval`, for at most `timeout` (the last read is at the timeout, also when it is shorter than `poll_interval`); past it, reading fails (`Rollout Status Not Reached`, saying how long it waited). " +
					"For a CI job that waits on a detached rollout: `until = [\"succeeded\", \"rolled_back\", \"failed\", \"held\"]`.",
				Attributes: map[string]schema.Attribute{
					"until": schema.ListAttribute{ElementType: types.StringType, Required: true,
						MarkdownDescription: "Statuses to wait for: " + strings.Join(quoted(statusWords), ", ") + ".",
						Validators:          []validator.List{listvalidator.SizeAtLeast(1), listvalidator.UniqueValues(), listvalidator.ValueStringsAre(stringvalidator.OneOf(statusWords...))}},
					"timeout": schema.StringAttribute{Required: true, MarkdownDescription: fmt.Sprintf("How long to wait, a Go duration from 1s to %s.", maxStatusWait),
						Validators: []validator.String{goDuration{time.Second, maxStatusWait}}},
					"poll_interval": schema.StringAttribute{Optional: true, MarkdownDescription: fmt.Sprintf("How often to read, from 1s to 10m. Default `%s`.", pipeline.ShortDuration(defaultWaitPoll)),
						Validators: []validator.String{goDuration{time.Second, 10 * time.Minute}}},
				},
			},
			"id":          computed("The subject read: the listener or rule ARN, `FUNCTION:ALIAS`, or the flag's parameter name."),
			"kind":        computed("`listener`, `rule`, `alias` or `flag`."),
			"weights":     schema.MapAttribute{Computed: true, ElementType: types.Int64Type, MarkdownDescription: "What it serves now: weight by target group ARN (0 to 999), by Lambda version (parts of 1000), or a flag's `on` and `off` (percent)."},
			"percentages": schema.MapAttribute{Computed: true, ElementType: types.Float64Type, MarkdownDescription: "The same, in percent of traffic."},
			"owner":       computed("The resource that owns it (`rollout_traffic_split/…`), empty when none does."),
			"status": computed("Where its last rollout stands: `none` (no rollout recorded), `running`, `held` (until promoted), `succeeded`, `rolled_back`, `failed`, or " +
				"`changed_during_rollout` (someone or something else changed it, and the rollout stopped)."),
			"last_event": computed("The last notice of that rollout (`started`, `step_completed`, `held`, `promoted`, `rolled_back`, `succeeded`, `failed`, `changed_during_rollout`), empty when none."),
			"step":       schema.Int64Attribute{Computed: true, MarkdownDescription: "The step the last notice was about (from 1; 0 before the first)."},
			"steps":      schema.Int64Attribute{Computed: true, MarkdownDescription: "Steps of that rollout."},
			"held":       schema.BoolAttribute{Computed: true, MarkdownDescription: "Whether it is held after a step, waiting for `rollout.promote`."},
			"execution":  computed("Name of the Step Functions execution of a detached rollout; empty for one run in an apply."),
			"updated_at": computed("When the last notice happened (RFC 3339); empty when none."),
			"reason": computed("Why the rollout stands where it does, when the subject's tags say more than its status: a detached rollout held again because AWS refused the write " +
				"its promote made says so, with the error's code and the permission it names, as its resource's `last_rollout.reason` does. Empty otherwise."),
		},
	}
}

func quoted(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = "`" + s + "`"
	}
	return out
}

func (d *statusDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.client = clientFrom(req.ProviderData, &resp.Diagnostics)
}

// subjectRef is the subject a status config names.
func (m statusModel) subjectRef(ctx context.Context, diags *diag.Diagnostics) subjects.Ref {
	switch {
	case !m.ListenerARN.IsNull():
		return subjects.Ref{Listener: &awsclient.Ref{ListenerARN: m.ListenerARN.ValueString()}}
	case !m.RuleARN.IsNull():
		return subjects.Ref{Listener: &awsclient.Ref{RuleARN: m.RuleARN.ValueString()}}
	case !m.LambdaAlias.IsNull():
		var a statusAliasModel
		diags.Append(m.LambdaAlias.As(ctx, &a, basetypes.ObjectAsOptions{})...)
		return subjects.Ref{Alias: &awsclient.AliasRef{Function: a.FunctionName.ValueString(), Alias: a.AliasName.ValueString()}}
	}
	return subjects.Ref{Flag: &subjects.FlagRef{Name: awsclient.FlagName(m.FeatureFlag.ValueString())}}
}

func (d *statusDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m statusModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || d.client == nil {
		return
	}
	ref := m.subjectRef(ctx, &resp.Diagnostics)
	var until []string
	var timeout, poll time.Duration
	if !m.Wait.IsNull() {
		var w statusWaitModel
		resp.Diagnostics.Append(m.Wait.As(ctx, &w, basetypes.ObjectAsOptions{})...)
		resp.Diagnostics.Append(w.Until.ElementsAs(ctx, &until, false)...)
		timeout, poll = parseDuration(w.Timeout, time.Minute), parseDuration(w.PollInterval, defaultWaitPoll)
	}
	if resp.Diagnostics.HasError() {
		return
	}
	// Poll until the status is reached or the whole timeout has passed:
	// the last poll is at the timeout (a shorter wait when the poll
	// interval does not divide it, or is longer than it).
	start := d.client.Clock.Now()
	end := start.Add(timeout)
	for {
		if !d.read(ctx, ref, &m, &resp.Diagnostics) {
			return
		}
		if until == nil || slices.Contains(until, m.Status.ValueString()) {
			break
		}
		now := d.client.Clock.Now()
		if !now.Before(end) {
			resp.Diagnostics.AddAttributeError(path.Root("wait").AtName("until"), "Rollout Status Not Reached", pipeline.Detail(nil,
				fmt.Sprintf("%s %s is %s (last event %q, step %d of %d) after waiting %s, not one of %s.", ref.Kind(), ref.ID(), m.Status.ValueString(), m.LastEvent.ValueString(),
					m.Step.ValueInt64(), m.Steps.ValueInt64(), pipeline.ShortDuration(now.Sub(start).Round(time.Second)), strings.Join(until, ", ")),
				"Wait longer (wait.timeout), or look at the rollout: a held one needs rollout.promote; a running detached one, its Step Functions execution."))
			return
		}
		if err := d.client.Clock.Sleep(ctx, min(poll, end.Sub(now))); err != nil {
			resp.Diagnostics.AddError("Wait Cancelled", pipeline.Detail(err, fmt.Sprintf("Waiting for the rollout status of %s was cancelled after %s.", ref.ID(), pipeline.ShortDuration(d.client.Clock.Now().Sub(start).Round(time.Second))), "Read it again."))
			return
		}
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// read fills the computed attributes from AWS; false after an error.
func (d *statusDataSource) read(ctx context.Context, ref subjects.Ref, m *statusModel, diags *diag.Diagnostics) bool {
	rd, err := subjects.Router(d.client, ref).Read(ctx)
	if err != nil {
		what := "Check the credentials' read permissions (elasticloadbalancing:DescribeListeners or DescribeRules, lambda:GetAlias, ssm:GetParameter) and the ARN or name."
		if errors.Is(err, awsclient.ErrNotFound) {
			what = "Check the ARN or name, and the provider's region."
		}
		diags.AddError("Cannot Read Subject", pipeline.Detail(err, fmt.Sprintf("Reading what %s %s serves failed.", ref.Kind(), ref.ID()), what))
		return false
	}
	l, err := subjects.Lease(d.client, ref).ReadLease(ctx)
	if err != nil {
		diags.AddError("Cannot Read Rollout Status", pipeline.Detail(err, fmt.Sprintf("Reading the tags of %s %s failed.", ref.Kind(), ref.ID()),
			"Check the credentials' permission to read its tags (elasticloadbalancing:DescribeTags, lambda:ListTags, ssm:ListTagsForResource)."))
		return false
	}
	m.ID, m.Kind = types.StringValue(ref.ID()), types.StringValue(ref.Kind())
	m.Weights, m.Percentages = weightsMap(rd.Split), percentagesValue(rd.Split)
	m.Owner = types.StringValue(l.Owner)
	st, ok := awsclient.ParseStatus(l.Status)
	if !ok {
		m.Status, m.LastEvent, m.Step, m.Steps = types.StringValue(statusNone), types.StringValue(""), types.Int64Value(0), types.Int64Value(0)
		m.Held, m.Execution, m.UpdatedAt = types.BoolValue(false), types.StringValue(""), types.StringValue("")
		m.Reason = types.StringValue("")
		return true
	}
	m.Status, m.LastEvent = types.StringValue(statusOf(st.Type)), types.StringValue(string(st.Type))
	m.Step, m.Steps = types.Int64Value(int64(st.Step)), types.Int64Value(int64(st.Steps))
	m.Held, m.Execution = types.BoolValue(st.Type == rollout.NoticeHeld), types.StringValue(st.Execution)
	m.UpdatedAt = types.StringValue(st.At.UTC().Format(time.RFC3339))
	m.Reason = types.StringValue("")
	if step, why, ok := orchestrator.ParseRefusedTag(l.Run, st.Execution); ok && st.Type == rollout.NoticeHeld && st.Execution != "" && step == st.Step {
		m.Reason = types.StringValue(pipeline.RefusedReason(step, st.Steps, why))
	}
	return true
}

// weightsMap is a split as a map of weights.
func weightsMap(s weights.Split) types.Map {
	elems := map[string]attr.Value{}
	for _, t := range s {
		elems[t.ARN] = types.Int64Value(int64(t.Weight))
	}
	return types.MapValueMust(types.Int64Type, elems)
}
