package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/rolloutdev/terraform-provider-rollout/internal/awsclient"
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
// planChange does schedule, retry and flags; it returns false when the
// schedule is not possible.

// plannedChange is one change as the plan sees it.
type plannedChange struct {
	// at is the attribute whose change moves the subject; its rollout block
	// is beside it.
	at       path.Path
	kind     string
	from, to weights.Split
	strategy rollout.Strategy
	settings rolloutSettings
	// last is the state's last_rollout (null on create).
	last types.Object
	// subj, when set, is the subject: a plan with no record of a rollout
	// (a create, an import) says what its status tag found (warnFoundRun),
	// and the plan of a held rollout's abort reads what it serves.
	subj subject
}

func planChange(ctx context.Context, c *awsclient.Client, p plannedChange, diags *diag.Diagnostics) ([]rollout.PlannedStep, bool) {
	if lastStatus(p.last) == statusRunning {
		// A detached rollout runs: back to where it started aborts it;
		// anything else waits for it.
		if p.to.Canonical() != lastAttr(p.last, "from") {
			refuseWhileRunning(p.at, p.last, diags)
			return nil, false
		}
		if warnChangedDuringHold(ctx, c, p.subj, p.last, p.strategy, true, diags) {
			return nil, true
		}
		diags.AddAttributeWarning(p.at, "Applying Aborts The Detached Rollout", detail(nil,
			fmt.Sprintf("The configuration is back where the running rollout %s started (%s).", lastAttr(p.last, "execution"), p.to.Short()),
			"Applying tells the orchestrator to abort: it rolls back by the rollout's rollback policy, and the apply waits until it has."))
		return nil, true
	}
	if h, held := heldOf(p.last); held {
		// A held rollout: the configuration moved off its target (which
		// the state keeps). Back to where it started is one step back.
		var live weights.Split
		if p.subj != nil && c != nil {
			if got, err := readSplit(ctx, p.subj); err == nil {
				live = got
			}
		}
		steps, _, ok := planHeld(p.at.ParentPath(), p.at, h, p.settings, p.to, live, nil, time.Time{}, diags)
		return steps, ok
	}
	steps, err := schedule(p.from, p.to, p.strategy)
	if err != nil {
		addError(diags, pathOf(p.at), "Schedule Not Possible", err, fmt.Sprintf("The %s serves %s now and this plan wants %s.", p.kind, p.from.Short(), p.to.Short()))
		return nil, false
	}
	if len(steps) == 0 {
		return steps, true
	}
	refuseRetry(p.at.ParentPath(), p.last, p.to, p.settings.Attempt, diags, atPlan)
	if lastStatus(p.last) == "" {
		warnFoundRun(ctx, p.subj, p.at, p.kind, p.from, diags)
	}
	checkSwitchable(ctx, c, p.at.ParentPath(), p.settings, atPlan, diags)
	checkDetached(p.at.ParentPath(), p.settings, steps, diags)
	return steps, true
}

// planHeldSame is the plan of a held rollout's subject whose configuration
// still goes where the rollout goes: the steps still to run, and whether
// the apply acts (promoted, or the hold timed out). Whether the hold timed
// out is asked as of the refresh the plan starts from (private: lookedAt),
// so that core's final plan of a saved plan, made at apply from the same
// prior state, shows what the saved plan showed.
func planHeldSame(ctx context.Context, c *awsclient.Client, s subject, h heldRun, settings rolloutSettings, to weights.Split, private privateGetter, diags *diag.Diagnostics) ([]rollout.PlannedStep, bool, bool) {
	var live weights.Split
	if c != nil {
		if got, err := readSplit(ctx, s); err == nil {
			live = got
		}
	}
	norm, _ := s.Router().(rollout.Normalizer)
	return planHeld(s.Attr().ParentPath(), s.Attr(), h, settings, to, live, norm, lookedAt(ctx, private, h), diags)
}

// warnFoundRun says, in a plan with no record of a rollout of the subject
// (a create, an import), that its status tag shows a rollout that has not
// ended: held, or running, started by another resource (or by this one's
// state before it was lost). That rollout's start and target are in the
// state that started it, so this plan cannot go on with it: applying
// starts a new rollout from what the subject serves now (from).
func warnFoundRun(ctx context.Context, s subject, at path.Path, kind string, from weights.Split, diags *diag.Diagnostics) {
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
	diags.AddAttributeWarning(at, "Rollout In Progress Found", detail(nil,
		fmt.Sprintf("The %s's status tag (%s = %q) says that a rollout started by %s %s. This resource has no record of it (it was imported, or is new), so it cannot promote or roll back that rollout: it does not know where it started nor where it goes.", kind, awsclient.StatusTag, l.Status, owner, what),
		fmt.Sprintf("Applying starts a new rollout from what the %s serves now (%s), by planned_steps, and that one's notices are a new run; the rollout found is not promoted. To finish it instead, promote it or roll it back from the resource that started it, then plan this one again.", kind, from.Short())))
}
