package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"

	"github.com/rolloutdev/terraform-provider-rollout/internal/pipeline"
	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
	"github.com/rolloutdev/terraform-provider-rollout/internal/subjects/featureflag"
)

// A feature flag's rollout_percentage is a subject of the traffic pipeline:
// a split {on: P, off: 100 - P} whose steps are written as whole
// percentages.

var flagStepAttrTypes = map[string]attr.Type{
	"step": types.Int64Type, "percent": types.Int64Type, "pause": types.StringType, "percentage": types.Int64Type,
}
var flagStepObjectType = types.ObjectType{AttrTypes: flagStepAttrTypes}

// flagSplit is a percentage as a split; percentageOf is a split's share
// "on" (featureflag.Router's terms).
var (
	flagSplit    = featureflag.Split
	percentageOf = featureflag.PercentageOf
)

func flagStepsValue(steps []rollout.PlannedStep) types.List {
	elems := make([]attr.Value, 0, len(steps))
	for i, s := range steps {
		elems = append(elems, types.ObjectValueMust(flagStepAttrTypes, map[string]attr.Value{
			"step": types.Int64Value(int64(i + 1)), "percent": types.Int64Value(int64(s.Percent)),
			"pause": types.StringValue(pipeline.PauseText(s)), "percentage": types.Int64Value(int64(percentageOf(s.Weights))),
		}))
	}
	return types.ListValueMust(flagStepObjectType, elems)
}

// flagSettings reads a flag's rollout block: flag_ramp unless it names a
// schedule.
func flagSettings(ctx context.Context, o types.Object) (pipeline.Settings, bool, diag.Diagnostics) {
	s, d := settingsFrom(ctx, o)
	if o.IsNull() || o.IsUnknown() {
		return s, false, d
	}
	var m rolloutModel
	d.Append(o.As(ctx, &m, basetypes.ObjectAsOptions{})...)
	if m.Strategy.IsNull() && m.Preset.IsNull() && m.Steps.IsNull() && m.Linear.IsNull() {
		s.Strategy = rollout.Presets["flag_ramp"]
	}
	return s, true, d
}

// checkFlagRollout refuses the gates and rollbacks a flag cannot have.
func checkFlagRollout(ctx context.Context, o types.Object, diags *diag.Diagnostics) {
	checkRollout(ctx, o, path.Root("rollout"), diags)
	if o.IsNull() || o.IsUnknown() {
		return
	}
	gates := path.Root("rollout").AtName("gates")
	if knownObject(ctx, o, "health") {
		diags.AddAttributeError(gates.AtName("health"), "No Health Gate For Flags", pipeline.Detail(nil,
			"rollout.gates.health is set, but a feature flag has no targets to count.", "Remove health; gate the ramp with alarms on the app's metrics and with hooks."))
	}
	if knownObject(ctx, o, "metrics") {
		diags.AddAttributeError(gates.AtName("metrics"), "No Metrics Gate For Flags", pipeline.Detail(nil,
			"rollout.gates.metrics is set, but a flag has no load balancer or function metrics of its own: the users it turns on are spread across the app.",
			"Gate the ramp with CloudWatch alarms on the app's error rate and latency (rollout_alarm), or with an after_pause hook."))
	}
	var m rolloutModel
	if o.As(ctx, &m, basetypes.ObjectAsOptions{}).HasError() {
		return
	}
	if m.Rollback.ValueString() == string(rollout.FeatureFlag) || !m.Flags.IsNull() {
		diags.AddAttributeError(path.Root("rollout").AtName("rollback"), "Flags Of A Flag", pipeline.Detail(nil,
			"A flag's rollout does not name other flags to switch off: it is the flag.",
			`Use rollback = "kill_switch" to turn this flag off on a failed gate, or immediate, gradual or auto to go back to the previous percentage; remove flags.`))
	}
}
