package provider

import (
	"sort"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/rolloutdev/terraform-provider-rollout/internal/pipeline"
)

// The two converters between last_rollout (lastRolloutAttr) and the
// pipeline's record of a change.

// recordOf is a last_rollout value as the pipeline's record: null and
// unknown keep their presence, with every field zero. An attribute that
// is null in a known record reads as nil for promote (after a refused
// promote), and for the others (a record written before they existed) as
// zero, named in Absent so that recordValue writes it null again.
func recordOf(o types.Object) pipeline.Record {
	switch {
	case o.IsNull():
		return pipeline.Record{}
	case o.IsUnknown():
		return pipeline.Record{Presence: pipeline.Unknown}
	}
	a := o.Attributes()
	str := func(k string) string {
		v, _ := a[k].(types.String)
		return v.ValueString()
	}
	num := func(k string) int64 {
		v, _ := a[k].(types.Int64)
		return v.ValueInt64()
	}
	r := pipeline.Record{
		Presence:           pipeline.Known,
		Status:             str("status"),
		StepReached:        num("step_reached"),
		Steps:              num("steps"),
		Gate:               str("gate"),
		Reason:             str("reason"),
		Rollback:           str("rollback"),
		StartedAt:          str("started_at"),
		FinishedAt:         str("finished_at"),
		Target:             str("target"),
		Attempt:            str("attempt"),
		From:               str("from"),
		Execution:          str("execution"),
		Serving:            str("serving"),
		NoticesUndelivered: num("notices_undelivered"),
		Staggered:          str("staggered"),
	}
	if p, ok := a["promote"].(types.String); ok && !p.IsNull() && !p.IsUnknown() {
		r.Promote = new(string)
		*r.Promote = p.ValueString()
	}
	var absent []string
	for k, v := range a {
		if k != "promote" && v.IsNull() {
			absent = append(absent, k)
		}
	}
	sort.Strings(absent)
	r.Absent = strings.Join(absent, ",")
	return r
}

// recordValue is the pipeline's record as a last_rollout value.
func recordValue(r pipeline.Record) types.Object {
	switch r.Presence {
	case pipeline.Null:
		return types.ObjectNull(lastRolloutAttrTypes)
	case pipeline.Unknown:
		return types.ObjectUnknown(lastRolloutAttrTypes)
	}
	promote := types.StringNull()
	if r.Promote != nil {
		promote = types.StringValue(*r.Promote)
	}
	v := map[string]attr.Value{
		"status":              types.StringValue(r.Status),
		"step_reached":        types.Int64Value(r.StepReached),
		"steps":               types.Int64Value(r.Steps),
		"gate":                types.StringValue(r.Gate),
		"reason":              types.StringValue(r.Reason),
		"rollback":            types.StringValue(r.Rollback),
		"started_at":          types.StringValue(r.StartedAt),
		"finished_at":         types.StringValue(r.FinishedAt),
		"target":              types.StringValue(r.Target),
		"attempt":             types.StringValue(r.Attempt),
		"from":                types.StringValue(r.From),
		"execution":           types.StringValue(r.Execution),
		"serving":             types.StringValue(r.Serving),
		"notices_undelivered": types.Int64Value(r.NoticesUndelivered),
		"promote":             promote,
		"staggered":           types.StringValue(r.Staggered),
	}
	for _, k := range strings.Split(r.Absent, ",") {
		// Absent in the stored record and still zero: absent again.
		if x, ok := v[k]; ok && isZero(x) {
			v[k] = types.StringNull()
			if _, num := x.(types.Int64); num {
				v[k] = types.Int64Null()
			}
		}
	}
	return types.ObjectValueMust(lastRolloutAttrTypes, v)
}

// isZero says a string is "" or a number 0.
func isZero(x attr.Value) bool {
	switch x := x.(type) {
	case types.String:
		return x.ValueString() == ""
	case types.Int64:
		return x.ValueInt64() == 0
	}
	return false
}
