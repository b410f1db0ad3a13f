package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/rolloutdev/terraform-provider-rollout/internal/awsclient"
	"github.com/rolloutdev/terraform-provider-rollout/internal/pipeline"
	"github.com/rolloutdev/terraform-provider-rollout/internal/problem"
	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

var (
	_ resource.Resource                   = (*lambdaAliasResource)(nil)
	_ resource.ResourceWithConfigure      = (*lambdaAliasResource)(nil)
	_ resource.ResourceWithImportState    = (*lambdaAliasResource)(nil)
	_ resource.ResourceWithValidateConfig = (*lambdaAliasResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*lambdaAliasResource)(nil)
)

// NewLambdaAliasResource builds rollout_lambda_alias.
func NewLambdaAliasResource() resource.Resource { return &lambdaAliasResource{} }

type lambdaAliasResource struct{ client *awsclient.Client }

type lambdaAliasModel struct {
	ID             types.String   `tfsdk:"id"`
	FunctionName   types.String   `tfsdk:"function_name"`
	AliasName      types.String   `tfsdk:"alias_name"`
	Version        types.String   `tfsdk:"version"`
	Description    types.String   `tfsdk:"description"`
	OnDestroy      types.String   `tfsdk:"on_destroy"`
	AliasARN       types.String   `tfsdk:"alias_arn"`
	CurrentVersion types.String   `tfsdk:"current_version"`
	Routing        types.Map      `tfsdk:"routing"`
	Percentages    types.Map      `tfsdk:"percentages"`
	Replaced       types.String   `tfsdk:"replaced_alias"`
	Rollout        types.Object   `tfsdk:"rollout"`
	PlannedSteps   types.List     `tfsdk:"planned_steps"`
	LastRollout    types.Object   `tfsdk:"last_rollout"`
	Timeouts       timeouts.Value `tfsdk:"timeouts"`
	Adopt          types.Bool     `tfsdk:"adopt"`
	OwnerTag       types.String   `tfsdk:"owner_tag"`
}

func (m lambdaAliasModel) ref() awsclient.AliasRef {
	return awsclient.AliasRef{Function: m.FunctionName.ValueString(), Alias: m.AliasName.ValueString()}
}

// replacedAlias is what an alias served before this resource took it over
// (Created when this resource created it), for on_destroy = "restore".
type replacedAlias struct {
	Created bool               `json:"created"`
	Version string             `json:"version,omitempty"`
	Routing map[string]float64 `json:"routing,omitempty"`
}

var (
	functionNameRE = regexp.MustCompile(`^(arn:aws[a-zA-Z-]*:lambda:[a-z]{2}(-[a-z]+)+-\d:\d{12}:function:|\d{12}:function:)?[a-zA-Z0-9_-]{1,64}$`)
	aliasNameRE    = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,128}$`)
	allDigitsRE    = regexp.MustCompile(`^[0-9]+$`)
	versionRE      = regexp.MustCompile(`^[1-9][0-9]{0,9}$`)
)

var aliasStepAttrTypes = map[string]attr.Type{
	"step":     types.Int64Type,
	"percent":  types.Int64Type,
	"pause":    types.StringType,
	"versions": types.MapType{ElemType: types.Float64Type},
}
var aliasStepObjectType = types.ObjectType{AttrTypes: aliasStepAttrTypes}

func (r *lambdaAliasResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_lambda_alias"
}

func (r *lambdaAliasResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	computed := func(d string) schema.StringAttribute {
		return schema.StringAttribute{Computed: true, MarkdownDescription: d}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Owns the routing of one Lambda alias and moves it from the version it serves to `version`: all at once, or as a canary or linear rollout " +
			"(CodeDeploy's presets included) with alarm, metrics and hook gates and an automatic rollback. Creates the alias when it does not exist, and otherwise takes it over. " +
			"`planned_steps` shows the schedule in the plan.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed: true, MarkdownDescription: "`FUNCTION:ALIAS`, the import id.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"function_name": schema.StringAttribute{
				Required: true,
				MarkdownDescription: "The function: its name (`orders`), partial ARN (`123456789012:function:orders`) or ARN, without a version or alias qualifier. " +
					"A name is 1 to 64 of `a-z A-Z 0-9 - _`.",
				Validators:    []validator.String{stringvalidator.RegexMatches(functionNameRE, "must be a function name (1 to 64 of a-z A-Z 0-9 - _), a partial ARN ACCOUNT:function:NAME or an ARN arn:aws:lambda:REGION:ACCOUNT:function:NAME, without a qualifier")},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"alias_name": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "The alias, 1 to 128 of `a-z A-Z 0-9 - _`, not all digits (that would be a version).",
				Validators:          []validator.String{aliasName{}},
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"version": schema.StringAttribute{
				Required: true,
				MarkdownDescription: "The published version the alias serves at the end of the change: a positive integer, such as `aws_lambda_function.x.version` with `publish = true`. " +
					"`$LATEST` is refused, as AWS refuses it in routing.",
				Validators: []validator.String{functionVersion{}},
			},
			"description": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "The alias's description, at most 256 characters.",
				Validators:          []validator.String{stringvalidator.LengthAtMost(256)},
			},
			"on_destroy": schema.StringAttribute{
				Optional: true, Computed: true, Default: stringdefault.StaticString(onDestroyKeep),
				MarkdownDescription: "What destroy does: `keep` leaves the alias serving what it serves (the default), `restore` puts back the version and routing it had before " +
					"this resource took it over, or deletes it when this resource created it. A resource whose last change did not succeed never restores.",
				Validators: []validator.String{stringvalidator.OneOf(onDestroyKeep, onDestroyRestore)},
			},
			"alias_arn":       computed("The alias's ARN."),
			"current_version": computed("The alias's primary version, as AWS stores it (`FunctionVersion`)."),
			"routing": schema.MapAttribute{
				ElementType: types.Float64Type, Computed: true,
				MarkdownDescription: "The additional version and its weight from 0 to 1, as AWS stores it (`RoutingConfig.AdditionalVersionWeights`); empty when the alias serves one version.",
			},
			"percentages": schema.MapAttribute{
				ElementType: types.Float64Type, Computed: true,
				MarkdownDescription: "Share of invocations per version, in percent. Steps write weights in thousandths, so a share is kept to 0.1 % (AWS keeps the weight as a number from 0 to 1).",
			},
			"replaced_alias": computed("JSON of what the alias served before this resource took it over (`created` when this resource created it); `on_destroy = \"restore\"` uses it. Null after import."),
			"rollout":        rolloutResourceAttr(),
			"planned_steps": schema.ListNestedAttribute{
				Computed:            true,
				MarkdownDescription: "The schedule of the change this plan makes: each step's share per version, in percent, and its pause. Empty when the alias is created.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"step":     schema.Int64Attribute{Computed: true, MarkdownDescription: "Step number, from 1."},
					"percent":  schema.Int64Attribute{Computed: true, MarkdownDescription: "How far along the shift the step goes, in percent."},
					"pause":    schema.StringAttribute{Computed: true, MarkdownDescription: "Bake time after the step."},
					"versions": schema.MapAttribute{ElementType: types.Float64Type, Computed: true, MarkdownDescription: "Share of invocations per version at this step, in percent."},
				}},
			},
			"last_rollout": lastRolloutAttr(),
			"adopt":        adoptAttr(),
			"owner_tag":    ownerAttr(),
			"timeouts": timeouts.Attributes(ctx, timeouts.Opts{
				Create: true, Update: true,
				CreateDescription: "How long a create may take, rollout included. Default `60m`.",
				UpdateDescription: "How long an update may take, rollout included. Default `60m`.",
			}),
		},
	}
}

// aliasName checks an alias name: AWS refuses one of digits only, which
// would read as a version.
type aliasName struct{}

func (aliasName) Description(context.Context) string {
	return "1 to 128 of a-z A-Z 0-9 - _, not all digits"
}
func (v aliasName) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }
func (aliasName) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	s := req.ConfigValue.ValueString()
	switch {
	case !aliasNameRE.MatchString(s):
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid Alias Name", pipeline.Detail(nil, fmt.Sprintf("alias_name is %q, which is not 1 to 128 of the characters a-z A-Z 0-9 - _.", s), "Choose a name such as \"live\" or \"prod-canary\"."))
	case allDigitsRE.MatchString(s):
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid Alias Name", pipeline.Detail(nil, fmt.Sprintf("alias_name is %q, all digits: Lambda reads that as a version number.", s), "Use a name with at least one letter, - or _, such as \"live\"."))
	}
}

// functionVersion checks a published version: a positive integer. $LATEST
// gets its own message because it is the common mistake.
type functionVersion struct{}

func (functionVersion) Description(context.Context) string {
	return "a published version: a positive integer"
}
func (v functionVersion) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }
func (functionVersion) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	s := req.ConfigValue.ValueString()
	switch {
	case s == "$LATEST":
		resp.Diagnostics.AddAttributeError(req.Path, "Unpublished Version", pipeline.Detail(nil,
			"version is \"$LATEST\": an alias that shifts traffic routes between published versions, and AWS refuses $LATEST in routing.",
			"Publish the function (publish = true on aws_lambda_function) and use its version attribute."))
	case !versionRE.MatchString(s):
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid Function Version", pipeline.Detail(nil,
			fmt.Sprintf("version is %q, which is not a published version number.", s),
			"Give a positive integer such as \"3\", for example aws_lambda_function.x.version."))
	}
}

func (r *lambdaAliasResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.client = clientFrom(req.ProviderData, &resp.Diagnostics)
}

func (r *lambdaAliasResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m lambdaAliasModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	checkRollout(ctx, m.Rollout, path.Root("rollout"), &resp.Diagnostics)
	refuseKillSwitch(ctx, m.Rollout, path.Root("rollout"), &resp.Diagnostics)
	if knownObject(ctx, m.Rollout, "health") {
		resp.Diagnostics.AddAttributeError(path.Root("rollout").AtName("gates").AtName("health"), "No Health Gate For Functions", pipeline.Detail(nil,
			"rollout.gates.health is set, but a Lambda function has no targets to count.",
			"Remove health; gate the alias with alarms, metrics (Errors, Invocations and Duration of the new version) and hooks."))
	}
}

// aliasSplit is the split an alias serves at the end: version alone.
func aliasSplit(version string) weights.Split { return weights.Split{{ARN: version, Weight: 1}} }

// splitOfAliasState is the split the state says the alias serves.
func splitOfAliasState(ctx context.Context, m lambdaAliasModel) weights.Split {
	a := awsclient.Alias{Version: m.CurrentVersion.ValueString(), Additional: map[string]float64{}}
	if !m.Routing.IsNull() && !m.Routing.IsUnknown() {
		_ = m.Routing.ElementsAs(ctx, &a.Additional, false)
	}
	return a.Split()
}

func (r *lambdaAliasResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return
	}
	var plan lambdaAliasModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	set := func(name string, v attr.Value) {
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root(name), v)...)
	}
	if plan.Version.IsUnknown() {
		set("planned_steps", types.ListUnknown(aliasStepObjectType))
		return
	}
	to := aliasSplit(plan.Version.ValueString())
	var from weights.Split
	fromKnown := true
	last := types.ObjectNull(lastRolloutAttrTypes)
	if !req.State.Raw.IsNull() {
		var state lambdaAliasModel
		resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
		from = splitOfAliasState(ctx, state)
		pipeline.CheckPromote(nil, recordOf(state.LastRollout), settingsOf(ctx, state.Rollout), settingsOf(ctx, plan.Rollout), !weights.SameShares(from, to), reportTo(&resp.Diagnostics))
		if weights.SameShares(from, to) {
			r.planSameVersion(ctx, req, resp, plan, state, to, set)
			return
		}
		last = state.LastRollout
	} else if r.client != nil && !plan.FunctionName.IsUnknown() && !plan.AliasName.IsUnknown() {
		a, err := r.client.ReadAlias(ctx, plan.ref())
		switch {
		case errors.Is(err, awsclient.ErrNotFound):
			// Created at version: nothing to shift.
			set("planned_steps", aliasStepsValue(nil))
			set("current_version", plan.Version)
			set("routing", types.MapValueMust(types.Float64Type, map[string]attr.Value{}))
			set("percentages", percentagesValue(to))
			return
		case err != nil:
			fromKnown = false
		default:
			from = a.Split()
		}
	} else {
		fromKnown = false
	}
	set("current_version", plan.Version)
	set("routing", types.MapValueMust(types.Float64Type, map[string]attr.Value{}))
	set("percentages", percentagesValue(to))
	set("last_rollout", types.ObjectUnknown(lastRolloutAttrTypes))
	r.planSchedule(ctx, req, resp, plan, from, fromKnown, to, last, set)
}

// planSameVersion is the plan of a change that keeps what the alias
// serves (to): what it reads stays as in state, and so do the last schedule
// and record, unless a held rollout is promoted or times out
// (pipeline.PlanHeldSame) or a running one is read (pipeline.PlanRunningSame).
func (r *lambdaAliasResource) planSameVersion(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse, plan, state lambdaAliasModel, to weights.Split, set func(string, attr.Value)) {
	for name, v := range map[string]attr.Value{"current_version": state.CurrentVersion, "routing": state.Routing, "percentages": state.Percentages, "alias_arn": state.AliasARN} {
		set(name, v)
	}
	if h, held := pipeline.HeldOf(recordOf(state.LastRollout)); held {
		steps, acts, ok := pipeline.PlanHeldSame(ctx, r.client, r.subject(plan), h, settingsOf(ctx, plan.Rollout), to, lookedAt(ctx, req.Private), reportTo(&resp.Diagnostics))
		if ok {
			keepOrAct(ctx, req.State, resp, aliasStepsValue(steps), acts, state.LastRollout)
		}
		return
	}
	set("planned_steps", state.PlannedSteps)
	set("last_rollout", recordValue(pipeline.PlanRunningSame(ctx, r.client, r.subjectIfKnown(plan), recordOf(state.LastRollout), settingsOf(ctx, plan.Rollout), reportTo(&resp.Diagnostics))))
}

// planSchedule plans the move from what the alias serves (from, when
// fromKnown) to version's split (to): planned_steps, refused when AWS could
// not write one of its steps, and the timeout that must hold them.
func (r *lambdaAliasResource) planSchedule(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse, plan lambdaAliasModel, from weights.Split, fromKnown bool, to weights.Split, last types.Object, set func(string, attr.Value)) {
	st, known, d := strategyFrom(ctx, plan.Rollout)
	resp.Diagnostics.Append(d...)
	if !known || !fromKnown || len(st.Problems()) > 0 {
		set("planned_steps", types.ListUnknown(aliasStepObjectType))
		return
	}
	settings, _ := settingsFrom(ctx, plan.Rollout)
	steps, ok := pipeline.Plan(ctx, r.client, pipeline.Planned{At: problem.At("version"), Kind: "alias", From: from, To: to, Strategy: st, Settings: settings, Last: recordOf(last), Subj: r.subjectIfKnown(plan)}, reportTo(&resp.Diagnostics))
	if !ok {
		return
	}
	if why := aliasScheduleProblem(from, steps); why != "" {
		resp.Diagnostics.AddAttributeError(path.Root("version"), "Schedule Not Possible", pipeline.Detail(nil,
			fmt.Sprintf("The alias serves %s now and this plan wants version %s, but %s.", from.Short(), plan.Version.ValueString(), why),
			"Move it all at once (rollout = { strategy = \"all_at_once\" }), or first finish or undo the routing it has (a change to one published version), then roll out from there."))
		return
	}
	set("planned_steps", aliasStepsValue(steps))
	checkScheduleTimeout(ctx, plan.Timeouts, pipeline.Operation(req.State.Raw.IsNull()), steps, plan.Rollout, &resp.Diagnostics)
}

// subjectIfKnown is the alias's subject when the plan names its function
// and alias and a client is configured; nil otherwise (nothing is read).
func (r *lambdaAliasResource) subjectIfKnown(plan lambdaAliasModel) pipeline.Subject {
	if r.client == nil || plan.FunctionName.IsUnknown() || plan.AliasName.IsUnknown() {
		return nil
	}
	return r.subject(plan)
}

// aliasScheduleProblem says why AWS could not write a schedule on an
// alias: a step that routes to more than two versions (the alias already
// routes to two, and the change adds a third), or routing while the alias
// serves $LATEST, which AWS refuses in routing. "" when it can.
func aliasScheduleProblem(from weights.Split, steps []rollout.PlannedStep) string {
	for _, st := range steps[:max(len(steps)-1, 0)] {
		serving := 0
		for _, t := range st.Weights {
			if t.Weight > 0 {
				serving++
				if t.ARN == "$LATEST" {
					return "it serves $LATEST, which AWS does not allow in routing: a canary needs a published version on both sides"
				}
			}
		}
		if serving > 2 {
			return fmt.Sprintf("a step would route to %d versions, and an alias routes to at most two", serving)
		}
	}
	return ""
}

func aliasStepsValue(steps []rollout.PlannedStep) types.List {
	elems := make([]attr.Value, 0, len(steps))
	for i, s := range steps {
		elems = append(elems, types.ObjectValueMust(aliasStepAttrTypes, map[string]attr.Value{
			"step": types.Int64Value(int64(i + 1)), "percent": types.Int64Value(int64(s.Percent)),
			"pause": types.StringValue(pipeline.PauseText(s)), "versions": percentagesValue(s.Weights),
		}))
	}
	return types.ListValueMust(aliasStepObjectType, elems)
}

// subject is the alias as the traffic pipeline sees it.
func (r *lambdaAliasResource) subject(m lambdaAliasModel) aliasSubject {
	return aliasSubject{c: r.client, ref: m.ref()}
}

func (r *lambdaAliasResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan lambdaAliasModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() || r.client == nil {
		return
	}
	ref := plan.ref()
	plan.ID = types.StringValue(ref.ID())
	subj := r.subject(plan)
	cur, err := r.client.ReadAlias(ctx, ref)
	if err != nil && !errors.Is(err, awsclient.ErrNotFound) {
		subj.ReadError(reportTo(&resp.Diagnostics), err)
		return
	}
	if errors.Is(err, awsclient.ErrNotFound) {
		// The lease lives on the function, so it is claimed before the
		// alias exists.
		l, ok := pipeline.Claim(ctx, nil, subj, aliasType, "", plan.Adopt.ValueBool(), aliasSplit(plan.Version.ValueString()), attemptOf(ctx, plan.Rollout), reportTo(&resp.Diagnostics))
		if !ok {
			return
		}
		plan.OwnerTag = types.StringValue(l.Token)
		rec := replacedAlias{Created: true}
		a, err := r.client.CreateAlias(ctx, ref, plan.Version.ValueString(), plan.Description.ValueString())
		if err != nil {
			// The SDK retries a create whose answer was lost, and the retry
			// finds the alias the first try made: an alias serving exactly
			// this version, under this resource's lease, is that one. It is
			// kept as taken over (destroy never deletes it), not as created.
			got, rerr := r.client.ReadAlias(ctx, ref)
			if rerr != nil || !got.Split().Equal(aliasSplit(plan.Version.ValueString())) || (!awsclient.LostAnswer(err) && !awsclient.AlreadyExists(err)) {
				subj.WriteError(reportTo(&resp.Diagnostics), err)
				pipeline.GiveBack(ctx, subj, l, reportTo(&resp.Diagnostics))
				return
			}
			tflog.Warn(ctx, "the alias create got no answer but the alias exists at the version: keeping it", map[string]any{"alias": ref.ID(), "error": err.Error()})
			a, rec = got, replacedAlias{Version: got.Version}
		}
		tflog.Info(ctx, "created alias", map[string]any{"alias": ref.ID(), "version": a.Version})
		b, _ := json.Marshal(rec)
		plan.Replaced = types.StringValue(string(b))
		now := r.client.Clock.Now()
		plan.LastRollout = recordValue(pipeline.NewRecord(rollout.Result{Status: rollout.Succeeded, Current: a.Split(), Started: now, Finished: now}, a.Split(), attemptOf(ctx, plan.Rollout)))
		plan.PlannedSteps = aliasStepsValue(nil)
		r.record(&plan, a)
		resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
		return
	}
	b, _ := json.Marshal(replacedAlias{Version: cur.Version, Routing: cur.Additional})
	plan.Replaced = types.StringValue(string(b))
	limit, d := plan.Timeouts.Create(ctx, defaultApplyTimeout)
	resp.Diagnostics.Append(d...)
	tflog.Info(ctx, "taking over alias", map[string]any{"alias": ref.ID(), "from": cur.Split().Short(), "to": plan.Version.ValueString()})
	if !r.shift(ctx, &plan, cur.Split(), types.ObjectNull(lastRolloutAttrTypes), "", pipeline.AlreadyRead, limit, &resp.Diagnostics) {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *lambdaAliasResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state lambdaAliasModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() || r.client == nil {
		return
	}
	plan.ID, plan.Replaced, plan.AliasARN = state.ID, state.Replaced, state.AliasARN
	limit, d := plan.Timeouts.Update(ctx, defaultApplyTimeout)
	resp.Diagnostics.Append(d...)
	if !r.shift(ctx, &plan, splitOfAliasState(ctx, state), state.LastRollout, state.OwnerTag.ValueString(), pipeline.ReadsFirst, limit, &resp.Diagnostics) {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// shift moves the alias from `from` to plan.version through the traffic
// pipeline, sets the description, and records the outcome in m.
func (r *lambdaAliasResource) shift(ctx context.Context, m *lambdaAliasModel, from weights.Split, last types.Object, mine string, readFirst pipeline.FirstRead, limit time.Duration, diags *diag.Diagnostics) bool {
	settings, d := settingsFrom(ctx, m.Rollout)
	diags.Append(d...)
	if diags.HasError() {
		return false
	}
	if settings.Gates.Metrics != nil {
		settings.Gates.Metrics.ErrorsAre = "a function error"
	}
	to := aliasSplit(m.Version.ValueString())
	ch := pipeline.Change{From: from, To: to, Settings: settings, Planned: plannedOf(m.PlannedSteps, aliasStepsValue), Last: recordOf(last), ReadFirst: readFirst, Limit: limit, Acts: m.LastRollout.IsUnknown(),
		Owner: &pipeline.OwnerClaim{Base: nil, ResourceType: aliasType, Mine: mine, Adopt: m.Adopt.ValueBool()}}
	s := r.subject(*m)
	out := pipeline.Run(ctx, r.client, s, ch, reportTo(diags))
	m.OwnerTag = types.StringValue(out.Lease.Token)
	if !out.Moved && diags.HasError() {
		pipeline.GiveBack(ctx, s, out.Lease, reportTo(diags))
		return false
	}
	if out.Moved {
		m.PlannedSteps = aliasStepsValue(out.Steps)
		m.LastRollout = recordValue(pipeline.RecordOutcome(ch, out))
	} else {
		if m.PlannedSteps.IsUnknown() {
			m.PlannedSteps = aliasStepsValue(nil)
		}
		if m.LastRollout.IsUnknown() {
			m.LastRollout = types.ObjectNull(lastRolloutAttrTypes)
		}
	}
	ref := m.ref()
	a, err := r.client.ReadAlias(ctx, ref)
	if err != nil {
		s.ReadError(reportTo(diags), err)
		return out.Moved
	}
	if want := m.Description.ValueString(); !m.Description.IsNull() && a.Description != want {
		if err := r.client.SetAliasDescription(ctx, ref, want); err != nil {
			s.WriteError(reportTo(diags), err)
		} else {
			a.Description = want
		}
	}
	if pipeline.KeepsTarget(recordOf(m.LastRollout)) || out.Moved && out.Res.Status == rollout.Succeeded {
		// (a run that succeeded reached the target: a change made since,
		// by hand, is drift for the next plan)
		r.recordTarget(m, a)
	} else {
		r.record(m, a)
	}
	return true
}

// recordTarget records, while a detached rollout runs, where it takes the
// alias: the versions it serves on the way are the rollout's steps
// (last_rollout.serving), not a change made outside Terraform.
func (r *lambdaAliasResource) recordTarget(m *lambdaAliasModel, a awsclient.Alias) {
	m.AliasARN = types.StringValue(a.ARN)
	m.CurrentVersion = m.Version
	m.Routing = types.MapValueMust(types.Float64Type, map[string]attr.Value{})
	m.Percentages = percentagesValue(aliasSplit(m.Version.ValueString()))
}

// record puts what AWS says of the alias into m. A version that the alias
// does not serve alone after a failed change is shown as the primary
// version, so the next plan shows the change again.
func (r *lambdaAliasResource) record(m *lambdaAliasModel, a awsclient.Alias) {
	m.AliasARN = types.StringValue(a.ARN)
	m.CurrentVersion = types.StringValue(a.Version)
	routing := map[string]attr.Value{}
	for v, w := range a.Additional {
		if w > 0 {
			routing[v] = types.Float64Value(w)
		}
	}
	m.Routing = types.MapValueMust(types.Float64Type, routing)
	m.Percentages = percentagesValue(a.Split())
	if len(routing) > 0 || a.Version != m.Version.ValueString() {
		m.Version = types.StringValue(a.Version)
	}
}

func (r *lambdaAliasResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state lambdaAliasModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() || r.client == nil {
		return
	}
	a, err := r.client.ReadAlias(ctx, state.ref())
	if errors.Is(err, awsclient.ErrNotFound) {
		tflog.Warn(ctx, "alias no longer exists; removing from state", map[string]any{"alias": state.ref().ID()})
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		r.subject(state).ReadError(reportTo(&resp.Diagnostics), err)
		return
	}
	state.ID = types.StringValue(state.ref().ID())
	last, running := pipeline.RefreshDetached(ctx, r.client, r.subject(state), recordOf(state.LastRollout), reportTo(&resp.Diagnostics))
	state.LastRollout = recordValue(last)
	markLooked(ctx, r.client, last, resp.Private, &resp.Diagnostics)
	if running {
		r.recordTarget(&state, a)
	} else {
		r.record(&state, a)
	}
	if !state.Description.IsNull() {
		// Managed only when the configuration sets it.
		state.Description = types.StringValue(a.Description)
	}
	if state.OnDestroy.IsNull() {
		state.OnDestroy = types.StringValue(onDestroyKeep)
	}
	if state.PlannedSteps.IsNull() {
		state.PlannedSteps = aliasStepsValue(nil)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *lambdaAliasResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state lambdaAliasModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() || r.client == nil {
		return
	}
	ref := state.ref()
	subj := r.subject(state)
	if pipeline.EndOnDestroy(ctx, r.client, subj, recordOf(state.LastRollout), settingsOf(ctx, state.Rollout), state.OwnerTag.ValueString(), reportTo(&resp.Diagnostics)); resp.Diagnostics.HasError() {
		return
	}
	defer pipeline.ReleaseLease(ctx, subj, state.OwnerTag.ValueString(), recordOf(state.LastRollout), reportTo(&resp.Diagnostics))
	if state.OnDestroy.ValueString() != onDestroyRestore {
		return
	}
	if owner, ok := pipeline.StillOwned(ctx, subj, state.OwnerTag.ValueString(), reportTo(&resp.Diagnostics)); !ok {
		if owner != "" {
			notOwnedOnDestroy(&resp.Diagnostics, subj, owner, "put back what the alias served before")
		}
		return
	}
	if st := recordOf(state.LastRollout).Status; st != "" && st != string(rollout.Succeeded) {
		resp.Diagnostics.AddWarning("Alias Not Restored", pipeline.Detail(nil,
			fmt.Sprintf("The last change of this resource ended %s, so destroy leaves %s as it is rather than move all its invocations back at once with no gates.", st, ref.ID()),
			"Set the alias yourself if it must change."))
		return
	}
	var rec replacedAlias
	if state.Replaced.IsNull() || json.Unmarshal([]byte(state.Replaced.ValueString()), &rec) != nil {
		resp.Diagnostics.AddWarning("Nothing To Restore", pipeline.Detail(nil, fmt.Sprintf("on_destroy is \"restore\" but this resource has no record of what %s served before (it was imported).", ref.ID()),
			"The alias was left as it is."))
		return
	}
	recorded := splitOfAliasState(ctx, state)
	if rec.Created {
		// Deleted only when it still serves what this resource left: an
		// alias someone else has moved since is theirs now.
		live, err := pipeline.ReadSplit(ctx, r.subject(state))
		switch {
		case errors.Is(err, awsclient.ErrNotFound):
			return
		case err != nil:
			r.subject(state).ReadError(reportTo(&resp.Diagnostics), err)
			return
		case !live.Equal(recorded):
			pipeline.NotRestored(reportTo(&resp.Diagnostics), r.subject(state), recorded, live)
			return
		}
		if err := r.client.DeleteAlias(ctx, ref); err != nil {
			r.subject(state).WriteError(reportTo(&resp.Diagnostics), err)
		}
		return
	}
	back := awsclient.Alias{Version: rec.Version, Additional: rec.Routing}
	pipeline.RestoreSubject(ctx, r.client, r.subject(state), recorded, back.Split(), reportTo(&resp.Diagnostics))
}

func (r *lambdaAliasResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	i := strings.LastIndex(req.ID, ":")
	fn, alias := "", ""
	if i > 0 {
		fn, alias = req.ID[:i], req.ID[i+1:]
	}
	if !functionNameRE.MatchString(fn) || !aliasNameRE.MatchString(alias) || allDigitsRE.MatchString(alias) {
		resp.Diagnostics.AddError("Invalid Import ID", pipeline.Detail(nil,
			fmt.Sprintf("%q is not FUNCTION:ALIAS.", req.ID),
			"Import with the function's name or ARN and the alias name, joined by a colon: orders:live, or arn:aws:lambda:eu-west-1:123456789012:function:orders:live."))
		return
	}
	set := func(name string, v any) { resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root(name), v)...) }
	set("id", req.ID)
	set("function_name", fn)
	set("alias_name", alias)
	set("on_destroy", onDestroyKeep)
	if r.client == nil {
		return
	}
	// The description is managed when the alias has one.
	a, err := r.client.ReadAlias(ctx, awsclient.AliasRef{Function: fn, Alias: alias})
	if err != nil {
		aliasSubject{c: r.client, ref: awsclient.AliasRef{Function: fn, Alias: alias}}.ReadError(reportTo(&resp.Diagnostics), err)
		return
	}
	if a.Description != "" {
		set("description", a.Description)
	}
	importOwner(ctx, aliasSubject{c: r.client, ref: awsclient.AliasRef{Function: fn, Alias: alias}}, resp)
}

// aliasType is the resource type in owner tags.
const aliasType = "rollout_lambda_alias"
