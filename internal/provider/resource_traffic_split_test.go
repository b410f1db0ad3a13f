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
				ImportStateVerifyIgnore: []string{"replaced_actions"},
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
