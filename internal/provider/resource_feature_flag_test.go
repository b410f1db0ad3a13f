package provider_test

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/open-feature/go-sdk/openfeature"

	"github.com/rolloutdev/terraform-provider-rollout/flag"
	rolloutof "github.com/rolloutdev/terraform-provider-rollout/flag/openfeature"
	"github.com/rolloutdev/terraform-provider-rollout/internal/acctest"
)

const flagRes = "rollout_feature_flag.checkout"

func flagConfig(e *acctest.Env, key, body string) string {
	return e.ProviderConfig() + fmt.Sprintf(`
resource "rollout_feature_flag" "checkout" {
  key = %q
  %s
}
`, key, body)
}

// flagAt checks the document at the emulator, evaluated with the public
// evaluator.
func flagAt(e *acctest.Env, name string, check func(*flag.Flag) error) resource.TestCheckFunc {
	return func(*terraform.State) error {
		doc, ok := e.Parameter(name)
		if !ok {
			return fmt.Errorf("no parameter %s at the emulator", name)
		}
		f, err := flag.Parse([]byte(doc))
		if err != nil {
			return err
		}
		return check(f)
	}
}

// Create, update, import verify, drift from a hand edit, destroy.
func TestAccFeatureFlag_lifecycle(t *testing.T) {
	t.Parallel()
	e := acctest.NewEnv(t)
	key := "checkout-" + acctest.Name("v")
	name := "/rollout/flags/" + key
	v1 := `rollout_percentage = 10
  environments = ["prod"]
  owner = "payments"
  targeting = {
    included_users = ["qa-1"]
    segment_rules = [{ attribute = "plan", operator = "in", value = "pro,enterprise" }]
  }`
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: e.Factories(),
		CheckDestroy: func(*terraform.State) error {
			if _, ok := e.Parameter(name); ok {
				return fmt.Errorf("the parameter %s still exists after destroy", name)
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				Config: flagConfig(e, key, v1),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectKnownValue(flagRes, tfjsonpath.New("document"), knownvalue.StringRegexp(regexp.MustCompile(`"rollout_percentage":10`))),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(flagRes, tfjsonpath.New("parameter_name"), knownvalue.StringExact(name)),
				},
				Check: flagAt(e, name, func(f *flag.Flag) error {
					if f.RolloutPercentage != 10 || f.Owner != "payments" || len(f.Targeting.SegmentRules) != 1 || f.Targeting.IncludedUsers[0] != "qa-1" {
						return fmt.Errorf("document %+v", f)
					}
					if !flag.Evaluate(f, flag.Context{UserID: "qa-1", Environment: "prod"}, nil).On {
						return fmt.Errorf("an included user is off")
					}
					return nil
				}),
			},
			{
				// An app evaluates the flag the resource wrote, through the
				// OpenFeature SDK, against the emulator.
				Config: flagConfig(e, key, v1),
				Check: func(*terraform.State) error {
					domain := "acc-" + key
					if err := openfeature.SetNamedProviderAndWait(domain, rolloutof.New(e.SSM(), rolloutof.WithEnvironment("prod"))); err != nil {
						return err
					}
					c := openfeature.NewClient(domain)
					ctx := context.Background()
					qa, err := c.BooleanValueDetails(ctx, key, false, openfeature.NewEvaluationContext("qa-1", nil))
					if err != nil || !qa.Value || qa.Reason != openfeature.TargetingMatchReason {
						return fmt.Errorf("qa-1: %+v %v", qa, err)
					}
					pro, _ := c.BooleanValueDetails(ctx, key, false, openfeature.NewEvaluationContext("someone", map[string]any{"plan": "enterprise"}))
					free, _ := c.BooleanValueDetails(ctx, key, false, openfeature.NewEvaluationContext("someone", map[string]any{"plan": "free"}))
					if !pro.Value || free.Value || free.FlagMetadata["rollout_reason"] != "SEGMENT_MISS" {
						return fmt.Errorf("segments: enterprise %+v, free %+v", pro, free)
					}
					return nil
				},
			},
			{ResourceName: flagRes, ImportState: true, ImportStateVerify: true, ImportStateId: key, ImportStateVerifyIgnore: []string{"owner_tag"}},
			{
				Config: flagConfig(e, key, `rollout_percentage = 50
  kill_switch = true`),
				Check: flagAt(e, name, func(f *flag.Flag) error {
					if f.RolloutPercentage != 50 || !f.KillSwitch || f.Owner != "" || len(f.Environments) != 0 {
						return fmt.Errorf("document after update %+v", f)
					}
					return nil
				}),
			},
			{
				// Someone turns the kill switch off by hand: the plan shows it.
				PreConfig: func() {
					doc, _ := e.Parameter(name)
					var m map[string]any
					_ = json.Unmarshal([]byte(doc), &m)
					m["kill_switch"] = false
					b, _ := json.Marshal(m)
					e.PutParameter(name, string(b))
				},
				Config: flagConfig(e, key, `rollout_percentage = 50
  kill_switch = true`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(flagRes, plancheck.ResourceActionUpdate),
				}},
				Check: flagAt(e, name, func(f *flag.Flag) error {
					if !f.KillSwitch {
						return fmt.Errorf("the hand edit was not undone")
					}
					return nil
				}),
			},
		},
	})
}

// A flag that exists is not taken over; dependencies must exist and never
// form a cycle; the data source reads a flag for other stacks.
func TestAccFeatureFlag_existsDependenciesDataSource(t *testing.T) {
	acctest.OneEngine(t)
	t.Parallel()
	e := acctest.NewEnv(t)
	base := acctest.Name("f")
	a, b := "a"+base, "b"+base
	e.PutParameter("/rollout/flags/taken"+base, `{"schema_version":1,"key":"taken`+base+`","enabled":true,"rollout_percentage":5}`)
	two := func(aDeps, bDeps string) string {
		return e.ProviderConfig() + fmt.Sprintf(`
resource "rollout_feature_flag" "a" {
  key          = %q
  dependencies = %s
}
resource "rollout_feature_flag" "b" {
  key          = %q
  dependencies = %s
}
`, a, aDeps, b, bDeps)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: e.Factories(),
		Steps: []resource.TestStep{
			{Config: flagConfig(e, "taken"+base, ""), ExpectError: regexp.MustCompile(`Flag Already Exists(.|\n)*Nothing was changed`)},
			{Config: flagConfig(e, a, `dependencies = ["missing-flag"]`), ExpectError: regexp.MustCompile(`Unknown Flag Dependency(.|\n)*"missing-flag"`)},
			{
				// b depends on a, ordered by the reference.
				Config: e.ProviderConfig() + fmt.Sprintf(`
resource "rollout_feature_flag" "a" {
  key = %q
}
resource "rollout_feature_flag" "b" {
  key          = %q
  dependencies = [rollout_feature_flag.a.key]
}
data "rollout_feature_flag" "b" {
  key        = rollout_feature_flag.b.key
  depends_on = [rollout_feature_flag.b]
}
`, a, b),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.rollout_feature_flag.b", tfjsonpath.New("dependencies"), knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact(a)})),
					statecheck.ExpectKnownValue("data.rollout_feature_flag.b", tfjsonpath.New("enabled"), knownvalue.Bool(true)),
				},
			},
			{
				// a now depends on b: a → b → a.
				Config:      two(fmt.Sprintf("[%q]", b), fmt.Sprintf("[%q]", a)),
				ExpectError: regexp.MustCompile(`Flag Dependency Cycle(.|\n)*` + a + ` → ` + b + ` → ` + a),
			},
		},
	})
	if doc, _ := e.Parameter("/rollout/flags/taken" + base); doc != `{"schema_version":1,"key":"taken`+base+`","enabled":true,"rollout_percentage":5}` {
		t.Fatalf("the existing flag was changed: %s", doc)
	}
}

// The feature_flag rollback: a canary whose alarm fires in the second pause
// switches its flag off (written and read back) and leaves the traffic at
// step 2; last_rollout says which flag; the flag resource's next plan shows
// the kill switch.
func TestAccFeatureFlag_rollbackSwitchesFlagsOff(t *testing.T) {
	acctest.OneEngine(t)
	t.Parallel()
	f := newRolloutFixture(t)
	alarm := f.e.Alarm("api-5xx")
	var once sync.Once
	f.e.Clock.OnSleep(func(context.Context, time.Duration, time.Time) {
		if len(f.splits()) == 3 {
			once.Do(func() { f.e.SetAlarmState(alarm, cwtypes.StateValueAlarm) })
		}
	})
	key := "new-checkout-" + acctest.Name("f")
	flagRes := fmt.Sprintf(`
resource "rollout_feature_flag" "new_checkout" {
  key                = %q
  rollout_percentage = 100
}
`, key)
	ro := canarySteps + fmt.Sprintf(`
    rollback = "feature_flag"
    flags    = [rollout_feature_flag.new_checkout.key]
    gates    = { alarms = [%q] }`, alarm)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: f.e.Factories(),
		Steps: []resource.TestStep{
			{Config: f.config(100, 0, "") + flagRes},
			{Config: f.config(0, 100, ro) + flagRes, ExpectError: errRE(`Rollout Rolled Back(.|\n)*The flags ` + key + ` were switched off \(feature_flag: kill switch on`)},
			{
				// The flag's next plan shows its kill switch (on at AWS, off in
				// the configuration); the split plans nothing.
				PreConfig: func() {
					if doc, _ := f.e.Parameter("/rollout/flags/" + key); !regexp.MustCompile(`"kill_switch":true`).MatchString(doc) {
						t.Errorf("the flag's kill switch is off at the emulator: %s", doc)
					}
				},
				Config: f.config(500, 500, ro) + flagRes, PlanOnly: true, ExpectNonEmptyPlan: true,
			},
			{
				// The next apply does not switch the flag back on silently.
				Config:      f.config(500, 500, ro) + flagRes,
				ExpectError: errRE(`Flag Switched Off By A Rollback(.|\n)*rolled back by the rollout of listener(.|\n)*Nothing was written`),
			},
			{
				// Accepting the rollback: the configuration says so too. The
				// kill switch is the configuration's now, so its reason goes
				// (it is written without it).
				Config: f.config(500, 500, ro) + strings.Replace(flagRes, "rollout_percentage = 100", "rollout_percentage = 100\n  kill_switch = true", 1),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("rollout_traffic_split.test", plancheck.ResourceActionNoop),
					plancheck.ExpectResourceAction("rollout_feature_flag.new_checkout", plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("rollout_traffic_split.test", tfjsonpath.New("last_rollout").AtMapKey("rollback"), knownvalue.StringExact("feature_flag")),
					statecheck.ExpectKnownValue("rollout_traffic_split.test", tfjsonpath.New("last_rollout").AtMapKey("reason"), knownvalue.StringRegexp(regexp.MustCompile("switched off "+key))),
					statecheck.ExpectKnownValue("rollout_feature_flag.new_checkout", tfjsonpath.New("kill_switch_reason"), knownvalue.StringExact("")),
				},
				Check: resource.ComposeTestCheckFunc(checkEmulator(f.e, f.ref, f.step2), f.wrote(f.step1, f.step2), func(*terraform.State) error {
					if doc, _ := f.e.Parameter("/rollout/flags/" + key); !strings.Contains(doc, `"kill_switch":true`) || strings.Contains(doc, "kill_switch_reason") {
						return fmt.Errorf("the accepted flag at the emulator: %s, want the kill switch on and no reason", doc)
					}
					return nil
				}),
			},
			{
				// Accepted, it can be switched back on by the configuration.
				Config: f.config(500, 500, ro) + flagRes,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("rollout_feature_flag.new_checkout", tfjsonpath.New("kill_switch"), knownvalue.Bool(false)),
				},
			},
		},
	})
}

// flagWrites lists the rollout_percentage and kill_switch of every document
// written to name at the emulator, in order.
func flagWrites(e *acctest.Env, name string) []string {
	var out []string
	for _, r := range e.Emu.Requests("ssm:PutParameter") {
		if r["Name"] != name {
			continue
		}
		var f flag.Flag
		_ = json.Unmarshal([]byte(r["Value"].(string)), &f)
		w := fmt.Sprint(f.RolloutPercentage)
		if f.KillSwitch {
			w += "+kill"
		}
		out = append(out, w)
	}
	return out
}

// A flag's ramp runs as steps observed at the emulator; an alarm during a
// pause turns the kill switch on (rollback = "kill_switch") and the state
// says so.
func TestAccFeatureFlag_ramp(t *testing.T) {
	acctest.OneEngine(t)
	t.Parallel()
	for _, failing := range []bool{false, true} {
		t.Run(fmt.Sprintf("alarm=%v", failing), func(t *testing.T) {
			t.Parallel()
			e := acctest.NewEnv(t)
			alarm := e.Alarm("checkout-errors")
			key := "ramp-" + acctest.Name("f")
			name := "/rollout/flags/" + key
			if failing {
				var once sync.Once
				e.Clock.OnSleep(func(context.Context, time.Duration, time.Time) {
					if len(flagWrites(e, name)) == 3 { // created, 5, 25: the second pause
						once.Do(func() { e.SetAlarmState(alarm, cwtypes.StateValueAlarm) })
					}
				})
			}
			ro := fmt.Sprintf(`rollout = {
    steps         = [{ percent = 10, pause = "5m" }, { percent = 50, pause = "5m" }, { percent = 100 }]
    strategy      = "canary"
    poll_interval = "1m"
    rollback      = "kill_switch"
    gates         = { alarms = [%q] }
  }`, alarm)
			step2 := resource.TestStep{
				Config: flagConfig(e, key, "rollout_percentage = 50\n  "+ro),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectKnownValue(flagRes, tfjsonpath.New("planned_steps"), knownvalue.ListExact([]knownvalue.Check{
						knownvalue.ObjectPartial(map[string]knownvalue.Check{"percentage": knownvalue.Int64Exact(5), "pause": knownvalue.StringExact("5m0s")}),
						knownvalue.ObjectPartial(map[string]knownvalue.Check{"percentage": knownvalue.Int64Exact(25)}),
						knownvalue.ObjectPartial(map[string]knownvalue.Check{"percentage": knownvalue.Int64Exact(50)}),
					})),
				}},
				Check: func(*terraform.State) error {
					// Nothing else of the flag changes: no write before the ramp.
					if got := fmt.Sprint(flagWrites(e, name)); got != "[0 5 25 50]" {
						return fmt.Errorf("the flag was written as %s, want [0 5 25 50]", got)
					}
					return nil
				},
			}
			steps := []resource.TestStep{{Config: flagConfig(e, key, "rollout_percentage = 0\n  "+ro)}}
			if failing {
				step2.Check = nil
				step2.ExpectError = errRE(`Rollout Rolled Back(.|\n)*Step 2 of 3 failed the alarms gate(.|\n)*The flags ` + key + ` were switched off \(kill_switch`)
				steps = append(steps, step2, resource.TestStep{
					// The state says it: at 25 %, kill switch on. Accepting it
					// writes it once more, without the rollback's reason.
					Config: flagConfig(e, key, "rollout_percentage = 25\n  kill_switch = true\n  "+ro),
					ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(flagRes, plancheck.ResourceActionUpdate),
						plancheck.ExpectKnownValue(flagRes, tfjsonpath.New("kill_switch_reason"), knownvalue.StringExact("")),
					}},
					ConfigStateChecks: []statecheck.StateCheck{
						statecheck.ExpectKnownValue(flagRes, tfjsonpath.New("last_rollout").AtMapKey("rollback"), knownvalue.StringExact("kill_switch")),
					},
					Check: func(*terraform.State) error {
						if got := fmt.Sprint(flagWrites(e, name)); got != "[0 5 25 25+kill 25+kill]" {
							return fmt.Errorf("the flag was written as %s, want [0 5 25 25+kill 25+kill]", got)
						}
						return nil
					},
				})
			} else {
				steps = append(steps, step2)
			}
			resource.Test(t, resource.TestCase{ProtoV6ProviderFactories: e.Factories(), Steps: steps})
		})
	}
}

// Read before write for flags: a saved plan applied after the flag was
// changed (here its kill switch turned on, as a traffic rollback does) is
// refused with nothing written, and the change stays.
func TestAccFeatureFlag_staleSavedPlan(t *testing.T) {
	t.Parallel()
	e := acctest.NewEnv(t)
	key := "stale-" + acctest.Name("f")
	name := "/rollout/flags/" + key
	switchedOff := ""
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: e.Factories(),
		Steps: []resource.TestStep{
			{Config: flagConfig(e, key, "rollout_percentage = 10")},
			{
				Config: flagConfig(e, key, "rollout_percentage = 20"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					act(func() {
						doc, _ := e.Parameter(name)
						switchedOff = strings.Replace(doc, `"kill_switch":false`, `"kill_switch":true`, 1)
						e.PutParameter(name, switchedOff)
					}),
				}},
				ExpectError: errRE(`Flag Changed Since Plan(.|\n)*Nothing was written`),
			},
			{
				PreConfig: func() {
					if doc, _ := e.Parameter(name); doc != switchedOff {
						t.Errorf("the flag holds %s after the refused apply, want %s", doc, switchedOff)
					}
				},
				Config: flagConfig(e, key, "rollout_percentage = 20"), PlanOnly: true, ExpectNonEmptyPlan: true,
			},
		},
	})
}

// A change of tier alone is written (PutParameter carries the tier), not
// only recorded in the state.
func TestAccFeatureFlag_tierChangeWritten(t *testing.T) {
	t.Parallel()
	e := acctest.NewEnv(t)
	key := "tier-" + acctest.Name("f")
	name := "/rollout/flags/" + key
	tiers := func() []string {
		var out []string
		for _, r := range e.Emu.Requests("ssm:PutParameter") {
			if r["Name"] == name {
				out = append(out, fmt.Sprint(r["Tier"]))
			}
		}
		return out
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: e.Factories(),
		Steps: []resource.TestStep{
			{Config: flagConfig(e, key, `rollout_percentage = 10`)},
			{
				Config: flagConfig(e, key, "rollout_percentage = 10\n  tier = \"Advanced\""),
				Check: func(*terraform.State) error {
					if got := fmt.Sprint(tiers()); got != "[Standard Advanced]" {
						return fmt.Errorf("the flag was written with tiers %s, want [Standard Advanced]", got)
					}
					if got := fmt.Sprint(flagWrites(e, name)); got != "[10 10]" {
						return fmt.Errorf("the flag was written as %s, want [10 10]", got)
					}
					return nil
				},
			},
		},
	})
}
