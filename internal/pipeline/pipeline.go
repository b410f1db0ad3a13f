package pipeline

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"sync"
	"time"

	"github.com/rolloutdev/terraform-provider-rollout/internal/awsclient"
	"github.com/rolloutdev/terraform-provider-rollout/internal/problem"
	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
	"github.com/rolloutdev/terraform-provider-rollout/internal/subjects"
	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

// The traffic pipeline. Every thing that moves is a subject of the same
// path: schedule → check → read → run → record → report. A resource that
// moves something adds a subject; it never copies the path.
//
//	schedule  rollout.Plan from the weights the plan was made from to the
//	          desired ones (schedule)
//	check     the schedule is the one the plan showed; the change is not the
//	          one last rolled back with the same rollout.attempt
//	read      the subject serves what the plan was made from (read before
//	          write), unless it was just read (create)
//	run       rollout.Runner with the subject's Probe, on the provider's
//	          clock, under the apply's deadline
//	record    the caller saves res.Current and last_rollout (RecordChange)
//	report    a diagnostic on the attribute at fault, in the subject's words

// Subject is one thing the pipeline moves.
type Subject interface {
	// Kind and ID name it in messages, logs and hook payloads ("listener",
	// "rule"; an ARN).
	Kind() string
	ID() string
	// Router reads and writes what it serves; the pipeline's runner makes
	// every write through it, guarded and confirmed.
	Router() rollout.Router
	// Observers are the gate readers it has (a flag has no health gate).
	Observers() (rollout.Observers, error)
	// Attr is the attribute whose change moves it (target_groups, active).
	Attr() problem.Path
	// GoBack tells the user how to go back to from by configuration.
	GoBack(from weights.Split) string
	// ReadError and WriteError explain a failed read and a refused write.
	ReadError(diags Report, err error)
	WriteError(diags Report, err error)
	// Lease is where its owner tag is kept (ownership.go).
	Lease() awsclient.LeaseStore
	// Ref names it for another process (a detached rollout's
	// orchestrator), which builds the same router and observers from it.
	Ref() subjects.Ref
}

// Change is one run of the pipeline.
type Change struct {
	From, To weights.Split
	Settings Settings
	// Planned is the plan's planned_steps; nil (unknown) skips the check.
	Planned PlannedSteps
	// Last is the state's last_rollout (null on create).
	Last Record
	// ReadFirst reads the subject before the first write and refuses when
	// it no longer serves from (update, flip). A create has just read it.
	ReadFirst FirstRead
	// Found is what the read before write found (the caller's, when it
	// read itself): from's traffic, maybe in another form. The run starts
	// from it.
	Found weights.Split
	Limit time.Duration
	// SwitchOff, when set, is the subject's own kill switch (a flag's
	// rollout); otherwise rollout.flags are switched off.
	SwitchOff func(ctx context.Context) (string, error)
	// Stabilize, when set, watches the subject after a run that succeeded
	// (a release's service before its dependents start).
	Stabilize *StabilizeSettings
	// Hold leaves the subject where a failed gate found it (a release's
	// on_failure.rollback = "none").
	Hold bool
	// Owner, when set, is the lease to claim after the read-only checks
	// and before the first write.
	Owner *OwnerClaim
	// LeaseToken is the lease the change runs under, once claimed (a
	// detached rollout's orchestrator checks it is still the owner).
	LeaseToken string
	// Acts says the plan left last_rollout unknown: for a held rollout,
	// that the apply acts on it. A hold timeout acts only when the plan
	// showed it (heldChange).
	Acts bool
}

// PlannedSteps says whether a schedule is the one the plan showed
// (planned_steps, which shows it in the subject's terms).
type PlannedSteps func(steps []rollout.PlannedStep) bool

// FirstRead says whether a change reads the subject before its first write
// (an update: it must still serve what the plan was made from) or has just
// read it (a create).
type FirstRead bool

const (
	ReadsFirst  FirstRead = true
	AlreadyRead FirstRead = false
)

// OwnerClaim is the ownership step of a change.
type OwnerClaim struct {
	// Base is the block whose rollout.attempt a LastTag refusal names.
	Base         problem.Path
	ResourceType string
	// Mine is the token in state ("" on create and after an import).
	Mine  string
	Adopt bool
}

// StabilizeSettings are a release's stabilization block.
type StabilizeSettings struct {
	Duration time.Duration
	Poll     time.Duration
	Gates    rollout.Gates
}

// Outcome is what a run of the pipeline did.
type Outcome struct {
	Steps []rollout.PlannedStep
	Res   rollout.Result
	// Moved is false when nothing was written (refused before the run, or
	// the first write refused by AWS).
	Moved bool
	// Lease is what the ownership step claimed (ch.owner).
	Lease Lease
	// execution is a detached rollout's execution ARN; record, when set,
	// is the last_rollout to save (RecordOutcome).
	execution string
	Record    *Record
	// serving is where a run that ended held is (res.Current is then the
	// configured weights, which the state keeps).
	serving weights.Split
	// Found is what the read before write found, when nothing was to
	// move: the form a write that moves no traffic expects besides the
	// plan's (ReadBeforeWrite).
	Found weights.Split
}

// SplitRead is a reading's split (nil without a reading).
func SplitRead(rd *rollout.Reading) weights.Split {
	if rd == nil {
		return nil
	}
	return rd.Split
}

// RecordOutcome is the last_rollout of a run of the pipeline.
func RecordOutcome(ch Change, out Outcome) Record {
	if out.Record != nil {
		return *out.Record
	}
	if out.Res.Status == rollout.Held && out.serving != nil {
		return heldRecord(ch, out.Res, out.serving)
	}
	return RecordChange(ch, out.Res)
}

// Run takes a subject through the pipeline. It reports every error
// itself; the caller records out.res (when out.moved) and saves state.
//
// Every refusal comes before any write: the read-only checks, then the
// Lease (whose own refusal comes before it tags anything), then the run.
func Run(ctx context.Context, c *awsclient.Client, s Subject, ch Change, diags Report) Outcome {
	if ch.Last.Status == StatusRunning {
		out := RunningChange(ctx, c, s, ch, diags)
		if ch.Owner != nil {
			// The lease stays the one the rollout runs under.
			out.Lease = Lease{Token: ch.Owner.Mine, previous: ch.Owner.Mine}
		}
		return out
	}
	if h, held := HeldOf(ch.Last); held {
		out := heldChange(ctx, c, s, ch, h, diags)
		if ch.Owner != nil && out.Lease.Token == "" {
			out.Lease = Lease{Token: ch.Owner.Mine, previous: ch.Owner.Mine}
		}
		return out
	}
	steps, read, ok := CheckChange(ctx, c, s, ch, diags)
	if !ok {
		return Outcome{Steps: steps}
	}
	var l Lease
	if o := ch.Owner; o != nil {
		if l, ok = Claim(ctx, o.Base, s, o.ResourceType, o.Mine, o.Adopt, ch.To, ch.Settings.Attempt, diags); !ok {
			return Outcome{Steps: steps}
		}
	}
	if read != nil {
		ch.Found = read.Split
	}
	if len(steps) == 0 {
		return Outcome{Steps: steps, Lease: l, Found: ch.Found}
	}
	if ch.Owner != nil {
		ch.LeaseToken = l.Token
	}
	if ch.Found != nil && !ch.Found.Equal(ch.From) {
		// The same traffic in another form (ReadBeforeWrite): the run's
		// guard expects, and its rollback puts back, what is there; the
		// schedule was the plan's, from ch.from.
		ch.From = ch.Found
	}
	out := MoveChange(ctx, c, s, ch, steps, read, diags)
	out.Lease = l
	return out
}

// CheckChange is the pipeline up to the first write: schedule, check, read.
// It returns the steps and the read before write (nil when there was none),
// and false when the change must not run (the error says why).
func CheckChange(ctx context.Context, c *awsclient.Client, s Subject, ch Change, diags Report) ([]rollout.PlannedStep, *rollout.Reading, bool) {
	// schedule
	steps, err := Schedule(ch.From, ch.To, ch.Settings.Strategy)
	if err != nil {
		reportError(diags, atPath(s.Attr()), "Schedule Not Possible", err, fmt.Sprintf("The %s serves %s now and the configuration wants %s.", s.Kind(), ch.From.Short(), ch.To.Short()))
		return nil, nil, false
	}
	// check
	if len(steps) > 0 && ch.Planned != nil && !ch.Planned(steps) {
		diags.AddAttributeError(s.Attr().Parent().Name("planned_steps"), fmt.Sprintf("%s Changed Since Plan", Title(s.Kind())), Detail(nil,
			fmt.Sprintf("The plan's schedule started from weights that %s no longer serves (it serves %s now), so the planned steps would not be the ones applied.", s.ID(), ch.From.Short()),
			"Nothing was moved. Run plan again to see the schedule from the weights it serves now, then apply."))
		return steps, nil, false
	}
	if len(steps) > 0 && RefuseRetry(s.Attr().Parent(), ch.Last, ch.To, ch.Settings.Attempt, diags, AtApply) {
		return steps, nil, false
	}
	if len(steps) > 0 && ch.SwitchOff == nil && !checkSwitchable(ctx, c, s.Attr().Parent(), ch.Settings, AtApply, diags) {
		return steps, nil, false
	}
	// read
	if !ch.ReadFirst {
		return steps, nil, true
	}
	read, ok := ReadBeforeWrite(ctx, c, s, ch.From, diags)
	return steps, read, ok
}

// MoveChange runs checked steps, then reports how the run ended.
func MoveChange(ctx context.Context, c *awsclient.Client, s Subject, ch Change, steps []rollout.PlannedStep, read *rollout.Reading, diags Report) (out Outcome) {
	out = Outcome{Steps: steps}
	if ch.Settings.Detached != nil {
		return startDetached(ctx, c, s, ch, steps, diags)
	}
	// run
	runner, ok := newRunner(ctx, c, s, ch, diags)
	if !ok {
		return out
	}
	runner.Primed = read
	st := ch.Stabilize
	// A run that is stabilized after it succeeds ends when the watch does:
	// its end notice is Stabilize's.
	runner.Stabilizes = st != nil && (st.Duration > 0 || st.Gates.Health != nil || len(st.Gates.Alarms) > 0)
	staggered, done := stagger(ctx, c, s, steps, ch.Settings.PollInterval)
	defer done()
	out.Res = runner.Run(ctx, ch.From, steps)
	out.Res.Staggered = staggered
	if runner.Stabilizes && out.Res.Status == rollout.Succeeded {
		watch := *runner
		watch.Gates, watch.PollInterval = st.Gates, st.Poll
		out.Res = watch.Stabilize(ctx, out.Res, ch.From, st.Duration)
	}
	CloseNotices(runner, &out.Res, ch.Settings, diags)
	settle(ctx, c, s, ch, &out, diags)
	return out
}

// settle is the end of a run of the pipeline, whichever way it ran (a
// schedule, a promoted hold): nothing moved, held, or the record of what
// the subject serves, and the report.
func settle(ctx context.Context, c *awsclient.Client, s Subject, ch Change, out *Outcome, diags Report) {
	if out.Res.NothingMoved() {
		s.WriteError(diags, out.Res.Err)
		return
	}
	out.Moved = true
	if out.Res.Status == rollout.Held {
		endHeld(s, ch, out, diags)
		return
	}
	// record what it serves: a run that did not succeed may have stopped
	// (Ctrl-C, the timeout) after someone else changed it, with nothing
	// read since. One read, on a live context, keeps the record true.
	if out.Res.Status != rollout.Succeeded && !out.Res.Unknown {
		lctx, cancel := c.Clock.WithDeadline(context.WithoutCancel(ctx), c.Clock.Now().Add(finalReadGrace))
		live, err := ReadSplit(lctx, s)
		switch {
		case err != nil:
			out.Res.Unread = true
		case !live.Equal(out.Res.Current):
			Log.Warn(ctx, "the subject serves something else than the run left: someone or something changed it", map[string]any{"left": out.Res.Current.String(), "serves": live.String()})
			out.Res.Current = live
		}
		cancel()
	}
	// report (the caller records)
	if out.Res.Status != rollout.Succeeded {
		addRolloutError(diags, s, out.Res, ch.Limit, ch.From)
	}
}

// finalReadGrace bounds the read that records what a subject serves after
// a run that did not succeed.
const finalReadGrace = 30 * time.Second

// newRunner is the rollout.Runner of a change: the subject's probe, the
// provider's clock, the apply's deadline.
func newRunner(ctx context.Context, c *awsclient.Client, s Subject, ch Change, diags Report) (*rollout.Runner, bool) {
	runner, err := subjects.NewRunner(c, s.Ref(), ch.Settings.Settings, c.Clock)
	if err != nil {
		reportError(diags, nil, "Cannot Start Rollout", err, fmt.Sprintf("The %s %s could not be observed.", s.Kind(), s.ID()), "This is a bug in the provider; please report it.")
		return nil, false
	}
	runner.Deadline = c.Clock.Now().Add(ch.Limit)
	runner.Log = func(e rollout.Event) { Log.Info(ctx, e.Message, e.Fields) }
	runner.SwitchOff, runner.Hold = ch.SwitchOff, ch.Hold
	status := awsclient.NewStatusKeeper(s.Lease(), statusLog(ctx))
	runner.Status, runner.Idle = status.Record, status.Flush
	if token := ch.LeaseToken; token != "" {
		// Another owner taking the subject mid-run wins, as in the
		// detached driver: the run stops before its next step's write.
		runner.Taken = func(ctx context.Context) string {
			why := takenBy(ctx, s, token)
			if why != "" {
				status.Disown() // its tags are the new owner's
			}
			return why
		}
	}
	keepers.Store(runner, status)
	if ch.Settings.Topic != "" || ch.Settings.Bus != "" {
		n := c.NewNotifier(ch.Settings.Topic, ch.Settings.Bus)
		runner.Notify = n.Notify
		Notifiers.Store(runner, n)
	}
	if runner.SwitchOff == nil && len(ch.Settings.Flags) > 0 {
		runner.SwitchOff = c.SwitchOff(ch.Settings.Flags, func() string {
			return fmt.Sprintf("rolled back by the rollout of %s %s at %s", s.Kind(), s.ID(), c.Clock.Now().UTC().Format(time.RFC3339))
		})
	}
	return runner, true
}

// RollBackChange takes a subject that a run moved from ch.from to current
// back to ch.from, by its rollout's rollback policy, because of something
// outside its own gates (a release rolling back what it started). Time may
// have passed since the run: the runner's guard reads first, on a live
// context, and leaves a subject that no longer serves current as it is
// (someone else's change wins). It reports a rollback that did not finish;
// the caller records res.
func RollBackChange(ctx context.Context, c *awsclient.Client, s Subject, ch Change, current weights.Split, steps int, reason string, diags Report) (rollout.Result, bool) {
	runner, ok := newRunner(ctx, c, s, ch, diags)
	if !ok {
		return rollout.Result{}, false
	}
	res := runner.RollBack(ctx, current, ch.From, steps, reason)
	CloseNotices(runner, &res, ch.Settings, diags)
	if res.Status != rollout.RolledBack {
		addRolloutError(diags, s, res, ch.Limit, ch.From)
	}
	return res, true
}

// ReadBeforeWrite refuses, with nothing written, when the subject no longer
// serves from, the weights the plan was made from. It returns the reading,
// which the run's first write may start from.
//
// What it serves is compared as traffic (weights.SameTraffic): the same
// traffic in another form (a zero-weight entry dropped, the single target
// group form, another scale) is no person's change of what is served, and
// refusing it would refuse every apply until someone wrote the old form
// back. What comes next starts from the form found (the reading's split):
// the run's guard compares exactly from then on.
func ReadBeforeWrite(ctx context.Context, c *awsclient.Client, s Subject, from weights.Split, diags Report) (*rollout.Reading, bool) {
	live, err := s.Router().Read(ctx)
	if err != nil {
		s.ReadError(diags, err)
		return nil, false
	}
	live.At = c.Clock.Now()
	if weights.SameTraffic(live.Split, from) {
		if !live.Split.Equal(from) {
			Log.Info(ctx, "the subject serves the traffic the plan was made from, in another form", map[string]any{"planned": from.String(), "serves": live.Split.String()})
		}
		return &live, true
	}
	diags.AddAttributeError(s.Attr(), fmt.Sprintf("%s Changed Since Plan", Title(s.Kind())), Detail(nil,
		fmt.Sprintf("The plan was made when the %s %s served %s; it serves %s now. Someone or something changed it between plan and apply (an on-call shift during an incident, another pipeline).", s.Kind(), s.ID(), from.Short(), live.Split.Short()),
		"Nothing was moved: applying the saved plan would have overwritten that change. Run plan again to see the change from the weights it serves now, then apply; or, if the other change should win, update the configuration to it."))
	return nil, false
}

// RestoreSubject puts back what a subject served before its resource took it
// over (on_destroy = "restore"): one guarded write, only when it still
// serves recorded, what the resource last left. A subject someone or
// something changed since is left as it is, with a warning.
func RestoreSubject(ctx context.Context, c *awsclient.Client, s Subject, recorded, back weights.Split, diags Report) {
	runner, err := subjects.NewRunner(c, s.Ref(), rollout.Settings{}, c.Clock)
	if err == nil {
		runner.Log = func(e rollout.Event) { Log.Info(ctx, e.Message, e.Fields) }
		_, err = runner.Put(ctx, []weights.Split{recorded}, back)
	}
	var ce *rollout.ChangedError
	switch {
	case err == nil, errors.Is(err, awsclient.ErrNotFound):
	case errors.As(err, &ce):
		NotRestored(diags, s, recorded, ce.Found)
	default:
		s.WriteError(diags, err)
	}
}

// RestoreActions puts back a listener's or rule's recorded actions (the
// ones a resource replaced when it took the forward action over), only
// when it still serves recorded, what the resource last left; otherwise it
// is left as it is, with a warning. The write is read back.
func RestoreActions(ctx context.Context, c *awsclient.Client, s Subject, ref awsclient.Ref, recorded weights.Split, acts awsclient.Actions, diags Report) {
	live, err := ReadSplit(ctx, s)
	switch {
	case errors.Is(err, awsclient.ErrNotFound):
		return
	case err != nil:
		s.ReadError(diags, err)
		return
	case !live.Equal(recorded):
		NotRestored(diags, s, recorded, live)
		return
	}
	if err := c.WriteActions(ctx, ref, acts); err != nil {
		if errors.Is(err, awsclient.ErrNotFound) {
			return
		}
		reportError(diags, nil, "Cannot Restore Replaced Action", err,
			fmt.Sprintf("AWS refused to put back the action that %s had before this resource took it over; it still forwards as this resource last set it.", s.ID()),
			"A target group of the old action may have been deleted. Set on_destroy = \"keep\" and apply, then destroy again, or fix the old target groups.")
	}
}

// ReadSplit reads what a subject serves.
func ReadSplit(ctx context.Context, s Subject) (weights.Split, error) {
	rd, err := s.Router().Read(ctx)
	return rd.Split, err
}

// RecordChange is the last_rollout of a run towards to.
func RecordChange(ch Change, res rollout.Result) Record {
	return NewRecord(res, ch.To, ch.Settings.Attempt)
}

// flagName is the parameter of a flag named in rollout.flags.
func flagName(k string) string { return awsclient.FlagName(k) }

// SwitchFlagsOff turns the kill switch of each flag on (awsclient).
func SwitchFlagsOff(ctx context.Context, c *awsclient.Client, flags []string, reason string) (string, error) {
	return c.SwitchFlagsOff(ctx, flags, reason)
}

// checkSwitchable checks, before anything moves, that every flag a
// feature_flag rollback would switch off exists, is a flag document, and
// can take its kill switch and reason. At plan time a flag that
// does not exist yet is a warning: it may be created in the same apply.
func checkSwitchable(ctx context.Context, c *awsclient.Client, base problem.Path, s Settings, when phase, diags Report) bool {
	if len(s.Flags) == 0 || (s.Policy != rollout.FeatureFlag && s.Policy != rollout.Auto && s.Policy != "") || c == nil {
		return true
	}
	ok := true
	for i, k := range s.Flags {
		at := base.Name("rollout").Name("flags").Index(i)
		name := flagName(k)
		p, err := c.ReadFlagParameter(ctx, name)
		var why string
		switch {
		case errors.Is(err, awsclient.ErrNotFound) && when == atPlan:
			diags.AddAttributeWarning(at, "Rollback Flag Not Found", Detail(nil,
				fmt.Sprintf("rollout.flags[%d] is %q, but the parameter %s does not exist now. A failed gate switches the named flags off instead of moving traffic back.", i, k, name),
				"If the flag is created in this apply (rollout_feature_flag), nothing is wrong: apply checks again before anything moves. Otherwise fix the key (a key under "+awsclient.DefaultFlagPrefix+", or a parameter name)."))
			continue
		case errors.Is(err, awsclient.ErrNotFound):
			why = fmt.Sprintf("the parameter %s does not exist", name)
		case err != nil && p.Doc != "":
			why = fmt.Sprintf("the parameter %s does not hold a flag document (%v)", name, err)
		case err != nil:
			why = fmt.Sprintf("the parameter %s could not be read (%v)", name, err)
		case len(p.Doc)+FlagValueRoom > awsclient.AdvancedMaxBytes:
			why = fmt.Sprintf("the flag's document is %d bytes and would not fit with its kill switch and reason", len(p.Doc))
		}
		if why == "" {
			continue
		}
		ok = false
		diags.AddAttributeError(at, "Rollback Flag Not Usable", Detail(nil,
			fmt.Sprintf("rollout.flags[%d] is %q, but %s: a failed gate could not switch it off, and the failing version would keep serving.", i, k, why),
			"Nothing was moved. Fix the key (a key under "+awsclient.DefaultFlagPrefix+", or a parameter name), create the flag first (reference rollout_feature_flag.x.key), or remove it from rollout.flags."))
	}
	return ok
}

// notifiers are the notifiers of the runners that publish notices;
// keepers their status keepers.
var Notifiers, keepers sync.Map

// noticeWait is how long an apply waits, after its run, for its notices
// to go out, or longer when what is left may take longer (Notifier.Drain:
// each publish is bounded), up to maxNoticeWait; what is not delivered
// then is counted.
const (
	noticeWait    = 5 * time.Second
	maxNoticeWait = time.Minute
)

// CloseNotices writes a runner's last status (bounded), waits (bounded)
// for its notices to go out, counts those that did not in res, and warns
// about them: never fatal.
func CloseNotices(runner *rollout.Runner, res *rollout.Result, s Settings, diags Report) {
	if k, ok := keepers.LoadAndDelete(runner); ok {
		// The run's last status, once, after its last write.
		k.(*awsclient.StatusKeeper).Flush(context.Background())
	}
	v, ok := Notifiers.LoadAndDelete(runner)
	if !ok {
		return
	}
	n := v.(*awsclient.Notifier)
	undelivered, last := n.Close(min(max(noticeWait, n.Drain()), maxNoticeWait))
	res.NotifyFailures += undelivered
	if res.NotifyFailures > 0 {
		where := strings.Trim(s.Topic+" "+s.Bus, " ")
		diags.AddWarning("Notices Not Delivered", Detail(nil,
			fmt.Sprintf("%d of the rollout's notices could not be delivered to %s (last error: %s). The rollout itself went on as it would have.", res.NotifyFailures, where, rollout.Bound(last)),
			"Check that the topic or bus exists in the provider's region and that the credentials allow sns:Publish or events:PutEvents. last_rollout.notices_undelivered counts them."))
	}
}

// statusLog logs a status tag that could not be written.
func statusLog(ctx context.Context) func(string, error) {
	return func(msg string, err error) { Log.Warn(ctx, msg, map[string]any{"error": err.Error()}) }
}

// maxStagger bounds how far apart stagger spreads the step boundaries of
// rollouts that run at once.
const maxStagger = time.Second

// staggerOffset is a subject's place in the spread: the same for every
// rollout of the subject, uniform across subjects.
func staggerOffset(id string, spread time.Duration) time.Duration {
	h := fnv.New64a()
	_, _ = h.Write([]byte(id))
	return time.Duration(h.Sum64() % uint64(spread))
}

// stagger counts a starting rollout among the running ones and, when
// others run and it has steps after the first, delays its start by its
// Subject's offset in a spread of up to maxStagger (and at most the poll
// interval): a hundred rollouts in one apply do not all write in the same
// second, and since every step is relative to the start, their step
// boundaries stay spread. A one-step change (a release's service moved all
// at once with its wave) has no boundaries to spread and starts at once.
// It returns how long the start waited (last_rollout.staggered) and the
// function that counts the rollout out.
func stagger(ctx context.Context, c *awsclient.Client, s Subject, steps []rollout.PlannedStep, poll time.Duration) (time.Duration, func()) {
	var d time.Duration
	if n := c.Running.Add(1); n > 1 && len(steps) > 1 {
		spread := min(maxStagger, poll)
		if spread > 0 {
			d = staggerOffset(s.ID(), spread)
			Log.Info(ctx, "staggering the rollout's start among the others running", map[string]any{"offset": d.String(), "spread": spread.String(), "running": n})
			_ = c.Clock.Sleep(ctx, d) // a cancel shows in the run's first wait
		}
	}
	return d, func() { c.Running.Add(-1) }
}
