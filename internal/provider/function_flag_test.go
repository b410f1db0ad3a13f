package provider_test

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"

	"github.com/rolloutdev/terraform-provider-rollout/internal/acctest"
)

// The provider functions on both engines, against buckets computed with
// Python's hashlib (flag/testdata/golden.json: checkout:alice is 75).
func TestAccFunctions_flags(t *testing.T) {
	t.Parallel()
	e := acctest.NewEnv(t)
	doc := func(pct int) string {
		return fmt.Sprintf(`jsonencode({ schema_version = 1, key = "checkout", enabled = true, rollout_percentage = %d, kill_switch = false,
    targeting = { segment_rules = [] }, environments = ["prod"] })`, pct)
	}
	cfg := e.ProviderConfig() + fmt.Sprintf(`
output "bucket" {
  value = provider::rollout::flag_bucket("checkout", "alice")
}
output "at_76" {
  value = provider::rollout::flag_enabled(%s, { user_id = "alice", environment = "prod" })
}
output "at_75" {
  value = provider::rollout::flag_enabled(%s, { user_id = "alice", environment = "prod" })
}
output "other_env" {
  value = provider::rollout::flag_enabled(%s, { user_id = "alice", environment = "staging" })
}
`, doc(76), doc(75), doc(100))
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: e.Factories(),
		Steps: []resource.TestStep{
			{
				Config: cfg,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownOutputValue("bucket", knownvalue.Int64Exact(75)),
					statecheck.ExpectKnownOutputValue("at_76", knownvalue.Bool(true)),
					statecheck.ExpectKnownOutputValue("at_75", knownvalue.Bool(false)),
					statecheck.ExpectKnownOutputValue("other_env", knownvalue.Bool(false)),
				},
			},
			{
				Config:      e.ProviderConfig() + "output \"x\" {\n  value = provider::rollout::flag_enabled(\"{\\\"schema_version\\\": 2}\", {})\n}\n",
				ExpectError: regexp.MustCompile(`Invalid Flag Document(.|\n)*schema_version 2`),
			},
		},
	})
}
