package provider_test

import (
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

// rollout_status reads what the subject's tags and weights say: held at
// step 1 of 3 with the step's weights and its owner; waiting for succeeded
// while it is held fails after the wait's timeout (on the provider's
// clock); once promoted, succeeded at step 3.
func TestAccDataSourceStatus(t *testing.T) {
	t.Parallel()
	f := newRolloutFixture(t)
	status := func(extra string) string {
		return fmt.Sprintf("\ndata \"rollout_status\" \"s\" {\n  listener_arn = %q\n  %s\n}\n", f.ref.ListenerARN, extra)
	}
	ds := func(key string, v knownvalue.Check) statecheck.StateCheck {
		return statecheck.ExpectKnownValue("data.rollout_status.s", tfjsonpath.New(key), v)
	}
	held := f.config(0, 100, holdSteps)
	promoted := f.config(0, 100, holdSteps+"\n    promote = \"1\"")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: f.e.Factories(),
		Steps: []resource.TestStep{
			{Config: f.config(100, 0, "") + status(""), ConfigStateChecks: []statecheck.StateCheck{ds("status", knownvalue.StringExact("none"))}},
			{Config: held, ExpectNonEmptyPlan: true},
			{
				Config: held + status(""),
				ConfigStateChecks: []statecheck.StateCheck{
					ds("status", knownvalue.StringExact("held")), ds("held", knownvalue.Bool(true)),
					ds("step", knownvalue.Int64Exact(1)), ds("steps", knownvalue.Int64Exact(3)), ds("last_event", knownvalue.StringExact("held")),
					ds("kind", knownvalue.StringExact("listener")), ds("execution", knownvalue.StringExact("")),
					ds("owner", knownvalue.StringRegexp(regexpMust(`^rollout_traffic_split/[0-9a-f]{16}$`))),
					ds("weights", knownvalue.MapExact(map[string]knownvalue.Check{f.blue: knownvalue.Int64Exact(900), f.green: knownvalue.Int64Exact(100)})),
					ds("percentages", knownvalue.MapExact(map[string]knownvalue.Check{f.blue: knownvalue.Float64Exact(90), f.green: knownvalue.Float64Exact(10)})),
				},
			},
			{
				Config:      held + status(`wait = { until = ["succeeded", "rolled_back"], timeout = "2m", poll_interval = "30s" }`),
				ExpectError: errRE(`Rollout Status Not Reached(.|\n)*is held \(last event "held", step 1 of 3\) after waiting 2m, not one of succeeded, rolled_back`),
			},
			{Config: promoted + status("")},
			{
				Config: promoted + status(`wait = { until = ["succeeded"], timeout = "1m" }`),
				ConfigStateChecks: []statecheck.StateCheck{
					ds("status", knownvalue.StringExact("succeeded")), ds("held", knownvalue.Bool(false)),
					ds("step", knownvalue.Int64Exact(3)), ds("last_event", knownvalue.StringExact("succeeded")),
					ds("percentages", knownvalue.MapExact(map[string]knownvalue.Check{f.blue: knownvalue.Float64Exact(0), f.green: knownvalue.Float64Exact(100)})),
				},
			},
		},
	})
}
