package provider_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/rolloutdev/terraform-provider-rollout/internal/acctest"
	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

const aliasRes = "rollout_lambda_alias.live"

func aliasConfig(e *acctest.Env, fn, alias, version, extra string) string {
	return e.ProviderConfig() + fmt.Sprintf(`
resource "rollout_lambda_alias" "live" {
  function_name = %q
  alias_name    = %q
  version       = %q
  %s
}
`, fn, alias, version, extra)
}

// aliasServes checks what the alias serves at the emulator.
func aliasServes(e *acctest.Env, fn, alias, version string, routing map[string]float64) resource.TestCheckFunc {
	return func(*terraform.State) error {
		out, err := e.Lambda().GetAlias(context.Background(), &lambda.GetAliasInput{FunctionName: aws.String(fn), Name: aws.String(alias)})
		if err != nil {
			return err
		}
		got := map[string]float64{}
		if out.RoutingConfig != nil {
			got = out.RoutingConfig.AdditionalVersionWeights
		}
		if aws.ToString(out.FunctionVersion) != version || fmt.Sprint(got) != fmt.Sprint(routing) {
			return fmt.Errorf("the emulator's alias %s:%s serves version %s with routing %v, want %s with %v", fn, alias, aws.ToString(out.FunctionVersion), got, version, routing)
		}
		return nil
	}
}

func aliasWrote(e *acctest.Env, want ...weights.Split) resource.TestCheckFunc {
	return func(*terraform.State) error {
		got := e.AliasWrites()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			return fmt.Errorf("the alias received %v, want %v", got, want)
		}
		return nil
	}
}

var (
	v1        = weights.Split{{ARN: "1", Weight: 1}}
	v2        = weights.Split{{ARN: "2", Weight: 1}}
	v1v2at10  = weights.Split{{ARN: "1", Weight: 900}, {ARN: "2", Weight: 100}}
	v1v2at50  = weights.Split{{ARN: "1", Weight: 500}, {ARN: "2", Weight: 500}}
	noRouting = map[string]float64{}
)

// The resource creates an alias that does not exist; import verify; a hand
// edit shows as drift and is undone; destroy with restore deletes the alias
// it created.
func TestAccLambdaAlias_createImportDrift(t *testing.T) {
	t.Parallel()
	e := acctest.NewEnv(t)
	fn := e.LambdaFunction("orders", 2)
	cfg := aliasConfig(e, fn, "live", "1", `description = "orders, live traffic"
  on_destroy  = "restore"`)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: e.Factories(),
		CheckDestroy: func(*terraform.State) error {
			if _, err := e.Lambda().GetAlias(context.Background(), &lambda.GetAliasInput{FunctionName: aws.String(fn), Name: aws.String("live")}); err == nil {
				return fmt.Errorf("the alias it created still exists after destroy with on_destroy = restore")
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(aliasRes, plancheck.ResourceActionCreate),
					plancheck.ExpectKnownValue(aliasRes, tfjsonpath.New("planned_steps"), knownvalue.ListSizeExact(0)),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(aliasRes, tfjsonpath.New("id"), knownvalue.StringExact(fn+":live")),
					statecheck.ExpectKnownValue(aliasRes, tfjsonpath.New("current_version"), knownvalue.StringExact("1")),
					statecheck.ExpectKnownValue(aliasRes, tfjsonpath.New("replaced_alias"), knownvalue.StringExact(`{"created":true}`)),
				},
				Check: aliasServes(e, fn, "live", "1", noRouting),
			},
			{ResourceName: aliasRes, ImportState: true, ImportStateVerify: true, ImportStateId: fn + ":live",
				ImportStateVerifyIgnore: []string{"replaced_alias", "on_destroy", "planned_steps", "last_rollout", "timeouts", "owner_tag"}},
			{
				// A hand edit sends 30 % to version 2: the plan shows it, and
				// apply puts the alias back on version 1 alone.
				PreConfig: func() {
					_, err := e.Lambda().UpdateAlias(context.Background(), &lambda.UpdateAliasInput{FunctionName: aws.String(fn), Name: aws.String("live"),
						RoutingConfig: &lambdatypes.AliasRoutingConfiguration{AdditionalVersionWeights: map[string]float64{"2": 0.3}}})
					if err != nil {
						t.Fatal(err)
					}
				},
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(aliasRes, plancheck.ResourceActionUpdate),
				}},
				Check: aliasServes(e, fn, "live", "1", noRouting),
			},
		},
	})
}

// Taking over an existing alias: a canary from version 1 to 2, every
// routing written in order, planned in planned_steps first.
func TestAccLambdaAlias_canary(t *testing.T) {
	t.Parallel()
	e := acctest.NewEnv(t)
	fn := e.LambdaFunction("orders", 2)
	if _, err := e.Lambda().CreateAlias(context.Background(), &lambda.CreateAliasInput{FunctionName: aws.String(fn), Name: aws.String("live"), FunctionVersion: aws.String("1")}); err != nil {
		t.Fatal(err)
	}
	canary := `rollout = {
    strategy      = "canary"
    steps         = [{ percent = 10, pause = "5m" }, { percent = 50, pause = "10m" }, { percent = 100 }]
    poll_interval = "1m"
  }`
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: e.Factories(),
		// on_destroy = "keep" (the default): the alias still serves version 2.
		CheckDestroy: aliasServes(e, fn, "live", "2", noRouting),
		Steps: []resource.TestStep{
			{Config: aliasConfig(e, fn, "live", "1", ""), Check: resource.ComposeTestCheckFunc(aliasServes(e, fn, "live", "1", noRouting), aliasWrote(e))},
			{
				Config: aliasConfig(e, fn, "live", "2", canary),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectKnownValue(aliasRes, tfjsonpath.New("planned_steps").AtSliceIndex(0).AtMapKey("versions"), knownvalue.MapExact(map[string]knownvalue.Check{
						"1": knownvalue.Float64Exact(90), "2": knownvalue.Float64Exact(10)})),
					plancheck.ExpectKnownValue(aliasRes, tfjsonpath.New("planned_steps"), knownvalue.ListSizeExact(3)),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(aliasRes, tfjsonpath.New("last_rollout").AtMapKey("status"), knownvalue.StringExact("succeeded")),
					statecheck.ExpectKnownValue(aliasRes, tfjsonpath.New("current_version"), knownvalue.StringExact("2")),
				},
				Check: resource.ComposeTestCheckFunc(aliasServes(e, fn, "live", "2", noRouting), aliasWrote(e, v1v2at10, v1v2at50, v2)),
			},
		},
	})
}

// An alarm in the second pause rolls the alias back to version 1 with no
// additional weight; a failing after_pause hook does too.
func TestAccLambdaAlias_rollsBack(t *testing.T) {
	acctest.OneEngine(t)
	t.Parallel()
	for _, gate := range []string{"alarm", "hook"} {
		t.Run(gate, func(t *testing.T) {
			t.Parallel()
			e := acctest.NewEnv(t)
			fn := e.LambdaFunction("orders", 2)
			var gates, wantGate string
			switch gate {
			case "alarm":
				alarm := e.Alarm("orders-errors")
				var once sync.Once
				e.Clock.OnSleep(func(context.Context, time.Duration, time.Time) {
					if len(e.AliasWrites()) == 2 { // step 2: its pause
						once.Do(func() { e.SetAlarmState(alarm, cwtypes.StateValueAlarm) })
					}
				})
				gates, wantGate = fmt.Sprintf("alarms = [%q]", alarm), "alarms"
			case "hook":
				hook := e.HookFunction("smoke", func(p map[string]any) (string, string) {
					if p["phase"] == "after_pause" && p["step"] == float64(2) {
						return acctest.Answer("Failed", "checkout returned 500"), ""
					}
					return acctest.Answer("Succeeded", ""), ""
				})
				gates, wantGate = fmt.Sprintf("hooks = { after_pause = %q }", hook.ARN), "hooks"
			}
			ro := fmt.Sprintf(`rollout = {
    strategy      = "canary"
    steps         = [{ percent = 10, pause = "5m" }, { percent = 50, pause = "10m" }, { percent = 100 }]
    poll_interval = "1m"
    gates         = { %s }
  }`, gates)
			cfg := aliasConfig(e, fn, "live", "2", ro)
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: e.Factories(),
				Steps: []resource.TestStep{
					{Config: aliasConfig(e, fn, "live", "1", "")},
					{Config: cfg, ExpectError: errRE(`Rollout Rolled Back(.|\n)*Step 2 of 3 failed the ` + wantGate + ` gate(.|\n)*The alias was rolled back \(immediate\)`)},
					{Config: cfg, PlanOnly: true, ExpectNonEmptyPlan: true},
					{
						// The state says version 1: a configuration at 1 plans nothing.
						Config: aliasConfig(e, fn, "live", "1", ro),
						ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
							plancheck.ExpectResourceAction(aliasRes, plancheck.ResourceActionNoop),
						}},
						ConfigStateChecks: []statecheck.StateCheck{
							statecheck.ExpectKnownValue(aliasRes, tfjsonpath.New("last_rollout").AtMapKey("status"), knownvalue.StringExact("rolled_back")),
							statecheck.ExpectKnownValue(aliasRes, tfjsonpath.New("last_rollout").AtMapKey("gate"), knownvalue.StringExact(wantGate)),
						},
						Check: resource.ComposeTestCheckFunc(aliasServes(e, fn, "live", "1", noRouting), aliasWrote(e, v1v2at10, v1v2at50, v1)),
					},
				},
			})
		})
	}
}
