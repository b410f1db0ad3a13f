package provider_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/rolloutdev/terraform-provider-rollout/internal/acctest"
	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

// holdSteps is a canary held after its first step.
const holdSteps = `strategy = "canary"
    steps = [{ percent = 10, pause = "hold" }, { percent = 50, pause = "10m" }, { percent = 100 }]
    poll_interval = "1m"`

func lastIs(addr, key string, v knownvalue.Check) statecheck.StateCheck {
	return statecheck.ExpectKnownValue(addr, tfjsonpath.New("last_rollout").AtMapKey(key), v)
}

// Apply 1 ends held after step 1 with the step's weights in AWS; the next
// plan, without promote, is empty and writes nothing; a promote with nothing held is refused at plan; apply 2
// with promote goes on to the target, the gates checked again first.
func TestAccHold_promote(t *testing.T) {
	t.Parallel()
	f := newRolloutFixture(t)
	alarm := f.e.Alarm("api-5xx")
	ro := holdSteps + fmt.Sprintf("\n    gates = { alarms = [%q] }", alarm)
	const addr = "rollout_traffic_split.test"
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: f.e.Factories(),
		Steps: []resource.TestStep{
			f.start(),
			{
				Config: f.config(100, 0, ro+"\n    promote = \"1\""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
				}},
				ExpectError: errRE(`Nothing To Promote(.|\n)*rollout\.promote changes to "1", but no rollout is held here`),
			},
			{
				Config: f.config(0, 100, ro),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectKnownValue(addr, tfjsonpath.New("planned_steps"), knownvalue.ListExact([]knownvalue.Check{
						stepValue(1, 10, "hold", f.step1), stepValue(2, 50, "10m0s", f.step2), stepValue(3, 100, "0s", f.final),
					})),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					lastIs(addr, "status", knownvalue.StringExact("held")),
					lastIs(addr, "step_reached", knownvalue.Int64Exact(1)),
					lastIs(addr, "serving", knownvalue.StringExact(f.step1.Canonical())),
					lastIs(addr, "from", knownvalue.StringExact(f.original.Canonical())),
				},
				Check: resource.ComposeTestCheckFunc(checkEmulator(f.e, f.ref, f.step1), f.wrote(f.step1), noSleeps(f.e)),
			},
			{
				// Not promoted: the plan is empty (its warning says what is
				// still to run); nothing is written.
				Config: f.config(0, 100, ro),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectEmptyPlan(),
				}},
				ConfigStateChecks: []statecheck.StateCheck{lastIs(addr, "status", knownvalue.StringExact("held"))},
				Check:             resource.ComposeTestCheckFunc(checkEmulator(f.e, f.ref, f.step1), f.wrote(f.step1)),
			},
			{
				Config: f.config(0, 100, ro+"\n    promote = \"1\""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectUnknownValue(addr, tfjsonpath.New("last_rollout")),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					lastIs(addr, "status", knownvalue.StringExact("succeeded")),
					lastIs(addr, "step_reached", knownvalue.Int64Exact(3)),
				},
				Check: resource.ComposeTestCheckFunc(checkEmulator(f.e, f.ref, f.final), f.wrote(f.step1, f.step2, f.final)),
			},
			{
				Config: f.config(0, 100, ro+"\n    promote = \"1\""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionNoop),
				}},
			},
		},
	})
}

// noSleeps checks that a held apply watched nothing after its hold.
func noSleeps(e *acctest.Env) resource.TestCheckFunc {
	return func(*terraform.State) error {
		if s := e.Clock.Sleeps(); len(s) != 0 {
			return fmt.Errorf("the apply waited %v; a hold watches nothing", s)
		}
		return nil
	}
}

// A hold that times out rolls back at the next apply (hold_timeout_action
// rollback, the default); the plan says so first.
func TestAccHold_timeoutRollsBack(t *testing.T) {
	t.Parallel()
	f := newRolloutFixture(t)
	ro := holdSteps + "\n    hold_timeout = \"1h\""
	cfg := f.config(0, 100, ro)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: f.e.Factories(),
		Steps: []resource.TestStep{
			f.start(),
			{Config: cfg, Check: checkEmulator(f.e, f.ref, f.step1)},
			{
				PreConfig:   func() { _ = f.e.Clock.Sleep(context.Background(), 61*time.Minute) },
				Config:      cfg,
				ExpectError: errRE(`Rollout Rolled Back(.|\n)*failed the hold gate: the hold after step 1 was not promoted within 1h0m0s`),
			},
			{
				Config: f.config(100, 0, ro),
				ConfigStateChecks: []statecheck.StateCheck{
					lastIs("rollout_traffic_split.test", "status", knownvalue.StringExact("rolled_back")),
					lastIs("rollout_traffic_split.test", "gate", knownvalue.StringExact("hold")),
				},
				Check: resource.ComposeTestCheckFunc(checkEmulator(f.e, f.ref, f.original), f.wrote(f.step1, f.original)),
			},
		},
	})
}

// A change by hand during the hold wins: the promoted apply's read before
// its write finds it, writes nothing and records what it found.
func TestAccHold_handChangeWins(t *testing.T) {
	t.Parallel()
	f := newRolloutFixture(t)
	hand := weights.Split{{ARN: f.blue, Weight: 70}, {ARN: f.green, Weight: 30}}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: f.e.Factories(),
		Steps: []resource.TestStep{
			f.start(),
			{Config: f.config(0, 100, holdSteps), Check: checkEmulator(f.e, f.ref, f.step1)},
			{
				PreConfig:   func() { f.e.SetWeights(f.ref, hand) },
				Config:      f.config(0, 100, holdSteps+"\n    promote = \"approved\""),
				ExpectError: errRE(`Changed During Rollout`),
			},
			{
				Config:            f.config(70, 30, holdSteps+"\n    promote = \"approved\""),
				ConfigStateChecks: []statecheck.StateCheck{lastIs("rollout_traffic_split.test", "gate", knownvalue.StringExact("changed_during_rollout"))},
				Check:             resource.ComposeTestCheckFunc(checkEmulator(f.e, f.ref, hand), f.wrote(f.step1, hand)),
			},
		},
	})
}

// Setting the configuration back to where a held rollout started rolls it
// back in one guarded step; any other change while held is refused. A
// promote token set with the change that starts the rollout is only its
// baseline: it does not promote, and is not refused.
func TestAccHold_backOrRefused(t *testing.T) {
	t.Parallel()
	f := newRolloutFixture(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: f.e.Factories(),
		Steps: []resource.TestStep{
			f.start(),
			{Config: f.config(0, 100, holdSteps+"\n    promote = \"7\""), Check: checkEmulator(f.e, f.ref, f.step1)},
			{
				Config:      f.config(50, 50, holdSteps+"\n    promote = \"7\""),
				PlanOnly:    true,
				ExpectError: errRE(`Rollout Held(.|\n)*A rollout is held after step 1`),
			},
			{
				Config: f.config(100, 0, holdSteps+"\n    promote = \"7\""),
				ConfigStateChecks: []statecheck.StateCheck{
					lastIs("rollout_traffic_split.test", "status", knownvalue.StringExact("rolled_back")),
					lastIs("rollout_traffic_split.test", "gate", knownvalue.StringExact("aborted")),
				},
				Check: resource.ComposeTestCheckFunc(checkEmulator(f.e, f.ref, f.original), f.wrote(f.step1, f.original)),
			},
		},
	})
}

// A Lambda alias holds and is promoted the same way: held at 10 % of
// version 2 (the alias's routing in AWS), the plan is empty until promote, which
// goes on to version 2.
func TestAccHold_lambdaAlias(t *testing.T) {
	t.Parallel()
	e := acctest.NewEnv(t)
	fn := e.LambdaFunction("orders", 2)
	if _, err := e.Lambda().CreateAlias(context.Background(), &lambda.CreateAliasInput{FunctionName: aws.String(fn), Name: aws.String("live"), FunctionVersion: aws.String("1")}); err != nil {
		t.Fatal(err)
	}
	ro := func(promote string) string {
		return "rollout = {\n    " + holdSteps + promote + "\n  }"
	}
	const p1 = "\n    promote = \"p1\"" // the baseline: it promotes nothing
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: e.Factories(),
		Steps: []resource.TestStep{
			{Config: aliasConfig(e, fn, "live", "1", "")},
			{
				Config: aliasConfig(e, fn, "live", "2", ro(p1)),
				ConfigStateChecks: []statecheck.StateCheck{
					lastIs(aliasRes, "status", knownvalue.StringExact("held")),
					statecheck.ExpectKnownValue(aliasRes, tfjsonpath.New("current_version"), knownvalue.StringExact("2")),
				},
				Check: resource.ComposeTestCheckFunc(aliasServes(e, fn, "live", "1", map[string]float64{"2": 0.1}), aliasWrote(e, v1v2at10)),
			},
			{
				Config: aliasConfig(e, fn, "live", "2", ro(p1)),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectEmptyPlan(),
				}},
				Check: aliasWrote(e, v1v2at10),
			},
			{
				// removing rollout.promote is no new token: nothing is written
				Config:            aliasConfig(e, fn, "live", "2", ro("")),
				ConfigStateChecks: []statecheck.StateCheck{lastIs(aliasRes, "status", knownvalue.StringExact("held"))},
				Check:             resource.ComposeTestCheckFunc(aliasServes(e, fn, "live", "1", map[string]float64{"2": 0.1}), aliasWrote(e, v1v2at10)),
			},
			{
				Config:            aliasConfig(e, fn, "live", "2", ro("\n    promote = \"2\"")),
				ConfigStateChecks: []statecheck.StateCheck{lastIs(aliasRes, "status", knownvalue.StringExact("succeeded"))},
				Check:             resource.ComposeTestCheckFunc(aliasServes(e, fn, "live", "2", noRouting), aliasWrote(e, v1v2at10, v1v2at50, v2)),
			},
		},
	})
}

// A feature flag's ramp holds and is promoted the same way: held at 5 %
// of its way to 50 %, the rest of the flag cannot change meanwhile, and
// promote ramps on to 25 and 50 %.
func TestAccHold_featureFlag(t *testing.T) {
	t.Parallel()
	e := acctest.NewEnv(t)
	key := "hold-" + acctest.Name("f")
	name := "/rollout/flags/" + key
	ro := func(extra string) string {
		return "rollout = {\n    " + holdSteps + extra + "\n  }"
	}
	const p1 = "\n    promote = \"p1\"" // the baseline: it promotes nothing
	writes := func(want string) resource.TestCheckFunc {
		return func(*terraform.State) error {
			if got := fmt.Sprint(flagWrites(e, name)); got != want {
				return fmt.Errorf("the flag was written as %s, want %s", got, want)
			}
			return nil
		}
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: e.Factories(),
		Steps: []resource.TestStep{
			{Config: flagConfig(e, key, "rollout_percentage = 0\n  "+ro(""))},
			{
				Config:            flagConfig(e, key, "rollout_percentage = 50\n  "+ro(p1)),
				ConfigStateChecks: []statecheck.StateCheck{lastIs(flagRes, "status", knownvalue.StringExact("held"))},
				Check:             writes("[0 5]"),
			},
			{
				Config:      flagConfig(e, key, "rollout_percentage = 50\n  description = \"now\"\n  "+ro(p1)),
				PlanOnly:    true,
				ExpectError: errRE(`Flag Changed While Held(.|\n)*held after step 1`),
			},
			{
				// removing rollout.promote is no new token: nothing is written
				Config:            flagConfig(e, key, "rollout_percentage = 50\n  "+ro("")),
				ConfigStateChecks: []statecheck.StateCheck{lastIs(flagRes, "status", knownvalue.StringExact("held"))},
				Check:             writes("[0 5]"),
			},
			{
				Config:            flagConfig(e, key, "rollout_percentage = 50\n  "+ro("\n    promote = \"go\"")),
				ConfigStateChecks: []statecheck.StateCheck{lastIs(flagRes, "status", knownvalue.StringExact("succeeded"))},
				Check:             writes("[0 5 25 50]"),
			},
		},
	})
}

// A blue/green flip holds after its first step with 10 % on green and the
// test listener still on green; promote finishes the flip, its history
// entry saying it succeeded.
func TestAccHold_blueGreen(t *testing.T) {
	t.Parallel()
	f := newBGFixture(t)
	ro := func(promote string) string {
		return "rollout = {\n    " + holdSteps + promote + "\n  }"
	}
	register := func() {
		b, g := f.colors()
		f.e.RegisterTargets(b, 2)
		f.e.RegisterTargets(g, 2)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: f.e.Factories(),
		Steps: []resource.TestStep{
			{Config: f.config("blue", ro(""))},
			{
				PreConfig: register,
				Config:    f.config("green", ro("")),
				ConfigStateChecks: []statecheck.StateCheck{
					bgState("active", "green"),
					lastIs(bgRes, "status", knownvalue.StringExact("held")),
				},
				Check: f.serves(900, 100, "green"),
			},
			{
				Config: f.config("green", ro("\n    promote = \"ok\"")),
				ConfigStateChecks: []statecheck.StateCheck{
					bgState("active", "green"), bgState("previous_active", "blue"),
					lastIs(bgRes, "status", knownvalue.StringExact("succeeded")),
					statecheck.ExpectKnownValue(bgRes, tfjsonpath.New("history"), knownvalue.ListExact([]knownvalue.Check{
						knownvalue.ObjectPartial(map[string]knownvalue.Check{"from": knownvalue.StringExact("blue"), "to": knownvalue.StringExact("green"), "status": knownvalue.StringExact("succeeded")}),
					})),
				},
				Check: resource.ComposeTestCheckFunc(f.serves(0, 100, "blue"), f.wroteMain(func() []weights.Split {
					return []weights.Split{f.split(100, 0), f.split(900, 100), f.split(500, 500), f.split(0, 100)}
				})),
			},
		},
	})
}
