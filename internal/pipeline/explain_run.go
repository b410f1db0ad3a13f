package pipeline

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rolloutdev/terraform-provider-rollout/internal/awsclient"
	"github.com/rolloutdev/terraform-provider-rollout/internal/problem"
	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

// NotRestored warns that destroy left a subject as it is because it no
// longer serves what its resource last left.
func NotRestored(diags Report, s Subject, recorded, live weights.Split) {
	diags.AddWarning(fmt.Sprintf("%s Not Restored", Title(s.Kind())), Detail(nil,
		fmt.Sprintf("on_destroy is \"restore\", but the %s %s serves %s, not the %s this resource last left: someone or something changed it since.", s.Kind(), s.ID(), live.Short(), recorded.Short()),
		"It was left as it is, so that change stands. Set it yourself if it must change."))
}

// The explainers: how each way a change can end, or be refused, is said
// to the user, in the subject's words.

// addRolloutError explains a rollout that did not reach its last step, in
// the subject's words; from is where it started.
func addRolloutError(diags Report, s Subject, res rollout.Result, limit time.Duration, from weights.Split) {
	serves := fmt.Sprintf("The %s now serves %s (read back and confirmed), and the state records it.", s.Kind(), res.Current.Short())
	if res.Unread {
		serves = fmt.Sprintf("The state records %s, the last weights confirmed; what the %s serves could not be read again after the run, so the next refresh reads it.", res.Current.Short(), s.Kind())
	}
	again := "The next plan shows the change again; apply refuses it until rollout.attempt changes, so fix the cause, then change rollout.attempt and apply."
	switch {
	case res.Failure != nil && res.Failure.Gate == rollout.GateChanged:
		diags.AddAttributeError(s.Attr(), "Changed During Rollout", Detail(nil,
			fmt.Sprintf("At step %d of %d the %s %s no longer served what this rollout had left: %s. Someone or something else changed it during the rollout (an on-call rollback, another pipeline, a controller).", max(res.Failure.Step, 1), res.Steps, s.Kind(), s.ID(), res.Failure.Reason),
			fmt.Sprintf("The rollout stopped and wrote nothing more, not even a rollback, so that change stands. The %s serves %s now; the state and last_rollout record it.", s.Kind(), res.Current.Short()),
			"Run plan to see it. Apply refuses this change again until rollout.attempt changes: when the other change has done its job, change rollout.attempt and apply, and the rollout runs again from what it serves then."))
	case res.Unknown:
		diags.AddError("Weights Unknown", Detail(res.Err,
			fmt.Sprintf("A write to %s was sent at step %d of %d, but what the %s serves after it could not be read back, and putting back %s, the weights from before the rollout started, could not be confirmed either.", s.ID(), max(res.StepReached, 1), res.Steps, s.Kind(), from.Short()),
			fmt.Sprintf("The state keeps %s, the last weights confirmed; the next refresh reads what the %s really serves.", res.Current.Short(), s.Kind()),
			"Run plan: it shows the real weights. Check the endpoint and network, then apply again."))
	case res.Status == rollout.RolledBack && res.Failure.Gate == rollout.GateTimeout:
		diags.AddAttributeError(problem.At("timeouts"), "Rollout Timed Out", Detail(nil,
			fmt.Sprintf("The rollout reached its %s timeout at step %d of %d; nothing would watch the new weights after the apply, so it rolled back.", limit, res.StepReached, res.Steps),
			rolledBackSentence(s, res, from, serves),
			"Raise the timeout in timeouts, or shorten the pauses; then change rollout.attempt and apply."))
	case res.Status == rollout.RolledBack:
		f := res.Failure
		diags.AddAttributeError(GatePath(f.Gate, s.Attr()), "Rollout Rolled Back", Detail(nil,
			fmt.Sprintf("Step %d of %d failed the %s gate: %s.", f.Step, res.Steps, f.Gate, f.Reason),
			rolledBackSentence(s, res, from, serves),
			again+" "+gateAdvice(f.Gate)))
	case res.Policy == rollout.None && res.Failure != nil:
		f := res.Failure
		diags.AddAttributeError(GatePath(f.Gate, s.Attr()), "Rollout Failed, Not Rolled Back", Detail(nil,
			fmt.Sprintf("Step %d of %d failed the %s gate: %s.", f.Step, res.Steps, f.Gate, f.Reason),
			"It was left where it failed, as on_failure.rollback = \"none\" asks. "+serves,
			again+" Or "+s.GoBack(from)+" to go back. "+gateAdvice(f.Gate)))
	case res.Failure != nil:
		diags.AddAttributeError(GatePath(res.Failure.Gate, s.Attr()), "Rollback Incomplete", Detail(res.Err,
			fmt.Sprintf("Step %d of %d failed the %s gate (%s) and rolling back stopped part way.", res.Failure.Step, res.Steps, res.Failure.Gate, res.Failure.Reason),
			serves, fmt.Sprintf("Run apply again to finish the change, or %s to finish the rollback.", s.GoBack(from))))
	case errors.Is(res.Err, context.Canceled) || errors.Is(res.Err, context.DeadlineExceeded):
		diags.AddError("Rollout Interrupted", Detail(nil,
			fmt.Sprintf("The apply was interrupted at step %d of %d; the rollout stopped there and did not roll back.", res.StepReached, res.Steps), serves,
			fmt.Sprintf("Run apply again to continue from these weights, or %s to go back.", s.GoBack(from))))
	default:
		diags.AddError("Rollout Stopped", Detail(res.Err,
			fmt.Sprintf("The rollout stopped at step %d of %d.", res.StepReached, res.Steps), serves,
			"Check the endpoint and the credentials' permissions (see the provider's IAM permissions table), then apply again."))
	}
}

func gateAdvice(g rollout.Gate) string {
	switch g {
	case rollout.GateHealth:
		return "Register healthy targets in the target groups gaining traffic (or lower rollout.gates.health), then apply."
	case rollout.GateAlarm:
		return "Find out why the alarm fired and wait for it to return to OK before applying."
	case rollout.GateErrorRate, rollout.GateLatency:
		return "Look at the new version's errors and latency before applying again."
	case rollout.GateVolume:
		return "The step did not get enough traffic to judge it: lengthen the pause, or lower min_request_count."
	case rollout.GateHook:
		return "See the hook function's logs for why it did not answer Succeeded."
	case rollout.GateHold:
		return "To go on after a hold, set rollout.promote to a new value within rollout.hold_timeout, or raise hold_timeout."
	}
	return ""
}

// rolledBackSentence says what the rollback did: nothing when the gate
// failed before the first shift.
func rolledBackSentence(s Subject, res rollout.Result, from weights.Split, serves string) string {
	if res.SwitchedOff != "" {
		return fmt.Sprintf("The flags %s were switched off (%s: kill switch on, written and read back), and the %s was left where it is. %s", res.SwitchedOff, res.Policy, s.Kind(), serves)
	}
	if len(res.RollbackSteps) == 0 {
		return "No traffic had moved yet; nothing was rolled back. " + serves
	}
	// from is where the rollout started: in this apply, or in an earlier
	// one for a rollout resumed after its hold (promoted, or timed out).
	return fmt.Sprintf("The %s was rolled back (%s) to %s, the weights it had when the rollout started. %s", s.Kind(), res.Policy, from.Short(), serves)
}

// AddLeaseReadError explains a failed read of a lease.
func AddLeaseReadError(diags Report, s Owned, err error) {
	if errors.Is(err, awsclient.ErrNotFound) {
		diags.AddError(fmt.Sprintf("%s Not Found", Title(s.Kind())), Detail(nil, fmt.Sprintf("The %s %s does not exist.", s.Kind(), s.ID()),
			"Check its name or ARN and the provider's region, and that it is created before this resource (reference its attribute)."))
		return
	}
	reportError(diags, nil, fmt.Sprintf("Cannot Read %s Owner", Title(s.Kind())), err, fmt.Sprintf("Reading the %s tag of %s failed.", awsclient.OwnerTag, s.ID()), LeasePermissions(s.Kind()))
}

// reportError reports an error in the pipeline's report; at is optional.
func reportError(r Report, at *problem.Path, summary string, err error, sentences ...string) {
	if at != nil {
		r.AddAttributeError(*at, summary, Detail(err, sentences...))
		return
	}
	r.AddError(summary, Detail(err, sentences...))
}

func atPath(p problem.Path) *problem.Path { return &p }
