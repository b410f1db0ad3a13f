package pipeline

import (
	"fmt"
	"strings"
	"time"

	"github.com/rolloutdev/terraform-provider-rollout/internal/problem"
	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

// What every resource that moves traffic shares: running a schedule on a
// listener or rule, and explaining how it ended.

// RefuseRetry adds an error (or, at plan time, a warning) when `to` is the
// target of the last rollout and that rollout did not ship it: it rolled
// back, was held where a gate failed (on_failure.rollback = "none"), or
// stopped because someone changed the subject during it. The change runs
// again only when rollout.attempt changes.
// phase says whether a check runs while planning (a warning) or applying
// (an error, and nothing moves).
type phase bool

const (
	atPlan  phase = true
	AtApply phase = false
)

// Operation says whether an apply creates or updates, for the timeout that
// bounds it.
type Operation bool

const (
	Creating Operation = true
	Updating Operation = false
)

func RefuseRetry(base problem.Path, last Record, to weights.Split, attempt string, diags Report, when phase) bool {
	if last.Target == "" || last.Target != to.Canonical() || last.Attempt != attempt {
		return false
	}
	how, title, ok := unshipped(last.Status, last.Gate, last.Rollback)
	if !ok {
		return false
	}
	label := "unset"
	if attempt != "" {
		label = fmt.Sprintf("%q", attempt)
	}
	what := fmt.Sprintf("This change (to %s) is the one the last rollout %s (%s), and rollout.attempt is still %s.", to.Short(), how, last.Reason, label)
	again := "To try it again deliberately, change rollout.attempt (for example to the next number or a ticket), then plan and apply. Otherwise set the configuration to what it serves now."
	if when == atPlan {
		diags.AddAttributeWarning(base.Name("rollout").Name("attempt"), title+" Planned Again", Detail(nil, what, "Apply will refuse it with nothing moved. "+again))
		return false
	}
	diags.AddAttributeError(base.Name("rollout").Name("attempt"), title+" Not Retried", Detail(nil, what+" Nothing was moved: a candidate that did not ship (rolled back, held or stopped) does not ship again with the next unrelated apply.", again))
	return true
}

// unshipped says whether a change that ended so did not ship and must not
// run again without a new rollout.attempt: it rolled back, stopped because
// someone changed the subject, or was held where a gate failed. A service
// a release rolled back because another failed (gate "release") is not:
// the failed one holds the release.
func unshipped(status, gate, rollback string) (how, title string, ok bool) {
	switch {
	case status == statusStopped:
		return "stopped mid-rollout when its execution was stopped by hand", "Stopped Change", true
	case status == string(rollout.RolledBack) && gate != string(rollout.GateRelease) && gate != string(rollout.GateAborted):
		return "rolled back", "Rolled-Back Change", true
	case status == string(rollout.Failed) && gate == string(rollout.GateChanged):
		return "stopped because someone changed it during the rollout", "Stopped Change", true
	case status == string(rollout.Failed) && rollback == string(rollout.None) && gate != "":
		return "held where a gate failed, not rolled back", "Held Change", true
	}
	return "", "", false
}

// GateWaits is what a schedule's gates add to its pauses: the metrics delay
// after every paused step.
func GateWaits(s Settings, steps []rollout.PlannedStep) time.Duration {
	if s.Gates.Metrics == nil {
		return 0
	}
	var d time.Duration
	for _, st := range steps {
		if st.Pause > 0 {
			d += s.Gates.Metrics.Delay
		}
	}
	return d
}

// ShortDuration writes whole minutes and hours as "30m" and "1h30m".
func ShortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
