package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rolloutdev/terraform-provider-rollout/internal/awsclient"
	"github.com/rolloutdev/terraform-provider-rollout/internal/orchestrator"
	"github.com/rolloutdev/terraform-provider-rollout/internal/problem"
	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
	"github.com/rolloutdev/terraform-provider-rollout/internal/subjects"
	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

// Detached rollouts: the pipeline up to the first write is the apply's
// (plan check, retry rule, claim, read before write); the run is given to
// the orchestrator as a job and a progress, and the apply returns once the
// first step is confirmed. A refresh reads the execution and the subject;
// reverting the configuration to where the rollout started aborts it,
// through the same rollback, in AWS.

// Statuses of a detached rollout that the rollout package does not have.
const (
	StatusRunning = "running"
	statusStopped = "stopped"
)

// detachedPoll is how soon an apply first looks again at a detached
// rollout it waits for (its first step, an abort, a destroy's stop), so
// that an orchestrator that answers at once is seen at once.
const detachedPoll = 250 * time.Millisecond

// detachedPollMax is the most an apply waits between two looks at a
// detached rollout: the end of an abort is seen within it.
const detachedPollMax = 5 * time.Second

// detachedPace paces an apply's wait on a detached rollout: the first
// look again after detachedPoll, each later one twice as long as the one
// before, up to ceiling (the rollout's poll interval, a destroy's
// stopPoll, kept between detachedPoll and detachedPollMax: the
// orchestrator moves once a poll interval at most), and back to
// detachedPoll when the run is seen to move. An hour's wait for an
// orchestrator that does not move costs some 730 looks, not 14,400 (each
// look is one or two requests from the API budget).
type detachedPace struct{ next, ceiling time.Duration }

func newDetachedPace(poll time.Duration) *detachedPace {
	return &detachedPace{next: detachedPoll, ceiling: min(max(poll, detachedPoll), detachedPollMax)}
}

// wait is how long to wait before the next look; moved says the last look
// saw the run move.
func (p *detachedPace) wait(moved bool) time.Duration {
	if moved {
		p.next = detachedPoll
	}
	d := p.next
	p.next = min(p.next*2, p.ceiling)
	return d
}

// detachedTimeout is rollout.execution.timeout, or by default the
// schedule's own length and a half, plus 15 minutes.
func detachedTimeout(s Settings, steps []rollout.PlannedStep) time.Duration {
	if s.Detached != nil && s.Detached.Timeout > 0 {
		return s.Detached.Timeout
	}
	waits := rollout.TotalPause(steps) + GateWaits(s, steps)
	for _, st := range steps {
		switch {
		case st.Hold && s.HoldTimeout > 0:
			waits += s.HoldTimeout
		case st.Hold:
			// A hold without a timeout waits until the execution's: give
			// it an hour unless rollout.execution.timeout says otherwise.
			waits += time.Hour
		}
	}
	if g := s.Gates.Health; g != nil {
		waits += time.Duration(len(steps)) * g.Timeout
	}
	return min(waits*3/2+15*time.Minute, MaxDetachedTimeout)
}

// executionName names the execution of a change: the subject, where it
// starts, where it goes, the attempt and the run before it (prior: the
// state's last_rollout execution and started_at). Starting it twice (an
// apply retried after a lost answer, from the same state) is starting the
// same execution; the same change made again after its run ended (back
// and forth between two versions) is another run, and another name: Step
// Functions refuses a name it has run for 90 days.
func executionName(subject string, from, to weights.Split, attempt, prior string) string {
	h := sha256.Sum256([]byte(subject + "\n" + from.Canonical() + "\n" + to.Canonical() + "\n" + attempt + "\n" + prior))
	return "rollout-" + hex.EncodeToString(h[:12])
}

// nameOfExecution is the last part of an execution ARN.
func nameOfExecution(arn string) string { return arn[strings.LastIndex(arn, ":")+1:] }

// checkDetached refuses, at plan, a detached rollout that cannot fit one
// Step Functions execution: its calls in the history, its state in a
// payload.
func checkDetached(base problem.Path, s Settings, steps []rollout.PlannedStep, diags Report) {
	if s.Detached == nil || len(steps) == 0 {
		return
	}
	timeout := detachedTimeout(s, steps)
	b := orchestrator.BudgetOf(len(steps), s.PollInterval, timeout)
	if why := b.Fits(); why != "" {
		poll := s.PollInterval
		for orchestrator.BudgetOf(len(steps), poll, timeout).Fits() != "" && poll < MaxPollInterval {
			poll += time.Second
		}
		diags.AddAttributeError(base.Name("rollout").Name("execution").Name("timeout"), "Detached Rollout Too Long For One Execution", Detail(nil,
			fmt.Sprintf("Polling every %s for up to %s, the rollout could make %s.", s.PollInterval, timeout, why),
			fmt.Sprintf("Set rollout.poll_interval to %s or more, or rollout.execution.timeout lower.", ShortDuration(poll))))
	}
	st := orchestrator.NewState(orchestrator.Job{Version: orchestrator.JobVersion, Settings: rollout.Settings{Gates: s.Gates, Flags: s.Flags}}, worstProgress(steps))
	if n := st.Size(); n > orchestrator.MaxPayloadBytes*9/10 {
		diags.AddAttributeError(base.Name("rollout"), "Detached Rollout Too Large For One Execution", Detail(nil,
			fmt.Sprintf("The rollout's state would be %d bytes, and Step Functions carries at most %d between states.", n, orchestrator.MaxPayloadBytes),
			"Use fewer steps (a linear step_percent of 5 or more) or fewer target groups."))
	}
}

// worstProgress is the largest progress a run of steps carries: rolled
// back step by step from its last step.
func worstProgress(steps []rollout.PlannedStep) *rollout.Progress {
	last := steps[len(steps)-1].Weights
	p := &rollout.Progress{From: steps[0].Weights, Steps: steps, Gaining: rollout.Gaining(steps[0].Weights, last), Phase: rollout.PhaseBack,
		Step: len(steps), Back: steps, Res: rollout.Result{Steps: len(steps), Current: last, Started: time.Unix(0, 0)}}
	for _, st := range steps {
		p.Res.RollbackSteps = append(p.Res.RollbackSteps, st.Weights)
	}
	return p
}

// withRun is a last_rollout with a detached rollout's own fields set.
func withRun(last Record, from weights.Split, execution string, serving weights.Split) Record {
	last.From, last.Execution, last.Serving = from.Canonical(), execution, serving.Canonical()
	return last
}

// startDetached gives a checked change to the orchestrator and waits until
// its first step is confirmed (or the execution ended first).
func startDetached(ctx context.Context, c *awsclient.Client, s Subject, ch Change, steps []rollout.PlannedStep, diags Report) Outcome {
	out := Outcome{Steps: steps}
	name := executionName(s.ID(), ch.From, ch.To, ch.Settings.Attempt, priorRun(ctx, s, ch.Last))
	at := s.Attr().Parent().Name("rollout").Name("execution")
	input, p, status, ok := detachedInput(ctx, c, s, ch, steps, name, at, diags)
	if !ok {
		return out
	}
	arn, started := startExecution(ctx, c, s, ch, name, input, status, at, diags)
	switch started {
	case notStarted:
		return out
	case startUnknown:
		res := rollout.Result{Status: StatusRunning, Steps: len(steps), Current: ch.To, Started: p.Res.Started}
		out.Moved, out.execution, out.Res = true, arn, res
		out.Record = recordDetached(ch, res, StatusRunning, arn, ch.From)
		return out
	}
	Log.Info(ctx, "detached rollout started", map[string]any{"execution": arn, "steps": len(steps)})
	out.Moved, out.execution = true, arn
	awaitFirstStep(ctx, c, s, ch, arn, p, &out, diags)
	return out
}

// priorRun is what a detached run's execution name chains to: the last
// run the state records. With no record (a create, an import), it is the
// Subject's run tag when that names a run that ended (or was asked to):
// the same change made again after an import or a re-create is then a new
// execution, not the name of one Step Functions keeps with another input.
// A run tag that says a run is in progress is not chained to: an apply
// repeated after its start was made names the same execution.
func priorRun(ctx context.Context, s Subject, last Record) string {
	if x := last.Execution; x != "" {
		return x + "\n" + last.StartedAt
	}
	l, err := s.Lease().ReadLease(ctx)
	if run, ok := orchestrator.ParseRunTag(l.Run); err != nil || l.Run == "" || ok && run.Running() {
		return "\n"
	}
	return l.Run
}

// detachedInput is the execution's input for a change: the orchestrator's
// job, with the run's progress at its start.
//
// The run's first notice (started) is built here and carried in the
// input: the orchestrator's first call sends it, so that it is sent once
// the execution exists, whether or not this apply learns that (a start
// whose answer was lost), and never for a run that did not start. Its
// status is kept in status, written before the start (the orchestrator's
// first call may write the next one at once).
func detachedInput(ctx context.Context, c *awsclient.Client, s Subject, ch Change, steps []rollout.PlannedStep, name string, at problem.Path, diags Report) (string, *rollout.Progress, *awsclient.StatusKeeper, bool) {
	job := orchestrator.Job{Version: orchestrator.JobVersion, Region: c.Region, Subject: s.Ref(), Owner: ch.LeaseToken, Execution: name,
		Settings: ch.Settings.Settings, SwitchOffSelf: ch.SwitchOff != nil, Deadline: c.Clock.Now().Add(detachedTimeout(ch.Settings, steps))}
	if ch.SwitchOff == nil && len(ch.Settings.Flags) == 0 && (job.Policy == rollout.FeatureFlag || job.Policy == rollout.KillSwitch) {
		job.Policy = rollout.Immediate
	}
	starter, err := subjects.NewRunner(c, s.Ref(), ch.Settings.Settings, c.Clock)
	if err != nil {
		reportError(diags, nil, "Cannot Start Rollout", err, fmt.Sprintf("The %s %s could not be observed.", s.Kind(), s.ID()), "This is a bug in the provider; please report it.")
		return "", nil, nil, false
	}
	starter.Execution = name
	status := awsclient.NewStatusKeeper(s.Lease(), statusLog(ctx))
	starter.Status = status.Record
	var kept []rollout.Notice
	if job.Topic != "" || job.Bus != "" {
		starter.Notify = func(_ context.Context, n rollout.Notice) error { kept = append(kept, n); return nil }
	}
	p := starter.Start(ch.From, steps)
	state := orchestrator.NewState(job, p)
	state.Announce = kept
	input, err := json.Marshal(state)
	if err == nil && len(input) > orchestrator.MaxPayloadBytes {
		err = fmt.Errorf("the job is %d bytes, above Step Functions' %d", len(input), orchestrator.MaxPayloadBytes)
	}
	if err != nil {
		reportError(diags, atPath(at), "Cannot Start Detached Rollout", err, "The job could not be written.", "Nothing was moved. This is a bug in the provider; please report it.")
		return "", nil, nil, false
	}
	return string(input), p, status, true
}

// startResult is whether an execution was started.
type startResult int

const (
	started startResult = iota
	notStarted
	// startUnknown: the start's answer was lost and the execution could
	// not be read.
	startUnknown
)

// startExecution tags the subject with the run, writes its status and
// starts the execution name with input. A start whose answer was lost is
// read back by its name; a refused one puts the tags back as they were
// (or removes them, when they could not be read), and no notice is sent.
func startExecution(ctx context.Context, c *awsclient.Client, s Subject, ch Change, name, input string, status *awsclient.StatusKeeper, at problem.Path, diags Report) (string, startResult) {
	d := ch.Settings.Detached
	lease := s.Lease()
	had, _ := lease.ReadLease(ctx) // unread: put back as no tags
	if err := lease.SetRun(ctx, orchestrator.RunningTag(name)); err != nil {
		reportError(diags, atPath(at), "Cannot Start Detached Rollout", err, fmt.Sprintf("Tagging %s with the rollout it runs failed.", s.ID()), "Nothing was moved. "+LeasePermissions(s.Kind()))
		return "", notStarted
	}
	status.Flush(ctx)
	arn, err := c.StartExecution(ctx, d.Orchestrator, name, input)
	if err != nil && awsclient.LostAnswer(err) {
		// The start may have been made with its answer lost: the
		// execution's name is the change's, so its ARN is known.
		arn = awsclient.ExecutionARN(d.Orchestrator, name)
		lctx, cancel := c.Clock.WithDeadline(context.WithoutCancel(ctx), c.Clock.Now().Add(finalReadGrace))
		x, derr := c.DescribeExecution(lctx, arn)
		cancel()
		switch {
		case derr == nil && x.Input == input:
			Log.Warn(ctx, "the start's answer was lost, and the execution exists: the rollout started", map[string]any{"execution": arn, "error": err.Error()})
			err = nil
		case derr != nil && !errors.Is(derr, awsclient.ErrNotFound):
			// Unknown: the tags keep saying it runs, and the state records
			// it as running, so that the next refresh reads how it stands.
			reportError(diags, atPath(at.Name("orchestrator")), "Detached Rollout Start Unknown", errors.Join(err, derr),
				fmt.Sprintf("The answer to starting the rollout %s on %s was lost, and the execution could not be read: it may be running in AWS. The subject's tags say it runs; if it runs, its first call sends the started notice.", arn, d.Orchestrator),
				"Run terraform plan (which refreshes): it shows the rollout running if it started, or failed to start if not. Do not change the subject by hand meanwhile.")
			return arn, startUnknown
		}
	}
	if err != nil {
		bctx := context.WithoutCancel(ctx)
		_ = lease.SetRun(bctx, had.Run)
		_ = lease.SetStatus(bctx, had.Status)
		reportError(diags, atPath(at.Name("orchestrator")), "Cannot Start Detached Rollout", err, fmt.Sprintf("Step Functions refused to start the rollout on %s.", d.Orchestrator),
			"Nothing was moved and no notice was sent. Check that the orchestrator exists in the provider's region (rollout_orchestrator) and that the credentials allow states:StartExecution and states:DescribeExecution.")
		return "", notStarted
	}
	return arn, started
}

// awaitFirstStep waits, up to the change's limit, until the execution arn
// has made its first step (the apply returns with it confirmed) or ended,
// and records where it stands in out.
func awaitFirstStep(ctx context.Context, c *awsclient.Client, s Subject, ch Change, arn string, p *rollout.Progress, out *Outcome, diags Report) {
	steps := out.Steps
	running := func(n int, serving weights.Split) {
		res := rollout.Result{Status: StatusRunning, StepReached: n, Steps: len(steps), Current: ch.To, Started: p.Res.Started, NotifyFailures: p.Res.NotifyFailures}
		out.Res, out.Record = res, recordDetached(ch, res, StatusRunning, arn, serving)
	}
	end := c.Clock.Now().Add(ch.Limit)
	pace := newDetachedPace(ch.Settings.PollInterval)
	var seen string
	for {
		x, err := c.DescribeExecution(ctx, arn)
		live, lerr := ReadSplit(ctx, s)
		if err == nil && x.Status != "RUNNING" {
			res, status := resultOfExecution(x, s, live, lerr, p.Res.NotifyFailures)
			if status == string(rollout.Succeeded) {
				// The run reached its target (the execution confirmed it);
				// a change made since is drift for the next plan, as after
				// an apply's own run.
				res.Current = ch.To
			}
			out.Res = res
			out.Record = recordDetached(ch, res, status, arn, live)
			if status != string(rollout.Succeeded) {
				addRolloutError(diags, s, res, ch.Limit, ch.From)
			}
			return
		}
		if lerr == nil {
			if n := stepOf(live, steps, s); n > 0 {
				running(n, live)
				return
			}
		}
		if c.Clock.Now().After(end) {
			running(0, ch.From)
			diags.AddWarning("First Step Not Confirmed", Detail(nil,
				fmt.Sprintf("The detached rollout %s started, but its first step was not confirmed within %s.", arn, ch.Limit),
				"It goes on in AWS. Run terraform plan (or refresh) to see where it stands."))
			return
		}
		// The run moves when what it serves or its execution's status
		// changes (a write that is not a step: a person's, or its way
		// back); a read that failed says nothing.
		moved := false
		if err == nil && lerr == nil {
			now := x.Status + " " + live.Canonical()
			moved = seen != "" && now != seen
			seen = now
		}
		if err := c.Clock.Sleep(ctx, min(pace.wait(moved), max(end.Sub(c.Clock.Now()), 0)+time.Millisecond)); err != nil {
			running(0, ch.From)
			return
		}
	}
}

// stepOf is the step (from 1) whose weights live are, or 0. A subject
// that serves splits at a resolution of its own (a flag: whole percents)
// is compared in those terms.
func stepOf(live weights.Split, steps []rollout.PlannedStep, s Subject) int {
	for i := len(steps) - 1; i >= 0; i-- {
		if live.Equal(inTermsOf(s, steps[i].Weights)) {
			return i + 1
		}
	}
	return 0
}

// recordDetached is the last_rollout of a detached rollout.
func recordDetached(ch Change, res rollout.Result, status, execution string, serving weights.Split) *Record {
	res.Status = rollout.Status(status)
	r := withRun(NewRecord(res, ch.To, ch.Settings.Attempt), ch.From, execution, serving).WithPromote(ch.Settings.Promote)
	return &r
}

// resultOfExecution is how an ended execution left its rollout, and its
// status: the run's own (from the output, or the report in the cause), or
// stopped (stopped by hand: nothing rolled it back). live is what the
// Subject serves; undelivered counts the run's notices the applies could
// not deliver (its started notice), beside those the execution counted.
func resultOfExecution(x awsclient.Execution, s Subject, live weights.Split, liveErr error, undelivered int) (rollout.Result, string) {
	var res rollout.Result
	status := ""
	switch x.Status {
	case "SUCCEEDED":
		var st orchestrator.State
		if err := json.Unmarshal([]byte(x.Output), &st); err == nil {
			res = st.Progress.Result()
		}
		status = string(rollout.Succeeded)
	case "FAILED":
		if rep, ok := orchestrator.ParseCause(x.Cause); ok {
			res, status = rep.Result, string(rep.Status)
		} else {
			status = string(rollout.Failed)
			res.Status = rollout.Failed
			res.Failure = &rollout.Failure{Gate: rollout.GateOrchestrator, Reason: rollout.Bound(fmt.Sprintf("the execution failed: %s: %s", x.Error, x.Cause))}
		}
	case "ABORTED":
		status = statusStopped
		res.Failure = &rollout.Failure{Gate: "stopped", Reason: "the execution was stopped by hand (StopExecution): the rollout stopped where it was, and nothing rolled it back"}
	case "": // not found
		status = string(rollout.Failed)
		res.Failure = &rollout.Failure{Gate: rollout.GateOrchestrator, Reason: "the execution does not exist: its start, whose answer was lost, was not made (or it ended more than 90 days ago)"}
	default: // TIMED_OUT
		status = string(rollout.Failed)
		res.Failure = &rollout.Failure{Gate: rollout.GateTimeout, Reason: "the execution timed out"}
	}
	if res.Steps == 0 {
		var in orchestrator.State
		if json.Unmarshal([]byte(x.Input), &in) == nil {
			res.Steps, res.Started = len(in.Progress.Steps), in.Progress.Res.Started
			if res.StepReached == 0 && liveErr == nil {
				res.StepReached = stepOf(live, in.Progress.Steps, s)
			}
		}
	}
	if liveErr == nil {
		res.Current = live
	} else {
		res.Unread = true
	}
	res.Status = rollout.Status(status)
	if res.Failure != nil && res.Failure.Step == 0 {
		res.Failure.Step = res.StepReached
	}
	res.NotifyFailures += undelivered
	return res, status
}

// RefreshDetached reads a running detached rollout: the execution and what
// the subject serves. It returns the new last_rollout, and true while the
// rollout still runs or is held (the resource keeps its target then: the weights it
// serves are the rollout's, not a change made outside Terraform). A hold
// whose promote AWS refused (orchestrator.RefusedTag) is warned of.
func RefreshDetached(ctx context.Context, c *awsclient.Client, s Subject, last Record, diags Report) (Record, bool) {
	if _, held := HeldOf(last); held {
		// A held rollout goes nowhere until promoted: the state keeps its
		// target; a change by hand is found when it is promoted.
		return last, true
	}
	arn := last.Execution
	if last.Status != StatusRunning || arn == "" || c == nil {
		return last, false
	}
	x, err := c.DescribeExecution(ctx, arn)
	if errors.Is(err, awsclient.ErrNotFound) {
		// A start whose answer was lost, and that was not made.
		x, err = awsclient.Execution{ARN: arn}, nil
	}
	if err != nil {
		Log.Warn(ctx, "the detached rollout's execution could not be read; it is taken as still running", map[string]any{"execution": arn, "error": err.Error()})
		return last, true
	}
	live, lerr := ReadSplit(ctx, s)
	if x.Status == "RUNNING" {
		rec := last
		if lerr == nil {
			rec.Serving = live.Canonical()
			var in orchestrator.State
			if json.Unmarshal([]byte(x.Input), &in) == nil {
				n := stepOf(live, in.Progress.Steps, s)
				if n == 0 {
					// It serves none of the steps: changed by hand. Where
					// the run stands is its status tag's.
					n = heldByStatus(ctx, s, arn, len(in.Progress.Steps))
				}
				if n > 0 {
					rec.StepReached = int64(n)
					if in.Progress.Steps[n-1].Hold {
						rec.Reason = fmt.Sprintf("held after step %d of %d, until promoted (rollout.promote)", n, len(in.Progress.Steps))
						refusedPromote(ctx, s, last, in, n, &rec, diags)
					}
				}
			}
		}
		return rec, true
	}
	res, status := resultOfExecution(x, s, live, lerr, int(last.NoticesUndelivered))
	res.Status = rollout.Status(status)
	if res.Finished.IsZero() {
		res.Finished = c.Clock.Now()
	}
	rec := NewRecord(res, nil, last.Attempt)
	rec.Target, rec.From, rec.Execution = last.Target, last.From, last.Execution
	if lerr != nil {
		rec.Serving = last.Serving
	}
	return rec, false
}

// heldByStatus is the step a detached run of execution arn is held
// after, as the subject's status tag says (0: not held, or not known).
func heldByStatus(ctx context.Context, s Subject, arn string, steps int) int {
	l, err := s.Lease().ReadLease(ctx)
	if err != nil {
		return 0
	}
	st, ok := awsclient.ParseStatus(l.Status)
	if !ok || st.Type != rollout.NoticeHeld || st.Execution != arn[strings.LastIndex(arn, ":")+1:] || st.Steps != steps || st.Step < 1 || st.Step > steps {
		return 0
	}
	return st.Step
}

// refusedPromote says, in the record (rec) of a detached rollout held
// after step n, that its promote was refused by AWS, when the run tag
// says so (orchestrator.RefusedTag): the run is held again there, nothing
// moved. The record forgets the refused token, so that the same
// rollout.promote applied again promotes again, as in an apply's run.
func refusedPromote(ctx context.Context, s Subject, last Record, in orchestrator.State, n int, rec *Record, diags Report) {
	l, err := s.Lease().ReadLease(ctx)
	if err != nil {
		return
	}
	step, why, ok := orchestrator.ParseRefusedTag(l.Run, in.Job.Execution)
	if !ok || step != n {
		return
	}
	rec.Reason = RefusedReason(n, len(in.Progress.Steps), why)
	rec.Promote = nil
	diags.AddWarning("Promote Not Applied", Detail(nil,
		fmt.Sprintf("AWS refused the first write after the hold of %s %s (step %d of %d): %s. Nothing moved: the detached rollout %s is held again after step %d, serving %s, on its way to %s. It was not rolled back, no notice ended it, and its status says held; rollout.hold_timeout applies as to any hold.",
			s.Kind(), s.ID(), n+1, len(in.Progress.Steps), why, last.Execution, n, shortCanonical(last.Serving), shortCanonical(last.Target)),
		fmt.Sprintf("Give the orchestrator's role the permission the error names (the provider's IAM permissions table lists what each subject needs), then apply again: the plan promotes it again with the same rollout.promote. To go back instead, set the configuration to %s and apply.", shortCanonical(last.From))))
}

// RefusedReason is the reason of a detached run held again after step n
// of steps because AWS refused its promote (why): last_rollout.reason and
// rollout_status's reason say it.
func RefusedReason(n, steps int, why string) string {
	return fmt.Sprintf("held after step %d of %d: the promote was refused by AWS (%s), so nothing moved; promote again once the orchestrator may write", n, steps, why)
}

// RunningChange is the pipeline for a change planned while a detached
// rollout runs: back to where it started is an abort, which the
// orchestrator carries out through the rollback; anything else is refused.
func RunningChange(ctx context.Context, c *awsclient.Client, s Subject, ch Change, diags Report) Outcome {
	arn := ch.Last.Execution
	name := nameOfExecution(arn)
	if sameTrafficAs(ch.To, ch.Last.Target) {
		x, read := readRunning(ctx, c, ch.Last)
		steps := runningSteps(x, read, ch)
		if newPromote(ch.Settings.Promote, ch.Last.PromoteText()) {
			if read && x.Status != "RUNNING" {
				promoteEnded(s, ch.Last, x, diags)
				return Outcome{}
			}
			return promoteDetached(ctx, c, s, ch, name, steps, diags)
		}
		// Nothing for the run (on_destroy, timeouts, a token already
		// used): it goes on as it was, and the record stays.
		last := ch.Last
		return Outcome{Steps: steps, Moved: true, Record: &last, execution: arn,
			Res: rollout.Result{Status: StatusRunning, Current: ch.To, StepReached: int(ch.Last.StepReached), Steps: len(steps)}}
	}
	if !sameTrafficAs(ch.To, ch.Last.From) {
		RefuseWhileRunning(s.Attr(), ch.Last, diags)
		return Outcome{}
	}
	if !abortSincePlan(ctx, c, s, ch, diags) {
		return Outcome{}
	}
	if err := s.Lease().SetRun(ctx, orchestrator.AbortTag(name)); err != nil {
		reportError(diags, atPath(s.Attr()), "Cannot Abort Detached Rollout", err, fmt.Sprintf("Tagging %s to abort the rollout %s failed.", s.ID(), arn), "Nothing changed. "+LeasePermissions(s.Kind()))
		return Outcome{}
	}
	Log.Info(ctx, "aborting the detached rollout: the orchestrator rolls it back", map[string]any{"execution": arn})
	out := Outcome{Moved: true, execution: arn}
	x, ok := awaitEnd(ctx, c, arn, ch.Limit, ch.Settings.PollInterval)
	if !ok {
		reportError(diags, atPath(s.Attr()), "Abort Not Confirmed", nil,
			fmt.Sprintf("The rollout %s was told to abort, but had not ended within %s.", arn, ch.Limit),
			"The orchestrator rolls it back at its next call. Run terraform plan to see how it ended.")
		out.Moved = false
		return out
	}
	live, lerr := ReadSplit(ctx, s)
	res, status := resultOfExecution(x, s, live, lerr, int(ch.Last.NoticesUndelivered))
	res.Finished = c.Clock.Now()
	// A run that started from another form of the same traffic (a
	// person's rewrite before it) records that form as where it started,
	// and its rollback puts it back: the state records the configured form
	// the plan showed, and the next refresh reads the subject's. (A run in
	// the apply records the configured form as its start, and goes back to
	// it.)
	if res.Status == rollout.RolledBack && !res.Unread && weights.SameTraffic(res.Current, ch.To) {
		res.Current = ch.To
	}
	out.Res = res
	from, _ := weights.ParseCanonical(ch.Last.Target)
	rec := withRun(NewRecord(res, from, ch.Settings.Attempt), ch.To, arn, live)
	out.Record = &rec
	aborted := status == string(rollout.RolledBack) && res.Failure != nil && res.Failure.Gate == rollout.GateAborted
	if !aborted {
		addRolloutError(diags, s, res, ch.Limit, ch.To)
	}
	return out
}

// abortSincePlan checks, before the abort of a detached rollout that was
// held when the plan was made (last_rollout.step_reached holds), that the
// Subject still serves what the plan saw (last_rollout.serving), as a
// promote's apply does: a held run does not move, so anything else is a
// person's change since the plan, which wins. The plan showed a rollback
// from there; the apply cannot do that, so it refuses before the abort is
// sent, and the run stays held. A run that moves (not held, or whose
// execution ended) is not checked: its own steps change what it serves,
// and its guard finds a person's change.
func abortSincePlan(ctx context.Context, c *awsclient.Client, s Subject, ch Change, diags Report) bool {
	x, read := readRunning(ctx, c, ch.Last)
	if read && x.Status != "RUNNING" {
		return true
	}
	target, _ := weights.ParseCanonical(ch.Last.Target)
	steps := runningSteps(x, read, Change{Last: ch.Last, To: target, Settings: ch.Settings})
	held, step := heldAt(s, ch.Last, steps)
	serving, err := weights.ParseCanonical(ch.Last.Serving)
	if held == nil || err != nil || len(serving) == 0 || wentOn(ctx, s, ch.Last, step, len(steps)) {
		return true
	}
	live, err := ReadSplit(ctx, s)
	if err != nil {
		s.ReadError(diags, err)
		return false
	}
	if live.Equal(serving) {
		return true
	}
	diags.AddAttributeError(s.Attr(), fmt.Sprintf("%s Changed Since Plan", Title(s.Kind())), Detail(nil,
		fmt.Sprintf("The plan aborts the detached rollout %s, held after step %d of %d, from %s, what %s %s served then; it serves %s now. Someone or something changed it between plan and apply.",
			ch.Last.Execution, step, len(steps), serving.Short(), s.Kind(), s.ID(), live.Short()),
		"That change wins, and the plan's rollback cannot be done: nothing was sent (the abort tag was not written) and nothing was moved. The rollout is still held in AWS, and writes nothing over that change.",
		fmt.Sprintf("Run plan again: it shows the change, and applying it aborts the rollout, which then stops with nothing written, not even its rollback (last_rollout gate changed_during_rollout); to go back to %s after that, change rollout.attempt and apply. Or stop its execution (aws stepfunctions stop-execution) to leave it where it is.",
			shortCanonical(ch.Last.From))))
	return false
}

// wentOn reports whether the status tag says the detached run of last
// went on from its hold after step since (its hold_timeout passed: it was
// promoted, or it rolls back): what the subject serves then is the run's
// own doing, not a person's change, and the run is not held. A tag that
// cannot be read, or is another run's, says nothing.
func wentOn(ctx context.Context, s Subject, last Record, step, steps int) bool {
	l, err := s.Lease().ReadLease(ctx)
	if err != nil {
		return false
	}
	st, ok := awsclient.ParseStatus(l.Status)
	if !ok || st.Execution != nameOfExecution(last.Execution) || st.Steps != steps {
		return false
	}
	return st.Type != rollout.NoticeHeld || st.Step != step
}

// RefuseWhileRunning refuses a new change while a detached rollout runs.
func RefuseWhileRunning(at problem.Path, last Record, diags Report) {
	diags.AddAttributeError(at, "Detached Rollout Running", Detail(nil,
		fmt.Sprintf("The rollout %s is running in AWS: step %d of %d, serving %s, on its way to %s. A new change now would race it.",
			last.Execution, last.StepReached, last.Steps, shortCanonical(last.Serving), shortCanonical(last.Target)),
		fmt.Sprintf("Wait for it to end (terraform plan shows how it ended); or abort it by setting the configuration back to where it started (%s), which rolls it back; "+
			"or stop its execution (aws stepfunctions stop-execution) to leave the subject where it is.", shortCanonical(last.From))))
}

// shortCanonical shortens the ARNs of an "ARN=weight, …" text.
func shortCanonical(s string) string {
	sp, err := weights.ParseCanonical(s)
	if err != nil || len(sp) == 0 {
		return s
	}
	return sp.Short()
}

// stopPoll is how often a destroy reads the execution it told to stop.
const stopPoll = 2 * time.Second

// stopDetached ends a running (or held) detached rollout before its
// resource is destroyed: nothing is left moving a subject no resource
// owns. It tags the subject to stop the execution (orchestrator.StopTag),
// and the orchestrator's next call ends the run where it is, as the
// destroy of an in-apply held run does: its end notice (failed, gate
// aborted) in the run's numbering, its status tag, nothing written to the
// Subject. The destroy waits for that call (a poll interval and a
// minute, on the provider's clock); a run that has not ended by then, or
// whose subject another owner took (its tags are the new owner's), has its
// execution stopped (StopExecution), and the warning says that no end
// notice was sent. settings are the resource's rollout block's, token
// its lease.
func stopDetached(ctx context.Context, c *awsclient.Client, s Subject, last Record, settings Settings, token string, diags Report) {
	arn := last.Execution
	if last.Status != StatusRunning || arn == "" || c == nil {
		return
	}
	name := nameOfExecution(arn)
	x, err := c.DescribeExecution(ctx, arn)
	if err == nil && x.Status != "RUNNING" {
		return // it ended since the last refresh: nothing runs
	}
	poll := settings.PollInterval
	var in orchestrator.State
	if err == nil && json.Unmarshal([]byte(x.Input), &in) == nil && in.Job.PollInterval > 0 {
		poll = in.Job.PollInterval
	}
	if poll <= 0 {
		poll = DefaultPollInterval
	}
	wait := poll*11/10 + time.Minute
	taken := takenBy(ctx, s, token) != ""
	why := fmt.Sprintf("the orchestrator had not ended it within %s of being told to stop", wait)
	if taken {
		why = "another owner took the subject, whose tags are now its own"
	} else if err := s.Lease().SetRun(ctx, orchestrator.StopTag(name)); err != nil {
		why = fmt.Sprintf("tagging %s to stop it failed (%s)", s.ID(), rollout.Bound(err.Error()))
	} else if x, ok := awaitEnd(ctx, c, arn, wait, stopPoll); ok {
		live, lerr := ReadSplit(ctx, s)
		res, status := resultOfExecution(x, s, live, lerr, 0)
		how := status
		if res.Failure != nil {
			how += ", gate " + string(res.Failure.Gate)
		}
		diags.AddWarning("Detached Rollout Ended", Detail(nil,
			fmt.Sprintf("The rollout %s was still running, at step %d of %d; destroy ended it where it was (its status and notices say %s), and %s serves %s.",
				arn, res.StepReached, res.Steps, how, s.ID(), servingText(res, last)),
			"Nothing more is written to it by the rollout. Set what it serves yourself if it must change."))
		return
	}
	if err := c.StopExecution(ctx, arn, "its resource was destroyed"); err != nil {
		reportError(diags, nil, "Cannot Stop Detached Rollout", err, fmt.Sprintf("The rollout %s of %s could not be stopped (%s), so it would go on after its resource is gone.", arn, s.ID(), why),
			"Nothing was destroyed. Check the credentials' states:StopExecution permission, or stop it yourself (aws stepfunctions stop-execution), then destroy again.")
		return
	}
	if !taken {
		// No end notice was sent; the status tag says the run ended, so
		// that nothing later finds a rollout in progress.
		st := awsclient.StatusValue(rollout.Notice{Type: rollout.NoticeFailed, Step: int(last.StepReached), Steps: int(last.Steps), At: c.Clock.Now(), Execution: name})
		if err := s.Lease().SetStatus(ctx, st); err != nil {
			Log.Warn(ctx, "recording the stopped rollout in the status tag failed", map[string]any{"error": err.Error()})
		}
		_ = s.Lease().SetRun(ctx, orchestrator.EndedTag(rollout.Failed, name))
	}
	live, lerr := ReadSplit(ctx, s)
	diags.AddWarning("Detached Rollout Stopped", Detail(nil,
		fmt.Sprintf("The rollout %s was still running; %s, so destroy stopped its execution. No end notice was sent for it, and %s stays where it was (%s).", arn, why, s.ID(), servesText(live, lerr, shortCanonical(last.Serving))),
		"Set what it serves yourself if it must change."))
}

// readRunning reads a running detached rollout's execution; false when it
// could not be read. A missing execution (a start whose answer was lost,
// and that was not made) is read as one that ended, with no status.
func readRunning(ctx context.Context, c *awsclient.Client, last Record) (awsclient.Execution, bool) {
	arn := last.Execution
	if c == nil || arn == "" {
		return awsclient.Execution{}, false
	}
	x, err := c.DescribeExecution(ctx, arn)
	if errors.Is(err, awsclient.ErrNotFound) {
		return awsclient.Execution{ARN: arn}, true
	}
	return x, err == nil
}

// awaitEnd waits, up to wait on the client's clock, for the execution
// arn to end, reading it at a detachedPace up to poll, and returns it once
// ended (an abort's apply and a destroy wait for the orchestrator so).
func awaitEnd(ctx context.Context, c *awsclient.Client, arn string, wait, poll time.Duration) (awsclient.Execution, bool) {
	end := c.Clock.Now().Add(wait)
	pace := newDetachedPace(poll)
	for {
		x, err := c.DescribeExecution(ctx, arn)
		if err == nil && x.Status != "RUNNING" {
			return x, true
		}
		if !c.Clock.Now().Before(end) || c.Clock.Sleep(ctx, min(pace.wait(false), end.Sub(c.Clock.Now()))) != nil {
			return awsclient.Execution{}, false
		}
	}
}

// servingText is what a result says the subject serves, or the record's
// when it could not be read.
func servingText(res rollout.Result, last Record) string {
	if res.Unread || len(res.Current) == 0 {
		return shortCanonical(last.Serving)
	}
	return res.Current.Short()
}

// runningSteps is the schedule a running detached rollout runs: its
// execution's (x, when read), or, when that cannot be read, the
// configuration's.
func runningSteps(x awsclient.Execution, read bool, ch Change) []rollout.PlannedStep {
	if read {
		var in orchestrator.State
		if json.Unmarshal([]byte(x.Input), &in) == nil && len(in.Progress.Steps) > 0 {
			return in.Progress.Steps
		}
	}
	from, _ := weights.ParseCanonical(ch.Last.From)
	steps, _ := Schedule(from, ch.To, ch.Settings.Strategy)
	return steps
}

// inTermsOf is w as the subject serves it (a flag: whole percents).
func inTermsOf(s Subject, w weights.Split) weights.Split {
	if n, ok := s.Router().(rollout.Normalizer); ok {
		return n.Normalize(w)
	}
	return w
}

// heldAt is the weights a running detached rollout is held at (the step a
// refresh last saw, when that step holds), in the subject's terms, and the
// step; nil when it is not held there.
func heldAt(s Subject, last Record, steps []rollout.PlannedStep) (weights.Split, int) {
	step := int(last.StepReached)
	if step < 1 || step > len(steps) || !steps[step-1].Hold {
		return nil, step
	}
	return inTermsOf(s, steps[step-1].Weights), step
}

// promoteEnded refuses the promote of a detached rollout whose execution
// ended since the state was refreshed: no execution would read it.
func promoteEnded(s Subject, last Record, x awsclient.Execution, diags Report) {
	status, why := x.Status, "it does not exist: its start, whose answer was lost, was not made (or it ended more than 90 days ago)"
	if status == "" {
		status = "missing"
	} else {
		res, _ := resultOfExecution(x, s, nil, errors.New("not read"), 0)
		why = "it succeeded"
		if res.Failure != nil {
			why = res.Failure.Reason
		}
	}
	diags.AddAttributeError(s.Attr().Parent().Name("rollout").Name("promote"), "Detached Rollout Ended", Detail(nil,
		fmt.Sprintf("rollout.promote changed, but the detached rollout %s no longer runs: its execution ended %s (%s), after the state was last refreshed. No execution would read a promote now.", last.Execution, status, why),
		fmt.Sprintf("Nothing was sent: the promote tag was not written, and nothing was moved. Run terraform plan (which refreshes): it shows how the rollout ended and what %s %s serves, then make the next change from there.", s.Kind(), s.ID())))
}

// PlanRunningSame is runningRecord, with a warning when the promote it
// shows will be refused: a person changed the subject during the hold.
func PlanRunningSame(ctx context.Context, c *awsclient.Client, s Subject, last Record, settings Settings, diags Report) Record {
	if last.Status == StatusRunning && newPromote(settings.Promote, last.PromoteText()) {
		warnChangedDuringHold(ctx, c, s, last, settings.Strategy, false, diags)
	}
	return runningRecord(last, settings)
}

// runningRecord is the last_rollout a plan shows for a running detached
// rollout whose configuration still goes where it goes: the state's, with
// a new rollout.promote in it. The apply records the token it promotes
// with, so that a token promotes one hold: the next hold waits for a new
// one, whatever else a later apply changes.
func runningRecord(last Record, s Settings) Record {
	if last.Status != StatusRunning || !newPromote(s.Promote, last.PromoteText()) {
		return last
	}
	return last.WithPromote(s.Promote)
}

// promoteDetached promotes a detached rollout held after the step a refresh
// last saw (last_rollout.step_reached): it tags the subject, and the
// orchestrator goes on at its next poll. The state keeps the rollout as it
// was (running), its schedule and its target, and records the token
// (runningRecord).
func promoteDetached(ctx context.Context, c *awsclient.Client, s Subject, ch Change, name string, steps []rollout.PlannedStep, diags Report) Outcome {
	held, step := heldAt(s, ch.Last, steps)
	if held == nil {
		diags.AddAttributeError(s.Attr().Parent().Name("rollout").Name("promote"), "Nothing To Promote", Detail(nil,
			fmt.Sprintf("rollout.promote changed, but the detached rollout %s was at step %d when last refreshed, which does not hold.", ch.Last.Execution, step),
			"Nothing was sent. Run terraform plan (which refreshes) once the rollout is held, then set rollout.promote to a new value and apply."))
		return Outcome{}
	}
	// The plan promoted what the refresh saw: a subject changed since (by a
	// person) is not promoted, as in an apply's run; nor one that the
	// refresh saw changed during the hold (the plan warned).
	var live weights.Split
	if serving, err := weights.ParseCanonical(ch.Last.Serving); err == nil && len(serving) > 0 {
		rd, ok := ReadBeforeWrite(ctx, c, s, serving, diags)
		if !ok {
			return Outcome{}
		}
		live = rd.Split
	} else if live, err = ReadSplit(ctx, s); err != nil {
		s.ReadError(diags, err)
		return Outcome{}
	}
	if !live.Equal(held) {
		diags.AddAttributeError(s.Attr().Parent().Name("rollout").Name("promote"), "Changed During Hold", Detail(nil,
			fmt.Sprintf("The detached rollout %s is held after step %d of %d at %s, but %s %s serves %s: someone or something changed it during the hold. Nothing was sent: the promote tag was not written, and the rollout is still held in AWS.",
				ch.Last.Execution, step, len(steps), held.Short(), s.Kind(), s.ID(), live.Short()),
			changedDuringHoldNext(ch.Last)))
		return Outcome{}
	}
	if err := s.Lease().SetRun(ctx, orchestrator.PromoteTag(name, step)); err != nil {
		reportError(diags, atPath(s.Attr()), "Cannot Promote Detached Rollout", err, fmt.Sprintf("Tagging %s to promote the rollout %s failed.", s.ID(), ch.Last.Execution), "Nothing changed. "+LeasePermissions(s.Kind()))
		return Outcome{}
	}
	Log.Info(ctx, "promoted the detached rollout: the orchestrator goes on at its next poll", map[string]any{"execution": name, "step": step})
	last := runningRecord(ch.Last, ch.Settings)
	return Outcome{Steps: steps, Moved: true, Res: rollout.Result{Status: StatusRunning, Current: ch.To, StepReached: step, Steps: len(steps)}, Record: &last, execution: ch.Last.Execution}
}

// changedDuringHoldNext says what to do with a detached rollout whose
// Subject a person changed during its hold.
func changedDuringHoldNext(last Record) string {
	return fmt.Sprintf("That change wins. To end the rollout, set the configuration back to where it started (%s) and apply: the orchestrator finds the change and stops with nothing written, not even its rollback, and records what it serves (last_rollout gate changed_during_rollout); or stop its execution (aws stepfunctions stop-execution). To keep that change, set the configuration to it once the rollout has ended.",
		shortCanonical(last.From))
}

// warnChangedDuringHold warns, at the plan of a running detached rollout
// (a promote, an abort), when it is held and its subject serves something
// else than the step it is held at: a person's change during the hold,
// which wins (the promote is refused; the abort writes nothing). It
// returns true when it warned.
func warnChangedDuringHold(ctx context.Context, c *awsclient.Client, s Subject, last Record, strategy rollout.Strategy, abort bool, diags Report) bool {
	if s == nil || c == nil || last.Status != StatusRunning {
		return false
	}
	x, read := readRunning(ctx, c, last)
	if read && x.Status != "RUNNING" {
		return false // the apply says it ended
	}
	target, _ := weights.ParseCanonical(last.Target)
	steps := runningSteps(x, read, Change{Last: last, To: target, Settings: Settings{Strategy: strategy}})
	held, step := heldAt(s, last, steps)
	if held == nil || abort && wentOn(ctx, s, last, step, len(steps)) {
		return false
	}
	live, err := ReadSplit(ctx, s)
	if err != nil || live.Equal(held) {
		return false
	}
	if serving, err := weights.ParseCanonical(last.Serving); abort && err == nil && len(serving) > 0 && !live.Equal(serving) {
		// Changed since the state was read (the apply's plan of a saved
		// plan, or a plan without refresh): the apply refuses the abort
		// and says so (abortSincePlan); this plan's abort is not sent.
		return true
	}
	what := fmt.Sprintf("The detached rollout %s is held after step %d of %d at %s, but %s %s serves %s now: someone or something changed it during the hold.",
		last.Execution, step, len(steps), held.Short(), s.Kind(), s.ID(), live.Short())
	next := "Applying this promote is refused, with nothing sent. " + changedDuringHoldNext(last)
	if abort {
		what = fmt.Sprintf("The configuration is back where the held rollout %s started (%s), but %s %s serves %s now, not the %s the rollout was held at: someone or something changed it during the hold.",
			last.Execution, shortCanonical(last.From), s.Kind(), s.ID(), live.Short(), held.Short())
		next = fmt.Sprintf("That change wins: applying tells the orchestrator to abort, and it stops the rollout with nothing written, not even its rollback, and records what it serves (last_rollout gate changed_during_rollout). To go back to %s after that, change rollout.attempt and apply.",
			shortCanonical(last.From))
	}
	diags.AddAttributeWarning(s.Attr(), "Changed During Hold", Detail(nil, what, next))
	return true
}
