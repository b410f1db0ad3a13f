package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/rolloutdev/terraform-provider-rollout/internal/arn"
	"github.com/rolloutdev/terraform-provider-rollout/internal/awsclient"
	"github.com/rolloutdev/terraform-provider-rollout/internal/pipeline"
	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

// The Terraform shapes shared by everything that owns or shows a forward
// action: target_groups, stickiness and percentages.

var targetGroupAttrTypes = map[string]attr.Type{"arn": types.StringType, "weight": types.Int64Type}
var targetGroupObjectType = types.ObjectType{AttrTypes: targetGroupAttrTypes}
var stickinessAttrTypes = map[string]attr.Type{"enabled": types.BoolType, "duration_seconds": types.Int64Type}

const maxStickinessSeconds = 604800

func targetGroupsResourceAttr() schema.ListNestedAttribute {
	return schema.ListNestedAttribute{
		Required: true,
		MarkdownDescription: fmt.Sprintf("The target groups of the forward action and their weights: %d to %d target groups, each listed once, each weight from %d to %d, at least one weight above 0. "+
			"A target group receives its weight divided by the sum of the weights.", weights.MinTargetGroups, weights.MaxTargetGroups, weights.MinWeight, weights.MaxWeight),
		NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
			"arn": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "ARN of the target group.",
				Validators:          []validator.String{arnOf{arn.TargetGroup}},
			},
			"weight": schema.Int64Attribute{
				Required:            true,
				MarkdownDescription: fmt.Sprintf("Weight from %d to %d.", weights.MinWeight, weights.MaxWeight),
			},
		}},
	}
}

func stickinessResourceAttr() schema.SingleNestedAttribute {
	return schema.SingleNestedAttribute{
		Optional:            true,
		MarkdownDescription: "Target group stickiness: a client keeps going to the same target group for `duration_seconds`. Unset means disabled.",
		Attributes: map[string]schema.Attribute{
			"enabled": schema.BoolAttribute{Required: true, MarkdownDescription: "Whether stickiness is on."},
			"duration_seconds": schema.Int64Attribute{
				Optional:            true,
				MarkdownDescription: fmt.Sprintf("How long a client sticks, from 1 to %d seconds (7 days). Required when `enabled` is true.", maxStickinessSeconds),
				Validators:          []validator.Int64{int64validator.Between(1, maxStickinessSeconds)},
			},
		},
	}
}

// splitFromList reads a target_groups list. known is false when the list or
// any value in it is unknown; unknown ARNs are left empty.
func splitFromList(ctx context.Context, l types.List) (s weights.Split, known bool, diags diag.Diagnostics) {
	if l.IsNull() || l.IsUnknown() {
		return nil, false, nil
	}
	known = true
	for _, e := range l.Elements() {
		obj, ok := e.(types.Object)
		if !ok || obj.IsUnknown() || obj.IsNull() {
			known = false
			s = append(s, weights.Target{Weight: 1})
			continue
		}
		a := obj.Attributes()
		arnV, _ := a["arn"].(types.String)
		wV, _ := a["weight"].(types.Int64)
		t := weights.Target{Weight: 1}
		if arnV.IsUnknown() || arnV.IsNull() {
			known = false
		} else {
			t.ARN = arnV.ValueString()
		}
		if wV.IsUnknown() || wV.IsNull() {
			known = false
		} else {
			t.Weight = int(wV.ValueInt64())
		}
		s = append(s, t)
	}
	return s, known, diags
}

// listFromSplit builds a target_groups list value.
func listFromSplit(s weights.Split) types.List {
	elems := make([]attr.Value, 0, len(s))
	for _, t := range s {
		elems = append(elems, types.ObjectValueMust(targetGroupAttrTypes, map[string]attr.Value{
			"arn": types.StringValue(t.ARN), "weight": types.Int64Value(int64(t.Weight)),
		}))
	}
	return types.ListValueMust(targetGroupObjectType, elems)
}

func percentagesValue(s weights.Split) types.Map {
	elems := map[string]attr.Value{}
	for k, v := range s.Percentages() {
		elems[k] = types.Float64Value(v)
	}
	return types.MapValueMust(types.Float64Type, elems)
}

// checkSplit adds a diagnostic on the attribute at fault for every reason
// the target groups at p cannot be sent to AWS. AWS refuses these at apply
// time and emulators not at all, so the provider refuses them at plan time.
func checkSplit(ctx context.Context, l types.List, p path.Path, diags *diag.Diagnostics) {
	s, _, d := splitFromList(ctx, l)
	diags.Append(d...)
	if l.IsNull() || l.IsUnknown() {
		return
	}
	for _, pr := range s.Problems() {
		at := attrPathOf(p, pr.Path[1:]) // the path starts at the list itself
		switch {
		case pr.Code == weights.CodeCount && len(s) > weights.MaxTargetGroups:
			diags.AddAttributeError(p, "Too Many Target Groups", pipeline.Detail(nil, pr.Reason+".",
				fmt.Sprintf("An Application Load Balancer forwards to at most %d target groups in one action. Remove target groups, or split traffic with listener rules.", weights.MaxTargetGroups)))
		case pr.Code == weights.CodeCount:
			diags.AddAttributeError(p, "No Target Groups", pipeline.Detail(nil, pr.Reason+".", "List at least one target group with a weight above 0."))
		case pr.Code == weights.CodeNoTraffic:
			diags.AddAttributeError(p, "No Traffic Would Be Served", pipeline.Detail(nil, pr.Reason+".", "Give at least one target group a weight from 1 to 999."))
		case pr.Code == weights.CodeWeight:
			diags.AddAttributeError(at, "Invalid Target Group Weight",
				pipeline.Detail(nil, pr.Error()+".", fmt.Sprintf("AWS allows weights from %d to %d; weights are relative, so 90 and 10 send 90%% and 10%%.", weights.MinWeight, weights.MaxWeight)))
		default:
			diags.AddAttributeError(at, "Duplicate Target Group",
				pipeline.Detail(nil, pr.Error()+".", "Remove the repeated entry and put the combined weight on one of them."))
		}
	}
}

// stickinessFrom reads a stickiness object; null means disabled.
func stickinessFrom(o types.Object) awsclient.Stickiness {
	if o.IsNull() || o.IsUnknown() {
		return awsclient.Stickiness{}
	}
	a := o.Attributes()
	en, _ := a["enabled"].(types.Bool)
	ds, _ := a["duration_seconds"].(types.Int64)
	return awsclient.Stickiness{Enabled: en.ValueBool(), DurationSeconds: int32(ds.ValueInt64())}
}

// stickinessValue turns what AWS reports into the stickiness attribute,
// keeping what the prior state said where AWS has nothing to say (stickiness
// off), so an unchanged listener shows no difference.
func stickinessValue(got awsclient.Stickiness, prior types.Object) types.Object {
	if !got.Enabled {
		if prior.IsNull() || prior.IsUnknown() {
			return types.ObjectNull(stickinessAttrTypes)
		}
		a := prior.Attributes()
		return types.ObjectValueMust(stickinessAttrTypes, map[string]attr.Value{"enabled": types.BoolValue(false), "duration_seconds": a["duration_seconds"]})
	}
	return types.ObjectValueMust(stickinessAttrTypes, map[string]attr.Value{
		"enabled": types.BoolValue(true), "duration_seconds": types.Int64Value(int64(got.DurationSeconds)),
	})
}

// checkStickiness requires a duration when stickiness is enabled, as AWS does.
func checkStickiness(o types.Object, p path.Path, diags *diag.Diagnostics) {
	if o.IsNull() || o.IsUnknown() {
		return
	}
	a := o.Attributes()
	en, _ := a["enabled"].(types.Bool)
	ds, _ := a["duration_seconds"].(types.Int64)
	if en.ValueBool() && ds.IsNull() {
		diags.AddAttributeError(p.AtName("duration_seconds"), "Missing Stickiness Duration",
			pipeline.Detail(nil, "stickiness.enabled is true but stickiness.duration_seconds is not set.",
				fmt.Sprintf("Set duration_seconds from 1 to %d (AWS requires it with stickiness), or set enabled = false.", maxStickinessSeconds)))
	}
}

// checkNetwork refuses at plan what a Network Load Balancer's listener
// cannot do: target group stickiness in its forward action (an NLB keeps
// stickiness on the target group, by source IP), and a latency gate (an
// NLB publishes no response time; its metrics gate reads new flows and the
// resets targets send).
func checkNetwork(ctx context.Context, listener types.String, stickiness types.Object, stickinessPath path.Path, ro types.Object, roPath path.Path, diags *diag.Diagnostics) {
	if listener.IsNull() || listener.IsUnknown() || !arn.IsNetwork(listener.ValueString()) {
		return
	}
	if !stickiness.IsNull() && !stickiness.IsUnknown() {
		if en, _ := stickiness.Attributes()["enabled"].(types.Bool); en.ValueBool() {
			diags.AddAttributeError(stickinessPath.AtName("enabled"), "Stickiness On A Network Load Balancer",
				pipeline.Detail(nil, "stickiness.enabled is true, but the listener is a Network Load Balancer's, whose forward action has no target group stickiness.",
					"A Network Load Balancer keeps clients on a target by the target group's stickiness attribute (source IP) instead.",
					"Remove stickiness, or set enabled = false."))
		}
	}
	settings, _ := settingsFrom(ctx, ro)
	if m := settings.Gates.Metrics; m != nil && m.MaxP99LatencyMs != nil {
		diags.AddAttributeError(roPath.AtName("gates").AtName("metrics").AtName("max_p99_latency_ms"), "No Latency On A Network Load Balancer",
			pipeline.Detail(nil, "rollout.gates.metrics.max_p99_latency_ms is set, but the listener is a Network Load Balancer's, which publishes no response time to CloudWatch (AWS/NetworkELB).",
				"Its metrics gate reads min_request_count (new flows, NewFlowCount) and max_error_rate_percent (the resets targets send per new flow, TCP_Target_Reset_Count).",
				"Remove max_p99_latency_ms, or gate on an alarm of your own."))
	}
}

// onNetwork fits a rollout's settings to a Network Load Balancer's
// listener: its metrics gate counts the resets targets send as errors.
func onNetwork(listener types.String, s *pipeline.Settings) {
	if s.Gates.Metrics != nil && arn.IsNetwork(listener.ValueString()) {
		s.Gates.Metrics.ErrorsAre = "a reset by a target (TCP_Target_Reset_Count)"
	}
}
