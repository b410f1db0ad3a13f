package provider

import (
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/rolloutdev/terraform-provider-rollout/internal/pipeline"
	"github.com/rolloutdev/terraform-provider-rollout/internal/problem"
)

// TestRecordRoundTrip converts last_rollout to the pipeline's record and
// back over every attribute: a known record, one whose promote is null (a
// refused promote forgot it), one whose promote is "", and the null and
// unknown objects.
func TestRecordRoundTrip(t *testing.T) {
	full := map[string]attr.Value{
		"status":              types.StringValue("held"),
		"step_reached":        types.Int64Value(2),
		"steps":               types.Int64Value(5),
		"gate":                types.StringValue("alarms"),
		"reason":              types.StringValue("held after step 2 of 5"),
		"rollback":            types.StringValue("none"),
		"started_at":          types.StringValue("2026-01-02T03:04:05Z"),
		"finished_at":         types.StringValue("2026-01-02T03:14:05Z"),
		"target":              types.StringValue("arn:a=90, arn:b=10"),
		"attempt":             types.StringValue("7"),
		"from":                types.StringValue("arn:a=100"),
		"execution":           types.StringValue("arn:aws:states:eu-west-1:1:execution:o:rollout-1"),
		"serving":             types.StringValue("arn:a=95, arn:b=5"),
		"notices_undelivered": types.Int64Value(3),
		"promote":             types.StringValue("p1"),
		"staggered":           types.StringValue("250ms"),
	}
	if len(full) != len(lastRolloutAttrTypes) {
		t.Fatalf("the test covers %d attributes; last_rollout has %d", len(full), len(lastRolloutAttrTypes))
	}
	with := func(k string, v attr.Value) types.Object {
		m := map[string]attr.Value{}
		for k, v := range full {
			m[k] = v
		}
		m[k] = v
		return types.ObjectValueMust(lastRolloutAttrTypes, m)
	}
	known := types.ObjectValueMust(lastRolloutAttrTypes, full)
	r := recordOf(known)
	want := pipeline.Record{Presence: pipeline.Known, Status: "held", StepReached: 2, Steps: 5, Gate: "alarms", Reason: "held after step 2 of 5", Rollback: "none",
		StartedAt: "2026-01-02T03:04:05Z", FinishedAt: "2026-01-02T03:14:05Z", Target: "arn:a=90, arn:b=10", Attempt: "7", From: "arn:a=100",
		Execution: "arn:aws:states:eu-west-1:1:execution:o:rollout-1", Serving: "arn:a=95, arn:b=5", NoticesUndelivered: 3, Staggered: "250ms"}.WithPromote("p1")
	if r.Promote == nil || *r.Promote != "p1" {
		t.Fatalf("promote = %v, want p1", r.Promote)
	}
	got, exp := r, want
	got.Promote, exp.Promote = nil, nil
	if got != exp {
		t.Fatalf("recordOf =\n%+v\nwant\n%+v", got, exp)
	}
	for name, o := range map[string]types.Object{
		"known":         known,
		"null promote":  with("promote", types.StringNull()),
		"empty promote": with("promote", types.StringValue("")),
		"null":          types.ObjectNull(lastRolloutAttrTypes),
		"unknown":       types.ObjectUnknown(lastRolloutAttrTypes),
	} {
		back := recordValue(recordOf(o))
		if !back.Equal(o) {
			t.Errorf("%s: round trip gave %s, want %s", name, back, o)
		}
	}
	if r := recordOf(with("promote", types.StringNull())); r.Promote != nil || r.PromoteText() != "" {
		t.Errorf("null promote read as %q", *r.Promote)
	}
	if r := recordOf(with("promote", types.StringValue(""))); r.Promote == nil || *r.Promote != "" {
		t.Errorf("empty promote read as %v", r.Promote)
	}
	if r := recordOf(types.ObjectNull(lastRolloutAttrTypes)); !r.IsNull() || r != (pipeline.Record{}) {
		t.Errorf("null read as %+v", r)
	}
	if r := recordOf(types.ObjectUnknown(lastRolloutAttrTypes)); !r.IsUnknown() || r != (pipeline.Record{Presence: pipeline.Unknown}) {
		t.Errorf("unknown read as %+v", r)
	}
}

// TestReportTo checks the one translation of the pipeline's report into
// diagnostics: the same summaries and details, on the same attribute
// paths (names, map keys, list indexes), the resource itself apart from
// no attribute.
func TestReportTo(t *testing.T) {
	var got diag.Diagnostics
	r := reportTo(&got)
	r.AddError("E", "e")
	r.AddWarning("W", "w")
	r.AddAttributeError(problem.At("services").Key("web").Name("rollout").Name("flags").Index(2), "AE", "ae")
	r.AddAttributeWarning(nil, "AW", "aw")
	var want diag.Diagnostics
	want.AddError("E", "e")
	want.AddWarning("W", "w")
	want.AddAttributeError(path.Root("services").AtMapKey("web").AtName("rollout").AtName("flags").AtListIndex(2), "AE", "ae")
	want.AddAttributeWarning(path.Empty(), "AW", "aw")
	if !got.Equal(want) || !r.HasError() {
		t.Fatalf("got %v, want %v", got, want)
	}
}
