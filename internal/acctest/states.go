package acctest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/rolloutdev/terraform-provider-rollout/internal/awsclient"
	"github.com/rolloutdev/terraform-provider-rollout/internal/clock"
	"github.com/rolloutdev/terraform-provider-rollout/internal/emulator"
	"github.com/rolloutdev/terraform-provider-rollout/internal/orchestrator"
)

// States plays the orchestrator's state machine (orchestrator.Definition)
// in-process, on the env's fake clock, for the executions the emulator's
// front holds: each call is one Task invocation of the orchestrator's
// Handle, with the definition's Retry, Catch and Recover, and its Wait
// states are the fake clock's. A test decides when calls are made and
// what goes wrong with them, so every call of a detached run happens at a
// point of its choosing and a seed replays. The orchestrator process and
// kumo's executor (acctest.RunOrchestrator, emulator.ServeStates) prove
// the same code end to end in real time; this proves its rules.
type States struct {
	e       *Env
	Machine string
	o       *orchestrator.Orchestrator
	plays   map[string]*play
	// Calls counts the orchestrator calls made, lost ones included.
	Calls int
	// Fault, when set, says what goes wrong with each call.
	Fault func(arn string) CallFault
	// NoticeClock bounds each publish of the orchestrator's notices (nil:
	// the real clock), as provider.WithNoticeClock does the provider's.
	NoticeClock clock.Clock
	// mu is held while a call is made or Run runs: Tick then does
	// nothing (a call's own waits, or another goroutine's, do not start
	// another call).
	mu sync.Mutex
}

// play is where one execution's state machine is.
type play struct {
	state orchestrator.State
	due   time.Time
}

// CallFault is what goes wrong with one call.
type CallFault string

const (
	// CallLost: the call runs to its end and its answer is lost (the
	// function timed out answering); the state machine retries it with
	// the same input.
	CallLost CallFault = "lost"
	// CallFailed: the call fails before it does anything, on every retry
	// of the definition's Retry; the Catch then calls Recover.
	CallFailed CallFault = "failed"
)

// NewStates holds the executions of a state machine named name (it needs
// no function: the front answers Start, Describe and Stop itself) and
// returns its player and ARN.
func (e *Env) NewStates(name string) *States {
	arn := fmt.Sprintf("arn:aws:states:%s:000000000000:stateMachine:%s", Region, name)
	e.Emu.HoldExecutions(arn, e.Clock.Now)
	u := e.Emu.URL
	clients := map[string]*awsclient.Client{}
	s := &States{e: e, Machine: arn, plays: map[string]*play{}}
	s.o = &orchestrator.Orchestrator{
		Clock: e.Clock,
		Log:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		Client: func(ctx context.Context, region string) (*awsclient.Client, error) {
			if c, ok := clients[region]; ok {
				return c, nil
			}
			c, err := awsclient.New(ctx, awsclient.Config{Region: region, MaxRetries: awsclient.DefaultMaxRetries, ProviderVersion: "orchestrator/test", NoticeClock: s.NoticeClock,
				Endpoints: awsclient.Endpoints{ELBv2: u, CloudWatch: u, Lambda: u, SSM: u, StepFunctions: u, SNS: u, EventBridge: u, ECS: u, CodeDeploy: u}}, e.Clock)
			if err != nil {
				return nil, err
			}
			clients[region] = c
			return c, nil
		},
	}
	return s
}

// Running lists the executions of the machine that run, oldest first.
func (s *States) Running() []string {
	var out []string
	for _, arn := range s.e.Emu.RunningExecutions() {
		if strings.HasPrefix(arn, strings.Replace(s.Machine, ":stateMachine:", ":execution:", 1)+":") {
			out = append(out, arn)
		}
	}
	return out
}

// playOf is the execution's play, from its input at its first call.
func (s *States) playOf(arn string) (*play, error) {
	if p, ok := s.plays[arn]; ok {
		return p, nil
	}
	for _, x := range s.e.Emu.Executions() {
		if x.ARN != arn {
			continue
		}
		p := &play{due: x.Start}
		if err := json.Unmarshal([]byte(x.Input), &p.state); err != nil {
			return nil, fmt.Errorf("the execution's input is not a state: %w", err)
		}
		s.plays[arn] = p
		return p, nil
	}
	return nil, fmt.Errorf("no execution %s", arn)
}

// Due is when the execution's next call is made (its Wait state ends).
func (s *States) Due(arn string) time.Time {
	p, err := s.playOf(arn)
	if err != nil {
		return time.Time{}
	}
	return p.due
}

// Call makes the execution's next call now, with fault, as the state
// machine would: Advance (or Recover after a Catch), then Next, and the
// end (Succeeded, or Report, whose failure ends the execution FAILED with
// the run's report as its cause). It returns whether the execution ended.
func (s *States) Call(ctx context.Context, arn string, fault CallFault) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.call(ctx, arn, fault)
}

func (s *States) call(ctx context.Context, arn string, fault CallFault) (bool, error) {
	p, err := s.playOf(arn)
	if err != nil {
		return false, err
	}
	in := p.state
	switch fault {
	case CallFailed:
		// Every retry failed before anything was done (the retries wait
		// 2, 4 and 8 s); the Catch puts the error at $.error, and Recover
		// is the same function with it.
		for i := 0; i < orchestrator.RetryAttempts; i++ {
			_ = s.e.Clock.Sleep(ctx, time.Duration(orchestrator.RetryIntervalSeconds<<i)*time.Second)
		}
		in.Error = &orchestrator.TaskError{Error: "Lambda.ServiceException", Cause: "the function failed (a test's fault)"}
	case CallLost:
		s.Calls++
		if _, err := s.o.Handle(ctx, in); err != nil {
			return false, err
		}
		// The answer is lost: the retry (2 s later) has the same input.
		_ = s.e.Clock.Sleep(ctx, time.Duration(orchestrator.RetryIntervalSeconds)*time.Second)
	}
	s.Calls++
	out, err := s.o.Handle(ctx, in)
	if err != nil {
		return false, err
	}
	p.state = out
	if !out.Done {
		p.due = s.e.Clock.Now().Add(time.Duration(out.WaitSeconds) * time.Second)
		return false, nil
	}
	s.e.Emu.SetExecution(arn, func(x *emulator.Execution) {
		x.Stop = s.e.Clock.Now()
		b, _ := json.Marshal(out)
		if out.Status == "succeeded" {
			x.Status, x.Output = "SUCCEEDED", string(b)
			return
		}
		rep := orchestrator.Report{Execution: out.Job.Execution, Status: out.Progress.Res.Status, Result: out.Progress.Result(), Calls: out.Calls}
		e := &orchestrator.Ended{Report: rep}
		cause, _ := json.Marshal(map[string]string{"errorMessage": e.Error(), "errorType": e.ErrorType()})
		x.Status, x.Error, x.Cause = "FAILED", e.ErrorType(), string(cause)
	})
	return true, nil
}

// next is the running execution whose call falls due first.
func (s *States) next() (string, time.Time) {
	var next string
	var due time.Time
	for _, arn := range s.Running() {
		if d := s.Due(arn); next == "" || d.Before(due) {
			next, due = arn, d
		}
	}
	return next, due
}

func (s *States) fault(arn string) CallFault {
	if s.Fault == nil {
		return ""
	}
	return s.Fault(arn)
}

// Tick makes the calls that are due now, as Step Functions makes them
// while the apply waits: a test calls it from the fake clock's OnSleep, so
// that the provider's own waits (the apply waits for a detached run's first
// step) see the run go on. It does nothing inside a call or Run.
func (s *States) Tick(ctx context.Context) error {
	if !s.mu.TryLock() {
		return nil
	}
	defer s.mu.Unlock()
	for {
		next, due := s.next()
		if next == "" || due.After(s.e.Clock.Now()) {
			return nil
		}
		if _, err := s.call(ctx, next, s.fault(next)); err != nil {
			return err
		}
	}
}

// Run makes the calls of every running execution that fall due until the
// fake clock reaches until (each Wait state ends on the fake clock), in
// the order they fall due. It stops early when stop, asked before each
// call, says so.
func (s *States) Run(ctx context.Context, until time.Time, stop func() bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for stop == nil || !stop() {
		next, due := s.next()
		if next == "" || due.After(until) {
			break
		}
		if wait := due.Sub(s.e.Clock.Now()); wait > 0 {
			_ = s.e.Clock.Sleep(ctx, wait)
		}
		if _, err := s.call(ctx, next, s.fault(next)); err != nil {
			return err
		}
	}
	if wait := until.Sub(s.e.Clock.Now()); wait > 0 && (stop == nil || !stop()) {
		_ = s.e.Clock.Sleep(ctx, wait)
	}
	return nil
}
