package provider_test

import (
	"os"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

// The Terragrunt example's module (examples/terragrunt/modules/canary) runs
// on both engines against the emulator with the dev unit's inputs: the same
// configuration the guide documents, not a copy.
func TestAccExamples_terragruntCanaryModule(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("../../examples/terragrunt/modules/canary/main.tf")
	if err != nil {
		t.Fatal(err)
	}
	// The harness serves the provider under its own address: drop the
	// module's required_providers block, keep everything else.
	body := regexp.MustCompile(`(?s)terraform \{.*?\n\}\n`).ReplaceAllString(string(src), "")
	f := newRolloutFixture(t)
	vars := func(pct int) config.Variables {
		return config.Variables{
			"listener_arn":               config.StringVariable(f.ref.ListenerARN),
			"stable_target_group_arn":    config.StringVariable(f.blue),
			"candidate_target_group_arn": config.StringVariable(f.green),
			"candidate_percent":          config.IntegerVariable(pct),
			"steps": config.ListVariable(
				config.ObjectVariable(map[string]config.Variable{"percent": config.IntegerVariable(50), "pause": config.StringVariable("30s")}),
				config.ObjectVariable(map[string]config.Variable{"percent": config.IntegerVariable(100)}),
			),
		}
	}
	cfg := f.e.ProviderConfig() + body
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: f.e.Factories(),
		Steps: []resource.TestStep{
			{Config: cfg, ConfigVariables: vars(0), Check: checkEmulator(f.e, f.ref, weights.Split{{ARN: f.blue, Weight: 100}, {ARN: f.green, Weight: 0}})},
			{
				Config: cfg, ConfigVariables: vars(100),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownOutputValueAtPath("last_rollout", tfjsonPath("status"), knownvalue.StringExact("succeeded")),
				},
				Check: checkEmulator(f.e, f.ref, weights.Split{{ARN: f.blue, Weight: 0}, {ARN: f.green, Weight: 100}}),
			},
		},
	})
}

func tfjsonPath(key string) tfjsonpath.Path { return tfjsonpath.New(key) }
