package pipeline

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rolloutdev/terraform-provider-rollout/internal/awsclient"
	"github.com/rolloutdev/terraform-provider-rollout/internal/orchestrator"
	"github.com/rolloutdev/terraform-provider-rollout/internal/problem"
	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

// The plan half of the traffic pipeline, the same for every subject:
//
//	schedule  rollout.Plan from what the subject serves to the desired split
//	          ("Schedule Not Possible" on the attribute that moves it)
//	steps     the caller shows them in planned_steps, in its subject's terms
//	timeout   the pauses against the timeouts (checkScheduleTimeout; a
//	          release adds its services' up)
//	retry     a change that did not ship is planned again: a warning now,
//	          refused at apply until rollout.attempt changes
//	flags     a feature_flag rollback's flags exist and can be switched off
//
// Plan does schedule, retry and flags; it returns false when the
// schedule is not possible.

// Planned is one change as the plan sees it.
type Planned struct {
	// At is the attribute whose change moves the subject; its rollout block
	// is beside it.
	At       problem.Path
	Kind     string
	From, To weights.Split
	Strategy rollout.Strategy
	Settings Settings
	// Last is the state's last_rollout (null on create).
	Last Record
	// Subj, when set, is the subject: a plan with no record of a rollout
	// (a create, an import) says what its status tag found (warnFoundRun),
	// and the plan of a held rollout's abort reads what it serves.
	Subj Subject
}

func Plan(ctx context.Context, c *awsclient.Client, p Planned, diags Report) ([]rollout.PlannedStep, bool) {
	if p.Last.Status == StatusRunning {
		// A detached rollout runs: back to where it started aborts it;
		// anything else waits for it.
		if !sameTrafficAs(p.To, p.Last.From) {
			RefuseWhileRunning(p.At, p.Last, diags)
			return nil, false
		}
		if warnChangedDuringHold(ctx, c, p.Subj, p.Last, p.Strategy, true, diags) {
			return nil, true
		}
		diags.AddAttributeWarning(p.At, "Applying Aborts The Detached Rollout", Detail(nil,
			fmt.Sprintf("The configuration is back where the running rollout %s started (%s).", p.Last.Execution, p.To.Short()),
			"Applying tells the orchestrator to abort: it rolls back by the rollout's rollback policy, and the apply waits until it has."))
		return nil, true
	}
	if h, held := HeldOf(p.Last); held {
		// A held rollout: the configuration moved off its target (which
		// the state keeps). Back to where it started is one step back.
		var live weights.Split
		if p.Subj != nil && c != nil {
			if got, err := ReadSplit(ctx, p.Subj); err == nil {
				live = got
			}
		}
		steps, _, ok := planHeld(p.At.Parent(), p.At, h, p.Settings, p.To, live, nil, time.Time{}, diags)
		return steps, ok
	}
	steps, err := Schedule(p.From, p.To, p.Strategy)
	if err != nil {
		reportError(diags, atPath(p.At), "Schedule Not Possible", err, fmt.Sprintf("The %s serves %s now and this plan wants %s.", p.Kind, p.From.Short(), p.To.Short()))
		return nil, false
	}
	if len(steps) == 0 {
		return steps, true
	}
	RefuseRetry(p.At.Parent(), p.Last, p.To, p.Settings.Attempt, diags, atPlan)
	if p.Last.Status == "" {
		warnFoundRun(ctx, c, p.Subj, p.At, p.Kind, p.From, p.Settings, diags)
	}
	checkSwitchable(ctx, c, p.At.Parent(), p.Settings, atPlan, diags)
	checkDetached(p.At.Parent(), p.Settings, steps, diags)
	return steps, true
}

// PlanHeldSame is the plan of a held rollout's subject whose configuration
// still goes where the rollout goes: the steps still to run, and whether
// the apply acts (promoted, or the hold timed out). Whether the hold timed
// out is asked as of the refresh the plan starts from (looked: lookedAt),
// so that core's final plan of a saved plan, made at apply from the same
// prior state, shows what the saved plan showed.
func PlanHeldSame(ctx context.Context, c *awsclient.Client, s Subject, h HeldRun, settings Settings, to weights.Split, looked time.Time, diags Report) ([]rollout.PlannedStep, bool, bool) {
	var live weights.Split
	if c != nil {
		if got, err := ReadSplit(ctx, s); err == nil {
			live = got
		}
	}
	norm, _ := s.Router().(rollout.Normalizer)
	at := h.heldAt
	if looked.After(at) {
		at = looked
	}
	return planHeld(s.Attr().Parent(), s.Attr(), h, settings, to, live, norm, at, diags)
}

// warnFoundRun says, in a plan with no record of a rollout of the subject
// (a create, an import), what its status tag says of a rollout that is
// held or has not ended: this resource cannot promote it, and applying
// starts a new one. A tag that no run keeps any more (staleRun) is said to
// be stale, not a rollout in progress.
func warnFoundRun(ctx context.Context, c *awsclient.Client, s Subject, at problem.Path, kind string, from weights.Split, settings Settings, diags Report) {
	if s == nil {
		return
	}
	l, err := s.Lease().ReadLease(ctx)
	if err != nil {
		return // the apply's read before write and claim say it
	}
	st, ok := awsclient.ParseStatus(l.Status)
	if !ok {
		return
	}
	what := ""
	switch st.Type {
	case rollout.NoticeHeld:
		what = fmt.Sprintf("is held after step %d of %d (since %s), waiting for its rollout.promote", st.Step, st.Steps, st.At.UTC().Format(time.RFC3339))
	case rollout.NoticeStarted, rollout.NoticeStepCompleted, rollout.NoticePromoted:
		what = fmt.Sprintf("was at step %d of %d at %s and has not ended", st.Step, st.Steps, st.At.UTC().Format(time.RFC3339))
	default:
		return
	}
	owner := "another resource"
	if l.Owner != "" {
		owner = fmt.Sprintf("%s (tag %s)", l.Owner, awsclient.OwnerTag)
	}
	if why := staleRun(ctx, c, l, st, settings, kind); why != "" {
		diags.AddAttributeWarning(at, "Stale Rollout Status Found", Detail(nil,
			fmt.Sprintf("The %s's status tag (%s = %q) says that a rollout %s, but no rollout runs: %s. The tag was left by a run that could not end it (a detached start that was refused and could not put the tags back, or an apply that stopped mid-run).", kind, awsclient.StatusTag, l.Status, what, why),
			fmt.Sprintf("Nothing needs doing: applying starts a new rollout from what the %s serves now (%s), by planned_steps, and its status replaces the tag.", kind, from.Short())))
		return
	}
	diags.AddAttributeWarning(at, "Rollout In Progress Found", Detail(nil,
		fmt.Sprintf("The %s's status tag (%s = %q) says that a rollout started by %s %s. This resource has no record of it (it was imported, or is new), so it cannot promote or roll back that rollout: it does not know where it started nor where it goes.", kind, awsclient.StatusTag, l.Status, owner, what),
		fmt.Sprintf("Applying starts a new rollout from what the %s serves now (%s), by planned_steps, and that one's notices are a new run; the rollout found is not promoted. To finish it instead, promote it or roll it back from the resource that started it, then plan this one again.", kind, from.Short())))
}

// inApplyStatusAge bounds how old the status tag of a rollout running in
// an apply can be: the run writes it before each wait, and no wait is
// longer than a step's pause, its health wait and the metrics' delay
// (an hour more for the rest).
const inApplyStatusAge = MaxPause + MaxHealthTimeout + MaxMetricsDelay + time.Hour

// staleRun says why the status st in the lease l is kept by no run, or ""
// when a run may keep it (or that could not be told). A detached run's
// status names its execution: its run tag says it ended, or the
// orchestrator this resource runs on (settings) has no such execution
// running. A run in the apply holds the owner tag while it runs and
// writes its status before each wait; a held one waits for its owner.
func staleRun(ctx context.Context, c *awsclient.Client, l awsclient.Lease, st awsclient.Status, settings Settings, kind string) string {
	if st.Execution != "" {
		if ended, ok := orchestrator.EndedOf(l.Run, st.Execution); ok {
			return fmt.Sprintf("its run tag (%s = %q) says the execution %s ended %s", awsclient.RunTag, l.Run, st.Execution, ended)
		}
		if c == nil || settings.Detached == nil || settings.Detached.Orchestrator == "" {
			return ""
		}
		arn := awsclient.ExecutionARN(settings.Detached.Orchestrator, st.Execution)
		x, err := c.DescribeExecution(ctx, arn)
		switch {
		case errors.Is(err, awsclient.ErrNotFound):
			return fmt.Sprintf("the orchestrator %s has no execution %s (it never started)", settings.Detached.Orchestrator, st.Execution)
		case err == nil && x.Status != "RUNNING":
			return fmt.Sprintf("the execution %s is %s", arn, x.Status)
		}
		return ""
	}
	if l.Owner == "" {
		return fmt.Sprintf("no resource owns the %s (it has no %s tag), and a rollout in the apply, running or held, keeps that tag until it ends", kind, awsclient.OwnerTag)
	}
	if st.Type != rollout.NoticeHeld && c != nil {
		if age := c.Clock.Now().Sub(st.At); age > inApplyStatusAge {
			return fmt.Sprintf("the tag was written %s ago, and a rollout in the apply writes it before each wait, at most %s apart", age.Round(time.Minute), inApplyStatusAge)
		}
	}
	return ""
}

// sameTrafficAs says whether to serves the traffic a record names
// (canonical: a run's from or target), in any form: a run that started
// from another form of the same traffic (a person's rewrite, a zero-weight
// entry dropped) is still "back to where it started" for a configuration
// in its own form.
func sameTrafficAs(to weights.Split, canonical string) bool {
	recorded, err := weights.ParseCanonical(canonical)
	return err == nil && weights.SameTraffic(to, recorded)
}
