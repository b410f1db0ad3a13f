package provider_test

import (
	"fmt"
	"testing"

	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/rolloutdev/terraform-provider-rollout/internal/acctest"
)

func TestAccDataSourceAlarmState(t *testing.T) {
	acctest.OneEngine(t)
	t.Parallel()
	e := acctest.NewEnv(t)
	quiet, firing := e.Alarm("quiet"), e.Alarm("firing")
	e.SetAlarmState(firing, cwtypes.StateValueAlarm)
	cfg := func(names string) string {
		return e.ProviderConfig() + fmt.Sprintf("data \"rollout_alarm_state\" \"gate\" {\n  names = %s\n}\n", names)
	}
	ds := "data.rollout_alarm_state.gate"
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: e.Factories(),
		Steps: []resource.TestStep{
			{
				Config: cfg(fmt.Sprintf("[%q]", quiet)),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("any_in_alarm"), knownvalue.Bool(false)),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("alarms").AtSliceIndex(0).AtMapKey("state"), knownvalue.StringExact("OK")),
				},
			},
			{
				Config: cfg(fmt.Sprintf("[%q, %q]", quiet, firing)),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("any_in_alarm"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("alarms"), knownvalue.ListExact([]knownvalue.Check{
						knownvalue.ObjectPartial(map[string]knownvalue.Check{"name": knownvalue.StringExact(quiet), "state": knownvalue.StringExact("OK")}),
						knownvalue.ObjectPartial(map[string]knownvalue.Check{"name": knownvalue.StringExact(firing), "state": knownvalue.StringExact("ALARM"), "reason": knownvalue.StringExact("set by the test: threshold crossed")}),
					})),
				},
			},
			{
				Config:      cfg(fmt.Sprintf("[%q, \"no-such-alarm\"]", quiet)),
				ExpectError: errRE(`Alarm Not Found(.|\n)*No metric or composite alarm is named "no-such-alarm"`),
			},
		},
	})
}

func TestAccDataSourceTargetHealth(t *testing.T) {
	acctest.OneEngine(t)
	t.Parallel()
	e := acctest.NewEnv(t)
	f := e.NewFixture(2)
	e.RegisterTargets(f.TGs[0], 3)
	ds := "data.rollout_target_health.tgs"
	counts := func(arn string, healthy, total int) knownvalue.Check {
		return knownvalue.ObjectExact(map[string]knownvalue.Check{
			"arn": knownvalue.StringExact(arn), "healthy": knownvalue.Int64Exact(int64(healthy)), "total": knownvalue.Int64Exact(int64(total)),
			"unhealthy": knownvalue.Int64Exact(0), "draining": knownvalue.Int64Exact(0), "initial": knownvalue.Int64Exact(0),
			"unused": knownvalue.Int64Exact(0), "unavailable": knownvalue.Int64Exact(0),
		})
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: e.Factories(),
		Steps: []resource.TestStep{{
			Config: e.ProviderConfig() + fmt.Sprintf("data \"rollout_target_health\" \"tgs\" {\n  target_group_arns = [%q, %q]\n}\n", f.TGs[0], f.TGs[1]),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(ds, tfjsonpath.New("target_groups"), knownvalue.ListExact([]knownvalue.Check{counts(f.TGs[0], 3, 3), counts(f.TGs[1], 0, 0)})),
			},
		}},
	})
}
