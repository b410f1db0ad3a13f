package provider

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/float64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/mapvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"

	"github.com/rolloutdev/terraform-provider-rollout/internal/arn"
	"github.com/rolloutdev/terraform-provider-rollout/internal/awsclient"
	"github.com/rolloutdev/terraform-provider-rollout/internal/graph"
	"github.com/rolloutdev/terraform-provider-rollout/internal/pipeline"
	"github.com/rolloutdev/terraform-provider-rollout/internal/problem"
	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

var (
	_ resource.Resource                   = (*releaseResource)(nil)
	_ resource.ResourceWithConfigure      = (*releaseResource)(nil)
	_ resource.ResourceWithImportState    = (*releaseResource)(nil)
	_ resource.ResourceWithValidateConfig = (*releaseResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*releaseResource)(nil)
)

// NewReleaseResource builds rollout_release.
func NewReleaseResource() resource.Resource { return &releaseResource{} }

type releaseResource struct{ client *awsclient.Client }

const (
	releaseType        = "rollout_release"
	maxReleaseServices = 50
	maxDependencies    = 200
	maxStabilization   = time.Hour
	// on_failure.rollback values.
	rollbackFailed  = "failed"
	rollbackStarted = "started"
	rollbackNone    = "none"
	// Statuses of a service in a release, beyond the graph's.
	statusUnchanged  = "unchanged"
	statusRolledBack = "rolled_back"
)

var serviceNameRE = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,62}$`)

type releaseModel struct {
	ID            types.String   `tfsdk:"id"`
	Services      types.Map      `tfsdk:"services"`
	Dependencies  types.List     `tfsdk:"dependencies"`
	Strategy      types.String   `tfsdk:"strategy"`
	MaxParallel   types.Int64    `tfsdk:"max_parallel"`
	Stabilization types.Object   `tfsdk:"stabilization"`
	OnFailure     types.Object   `tfsdk:"on_failure"`
	Adopt         types.Bool     `tfsdk:"adopt"`
	PlannedWaves  types.List     `tfsdk:"planned_waves"`
	LastRelease   types.Object   `tfsdk:"last_release"`
	Timeouts      timeouts.Value `tfsdk:"timeouts"`
}

type serviceModel struct {
	ListenerARN  types.String `tfsdk:"listener_arn"`
	RuleARN      types.String `tfsdk:"rule_arn"`
	TargetGroups types.List   `tfsdk:"target_groups"`
	Stickiness   types.Object `tfsdk:"stickiness"`
	ControlledBy types.Object `tfsdk:"controlled_by"`
	Rollout      types.Object `tfsdk:"rollout"`
	Percentages  types.Map    `tfsdk:"percentages"`
	PlannedSteps types.List   `tfsdk:"planned_steps"`
	LastRollout  types.Object `tfsdk:"last_rollout"`
	OwnerTag     types.String `tfsdk:"owner_tag"`
	Status       types.String `tfsdk:"status"`
	Reason       types.String `tfsdk:"reason"`
}

func (m serviceModel) ref() awsclient.Ref {
	return awsclient.Ref{ListenerARN: m.ListenerARN.ValueString(), RuleARN: m.RuleARN.ValueString()}
}

func (m serviceModel) refKnown() bool { return !m.ListenerARN.IsUnknown() && !m.RuleARN.IsUnknown() }

type dependencyModel struct {
	Service            types.String `tfsdk:"service"`
	DependsOn          types.String `tfsdk:"depends_on"`
	Type               types.String `tfsdk:"type"`
	ValidationRequired types.Bool   `tfsdk:"validation_required"`
}

type stabilizationModel struct {
	Duration               types.String `tfsdk:"duration"`
	PollInterval           types.String `tfsdk:"poll_interval"`
	Health                 types.Object `tfsdk:"health"`
	Alarms                 types.List   `tfsdk:"alarms"`
	FailOnInsufficientData types.Bool   `tfsdk:"fail_on_insufficient_data"`
}

type stabilizationHealthModel struct {
	MinHealthyTargets types.Int64   `tfsdk:"min_healthy_targets"`
	MinHealthyPercent types.Float64 `tfsdk:"min_healthy_percent"`
}

type onFailureModel struct {
	Stop     types.Bool   `tfsdk:"stop"`
	Rollback types.String `tfsdk:"rollback"`
}

var lastReleaseAttrTypes = map[string]attr.Type{
	"status":      types.StringType,
	"summary":     types.StringType,
	"started_at":  types.StringType,
	"finished_at": types.StringType,
}

func (r *releaseResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_release"
}

func servicesAttr() schema.MapNestedAttribute {
	computed := func(d string) schema.StringAttribute {
		return schema.StringAttribute{Computed: true, MarkdownDescription: d}
	}
	return schema.MapNestedAttribute{
		Required: true,
		MarkdownDescription: fmt.Sprintf("The services of the release, by name (1 to %d; a name is 1 to 63 lower-case letters, digits, `_` and `-`, starting with a letter). "+
			"Each owns the forward action of a listener or rule, as a traffic split does, and moves it through the same traffic pipeline.", maxReleaseServices),
		Validators: []validator.Map{
			mapvalidator.SizeBetween(1, maxReleaseServices),
			mapvalidator.KeysAre(stringvalidator.RegexMatches(serviceNameRE, "must be 1 to 63 lower-case letters, digits, _ and -, starting with a letter")),
		},
		NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
			"listener_arn": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "ARN of the listener whose default forward action the service owns. Exactly one of `listener_arn` and `rule_arn`.",
				Validators:          []validator.String{arnOf{arn.Listener}},
			},
			"rule_arn": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "ARN of the listener rule whose forward action the service owns. Exactly one of `listener_arn` and `rule_arn`.",
				Validators:          []validator.String{arnOf{arn.ListenerRule}},
			},
			"target_groups": targetGroupsResourceAttr(),
			"stickiness":    stickinessResourceAttr(),
			"controlled_by": controlledByAttr(),
			"rollout":       rolloutResourceAttr(),
			"percentages": schema.MapAttribute{
				ElementType:         types.Float64Type,
				Computed:            true,
				MarkdownDescription: "Share of the service's traffic per target group ARN, in percent (two decimals), known at plan time.",
			},
			"planned_steps": plannedStepsAttr(),
			"last_rollout":  lastRolloutAttr(),
			"owner_tag":     computed("The value of the `" + awsclient.OwnerTag + "` tag the release keeps on the service's listener or rule."),
			"status": computed("How the service ended the last time the release moved it, or tried to: `succeeded`, `unchanged` (it already served its weights when the release was created or imported), `failed` (a gate failed and it was left where it failed, or it was refused with nothing moved), " +
				"`rolled_back` (its own gate failed, or the release rolled it back after another service failed) or `skipped` (it never started: see `reason`)."),
			"reason": computed("Why, in one sentence: the rollout's summary, or why the service was skipped."),
		}},
	}
}

func (r *releaseResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Moves several services as one release, in dependency order: wave by wave, the services of a wave concurrently, each through the same gated rollout as a traffic split. " +
			"A failure stops the release, skips the services that depend on the failed one, and rolls back as `on_failure` says; the state records each service's real weights and outcome. " +
			"`planned_waves` and each service's `planned_steps` show the whole release in the plan, before anything moves.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "The services' names and listener or rule ARNs, `name=ARN,…` in name order: the import ID.",
			},
			"services": servicesAttr(),
			"dependencies": schema.ListNestedAttribute{
				Optional: true,
				MarkdownDescription: fmt.Sprintf("What waits for what, 0 to %d. `hard`: the service starts after `depends_on` succeeded and is skipped when it did not; `order_only`: after `depends_on` finished, whatever its outcome; "+
					"`soft`: ordering when possible (a soft dependency that would close a cycle is dropped, with a warning), and the service goes whatever the outcome. A cycle of hard and order-only dependencies is an error naming it.", maxDependencies),
				Validators: []validator.List{listvalidator.SizeAtMost(maxDependencies)},
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"service":    schema.StringAttribute{Required: true, MarkdownDescription: "The service that waits: a key of `services`."},
					"depends_on": schema.StringAttribute{Required: true, MarkdownDescription: "The service it waits for: a key of `services`."},
					"type": schema.StringAttribute{
						Optional:            true,
						MarkdownDescription: "`hard` (the default), `soft` or `order_only`.",
						Validators:          []validator.String{stringvalidator.OneOf(graph.Kinds...)},
					},
					"validation_required": schema.BoolAttribute{
						Optional:            true,
						MarkdownDescription: "The service starts only after `depends_on` has also passed `stabilization` (its health and alarms watched for `stabilization.duration` at its new weights). Needs `stabilization`. Default false.",
					},
				}},
			},
			"strategy": schema.StringAttribute{
				Optional: true,
				Computed: true,
				Default:  stringdefault.StaticString(string(graph.Waves)),
				MarkdownDescription: "`waves` (the default): wave by wave, the services of a wave at the same time (at most `max_parallel`), a wave starting when the one before it has finished; " +
					"`parallel`: every service as soon as its own dependencies have finished, with no barrier between waves; `sequential`: one service at a time, in the order of `planned_waves`.",
				Validators: []validator.String{stringvalidator.OneOf(graph.Strategies...)},
			},
			"max_parallel": schema.Int64Attribute{
				Optional:            true,
				MarkdownDescription: fmt.Sprintf("Most services moving at once under `waves` and `parallel`, 1 to %d. Default: no bound.", maxReleaseServices),
				Validators:          []validator.Int64{int64validator.Between(1, maxReleaseServices)},
			},
			"stabilization": schema.SingleNestedAttribute{
				Optional: true,
				MarkdownDescription: "A wait between a service and the services that depend on it with `validation_required`: the service's serving target groups' health and the `alarms` are checked every `poll_interval` for `duration`. " +
					"A failure counts as the service failing its rollout: it rolls back by its `rollout.rollback`, and `on_failure` applies.",
				Attributes: map[string]schema.Attribute{
					"duration": schema.StringAttribute{
						Required:            true,
						MarkdownDescription: fmt.Sprintf("How long to watch, a Go duration from 0s to %s. `0s` checks once.", maxStabilization),
						Validators:          []validator.String{goDuration{0, maxStabilization}},
					},
					"poll_interval": schema.StringAttribute{
						Optional:            true,
						MarkdownDescription: fmt.Sprintf("How often to check, from %s to %s. Default `15s`.", minPollInterval, pipeline.MaxPollInterval),
						Validators:          []validator.String{goDuration{minPollInterval, pipeline.MaxPollInterval}},
					},
					"health": schema.SingleNestedAttribute{
						Optional:            true,
						MarkdownDescription: "Each target group the service serves must keep enough healthy targets.",
						Attributes: map[string]schema.Attribute{
							"min_healthy_targets": schema.Int64Attribute{
								Optional: true, MarkdownDescription: "Healthy targets each serving target group needs, 0 to 1000. Default 1.",
								Validators: []validator.Int64{int64validator.Between(0, 1000)},
							},
							"min_healthy_percent": schema.Float64Attribute{
								Optional: true, MarkdownDescription: "Share of each serving target group's registered targets that must be healthy, 0 to 100. Default 100.",
								Validators: []validator.Float64{float64validator.Between(0, 100)},
							},
						},
					},
					"alarms": schema.ListAttribute{
						ElementType:         types.StringType,
						Optional:            true,
						MarkdownDescription: fmt.Sprintf("CloudWatch alarm names, 1 to %d; one in `ALARM` (or missing) fails the stabilization.", maxAlarms),
						Validators:          []validator.List{listvalidator.SizeBetween(1, maxAlarms), listvalidator.UniqueValues(), listvalidator.ValueStringsAre(stringvalidator.LengthBetween(1, 255))},
					},
					"fail_on_insufficient_data": schema.BoolAttribute{
						Optional: true, MarkdownDescription: "Treat an alarm in `INSUFFICIENT_DATA` as failing. Default false.",
					},
				},
			},
			"on_failure": schema.SingleNestedAttribute{
				Optional:            true,
				MarkdownDescription: "What the release does when a service fails (its gate fails, its stabilization fails, or AWS refuses it).",
				Attributes: map[string]schema.Attribute{
					"stop": schema.BoolAttribute{
						Optional: true,
						MarkdownDescription: "Start no further service once one has failed (those already moving finish, with their own gates); they are `skipped`. Default true. " +
							"With `false` the release goes on: the hard dependents of a failed service are skipped, its soft and order-only dependents still go.",
					},
					"rollback": schema.StringAttribute{
						Optional: true,
						MarkdownDescription: "`failed` (the default): the failed service rolls back by its own `rollout.rollback`, and the services that succeeded stay; " +
							"`started`: the services that moved in this apply roll back too, last finished first (needs `stop`); `none`: the failed service is left where its gate failed.",
						Validators: []validator.String{stringvalidator.OneOf(rollbackFailed, rollbackStarted, rollbackNone)},
					},
				},
			},
			"adopt": adoptAttr(),
			"planned_waves": schema.ListAttribute{
				ElementType:         types.ListType{ElemType: types.StringType},
				Computed:            true,
				MarkdownDescription: "The services of each wave, in order, from `dependencies`: known at plan time.",
			},
			"last_release": schema.SingleNestedAttribute{
				Computed:            true,
				MarkdownDescription: "How the last apply that moved anything went. Recorded even when the apply fails.",
				Attributes: map[string]schema.Attribute{
					"status":      schema.StringAttribute{Computed: true, MarkdownDescription: "`succeeded` (every service succeeded or was unchanged) or `failed`."},
					"summary":     schema.StringAttribute{Computed: true, MarkdownDescription: "Each service's outcome, in the order of `planned_waves`."},
					"started_at":  schema.StringAttribute{Computed: true, MarkdownDescription: "When the release started (RFC 3339)."},
					"finished_at": schema.StringAttribute{Computed: true, MarkdownDescription: "When it ended (RFC 3339)."},
				},
			},
			"timeouts": timeouts.Attributes(ctx, timeouts.Opts{
				Create: true, Update: true,
				CreateDescription: "How long a create may take, every service's rollout included (a Go duration). Default `60m`. The plan fails when the release's waits add up to more.",
				UpdateDescription: "How long an update may take, every service's rollout included (a Go duration). Default `60m`. The plan fails when the release's waits add up to more.",
			}),
		},
	}
}

func (r *releaseResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.client = clientFrom(req.ProviderData, &resp.Diagnostics)
}

// serviceObjectType is the type of one element of services.
func serviceObjectType(_ context.Context) types.ObjectType {
	return servicesAttr().NestedObject.Type().(types.ObjectType)
}

func servicesOf(ctx context.Context, m types.Map) (map[string]serviceModel, bool, diag.Diagnostics) {
	if m.IsNull() || m.IsUnknown() {
		return nil, false, nil
	}
	out := map[string]serviceModel{}
	d := m.ElementsAs(ctx, &out, false)
	return out, !d.HasError(), d
}

func servicesValue(ctx context.Context, s map[string]serviceModel) (types.Map, diag.Diagnostics) {
	return types.MapValueFrom(ctx, serviceObjectType(ctx), s)
}

func svcPath(name string) path.Path { return path.Root("services").AtMapKey(name) }

// svcAt is svcPath as the pipeline's path.
func svcAt(name string) problem.Path { return problem.At("services").Key(name) }

// sortedNames is the keys of services in order.
func sortedNames(s map[string]serviceModel) []string {
	names := make([]string, 0, len(s))
	for n := range s {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// dependenciesOf reads the dependencies; known is false when any value is
// unknown.
func dependenciesOf(ctx context.Context, l types.List) ([]dependencyModel, []graph.Edge, bool, diag.Diagnostics) {
	if l.IsUnknown() {
		return nil, nil, false, nil
	}
	if l.IsNull() {
		return nil, nil, true, nil
	}
	var deps []dependencyModel
	d := l.ElementsAs(ctx, &deps, false)
	if d.HasError() {
		return nil, nil, false, d
	}
	edges := make([]graph.Edge, len(deps))
	for i, x := range deps {
		if x.Service.IsUnknown() || x.DependsOn.IsUnknown() || x.Type.IsUnknown() {
			return deps, nil, false, d
		}
		k := graph.Hard
		if !x.Type.IsNull() {
			k = graph.Kind(x.Type.ValueString())
		}
		edges[i] = graph.Edge{Service: x.Service.ValueString(), DependsOn: x.DependsOn.ValueString(), Kind: k}
	}
	return deps, edges, true, d
}

// releaseGraph orders the services; ok is false when the inputs are not
// known or have problems. With report (ValidateConfig) it reports the
// problems, a cycle and the soft dependencies dropped.
func releaseGraph(ctx context.Context, services map[string]serviceModel, deps types.List, diags *diag.Diagnostics, report bool) (graph.Plan, bool) {
	_, edges, known, d := dependenciesOf(ctx, deps)
	diags.Append(d...)
	if !known || services == nil {
		return graph.Plan{}, false
	}
	p, probs, cyc := graph.Build(sortedNames(services), edges)
	if !report {
		return p, len(probs) == 0 && cyc == nil
	}
	for _, pr := range probs {
		diags.AddAttributeError(attrPathOf(path.Root("dependencies"), pr.Path), "Invalid Dependency", pipeline.Detail(nil,
			fmt.Sprintf("dependencies%s: %s.", pr.Path, pr.Reason),
			"Each dependency names two different services of this release (keys of services), once per pair, with type hard, soft or order_only."))
	}
	if cyc != nil {
		diags.AddAttributeError(path.Root("dependencies").AtListIndex(cyc.Edges[0]), "Dependency Cycle", pipeline.Detail(nil,
			fmt.Sprintf("The hard and order-only dependencies form a cycle: %s (dependencies %s). No service of a cycle could ever start.", strings.Join(cyc.Path, " → "), indexes(cyc.Edges)),
			"Remove one of these dependencies, or make it soft (a soft dependency that would close a cycle is dropped)."))
	}
	if len(probs) > 0 || cyc != nil {
		return graph.Plan{}, false
	}
	for _, i := range p.Dropped {
		e := edges[i]
		diags.AddAttributeWarning(path.Root("dependencies").AtListIndex(i), "Soft Dependency Dropped", pipeline.Detail(nil,
			fmt.Sprintf("%s depends softly on %s, but ordering them so would close a cycle with the dependencies listed before it; the release does not order them.", e.Service, e.DependsOn),
			"Remove the dependency if it is not needed, or reorder the dependencies if another should give way."))
	}
	return p, true
}

func indexes(ix []int) string {
	s := make([]string, len(ix))
	for i, x := range ix {
		s[i] = fmt.Sprintf("[%d]", x)
	}
	return strings.Join(s, ", ")
}

func (r *releaseResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m releaseModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	services, known, d := servicesOf(ctx, m.Services)
	resp.Diagnostics.Append(d...)
	owners := map[string]string{}
	for _, name := range sortedNames(services) {
		s := services[name]
		at := svcPath(name)
		if s.ListenerARN.IsNull() == s.RuleARN.IsNull() && !s.ListenerARN.IsUnknown() && !s.RuleARN.IsUnknown() {
			resp.Diagnostics.AddAttributeError(at, "Invalid Service", pipeline.Detail(nil,
				fmt.Sprintf("services[%q] sets %s of listener_arn and rule_arn; a service owns one forward action.", name, map[bool]string{true: "neither", false: "both"}[s.ListenerARN.IsNull()]),
				"Set exactly one of listener_arn (a listener's default action) and rule_arn (a listener rule's action)."))
		}
		if s.refKnown() {
			id := s.ref().ID()
			if other, ok := owners[id]; ok && id != "" {
				resp.Diagnostics.AddAttributeError(at, "Listener In Two Services", pipeline.Detail(nil,
					fmt.Sprintf("services[%q] and services[%q] both own %s; their weights would overwrite each other.", other, name, id),
					"Give each service its own listener or rule, or merge the two services."))
			}
			owners[id] = name
		}
		checkSplit(ctx, s.TargetGroups, at.AtName("target_groups"), &resp.Diagnostics)
		checkStickiness(s.Stickiness, at.AtName("stickiness"), &resp.Diagnostics)
		checkRollout(ctx, s.Rollout, at.AtName("rollout"), &resp.Diagnostics)
		checkNetwork(ctx, s.ListenerARN, s.Stickiness, at.AtName("stickiness"), s.Rollout, at.AtName("rollout"), &resp.Diagnostics)
		checkControlledBy(s.ControlledBy, at.AtName("controlled_by"), &resp.Diagnostics)
		refuseKillSwitch(ctx, s.Rollout, at.AtName("rollout"), &resp.Diagnostics)
		refuseHold(ctx, s.Rollout, at.AtName("rollout"), &resp.Diagnostics)
		refuseDetached(ctx, s.Rollout, at.AtName("rollout"), "A release runs its services in the apply: their order, waves and the rollback of what it started need one driver. "+
			"A detached rollout is for one subject (rollout_traffic_split, rollout_deployment_bluegreen, rollout_lambda_alias, rollout_feature_flag).", &resp.Diagnostics)
	}
	if known {
		releaseGraph(ctx, services, m.Dependencies, &resp.Diagnostics, true)
	}
	deps, _, _, _ := dependenciesOf(ctx, m.Dependencies)
	for i, x := range deps {
		if x.ValidationRequired.ValueBool() && m.Stabilization.IsNull() {
			resp.Diagnostics.AddAttributeError(path.Root("dependencies").AtListIndex(i).AtName("validation_required"), "Validation Without Stabilization", pipeline.Detail(nil,
				fmt.Sprintf("dependencies[%d].validation_required is true, but there is no stabilization block to validate %s with.", i, x.DependsOn.ValueString()),
				`Add stabilization = { duration = "5m", alarms = [...] } (what to watch, and for how long), or set validation_required = false.`))
		}
	}
	if !m.Stabilization.IsNull() && !m.Stabilization.IsUnknown() {
		var st stabilizationModel
		resp.Diagnostics.Append(m.Stabilization.As(ctx, &st, basetypes.ObjectAsOptions{})...)
		if st.Health.IsNull() && st.Alarms.IsNull() && st.Duration.ValueString() != "" && parseDuration(st.Duration, 0) == 0 && !st.Duration.IsUnknown() {
			resp.Diagnostics.AddAttributeError(path.Root("stabilization"), "Empty Stabilization", pipeline.Detail(nil,
				"stabilization waits 0s and watches neither health nor alarms, so it would check nothing.",
				"Give it a duration, health or alarms, or remove it."))
		}
		used := false
		for _, x := range deps {
			used = used || x.ValidationRequired.ValueBool() || x.ValidationRequired.IsUnknown()
		}
		if !used && !m.Dependencies.IsUnknown() {
			resp.Diagnostics.AddAttributeWarning(path.Root("stabilization"), "Stabilization Never Used", pipeline.Detail(nil,
				"stabilization is set, but no dependency has validation_required = true, so no service waits for it.",
				"Set validation_required = true on the dependencies that must wait for their dependency to stabilize, or remove stabilization."))
		}
	}
	of := onFailureOf(ctx, m.OnFailure)
	if of.rollback == rollbackStarted && !of.stop {
		resp.Diagnostics.AddAttributeError(path.Root("on_failure").AtName("rollback"), "Rollback Of Started Services Needs Stop", pipeline.Detail(nil,
			`on_failure.rollback is "started", which rolls back every service the release moved, but on_failure.stop is false, which goes on moving services after a failure.`,
			`Set stop = true (the default) to roll back the release as a whole, or rollback = "failed" to go on and roll back only what fails.`))
	}
	if m.Strategy.ValueString() == string(graph.Sequential) && !m.MaxParallel.IsNull() && !m.MaxParallel.IsUnknown() && m.MaxParallel.ValueInt64() != 1 {
		resp.Diagnostics.AddAttributeError(path.Root("max_parallel"), "Max Parallel With Sequential", pipeline.Detail(nil,
			fmt.Sprintf("max_parallel is %d, but strategy is \"sequential\", which moves one service at a time.", m.MaxParallel.ValueInt64()),
			`Remove max_parallel, or use strategy = "waves" or "parallel".`))
	}
}

type onFailure struct {
	stop     bool
	rollback string
}

func onFailureOf(ctx context.Context, o types.Object) onFailure {
	out := onFailure{stop: true, rollback: rollbackFailed}
	if o.IsNull() || o.IsUnknown() {
		return out
	}
	var m onFailureModel
	if o.As(ctx, &m, basetypes.ObjectAsOptions{}).HasError() {
		return out
	}
	if !m.Stop.IsNull() && !m.Stop.IsUnknown() {
		out.stop = m.Stop.ValueBool()
	}
	if !m.Rollback.IsNull() && !m.Rollback.IsUnknown() {
		out.rollback = m.Rollback.ValueString()
	}
	return out
}

// stabilizationOf reads the stabilization block; nil when unset.
func stabilizationOf(ctx context.Context, o types.Object) *pipeline.StabilizeSettings {
	if o.IsNull() || o.IsUnknown() {
		return nil
	}
	var m stabilizationModel
	if o.As(ctx, &m, basetypes.ObjectAsOptions{}).HasError() {
		return nil
	}
	s := &pipeline.StabilizeSettings{Duration: parseDuration(m.Duration, 0), Poll: parseDuration(m.PollInterval, pipeline.DefaultPollInterval)}
	if !m.Health.IsNull() && !m.Health.IsUnknown() {
		var h stabilizationHealthModel
		_ = m.Health.As(ctx, &h, basetypes.ObjectAsOptions{})
		g := rollout.DefaultHealthGate()
		g.Timeout = 0
		if !h.MinHealthyTargets.IsNull() {
			g.MinHealthyTargets = int(h.MinHealthyTargets.ValueInt64())
		}
		if !h.MinHealthyPercent.IsNull() {
			g.MinHealthyPercent = h.MinHealthyPercent.ValueFloat64()
		}
		s.Gates.Health = &g
	}
	if !m.Alarms.IsNull() && !m.Alarms.IsUnknown() {
		_ = m.Alarms.ElementsAs(ctx, &s.Gates.Alarms, false)
	}
	s.Gates.FailOnInsufficientData = m.FailOnInsufficientData.ValueBool()
	return s
}

// validated are the services some dependency waits on with
// validation_required: they stabilize after they move.
func validated(ctx context.Context, l types.List) map[string]bool {
	deps, _, _, _ := dependenciesOf(ctx, l)
	out := map[string]bool{}
	for _, d := range deps {
		if d.ValidationRequired.ValueBool() {
			out[d.DependsOn.ValueString()] = true
		}
	}
	return out
}

func plannedWavesValue(p graph.Plan) types.List {
	waves := make([]attr.Value, 0, len(p.Waves))
	for _, w := range p.Waves {
		names := make([]attr.Value, len(w))
		for i, n := range w {
			names[i] = types.StringValue(n)
		}
		waves = append(waves, types.ListValueMust(types.StringType, names))
	}
	return types.ListValueMust(types.ListType{ElemType: types.StringType}, waves)
}

// releaseID is the import ID of the services: name=ARN,… in name order.
func releaseID(services map[string]serviceModel) (string, bool) {
	var parts []string
	for _, n := range sortedNames(services) {
		s := services[n]
		if !s.refKnown() {
			return "", false
		}
		parts = append(parts, n+"="+s.ref().ID())
	}
	return strings.Join(parts, ","), true
}

// ModifyPlan fills in planned_waves, each service's percentages and
// schedule, and which services the apply will move, so the reviewer sees
// the whole release before anything does.
func (r *releaseResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return
	}
	var plan releaseModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var state *releaseModel
	if !req.State.Raw.IsNull() {
		state = &releaseModel{}
		resp.Diagnostics.Append(req.State.Get(ctx, state)...)
		if resp.Diagnostics.HasError() {
			return
		}
	}
	services, known, d := servicesOf(ctx, plan.Services)
	resp.Diagnostics.Append(d...)
	if !known {
		plan.PlannedWaves = types.ListUnknown(types.ListType{ElemType: types.StringType})
		plan.LastRelease = types.ObjectUnknown(lastReleaseAttrTypes)
		plan.ID = types.StringUnknown()
		resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
		return
	}
	var prior map[string]serviceModel
	if state != nil {
		prior, _, _ = servicesOf(ctx, state.Services)
	}
	if id, ok := releaseID(services); ok {
		plan.ID = types.StringValue(id)
	} else {
		plan.ID = types.StringUnknown()
	}
	var scratch diag.Diagnostics
	gp, ok := releaseGraph(ctx, services, plan.Dependencies, &scratch, false)
	if ok {
		plan.PlannedWaves = plannedWavesValue(gp)
	} else {
		plan.PlannedWaves = types.ListUnknown(types.ListType{ElemType: types.StringType})
	}
	moves := false
	waits := map[string]time.Duration{}
	allKnown := true
	for _, name := range sortedNames(services) {
		old, had := prior[name]
		svc, sp, ok := r.planService(ctx, name, services[name], old, had, &resp.Diagnostics)
		if !ok {
			return
		}
		services[name] = svc
		moves = moves || sp.moves
		allKnown = allKnown && sp.known
		if sp.moves && sp.known {
			waits[name] = sp.wait
		}
	}
	if moves {
		plan.LastRelease = types.ObjectUnknown(lastReleaseAttrTypes)
	} else if state != nil {
		plan.LastRelease = state.LastRelease
	} else {
		plan.LastRelease = types.ObjectNull(lastReleaseAttrTypes)
	}
	v, d := servicesValue(ctx, services)
	resp.Diagnostics.Append(d...)
	plan.Services = v
	if ok && allKnown && moves {
		total, what := releaseWaits(ctx, gp, plan, waits)
		checkTimeoutTotal(ctx, plan.Timeouts, pipeline.Operation(state == nil), total, what, &resp.Diagnostics)
	}
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
}

// servicePlan is what the plan of one service of a release found.
type servicePlan struct {
	// moves: its weights change; known: its planned_steps are known.
	moves, known bool
	// wait is how long its pauses and gates keep it waiting.
	wait time.Duration
}

// planService plans one service (s; old is its prior state when had):
// its percentages, its reach, and, when its weights change, its schedule.
// ok is false when the plan must stop (a refusal was reported).
func (r *releaseResource) planService(ctx context.Context, name string, s, old serviceModel, had bool, diags *diag.Diagnostics) (serviceModel, servicePlan, bool) {
	to, toKnown, _ := splitFromList(ctx, s.TargetGroups)
	if toKnown {
		s.Percentages = percentagesValue(to)
	} else {
		s.Percentages = types.MapUnknown(types.Float64Type)
	}
	had = had && s.refKnown() && old.ref() == s.ref()
	if s.refKnown() {
		priorCtl := types.ObjectNull(controlledByAttr().GetType().(types.ObjectType).AttrTypes)
		if had {
			priorCtl = old.ControlledBy
		}
		if !s.ControlledBy.Equal(priorCtl) {
			pipeline.CheckReach(ctx, r.client, controller(s.ControlledBy), s.ref(), tgARNs(ctx, s.TargetGroups), svcAt(name).Name("controlled_by"), reportTo(diags))
		}
	}
	var from weights.Split
	fromKnown := false
	if had {
		from, fromKnown, _ = splitFromList(ctx, old.TargetGroups)
		s.OwnerTag = old.OwnerTag
	} else {
		s.OwnerTag = types.StringUnknown()
		if s.refKnown() && r.client != nil {
			if live, err := pipeline.ReadSplit(ctx, listenerSubject{c: r.client, ref: s.ref()}); err == nil {
				from, fromKnown = live, true
			}
		}
	}
	if had && toKnown && fromKnown && from.Equal(to) {
		s.PlannedSteps, s.LastRollout, s.Status, s.Reason = old.PlannedSteps, old.LastRollout, old.Status, old.Reason
		return s, servicePlan{known: true}, true
	}
	if s.OwnerTag.IsNull() {
		// Imported: the apply takes a lease of its own.
		s.OwnerTag = types.StringUnknown()
	}
	s.LastRollout = types.ObjectUnknown(lastRolloutAttrTypes)
	s.Status, s.Reason = types.StringUnknown(), types.StringUnknown()
	st, stKnown, d := strategyFrom(ctx, s.Rollout)
	diags.Append(d...)
	if !toKnown || !stKnown || !fromKnown || len(to.Problems()) > 0 || len(st.Problems()) > 0 {
		s.PlannedSteps = types.ListUnknown(plannedStepObjectType)
		return s, servicePlan{moves: true}, true
	}
	if !pipeline.RefuseWhileForeign(ctx, r.client, controller(s.ControlledBy), svcAt(name).Name("target_groups"), reportTo(diags)) {
		return s, servicePlan{}, false
	}
	settings, _ := settingsFrom(ctx, s.Rollout)
	last := types.ObjectNull(lastRolloutAttrTypes)
	if had {
		last = old.LastRollout
	}
	steps, ok := pipeline.Plan(ctx, r.client, pipeline.Planned{At: svcAt(name).Name("target_groups"), Kind: fmt.Sprintf("listener of services[%q]", name), From: from, To: to,
		Strategy: st, Settings: settings, Last: recordOf(last)}, reportTo(diags))
	if !ok {
		return s, servicePlan{}, false
	}
	s.PlannedSteps = plannedStepsValue(steps)
	return s, servicePlan{moves: true, known: true, wait: rollout.TotalPause(steps) + pipeline.GateWaits(settings, steps)}, true
}

// releaseWaits is the longest the release's pauses and stabilizations keep
// it waiting: the sum over waves of each wave's longest service (waves and
// parallel, without a bound), or the sum of every service (sequential, or
// a bound of one).
func releaseWaits(ctx context.Context, p graph.Plan, m releaseModel, waits map[string]time.Duration) (time.Duration, string) {
	stab := stabilizationOf(ctx, m.Stabilization)
	needs := validated(ctx, m.Dependencies)
	each := func(n string) time.Duration {
		d := waits[n]
		if stab != nil && needs[n] {
			d += stab.Duration
		}
		return d
	}
	var total time.Duration
	one := m.Strategy.ValueString() == string(graph.Sequential) || m.MaxParallel.ValueInt64() == 1
	for _, w := range p.Waves {
		var longest time.Duration
		for _, n := range w {
			if one {
				total += each(n)
			} else {
				longest = max(longest, each(n))
			}
		}
		total += longest
	}
	return total, fmt.Sprintf("The release's %d waves pause and stabilize for %s in all (the longest service of each wave, added up)", len(p.Waves), total)
}

// rolloutObjectType is the type of a rollout block.
func rolloutObjectType() map[string]attr.Type {
	return rolloutResourceAttr().GetType().(types.ObjectType).AttrTypes
}
