package provider

import (
	"cmp"
	"context"
	"fmt"
	"regexp"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/float64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"

	"github.com/rolloutdev/terraform-provider-rollout/internal/arn"
	"github.com/rolloutdev/terraform-provider-rollout/internal/pipeline"
	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
)

// The Terraform shapes of a progressive rollout: the rollout block, the
// computed planned_steps and last_rollout, and their translation to the
// pure rollout package.

const (
	minPollInterval     = time.Second
	maxCanarySteps      = 20
	maxAlarms           = 100
	defaultApplyTimeout = 60 * time.Minute
	maxHoldTimeout      = 30 * 24 * time.Hour
	// holdRollback is hold_timeout_action's default.
	holdRollback = "rollback"
)

type rolloutModel struct {
	Strategy     types.String `tfsdk:"strategy"`
	Steps        types.List   `tfsdk:"steps"`
	Linear       types.Object `tfsdk:"linear"`
	PollInterval types.String `tfsdk:"poll_interval"`
	Rollback     types.String `tfsdk:"rollback"`
	Gates        types.Object `tfsdk:"gates"`
	Attempt      types.String `tfsdk:"attempt"`
	IgnorePoll   types.Bool   `tfsdk:"ignore_poll_failures"`
	Preset       types.String `tfsdk:"preset"`
	Flags        types.List   `tfsdk:"flags"`
	Execution    types.Object `tfsdk:"execution"`
	Notify       types.Object `tfsdk:"notifications"`
	Promote      types.String `tfsdk:"promote"`
	HoldTimeout  types.String `tfsdk:"hold_timeout"`
	HoldAction   types.String `tfsdk:"hold_timeout_action"`
}

type notificationsModel struct {
	SNSTopicARN  types.String `tfsdk:"sns_topic_arn"`
	EventBusName types.String `tfsdk:"event_bus_name"`
}

type executionModel struct {
	Mode         types.String `tfsdk:"mode"`
	Orchestrator types.String `tfsdk:"orchestrator"`
	Timeout      types.String `tfsdk:"timeout"`
}

// eventBusRE is an EventBridge bus name or ARN.
var eventBusRE = regexp.MustCompile(`^([/.\-_A-Za-z0-9]{1,256}|arn:aws[a-z-]*:events:[a-z0-9-]+:[0-9]{12}:event-bus/[/.\-_A-Za-z0-9]{1,256})$`)

// Where a rollout runs.
const (
	modeInApply  = "in_apply"
	modeDetached = "detached"
	// The most a detached rollout may run, and its default (the
	// schedule's own length comes first: see detachedTimeout).
	minDetachedTimeout = time.Minute
)

type stepModel struct {
	Percent types.Int64  `tfsdk:"percent"`
	Pause   types.String `tfsdk:"pause"`
}

type linearModel struct {
	StepPercent types.Int64  `tfsdk:"step_percent"`
	Interval    types.String `tfsdk:"interval"`
}

type gatesModel struct {
	Health                 types.Object `tfsdk:"health"`
	Alarms                 types.List   `tfsdk:"alarms"`
	FailOnInsufficientData types.Bool   `tfsdk:"fail_on_insufficient_data"`
	Metrics                types.Object `tfsdk:"metrics"`
	Hooks                  types.Object `tfsdk:"hooks"`
}

type healthModel struct {
	MinHealthyTargets types.Int64   `tfsdk:"min_healthy_targets"`
	MinHealthyPercent types.Float64 `tfsdk:"min_healthy_percent"`
	Timeout           types.String  `tfsdk:"timeout"`
}

type metricsModel struct {
	MaxErrorRatePercent types.Float64 `tfsdk:"max_error_rate_percent"`
	MaxP99LatencyMs     types.Float64 `tfsdk:"max_p99_latency_ms"`
	MinRequestCount     types.Int64   `tfsdk:"min_request_count"`
	Delay               types.String  `tfsdk:"delay"`
}

type hooksModel struct {
	BeforeShift types.String `tfsdk:"before_shift"`
	AfterPause  types.String `tfsdk:"after_pause"`
}

func rolloutResourceAttr() schema.SingleNestedAttribute {
	dur := func(lo, hi time.Duration) []validator.String { return []validator.String{goDuration{lo, hi}} }
	return schema.SingleNestedAttribute{
		Optional: true,
		MarkdownDescription: "How a change of weights is applied: all at once (the default), or in steps with a bake time, gates checked before each step and during each pause, " +
			"and an automatic rollback when a gate fails. `planned_steps` shows the schedule in the plan.",
		Attributes: map[string]schema.Attribute{
			"strategy": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "`all_at_once` (the default: one step), `canary` (the steps in `steps`) or `linear` (equal steps of `linear.step_percent` every `linear.interval`). " +
					"A step's percent is how far along the shift it goes: with blue at 100 and green at 0 going to green 100, a 10 % step sends 10 % of traffic to green.",
				Validators: []validator.String{stringvalidator.OneOf(string(rollout.AllAtOnce), string(rollout.Canary), string(rollout.Linear))},
			},
			"steps": schema.ListNestedAttribute{
				Optional:            true,
				MarkdownDescription: fmt.Sprintf("The steps of a `canary`, 1 to %d, each going further than the last, the last at 100.", maxCanarySteps),
				Validators:          []validator.List{listvalidator.SizeBetween(1, maxCanarySteps)},
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"percent": schema.Int64Attribute{
						Required:            true,
						MarkdownDescription: "How far along the shift this step goes, from 1 to 100 percent.",
						Validators:          []validator.Int64{int64validator.Between(1, 100)},
					},
					"pause": schema.StringAttribute{
						Optional: true,
						MarkdownDescription: fmt.Sprintf("Bake time after the step, a Go duration from 0s to %s; gates are polled during it. Default none. ", pipeline.MaxPause) +
							"Or `hold`: the rollout stops after the step, watching nothing, until `promote` changes (see `promote`, `hold_timeout`). The last step cannot be a hold.",
						Validators: []validator.String{orHold{goDuration{0, pipeline.MaxPause}}},
					},
				}},
			},
			"linear": schema.SingleNestedAttribute{
				Optional:            true,
				MarkdownDescription: "The steps of a `linear` rollout.",
				Attributes: map[string]schema.Attribute{
					"step_percent": schema.Int64Attribute{
						Required:            true,
						MarkdownDescription: "How far each step goes, from 1 to 100 percent.",
						Validators:          []validator.Int64{int64validator.Between(1, 100)},
					},
					"interval": schema.StringAttribute{
						Required:            true,
						MarkdownDescription: fmt.Sprintf("Bake time after each step but the last, a Go duration from 0s to %s.", pipeline.MaxPause),
						Validators:          dur(0, pipeline.MaxPause),
					},
				},
			},
			"poll_interval": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: fmt.Sprintf("How often gates are checked during a pause and while waiting for healthy targets, from %s to %s. Default `15s`.", minPollInterval, pipeline.MaxPollInterval),
				Validators:          dur(minPollInterval, pipeline.MaxPollInterval),
			},
			"rollback": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "What happens when a gate fails: `immediate` (back to the weights from before the rollout started, in one call), `gradual` (back 25, 50, 75 and 100 % of the way, one `poll_interval` apart, each gated by health), " +
					"or `auto` (the default) which chooses by the gate: health with fewer than half of the gaining targets healthy, an alarm, the error rate or a hook → immediate; health with half or more healthy, latency or too little traffic → gradual " +
					"(or `feature_flag` when `flags` are named). `feature_flag` switches the named `flags` off and leaves traffic where it is; `kill_switch` (a `rollout_feature_flag`'s own rollout only) turns the flag's kill switch on.",
				Validators: []validator.String{stringvalidator.OneOf(string(rollout.Auto), string(rollout.Immediate), string(rollout.Gradual), string(rollout.FeatureFlag), string(rollout.KillSwitch))},
			},
			"flags": schema.ListAttribute{
				ElementType: types.StringType, Optional: true,
				MarkdownDescription: "Feature flags (keys under `" + DefaultFlagPrefix + "`, or parameter names) that carry this change's new features. With `rollback = \"feature_flag\"` a failed gate " +
					"turns their kill switch on (written and read back) and leaves traffic where it is; with `auto`, latency and too-little-traffic failures take that path and errors, alarms, health " +
					"and hooks still move traffic back. `last_rollout.reason` names the flags switched off. 1 to 20.",
				Validators: []validator.List{listvalidator.SizeBetween(1, 20), listvalidator.UniqueValues(),
					listvalidator.ValueStringsAre(stringvalidator.RegexMatches(flagRefRE, "must be a flag key or a parameter name /PREFIX/KEY"))},
			},
			"preset": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "One of CodeDeploy's predefined deployment configurations, instead of `strategy`, `steps` and `linear`: " +
					"`canary_10_percent_5_minutes` (10, 15 and 30 too: 10 % for that long, then the rest), `linear_10_percent_every_1_minute` " +
					"(`every_2_minutes`, `every_3_minutes` and `every_10_minutes` too: 10 % more at each interval) or `all_at_once`. " +
					"CodeDeploy's `LambdaCanary10Percent5Minutes` is `canary_10_percent_5_minutes`, and so on.",
				Validators: []validator.String{stringvalidator.OneOf(rollout.PresetNames()...)},
			},
			"attempt": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "A label of this attempt at the change, such as `2` or a ticket, 1 to 64 characters. After a rollback, an apply towards the same weights (or color) is refused with nothing moved " +
					"until `attempt` changes, so a rolled-back candidate never ships again with the next unrelated apply (auto-apply, `run-all apply`). The plan warns first.",
				Validators: []validator.String{stringvalidator.LengthBetween(1, 64)},
			},
			"promote": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "A token that promotes a held rollout: after an apply ends with `last_rollout.status = \"held\"` (a step's `pause = \"hold\"`), the next plan warns how many steps are still to run (and is empty until promoted); " +
					"set `promote` to a new value (the next number, a ticket, an approver) and apply to go on from the held step. The subject is read first (someone else's change during the hold wins: " +
					"nothing is written) and the gates are checked again before the next step. 1 to 64 characters. Changing it alone when no rollout is held is refused at plan; changed with the weights, it is the token the new rollout's holds are promoted from.",
				Validators: []validator.String{stringvalidator.LengthBetween(1, 64)},
			},
			"hold_timeout": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: fmt.Sprintf("How long a hold may wait for `promote`, a Go duration from `poll_interval` to %s. Unset, a hold waits for ever. "+
					"Once it has passed, the next plan shows the rollout's `hold_timeout_action` and the next apply takes it; a detached rollout's orchestrator takes it itself.", maxHoldTimeout),
				Validators: dur(minPollInterval, maxHoldTimeout),
			},
			"hold_timeout_action": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "What a hold that timed out does: `rollback` (the default: back to where the rollout started, by `rollback`) or `promote` (go on as if promoted).",
				Validators:          []validator.String{stringvalidator.OneOf(holdRollback, rollout.HoldPromote)},
			},
			"ignore_poll_failures": schema.BoolAttribute{
				Optional: true,
				MarkdownDescription: "What a gate that cannot be read does. A read that fails (after the AWS SDK's own retries) is tried again at the next poll; after " +
					"3 failures in a row of one gate (each gate counts its own: health that reads well does not forgive alarms that cannot be read) " +
					"that gate fails and the rollout rolls back (`false`, the default), or the rollout goes on without that gate's reading (`true`, " +
					"CodeDeploy's `ignorePollAlarmFailure`). Health, alarms and metrics only: a hook that cannot be invoked always fails its step.",
			},
			"notifications": schema.SingleNestedAttribute{
				Optional: true,
				MarkdownDescription: "Where the rollout's notices go, as it runs: `started`, `step_completed`, `held`, `promoted`, `gate_failed` (with the gate's reading), `rolled_back`, " +
					"`succeeded`, `failed`, `changed_during_rollout`, as versioned JSON (the schema is in the guide *Rollout notices*). Publishing never delays a rollback: notices go out from a " +
					"queue, each bounded to a few seconds; one that cannot be delivered is counted in `last_rollout.notices_undelivered`, never fatal.",
				Attributes: map[string]schema.Attribute{
					"sns_topic_arn": schema.StringAttribute{
						Optional:            true,
						MarkdownDescription: "ARN of an SNS topic: the notice is the message, its type the `type` message attribute.",
						Validators:          []validator.String{arnOf{arn.SNSTopic}},
					},
					"event_bus_name": schema.StringAttribute{
						Optional:            true,
						MarkdownDescription: "Name or ARN of an EventBridge bus (`default` for the account's): `source = \"rollout\"`, `detail-type` per notice (`Rollout Gate Failed`, …), the notice as `detail`.",
						Validators:          []validator.String{stringvalidator.RegexMatches(eventBusRE, "must be an event bus name (1 to 256 of letters, digits, . - _ /) or an event bus ARN (arn:aws:events:REGION:ACCOUNT:event-bus/NAME)")},
					},
				},
			},
			"execution": schema.SingleNestedAttribute{
				Optional: true,
				MarkdownDescription: "Where the schedule runs. `in_apply` (the default): the apply runs it and returns when it ends. `detached`: the apply checks, claims and reads the subject " +
					"as always, starts an execution of the `orchestrator` (a `rollout_orchestrator`), waits until the first step is confirmed and returns; the rest of the schedule, the gates and " +
					"the rollback run in AWS with the same engine. `last_rollout` shows `running` until a refresh finds the execution ended. See the guide *Detached rollouts*.",
				Attributes: map[string]schema.Attribute{
					"mode": schema.StringAttribute{
						Optional:            true,
						MarkdownDescription: "`in_apply` (the default) or `detached`.",
						Validators:          []validator.String{stringvalidator.OneOf(modeInApply, modeDetached)},
					},
					"orchestrator": schema.StringAttribute{
						Optional:            true,
						MarkdownDescription: "ARN of the orchestrator's state machine (`rollout_orchestrator.NAME.arn`). Required when `mode` is `detached`.",
						Validators:          []validator.String{arnOf{arn.StateMachine}},
					},
					"timeout": schema.StringAttribute{
						Optional: true,
						MarkdownDescription: fmt.Sprintf("How long a detached rollout may run before it rolls back, as an apply that reaches its timeout does, from %s to %s. Default: the schedule's own length "+
							"(pauses, health waits, metrics delays) and a half, plus 15 minutes. The plan refuses a timeout and `poll_interval` whose calls could not fit one execution's history.", pipeline.ShortDuration(minDetachedTimeout), "8784h"),
						Validators: dur(minDetachedTimeout, pipeline.MaxDetachedTimeout),
					},
				},
			},
			"gates": schema.SingleNestedAttribute{
				Optional:            true,
				MarkdownDescription: "What must hold for the rollout to go on. Gates are checked before each shift (health waits for healthy targets), polled every `poll_interval` during each pause (health, alarms), and after each pause (metrics, `after_pause` hook).",
				Attributes: map[string]schema.Attribute{
					"health": schema.SingleNestedAttribute{
						Optional:            true,
						MarkdownDescription: "Each target group gaining traffic must have enough healthy targets (DescribeTargetHealth).",
						Attributes: map[string]schema.Attribute{
							"min_healthy_targets": schema.Int64Attribute{
								Optional:            true,
								MarkdownDescription: "Healthy targets each gaining target group needs, 0 to 1000. Default 1.",
								Validators:          []validator.Int64{int64validator.Between(0, 1000)},
							},
							"min_healthy_percent": schema.Float64Attribute{
								Optional:            true,
								MarkdownDescription: "Share of each gaining target group's registered targets that must be healthy, 0 to 100. Default 100.",
								Validators:          []validator.Float64{float64validator.Between(0, 100)},
							},
							"timeout": schema.StringAttribute{
								Optional:            true,
								MarkdownDescription: fmt.Sprintf("How long to wait for healthy targets before a shift, 0s to %s. Default `5m`. `0s` checks once and does not wait. Draining and unused targets receive no new traffic and count neither as healthy nor as registered.", pipeline.MaxHealthTimeout),
								Validators:          dur(0, pipeline.MaxHealthTimeout),
							},
						},
					},
					"alarms": schema.ListAttribute{
						ElementType:         types.StringType,
						Optional:            true,
						MarkdownDescription: fmt.Sprintf("CloudWatch alarm names (metric or composite), 1 to %d. One in `ALARM` fails the step; one that does not exist fails it too. `INSUFFICIENT_DATA` passes unless `fail_on_insufficient_data`.", maxAlarms),
						Validators: []validator.List{
							listvalidator.SizeBetween(1, maxAlarms),
							listvalidator.UniqueValues(),
							listvalidator.ValueStringsAre(stringvalidator.LengthBetween(1, 255)),
						},
					},
					"fail_on_insufficient_data": schema.BoolAttribute{
						Optional:            true,
						MarkdownDescription: "Treat an alarm in `INSUFFICIENT_DATA` as failing. Default false.",
					},
					"metrics": schema.SingleNestedAttribute{
						Optional: true,
						MarkdownDescription: "Thresholds on each gaining target group's load balancer metrics over each pause (GetMetricData, namespace `AWS/ApplicationELB`), " +
							"or, for a Lambda alias, on the gaining version's `Invocations`, `Errors`, `Throttles` and `Duration` through the alias (`AWS/Lambda`; throttles count as errors). " +
							"Steps without a pause are not measured.",
						Attributes: map[string]schema.Attribute{
							"max_error_rate_percent": schema.Float64Attribute{
								Optional:            true,
								MarkdownDescription: "Highest `HTTPCode_Target_5XX_Count` / `RequestCount` in percent, 0 to 100.",
								Validators:          []validator.Float64{float64validator.Between(0, 100)},
							},
							"max_p99_latency_ms": schema.Float64Attribute{
								Optional:            true,
								MarkdownDescription: "Highest 99th percentile of `TargetResponseTime`, in milliseconds, above 0 and at most 3,600,000.",
								Validators:          []validator.Float64{float64validator.Between(0.001, 3600000)},
							},
							"min_request_count": schema.Int64Attribute{
								Optional: true,
								MarkdownDescription: "Fewest requests the gaining target group must serve during the pause, at least 1. The error rate and the latency are judged only on at least this many " +
									"requests (at least one when unset): with fewer the step fails this gate, so a step never passes on no traffic.",
								Validators: []validator.Int64{int64validator.AtLeast(1)},
							},
							"delay": schema.StringAttribute{
								Optional: true,
								MarkdownDescription: fmt.Sprintf("How long after each pause the metrics are read, so CloudWatch has published the pause's last minutes (Application Load Balancer metrics arrive a minute or more late), 0s to %s. Default `%s`. "+
									"The window read is still the pause itself; the delay adds to each step's time and counts against `timeouts`.", pipeline.MaxMetricsDelay, pipeline.ShortDuration(rollout.DefaultMetricsDelay)),
								Validators: dur(0, pipeline.MaxMetricsDelay),
							},
						},
					},
					"hooks": schema.SingleNestedAttribute{
						Optional: true,
						MarkdownDescription: "Lambda functions invoked synchronously with a JSON payload (`subject_id`, `subject_kind`, `split_id` (the same as `subject_id`), `phase`, `step`, `steps`, `percent`, `from`, `to`). " +
							"A function error, or an answer whose `status` is not `Succeeded`, fails the step (`reason` is shown).",
						Attributes: map[string]schema.Attribute{
							"before_shift": schema.StringAttribute{
								Optional:            true,
								MarkdownDescription: "ARN of the function invoked before each shift.",
								Validators:          []validator.String{arnOf{arn.LambdaFunc}},
							},
							"after_pause": schema.StringAttribute{
								Optional:            true,
								MarkdownDescription: "ARN of the function invoked after each step's pause.",
								Validators:          []validator.String{arnOf{arn.LambdaFunc}},
							},
						},
					},
				},
			},
		},
	}
}

var plannedStepAttrTypes = map[string]attr.Type{
	"step":          types.Int64Type,
	"percent":       types.Int64Type,
	"pause":         types.StringType,
	"target_groups": types.ListType{ElemType: targetGroupObjectType},
}
var plannedStepObjectType = types.ObjectType{AttrTypes: plannedStepAttrTypes}

func plannedStepsAttr() schema.ListNestedAttribute {
	return schema.ListNestedAttribute{
		Computed: true,
		MarkdownDescription: "The schedule of the change this plan makes, known at plan time whenever the inputs are: each step's weights and pause, in order. " +
			"When a plan does not change the weights, it keeps the schedule of the last change.",
		NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
			"step":    schema.Int64Attribute{Computed: true, MarkdownDescription: "Step number, from 1."},
			"percent": schema.Int64Attribute{Computed: true, MarkdownDescription: "How far along the shift the step goes, in percent."},
			"pause":   schema.StringAttribute{Computed: true, MarkdownDescription: "Bake time after the step, or `hold`."},
			"target_groups": schema.ListNestedAttribute{
				Computed:            true,
				MarkdownDescription: "The weights the listener serves at this step.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"arn":    schema.StringAttribute{Computed: true, MarkdownDescription: "ARN of the target group."},
					"weight": schema.Int64Attribute{Computed: true, MarkdownDescription: "Weight."},
				}},
			},
		}},
	}
}

var lastRolloutAttrTypes = map[string]attr.Type{
	"status":              types.StringType,
	"step_reached":        types.Int64Type,
	"steps":               types.Int64Type,
	"gate":                types.StringType,
	"reason":              types.StringType,
	"rollback":            types.StringType,
	"started_at":          types.StringType,
	"finished_at":         types.StringType,
	"target":              types.StringType,
	"attempt":             types.StringType,
	"from":                types.StringType,
	"execution":           types.StringType,
	"serving":             types.StringType,
	"notices_undelivered": types.Int64Type,
	"promote":             types.StringType,
	"staggered":           types.StringType,
}

func lastRolloutAttr() schema.SingleNestedAttribute {
	s := func(d string) schema.StringAttribute {
		return schema.StringAttribute{Computed: true, MarkdownDescription: d}
	}
	return schema.SingleNestedAttribute{
		Computed:            true,
		MarkdownDescription: "How the last change went. It is recorded even when the apply fails, so the state says what the subject serves.",
		Attributes: map[string]schema.Attribute{
			"status": s("`succeeded`, `rolled_back` (a gate failed and it is back where it was before the rollout started, or its flags were switched off), `running` (a detached rollout that has not ended when last refreshed), " +
				"`stopped` (a detached rollout's execution stopped by hand: it stays where it was) or `failed`: stopped by a cancel, the timeout or an AWS error (it stays at `step_reached`); " +
				"held where a gate failed (`rollback = \"none\"`); or stopped because someone or something else changed it during the rollout (`gate = \"changed_during_rollout\"`: nothing more was written, and the weights recorded are the ones found). " +
				"A change that rolled back, was held or was stopped is not run again until `rollout.attempt` changes."),
			"step_reached":        schema.Int64Attribute{Computed: true, MarkdownDescription: "The last step applied, from 1; 0 when none was."},
			"steps":               schema.Int64Attribute{Computed: true, MarkdownDescription: "Steps in the schedule."},
			"gate":                s("The gate that failed, such as `alarms` or `metrics.max_error_rate_percent`, or `changed_during_rollout`; empty when none did."),
			"reason":              s("What happened, in one sentence."),
			"rollback":            s("How it was rolled back (`immediate`, `gradual`, `feature_flag`, `kill_switch`), or `none` when a gate failed and it was held where it was; empty otherwise."),
			"started_at":          s("When the rollout started (RFC 3339)."),
			"finished_at":         s("When it ended (RFC 3339)."),
			"target":              s("The weights the change was going to (`ARN=weight, …` in ARN order)."),
			"attempt":             s("`rollout.attempt` when the change ran; empty when unset."),
			"from":                s("The weights the change started from (`ARN=weight, …`). Setting the configuration back to them while a detached rollout runs aborts it."),
			"execution":           s("ARN of the Step Functions execution of a detached rollout; empty for a rollout run in the apply."),
			"serving":             s("What the subject served when last read (`ARN=weight, …`): while a detached rollout runs, the step it is at."),
			"notices_undelivered": schema.Int64Attribute{Computed: true, MarkdownDescription: "How many of the run's notices (`rollout.notifications`) could not be delivered, across its holds. A detached rollout's count is complete once it has ended (while it runs, the started notice's alone)."},
			"promote":             s("`rollout.promote` when the rollout was held: setting it to another value promotes the hold."),
			"staggered":           s("How long the rollout's start waited for its place among the rollouts running at once in this provider (its subject's offset in a spread of at most 1s, and at most `poll_interval`), so that their step boundaries do not fall in the same second; empty when it started at once."),
		},
	}
}

func parseDuration(s types.String, def time.Duration) time.Duration {
	if s.IsNull() || s.IsUnknown() {
		return def
	}
	d, err := time.ParseDuration(s.ValueString())
	if err != nil {
		return def
	}
	return d
}

// attemptOf is rollout.attempt, "" when unset or unknown.
func attemptOf(ctx context.Context, o types.Object) string {
	s, _ := settingsFrom(ctx, o)
	return s.Attempt
}

// strategyFrom reads the strategy of a rollout block; known is false when
// any input of the schedule is not known yet.
func strategyFrom(ctx context.Context, o types.Object) (st rollout.Strategy, known bool, diags diag.Diagnostics) {
	st.Kind = rollout.AllAtOnce
	if o.IsNull() {
		return st, true, nil
	}
	if o.IsUnknown() {
		return st, false, nil
	}
	var m rolloutModel
	diags.Append(o.As(ctx, &m, basetypes.ObjectAsOptions{})...)
	if diags.HasError() {
		return st, false, diags
	}
	if m.Strategy.IsUnknown() || m.Steps.IsUnknown() || m.Linear.IsUnknown() || m.Preset.IsUnknown() {
		return st, false, diags
	}
	if p, ok := rollout.Presets[m.Preset.ValueString()]; ok && m.Strategy.IsNull() && m.Steps.IsNull() && m.Linear.IsNull() {
		return p, true, diags
	}
	if !m.Strategy.IsNull() {
		st.Kind = rollout.Kind(m.Strategy.ValueString())
	}
	known = true
	if !m.Steps.IsNull() {
		var steps []stepModel
		diags.Append(m.Steps.ElementsAs(ctx, &steps, false)...)
		for _, s := range steps {
			if s.Percent.IsUnknown() || s.Pause.IsUnknown() {
				known = false
			}
			if s.Pause.ValueString() == pipeline.PauseHold {
				st.Steps = append(st.Steps, rollout.Step{Percent: int(s.Percent.ValueInt64()), Hold: true})
				continue
			}
			st.Steps = append(st.Steps, rollout.Step{Percent: int(s.Percent.ValueInt64()), Pause: parseDuration(s.Pause, 0)})
		}
	}
	if !m.Linear.IsNull() {
		var l linearModel
		diags.Append(m.Linear.As(ctx, &l, basetypes.ObjectAsOptions{})...)
		if l.StepPercent.IsUnknown() || l.Interval.IsUnknown() {
			known = false
		}
		st.StepPercent = int(l.StepPercent.ValueInt64())
		st.Interval = parseDuration(l.Interval, 0)
	}
	return st, known, diags
}

// settingsFrom reads the whole rollout block, with defaults, for an apply.
func settingsFrom(ctx context.Context, o types.Object) (pipeline.Settings, diag.Diagnostics) {
	st, _, diags := strategyFrom(ctx, o)
	out := pipeline.Settings{Strategy: st, Settings: rollout.Settings{PollInterval: pipeline.DefaultPollInterval, Policy: rollout.Auto}, Removed: o.IsNull()}
	if o.IsNull() || o.IsUnknown() || diags.HasError() {
		return out, diags
	}
	var m rolloutModel
	diags.Append(o.As(ctx, &m, basetypes.ObjectAsOptions{})...)
	out.PollInterval = parseDuration(m.PollInterval, pipeline.DefaultPollInterval)
	out.Attempt = m.Attempt.ValueString()
	out.Promote = m.Promote.ValueString()
	out.HoldTimeout = parseDuration(m.HoldTimeout, 0)
	out.HoldAction = holdRollback
	if v := m.HoldAction.ValueString(); v != "" {
		out.HoldAction = v
	}
	if !m.Notify.IsNull() && !m.Notify.IsUnknown() {
		var n notificationsModel
		diags.Append(m.Notify.As(ctx, &n, basetypes.ObjectAsOptions{})...)
		out.Topic, out.Bus = n.SNSTopicARN.ValueString(), n.EventBusName.ValueString()
	}
	if !m.Execution.IsNull() && !m.Execution.IsUnknown() {
		var e executionModel
		diags.Append(m.Execution.As(ctx, &e, basetypes.ObjectAsOptions{})...)
		if e.Mode.ValueString() == modeDetached {
			out.Detached = &pipeline.Detached{Orchestrator: e.Orchestrator.ValueString(), Timeout: parseDuration(e.Timeout, 0)}
		}
	}
	out.IgnoreReadFailures = m.IgnorePoll.ValueBool()
	if !m.Flags.IsNull() && !m.Flags.IsUnknown() {
		diags.Append(m.Flags.ElementsAs(ctx, &out.Flags, false)...)
	}
	if !m.Rollback.IsNull() {
		out.Policy = rollout.Policy(m.Rollback.ValueString())
	}
	if !m.Gates.IsNull() && !m.Gates.IsUnknown() {
		out.Gates = gatesFrom(ctx, m.Gates, &diags)
	}
	return out, diags
}

// gatesFrom is rollout.gates (known, not null) as the engine reads it.
func gatesFrom(ctx context.Context, o types.Object, diags *diag.Diagnostics) rollout.Gates {
	var out rollout.Gates
	var g gatesModel
	diags.Append(o.As(ctx, &g, basetypes.ObjectAsOptions{})...)
	if !g.Health.IsNull() {
		var h healthModel
		diags.Append(g.Health.As(ctx, &h, basetypes.ObjectAsOptions{})...)
		hg := rollout.DefaultHealthGate()
		if !h.MinHealthyTargets.IsNull() {
			hg.MinHealthyTargets = int(h.MinHealthyTargets.ValueInt64())
		}
		if !h.MinHealthyPercent.IsNull() {
			hg.MinHealthyPercent = h.MinHealthyPercent.ValueFloat64()
		}
		hg.Timeout = parseDuration(h.Timeout, hg.Timeout)
		out.Health = &hg
	}
	if !g.Alarms.IsNull() {
		diags.Append(g.Alarms.ElementsAs(ctx, &out.Alarms, false)...)
	}
	out.FailOnInsufficientData = g.FailOnInsufficientData.ValueBool()
	if !g.Metrics.IsNull() {
		out.Metrics = metricsGateFrom(ctx, g.Metrics, diags)
	}
	if !g.Hooks.IsNull() {
		var hm hooksModel
		diags.Append(g.Hooks.As(ctx, &hm, basetypes.ObjectAsOptions{})...)
		out.BeforeShift = hm.BeforeShift.ValueString()
		out.AfterPause = hm.AfterPause.ValueString()
	}
	return out
}

// metricsGateFrom is rollout.gates.metrics (not null).
func metricsGateFrom(ctx context.Context, o types.Object, diags *diag.Diagnostics) *rollout.MetricsGate {
	var mm metricsModel
	diags.Append(o.As(ctx, &mm, basetypes.ObjectAsOptions{})...)
	mg := rollout.MetricsGate{}
	if !mm.MaxErrorRatePercent.IsNull() {
		v := mm.MaxErrorRatePercent.ValueFloat64()
		mg.MaxErrorRatePercent = &v
	}
	if !mm.MaxP99LatencyMs.IsNull() {
		v := mm.MaxP99LatencyMs.ValueFloat64()
		mg.MaxP99LatencyMs = &v
	}
	if !mm.MinRequestCount.IsNull() {
		v := mm.MinRequestCount.ValueInt64()
		mg.MinRequestCount = &v
	}
	mg.Delay = parseDuration(mm.Delay, rollout.DefaultMetricsDelay)
	return &mg
}

// checkRollout adds a diagnostic for every rollout block that cannot run.
func checkRollout(ctx context.Context, o types.Object, base path.Path, diags *diag.Diagnostics) {
	if o.IsNull() || o.IsUnknown() {
		return
	}
	var m rolloutModel
	diags.Append(o.As(ctx, &m, basetypes.ObjectAsOptions{})...)
	if diags.HasError() || m.Strategy.IsUnknown() {
		return
	}
	if checkPreset(m, base, diags); diags.HasError() {
		return
	}
	checkExecution(ctx, m.Execution, base.AtName("execution"), diags)
	if !m.Steps.IsUnknown() {
		var steps []stepModel
		if !m.Steps.IsNull() {
			diags.Append(m.Steps.ElementsAs(ctx, &steps, false)...)
		}
		checkHolds(m, steps, base, diags)
	}
	checkNotifications(ctx, m, base, diags)
	checkStrategyParts(m, base, diags)
	if diags.HasError() {
		return
	}
	if m.Rollback.ValueString() == string(rollout.FeatureFlag) && m.Flags.IsNull() {
		diags.AddAttributeError(base.AtName("flags"), "Missing Flags", pipeline.Detail(nil,
			`rollout.rollback is "feature_flag" but rollout.flags names no flag to switch off.`,
			`List the flags that carry the change's new features, for example flags = [rollout_feature_flag.new_checkout.key], or choose another rollback.`))
	}
	st, known, d := strategyFrom(ctx, o)
	diags.Append(d...)
	if !known {
		return
	}
	for _, pr := range st.Problems() {
		diags.AddAttributeError(attrPathOf(base, pr.Path), "Invalid Rollout Schedule", pipeline.Detail(nil, fmt.Sprintf("rollout.%s is wrong: %s.", pr.Path, pr.Reason),
			"A canary's steps go from 1 to 100 percent, each further than the last, and end at 100."))
	}
	if diags.HasError() {
		return
	}
	checkGates(ctx, o, st, base, diags)
}

// checkPreset refuses a schedule set beside rollout.preset.
func checkPreset(m rolloutModel, base path.Path, diags *diag.Diagnostics) {
	if !m.Preset.IsNull() && !m.Preset.IsUnknown() {
		for name, v := range map[string]attr.Value{"strategy": m.Strategy, "steps": m.Steps, "linear": m.Linear} {
			if !v.IsNull() {
				diags.AddAttributeError(base.AtName(name), "Preset With Own Schedule", pipeline.Detail(nil,
					fmt.Sprintf("rollout.preset is %q, and rollout.%s is set too; a preset is the whole schedule.", m.Preset.ValueString(), name),
					"Remove "+name+", or remove preset and describe the schedule with strategy, steps or linear."))
			}
		}
	}
}

// checkNotifications refuses rollout.notifications naming no target.
func checkNotifications(ctx context.Context, m rolloutModel, base path.Path, diags *diag.Diagnostics) {
	if !m.Notify.IsNull() && !m.Notify.IsUnknown() {
		var n notificationsModel
		diags.Append(m.Notify.As(ctx, &n, basetypes.ObjectAsOptions{})...)
		if n.SNSTopicARN.IsNull() && n.EventBusName.IsNull() {
			diags.AddAttributeError(base.AtName("notifications"), "Empty Notifications", pipeline.Detail(nil,
				"rollout.notifications names neither sns_topic_arn nor event_bus_name: no notice would go anywhere.",
				"Set sns_topic_arn, event_bus_name or both, or remove notifications."))
		}
	}
}

// checkStrategyParts checks that rollout.steps and rollout.linear are set
// with, and only with, their strategy.
func checkStrategyParts(m rolloutModel, base path.Path, diags *diag.Diagnostics) {
	kind := rollout.AllAtOnce
	if !m.Strategy.IsNull() {
		kind = rollout.Kind(m.Strategy.ValueString())
	}
	switch {
	case kind == rollout.Canary && m.Steps.IsNull():
		diags.AddAttributeError(base.AtName("steps"), "Missing Canary Steps", pipeline.Detail(nil,
			`rollout.strategy is "canary" but rollout.steps is not set.`,
			`List the steps, each further along than the last and the last at 100, for example steps = [{ percent = 10, pause = "5m" }, { percent = 100 }].`))
	case kind != rollout.Canary && !m.Steps.IsNull() && !m.Steps.IsUnknown():
		diags.AddAttributeError(base.AtName("steps"), "Steps Without Canary", pipeline.Detail(nil,
			fmt.Sprintf("rollout.steps is set but rollout.strategy is %q; steps are only used by a canary.", kind),
			`Set strategy = "canary", or remove steps.`))
	}
	switch {
	case kind == rollout.Linear && m.Linear.IsNull():
		diags.AddAttributeError(base.AtName("linear"), "Missing Linear Settings", pipeline.Detail(nil,
			`rollout.strategy is "linear" but rollout.linear is not set.`,
			`Set linear = { step_percent = 20, interval = "2m" } (equal steps of step_percent, interval apart).`))
	case kind != rollout.Linear && !m.Linear.IsNull() && !m.Linear.IsUnknown():
		diags.AddAttributeError(base.AtName("linear"), "Linear Settings Without Linear", pipeline.Detail(nil,
			fmt.Sprintf("rollout.linear is set but rollout.strategy is %q; it is only used by a linear rollout.", kind),
			`Set strategy = "linear", or remove linear.`))
	}
}

// checkGates refuses gates that would check nothing and warns of a metrics
// gate judged on too little or never measured.
func checkGates(ctx context.Context, o types.Object, st rollout.Strategy, base path.Path, diags *diag.Diagnostics) {
	s, _ := settingsFrom(ctx, o)
	gates := base.AtName("gates")
	if m := s.Gates.Metrics; m != nil && m.MaxErrorRatePercent == nil && m.MaxP99LatencyMs == nil && m.MinRequestCount == nil && knownObject(ctx, o, "metrics") {
		diags.AddAttributeError(gates.AtName("metrics"), "Empty Metrics Gate", pipeline.Detail(nil,
			"rollout.gates.metrics is set but names no threshold, so it would check nothing.",
			"Set at least one of max_error_rate_percent, max_p99_latency_ms and min_request_count, or remove metrics."))
	}
	if s.Gates.BeforeShift == "" && s.Gates.AfterPause == "" && knownObject(ctx, o, "hooks") {
		diags.AddAttributeError(gates.AtName("hooks"), "Empty Hooks Gate", pipeline.Detail(nil,
			"rollout.gates.hooks is set but names no function, so it would check nothing.",
			"Set before_shift or after_pause (or both) to a Lambda function ARN, or remove hooks."))
	}
	if m := s.Gates.Metrics; m != nil && m.MaxErrorRatePercent != nil && m.MinRequestCount == nil && knownObject(ctx, o, "metrics") {
		diags.AddAttributeWarning(gates.AtName("metrics").AtName("min_request_count"), "Error Rate Gate Without Minimum", pipeline.Detail(nil,
			"rollout.gates.metrics.max_error_rate_percent is set without min_request_count, so a step is judged on as little as one request: 1 error in 1 request is 100 %, and 0 in 3 passes.",
			"Set min_request_count to the traffic a step must see to be judged (for example 100). A step with fewer requests fails the gate."))
	}
	if s.Gates.Metrics != nil {
		paused := false
		switch st.Kind {
		case rollout.Canary:
			for _, x := range st.Steps[:len(st.Steps)-1] {
				paused = paused || x.Pause > 0
			}
		case rollout.Linear:
			paused = st.Interval > 0 && st.StepPercent < 100
		}
		if !paused {
			diags.AddAttributeWarning(base.AtName("gates").AtName("metrics"), "Metrics Gate Never Measured", pipeline.Detail(nil,
				"The metrics gate reads each target group's metrics over a step's pause, and no step before the last has a pause, so it would never be checked.",
				"Give the steps a pause (canary steps[*].pause or linear.interval), or remove the metrics gate."))
		}
	}
}

// knownObject reports whether gates.NAME of a rollout block is set with
// every value in it known.
func knownObject(ctx context.Context, o types.Object, name string) bool {
	var m rolloutModel
	if o.As(ctx, &m, basetypes.ObjectAsOptions{}).HasError() || m.Gates.IsNull() || m.Gates.IsUnknown() {
		return false
	}
	g, ok := m.Gates.Attributes()[name].(types.Object)
	if !ok || g.IsNull() || g.IsUnknown() {
		return false
	}
	for _, v := range g.Attributes() {
		if v.IsUnknown() {
			return false
		}
	}
	return true
}

func plannedStepsValue(steps []rollout.PlannedStep) types.List {
	elems := make([]attr.Value, 0, len(steps))
	for i, s := range steps {
		elems = append(elems, types.ObjectValueMust(plannedStepAttrTypes, map[string]attr.Value{
			"step":          types.Int64Value(int64(i + 1)),
			"percent":       types.Int64Value(int64(s.Percent)),
			"pause":         types.StringValue(pipeline.PauseText(s)),
			"target_groups": listFromSplit(s.Weights),
		}))
	}
	return types.ListValueMust(plannedStepObjectType, elems)
}

// plannedOf is a plan's planned_steps as the pipeline's check of a
// schedule, rendered as the subject's planned_steps show it (render:
// plannedStepsValue, aliasStepsValue, flagStepsValue); nil when the plan
// did not know them.
func plannedOf(l types.List, render func([]rollout.PlannedStep) types.List) pipeline.PlannedSteps {
	if l.IsNull() || l.IsUnknown() {
		return nil
	}
	return func(steps []rollout.PlannedStep) bool { return l.Equal(render(steps)) }
}

// refuseKillSwitch refuses rollback = "kill_switch" outside a feature
// flag's own rollout.
func refuseKillSwitch(ctx context.Context, o types.Object, at path.Path, diags *diag.Diagnostics) {
	if o.IsNull() || o.IsUnknown() {
		return
	}
	var m rolloutModel
	if o.As(ctx, &m, basetypes.ObjectAsOptions{}).HasError() || m.Rollback.ValueString() != string(rollout.KillSwitch) {
		return
	}
	diags.AddAttributeError(at.AtName("rollback"), "Kill Switch Rollback For Flags Only", pipeline.Detail(nil,
		`rollout.rollback is "kill_switch", which turns a feature flag's own kill switch on; this resource moves traffic, not a flag.`,
		`Use "feature_flag" with rollout.flags to switch the change's flags off and leave traffic where it is, or immediate, gradual or auto.`))
}

// checkExecution checks rollout.execution: a detached rollout names its
// orchestrator, and an orchestrator or timeout is only for one.
func checkExecution(ctx context.Context, o types.Object, at path.Path, diags *diag.Diagnostics) {
	if o.IsNull() || o.IsUnknown() {
		return
	}
	var e executionModel
	diags.Append(o.As(ctx, &e, basetypes.ObjectAsOptions{})...)
	if e.Mode.IsUnknown() {
		return
	}
	detached := e.Mode.ValueString() == modeDetached
	switch {
	case detached && e.Orchestrator.IsNull():
		diags.AddAttributeError(at.AtName("orchestrator"), "Missing Orchestrator", pipeline.Detail(nil,
			`rollout.execution.mode is "detached" but rollout.execution.orchestrator is not set: nothing would run the schedule.`,
			"Set orchestrator to the arn of a rollout_orchestrator (the state machine's ARN), or remove mode to run the schedule in the apply."))
	case !detached && !e.Orchestrator.IsNull():
		diags.AddAttributeError(at.AtName("orchestrator"), "Orchestrator Without Detached Mode", pipeline.Detail(nil,
			fmt.Sprintf("rollout.execution.orchestrator is set but mode is %q: the schedule runs in the apply and the orchestrator would not be used.", cmp.Or(e.Mode.ValueString(), modeInApply)),
			`Set mode = "detached" to run the schedule on the orchestrator, or remove orchestrator.`))
	case !detached && !e.Timeout.IsNull():
		diags.AddAttributeError(at.AtName("timeout"), "Timeout Without Detached Mode", pipeline.Detail(nil,
			fmt.Sprintf("rollout.execution.timeout is set but mode is %q; an apply's rollout is bounded by the resource's timeouts block.", cmp.Or(e.Mode.ValueString(), modeInApply)),
			`Set mode = "detached", or remove timeout and use timeouts { create, update }.`))
	}
}

// refuseDetached refuses rollout.execution where a rollout must run in the
// apply (a release's services).
func refuseDetached(ctx context.Context, o types.Object, base path.Path, why string, diags *diag.Diagnostics) {
	if o.IsNull() || o.IsUnknown() {
		return
	}
	var m rolloutModel
	diags.Append(o.As(ctx, &m, basetypes.ObjectAsOptions{})...)
	if m.Execution.IsNull() || m.Execution.IsUnknown() {
		return
	}
	var e executionModel
	diags.Append(m.Execution.As(ctx, &e, basetypes.ObjectAsOptions{})...)
	if e.Mode.ValueString() == modeDetached {
		at := base.AtName("execution").AtName("mode")
		diags.AddAttributeError(at, "Detached Rollout Not Possible Here", pipeline.Detail(nil, fmt.Sprintf("%s is \"detached\".", at), why,
			`Remove execution, or set mode = "in_apply".`))
	}
}
