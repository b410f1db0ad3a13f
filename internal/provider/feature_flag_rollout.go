package provider

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"

	"github.com/rolloutdev/terraform-provider-rollout/internal/awsclient"
	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

// A feature flag's rollout_percentage is a subject of the traffic pipeline:
// a split {on: P, off: 100 - P} whose steps are written as whole
// percentages.

var flagStepAttrTypes = map[string]attr.Type{
	"step": types.Int64Type, "percent": types.Int64Type, "pause": types.StringType, "percentage": types.Int64Type,
}
var flagStepObjectType = types.ObjectType{AttrTypes: flagStepAttrTypes}

// flagSplit is a percentage as a split.
func flagSplit(pct int) weights.Split {
	return weights.Split{{ARN: "on", Weight: pct}, {ARN: "off", Weight: 100 - pct}}
}

// percentageOf is a split's share "on", rounded to a whole percent.
func percentageOf(s weights.Split) int {
	m := s.Map()
	total := m["on"] + m["off"]
	if total == 0 {
		return 0
	}
	return int(math.Round(float64(m["on"]) * 100 / float64(total)))
}

func flagStepsValue(steps []rollout.PlannedStep) types.List {
	elems := make([]attr.Value, 0, len(steps))
	for i, s := range steps {
		elems = append(elems, types.ObjectValueMust(flagStepAttrTypes, map[string]attr.Value{
			"step": types.Int64Value(int64(i + 1)), "percent": types.Int64Value(int64(s.Percent)),
			"pause": types.StringValue(s.Pause.String()), "percentage": types.Int64Value(int64(percentageOf(s.Weights))),
		}))
	}
	return types.ListValueMust(flagStepObjectType, elems)
}

// flagSettings reads a flag's rollout block: flag_ramp unless it names a
// schedule.
func flagSettings(ctx context.Context, o types.Object) (rolloutSettings, bool, diag.Diagnostics) {
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
		diags.AddAttributeError(gates.AtName("health"), "No Health Gate For Flags", detail(nil,
			"rollout.gates.health is set, but a feature flag has no targets to count.", "Remove health; gate the ramp with alarms on the app's metrics and with hooks."))
	}
	if knownObject(ctx, o, "metrics") {
		diags.AddAttributeError(gates.AtName("metrics"), "No Metrics Gate For Flags", detail(nil,
			"rollout.gates.metrics is set, but a flag has no load balancer or function metrics of its own: the users it turns on are spread across the app.",
			"Gate the ramp with CloudWatch alarms on the app's error rate and latency (rollout_alarm), or with an after_pause hook."))
	}
	var m rolloutModel
	if o.As(ctx, &m, basetypes.ObjectAsOptions{}).HasError() {
		return
	}
	if m.Rollback.ValueString() == string(rollout.FeatureFlag) || !m.Flags.IsNull() {
		diags.AddAttributeError(path.Root("rollout").AtName("rollback"), "Flags Of A Flag", detail(nil,
			"A flag's rollout does not name other flags to switch off: it is the flag.",
			`Use rollback = "kill_switch" to turn this flag off on a failed gate, or immediate, gradual or auto to go back to the previous percentage; remove flags.`))
	}
}

// flagSubject is a flag's percentage as the traffic pipeline sees it.
type flagSubject struct {
	c    *awsclient.Client
	name string
}

func (s flagSubject) Kind() string    { return "flag" }
func (s flagSubject) ID() string      { return s.name }
func (s flagSubject) Attr() path.Path { return path.Root("rollout_percentage") }

func (s flagSubject) Read(ctx context.Context) (weights.Split, error) {
	_, f, err := s.c.ReadFlag(ctx, s.name)
	if err != nil {
		return nil, err
	}
	return flagSplit(f.RolloutPercentage), nil
}

func (s flagSubject) Probe() (rollout.Probe, error) { return &flagProbe{c: s.c, name: s.name}, nil }

func (s flagSubject) GoBack(from weights.Split) string {
	return fmt.Sprintf("set rollout_percentage back to %d", percentageOf(from))
}

func (s flagSubject) ReadError(diags *diag.Diagnostics, err error) {
	diags.AddError("Cannot Read Flag", detail(err, fmt.Sprintf("Reading the flag %s failed.", s.name), "Check the ssm:GetParameter permission and the endpoint."))
}

func (s flagSubject) WriteError(diags *diag.Diagnostics, err error) {
	diags.AddAttributeError(path.Root("rollout_percentage"), "Cannot Write Flag", detail(err, fmt.Sprintf("Writing the flag %s failed, or could not be confirmed.", s.name),
		"Check the ssm:PutParameter permission and the endpoint; the next plan shows what the parameter holds."))
}

func (s flagSubject) Steps(steps []rollout.PlannedStep) types.List { return flagStepsValue(steps) }

// switchOff turns the flag's own kill switch on (rollback = kill_switch).
func (s flagSubject) switchOff(ctx context.Context) (string, error) {
	return switchFlagsOff(ctx, s.c, []string{s.name}, "rolled back by its own rollout at "+s.c.Clock.Now().UTC().Format(time.RFC3339))
}

// flagProbe writes a step's percentage and observes alarms and hooks.
type flagProbe struct {
	c    *awsclient.Client
	name string
}

func (p *flagProbe) Apply(ctx context.Context, w weights.Split) error {
	_, f, err := p.c.ReadFlag(ctx, p.name)
	if err != nil {
		return err
	}
	pct := percentageOf(w)
	if f.RolloutPercentage == pct {
		return nil
	}
	f.RolloutPercentage = pct
	return p.c.WriteFlag(ctx, p.name, documentOf(f), f.Description, false)
}

func (p *flagProbe) TargetHealth(context.Context, string) (rollout.Health, error) {
	return rollout.Health{}, errors.New("a feature flag has no health gate")
}

func (p *flagProbe) AlarmStates(ctx context.Context, names []string) ([]rollout.AlarmState, error) {
	return p.c.AlarmStates(ctx, names)
}

func (p *flagProbe) Metrics(context.Context, string, time.Time, time.Time) (rollout.Metrics, error) {
	return rollout.Metrics{}, errors.New("a feature flag has no metrics gate")
}

func (p *flagProbe) Invoke(ctx context.Context, fn string, payload rollout.HookPayload) (rollout.HookResult, error) {
	return p.c.InvokeHook(ctx, fn, payload)
}
