package pipeline

import (
	"time"

	"github.com/rolloutdev/terraform-provider-rollout/internal/awsclient"
	"github.com/rolloutdev/terraform-provider-rollout/internal/problem"
	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

// What the pipeline reads of a rollout block (Settings), and what it
// makes of it: the schedule, the record of a run, where a failed gate is
// reported.

// Limits of a rollout block the pipeline counts with.
const (
	MaxPause            = 24 * time.Hour
	MaxPollInterval     = time.Hour
	MaxHealthTimeout    = 2 * time.Hour
	MaxMetricsDelay     = 15 * time.Minute
	DefaultPollInterval = 15 * time.Second
	// PauseHold is a step's pause that holds.
	PauseHold          = "hold"
	MaxDetachedTimeout = 366 * 24 * time.Hour
)

// FlagValueRoom is what a rollback may add to a flag's document
// (kill_switch true and a kill_switch_reason of at most
// awsclient.MaxKillSwitchReason bytes), kept free under the tier's size limit.
const FlagValueRoom = len(`,"kill_switch":true,"kill_switch_reason":""`) + awsclient.MaxKillSwitchReason

// Settings is the rollout block in the rollout package's terms.
type Settings struct {
	// Settings are what the Runner reads and the orchestrator's job
	// carries: gates, poll interval, rollback policy, flags, notices,
	// attempt, hold timeout and action.
	rollout.Settings
	Strategy rollout.Strategy
	// Detached, when set, runs the schedule on the orchestrator.
	Detached *Detached
	// Promote is rollout.promote.
	Promote string
	// Removed says the rollout block is not set (null).
	Removed bool
}

// Detached is rollout.execution with mode = "detached".
type Detached struct {
	Orchestrator string
	// Timeout is rollout.execution.timeout; zero for the default.
	Timeout time.Duration
}

// NewRecord records a run that went to `to` as attempt.
func NewRecord(res rollout.Result, to weights.Split, attempt string) Record {
	gate, policy := "", ""
	if res.Failure != nil {
		gate = string(res.Failure.Gate)
	}
	if res.Status == rollout.RolledBack || res.Policy == rollout.None {
		policy = string(res.Policy)
	}
	return Record{
		Presence:           Known,
		Status:             string(res.Status),
		StepReached:        int64(res.StepReached),
		Steps:              int64(res.Steps),
		Gate:               gate,
		Reason:             res.Summary(),
		Rollback:           policy,
		StartedAt:          res.Started.UTC().Format(time.RFC3339),
		FinishedAt:         res.Finished.UTC().Format(time.RFC3339),
		Target:             to.Canonical(),
		Attempt:            attempt,
		Serving:            res.Current.Canonical(),
		NoticesUndelivered: int64(res.NotifyFailures),
		Staggered:          staggeredText(res.Staggered),
	}.WithPromote("")
}

// staggeredText is a run's stagger as last_rollout.staggered: "" when it
// started at once.
func staggeredText(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	return d.Round(time.Millisecond).String()
}

// Schedule is the plan of a shift from one split to another: none when
// equal, one step when from is empty (the listener did not forward).
func Schedule(from, to weights.Split, st rollout.Strategy) ([]rollout.PlannedStep, error) {
	if len(from) == 0 || from.Total() == 0 {
		if from.Equal(to) {
			return nil, nil
		}
		return []rollout.PlannedStep{{Percent: 100, Weights: append(weights.Split(nil), to...)}}, nil
	}
	return rollout.Plan(from, to, st)
}

// GatePath is the attribute a failed gate is reported on; attr is the
// subject's (for a write AWS refused), and its rollout block is beside it.
func GatePath(g rollout.Gate, attr problem.Path) problem.Path {
	gates := attr.Parent().Name("rollout").Name("gates")
	switch g {
	case rollout.GateHealth:
		return gates.Name("health")
	case rollout.GateAlarm:
		return gates.Name("alarms")
	case rollout.GateErrorRate:
		return gates.Name("metrics").Name("max_error_rate_percent")
	case rollout.GateLatency:
		return gates.Name("metrics").Name("max_p99_latency_ms")
	case rollout.GateVolume:
		return gates.Name("metrics").Name("min_request_count")
	case rollout.GateHook:
		return gates.Name("hooks")
	case rollout.GateMetrics:
		return gates.Name("metrics")
	case rollout.GateTimeout:
		return problem.At("timeouts")
	}
	return attr
}
