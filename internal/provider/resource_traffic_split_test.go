package provider_test

import (
	"fmt"
	"regexp"
	"testing"

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

func splitConfig(e *acctest.Env, owner, arn string, tgs []string, ws []int, extra string) string {
	list := ""
	for i, tg := range tgs {
		list += fmt.Sprintf("    { arn = %q, weight = %d },\n", tg, ws[i])
	}
	return e.ProviderConfig() + fmt.Sprintf(`
resource "rollout_traffic_split" "test" {
  %s = %q
  target_groups = [
%s  ]
%s
}
`, owner, arn, list, extra)
}

// checkEmulator asserts what the emulator holds, not what the state says.
func checkEmulator(e *acctest.Env, ref awsclient.Ref, want weights.Split) resource.TestCheckFunc {
	return func(*terraform.State) error {
		got, _ := e.Forward(ref)
		if !got.Split.Equal(want) {
			return fmt.Errorf("the emulator's %s forwards %v, want %v", ref.ID(), got.Split, want)
		}
		return nil
	}
}

func TestAccTrafficSplit_lifecycle(t *testing.T) {
	t.Parallel()
	e := acctest.NewEnv(t)
	f := e.NewFixture(3)
	ref := awsclient.Ref{ListenerARN: f.Listener}
	blue, green := f.TGs[0], f.TGs[1]

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: e.Factories(),
		Steps: []resource.TestStep{
			{
				Config: splitConfig(e, "listener_arn", f.Listener, []string{blue, green}, []int{90, 10}, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("rollout_traffic_split.test", plancheck.ResourceActionCreate),
					plancheck.ExpectKnownValue("rollout_traffic_split.test", tfjsonpath.New("percentages").AtMapKey(green), knownvalue.Float64Exact(10)),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("rollout_traffic_split.test", tfjsonpath.New("id"), knownvalue.StringExact(f.Listener)),
					statecheck.ExpectKnownValue("rollout_traffic_split.test", tfjsonpath.New("on_destroy"), knownvalue.StringExact("keep")),
					statecheck.ExpectKnownValue("rollout_traffic_split.test", tfjsonpath.New("percentages"), knownvalue.MapExact(map[string]knownvalue.Check{
						blue: knownvalue.Float64Exact(90), green: knownvalue.Float64Exact(10),
					})),
					statecheck.ExpectKnownValue("rollout_traffic_split.test", tfjsonpath.New("replaced_actions"), knownvalue.StringRegexp(regexp.MustCompile(regexp.QuoteMeta(blue)))),
				},
				Check: checkEmulator(e, ref, weights.Split{{ARN: blue, Weight: 90}, {ARN: green, Weight: 10}}),
			},
			{
				Config: splitConfig(e, "listener_arn", f.Listener, []string{blue, green, f.TGs[2]}, []int{50, 25, 25}, `stickiness = { enabled = true, duration_seconds = 300 }`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("rollout_traffic_split.test", plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("rollout_traffic_split.test", tfjsonpath.New("stickiness").AtMapKey("duration_seconds"), knownvalue.Int64Exact(300)),
				},
				Check: resource.ComposeTestCheckFunc(
					checkEmulator(e, ref, weights.Split{{ARN: blue, Weight: 50}, {ARN: green, Weight: 25}, {ARN: f.TGs[2], Weight: 25}}),
					func(*terraform.State) error {
						got, _ := e.Forward(ref)
						if !got.Stickiness.Enabled || got.Stickiness.DurationSeconds != 300 {
							return fmt.Errorf("the emulator's stickiness is %+v, want enabled for 300 s", got.Stickiness)
						}
						return nil
					},
				),
			},
			{
				ResourceName:            "rollout_traffic_split.test",
				ImportState:             true,
				ImportStateId:           f.Listener,
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"replaced_actions", "planned_steps", "last_rollout", "owner_tag"},
			},
			{
				Config: splitConfig(e, "listener_arn", f.Listener, []string{blue, green}, []int{0, 100}, ""),
				Check:  checkEmulator(e, ref, weights.Split{{ARN: blue, Weight: 0}, {ARN: green, Weight: 100}}),
			},
		},
	})
	// on_destroy defaults to keep: destroy left the last weights in place.
	got, _ := e.Forward(ref)
	if !got.Split.Equal(weights.Split{{ARN: blue, Weight: 0}, {ARN: green, Weight: 100}}) {
		t.Fatalf("after destroy with on_destroy = keep the listener forwards %v", got.Split)
	}
}

func TestAccTrafficSplit_driftDetectedAndUndone(t *testing.T) {
	t.Parallel()
	e := acctest.NewEnv(t)
	f := e.NewFixture(2)
	ref := awsclient.Ref{ListenerARN: f.Listener}
	want := weights.Split{{ARN: f.TGs[0], Weight: 90}, {ARN: f.TGs[1], Weight: 10}}
	cfg := splitConfig(e, "listener_arn", f.Listener, f.TGs, []int{90, 10}, "")

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: e.Factories(),
		Steps: []resource.TestStep{
			{Config: cfg, Check: checkEmulator(e, ref, want)},
			{
				// Someone moves traffic in the console; the next plan shows it.
				PreConfig: func() {
					e.SetWeights(ref, weights.Split{{ARN: f.TGs[1], Weight: 70}, {ARN: f.TGs[0], Weight: 30}})
				},
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("rollout_traffic_split.test", plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue("rollout_traffic_split.test", tfjsonpath.New("percentages").AtMapKey(f.TGs[0]), knownvalue.Float64Exact(90)),
				}},
				Check: checkEmulator(e, ref, want),
			},
			{
				// Order is the user's, whatever AWS returns: no spurious diff.
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectEmptyPlan(),
				}},
			},
		},
	})
}

func TestAccTrafficSplit_restoreOnDestroy(t *testing.T) {
	acctest.OneEngine(t)
	t.Parallel()
	e := acctest.NewEnv(t)
	f := e.NewFixture(2)
	ref := awsclient.Ref{ListenerARN: f.Listener}

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: e.Factories(),
		CheckDestroy: func(*terraform.State) error {
			// The listener forwarded to the first target group alone before.
			got, acts := e.Forward(ref)
			if len(got.Split) != 1 || got.Split[0].ARN != f.TGs[0] {
				return fmt.Errorf("after destroy with on_destroy = restore the listener forwards %v (%d actions), want %s alone", got.Split, len(acts), f.TGs[0])
			}
			return nil
		},
		Steps: []resource.TestStep{{
			Config: splitConfig(e, "listener_arn", f.Listener, f.TGs, []int{50, 50}, `on_destroy = "restore"`),
			Check:  checkEmulator(e, ref, weights.Split{{ARN: f.TGs[0], Weight: 50}, {ARN: f.TGs[1], Weight: 50}}),
		}},
	})
}

func TestAccTrafficSplit_listenerDeletedOutside(t *testing.T) {
	t.Parallel()
	e := acctest.NewEnv(t)
	f := e.NewFixture(2)
	cfg := splitConfig(e, "listener_arn", f.Listener, f.TGs, []int{80, 20}, "")

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: e.Factories(),
		Steps: []resource.TestStep{
			{Config: cfg},
			{
				// Read drops the resource from state: the plan is a create, not
				// an update, and the create names the missing listener.
				PreConfig: func() { e.DeleteListener(f.Listener) },
				Config:    cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("rollout_traffic_split.test", plancheck.ResourceActionCreate),
				}},
				ExpectError: regexp.MustCompile(`Listener Not Found`),
			},
		},
	})
}

func TestAccTrafficSplit_rule(t *testing.T) {
	t.Parallel()
	e := acctest.NewEnv(t)
	f := e.NewFixture(3)
	rule := e.Rule(f.Listener, f.TGs[0], 10)
	ref := awsclient.Ref{RuleARN: rule}

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: e.Factories(),
		Steps: []resource.TestStep{
			{
				Config: splitConfig(e, "rule_arn", rule, []string{f.TGs[1], f.TGs[2]}, []int{1, 3}, ""),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("rollout_traffic_split.test", tfjsonpath.New("percentages").AtMapKey(f.TGs[2]), knownvalue.Float64Exact(75)),
				},
				Check: resource.ComposeTestCheckFunc(
					checkEmulator(e, ref, weights.Split{{ARN: f.TGs[1], Weight: 1}, {ARN: f.TGs[2], Weight: 3}}),
					// The listener's default action is not touched.
					checkEmulator(e, awsclient.Ref{ListenerARN: f.Listener}, weights.Split{{ARN: f.TGs[0], Weight: 1}}),
				),
			},
			{
				ResourceName:            "rollout_traffic_split.test",
				ImportState:             true,
				ImportStateId:           rule,
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"replaced_actions", "planned_steps", "last_rollout", "owner_tag"},
			},
		},
	})
}

// An import block adopts a listener that already splits traffic, with no
// change to its weights.
func TestAccTrafficSplit_importBlock(t *testing.T) {
	t.Parallel()
	e := acctest.NewEnv(t)
	f := e.NewFixture(2)
	ref := awsclient.Ref{ListenerARN: f.Listener}
	e.SetWeights(ref, weights.Split{{ARN: f.TGs[0], Weight: 60}, {ARN: f.TGs[1], Weight: 40}})

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: e.Factories(),
		Steps: []resource.TestStep{{
			Config: fmt.Sprintf(`
import {
  to = rollout_traffic_split.test
  id = %q
}
`, f.Listener) + splitConfig(e, "listener_arn", f.Listener, f.TGs, []int{60, 40}, ""),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction("rollout_traffic_split.test", plancheck.ResourceActionNoop),
			}},
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("rollout_traffic_split.test", tfjsonpath.New("replaced_actions"), knownvalue.Null()),
			},
			Check: checkEmulator(e, ref, weights.Split{{ARN: f.TGs[0], Weight: 60}, {ARN: f.TGs[1], Weight: 40}}),
		}},
	})
}

func TestAccTrafficSplit_assumeRole(t *testing.T) {
	acctest.OneEngine(t)
	t.Parallel()
	e := acctest.NewEnv(t)
	f := e.NewFixture(2)
	cfg := fmt.Sprintf(`
provider "rollout" {
  region    = %q
  endpoints = { elbv2 = %q, sts = %q }
  assume_role = {
    role_arn     = "arn:aws:iam::000000000000:role/deploy"
    session_name = "rollout-test"
    duration     = "30m"
  }
}
resource "rollout_traffic_split" "test" {
  listener_arn  = %q
  target_groups = [{ arn = %q, weight = 1 }, { arn = %q, weight = 1 }]
}
`, acctest.Region, e.Emu.URL, e.Emu.URL, f.Listener, f.TGs[0], f.TGs[1])

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: e.Factories(),
		Steps: []resource.TestStep{{
			Config: cfg,
			Check: func(*terraform.State) error {
				if n := e.Emu.Count("sts:AssumeRole"); n == 0 {
					return fmt.Errorf("the provider never called sts:AssumeRole; the emulator saw %v", e.Emu.Actions())
				}
				return nil
			},
		}},
	})
}

func TestAccListenerWeightsDataSource(t *testing.T) {
	acctest.OneEngine(t)
	t.Parallel()
	e := acctest.NewEnv(t)
	f := e.NewFixture(2)
	e.SetWeights(awsclient.Ref{ListenerARN: f.Listener}, weights.Split{{ARN: f.TGs[0], Weight: 3}, {ARN: f.TGs[1], Weight: 1}})

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: e.Factories(),
		Steps: []resource.TestStep{{
			Config: e.ProviderConfig() + fmt.Sprintf(`
data "rollout_listener_weights" "live" {
  listener_arn = %q
}`, f.Listener),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("data.rollout_listener_weights.live", tfjsonpath.New("action_type"), knownvalue.StringExact("forward")),
				statecheck.ExpectKnownValue("data.rollout_listener_weights.live", tfjsonpath.New("target_groups"), knownvalue.ListExact([]knownvalue.Check{
					knownvalue.ObjectExact(map[string]knownvalue.Check{"arn": knownvalue.StringExact(f.TGs[0]), "weight": knownvalue.Int64Exact(3)}),
					knownvalue.ObjectExact(map[string]knownvalue.Check{"arn": knownvalue.StringExact(f.TGs[1]), "weight": knownvalue.Int64Exact(1)}),
				})),
				statecheck.ExpectKnownValue("data.rollout_listener_weights.live", tfjsonpath.New("percentages").AtMapKey(f.TGs[0]), knownvalue.Float64Exact(75)),
				statecheck.ExpectKnownValue("data.rollout_listener_weights.live", tfjsonpath.New("stickiness"), knownvalue.Null()),
			},
		}},
	})
}
