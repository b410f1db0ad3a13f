// Package pipeline is the change pipeline in domain terms, the same for
// every subject (a listener or rule, an alias, a flag): the plan half
// (Plan), the apply half (Run), holds, detached runs, ownership (Claim),
// the coexistence checks and the retry rule. It reads Settings, keeps a
// subject's last change as a Record and says what went wrong in a Report.
// The provider converts between these and Terraform values; the pipeline
// knows nothing of Terraform's types, and does not import the provider.
package pipeline

// Presence says whether a record is there.
type Presence uint8

const (
	// Null: there is no record (a create; nothing ran yet).
	Null Presence = iota
	// Known: the record is there.
	Known
	// Unknown: the plan left it to the apply (for a held rollout: the
	// apply acts on it).
	Unknown
)

// Record is how the last change of a subject went: the resource's
// last_rollout. A zero Record is none (Null). A record that is not Known
// has every field zero.
type Record struct {
	Presence Presence

	// Status is succeeded, rolled_back, failed, held, running (a
	// detached rollout) or stopped.
	Status string
	// StepReached is the last step applied, from 1; Steps the steps in
	// the schedule.
	StepReached, Steps int64
	// Gate is the gate that failed; Reason what happened; Rollback how
	// it was rolled back, or "none" when held where a gate failed.
	Gate, Reason, Rollback string
	// StartedAt and FinishedAt are RFC 3339 times.
	StartedAt, FinishedAt string
	// Target is where the change went, From where it started, Serving
	// what the subject served when last read (weights.Split.Canonical).
	Target, From, Serving string
	// Attempt is rollout.attempt when the change ran.
	Attempt string
	// Execution is a detached rollout's execution ARN.
	Execution string
	// NoticesUndelivered counts the run's notices not delivered.
	NoticesUndelivered int64
	// Promote is rollout.promote when the rollout was held; nil (null)
	// once a promote AWS refused is forgotten, so that the same token
	// promotes again.
	Promote *string
	// Staggered is how long the start waited for its place among the
	// rollouts running at once; empty when it started at once.
	Staggered string
	// Absent names the attributes the stored record did not have (a
	// record an older release wrote, before they existed), sorted, joined
	// by commas: written back as absent while they stay zero, so that a
	// record passed through unchanged is the same value.
	Absent string
}

// IsKnown says the record is there.
func (r Record) IsKnown() bool { return r.Presence == Known }

// IsNull says there is no record.
func (r Record) IsNull() bool { return r.Presence == Null }

// IsUnknown says the plan left the record to the apply.
func (r Record) IsUnknown() bool { return r.Presence == Unknown }

// PromoteText is Promote, "" when null.
func (r Record) PromoteText() string {
	if r.Promote == nil {
		return ""
	}
	return *r.Promote
}

// WithPromote is r with Promote set to token.
func (r Record) WithPromote(token string) Record {
	r.Promote = &token
	return r
}
