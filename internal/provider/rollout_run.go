package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/rolloutdev/terraform-provider-rollout/internal/awsclient"
	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

// What every resource that moves traffic shares: running a schedule on a
// listener or rule, and explaining how it ended.

// refuseRetry adds an error (or, at plan time, a warning) when `to` is the
// target of the last rollout and that rollout did not ship it: it rolled
// back, was held where a gate failed (on_failure.rollback = "none"), or
// stopped because someone changed the subject during it. The change runs
// again only when rollout.attempt changes.
func refuseRetry(base path.Path, last types.Object, to weights.Split, attempt string, diags *diag.Diagnostics, plan bool) bool {
	if last.IsNull() || last.IsUnknown() {
		return false
	}
	a := last.Attributes()
	str := func(k string) string {
		v, _ := a[k].(types.String)
		return v.ValueString()
	}
	if str("target") == "" || str("target") != to.Canonical() || str("attempt") != attempt {
		return false
	}
	how, title, ok := unshipped(str("status"), str("gate"), str("rollback"))
	if !ok {
		return false
	}
	label := "unset"
	if attempt != "" {
		label = fmt.Sprintf("%q", attempt)
	}
	what := fmt.Sprintf("This change (to %s) is the one the last rollout %s (%s), and rollout.attempt is still %s.", to.Short(), how, str("reason"), label)
	again := "To try it again deliberately, change rollout.attempt (for example to the next number or a ticket), then plan and apply. Otherwise set the configuration to what it serves now."
	if plan {
		diags.AddAttributeWarning(base.AtName("rollout").AtName("attempt"), title+" Planned Again", detail(nil, what, "Apply will refuse it with nothing moved. "+again))
		return false
	}
	diags.AddAttributeError(base.AtName("rollout").AtName("attempt"), title+" Not Retried", detail(nil, what+" Nothing was moved: a candidate that did not ship (rolled back, held or stopped) does not ship again with the next unrelated apply.", again))
	return true
}

// unshipped says whether a change that ended so did not ship and must not
// run again without a new rollout.attempt: it rolled back, stopped because
// someone changed the subject, or was held where a gate failed. A service
// a release rolled back because another failed (gate "release") is not:
// the failed one holds the release.
func unshipped(status, gate, rollback string) (how, title string, ok bool) {
	switch {
	case status == string(rollout.RolledBack) && gate != string(rollout.GateRelease):
		return "rolled back", "Rolled-Back Change", true
	case status == string(rollout.Failed) && gate == string(rollout.GateChanged):
		return "stopped because someone changed it during the rollout", "Stopped Change", true
	case status == string(rollout.Failed) && rollback == string(rollout.None) && gate != "":
		return "held where a gate failed, not rolled back", "Held Change", true
	}
	return "", "", false
}

// gateWaits is what a schedule's gates add to its pauses: the metrics delay
// after every paused step.
func gateWaits(s rolloutSettings, steps []rollout.PlannedStep) time.Duration {
	if s.Gates.Metrics == nil {
		return 0
	}
	var d time.Duration
	for _, st := range steps {
		if st.Pause > 0 {
			d += s.Gates.Metrics.Delay
		}
	}
	return d
}

// checkScheduleTimeout refuses a schedule whose pauses alone outlast the
// timeout.
func checkScheduleTimeout(ctx context.Context, t timeouts.Value, create bool, steps []rollout.PlannedStep, ro types.Object, diags *diag.Diagnostics) {
	s, _ := settingsFrom(ctx, ro)
	total := rollout.TotalPause(steps) + gateWaits(s, steps)
	checkTimeoutTotal(ctx, t, create, total, fmt.Sprintf("The %d steps of this rollout pause for %s in all", len(steps), total), diags)
}

// checkTimeoutTotal refuses a change whose waits (total, described by what)
// outlast the create or update timeout.
func checkTimeoutTotal(ctx context.Context, t timeouts.Value, create bool, total time.Duration, what string, diags *diag.Diagnostics) {
	if total == 0 || t.IsUnknown() {
		return
	}
	name, limit, d := "update", time.Duration(0), diag.Diagnostics(nil)
	if create {
		name = "create"
		limit, d = t.Create(ctx, defaultApplyTimeout)
	} else {
		limit, d = t.Update(ctx, defaultApplyTimeout)
	}
	if d.HasError() {
		return
	}
	if total > limit {
		diags.AddAttributeError(path.Root("timeouts").AtName(name), "Schedule Longer Than Timeout", detail(nil,
			fmt.Sprintf("%s, longer than the %s timeout of %s (metrics delays count as pauses), so the apply would stop half way and roll back.", what, name, limit),
			fmt.Sprintf("Set timeouts = { %s = \"%s\" } or more (pauses plus time for gates and hooks), or shorten the pauses.", name, shortDuration((total+15*time.Minute).Round(time.Minute)))))
	}
}

// shortDuration writes whole minutes and hours as "30m" and "1h30m".
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// addRolloutError explains a rollout that did not reach its last step, in
// the subject's words; from is where it started.
func addRolloutError(diags *diag.Diagnostics, s subject, res rollout.Result, limit time.Duration, from weights.Split) {
	serves := fmt.Sprintf("The %s now serves %s (read back and confirmed), and the state records it.", s.Kind(), res.Current.Short())
	again := "The next plan shows the change again; apply refuses it until rollout.attempt changes, so fix the cause, then change rollout.attempt and apply."
	switch {
	case res.Failure != nil && res.Failure.Gate == rollout.GateChanged:
		diags.AddAttributeError(s.Attr(), "Changed During Rollout", detail(nil,
			fmt.Sprintf("At step %d of %d the %s %s no longer served what this rollout had left: %s. Someone or something else changed it during the rollout (an on-call rollback, another pipeline, a controller).", max(res.Failure.Step, 1), res.Steps, s.Kind(), s.ID(), res.Failure.Reason),
			fmt.Sprintf("The rollout stopped and wrote nothing more, not even a rollback, so that change stands. The %s serves %s now; the state and last_rollout record it.", s.Kind(), res.Current.Short()),
			"Run plan to see it. Apply refuses this change again until rollout.attempt changes: when the other change has done its job, change rollout.attempt and apply, and the rollout runs again from what it serves then."))
	case res.Unknown:
		diags.AddError("Weights Unknown", detail(res.Err,
			fmt.Sprintf("A write to %s was sent at step %d of %d, but what the %s serves after it could not be read back, and putting back the weights before this apply could not be confirmed either.", s.ID(), max(res.StepReached, 1), res.Steps, s.Kind()),
			fmt.Sprintf("The state keeps %s, the last weights confirmed; the next refresh reads what the %s really serves.", res.Current.Short(), s.Kind()),
			"Run plan: it shows the real weights. Check the endpoint and network, then apply again."))
	case res.Status == rollout.RolledBack && res.Failure.Gate == rollout.GateTimeout:
		diags.AddAttributeError(path.Root("timeouts"), "Rollout Timed Out", detail(nil,
			fmt.Sprintf("The rollout reached its %s timeout at step %d of %d; nothing would watch the new weights after the apply, so it rolled back.", limit, res.StepReached, res.Steps),
			rolledBackSentence(s, res, serves),
			"Raise the timeout in timeouts, or shorten the pauses; then change rollout.attempt and apply."))
	case res.Status == rollout.RolledBack:
		f := res.Failure
		diags.AddAttributeError(gatePath(f.Gate, s.Attr()), "Rollout Rolled Back", detail(nil,
			fmt.Sprintf("Step %d of %d failed the %s gate: %s.", f.Step, res.Steps, f.Gate, f.Reason),
			rolledBackSentence(s, res, serves),
			again+" "+gateAdvice(f.Gate)))
	case res.Policy == rollout.None && res.Failure != nil:
		f := res.Failure
		diags.AddAttributeError(gatePath(f.Gate, s.Attr()), "Rollout Failed, Not Rolled Back", detail(nil,
			fmt.Sprintf("Step %d of %d failed the %s gate: %s.", f.Step, res.Steps, f.Gate, f.Reason),
			"It was left where it failed, as on_failure.rollback = \"none\" asks. "+serves,
			again+" Or "+s.GoBack(from)+" to go back. "+gateAdvice(f.Gate)))
	case res.Failure != nil:
		diags.AddAttributeError(gatePath(res.Failure.Gate, s.Attr()), "Rollback Incomplete", detail(res.Err,
			fmt.Sprintf("Step %d of %d failed the %s gate (%s) and rolling back stopped part way.", res.Failure.Step, res.Steps, res.Failure.Gate, res.Failure.Reason),
			serves, fmt.Sprintf("Run apply again to finish the change, or %s to finish the rollback.", s.GoBack(from))))
	case errors.Is(res.Err, context.Canceled) || errors.Is(res.Err, context.DeadlineExceeded):
		diags.AddError("Rollout Interrupted", detail(nil,
			fmt.Sprintf("The apply was interrupted at step %d of %d; the rollout stopped there and did not roll back.", res.StepReached, res.Steps), serves,
			fmt.Sprintf("Run apply again to continue from these weights, or %s to go back.", s.GoBack(from))))
	default:
		diags.AddError("Rollout Stopped", detail(res.Err,
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
	}
	return ""
}

// addWriteError explains a refused or unconfirmed forward-action write.
func addWriteError(diags interface{ AddError(string, string) }, c *awsclient.Client, ref awsclient.Ref, err error) {
	var nc *awsclient.NotConfirmedError
	switch {
	case errors.As(err, &nc):
		diags.AddError("Weights Not Confirmed", detail(nil, nc.Error()+".",
			"Something else is changing this listener at the same time (another stack, a controller, a pipeline). Stop the other writer, then run apply again; the next plan shows the weights the listener really has."))
	case errors.Is(err, awsclient.ErrNotFound):
		addReadError(diags, c, ref, err)
	default:
		diags.AddError(fmt.Sprintf("Cannot Modify %s", title(ref.Kind())), detail(err,
			fmt.Sprintf("AWS refused the new forward action of %s; the listener keeps its previous weights.", ref.ID()),
			"Check that every target group exists, is of target type instance, ip or lambda as the load balancer allows, belongs to the load balancer's VPC, and that the credentials allow elasticloadbalancing:ModifyListener and ModifyRule."))
	}
}

// rolledBackSentence says what the rollback did: nothing when the gate
// failed before the first shift.
func rolledBackSentence(s subject, res rollout.Result, serves string) string {
	if res.SwitchedOff != "" {
		return fmt.Sprintf("The flags %s were switched off (%s: kill switch on, written and read back), and the %s was left where it is. %s", res.SwitchedOff, res.Policy, s.Kind(), serves)
	}
	if len(res.RollbackSteps) == 0 {
		return "No traffic had moved yet; nothing was rolled back. " + serves
	}
	return fmt.Sprintf("The %s was rolled back (%s) to the weights it had before this apply. %s", s.Kind(), res.Policy, serves)
}

// lastStatus is last_rollout.status, "" when there is none.
func lastStatus(last types.Object) string {
	if last.IsNull() || last.IsUnknown() {
		return ""
	}
	st, _ := last.Attributes()["status"].(types.String)
	return st.ValueString()
}
