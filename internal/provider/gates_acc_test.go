package provider_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/rolloutdev/terraform-provider-rollout/internal/emulator"
)

// Issue 27 (1): a gate that cannot be read is not masked by another that
// can. From the start of the last step's 10-minute bake one gate's reads
// fail (every request of its action answered 503 by the emulator) while
// the other's answer at every poll: the rollout rolls back after that
// gate's third failed poll, as it would with that gate alone. Before each
// gate counted its own failures, the other gate's good reading forgave
// them at every poll, and the rollout succeeded after ten failed reads.
func TestAccGates_unreadableGateBesideAReadableOne(t *testing.T) {
	for _, c := range []struct {
		name, gate, action, other, reason string
	}{
		{"alarms unreadable, health readable", "alarms", "monitoring:DescribeAlarms", "elasticloadbalancing:DescribeTargetHealth", "reading the alarms failed 3 times in a row"},
		{"health unreadable, alarms readable", "health", "elasticloadbalancing:DescribeTargetHealth", "monitoring:DescribeAlarms", "reading the target health of .* failed 3 times in a row"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f := newRolloutFixture(t)
			f.e.RegisterTargets(f.green, 2)
			alarm := f.e.Alarm("api-5xx")
			var once sync.Once
			var otherAtBake int
			f.e.Clock.OnSleep(func(context.Context, time.Duration, time.Time) {
				if len(f.splits()) == 3 { // created, step 1, the last step: its bake
					once.Do(func() {
						otherAtBake = f.e.Emu.Count(c.other)
						f.e.Emu.FaultNext(c.action, emulator.ServerError, 1000)
					})
				}
			})
			ro := fmt.Sprintf(`strategy = "canary"
    steps = [{ percent = 10, pause = "5m" }, { percent = 100, pause = "10m" }]
    poll_interval = "1m"
    gates = { health = { timeout = "1m" }, alarms = [%q] }`, alarm)
			cfg := f.config(0, 100, ro)
			after := f.afterFailure(ro, f.original, "rolled_back", c.gate, f.step1, f.final, f.original)
			after.PreConfig = f.e.Emu.ClearFaults
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: f.e.Factories(),
				Steps: []resource.TestStep{
					f.start(),
					{Config: cfg, ExpectError: errRE(`Rollout Rolled Back(.|\n)*Step 2 of 2 failed the ` + c.gate + ` gate: ` + c.reason + `(.|\n)*rolled back \(immediate\)`)},
					after,
				},
			})
			// The unreadable gate never answered from the bake on, while
			// the other answered at its polls.
			if n := f.e.Emu.Count(c.other) - otherAtBake; n < 2 {
				t.Errorf("%s answered %d times during the bake; the test needs it readable beside the unreadable gate", c.other, n)
			}
			if faulted := f.e.Emu.Faulted()[emulator.ServerError]; faulted < 3 {
				t.Errorf("the emulator refused %d requests of %s; want at least the 3 failed reads", faulted, c.action)
			}
		})
	}
}
