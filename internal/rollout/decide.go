package rollout

import (
	"fmt"

	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

// Gate names what stopped a step.
type Gate string

// Gates.
const (
	GateHealth    Gate = "health"
	GateAlarm     Gate = "alarms"
	GateErrorRate Gate = "metrics.max_error_rate_percent"
	GateLatency   Gate = "metrics.max_p99_latency_ms"
	GateVolume    Gate = "metrics.min_request_count"
	GateHook      Gate = "hooks"
	// GateApply is AWS refusing a step's weights.
	GateApply Gate = "apply"
	// GateMetrics is the metrics gate when the metrics cannot be read.
	GateMetrics Gate = "metrics"
	// GateTimeout is the apply reaching its timeout mid-rollout.
	GateTimeout Gate = "timeouts"
	// GateRelease is a release rolling back a service that succeeded,
	// because another service of the release failed.
	GateRelease Gate = "release"
	// GateChanged is someone else changing the subject during the
	// rollout: the rollout stops and writes nothing more.
	GateChanged Gate = "changed_during_rollout"
	// GateAborted is an apply aborting a detached rollout: the
	// configuration went back to where it started.
	GateAborted Gate = "aborted"
	// GateOrchestrator is a detached rollout's orchestrator failing on
	// every retry: the recovery call rolls back.
	GateOrchestrator Gate = "orchestrator"
	// GateHold is a hold not promoted within its timeout.
	GateHold Gate = "hold"
)

// Failure is a failed gate and what was seen.
type Failure struct {
	Gate Gate `json:"gate"`
	// HealthyFraction is, for the health gate, the share of the gaining
	// target groups' targets that were healthy (0 to 1).
	HealthyFraction float64 `json:"healthy_fraction,omitempty"`
	Reason          string  `json:"reason"`
	// Step is the step (from 1) at which the gate failed.
	Step int `json:"step"`
	// Unreadable is true when the gate failed because it could not be read.
	Unreadable bool `json:"unreadable,omitempty"`
	// Reading is what the gate read, by name: an alarm's name, state and
	// state reason; a target group's requests, errors and error rate; the
	// healthy and registered targets; a hook's status and reason.
	Reading map[string]string `json:"reading,omitempty"`
}

// Policy says how to roll back.
type Policy string

// Rollback policies; Auto chooses by DecisionTable.
const (
	Auto Policy = "auto"
	// FeatureFlag switches the rollout's named flags off (their kill
	// switch on) and leaves traffic where it is: the brief's third
	// strategy, for degradations the new features cause.
	FeatureFlag Policy = "feature_flag"
	// KillSwitch is a flag rollout's own: the flag's kill switch on,
	// its percentage left as it is.
	KillSwitch Policy = "kill_switch"
	Immediate  Policy = "immediate"
	Gradual    Policy = "gradual"
	// None is no rollback: a failed gate leaves the subject where it is
	// (a release's on_failure.rollback = "none"; Runner.Hold).
	None Policy = "none"
)

// DecisionTable is what Auto does, gate by gate. It is the documented
// behaviour; Decide implements exactly this.
//
//	health, fewer than half of the gaining targets healthy  immediate
//	health, half or more healthy                            gradual
//	alarms (an alarm in ALARM)                              immediate
//	metrics.max_error_rate_percent exceeded                 immediate
//	metrics.max_p99_latency_ms exceeded                     gradual
//	metrics.min_request_count not reached                   gradual
//	hooks (a hook failed)                                   immediate
func Decide(p Policy, f Failure) Policy {
	if p == Immediate || p == Gradual || p == FeatureFlag || p == KillSwitch {
		return p
	}
	switch f.Gate {
	case GateHealth:
		if f.HealthyFraction < 0.5 {
			return Immediate
		}
		return Gradual
	case GateLatency, GateVolume:
		return Gradual
	default: // alarms, error rate, hooks, and anything unforeseen: the safe way
		return Immediate
	}
}

// DecideWithFlags is Decide when the rollout names flags it can switch off:
// auto then sends latency and throughput degradations (the decision table's
// third row) to the feature_flag strategy, and errors, alarms, health and
// hooks still move traffic back.
//
//	metrics.max_p99_latency_ms exceeded, flags named        feature_flag
//	metrics.min_request_count not reached, flags named      feature_flag
func DecideWithFlags(p Policy, f Failure, flags bool) Policy {
	d := Decide(p, f)
	if p == Auto && flags && (f.Gate == GateLatency || f.Gate == GateVolume) && !f.Unreadable {
		return FeatureFlag
	}
	return d
}

// RollbackFractions are the points of a gradual rollback, in percent of the
// way back.
var RollbackFractions = []int{25, 50, 75, 100}

// RollbackPlan returns the forward actions that take the listener from
// `now` back to `original`: one step for Immediate, four for Gradual (25, 50,
// 75 and 100 % of the way). The last step equals original exactly.
func RollbackPlan(now, original weights.Split, p Policy) ([]PlannedStep, error) {
	switch p {
	case Immediate:
		return Plan(now, original, Strategy{Kind: AllAtOnce})
	case Gradual:
		var steps []Step
		for _, f := range RollbackFractions {
			steps = append(steps, Step{Percent: f})
		}
		return Plan(now, original, Strategy{Kind: Canary, Steps: steps})
	}
	return nil, fmt.Errorf("rollback policy %q must be immediate or gradual here (auto is decided first)", p)
}
