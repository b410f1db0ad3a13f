package provider_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/rolloutdev/terraform-provider-rollout/internal/acctest"
	"github.com/rolloutdev/terraform-provider-rollout/internal/awsclient"
	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

const bgRes = "rollout_deployment_bluegreen.web"

// bgFixture is a load balancer whose listener (:80) and test listener
// (:8080) forward to an "app" target group that exists before the
// deployment.
type bgFixture struct {
	e                  *acctest.Env
	lb, app            string
	listener, testLsnr string
	prefix             string
	main, test         func() []weights.Split
}

func newBGFixture(t *testing.T) *bgFixture {
	e := acctest.NewEnv(t)
	f := e.NewFixture(1)
	test := e.Listener(f.LB, f.TGs[0], 8080)
	return &bgFixture{
		e: e, lb: f.LB, app: f.TGs[0], listener: f.Listener, testLsnr: test,
		prefix: strings.ReplaceAll(acctest.Name("bg"), "_", "-"),
		main:   e.RecordSplitsOf(f.Listener), test: e.RecordSplitsOf(test),
	}
}

func (f *bgFixture) config(active, extra string) string {
	return f.e.ProviderConfig() + fmt.Sprintf(`
resource "rollout_deployment_bluegreen" "web" {
  listener_arn      = %q
  test_listener_arn = %q
  name_prefix       = %q
  port              = 8080
  protocol          = "HTTP"
  vpc_id            = %q
  target_type       = "ip"
  health_check      = { path = "/health", healthy_threshold = 2, unhealthy_threshold = 2, interval = 30, timeout = 5, matcher = "200" }
  active            = %q
  %s
}
`, f.listener, f.testLsnr, f.prefix, f.e.VPC, active, extra)
}

const bgCanary = `rollout = {
    strategy      = "canary"
    steps         = [{ percent = 10, pause = "5m" }, { percent = 50, pause = "10m" }, { percent = 100 }]
    poll_interval = "1m"
    gates         = { health = { timeout = "2m" }%s }
  }`

// colors returns the blue and green target groups, read from the listener
// the deployment forwards (blue first).
func (f *bgFixture) colors() (blue, green string) {
	fwd, _ := f.e.Forward(awsclient.Ref{ListenerARN: f.listener})
	if len(fwd.Split) != 2 {
		f.e.T.Fatalf("the listener forwards to %v, want the two colors", fwd.Split)
	}
	return fwd.Split[0].ARN, fwd.Split[1].ARN
}

func (f *bgFixture) split(blueW, greenW int) weights.Split {
	b, g := f.colors()
	return weights.Split{{ARN: b, Weight: blueW}, {ARN: g, Weight: greenW}}
}

// serves checks what the main and test listeners forward to at the emulator.
func (f *bgFixture) serves(blueW, greenW int, testTo string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		b, g := f.colors()
		if err := checkEmulator(f.e, awsclient.Ref{ListenerARN: f.listener}, weights.Split{{ARN: b, Weight: blueW}, {ARN: g, Weight: greenW}})(nil); err != nil {
			return err
		}
		want := map[string]string{"blue": b, "green": g}[testTo]
		return checkEmulator(f.e, awsclient.Ref{ListenerARN: f.testLsnr}, weights.Split{{ARN: want, Weight: 1}})(nil)
	}
}

func (f *bgFixture) wroteMain(want func() []weights.Split) resource.TestCheckFunc {
	return func(*terraform.State) error {
		got, w := f.main(), want()
		if len(got) != len(w) {
			return fmt.Errorf("the listener received %v, want %v", got, w)
		}
		for i := range w {
			if !got[i].Equal(w[i]) {
				return fmt.Errorf("write %d to the listener was %s, want %s (all %v)", i+1, got[i], w[i], got)
			}
		}
		return nil
	}
}

func bgState(attr, want string) statecheck.StateCheck {
	return statecheck.ExpectKnownValue(bgRes, tfjsonpath.New(attr), knownvalue.StringExact(want))
}

// A canary flip blue→green observed step by step, the test listener
// following the idle color, and a flip back that is a plain plan/apply.
func TestAccBlueGreen_flip(t *testing.T) {
	t.Parallel()
	f := newBGFixture(t)
	canary := fmt.Sprintf(bgCanary, "")
	register := func() {
		b, g := f.colors()
		f.e.RegisterTargets(b, 2)
		f.e.RegisterTargets(g, 2)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: f.e.Factories(),
		CheckDestroy: func(*terraform.State) error {
			// Destroy puts back what both listeners had, then deletes the colors.
			if err := checkEmulator(f.e, awsclient.Ref{ListenerARN: f.listener}, weights.Split{{ARN: f.app, Weight: 1}})(nil); err != nil {
				return err
			}
			if err := checkEmulator(f.e, awsclient.Ref{ListenerARN: f.testLsnr}, weights.Split{{ARN: f.app, Weight: 1}})(nil); err != nil {
				return err
			}
			out, err := f.e.ELB.DescribeTargetGroups(context.Background(), &elb.DescribeTargetGroupsInput{})
			if err != nil {
				return err
			}
			for _, tg := range out.TargetGroups {
				if strings.HasPrefix(aws.ToString(tg.TargetGroupName), f.prefix+"-") {
					return fmt.Errorf("target group %s survived destroy", aws.ToString(tg.TargetGroupName))
				}
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				Config: f.config("blue", canary),
				ConfigStateChecks: []statecheck.StateCheck{
					bgState("active", "blue"),
					statecheck.ExpectKnownValue(bgRes, tfjsonpath.New("traffic"), knownvalue.MapExact(map[string]knownvalue.Check{"blue": knownvalue.Int64Exact(100), "green": knownvalue.Int64Exact(0)})),
					statecheck.ExpectKnownValue(bgRes, tfjsonpath.New("target_group_settings").AtMapKey("green"), knownvalue.StringExact("HTTP:8080:"+f.e.VPC+":ip")),
				},
				Check: resource.ComposeTestCheckFunc(
					f.serves(100, 0, "green"),
					func(s *terraform.State) error {
						b, g := f.colors()
						return resource.ComposeTestCheckFunc(
							resource.TestCheckResourceAttr(bgRes, "blue_target_group_arn", b),
							resource.TestCheckResourceAttr(bgRes, "live_target_group_arn", b),
							resource.TestCheckResourceAttr(bgRes, "idle_target_group_arn", g),
						)(s)
					},
				),
			},
			{
				PreConfig: register,
				Config:    f.config("green", canary),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(bgRes, plancheck.ResourceActionUpdate),
					planStepsCheck(f, [][2]int{{900, 100}, {500, 500}, {0, 100}}),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					bgState("active", "green"), bgState("previous_active", "blue"),
					statecheck.ExpectKnownValue(bgRes, tfjsonpath.New("history"), knownvalue.ListExact([]knownvalue.Check{
						knownvalue.ObjectPartial(map[string]knownvalue.Check{"from": knownvalue.StringExact("blue"), "to": knownvalue.StringExact("green"), "status": knownvalue.StringExact("succeeded")}),
					})),
				},
				Check: resource.ComposeTestCheckFunc(
					f.serves(0, 100, "blue"),
					f.wroteMain(func() []weights.Split {
						return []weights.Split{f.split(100, 0), f.split(900, 100), f.split(500, 500), f.split(0, 100)}
					}),
				),
			},
			{
				Config: f.config("blue", canary),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					planStepsCheck(f, [][2]int{{100, 900}, {500, 500}, {100, 0}}),
				}},
				ConfigStateChecks: []statecheck.StateCheck{bgState("active", "blue"), bgState("previous_active", "green")},
				Check:             f.serves(100, 0, "green"),
			},
			// The health check changes in place on both target groups.
			{
				Config: strings.Replace(f.config("blue", canary), `health_check      = { path = "/health", healthy_threshold = 2, unhealthy_threshold = 2, interval = 30, timeout = 5, matcher = "200" }`,
					`health_check      = { path = "/ready", healthy_threshold = 3, unhealthy_threshold = 2, interval = 15, timeout = 5, matcher = "200-299" }`, 1),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(bgRes, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(bgRes, tfjsonpath.New("blue_target_group_arn"), knownvalue.NotNull()),
					plancheck.ExpectKnownValue(bgRes, tfjsonpath.New("planned_steps"), knownvalue.NotNull()),
				}},
				Check: func(*terraform.State) error {
					b, g := f.colors()
					out, err := f.e.ELB.DescribeTargetGroups(context.Background(), &elb.DescribeTargetGroupsInput{TargetGroupArns: []string{b, g}})
					if err != nil {
						return err
					}
					for _, tg := range out.TargetGroups {
						if aws.ToString(tg.HealthCheckPath) != "/ready" || aws.ToInt32(tg.HealthCheckIntervalSeconds) != 15 || aws.ToInt32(tg.HealthyThresholdCount) != 3 || aws.ToString(tg.Matcher.HttpCode) != "200-299" {
							return fmt.Errorf("%s has health check %s every %ds, %d healthy, matcher %s", aws.ToString(tg.TargetGroupName), aws.ToString(tg.HealthCheckPath),
								aws.ToInt32(tg.HealthCheckIntervalSeconds), aws.ToInt32(tg.HealthyThresholdCount), aws.ToString(tg.Matcher.HttpCode))
						}
					}
					return f.serves(100, 0, "green")(nil)
				},
			},
			{
				// A refresh reads the listener, both target groups in one
				// request, and the live color's attributes and tags.
				PreConfig:    f.e.Emu.ResetCounts,
				RefreshState: true,
				Check: func(*terraform.State) error {
					want := map[string]int{
						"elasticloadbalancing:DescribeListeners":             1,
						"elasticloadbalancing:DescribeTargetGroups":          1,
						"elasticloadbalancing:DescribeTargetGroupAttributes": 1,
						"elasticloadbalancing:DescribeTags":                  1,
					}
					got := f.e.Emu.Counts()
					if len(got) != len(want) {
						return fmt.Errorf("refresh made %v, want %v", got, want)
					}
					for k, n := range want {
						if got[k] != n {
							return fmt.Errorf("refresh made %v, want %v", got, want)
						}
					}
					return nil
				},
			},
			{
				ResourceName: bgRes, ImportState: true, ImportStateVerify: true,
				ImportStateIdFunc: func(*terraform.State) (string, error) {
					b, g := f.colors()
					return strings.Join([]string{f.listener, b, g}, ","), nil
				},
				ImportStateVerifyIgnore: []string{"rollout", "timeouts", "planned_steps", "last_rollout", "history", "replaced_actions", "previous_active", "test_listener_arn", "owner_tag"},
			},
		},
	})
}

// planStepsCheck checks planned_steps' weights (blue, green) in the plan.
func planStepsCheck(f *bgFixture, want [][2]int) plancheck.PlanCheck {
	var steps []knownvalue.Check
	for _, w := range want {
		steps = append(steps, knownvalue.ObjectPartial(map[string]knownvalue.Check{
			"target_groups": knownvalue.ListExact([]knownvalue.Check{
				knownvalue.ObjectPartial(map[string]knownvalue.Check{"weight": knownvalue.Int64Exact(int64(w[0]))}),
				knownvalue.ObjectPartial(map[string]knownvalue.Check{"weight": knownvalue.Int64Exact(int64(w[1]))}),
			}),
		}))
	}
	return plancheck.ExpectKnownValue(bgRes, tfjsonpath.New("planned_steps"), knownvalue.ListExact(steps))
}

// An alarm during the flip rolls back to blue; state and history say so.
func TestAccBlueGreen_alarmRollsBack(t *testing.T) {
	acctest.OneEngine(t)
	t.Parallel()
	f := newBGFixture(t)
	alarm := f.e.Alarm("bg-5xx")
	canary := fmt.Sprintf(bgCanary, fmt.Sprintf(", alarms = [%q]", alarm))
	var once sync.Once
	f.e.Clock.OnSleep(func(context.Context, time.Duration, time.Time) {
		if len(f.main()) == 3 { // created, 10 %, 50 %: the second pause
			once.Do(func() { f.e.SetAlarmState(alarm, cwtypes.StateValueAlarm) })
		}
	})
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: f.e.Factories(),
		Steps: []resource.TestStep{
			{Config: f.config("blue", canary)},
			{
				PreConfig:   func() { b, g := f.colors(); f.e.RegisterTargets(b, 1); f.e.RegisterTargets(g, 1) },
				Config:      f.config("green", canary),
				ExpectError: errRE(`Rollout Rolled Back(.|\n)*Step 2 of 3 failed the alarms gate`),
			},
			{Config: f.config("green", canary), PlanOnly: true, ExpectNonEmptyPlan: true},
			{
				Config: f.config("blue", canary),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(bgRes, plancheck.ResourceActionNoop),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					bgState("active", "blue"),
					statecheck.ExpectKnownValue(bgRes, tfjsonpath.New("last_rollout").AtMapKey("status"), knownvalue.StringExact("rolled_back")),
					statecheck.ExpectKnownValue(bgRes, tfjsonpath.New("history"), knownvalue.ListExact([]knownvalue.Check{
						knownvalue.ObjectPartial(map[string]knownvalue.Check{"from": knownvalue.StringExact("blue"), "to": knownvalue.StringExact("green"), "status": knownvalue.StringExact("rolled_back")}),
					})),
				},
				Check: resource.ComposeTestCheckFunc(
					f.serves(100, 0, "green"),
					f.wroteMain(func() []weights.Split {
						return []weights.Split{f.split(100, 0), f.split(900, 100), f.split(500, 500), f.split(100, 0)}
					}),
				),
			},
		},
	})
}

// The health gate blocks a flip to a color with no registered targets:
// nothing moves.
func TestAccBlueGreen_healthBlocksFlip(t *testing.T) {
	acctest.OneEngine(t)
	t.Parallel()
	f := newBGFixture(t)
	canary := fmt.Sprintf(bgCanary, "")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: f.e.Factories(),
		Steps: []resource.TestStep{
			{Config: f.config("blue", canary)},
			{Config: f.config("green", canary), ExpectError: errRE(`Rollout Rolled Back(.|\n)*Step 1 of 3 failed the health gate(.|\n)*0 healthy of 0 registered targets`)},
			{
				Config:            f.config("blue", canary),
				ConfigStateChecks: []statecheck.StateCheck{bgState("active", "blue")},
				Check:             resource.ComposeTestCheckFunc(f.serves(100, 0, "green"), f.wroteMain(func() []weights.Split { return []weights.Split{f.split(100, 0)} })),
			},
		},
	})
}

// A port change replaces only the idle color's target group while the live
// one keeps serving; flipping and replacing at once is refused at plan time.
func TestAccBlueGreen_replaceIdle(t *testing.T) {
	t.Parallel()
	f := newBGFixture(t)
	var blue, oldGreen string
	newPort := func(s string) string {
		return strings.Replace(s, "port              = 8080", "port              = 9090", 1)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: f.e.Factories(),
		Steps: []resource.TestStep{
			{Config: f.config("blue", ""), Check: func(*terraform.State) error { blue, oldGreen = f.colors(); return nil }},
			{
				Config:      newPort(f.config("green", "")),
				PlanOnly:    true,
				ExpectError: errRE(`Change Needs Two Applies(.|\n)*green's target group must be replaced`),
			},
			{
				Config: newPort(f.config("blue", "")),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectUnknownValue(bgRes, tfjsonpath.New("green_target_group_arn")),
					plancheck.ExpectKnownValue(bgRes, tfjsonpath.New("blue_target_group_arn"), knownvalue.NotNull()),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(bgRes, tfjsonpath.New("target_group_settings").AtMapKey("green"), knownvalue.StringExact("HTTP:9090:"+f.e.VPC+":ip")),
					statecheck.ExpectKnownValue(bgRes, tfjsonpath.New("target_group_settings").AtMapKey("blue"), knownvalue.StringExact("HTTP:8080:"+f.e.VPC+":ip")),
				},
				Check: func(s *terraform.State) error {
					b, g := f.colors()
					if b != blue || g == oldGreen {
						return fmt.Errorf("after the port change blue is %s (was %s) and green %s (was %s): only green should be new", b, blue, g, oldGreen)
					}
					// The live color served 100 % on every write.
					for i, w := range f.main() {
						if w.Map()[blue] != 100 {
							return fmt.Errorf("write %d to the listener was %s: blue stopped serving", i+1, w)
						}
					}
					if out, err := f.e.ELB.DescribeTargetGroups(context.Background(), &elb.DescribeTargetGroupsInput{TargetGroupArns: []string{oldGreen}}); err == nil && len(out.TargetGroups) > 0 {
						return fmt.Errorf("the old green target group %s still exists", oldGreen)
					}
					out, err := f.e.ELB.DescribeTargetGroups(context.Background(), &elb.DescribeTargetGroupsInput{TargetGroupArns: []string{g}})
					if err != nil || aws.ToInt32(out.TargetGroups[0].Port) != 9090 {
						return fmt.Errorf("the new green target group: %v %v", out, err)
					}
					return f.serves(100, 0, "green")(s)
				},
			},
		},
	})
}

const bgHold = `rollout = {
    strategy      = "canary"
    steps         = [{ percent = 10, pause = "hold" }, { percent = 100 }]
    poll_interval = "1m"
    gates         = { health = { timeout = "2m" } }
  }`

// bgHeldFlip is the first two steps of a held flip: created at blue, then
// a flip to green that holds after 10 %, its history entry's times kept in
// started and finished.
func bgHeldFlip(f *bgFixture, started, finished *string) []resource.TestStep {
	return []resource.TestStep{
		{Config: f.config("blue", bgHold)},
		{
			PreConfig: func() { b, g := f.colors(); f.e.RegisterTargets(b, 1); f.e.RegisterTargets(g, 1) },
			// Held: the next plan is empty until a promote.
			Config: f.config("green", bgHold),
			ConfigStateChecks: []statecheck.StateCheck{
				bgState("active", "green"), bgState("previous_active", "blue"),
				statecheck.ExpectKnownValue(bgRes, tfjsonpath.New("last_rollout").AtMapKey("status"), knownvalue.StringExact("held")),
			},
			Check: resource.ComposeTestCheckFunc(
				f.serves(900, 100, "green"),
				resource.TestCheckResourceAttr(bgRes, "history.0.status", "held"),
				func(s *terraform.State) error {
					a := s.RootModule().Resources[bgRes].Primary.Attributes
					*started, *finished = a["history.0.started_at"], a["history.0.finished_at"]
					if !strings.HasPrefix(*started, "2026-") || !strings.HasPrefix(*finished, "2026-") {
						return fmt.Errorf("the held flip's history entry ran from %q to %q", *started, *finished)
					}
					return nil
				},
			),
		},
	}
}

// An unrelated change while a flip is held (timeouts.update) writes
// nothing, and keeps the held flip's history entry as it is: the apply
// used to record it again with zero times (0001-01-01), where the plan kept
// the recorded ones, and the engine reported an inconsistent result.
func TestAccBlueGreen_unrelatedChangeWhileHeld(t *testing.T) {
	t.Parallel()
	f := newBGFixture(t)
	var started, finished string
	same := func(want *string) knownvalue.Check {
		return knownvalue.StringFunc(func(v string) error {
			if v != *want {
				return fmt.Errorf("%q, want %q as the held flip recorded it", v, *want)
			}
			return nil
		})
	}
	entry := func() knownvalue.Check {
		return knownvalue.ListExact([]knownvalue.Check{knownvalue.ObjectExact(map[string]knownvalue.Check{
			"from": knownvalue.StringExact("blue"), "to": knownvalue.StringExact("green"), "status": knownvalue.StringExact("held"),
			"started_at": same(&started), "finished_at": same(&finished),
		})})
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: f.e.Factories(),
		Steps: append(bgHeldFlip(f, &started, &finished), resource.TestStep{
			Config: f.config("green", bgHold+"\n  timeouts = { update = \"2h\" }"),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction(bgRes, plancheck.ResourceActionUpdate),
				plancheck.ExpectKnownValue(bgRes, tfjsonpath.New("history"), entry()),
			}},
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(bgRes, tfjsonpath.New("history"), entry()),
				statecheck.ExpectKnownValue(bgRes, tfjsonpath.New("last_rollout").AtMapKey("status"), knownvalue.StringExact("held")),
			},
			Check: resource.ComposeTestCheckFunc(
				f.serves(900, 100, "green"),
				f.wroteMain(func() []weights.Split { return []weights.Split{f.split(100, 0), f.split(900, 100)} }),
			),
		}),
	})
}

// Setting active back while a flip is held aborts it: the listener goes
// back to blue, and previous_active is green, the color active (in the
// state and the configuration) before this change of active, as the plan
// said: "the color that was active before the last flip". The apply used
// to say blue, the color it is now, and the engine reported an
// inconsistent result. The held flip's history entry says how it ended.
func TestAccBlueGreen_abortHeldFlip(t *testing.T) {
	t.Parallel()
	f := newBGFixture(t)
	var started, finished string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: f.e.Factories(),
		Steps: append(bgHeldFlip(f, &started, &finished), resource.TestStep{
			Config: f.config("blue", bgHold),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction(bgRes, plancheck.ResourceActionUpdate),
				plancheck.ExpectKnownValue(bgRes, tfjsonpath.New("previous_active"), knownvalue.StringExact("green")),
			}},
			ConfigStateChecks: []statecheck.StateCheck{
				bgState("active", "blue"), bgState("previous_active", "green"),
				statecheck.ExpectKnownValue(bgRes, tfjsonpath.New("last_rollout").AtMapKey("status"), knownvalue.StringExact("rolled_back")),
				statecheck.ExpectKnownValue(bgRes, tfjsonpath.New("history"), knownvalue.ListExact([]knownvalue.Check{
					knownvalue.ObjectPartial(map[string]knownvalue.Check{"from": knownvalue.StringExact("blue"), "to": knownvalue.StringExact("green"), "status": knownvalue.StringExact("rolled_back")}),
				})),
			},
			Check: resource.ComposeTestCheckFunc(
				f.serves(100, 0, "green"),
				f.wroteMain(func() []weights.Split { return []weights.Split{f.split(100, 0), f.split(900, 100), f.split(100, 0)} }),
			),
		}),
	})
}

// A flip back to blue stopped (Ctrl-C) past half way leaves the state at
// blue with weights short of it; applying blue again completes that flip,
// and previous_active stays green, the color before it, in the plan as in
// the apply. The plan used to say blue (the state's active), the apply
// green, and the engine reported an inconsistent result. It signals the
// engine, so it does not run in parallel.
func TestAccBlueGreen_previousActiveAfterInterruptedFlipBack(t *testing.T) {
	f := newBGFixture(t)
	ro := `rollout = {
    strategy      = "canary"
    steps         = [{ percent = 10, pause = "3m" }, { percent = 52, pause = "3m" }, { percent = 100 }]
    poll_interval = "1m"
    rollback      = "immediate"
  }`
	arm := func() {
		n := len(f.main())
		var done bool
		f.e.Clock.OnSleep(func(ctx context.Context, _ time.Duration, _ time.Time) {
			if !done && len(f.main())-n >= 2 {
				done = true
				interruptEngine(t, ctx)
			}
		})
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: f.e.Factories(),
		Steps: []resource.TestStep{
			{Config: f.config("blue", "")},
			{Config: f.config("green", ro)},
			{PreConfig: arm, Config: f.config("blue", ro), ExpectError: errRE(`Rollout Interrupted|execution halted|interrupt`)},
			{
				PreConfig: func() { f.e.Clock.OnSleep(nil) },
				Config:    f.config("blue", ro),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectKnownValue(bgRes, tfjsonpath.New("previous_active"), knownvalue.StringExact("green")),
				}},
				ConfigStateChecks: []statecheck.StateCheck{bgState("active", "blue"), bgState("previous_active", "green")},
				Check:             f.serves(100, 0, "green"),
			},
		},
	})
}

// deregistrationDelay checks both colors' deregistration delay at the
// emulator.
func (f *bgFixture) deregistrationDelay(want string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		b, g := f.colors()
		for _, tg := range []string{b, g} {
			out, err := f.e.ELB.DescribeTargetGroupAttributes(context.Background(), &elb.DescribeTargetGroupAttributesInput{TargetGroupArn: aws.String(tg)})
			if err != nil {
				return err
			}
			for _, a := range out.Attributes {
				if aws.ToString(a.Key) == "deregistration_delay.timeout_seconds" && aws.ToString(a.Value) != want {
					return fmt.Errorf("%s has deregistration delay %s, want %s", tg, aws.ToString(a.Value), want)
				}
			}
		}
		return nil
	}
}

// A setting AWS changes in place (deregistration_delay) changed while a
// flip is held is written to both target groups, as when nothing is held
// (it moves no traffic), and the held flip stays where it is. It used to
// be recorded in the state only.
func TestAccBlueGreen_settingsWhileHeld(t *testing.T) {
	t.Parallel()
	f := newBGFixture(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: f.e.Factories(),
		Steps: []resource.TestStep{{Config: f.config("blue", bgHold)}, {
			PreConfig: func() { b, g := f.colors(); f.e.RegisterTargets(b, 1); f.e.RegisterTargets(g, 1) },
			Config:    f.config("green", bgHold),
			Check:     resource.ComposeTestCheckFunc(f.serves(900, 100, "green"), f.deregistrationDelay("300")),
		}, {
			Config: f.config("green", bgHold+"\n  deregistration_delay = 42"),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(bgRes, tfjsonpath.New("last_rollout").AtMapKey("status"), knownvalue.StringExact("held")),
			},
			Check: resource.ComposeTestCheckFunc(
				f.deregistrationDelay("42"),
				f.serves(900, 100, "green"),
				f.wroteMain(func() []weights.Split { return []weights.Split{f.split(100, 0), f.split(900, 100)} }),
			),
		}},
	})
}

// A person (or another tool) rewrites the listener in the single target
// group form: blue alone, green's zero-weight entry dropped, or the plain
// TargetGroupArn form. It serves the same traffic (all of it to blue): a
// refresh shows no change, an apply that does not flip is not refused and
// writes nothing to the listener, and the next flip runs from that form and
// writes the two-entry form again. A real change (green at half the
// traffic, beside another target group) is still refused, nothing written.
// It used to be refused with "Listener Changed Since Plan", forever.
func TestAccBlueGreen_sameTrafficOtherForm(t *testing.T) {
	t.Parallel()
	f := newBGFixture(t)
	ref := awsclient.Ref{ListenerARN: f.listener}
	canary := fmt.Sprintf(bgCanary, "")
	var b, g string
	delay := func(n int) string { return f.config("blue", canary+fmt.Sprintf("\n  deregistration_delay = %d", n)) }
	// listenerIs checks the listener forwards exactly want, and that the
	// provider wrote nothing to it since the person's change (writes
	// recorded: the person's last).
	writes := 0
	listenerIs := func(want func() weights.Split) resource.TestCheckFunc {
		return func(*terraform.State) error {
			if err := checkEmulator(f.e, ref, want())(nil); err != nil {
				return err
			}
			if n := len(f.main()); n != writes {
				return fmt.Errorf("the listener received %d writes, want %d (the person's): %v", n, writes, f.main())
			}
			return nil
		}
	}
	delayIs := func(want string) resource.TestCheckFunc {
		return func(*terraform.State) error {
			for _, tg := range []string{b, g} {
				out, err := f.e.ELB.DescribeTargetGroupAttributes(context.Background(), &elb.DescribeTargetGroupAttributesInput{TargetGroupArn: aws.String(tg)})
				if err != nil {
					return err
				}
				for _, a := range out.Attributes {
					if aws.ToString(a.Key) == "deregistration_delay.timeout_seconds" && aws.ToString(a.Value) != want {
						return fmt.Errorf("%s has deregistration delay %s, want %s", tg, aws.ToString(a.Value), want)
					}
				}
			}
			return nil
		}
	}
	traffic := func(blue, green int64) statecheck.StateCheck {
		return statecheck.ExpectKnownValue(bgRes, tfjsonpath.New("traffic"), knownvalue.MapExact(map[string]knownvalue.Check{"blue": knownvalue.Int64Exact(blue), "green": knownvalue.Int64Exact(green)}))
	}
	byHand := func(s func() weights.Split) func() {
		return func() {
			f.e.SetWeights(ref, s())
			writes = len(f.main())
		}
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: f.e.Factories(),
		Steps: []resource.TestStep{
			{
				Config: f.config("blue", canary),
				Check: func(*terraform.State) error {
					b, g = f.colors()
					f.e.RegisterTargets(b, 2)
					f.e.RegisterTargets(g, 2)
					return nil
				},
			},
			{
				// Green's zero-weight entry dropped by hand.
				PreConfig: byHand(func() weights.Split { return weights.Split{{ARN: b, Weight: 100}} }),
				Config:    delay(42),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(bgRes, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(bgRes, tfjsonpath.New("traffic").AtMapKey("blue"), knownvalue.Int64Exact(100)),
				}},
				ConfigStateChecks: []statecheck.StateCheck{bgState("active", "blue"), traffic(100, 0)},
				Check:             resource.ComposeTestCheckFunc(delayIs("42"), listenerIs(func() weights.Split { return weights.Split{{ARN: b, Weight: 100}} })),
			},
			{
				// The plain form AWS reads back at weight 1: the same.
				PreConfig: func() {
					if _, err := f.e.ELB.ModifyListener(context.Background(), &elb.ModifyListenerInput{ListenerArn: aws.String(f.listener), DefaultActions: []elbtypes.Action{
						{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(b)},
					}}); err != nil {
						t.Fatalf("ModifyListener: %v", err)
					}
					writes = len(f.main())
				},
				Config:            delay(43),
				ConfigStateChecks: []statecheck.StateCheck{bgState("active", "blue"), traffic(100, 0)},
				Check:             resource.ComposeTestCheckFunc(delayIs("43"), listenerIs(func() weights.Split { return weights.Split{{ARN: b, Weight: 1}} })),
			},
			{
				// A refresh finds nothing to change.
				Config:   delay(43),
				PlanOnly: true,
			},
			{
				// The flip runs from the form found and writes both colors.
				Config:            strings.Replace(delay(43), `active            = "blue"`, `active            = "green"`, 1),
				ConfigStateChecks: []statecheck.StateCheck{bgState("active", "green"), traffic(0, 100)},
				Check: resource.ComposeTestCheckFunc(f.serves(0, 100, "blue"), func(*terraform.State) error {
					got := f.main()[writes:]
					want := []weights.Split{f.split(900, 100), f.split(500, 500), f.split(0, 100)}
					if len(got) != len(want) {
						return fmt.Errorf("the flip wrote %v, want %v", got, want)
					}
					for i := range want {
						if !got[i].Equal(want[i]) {
							return fmt.Errorf("the flip wrote %v, want %v", got, want)
						}
					}
					return nil
				}),
			},
			{
				// A real change is refused, nothing written.
				PreConfig:   byHand(func() weights.Split { return weights.Split{{ARN: g, Weight: 50}, {ARN: f.app, Weight: 50}} }),
				Config:      strings.Replace(delay(44), `active            = "blue"`, `active            = "green"`, 1),
				ExpectError: errRE(`Listener Changed Since Plan(.|\n)*it serves .*=50, .*=50 now(.|\n)*Nothing was moved`),
			},
			{
				RefreshState: true, ExpectNonEmptyPlan: true,
				Check: resource.ComposeTestCheckFunc(delayIs("43"), listenerIs(func() weights.Split { return weights.Split{{ARN: g, Weight: 50}, {ARN: f.app, Weight: 50}} })),
			},
		},
	})
}
