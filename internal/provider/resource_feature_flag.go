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
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"

	"github.com/rolloutdev/terraform-provider-rollout/flag"
	"github.com/rolloutdev/terraform-provider-rollout/internal/awsclient"
	"github.com/rolloutdev/terraform-provider-rollout/internal/pipeline"
	"github.com/rolloutdev/terraform-provider-rollout/internal/problem"
	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

var (
	_ resource.Resource                   = (*featureFlagResource)(nil)
	_ resource.ResourceWithConfigure      = (*featureFlagResource)(nil)
	_ resource.ResourceWithImportState    = (*featureFlagResource)(nil)
	_ resource.ResourceWithValidateConfig = (*featureFlagResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*featureFlagResource)(nil)
)

// NewFeatureFlagResource builds rollout_feature_flag.
func NewFeatureFlagResource() resource.Resource { return &featureFlagResource{} }

type featureFlagResource struct{ client *awsclient.Client }

// DefaultFlagPrefix is where flags live in Parameter Store unless
// path_prefix says otherwise.
const DefaultFlagPrefix = awsclient.DefaultFlagPrefix

// flagModel is a flag as the resource and the data source show it: where
// it lives and what its document says.
type flagModel struct {
	ID                types.String `tfsdk:"id"`
	Key               types.String `tfsdk:"key"`
	PathPrefix        types.String `tfsdk:"path_prefix"`
	Enabled           types.Bool   `tfsdk:"enabled"`
	RolloutPercentage types.Int64  `tfsdk:"rollout_percentage"`
	Targeting         types.Object `tfsdk:"targeting"`
	Environments      types.List   `tfsdk:"environments"`
	KillSwitch        types.Bool   `tfsdk:"kill_switch"`
	Description       types.String `tfsdk:"description"`
	Owner             types.String `tfsdk:"owner"`
	Ticket            types.String `tfsdk:"ticket"`
	ExpiresAt         types.String `tfsdk:"expires_at"`
	Dependencies      types.List   `tfsdk:"dependencies"`
	ParameterName     types.String `tfsdk:"parameter_name"`
	Document          types.String `tfsdk:"document"`
}

// featureFlagModel is the resource: the flag and how it is rolled out and
// owned.
type featureFlagModel struct {
	flagModel
	KillSwitchReason types.String   `tfsdk:"kill_switch_reason"`
	Rollout          types.Object   `tfsdk:"rollout"`
	PlannedSteps     types.List     `tfsdk:"planned_steps"`
	LastRollout      types.Object   `tfsdk:"last_rollout"`
	Timeouts         timeouts.Value `tfsdk:"timeouts"`
	Tier             types.String   `tfsdk:"tier"`
	Adopt            types.Bool     `tfsdk:"adopt"`
	OwnerTag         types.String   `tfsdk:"owner_tag"`
}

type targetingModel struct {
	IncludedUsers types.List `tfsdk:"included_users"`
	ExcludedUsers types.List `tfsdk:"excluded_users"`
	SegmentRules  types.List `tfsdk:"segment_rules"`
}

type ruleModel struct {
	Attribute types.String `tfsdk:"attribute"`
	Operator  types.String `tfsdk:"operator"`
	Value     types.String `tfsdk:"value"`
}

var ruleAttrTypes = map[string]attr.Type{"attribute": types.StringType, "operator": types.StringType, "value": types.StringType}
var targetingAttrTypes = map[string]attr.Type{
	"included_users": types.ListType{ElemType: types.StringType},
	"excluded_users": types.ListType{ElemType: types.StringType},
	"segment_rules":  types.ListType{ElemType: types.ObjectType{AttrTypes: ruleAttrTypes}},
}

var (
	flagKeyRE    = regexp.MustCompile(`^[a-z][a-z0-9._-]{0,127}$`)
	flagPrefixRE = regexp.MustCompile(`^/([a-zA-Z0-9_.-]+/)*$`)
)

func (r *featureFlagResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_feature_flag"
}

func (r *featureFlagResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	users := func(d string) schema.ListAttribute {
		return schema.ListAttribute{ElementType: types.StringType, Optional: true, MarkdownDescription: d,
			Validators: []validator.List{listvalidator.UniqueValues(), listvalidator.SizeAtMost(1000), listvalidator.ValueStringsAre(stringvalidator.LengthBetween(1, 256))}}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "A feature flag: a JSON document (`schema_version` 1) in SSM Parameter Store, one parameter per flag under `path_prefix`, that apps evaluate with the " +
			"provider's evaluator (Go package `github.com/rolloutdev/terraform-provider-rollout/flag`, or its JavaScript twin). Every write is read back; " +
			"a parameter edited by hand shows in the next plan. See the guide \"Releasing a feature with flags\" for the evaluation order.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true, MarkdownDescription: "The parameter name.", PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
			"key": schema.StringAttribute{
				Required: true, MarkdownDescription: "The flag's key, 1 to 128 of `a-z 0-9 . _ -` starting with a letter. Part of the bucket: changing it reshuffles users.",
				Validators:    []validator.String{stringvalidator.RegexMatches(flagKeyRE, "must be 1 to 128 of a-z 0-9 . _ - starting with a letter")},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"path_prefix": schema.StringAttribute{
				Optional: true, Computed: true, Default: stringdefault.StaticString(DefaultFlagPrefix),
				MarkdownDescription: "Where the flag's parameter lives: the parameter is `path_prefix` + `key`. Starts and ends with `/`. Default `" + DefaultFlagPrefix + "`.",
				Validators:          []validator.String{stringvalidator.RegexMatches(flagPrefixRE, "must start and end with / and hold path segments of a-z A-Z 0-9 _ . -"), stringvalidator.LengthAtMost(900)},
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"enabled": schema.BoolAttribute{
				Optional: true, Computed: true, Default: booldefault.StaticBool(true),
				MarkdownDescription: "Whether the flag can be on at all. `false` is off for everyone, whatever the percentage (a deliberate fix to the brief's model). Default true.",
			},
			"rollout_percentage": schema.Int64Attribute{
				Optional: true, Computed: true, Default: int64default.StaticInt64(0),
				MarkdownDescription: "Share of users, 0 to 100, for whom the flag is on, by bucket: on when the user's bucket (md5 of `key:user_id`, mod 100) is below it. Default 0 (deployed dark).",
				Validators:          []validator.Int64{int64validator.Between(0, 100)},
			},
			"targeting": schema.SingleNestedAttribute{
				Optional:            true,
				MarkdownDescription: "Users picked by id, and segments by attributes. Included users are on, then excluded users off; segment rules, when set, decide alone (on exactly when all match).",
				Attributes: map[string]schema.Attribute{
					"included_users": users("User ids for whom the flag is on (after the kill switch, enabled and environments)."),
					"excluded_users": users("User ids for whom the flag is off."),
					"segment_rules": schema.ListNestedAttribute{
						Optional:            true,
						MarkdownDescription: "Rules on the context's attributes, all of which must match, 1 to 20.",
						Validators:          []validator.List{listvalidator.SizeBetween(1, 20)},
						NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
							"attribute": schema.StringAttribute{Required: true, MarkdownDescription: "The context attribute, such as `plan`.", Validators: []validator.String{stringvalidator.LengthBetween(1, 128)}},
							"operator": schema.StringAttribute{Required: true,
								MarkdownDescription: "`equals`, `contains`, `starts_with`, `in` (value is a comma-separated list), `gt` or `lt` (both numbers; a non-number does not match).",
								Validators:          []validator.String{stringvalidator.OneOf(flag.Operators...)}},
							"value": schema.StringAttribute{Required: true, MarkdownDescription: "The value compared with.", Validators: []validator.String{stringvalidator.LengthAtMost(1024)}},
						}},
					},
				},
			},
			"environments": schema.ListAttribute{
				ElementType: types.StringType, Optional: true,
				MarkdownDescription: "Environments where the flag may be on; empty or unset means any. The app passes its environment in the context.",
				Validators:          []validator.List{listvalidator.UniqueValues(), listvalidator.SizeAtMost(50), listvalidator.ValueStringsAre(stringvalidator.LengthBetween(1, 64))},
			},
			"kill_switch": schema.BoolAttribute{
				Optional: true, Computed: true, Default: booldefault.StaticBool(false),
				MarkdownDescription: "When true the flag is off for everyone, before anything else is looked at. Default false.",
			},
			"description": schema.StringAttribute{Optional: true, MarkdownDescription: "What the flag does, at most 1024 characters.", Validators: []validator.String{stringvalidator.LengthAtMost(1024)}},
			"owner":       schema.StringAttribute{Optional: true, MarkdownDescription: "Who owns the flag (a team, an email), at most 256 characters.", Validators: []validator.String{stringvalidator.LengthAtMost(256)}},
			"ticket":      schema.StringAttribute{Optional: true, MarkdownDescription: "The ticket the flag belongs to, at most 256 characters.", Validators: []validator.String{stringvalidator.LengthAtMost(256)}},
			"expires_at": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "When the flag should be removed (RFC 3339). A date in the past is a plan warning (a stale flag), not an error.",
				Validators:          []validator.String{rfc3339{}},
			},
			"dependencies": schema.ListAttribute{
				ElementType: types.StringType, Optional: true,
				MarkdownDescription: "Keys of flags (under the same `path_prefix`) that must be on for this one to be on. Each must exist when this flag is written (reference the other " +
					"flag's `key` so it is created first), and dependencies never form a cycle: both are checked before anything is written.",
				Validators: []validator.List{listvalidator.UniqueValues(), listvalidator.SizeAtMost(20), listvalidator.ValueStringsAre(stringvalidator.RegexMatches(flagKeyRE, "must be a flag key"))},
			},
			"parameter_name": schema.StringAttribute{Computed: true, MarkdownDescription: "The SSM parameter that holds the document.", PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
			"document":       schema.StringAttribute{Computed: true, MarkdownDescription: "The flag document as written, JSON; known at plan time."},
			"kill_switch_reason": schema.StringAttribute{
				Computed: true,
				MarkdownDescription: "Who turned the kill switch on, when a rollback did (a traffic rollout's `feature_flag` rollback, or this flag's `kill_switch` rollback); empty otherwise. " +
					"Such a kill switch is not turned off by the next apply: the configuration must say `kill_switch = true` to accept it, or change `rollout.attempt` to switch the flag back on deliberately.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"rollout": flagRolloutAttr(),
			"planned_steps": schema.ListNestedAttribute{
				Computed:            true,
				MarkdownDescription: "The schedule of a change of `rollout_percentage` with a `rollout` block: each step's percentage of users and pause. Empty otherwise.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"step":       schema.Int64Attribute{Computed: true, MarkdownDescription: "Step number, from 1."},
					"percent":    schema.Int64Attribute{Computed: true, MarkdownDescription: "How far along the change the step goes, in percent."},
					"pause":      schema.StringAttribute{Computed: true, MarkdownDescription: "Bake time after the step."},
					"percentage": schema.Int64Attribute{Computed: true, MarkdownDescription: "The flag's rollout_percentage at this step."},
				}},
			},
			"last_rollout": lastRolloutAttr(),
			"tier": schema.StringAttribute{
				Optional: true, Computed: true, Default: stringdefault.StaticString(awsclient.TierStandard),
				MarkdownDescription: "The parameter's Parameter Store tier: `Standard` (the default: values up to 4 KB, no charge) or `Advanced` (up to 8 KB, charged per parameter). " +
					"The plan refuses a document that would not fit, with room kept for what a rollback adds (`kill_switch_reason`). Going back from `Advanced` to `Standard` replaces the flag, as AWS cannot downgrade a parameter.",
				Validators:    []validator.String{stringvalidator.OneOf(awsclient.TierStandard, awsclient.TierAdvanced)},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplaceIf(tierDowngrade, "Going from Advanced to Standard replaces the flag.", "Going from `Advanced` to `Standard` replaces the flag.")},
			},
			"adopt":     adoptAttr(),
			"owner_tag": ownerAttr(),
			"timeouts": timeouts.Attributes(ctx, timeouts.Opts{Update: true,
				UpdateDescription: "How long an update may take, rollout included. Default `60m`."}),
		},
	}
}

// flagRolloutAttr is the rollout block as a flag's: without a rollout block
// a change of rollout_percentage is written at once; with one (even empty)
// it ramps through the pipeline, by default flag_ramp (1, 5, 25, 50, 100 %
// of the way with 5, 10, 15 and 20 minutes of pause).
func flagRolloutAttr() schema.SingleNestedAttribute {
	a := rolloutResourceAttr()
	a.MarkdownDescription = "How a change of `rollout_percentage` is applied: without this block, at once; with it, in steps with pauses and gates (alarms and hooks), " +
		"by default `preset = \"flag_ramp\"` (1 → 5 → 25 → 50 → 100 % of the way, pausing 5, 10, 15 and 20 minutes), and rolled back on a failed gate: to the previous percentage " +
		"(`immediate`, `gradual`, `auto`) or by turning the kill switch on (`kill_switch`). A step's percentage of users is rounded to a whole percent."
	return a
}

// rfc3339 checks a time stamp; the framework has no such validator.
type rfc3339 struct{}

func (rfc3339) Description(context.Context) string {
	return "an RFC 3339 time, such as 2027-01-31T00:00:00Z"
}
func (v rfc3339) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }
func (rfc3339) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if _, err := time.Parse(time.RFC3339, req.ConfigValue.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid Time", pipeline.Detail(nil,
			fmt.Sprintf("%s is %q, which is not an RFC 3339 time.", req.Path, req.ConfigValue.ValueString()),
			"Write it as 2027-01-31T00:00:00Z (UTC) or with an offset, 2027-01-31T09:00:00+01:00."))
	}
}

// tierDowngrade replaces a flag going from Advanced to Standard: AWS cannot
// downgrade a parameter.
func tierDowngrade(_ context.Context, req planmodifier.StringRequest, resp *stringplanmodifier.RequiresReplaceIfFuncResponse) {
	resp.RequiresReplace = req.StateValue.ValueString() == awsclient.TierAdvanced && req.PlanValue.ValueString() == awsclient.TierStandard
}

// reservedName explains why Parameter Store refuses a parameter name: it
// may not begin with "aws" or "ssm" (case-insensitive), nor be more than 15
// levels deep. "" when it is allowed.
func reservedName(name string) string {
	first := strings.ToLower(strings.TrimPrefix(name, "/"))
	switch {
	case strings.HasPrefix(first, "aws") || strings.HasPrefix(first, "ssm"):
		return fmt.Sprintf("the parameter name %s begins with %q: Parameter Store reserves names beginning with \"aws\" and \"ssm\" (in any case)", name, first[:3])
	case strings.Count(strings.TrimPrefix(name, "/"), "/")+1 > 15:
		return fmt.Sprintf("the parameter name %s is %d levels deep; Parameter Store allows 15", name, strings.Count(strings.TrimPrefix(name, "/"), "/")+1)
	}
	return ""
}

func (r *featureFlagResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.client = clientFrom(req.ProviderData, &resp.Diagnostics)
}

func (r *featureFlagResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m featureFlagModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if !m.Key.IsUnknown() && !m.Dependencies.IsUnknown() {
		var deps []types.String
		resp.Diagnostics.Append(m.Dependencies.ElementsAs(ctx, &deps, false)...)
		for i, d := range deps {
			if !d.IsUnknown() && d.ValueString() == m.Key.ValueString() {
				resp.Diagnostics.AddAttributeError(path.Root("dependencies").AtListIndex(i), "Flag Depends On Itself", pipeline.Detail(nil,
					fmt.Sprintf("dependencies[%d] is %q, this flag's own key: %s → %s.", i, d.ValueString(), d.ValueString(), d.ValueString()),
					"Remove it; a flag's dependencies are other flags."))
			}
		}
	}
	checkFlagRollout(ctx, m.Rollout, &resp.Diagnostics)
	if !m.Key.IsUnknown() && !m.PathPrefix.IsUnknown() {
		prefix := m.PathPrefix.ValueString()
		if m.PathPrefix.IsNull() {
			prefix = DefaultFlagPrefix
		}
		if why := reservedName(prefix + m.Key.ValueString()); why != "" {
			at := path.Root("path_prefix")
			if prefix == "/" {
				at = path.Root("key")
			}
			resp.Diagnostics.AddAttributeError(at, "Reserved Parameter Name", pipeline.Detail(nil, "The flag would live in "+why+".",
				"Choose a path_prefix such as \"/rollout/flags/\" or \"/myteam/flags/\"."))
		}
	}
	if !m.Targeting.IsNull() && !m.Targeting.IsUnknown() {
		var t targetingModel
		resp.Diagnostics.Append(m.Targeting.As(ctx, &t, basetypes.ObjectAsOptions{})...)
		inc, exc := stringSet(ctx, t.IncludedUsers), stringSet(ctx, t.ExcludedUsers)
		for u := range inc {
			if exc[u] {
				resp.Diagnostics.AddAttributeError(path.Root("targeting").AtName("excluded_users"), "User Both Included And Excluded", pipeline.Detail(nil,
					fmt.Sprintf("%q is in targeting.included_users and in targeting.excluded_users; included wins, so the exclusion does nothing.", u),
					"Remove the user from one of the lists."))
			}
		}
	}
}

func stringSet(ctx context.Context, l types.List) map[string]bool {
	out := map[string]bool{}
	if l.IsNull() || l.IsUnknown() {
		return out
	}
	var ss []types.String
	_ = l.ElementsAs(ctx, &ss, false)
	for _, s := range ss {
		if !s.IsUnknown() {
			out[s.ValueString()] = true
		}
	}
	return out
}

func stringsOf(ctx context.Context, l types.List) []string {
	if l.IsNull() || l.IsUnknown() {
		return nil
	}
	var out []string
	_ = l.ElementsAs(ctx, &out, false)
	return out
}

// flagOf is the model as a flag document; known is false while any input
// is unknown.
func flagOf(ctx context.Context, m featureFlagModel) (*flag.Flag, bool) {
	for _, v := range []attr.Value{m.Key, m.Enabled, m.RolloutPercentage, m.Targeting, m.Environments, m.KillSwitch, m.Description, m.Owner, m.Ticket, m.ExpiresAt, m.Dependencies} {
		if v.IsUnknown() {
			return nil, false
		}
	}
	f := &flag.Flag{SchemaVersion: flag.SchemaVersion, Key: m.Key.ValueString(), Enabled: m.Enabled.ValueBool(), RolloutPercentage: int(m.RolloutPercentage.ValueInt64()),
		Environments: stringsOf(ctx, m.Environments), KillSwitch: m.KillSwitch.ValueBool(), Description: m.Description.ValueString(), Owner: m.Owner.ValueString(),
		Ticket: m.Ticket.ValueString(), ExpiresAt: m.ExpiresAt.ValueString(), Dependencies: stringsOf(ctx, m.Dependencies)}
	if f.KillSwitch && !m.KillSwitchReason.IsUnknown() {
		f.KillSwitchReason = m.KillSwitchReason.ValueString()
	}
	if !m.Targeting.IsNull() {
		var t targetingModel
		if m.Targeting.As(ctx, &t, basetypes.ObjectAsOptions{}).HasError() {
			return nil, false
		}
		if t.IncludedUsers.IsUnknown() || t.ExcludedUsers.IsUnknown() || t.SegmentRules.IsUnknown() {
			return nil, false
		}
		f.Targeting.IncludedUsers, f.Targeting.ExcludedUsers = stringsOf(ctx, t.IncludedUsers), stringsOf(ctx, t.ExcludedUsers)
		if !t.SegmentRules.IsNull() {
			var rules []ruleModel
			_ = t.SegmentRules.ElementsAs(ctx, &rules, false)
			for _, rm := range rules {
				if rm.Attribute.IsUnknown() || rm.Operator.IsUnknown() || rm.Value.IsUnknown() {
					return nil, false
				}
				f.Targeting.SegmentRules = append(f.Targeting.SegmentRules, flag.Rule{Attribute: rm.Attribute.ValueString(), Operator: rm.Operator.ValueString(), Value: rm.Value.ValueString()})
			}
		}
	}
	return f, true
}

// documentOf is the JSON the provider writes for f.
func documentOf(f *flag.Flag) string {
	b, _ := json.Marshal(f)
	return string(b)
}

// setFromFlag puts a flag read from SSM into the model, keeping null what
// the configuration leaves unset and SSM holds empty.
func setFromFlag(m *featureFlagModel, f *flag.Flag, doc string) {
	str := func(cur types.String, v string) types.String {
		if cur.IsNull() && v == "" {
			return types.StringNull()
		}
		return types.StringValue(v)
	}
	list := func(cur types.List, v []string) types.List {
		if cur.IsNull() && len(v) == 0 {
			return types.ListNull(types.StringType)
		}
		elems := make([]attr.Value, 0, len(v))
		for _, s := range v {
			elems = append(elems, types.StringValue(s))
		}
		return types.ListValueMust(types.StringType, elems)
	}
	m.Key = types.StringValue(f.Key)
	m.Enabled = types.BoolValue(f.Enabled)
	m.RolloutPercentage = types.Int64Value(int64(f.RolloutPercentage))
	m.KillSwitch = types.BoolValue(f.KillSwitch)
	m.Description, m.Owner, m.Ticket, m.ExpiresAt = str(m.Description, f.Description), str(m.Owner, f.Owner), str(m.Ticket, f.Ticket), str(m.ExpiresAt, f.ExpiresAt)
	m.Environments, m.Dependencies = list(m.Environments, f.Environments), list(m.Dependencies, f.Dependencies)
	t := f.Targeting
	if m.Targeting.IsNull() && len(t.IncludedUsers) == 0 && len(t.ExcludedUsers) == 0 && len(t.SegmentRules) == 0 {
		m.Targeting = types.ObjectNull(targetingAttrTypes)
	} else {
		var cur targetingModel
		if !m.Targeting.IsNull() && !m.Targeting.IsUnknown() {
			_ = m.Targeting.As(context.Background(), &cur, basetypes.ObjectAsOptions{})
		} else {
			cur = targetingModel{IncludedUsers: types.ListNull(types.StringType), ExcludedUsers: types.ListNull(types.StringType), SegmentRules: types.ListNull(types.ObjectType{AttrTypes: ruleAttrTypes})}
		}
		rules := types.ListNull(types.ObjectType{AttrTypes: ruleAttrTypes})
		if len(t.SegmentRules) > 0 || !cur.SegmentRules.IsNull() {
			var elems []attr.Value
			for _, rl := range t.SegmentRules {
				elems = append(elems, types.ObjectValueMust(ruleAttrTypes, map[string]attr.Value{"attribute": types.StringValue(rl.Attribute), "operator": types.StringValue(rl.Operator), "value": types.StringValue(rl.Value)}))
			}
			rules = types.ListValueMust(types.ObjectType{AttrTypes: ruleAttrTypes}, elems)
		}
		m.Targeting = types.ObjectValueMust(targetingAttrTypes, map[string]attr.Value{
			"included_users": list(cur.IncludedUsers, t.IncludedUsers), "excluded_users": list(cur.ExcludedUsers, t.ExcludedUsers), "segment_rules": rules,
		})
	}
	m.Document = types.StringValue(doc)
	m.KillSwitchReason = types.StringValue(f.KillSwitchReason)
}

func (r *featureFlagResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return
	}
	var plan featureFlagModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if !plan.Key.IsUnknown() && !plan.PathPrefix.IsUnknown() {
		name := awsclient.FlagParameter(plan.PathPrefix.ValueString(), plan.Key.ValueString())
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("parameter_name"), name)...)
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("id"), name)...)
	}
	r.planRollout(ctx, req, plan, resp)
	if !req.State.Raw.IsNull() {
		var state featureFlagModel
		resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
		if refuseReenable(ctx, state, plan, &resp.Diagnostics, true) {
			return
		}
		switch {
		case !plan.KillSwitch.IsUnknown() && !plan.KillSwitch.ValueBool():
			resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("kill_switch_reason"), "")...)
		case plan.KillSwitch.ValueBool() && state.KillSwitch.ValueBool() && state.KillSwitchReason.ValueString() != "":
			// The configuration accepts the kill switch a rollback turned
			// on: it is the configuration's now, and its reason goes.
			plan.KillSwitchReason = types.StringValue("")
			resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("kill_switch_reason"), "")...)
		}
	} else {
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("kill_switch_reason"), "")...)
	}
	if f, ok := flagOf(ctx, plan); ok {
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("document"), documentOf(f))...)
		refuseFlagEditWhileHeld(ctx, req, f, &resp.Diagnostics)
		if !plan.Tier.IsUnknown() {
			checkFlagSize(f, plan.Tier.ValueString(), &resp.Diagnostics)
		}
		if f.ExpiresAt != "" {
			if t, err := time.Parse(time.RFC3339, f.ExpiresAt); err == nil && r.client != nil && t.Before(r.client.Clock.Now()) {
				resp.Diagnostics.AddAttributeWarning(path.Root("expires_at"), "Stale Feature Flag", pipeline.Detail(nil,
					fmt.Sprintf("The flag %q expired at %s. A flag past its date is debt: every app still evaluates it.", f.Key, f.ExpiresAt),
					"Remove the flag from the code and from the configuration, or set a new expires_at with its owner."))
			}
		}
		if r.client != nil && !plan.PathPrefix.IsUnknown() && len(f.Dependencies) > 0 {
			r.checkDependencies(ctx, plan.PathPrefix.ValueString(), f, false, &resp.Diagnostics)
		}
	} else {
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("document"), types.StringUnknown())...)
	}
}

// checkDependencies walks f's dependencies in SSM. A cycle is an error
// naming it. A dependency that does not exist is an error when writing
// (strict), and passes at plan time, where it may be created in the same
// apply. Each flag is read once, however many flags depend on it.
func (r *featureFlagResource) checkDependencies(ctx context.Context, prefix string, f *flag.Flag, strict bool, diags *diag.Diagnostics) {
	const (
		visiting = 1
		done     = 2
	)
	state := map[string]int{}
	deps := map[string][]string{f.Key: f.Dependencies}
	var walk func(key string, trail []string) bool
	walk = func(key string, trail []string) bool {
		trail = append(trail, key)
		state[key] = visiting
		for i, d := range deps[key] {
			switch state[d] {
			case visiting:
				at := 0
				for k, s := range trail {
					if s == d {
						at = k
					}
				}
				diags.AddAttributeError(path.Root("dependencies"), "Flag Dependency Cycle", pipeline.Detail(nil,
					fmt.Sprintf("The dependencies form a cycle: %s → %s.", strings.Join(trail[at:], " → "), d),
					"A flag cannot depend, directly or through others, on itself. Remove one dependency of the cycle."))
				return false
			case done:
				continue
			}
			if _, read := deps[d]; !read {
				_, df, err := r.client.ReadFlag(ctx, awsclient.FlagParameter(prefix, d))
				switch {
				case errors.Is(err, awsclient.ErrNotFound):
					if strict && len(trail) == 1 {
						diags.AddAttributeError(path.Root("dependencies").AtListIndex(i), "Unknown Flag Dependency", pipeline.Detail(nil,
							fmt.Sprintf("dependencies[%d] is %q, but no flag %s exists.", i, d, awsclient.FlagParameter(prefix, d)),
							"Create that flag first: reference its key (rollout_feature_flag.x.key) so Terraform orders them, or remove the dependency. Nothing was written."))
						return false
					}
					deps[d] = nil
				case err != nil:
					deps[d] = nil // unreadable: the apply reports it
				default:
					deps[d] = df.Dependencies
				}
			}
			if !walk(d, trail) {
				return false
			}
		}
		state[key] = done
		return true
	}
	walk(f.Key, nil)
}

// planRollout fills planned_steps and last_rollout: the schedule of a
// change of rollout_percentage with a rollout block, and the state's record
// when the percentage does not change.
func (r *featureFlagResource) planRollout(ctx context.Context, req resource.ModifyPlanRequest, plan featureFlagModel, resp *resource.ModifyPlanResponse) {
	set := func(name string, v attr.Value) {
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root(name), v)...)
	}
	if req.State.Raw.IsNull() {
		set("planned_steps", flagStepsValue(nil))
		set("last_rollout", types.ObjectNull(lastRolloutAttrTypes))
		return
	}
	var state featureFlagModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	settings, ramp, _ := flagSettings(ctx, plan.Rollout)
	if plan.RolloutPercentage.IsUnknown() || plan.Rollout.IsUnknown() {
		set("planned_steps", types.ListUnknown(flagStepObjectType))
		return
	}
	from, to := int(state.RolloutPercentage.ValueInt64()), int(plan.RolloutPercentage.ValueInt64())
	pipeline.CheckPromote(nil, recordOf(state.LastRollout), settingsOf(ctx, state.Rollout), settings, from != to, reportTo(&resp.Diagnostics))
	if h, held := pipeline.HeldOf(recordOf(state.LastRollout)); held && from == to {
		steps, acts, ok := pipeline.PlanHeldSame(ctx, r.client, r.subject(plan), h, settings, flagSplit(to), lookedAt(ctx, req.Private), reportTo(&resp.Diagnostics))
		if ok {
			keepOrAct(ctx, req.State, resp, flagStepsValue(steps), acts, state.LastRollout)
		}
		return
	}
	if from == to || !ramp {
		steps := state.PlannedSteps
		if steps.IsNull() || !ramp {
			steps = flagStepsValue(nil)
		}
		set("planned_steps", steps)
		set("last_rollout", recordValue(pipeline.PlanRunningSame(ctx, r.client, r.subjectOf(state), recordOf(state.LastRollout), settings, reportTo(&resp.Diagnostics))))
		return
	}
	steps, ok := pipeline.Plan(ctx, r.client, pipeline.Planned{At: problem.At("rollout_percentage"), Kind: "flag", From: flagSplit(from), To: flagSplit(to), Strategy: settings.Strategy,
		Settings: settings, Last: recordOf(state.LastRollout), Subj: r.subjectOf(state)}, reportTo(&resp.Diagnostics))
	if !ok {
		return
	}
	set("planned_steps", flagStepsValue(steps))
	set("last_rollout", types.ObjectUnknown(lastRolloutAttrTypes))
	checkScheduleTimeout(ctx, plan.Timeouts, pipeline.Updating, steps, plan.Rollout, &resp.Diagnostics)
}

func (r *featureFlagResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state featureFlagModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() || r.client == nil {
		return
	}
	name := state.ID.ValueString()
	doc, f, err := r.client.ReadFlag(ctx, name)
	if errors.Is(err, awsclient.ErrNotFound) {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		resp.Diagnostics.AddError("Cannot Read Flag", pipeline.Detail(err, fmt.Sprintf("Reading the flag %s from SSM Parameter Store failed, or it is not a flag document this provider reads.", name),
			"Check the ssm:GetParameter permission. If the parameter was edited by hand into something else, put a valid document back or delete and recreate the flag."))
		return
	}
	last, running := pipeline.RefreshDetached(ctx, r.client, r.subject(state), recordOf(state.LastRollout), reportTo(&resp.Diagnostics))
	state.LastRollout = recordValue(last)
	markLooked(ctx, r.client, last, resp.Private, &resp.Diagnostics)
	if running {
		// The percentages on the way are the ramp's steps
		// (last_rollout.serving): the state keeps where it goes.
		target := *f
		target.RolloutPercentage = int(state.RolloutPercentage.ValueInt64())
		f, doc = &target, documentOf(&target)
	}
	setFromFlag(&state, f, doc)
	state.ParameterName = types.StringValue(name)
	if state.PlannedSteps.IsNull() {
		state.PlannedSteps = flagStepsValue(nil)
	}
	if state.PathPrefix.IsNull() || state.PathPrefix.ValueString() == "" {
		state.PathPrefix = types.StringValue(strings.TrimSuffix(name, f.Key))
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

var pathKey = path.Root("key")

// emptyTargeting is a targeting object with empty lists, for the data
// source, which shows every attribute.
func emptyTargeting() types.Object {
	return types.ObjectValueMust(targetingAttrTypes, map[string]attr.Value{
		"included_users": types.ListValueMust(types.StringType, nil),
		"excluded_users": types.ListValueMust(types.StringType, nil),
		"segment_rules":  types.ListValueMust(types.ObjectType{AttrTypes: ruleAttrTypes}, nil),
	})
}

// refuseReenable applies the rule against silently re-running a rolled-back
// change to a kill switch a rollback turned on: the next apply does not turn
// it off unless rollout.attempt changed (a warning at plan, an error at
// apply with nothing written).
func refuseReenable(ctx context.Context, state, plan featureFlagModel, diags *diag.Diagnostics, atPlan bool) bool {
	if !state.KillSwitch.ValueBool() || state.KillSwitchReason.ValueString() == "" || plan.KillSwitch.IsUnknown() || plan.KillSwitch.ValueBool() {
		return false
	}
	if attemptOf(ctx, plan.Rollout) != attemptOf(ctx, state.Rollout) {
		return false
	}
	what := fmt.Sprintf("The kill switch of %q was %s, and this configuration turns it off with rollout.attempt unchanged.", state.Key.ValueString(), state.KillSwitchReason.ValueString())
	how := "Set kill_switch = true to accept the rollback, or change rollout.attempt (for example to the next number or a ticket) to switch the flag back on deliberately."
	if atPlan {
		diags.AddAttributeWarning(path.Root("kill_switch"), "Flag Switched Off By A Rollback", pipeline.Detail(nil, what, "Apply will refuse it with nothing written. "+how))
		return false
	}
	diags.AddAttributeError(path.Root("kill_switch"), "Flag Switched Off By A Rollback", pipeline.Detail(nil, what+" Nothing was written: a rolled-back feature does not come back with the next unrelated apply.", how))
	return true
}

// refuseFlagEditWhileHeld refuses, at plan, a change to a flag's document
// other than its percentage while its ramp is held: the held ramp's guard
// keeps the rest as it was, so the change could not be written.
func refuseFlagEditWhileHeld(ctx context.Context, req resource.ModifyPlanRequest, f *flag.Flag, diags *diag.Diagnostics) {
	if req.State.Raw.IsNull() {
		return
	}
	var state featureFlagModel
	diags.Append(req.State.Get(ctx, &state)...)
	h, held := pipeline.HeldOf(recordOf(state.LastRollout))
	running := recordOf(state.LastRollout).Status == pipeline.StatusRunning
	if !held && !running {
		return
	}
	var tier types.String
	diags.Append(req.Plan.GetAttribute(ctx, path.Root("tier"), &tier)...)
	if running && !tier.IsUnknown() && !tier.Equal(state.Tier) {
		// The tier goes with a write of the parameter, and the orchestrator
		// makes them all until the ramp ends.
		diags.AddAttributeError(path.Root("tier"), "Flag Changed While Running", pipeline.Detail(nil,
			fmt.Sprintf("The flag's detached ramp %s is running (step %d of %d), and this plan changes its tier from %s to %s: the orchestrator writes the parameter at every step, so the tier could not be written beside it.",
				recordOf(state.LastRollout).Execution, recordOf(state.LastRollout).StepReached, recordOf(state.LastRollout).Steps, state.Tier.ValueString(), tier.ValueString()),
			"Change one thing at a time: wait for the ramp to end (promote it if it holds), then change tier."))
		return
	}
	var was flag.Flag
	if json.Unmarshal([]byte(state.Document.ValueString()), &was) != nil {
		return
	}
	now := *f
	was.RolloutPercentage, now.RolloutPercentage = 0, 0
	if documentOf(&was) == documentOf(&now) {
		return
	}
	if running {
		startedAt := 0
		if from, err := weights.ParseCanonical(recordOf(state.LastRollout).From); err == nil {
			startedAt = percentageOf(from)
		}
		diags.AddAttributeError(path.Root("rollout_percentage"), "Flag Changed While Running", pipeline.Detail(nil,
			fmt.Sprintf("The flag's detached ramp %s is running (step %d of %d), and this plan changes the flag's other settings: the orchestrator writes the flag's document at every step, so the change could not be written beside it.",
				recordOf(state.LastRollout).Execution, recordOf(state.LastRollout).StepReached, recordOf(state.LastRollout).Steps),
			fmt.Sprintf("Change one thing at a time: wait for the ramp to end (promote it if it holds), or abort it (rollout_percentage = %d), then change the rest.", startedAt)))
		return
	}
	diags.AddAttributeError(path.Root("rollout_percentage"), "Flag Changed While Held", pipeline.Detail(nil,
		fmt.Sprintf("The flag's ramp is held after step %d at %s, and this plan changes the flag's other settings too.", h.Step, h.Serving.Short()),
		fmt.Sprintf("Change one thing at a time: promote the ramp (rollout.promote) or take it back (rollout_percentage = %d), then change the rest.", percentageOf(h.From))))
}

// subjectOf is a flag in state as the plan reads it (nil without a
// client).
func (r *featureFlagResource) subjectOf(m featureFlagModel) pipeline.Subject {
	if r.client == nil || m.ID.ValueString() == "" {
		return nil
	}
	return r.subject(m)
}
