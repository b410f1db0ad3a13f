// Package orchestrator is the detached driver of the rollout engine: the
// code of the orchestrator Lambda that a Step Functions state machine calls
// once per poll. Each call takes the execution's State, makes one
// rollout.Runner.Advance on it and returns it with how long to wait. The
// gates, the write path and the rollback are the engine's; nothing here
// decides anything about traffic.
package orchestrator

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
	"github.com/rolloutdev/terraform-provider-rollout/internal/subjects"
)

// JobVersion is the version of the Job and State formats. An orchestrator
// refuses a job of another version: the provider and the orchestrator
// come from the same release. Version 2: the first call sends the run's
// started notice (State.Announce). Version 3: the progress says a refused
// promote by its count of refusals alone (rollout.Progress.Refusals); the
// refused state of older ones is read as a refusal
// (rollout.Progress.OldRefused).
const JobVersion = 3

// OldestJobVersion is the oldest job an orchestrator still runs: a run of
// the previous release in flight when the orchestrator is upgraded (a
// canary held for days) goes on. A version 1 job is a version 2 one
// whose started notice its apply sent; a version 2 one is a version 3 one
// whose progress may carry the refused state.
const OldestJobVersion = 1

// Job is a detached rollout: everything the orchestrator needs besides the
// progress. The apply that starts the execution writes it; nothing changes
// it after.
type Job struct {
	Version int `json:"v"`
	// Region is where the subject lives (the provider's region).
	Region  string       `json:"region"`
	Subject subjects.Ref `json:"subject"`
	// Owner is the lease the rollout runs under: when the subject's owner
	// tag names another, someone else took it and the run stops.
	Owner string `json:"owner"`
	// Execution is the execution's name, as RunTag names it.
	Execution string `json:"execution"`
	// Settings are the rollout's, as the provider parsed them; their
	// fields sit in the job's JSON as in version 1. SwitchOffSelf
	// switches the subject's own kill switch (a flag's ramp).
	rollout.Settings
	SwitchOffSelf bool `json:"switch_off_self,omitempty"`
	// Deadline is when the rollout must have ended: past it, the run rolls
	// back, as an apply that reaches its timeout does.
	Deadline time.Time `json:"deadline"`
}

// State is the execution's payload: the input and the output of every call.
type State struct {
	Job      Job              `json:"job"`
	Progress rollout.Progress `json:"progress"`
	// WaitSeconds is how long the state machine waits before the next
	// call; Done ends the execution, with the run's Status.
	WaitSeconds int    `json:"wait_seconds"`
	Done        bool   `json:"done"`
	Status      string `json:"status,omitempty"`
	// Error is set by the state machine's Catch when every retry of a call
	// failed: the next call (Recover) rolls back.
	Error *TaskError `json:"error,omitempty"`
	// Calls counts the calls made, for the status view and the bench.
	Calls int `json:"calls"`
	// Announce are the notices the apply built when it started the run
	// (started), sent by the first call: the execution exists then, so a
	// run is announced exactly once whether or not the apply learnt that
	// its start was made (a start whose answer was lost), and never when
	// it was not. A repeat of the first call sends them again, the same
	// seq.
	Announce []rollout.Notice `json:"announce,omitempty"`
}

// TaskError is what a Catch puts at ResultPath.
type TaskError struct {
	Error string `json:"Error"`
	Cause string `json:"Cause"`
}

// Check refuses a job that cannot run.
func (j Job) Check() error {
	var errs []error
	if j.Version < OldestJobVersion || j.Version > JobVersion {
		errs = append(errs, fmt.Errorf("the job is version %d and this orchestrator runs versions %d to %d: deploy the orchestrator of the provider's release", j.Version, OldestJobVersion, JobVersion))
	}
	if err := j.Subject.Check(); err != nil {
		errs = append(errs, err)
	}
	if j.Region == "" {
		errs = append(errs, errors.New("the job names no region"))
	}
	if j.PollInterval <= 0 {
		errs = append(errs, errors.New("the job's poll interval must be positive"))
	}
	if j.Deadline.IsZero() {
		errs = append(errs, errors.New("the job has no deadline"))
	}
	return errors.Join(errs...)
}

// NewState is the input of an execution: the job and the progress of a run
// through steps from from.
func NewState(j Job, p *rollout.Progress) State {
	return State{Job: j, Progress: *p}
}

// Size is the state's size as JSON, which Step Functions bounds.
func (s State) Size() int {
	b, _ := json.Marshal(s)
	return len(b)
}
