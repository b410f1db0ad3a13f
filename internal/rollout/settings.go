package rollout

import "time"

// Settings are a rollout's settings as its configuration gives them, in
// one value: the provider parses them from a rollout block, the
// orchestrator's job carries them (their JSON is the job's: the field
// names of job version 1), and the Runner reads them. What a driver adds
// (its clock, deadline, hooks and notifier) is the Runner's own.
type Settings struct {
	// Gates are checked before each shift and polled during each pause,
	// every PollInterval.
	Gates        Gates         `json:"gates"`
	PollInterval time.Duration `json:"poll_interval"`
	// Policy is how a failed gate rolls back.
	Policy Policy `json:"policy"`
	// IgnoreReadFailures lets the rollout go on without a gate (health,
	// alarms or metrics, each on its own) whose reads failed
	// MaxReadFailures times in a row (CodeDeploy's ignorePollAlarmFailure).
	// A hook that cannot be invoked still fails its step.
	IgnoreReadFailures bool `json:"ignore_read_failures,omitempty"`
	// Flags are the flags a feature_flag rollback switches off.
	Flags []string `json:"flags,omitempty"`
	// Topic and Bus are where notices go (rollout.notifications); Attempt
	// labels them (rollout.attempt).
	Topic   string `json:"sns_topic_arn,omitempty"`
	Bus     string `json:"event_bus_name,omitempty"`
	Attempt string `json:"attempt,omitempty"`
	// HoldTimeout, when above zero, bounds a hold watched by Promoted;
	// then HoldAction (Gradual, Immediate or Auto: roll back; "promote":
	// go on) is taken.
	HoldTimeout time.Duration `json:"hold_timeout,omitempty"`
	HoldAction  string        `json:"hold_action,omitempty"`
}
