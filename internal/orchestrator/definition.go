package orchestrator

import (
	"encoding/json"
	"fmt"
	"time"
)

// The state machine (Amazon States Language, JSONPath) of detached
// rollouts. One loop: Advance (one orchestrator call) → Next (done? wait?)
// → Wait (SecondsPath) → Advance. A call that fails is retried with
// back-off; when every retry fails, Recover (the same function, with the
// error) rolls back and the loop goes on. A run that did not succeed ends
// in Report, whose call fails with the run's report, so that the execution
// ends failed and its cause says why.
//
// Each poll costs three state transitions (Task, Choice, Wait) and nine
// history events (TaskStateEntered, LambdaFunctionScheduled, Started,
// Succeeded, TaskStateExited, ChoiceStateEntered, Exited, WaitStateEntered,
// Exited).

// Limits of Step Functions Standard workflows that a detached rollout must
// fit, and what each poll uses of them.
const (
	MaxHistoryEvents   = 25000
	MaxPayloadBytes    = 256 * 1024
	EventsPerCall      = 9
	TransitionsPerCall = 3
	// Retry of a failed call: after 2, 4 and 8 seconds.
	RetryAttempts        = 3
	RetryIntervalSeconds = 2
	RetryBackoffRate     = 2.0
	// PricePerTransition is the Standard workflows price in US East
	// (N. Virginia): USD 0.025 per 1,000 state transitions.
	PricePerTransition = 0.025 / 1000
)

type state map[string]any

// Definition is the state machine that calls the function functionARN.
func Definition(functionARN string) string {
	retry := []state{{
		"ErrorEquals":     []string{"States.ALL"},
		"IntervalSeconds": RetryIntervalSeconds,
		"MaxAttempts":     RetryAttempts,
		"BackoffRate":     RetryBackoffRate,
	}}
	def := state{
		"Comment": "Detached rollouts of terraform-provider-rollout: one orchestrator call per poll.",
		"StartAt": "Advance",
		"States": state{
			"Advance": state{
				"Type": "Task", "Resource": functionARN, "Retry": retry,
				"Catch": []state{{"ErrorEquals": []string{"States.ALL"}, "ResultPath": "$.error", "Next": "Recover"}},
				"Next":  "Next",
			},
			"Recover": state{
				"Type": "Task", "Resource": functionARN, "Retry": retry,
				"Catch": []state{{"ErrorEquals": []string{"States.ALL"}, "Next": "OrchestratorFailed"}},
				"Next":  "Next",
			},
			"Next": state{
				"Type": "Choice",
				"Choices": []state{
					{"Variable": "$.done", "BooleanEquals": true, "Next": "Ended"},
					{"Variable": "$.wait_seconds", "NumericGreaterThan": 0, "Next": "Wait"},
				},
				"Default": "Advance",
			},
			"Wait": state{"Type": "Wait", "SecondsPath": "$.wait_seconds", "Next": "Advance"},
			"Ended": state{
				"Type":    "Choice",
				"Choices": []state{{"Variable": "$.status", "StringEquals": "succeeded", "Next": "Succeeded"}},
				"Default": "Report",
			},
			"Succeeded": state{"Type": "Succeed"},
			"Report": state{
				"Type": "Task", "Resource": functionARN,
				"Parameters": state{"report": state{
					"execution.$": "$.job.execution", "status.$": "$.status", "result.$": "$.progress.result", "calls.$": "$.calls",
				}},
				"End": true,
			},
			"OrchestratorFailed": state{
				"Type": "Fail", "Error": "OrchestratorFailed",
				"Cause": "The orchestrator failed on every retry, and so did the recovery call that rolls back. The subject may be mid-rollout: run terraform plan to see what it serves.",
			},
		},
	}
	b, err := json.MarshalIndent(def, "", "  ")
	if err != nil {
		panic(err)
	}
	return string(b)
}

// Budget is what a detached rollout may use of Step Functions at most.
type Budget struct {
	// Calls is the most orchestrator calls the rollout can make: a poll
	// every PollInterval until the deadline, two calls per step and per
	// rollback step (a write starts a call of its own), the calls that
	// end it, and a tenth more for retries.
	Calls       int
	Events      int
	Transitions int
	// Cost is the most the state transitions cost, in USD.
	Cost float64
}

// BudgetOf is the budget of a rollout of steps steps polling every poll
// that must end within timeout.
func BudgetOf(steps int, poll, timeout time.Duration) Budget {
	if poll <= 0 {
		poll = time.Second
	}
	polls := int(timeout / max(poll.Round(time.Second), time.Second))
	calls := polls + 2*steps + 2*4 + 3
	calls += calls / 10
	return Budget{Calls: calls, Events: calls * EventsPerCall, Transitions: calls * TransitionsPerCall,
		Cost: float64(calls*TransitionsPerCall) * PricePerTransition}
}

// Fits says why a budget does not fit Step Functions' history, or "".
func (b Budget) Fits() string {
	if b.Events > MaxHistoryEvents {
		return fmt.Sprintf("at most %d orchestrator calls, %d history events, above Step Functions' %d per execution", b.Calls, b.Events, MaxHistoryEvents)
	}
	return ""
}
