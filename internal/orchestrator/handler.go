package orchestrator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"strings"
	"time"

	"github.com/rolloutdev/terraform-provider-rollout/internal/awsclient"
	"github.com/rolloutdev/terraform-provider-rollout/internal/clock"
	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
	"github.com/rolloutdev/terraform-provider-rollout/internal/subjects"
)

// Orchestrator answers the state machine's calls.
type Orchestrator struct {
	// Client returns the AWS client of a region.
	Client func(ctx context.Context, region string) (*awsclient.Client, error)
	Clock  clock.Clock
	Log    *slog.Logger
}

// AnswerMargin is what a call keeps of its function's timeout, after
// waiting for its notices, to record its end and answer.
const AnswerMargin = 2 * time.Second

// noticeWait is how long a call waits for its notices to go out: as long
// as delivering what it sent can take (Notifier.Drain: each publish to SNS
// and to EventBridge is bounded), but not into the last AnswerMargin of
// the function's timeout (ctx's deadline). What is not delivered then is
// counted.
func noticeWait(ctx context.Context, n *awsclient.Notifier) time.Duration {
	wait := n.Drain()
	if dl, ok := ctx.Deadline(); ok {
		wait = max(0, min(wait, time.Until(dl)-AnswerMargin))
	}
	return wait
}

// Handle makes one call: it checks the lease (another owner stops the run,
// an abort rolls it back), recovers after a failed call (rolls back), then
// advances the run until it must wait, and says how long.
func (o *Orchestrator) Handle(ctx context.Context, in State) (State, error) {
	j := in.Job
	if err := j.Check(); err != nil {
		return in, err
	}
	c, err := o.Client(ctx, j.Region)
	if err != nil {
		return in, err
	}
	r, err := o.runner(ctx, c, j)
	if err != nil {
		return in, err
	}
	p := &in.Progress
	r.Execution = j.Execution
	notifier := announce(ctx, r, c, &in)
	lease := subjects.Lease(c, j.Subject)
	status := awsclient.NewStatusKeeper(lease, func(msg string, err error) { o.log(msg, "error", err.Error()) })
	r.Status = status.Record
	r.DeadlineReason = fmt.Sprintf("the execution reached its deadline (%s: rollout.execution.timeout, or by default the schedule's length and a half plus 15 minutes)", j.Deadline.UTC().Format(time.RFC3339))
	r.Promoted = func(context.Context) (bool, error) { return false, nil }
	// acted is the run tag this call acts on (an abort, a stop, a promote):
	// a call that ends the run says so in the tag it ends it with.
	acted := ""
	if !p.Done() && !p.RollingBack() {
		acted = o.actOnRunTag(ctx, r, lease, j, p)
	}
	if e := in.Error; e != nil {
		r.Fail(ctx, p, &rollout.Failure{Gate: rollout.GateOrchestrator, Reason: rollout.Bound(fmt.Sprintf("the orchestrator failed on every retry (%s: %s)", e.Error, e.Cause))})
	}
	in.Error = nil
	in.Calls++
	phase := p.Phase
	wait, done := r.Advance(ctx, p)
	owned := o.recordStatus(ctx, lease, status, j, p, phase, done)
	o.sendNotices(ctx, notifier, p)
	o.answer(ctx, &in, lease, wait, done, owned, acted)
	return in, nil
}

// announce wires the job's notices into r and sends the notices the state
// holds for it (the start's, made by the starter); it returns the notifier,
// nil without a topic or a bus.
func announce(ctx context.Context, r *rollout.Runner, c *awsclient.Client, in *State) *awsclient.Notifier {
	j, p := in.Job, &in.Progress
	var notifier *awsclient.Notifier
	if j.Topic != "" || j.Bus != "" {
		notifier = c.NewNotifier(j.Topic, j.Bus)
		r.Notify = notifier.Notify
	}
	if len(in.Announce) > 0 {
		if r.Notify != nil {
			for _, n := range in.Announce {
				if err := r.Notify(ctx, n); err != nil {
					p.Res.NotifyFailures++
				}
			}
		}
		in.Announce = nil
	}
	return notifier
}

// actOnRunTag reads the lease of a run going on and acts on its run tag: a
// subject taken stops the run, an abort rolls it back, a stop stops it, a
// promote lets a hold go on (r.Promoted). It returns the run tag it acts
// on ("" for none).
func (o *Orchestrator) actOnRunTag(ctx context.Context, r *rollout.Runner, lease awsclient.LeaseStore, j Job, p *rollout.Progress) string {
	acted := ""
	l, err := lease.ReadLease(ctx)
	if tag, ok := actedOn(l.Run, j.Execution); ok {
		// A repeat (the answer of a call that ended the run was lost):
		// the run tag is that call's end, and the repeat acts on what
		// the call acted on, to end the run the same way.
		l.Run = tag
	}
	promoted := err == nil && l.Run == PromoteTag(j.Execution, p.Step)
	r.Promoted = func(context.Context) (bool, error) { return promoted, nil }
	if promoted || err == nil && (l.Run == AbortTag(j.Execution) || l.Run == StopTag(j.Execution)) {
		acted = l.Run
	}
	taken := awsclient.TakenFrom(l, err, j.Owner, j.Subject.Kind(), j.Subject.ID())
	switch {
	case taken != "":
		r.Stop(p, &rollout.Failure{Gate: rollout.GateChanged, Reason: taken})
	case err != nil:
		// Read again at the next call; the gates' own reads decide
		// whether AWS can be reached.
		o.log("reading the lease failed", "error", err.Error())
	case l.Run == AbortTag(j.Execution):
		// An abort asks for the weights it started from: traffic goes
		// back, and no flag is switched off (nothing failed).
		if r.Policy == rollout.FeatureFlag || r.Policy == rollout.KillSwitch {
			r.Policy = rollout.Immediate
		}
		r.SwitchOff = nil
		r.Fail(ctx, p, &rollout.Failure{Gate: rollout.GateAborted, Reason: "an apply aborted the rollout: the configuration went back to where it started"})
	case l.Run == StopTag(j.Execution):
		r.Stop(p, &rollout.Failure{Gate: rollout.GateAborted, Reason: StopReason})
	}
	return acted
}

// recordStatus writes the status tag once per call, when it changed, and
// reports whether the subject is still the job's: the tags are the owner's,
// and a subject another owner took (before this call, or during it) keeps
// its run and status tags, which may be its own rollout's (an abort or a
// promote it wrote there). phase is where the call found the run.
func (o *Orchestrator) recordStatus(ctx context.Context, lease awsclient.LeaseStore, status *awsclient.StatusKeeper, j Job, p *rollout.Progress, phase rollout.Phase, done bool) bool {
	owned := true
	if done || status.Dirty() {
		owned = o.stillOwned(ctx, lease, j)
	}
	if owned {
		status.Flush(ctx) // once per call, when the status changed
	}
	if owned && phase != rollout.PhaseHold && p.Phase == rollout.PhaseHold && p.Res.ErrText != "" {
		// Held again with an error: AWS refused the write after the
		// promoted hold (rollout.refusedAfterHold).
		o.refused(ctx, lease, j, p)
	}
	return owned
}

// sendNotices sends every call's notices before it answers (bounded).
func (o *Orchestrator) sendNotices(ctx context.Context, notifier *awsclient.Notifier, p *rollout.Progress) {
	if notifier == nil {
		return
	}
	undelivered, last := notifier.Close(noticeWait(ctx, notifier))
	if undelivered > 0 {
		p.Res.NotifyFailures += undelivered
		o.log("notices not delivered", "count", undelivered, "error", last)
	}
}

// answer is the state the call returns: done, with the end in the run tag
// of a subject still owned, or when to call again.
func (o *Orchestrator) answer(ctx context.Context, in *State, lease awsclient.LeaseStore, wait time.Duration, done, owned bool, acted string) {
	j, p := in.Job, &in.Progress
	in.Done, in.WaitSeconds = done, 0
	if !done {
		in.WaitSeconds = Jittered(int((wait+time.Second-1)/time.Second), j.Execution, in.Calls)
		return
	}
	p.Res.Finished = o.Clock.Now()
	in.Status = string(p.Res.Status)
	if !owned {
		return
	}
	if err := lease.SetRun(ctx, EndedAfter(p.Res.Status, j.Execution, acted)); err != nil {
		o.log("recording the end in the run tag failed", "error", err.Error())
	}
}

// refused records in the run tag that the promote of the hold after
// p.Step was refused (the run is held again there): the promote is not
// tried again every poll, and a refresh says why the run is still held.
// A run tag that no longer promotes (an abort, a stop written since) is
// left as it is.
func (o *Orchestrator) refused(ctx context.Context, lease awsclient.LeaseStore, j Job, p *rollout.Progress) {
	l, err := lease.ReadLease(ctx)
	if err != nil || l.Run != PromoteTag(j.Execution, p.Step) {
		return
	}
	if err := lease.SetRun(ctx, RefusedTag(j.Execution, p.Step, RefusalText(p.Res.ErrText))); err != nil {
		o.log("recording the refused promote in the run tag failed; the promote is tried again at the next poll", "error", err.Error())
	}
}

// stillOwned reads the lease once more before the call writes its tags:
// false when the subject is gone or another owner holds it (nothing is
// written then). A lease that cannot be read is taken as still the job's,
// as the check at the start of a call takes it: the traffic writes went
// ahead on the same uncertainty, and the tags say where they left it.
func (o *Orchestrator) stillOwned(ctx context.Context, lease awsclient.LeaseStore, j Job) bool {
	l, err := lease.ReadLease(ctx)
	switch {
	case errors.Is(err, awsclient.ErrNotFound):
		return false
	case err != nil:
		o.log("reading the lease before writing the run's tags failed; writing them", "error", err.Error())
		return true
	case l.Owner != "" && l.Owner != j.Owner:
		o.log("another owner holds the subject: its run and status tags are left as they are", "owner", l.Owner)
		return false
	}
	return true
}

// Jittered is a wait of seconds lengthened by up to a tenth, so that the
// executions of many detached rollouts started together (one apply's) do
// not poll AWS in the same second: each execution paces itself. The
// jitter is a function of the execution and the call, so a call repeated
// with the same input answers the same; a wait under 10 s is not
// lengthened, and a pause lasts at most a tenth longer.
func Jittered(seconds int, execution string, call int) int {
	spread := seconds / 10
	if spread == 0 {
		return seconds
	}
	h := fnv.New32a()
	fmt.Fprintf(h, "%s/%d", execution, call)
	return seconds + int(h.Sum32()%uint32(spread+1))
}

// runner is the engine for a job: the subject's router and observers, the
// real clock, a repeatable driver.
func (o *Orchestrator) runner(ctx context.Context, c *awsclient.Client, j Job) (*rollout.Runner, error) {
	r, err := subjects.NewRunner(c, j.Subject, j.Settings, o.Clock)
	if err != nil {
		return nil, err
	}
	r.Deadline, r.Repeatable = j.Deadline, true
	r.Log = func(e rollout.Event) {
		args := []any{}
		for k, v := range e.Fields {
			args = append(args, k, v)
		}
		o.log(e.Message, args...)
	}
	why := func() string {
		return fmt.Sprintf("rolled back by the detached rollout %s of %s %s", j.Execution, j.Subject.Kind(), j.Subject.ID())
	}
	switch {
	case j.SwitchOffSelf && j.Subject.Flag != nil:
		r.SwitchOff = c.SwitchOff([]string{j.Subject.Flag.Name}, why)
	case len(j.Flags) > 0:
		r.SwitchOff = c.SwitchOff(j.Flags, why)
	}
	return r, nil
}

func (o *Orchestrator) log(msg string, args ...any) {
	if o.Log != nil {
		o.Log.Info(msg, args...)
	}
}

// Report is how a run that did not succeed ended: the last call of such an
// execution fails with it, so that the execution ends failed and its cause
// says why.
type Report struct {
	Execution string         `json:"execution"`
	Status    rollout.Status `json:"status"`
	Result    rollout.Result `json:"result"`
	Calls     int            `json:"calls"`
}

// ReportInput is the Report state's input (Parameters).
type ReportInput struct {
	Report *Report `json:"report"`
}

// Ended is the error the report call fails with; its type names the end
// (RolloutRolledBack, RolloutFailed).
type Ended struct {
	Report Report
}

func (e *Ended) Error() string {
	b, _ := json.Marshal(e.Report)
	return string(b)
}

// ErrorType is the Lambda errorType of the report.
func (e *Ended) ErrorType() string {
	if e.Report.Status == rollout.RolledBack {
		return "RolloutRolledBack"
	}
	return "RolloutFailed"
}

// ParseCause finds the Report in a failed execution's cause: the Lambda
// error of the report call ({"errorMessage": "<report>", "errorType": ...}),
// possibly after text of the service's own.
func ParseCause(cause string) (Report, bool) {
	for i := strings.IndexByte(cause, '{'); i >= 0; {
		var le struct {
			ErrorMessage string `json:"errorMessage"`
		}
		if err := json.NewDecoder(strings.NewReader(cause[i:])).Decode(&le); err == nil && le.ErrorMessage != "" {
			var r Report
			if err := json.Unmarshal([]byte(le.ErrorMessage), &r); err == nil && r.Status != "" {
				return r, true
			}
		}
		j := strings.IndexByte(cause[i+1:], '{')
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return Report{}, false
}
