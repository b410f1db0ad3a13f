package awsclient_test

import (
	"context"
	"testing"

	"github.com/rolloutdev/terraform-provider-rollout/internal/acctest"
	"github.com/rolloutdev/terraform-provider-rollout/internal/awsclient"
	"github.com/rolloutdev/terraform-provider-rollout/internal/clock"
)

// An ECS service deployment that ends between ListServiceDeployments and
// DescribeServiceDeployments (described with its final status, or not at
// all: a failure with reason MISSING) has ended: the read neither fails
// nor reports it as running. Another deployment listed beside it that
// still runs is the one reported.
func TestForeignDeploymentEndsBetweenListAndDescribe(t *testing.T) {
	e := acctest.NewEnv(t)
	ctx := context.Background()
	c, err := awsclient.New(ctx, awsclient.Config{Region: acctest.Region, Endpoints: awsclient.Endpoints{ECS: e.Emu.URL, CodeDeploy: e.Emu.URL}, MaxRetries: 1}, clock.Real{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, endsAs string
	}{
		{"described as ended", "SUCCESSFUL"},
		{"stopped", "STOPPED"},
		{"rolled back", "ROLLBACK_SUCCESSFUL"},
		{"missing", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svc := e.Emu.ECSService("prod", acctest.Name("web"), "ECS", "tg-blue", "tg-green")
			ctl := awsclient.Controller{ECSService: svc}
			dep := e.Emu.SetECSDeployment(svc, "", "IN_PROGRESS", "PRODUCTION_TRAFFIC_SHIFT")
			e.Emu.EndECSDeploymentAfterList(dep, tc.endsAs)
			f, err := c.ForeignDeployment(ctx, ctl)
			if err != nil || f != nil {
				t.Fatalf("a deployment that ended between the list and the describe read as %+v, %v; want none running", f, err)
			}

			// Two listed: the first ends in between, the second (a
			// rollback, say) still runs and is the one reported.
			first := e.Emu.SetECSDeployment(svc, "", "IN_PROGRESS", "BAKE_TIME")
			second := e.Emu.SetECSDeployment(svc, "", "ROLLBACK_IN_PROGRESS", "PRODUCTION_TRAFFIC_SHIFT")
			e.Emu.EndECSDeploymentAfterList(first, tc.endsAs)
			f, err = c.ForeignDeployment(ctx, ctl)
			if err != nil || f == nil || f.ID != second || f.Status != "ROLLBACK_IN_PROGRESS" || f.Stage != "PRODUCTION_TRAFFIC_SHIFT" || f.System != "ECS" {
				t.Fatalf("with %s ended in between and %s running, read %+v, %v; want %s ROLLBACK_IN_PROGRESS at PRODUCTION_TRAFFIC_SHIFT", first, second, f, err, second)
			}
			e.Emu.SetECSDeployment(svc, second, "ROLLBACK_SUCCESSFUL", "CLEAN_UP")
		})
	}

	// Still running at the describe: reported with its stage, in two
	// requests.
	svc := e.Emu.ECSService("prod", acctest.Name("api"), "ECS", "tg-blue", "tg-green")
	dep := e.Emu.SetECSDeployment(svc, "", "IN_PROGRESS", "TEST_TRAFFIC_SHIFT")
	e.Emu.ResetCounts()
	f, err := c.ForeignDeployment(ctx, awsclient.Controller{ECSService: svc})
	if err != nil || f == nil || f.ID != dep || f.Status != "IN_PROGRESS" || f.Stage != "TEST_TRAFFIC_SHIFT" {
		t.Fatalf("a deployment in progress read as %+v, %v", f, err)
	}
	if n := e.Emu.Count("ecs:ListServiceDeployments") + e.Emu.Count("ecs:DescribeServiceDeployments"); n != 2 {
		t.Fatalf("%d requests, want 2 (one list, one describe)", n)
	}
}
