package rollout

import (
	"context"
	"maps"
	"time"

	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

// Notices: what a run tells the people around it (SNS, EventBridge). The
// engine says what happened, in order, at the moment it happens; a
// Runner's Notify delivers. Both drivers send the same notices, since
// both run this code.

// NoticeType names a notice.
type NoticeType string

// The notices of a run.
const (
	NoticeStarted       NoticeType = "started"
	NoticeStepCompleted NoticeType = "step_completed"
	NoticeHeld          NoticeType = "held"
	NoticePromoted      NoticeType = "promoted"
	NoticeGateFailed    NoticeType = "gate_failed"
	NoticeRolledBack    NoticeType = "rolled_back"
	NoticeSucceeded     NoticeType = "succeeded"
	NoticeFailed        NoticeType = "failed"
	NoticeChanged       NoticeType = "changed_during_rollout"
)

// NoticeTypes lists every notice, in the order a run may send them.
var NoticeTypes = []NoticeType{NoticeStarted, NoticeStepCompleted, NoticeHeld, NoticePromoted, NoticeGateFailed, NoticeRolledBack, NoticeSucceeded, NoticeFailed, NoticeChanged}

// NoticeVersion is the version of the notices' JSON (docs: the event
// schema). A change that removes or renames a field is a new version.
const NoticeVersion = 1

// Notice is one thing that happened to a run.
type Notice struct {
	Version int        `json:"version"`
	Type    NoticeType `json:"type"`
	// Seq numbers the notices of one run from 1, in the order they
	// happened: SNS standard topics and EventBridge do not keep the order,
	// so a reader sorts a run's notices (subject_id, started_at) by seq.
	Seq         int    `json:"seq"`
	SubjectKind string `json:"subject_kind"`
	SubjectID   string `json:"subject_id"`
	// Step is the step the notice is about (from 1; 0 before any), of
	// Steps.
	Step  int `json:"step"`
	Steps int `json:"steps"`
	// Before and After are the weights before and after what the notice
	// says (a step, a rollback); equal when nothing moved.
	Before map[string]int `json:"weights_before"`
	After  map[string]int `json:"weights_after"`
	// Failure is the gate that failed and its reading (gate_failed,
	// rolled_back, failed, changed_during_rollout).
	Failure *Failure `json:"failure,omitempty"`
	// Policy is the rollback's (rolled_back, gate_failed).
	Policy  Policy    `json:"rollback,omitempty"`
	Attempt string    `json:"attempt,omitempty"`
	Started time.Time `json:"started_at"`
	At      time.Time `json:"at"`
	// Execution is a detached rollout's execution name.
	Execution string `json:"execution,omitempty"`
}

// notify builds and sends a notice; a failure to deliver is counted in the
// result, never fatal.
func (r *Runner) notify(ctx context.Context, p *Progress, t NoticeType, step int, before weights.Split) {
	if r.Notify == nil && r.Status == nil {
		return
	}
	p.Sent++
	n := r.notice(p, t, step, before)
	if r.Status != nil {
		r.Status(ctx, n)
	}
	if r.Notify == nil {
		return
	}
	if err := r.Notify(ctx, n); err != nil {
		p.Res.NotifyFailures++
		r.log("a notice was not delivered", "type", string(t), "error", Bound(err.Error()))
	}
}

// notice builds the notice of type t numbered p.Sent.
func (r *Runner) notice(p *Progress, t NoticeType, step int, before weights.Split) Notice {
	steps := len(p.Steps)
	if steps == 0 { // a rollback or a stabilization outside a schedule
		steps = p.Res.Steps
	}
	n := Notice{Version: NoticeVersion, Type: t, Seq: p.Sent, SubjectKind: r.SubjectKind, SubjectID: r.SubjectID, Step: step, Steps: steps,
		Before: before.Map(), After: p.Res.Current.Map(), Failure: p.Res.Failure, Attempt: r.Attempt, Started: p.Res.Started, At: r.Clock.Now(), Execution: r.Execution}
	if f := p.Res.Failure; f != nil {
		// The notice's own copy: it is encoded on the notifier's
		// goroutine while the run goes on (and may rewrite its failure).
		c := *f
		c.Reading = maps.Clone(f.Reading)
		n.Failure = &c
	}
	if t == NoticeGateFailed || t == NoticeRolledBack {
		n.Policy = p.Res.Policy
	}
	if t == NoticeStarted || t == NoticeStepCompleted || t == NoticeHeld || t == NoticePromoted || t == NoticeSucceeded {
		n.Failure = nil
	}
	return n
}

// restate records, in the status only, that the run is where a notice it
// sent earlier said (held again after a promote whose first write AWS
// refused): no notice is sent and none numbered, since nothing happened
// that readers of the notices have not been told.
func (r *Runner) restate(ctx context.Context, p *Progress, t NoticeType, step int, at time.Time) {
	if r.Status == nil {
		return
	}
	n := r.notice(p, t, step, p.Res.Current)
	n.At = at
	r.Status(ctx, n)
}
