package emulator

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Executions held by the front: for a state machine a test names
// (HoldExecutions), the front answers StartExecution, DescribeExecution and
// StopExecution itself, from the Step Functions API reference, and keeps
// each execution's input, status, output and cause; the test moves them
// (Execution, SetExecution) as the state machine would. kumo's own
// executor runs in real time, calls Lambda on a fixed port and keeps only
// the start and end of a history: a test on the fake clock that plays the
// state machine itself (acctest.States) needs none of that, and every call
// of its rollouts then happens at a point of the test's choosing.

// Execution is one execution of a held state machine.
type Execution struct {
	ARN, StateMachine, Name string
	Status                  string // RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED
	Input, Output           string
	Error, Cause            string
	Start, Stop             time.Time
}

type heldExecutions struct {
	mu       sync.Mutex
	machines map[string]bool
	execs    map[string]*Execution
	order    []string
	now      func() time.Time
}

func (e *Emulator) held() *heldExecutions {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.executions == nil {
		e.executions = &heldExecutions{machines: map[string]bool{}, execs: map[string]*Execution{}, now: time.Now}
	}
	return e.executions
}

// HoldExecutions makes the front answer for the executions of the state
// machine ARN; now is the clock their dates are taken from.
func (e *Emulator) HoldExecutions(stateMachine string, now func() time.Time) {
	h := e.held()
	h.mu.Lock()
	defer h.mu.Unlock()
	h.machines[stateMachine] = true
	if now != nil {
		h.now = now
	}
}

// Executions lists the held executions in the order they started.
func (e *Emulator) Executions() []Execution {
	h := e.held()
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]Execution, 0, len(h.order))
	for _, arn := range h.order {
		out = append(out, *h.execs[arn])
	}
	return out
}

// SetExecution changes a held execution as the state machine would.
func (e *Emulator) SetExecution(arn string, change func(x *Execution)) {
	h := e.held()
	h.mu.Lock()
	defer h.mu.Unlock()
	if x, ok := h.execs[arn]; ok {
		change(x)
	}
}

// serveExecutions answers the calls of a held state machine's executions;
// false leaves the request to kumo.
func (e *Emulator) serveExecutions(w http.ResponseWriter, action string, body []byte) bool {
	switch action {
	case "states:StartExecution", "states:DescribeExecution", "states:StopExecution":
	default:
		return false
	}
	e.mu.Lock()
	none := e.executions == nil
	e.mu.Unlock()
	if none {
		return false
	}
	var in map[string]any
	if err := json.Unmarshal(body, &in); err != nil {
		return false
	}
	str := func(k string) string { s, _ := in[k].(string); return s }
	h := e.held()
	h.mu.Lock()
	defer h.mu.Unlock()
	switch action {
	case "states:StartExecution":
		sm := str("stateMachineArn")
		if !h.machines[sm] {
			return false
		}
		name := str("name")
		arn := strings.Replace(sm, ":stateMachine:", ":execution:", 1) + ":" + name
		if x, ok := h.execs[arn]; ok {
			// The same name and input while it runs is the same execution;
			// anything else is refused (the API reference's idempotency).
			if x.Input != str("input") || x.Status != "RUNNING" {
				statesError(w, http.StatusBadRequest, "ExecutionAlreadyExists", "Execution Already Exists: '"+arn+"'")
				return true
			}
			statesAnswer(w, map[string]any{"executionArn": arn, "startDate": epoch(x.Start)})
			return true
		}
		x := &Execution{ARN: arn, StateMachine: sm, Name: name, Status: "RUNNING", Input: str("input"), Start: h.now()}
		h.execs[arn] = x
		h.order = append(h.order, arn)
		statesAnswer(w, map[string]any{"executionArn": arn, "startDate": epoch(x.Start)})
		return true
	}
	// Describe and Stop name an execution.
	x, ok := h.execs[str("executionArn")]
	if !ok {
		if !h.heldMachineOf(str("executionArn")) {
			return false
		}
		statesError(w, http.StatusBadRequest, "ExecutionDoesNotExist", "Execution Does Not Exist: '"+str("executionArn")+"'")
		return true
	}
	switch action {
	case "states:DescribeExecution":
		out := map[string]any{"executionArn": x.ARN, "stateMachineArn": x.StateMachine, "name": x.Name, "status": x.Status,
			"startDate": epoch(x.Start), "input": x.Input}
		if x.Status != "RUNNING" {
			out["stopDate"] = epoch(x.Stop)
		}
		for k, v := range map[string]string{"output": x.Output, "error": x.Error, "cause": x.Cause} {
			if v != "" {
				out[k] = v
			}
		}
		statesAnswer(w, out)
		return true
	default: // StopExecution
		if x.Status == "RUNNING" {
			x.Status, x.Stop, x.Error, x.Cause = "ABORTED", h.now(), str("error"), str("cause")
		}
		statesAnswer(w, map[string]any{"stopDate": epoch(x.Stop)})
		return true
	}
}

// heldMachineOf reports whether an execution ARN is of a held machine.
func (h *heldExecutions) heldMachineOf(arn string) bool {
	i := strings.LastIndex(arn, ":")
	if i < 0 {
		return false
	}
	sm := strings.Replace(arn[:i], ":execution:", ":stateMachine:", 1)
	return h.machines[sm]
}

// RunningExecutions lists the ARNs of the held executions that run, in the
// order they started.
func (e *Emulator) RunningExecutions() []string {
	h := e.held()
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, arn := range h.order {
		if h.execs[arn].Status == "RUNNING" {
			out = append(out, arn)
		}
	}
	return out
}

func statesAnswer(w http.ResponseWriter, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	_, _ = w.Write(b)
}
