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
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/rolloutdev/terraform-provider-rollout/internal/awsclient"
	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

// What every resource that moves traffic shares: running a schedule on a
// listener or rule, and explaining how it ended.

// runRollout runs steps on ref with the rollout block's settings, on the
// provider's clock, logging every event at INFO.
func runRollout(ctx context.Context, c *awsclient.Client, ref awsclient.Ref, sticky awsclient.Stickiness, s rolloutSettings, from weights.Split, steps []rollout.PlannedStep, limit time.Duration) (rollout.Result, error) {
	probe, err := awsclient.NewProbe(c, ref, sticky)
	if err != nil {
		return rollout.Result{}, err
	}
	runner := &rollout.Runner{
		Probe: probe, Clock: c.Clock, Gates: s.Gates, PollInterval: s.PollInterval,
		Rollback: s.Policy, Deadline: c.Clock.Now().Add(limit), SplitID: ref.ID(),
		Log: func(e rollout.Event) { tflog.Info(ctx, e.Message, e.Fields) },
	}
	return runner.Run(ctx, from, steps), nil
}

// nothingMoved reports a run whose first write AWS refused.
func nothingMoved(res rollout.Result) bool {
	return res.StepReached == 0 && res.Status == rollout.Failed && res.Failure != nil && res.Failure.Gate == rollout.GateApply
}

// reportRollout adds the error of a run that did not succeed.
func reportRollout(diags *diag.Diagnostics, c *awsclient.Client, ref awsclient.Ref, res rollout.Result, limit time.Duration) {
	switch {
	case res.Status == rollout.Succeeded:
	case nothingMoved(res):
		addWriteError(diags, c, ref, res.Err)
	default:
		addRolloutError(diags, ref, res, limit)
	}
}

// checkTimeout refuses a schedule whose pauses alone outlast the timeout.
func checkScheduleTimeout(ctx context.Context, t timeouts.Value, create bool, steps []rollout.PlannedStep, diags *diag.Diagnostics) {
	total := rollout.TotalPause(steps)
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
			fmt.Sprintf("The %d steps of this rollout pause for %s in all, longer than the %s timeout of %s, so the apply would stop half way.", len(steps), total, name, limit),
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

// addRolloutError explains a rollout that did not reach its last step.
func addRolloutError(diags *diag.Diagnostics, ref awsclient.Ref, res rollout.Result, limit time.Duration) {
	serves := fmt.Sprintf("The %s now serves %s (read back and confirmed), and the state records it.", ref.Kind(), res.Current.Short())
	again := "The next plan shows the change again; run apply once the cause is fixed."
	switch {
	case res.Status == rollout.RolledBack:
		f := res.Failure
		diags.AddAttributeError(gatePath(f.Gate), "Rollout Rolled Back", detail(nil,
			fmt.Sprintf("Step %d of %d failed the %s gate: %s.", f.Step, res.Steps, f.Gate, f.Reason),
			rolledBackSentence(res, serves),
			again+" "+gateAdvice(f.Gate)))
	case res.Failure != nil:
		diags.AddAttributeError(gatePath(res.Failure.Gate), "Rollback Incomplete", detail(res.Err,
			fmt.Sprintf("Step %d of %d failed the %s gate (%s) and rolling back stopped part way.", res.Failure.Step, res.Steps, res.Failure.Gate, res.Failure.Reason),
			serves, "Run apply again to finish the change, or set target_groups to the weights before this apply to finish the rollback."))
	case errors.Is(res.Err, rollout.ErrTimedOut):
		diags.AddAttributeError(path.Root("timeouts"), "Rollout Timed Out", detail(nil,
			fmt.Sprintf("The rollout reached its %s timeout at step %d of %d and stopped there.", limit, res.StepReached, res.Steps), serves,
			"Raise the timeout in timeouts, or shorten the pauses; apply again continues from the weights the listener serves."))
	case errors.Is(res.Err, context.Canceled) || errors.Is(res.Err, context.DeadlineExceeded):
		diags.AddError("Rollout Interrupted", detail(nil,
			fmt.Sprintf("The apply was interrupted at step %d of %d; the rollout stopped there and did not roll back.", res.StepReached, res.Steps), serves,
			"Run apply again to continue from these weights, or set target_groups to the weights before this apply to go back."))
	default:
		diags.AddError("Rollout Stopped", detail(res.Err,
			fmt.Sprintf("The rollout stopped at step %d of %d because a gate could not be read.", res.StepReached, res.Steps), serves,
			"Check the endpoint and the credentials' permissions: elasticloadbalancing:DescribeTargetHealth, cloudwatch:DescribeAlarms and cloudwatch:GetMetricData, lambda:InvokeFunction. Then apply again."))
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
func rolledBackSentence(res rollout.Result, serves string) string {
	if len(res.RollbackSteps) == 0 {
		return "No traffic had moved yet; nothing was rolled back. " + serves
	}
	return fmt.Sprintf("The listener was rolled back (%s) to the weights it had before this apply. %s", res.Policy, serves)
}
