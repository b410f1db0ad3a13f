package provider_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/rolloutdev/terraform-provider-rollout/internal/acctest"
	"github.com/rolloutdev/terraform-provider-rollout/internal/awsclient"
	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

// observeConfig is two splits observing one listener, one beside an ECS
// service, one beside a CodeDeploy deployment group, and extra.
func observeConfig(e *acctest.Env, listener, service, group, extra string) string {
	return e.ProviderConfig() + fmt.Sprintf(`
resource "rollout_traffic_split" "ecs" {
  listener_arn  = %q
  manage        = "observe"
  controlled_by = { ecs_service = %q }
}

resource "rollout_traffic_split" "codedeploy" {
  listener_arn  = %q
  manage        = "observe"
  controlled_by = { codedeploy_group = %q }
}
%s`, listener, service, listener, group, extra)
}

// checkObserved checks what both observing splits hold after a refresh:
// the listener's weights, and the foreign deployments (ECS's with its
// stage).
func checkObserved(want weights.Split, ecsStage, codeDeployStatus string) resource.TestCheckFunc {
	var checks []resource.TestCheckFunc
	for _, name := range []string{"rollout_traffic_split.ecs", "rollout_traffic_split.codedeploy"} {
		for i, tg := range want {
			checks = append(checks,
				resource.TestCheckResourceAttr(name, fmt.Sprintf("target_groups.%d.arn", i), tg.ARN),
				resource.TestCheckResourceAttr(name, fmt.Sprintf("target_groups.%d.weight", i), fmt.Sprint(tg.Weight)))
		}
		checks = append(checks, resource.TestCheckResourceAttr(name, "owner_tag", ""))
	}
	if ecsStage == "" {
		checks = append(checks, resource.TestCheckNoResourceAttr("rollout_traffic_split.ecs", "foreign_deployment.system"))
	} else {
		checks = append(checks, resource.TestCheckResourceAttr("rollout_traffic_split.ecs", "foreign_deployment.system", "ECS"),
			resource.TestCheckResourceAttr("rollout_traffic_split.ecs", "foreign_deployment.stage", ecsStage))
	}
	if codeDeployStatus == "" {
		checks = append(checks, resource.TestCheckNoResourceAttr("rollout_traffic_split.codedeploy", "foreign_deployment.system"))
	} else {
		checks = append(checks, resource.TestCheckResourceAttr("rollout_traffic_split.codedeploy", "foreign_deployment.system", "CodeDeploy"),
			resource.TestCheckResourceAttr("rollout_traffic_split.codedeploy", "foreign_deployment.status", codeDeployStatus))
	}
	return resource.ComposeAggregateTestCheckFunc(checks...)
}

// noProviderWrites checks that the provider sent the emulator no write
// at all: no forward action, no tag.
func noProviderWrites(e *acctest.Env) resource.TestCheckFunc {
	return func(*terraform.State) error {
		for action, n := range e.Emu.CountsOf("terraform-provider-rollout") {
			for _, w := range []string{"ModifyListener", "ModifyRule", "AddTags", "RemoveTags"} {
				if action == "elasticloadbalancing:"+w && n > 0 {
					return fmt.Errorf("the provider made %d %s while observing", n, action)
				}
			}
		}
		return nil
	}
}

// A listener that ECS and CodeDeploy deployments shift, 100/0 → 90/10 →
// 0/100, while both report a deployment in progress: the observing splits
// write nothing, their plans are empty, their weights follow each shift
// within one refresh and they name the deployments; a split that writes on
// the same listener is refused while they run, and once they have ended it
// takes the listener over (its owner tag) and moves it.
func TestAccObserve_foreignDeployments(t *testing.T) {
	t.Parallel()
	e := acctest.NewEnv(t)
	f := e.NewFixture(2)
	blue, green := f.TGs[0], f.TGs[1]
	ref := awsclient.Ref{ListenerARN: f.Listener}
	service := e.Emu.ECSService("prod", acctest.Name("web"), "ECS", blue, green)
	group := e.Emu.CodeDeployGroup("web", acctest.Name("prod"), f.Listener, "blue", "green")
	app, grp := "web", group[len("arn:aws:codedeploy:us-east-1:000000000000:deploymentgroup:web/"):]
	ecsDep := e.Emu.SetECSDeployment(service, "", "IN_PROGRESS", "TEST_TRAFFIC_SHIFT")
	cdDep := e.Emu.SetCodeDeployStatus(app, grp, "", "InProgress")
	split := func(b, g int) weights.Split { return weights.Split{{ARN: blue, Weight: b}, {ARN: green, Weight: g}} }
	e.SetWeights(ref, split(100, 0))
	cfg := observeConfig(e, f.Listener, service, group, "")
	writer := func(b, g int) string {
		return observeConfig(e, f.Listener, service, group, fmt.Sprintf(`
resource "rollout_traffic_split" "writer" {
  listener_arn  = %q
  target_groups = [{ arn = %q, weight = %d }, { arn = %q, weight = %d }]
  controlled_by = { ecs_service = %q }
}
`, f.Listener, blue, b, green, g, service))
	}
	shift := func(b, g int, stage string) func() {
		return func() {
			e.SetWeights(ref, split(b, g)) // ECS (or CodeDeploy) shifts
			e.Emu.SetECSDeployment(service, ecsDep, "IN_PROGRESS", stage)
		}
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: e.Factories(),
		Steps: []resource.TestStep{
			{Config: cfg, Check: resource.ComposeAggregateTestCheckFunc(checkObserved(split(100, 0), "TEST_TRAFFIC_SHIFT", "InProgress"), noProviderWrites(e))},
			{PreConfig: shift(90, 10, "PRODUCTION_TRAFFIC_SHIFT"), Config: cfg, PlanOnly: true},
			{RefreshState: true, Check: resource.ComposeAggregateTestCheckFunc(checkObserved(split(90, 10), "PRODUCTION_TRAFFIC_SHIFT", "InProgress"), noProviderWrites(e))},
			{PreConfig: shift(0, 100, "BAKE_TIME"), Config: cfg, PlanOnly: true},
			{RefreshState: true, Check: resource.ComposeAggregateTestCheckFunc(checkObserved(split(0, 100), "BAKE_TIME", "InProgress"), noProviderWrites(e))},
			// A split that writes the same listener is refused while ECS
			// deploys, at plan, naming the deployment and its stage.
			{Config: writer(0, 100), ExpectError: regexp.MustCompile(`Foreign Deployment In Progress(.|\n)*ECS service(.|\n)*BAKE_TIME(.|\n)*aws ecs wait services-stable`)},
			{
				PreConfig: func() {
					e.Emu.SetECSDeployment(service, ecsDep, "SUCCESSFUL", "CLEAN_UP")
					e.Emu.SetCodeDeployStatus(app, grp, cdDep, "Succeeded")
				},
				Config: cfg, Check: resource.ComposeAggregateTestCheckFunc(checkObserved(split(0, 100), "", ""), noProviderWrites(e),
					checkEmulator(e, ref, split(0, 100))),
			},
			// The deployments ended: the writer takes the listener over
			// and moves it.
			{Config: writer(50, 50), Check: resource.ComposeAggregateTestCheckFunc(checkEmulator(e, ref, split(50, 50)),
				resource.TestCheckResourceAttrSet("rollout_traffic_split.writer", "owner_tag"))},
		},
	})
}

// A release whose service names the ECS service that shifts its listener
// is refused at plan while that service deploys, and moves once the
// deployment has ended.
func TestAccObserve_releaseWaitsForForeignDeployment(t *testing.T) {
	acctest.OneEngine(t)
	t.Parallel()
	e := acctest.NewEnv(t)
	f := e.NewFixture(2)
	blue, green := f.TGs[0], f.TGs[1]
	ref := awsclient.Ref{ListenerARN: f.Listener}
	e.SetWeights(ref, weights.Split{{ARN: blue, Weight: 100}, {ARN: green, Weight: 0}})
	service := e.Emu.ECSService("prod", acctest.Name("api"), "ECS", blue, green)
	dep := e.Emu.SetECSDeployment(service, "", "ROLLBACK_IN_PROGRESS", "PRODUCTION_TRAFFIC_SHIFT")
	cfg := e.ProviderConfig() + fmt.Sprintf(`
resource "rollout_release" "test" {
  services = {
    api = {
      listener_arn  = %q
      target_groups = [{ arn = %q, weight = 0 }, { arn = %q, weight = 100 }]
      controlled_by = { ecs_service = %q }
    }
  }
}
`, f.Listener, blue, green, service)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: e.Factories(),
		Steps: []resource.TestStep{
			{Config: cfg, ExpectError: regexp.MustCompile(`Foreign Deployment In Progress(.|\n)*services\["api"\]|Foreign Deployment In Progress(.|\n)*ROLLBACK_IN_PROGRESS`)},
			{
				PreConfig: func() { e.Emu.SetECSDeployment(service, dep, "ROLLBACK_SUCCESSFUL", "CLEAN_UP") },
				Config:    cfg, Check: checkEmulator(e, ref, weights.Split{{ARN: blue, Weight: 0}, {ARN: green, Weight: 100}}),
			},
		},
	})
}

// controlled_by naming an ECS service or a CodeDeploy group that does not
// exist is refused at plan.
func TestAccObserve_controllerNotFound(t *testing.T) {
	acctest.OneEngine(t)
	t.Parallel()
	e := acctest.NewEnv(t)
	f := e.NewFixture(2)
	e.Emu.CodeDeployGroup("web", acctest.Name("other"), f.Listener)
	for _, ctl := range []string{
		`{ ecs_service = "arn:aws:ecs:us-east-1:000000000000:service/prod/nowhere" }`,
		`{ codedeploy_group = "arn:aws:codedeploy:us-east-1:000000000000:deploymentgroup:web/nowhere" }`,
		`{ codedeploy_group = "arn:aws:codedeploy:us-east-1:000000000000:deploymentgroup:noapp/nowhere" }`,
	} {
		resource.Test(t, resource.TestCase{
			ProtoV6ProviderFactories: e.Factories(),
			Steps: []resource.TestStep{{
				Config: e.ProviderConfig() + fmt.Sprintf(`
resource "rollout_traffic_split" "test" {
  listener_arn  = %q
  manage        = "observe"
  controlled_by = %s
}
`, f.Listener, ctl),
				ExpectError: regexp.MustCompile(`Controlled By Not Found(.|\n)*nowhere,(.|\n)*which(.|\n)*does(.|\n)*not(.|\n)*exist`),
			}},
		})
	}
}

// A blue/green deployment beside the CodeDeploy group that shifts its
// listener does not flip while that group deploys (refused at plan,
// nothing written), and flips once the deployment has ended.
func TestAccObserve_blueGreenWaitsForForeignDeployment(t *testing.T) {
	acctest.OneEngine(t)
	t.Parallel()
	f := newBGFixture(t)
	group := f.e.Emu.CodeDeployGroup("web", acctest.Name("bg"), f.listener)
	grp := group[len("arn:aws:codedeploy:us-east-1:000000000000:deploymentgroup:web/"):]
	ctl := fmt.Sprintf("controlled_by = { codedeploy_group = %q }", group)
	var dep string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: f.e.Factories(),
		Steps: []resource.TestStep{
			{Config: f.config("blue", ctl)},
			{
				PreConfig:   func() { dep = f.e.Emu.SetCodeDeployStatus("web", grp, "", "Baking") },
				Config:      f.config("green", ctl),
				ExpectError: regexp.MustCompile(`Foreign Deployment In Progress(.|\n)*CodeDeploy(.|\n)*Baking(.|\n)*aws deploy wait deployment-successful`),
			},
			{
				PreConfig: func() { f.e.Emu.SetCodeDeployStatus("web", grp, dep, "Succeeded") },
				Config:    f.config("green", ctl),
				Check: func(*terraform.State) error {
					return checkEmulator(f.e, awsclient.Ref{ListenerARN: f.listener}, f.split(0, 100))(nil)
				},
			},
		},
	})
}

// A split that writes beside an ECS service is not in the way of plans
// that change nothing while the service deploys; a change of its weights
// is refused then.
func TestAccObserve_unchangedWriterPlansWhileForeignDeploys(t *testing.T) {
	acctest.OneEngine(t)
	t.Parallel()
	e := acctest.NewEnv(t)
	f := e.NewFixture(2)
	blue, green := f.TGs[0], f.TGs[1]
	service := e.Emu.ECSService("prod", acctest.Name("api"), "ECS", blue, green)
	cfg := func(b, g int) string {
		return e.ProviderConfig() + fmt.Sprintf(`
resource "rollout_traffic_split" "test" {
  listener_arn  = %q
  target_groups = [{ arn = %q, weight = %d }, { arn = %q, weight = %d }]
  controlled_by = { ecs_service = %q }
}
`, f.Listener, blue, b, green, g, service)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: e.Factories(),
		Steps: []resource.TestStep{
			{Config: cfg(100, 0)},
			{PreConfig: func() { e.Emu.SetECSDeployment(service, "", "PENDING", "RECONCILE_SERVICE") }, Config: cfg(100, 0), PlanOnly: true},
			{Config: cfg(50, 50), ExpectError: regexp.MustCompile(`Foreign Deployment In Progress(.|\n)*PENDING`)},
		},
	})
}

// observeSplit is the rollout fixture's split handed back to the ECS
// service that shifts its listener.
func observeSplit(f *rolloutFixture, service string) string {
	return f.e.ProviderConfig() + fmt.Sprintf(`
resource "rollout_traffic_split" "test" {
  listener_arn  = %q
  manage        = "observe"
  controlled_by = { ecs_service = %q }
}
`, f.ref.ListenerARN, service)
}

// Handing a split back (manage = "observe") while its rollout is held is
// refused at plan, with nothing written: the held canary would be left
// half-shifted with nobody able to promote or roll it back, and the
// observing split would keep the held target as its weights. Once the
// rollout is promoted (or rolled back) the hand-back goes through, and
// the observing split's weights are what the listener serves at each
// refresh.
func TestAccObserve_handBackWhileHeld(t *testing.T) {
	t.Parallel()
	f := newRolloutFixture(t)
	service := f.e.Emu.ECSService("prod", acctest.Name("web"), "ECS", f.blue, f.green)
	const addr = "rollout_traffic_split.test"
	ecsShift := weights.Split{{ARN: f.blue, Weight: 30}, {ARN: f.green, Weight: 70}}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: f.e.Factories(),
		Steps: []resource.TestStep{
			f.start(),
			{Config: f.config(0, 100, holdSteps), Check: checkEmulator(f.e, f.ref, f.step1)},
			{
				Config:      observeSplit(f, service),
				ExpectError: errRE(`Rollout Held(.|\n)*held after step 1(.|\n)*manage = "observe"(.|\n)*Nothing was written(.|\n)*promote(.|\n)*roll it back`),
			},
			{
				// Nothing was written: still held, still owned, and the
				// promote goes on from there.
				Config:            f.config(0, 100, holdSteps+"\n    promote = \"1\""),
				ConfigStateChecks: []statecheck.StateCheck{lastIs(addr, "status", knownvalue.StringExact("succeeded"))},
				Check:             resource.ComposeTestCheckFunc(checkEmulator(f.e, f.ref, f.final), f.wrote(f.step1, f.step2, f.final)),
			},
			{
				Config: observeSplit(f, service),
				Check: resource.ComposeAggregateTestCheckFunc(checkEmulator(f.e, f.ref, f.final),
					resource.TestCheckResourceAttr(addr, "owner_tag", ""), f.wrote(f.step1, f.step2, f.final)),
			},
			{
				// ECS shifts the listener: the observing split follows.
				PreConfig: func() { f.e.SetWeights(f.ref, ecsShift) },
				Config:    observeSplit(f, service),
				PlanOnly:  true,
			},
			{
				RefreshState: true,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(addr, "target_groups.0.weight", "30"),
					resource.TestCheckResourceAttr(addr, "target_groups.1.weight", "70")),
			},
		},
	})
}

// A split that observes writes nothing, ever, destroy included: handed
// back after a rollout that rolled back (its last_rollout kept), its
// destroy writes no tag, no weights.
func TestAccObserve_destroyWritesNothing(t *testing.T) {
	t.Parallel()
	f := newRolloutFixture(t)
	service := f.e.Emu.ECSService("prod", acctest.Name("web"), "ECS", f.blue, f.green)
	ro := holdSteps + "\n    hold_timeout = \"1h\""
	writes := func() int {
		n := 0
		for action, c := range f.e.Emu.CountsOf("terraform-provider-rollout") {
			for _, w := range []string{"ModifyListener", "ModifyRule", "AddTags", "RemoveTags"} {
				if action == "elasticloadbalancing:"+w {
					n += c
				}
			}
		}
		return n
	}
	var before int
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: f.e.Factories(),
		Steps: []resource.TestStep{
			f.start(),
			{Config: f.config(0, 100, ro), Check: checkEmulator(f.e, f.ref, f.step1)},
			{
				PreConfig:   func() { _ = f.e.Clock.Sleep(context.Background(), 61*time.Minute) },
				Config:      f.config(0, 100, ro),
				ExpectError: errRE(`Rollout Rolled Back`),
			},
			{
				Config:            observeSplit(f, service),
				ConfigStateChecks: []statecheck.StateCheck{lastIs("rollout_traffic_split.test", "status", knownvalue.StringExact("rolled_back"))},
				Check: func(*terraform.State) error {
					before = writes()
					return checkEmulator(f.e, f.ref, f.original)(nil)
				},
			},
		},
		CheckDestroy: func(*terraform.State) error {
			if n := writes(); n != before {
				return fmt.Errorf("destroying the observing split made %d writes (tags or weights)", n-before)
			}
			return checkEmulator(f.e, f.ref, f.original)(nil)
		},
	})
}

// on_destroy = "restore" is refused while a deployment of controlled_by
// runs, before any write (the restore would fight that deployment over
// the weights, and the resource, which holds the action to restore, stays
// in state); once the deployment has ended, destroy restores.
func TestAccObserve_restoreWaitsForForeignDeployment(t *testing.T) {
	t.Parallel()
	f := newRolloutFixture(t)
	service := f.e.Emu.ECSService("prod", acctest.Name("web"), "ECS", f.blue, f.green)
	half := weights.Split{{ARN: f.blue, Weight: 50}, {ARN: f.green, Weight: 50}}
	// the rollout fixture's split, restoring, beside ECS
	cfg := strings.TrimSuffix(f.config(50, 50, ""), "}\n") + fmt.Sprintf("  on_destroy    = \"restore\"\n  controlled_by = { ecs_service = %q }\n}\n", service)
	var dep string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: f.e.Factories(),
		PreCheck:                 func() { f.e.SetWeights(f.ref, f.original) },
		Steps: []resource.TestStep{
			{Config: cfg, Check: resource.ComposeAggregateTestCheckFunc(checkEmulator(f.e, f.ref, half),
				resource.TestCheckResourceAttr("rollout_traffic_split.test", "on_destroy", "restore"),
				resource.TestCheckResourceAttr("rollout_traffic_split.test", "controlled_by.ecs_service", service))},
			{
				PreConfig:   func() { dep = f.e.Emu.SetECSDeployment(service, "", "IN_PROGRESS", "PRODUCTION_TRAFFIC_SHIFT") },
				Config:      cfg,
				Destroy:     true,
				ExpectError: errRE(`Foreign Deployment In Progress(.|\n)*IN_PROGRESS(.|\n)*on_destroy(.|\n)*Nothing was written`),
			},
			{
				// Nothing was written: the split still owns the listener at
				// 50/50, and plans no change.
				PreConfig: func() { f.e.Emu.SetECSDeployment(service, dep, "SUCCESSFUL", "CLEAN_UP") },
				Config:    cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("rollout_traffic_split.test", plancheck.ResourceActionNoop),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(checkEmulator(f.e, f.ref, half), f.wrote(half)),
			},
		},
		CheckDestroy: checkEmulator(f.e, f.ref, f.original),
	})
}
