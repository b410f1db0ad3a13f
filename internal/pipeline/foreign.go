package pipeline

import (
	"context"
	"errors"
	"fmt"

	"github.com/rolloutdev/terraform-provider-rollout/internal/arn"
	"github.com/rolloutdev/terraform-provider-rollout/internal/awsclient"
	"github.com/rolloutdev/terraform-provider-rollout/internal/problem"
)

// Living beside another system that shifts the same listener: ECS's own
// blue/green, linear and canary deployments, or CodeDeploy's. A split may
// observe such a listener (manage = "observe": it writes nothing, and its
// weights are what it reads, so the other system's shifts are no diff), or
// write it while naming the other system (controlled_by), and then refuse
// to write while one of that system's deployments runs.

// ReadForeign reads the deployment of ctl (controlled_by) that runs, if
// any (nil when none, or no ctl); a read that fails is a warning, and ok
// false (the attribute keeps what it had).
func ReadForeign(ctx context.Context, c *awsclient.Client, ctl awsclient.Controller, diags Report) (f *awsclient.ForeignDeployment, ok bool) {
	if ctl == (awsclient.Controller{}) || c == nil {
		return nil, true
	}
	f, err := c.ForeignDeployment(ctx, ctl)
	if err != nil {
		diags.AddAttributeWarning(problem.At("controlled_by"), "Foreign Deployments Not Read", Detail(err,
			fmt.Sprintf("Reading the deployments of %s failed.", ctl.Name()),
			"Check the provider's permissions (ecs:ListServiceDeployments and ecs:DescribeServiceDeployments, or codedeploy:ListDeployments and codedeploy:GetDeployment) and the ARN."))
		return nil, false
	}
	return f, true
}

// RefuseWhileForeign refuses to move a listener's traffic while a
// deployment of controlled_by runs: the two would fight over the weights.
// It reports whether the write may go on.
func RefuseWhileForeign(ctx context.Context, c *awsclient.Client, ctl awsclient.Controller, at problem.Path, diags Report) bool {
	if ctl == (awsclient.Controller{}) || c == nil {
		return true
	}
	f, err := c.ForeignDeployment(ctx, ctl)
	if err != nil {
		diags.AddAttributeError(problem.At("controlled_by"), "Foreign Deployments Not Read", Detail(err,
			fmt.Sprintf("This change moves traffic, and whether %s is deploying could not be read, so nothing was written.", ctl.Name()),
			"Check the provider's permissions (ecs:ListServiceDeployments and ecs:DescribeServiceDeployments, or codedeploy:ListDeployments and codedeploy:GetDeployment) and the ARN, then apply again."))
		return false
	}
	if f == nil {
		return true
	}
	diags.AddAttributeError(at, "Foreign Deployment In Progress", Detail(nil,
		fmt.Sprintf("%s shifts this listener, and its %s. This change would fight it over the weights, so nothing was written.", ctl.Name(), f),
		fmt.Sprintf("Wait until it ends (%s), then plan and apply again; or set manage = \"observe\" while that system owns the listener.", waitCommand(f))))
	return false
}

// waitCommand is how to wait for a foreign deployment to end.
func waitCommand(f *awsclient.ForeignDeployment) string {
	if f.System == "CodeDeploy" {
		return "aws deploy wait deployment-successful --deployment-id " + f.ID
	}
	return "aws ecs wait services-stable --cluster CLUSTER --services SERVICE"
}

// RefuseRestoreWhileForeign refuses a destroy's restore (on_destroy =
// "restore") of the listener id while a deployment of controlled_by runs,
// or when that cannot be read: putting the old action back would fight
// that deployment over the weights. Refused rather than skipped: a
// skipped restore is lost with the resource (its replaced_actions), while
// a refused one leaves the resource in state to destroy again once the
// deployment has ended (or with on_destroy = "keep"). It reports whether
// the restore may go on.
func RefuseRestoreWhileForeign(ctx context.Context, c *awsclient.Client, ctl awsclient.Controller, id string, diags Report) bool {
	if ctl == (awsclient.Controller{}) || c == nil {
		return true
	}
	keep := "or, to leave the listener as that system sets it, set on_destroy = \"keep\", apply, then destroy."
	f, err := c.ForeignDeployment(ctx, ctl)
	if err != nil {
		diags.AddAttributeError(problem.At("controlled_by"), "Foreign Deployments Not Read", Detail(err,
			fmt.Sprintf("on_destroy = \"restore\" puts back the action this resource replaced on %s, and whether %s is deploying could not be read. Nothing was written, and the resource was not destroyed.", id, ctl.Name()),
			"Check the provider's permissions (ecs:ListServiceDeployments and ecs:DescribeServiceDeployments, or codedeploy:ListDeployments and codedeploy:GetDeployment) and the ARN, then destroy again; "+keep))
		return false
	}
	if f == nil {
		return true
	}
	diags.AddAttributeError(problem.At("on_destroy"), "Foreign Deployment In Progress", Detail(nil,
		fmt.Sprintf("%s shifts %s, and its %s. on_destroy = \"restore\" would put back the action this resource replaced in the middle of that deployment. Nothing was written, and the resource was not destroyed.", ctl.Name(), id, f),
		fmt.Sprintf("Wait until it ends (%s), then destroy again; %s", waitCommand(f), keep)))
	return false
}

// RefuseHandBackWhileHeld refuses, at plan, to hand a split back
// (manage = "observe") while its rollout is held: the canary would stay
// half-shifted with nothing able to promote it or roll it back (an
// observing split has no rollout), its record held for ever, and the
// other system would start from weights nobody chose.
func RefuseHandBackWhileHeld(at problem.Path, h HeldRun, diags Report) {
	diags.AddAttributeError(at, "Rollout Held", Detail(nil,
		fmt.Sprintf("A rollout is held after step %d, serving %s, on its way to %s. Handing the listener back (manage = \"observe\") now would leave it there: "+
			"an observing split writes nothing, so nothing could promote the rollout or roll it back.", h.Step, h.Serving.Short(), h.Target.Short()),
		fmt.Sprintf("Nothing was written. Keep manage = \"write\" and first promote it (the configuration at %s, rollout.promote set to a new value) "+
			"or roll it back (target_groups set to %s), then set manage = \"observe\".", h.Target.Short(), h.From.Short())))
}

// CheckReach checks (when controlled_by is new or changed) that the
// system ctl names exists and shifts this listener: an ECS service whose
// load balancers forward to one of the target groups, or a CodeDeploy
// group whose production route is the listener. A system that does not
// exist is an error; one that shifts something else a warning (it is
// still read for its deployments).
func CheckReach(ctx context.Context, c *awsclient.Client, ctl awsclient.Controller, ref awsclient.Ref, tgs []string, at problem.Path, diags Report) {
	if ctl == (awsclient.Controller{}) || c == nil {
		return
	}
	listener := ref.ListenerARN
	if ref.RuleARN != "" {
		listener, _ = arn.ListenerOfRule(ref.RuleARN)
	}
	reaches, what, err := c.ControllerReach(ctx, ctl, listener, tgs)
	switch {
	case errors.Is(err, awsclient.ErrControllerNotFound):
		diags.AddAttributeError(at, "Controlled By Not Found", Detail(nil,
			fmt.Sprintf("controlled_by names %s, which does not exist.", ctl.Name()),
			"Check the ARN (its region, account, cluster or application), or remove controlled_by."))
	case err != nil:
		diags.AddAttributeWarning(at, "Controlled By Not Read", Detail(err,
			fmt.Sprintf("Whether %s shifts this listener could not be read.", ctl.Name()),
			"Check the provider's permissions (ecs:DescribeServices, or codedeploy:BatchGetDeploymentGroups). Its deployments are still read before each write."))
	case !reaches:
		diags.AddAttributeWarning(at, "Controlled By Another Listener", Detail(nil,
			fmt.Sprintf("%s shifts %s, not %s.", ctl.Name(), what, ref.ID()),
			"Check that controlled_by names the system that shifts this listener. Its deployments are still read, and still hold back this resource's writes."))
	}
}
