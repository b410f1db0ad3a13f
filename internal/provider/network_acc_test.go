package provider_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/rolloutdev/terraform-provider-rollout/internal/acctest"
)

func newNetworkRolloutFixture(t *testing.T) *rolloutFixture {
	e := acctest.NewEnv(t)
	return rolloutFixtureOn(e, e.NewNetworkFixture(2))
}

// A canary on a Network Load Balancer's TCP listener (weighted target
// groups, since 2025) moves through its steps and, when its alarm fires in
// the second pause, rolls back: the emulator holds each step's weights and
// then the original ones.
func TestAccNetwork_canaryAlarmRollsBack(t *testing.T) {
	t.Parallel()
	f := newNetworkRolloutFixture(t)
	alarm := f.e.Alarm("nlb-resets")
	var once sync.Once
	f.e.Clock.OnSleep(func(context.Context, time.Duration, time.Time) {
		if len(f.splits()) == 3 { // created, step 1, step 2: the second pause
			once.Do(func() { f.e.SetAlarmState(alarm, cwtypes.StateValueAlarm) })
		}
	})
	ro := canarySteps + fmt.Sprintf("\n    gates = { alarms = [%q] }", alarm)
	cfg := f.config(0, 100, ro)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: f.e.Factories(),
		Steps: []resource.TestStep{
			f.start(),
			{Config: cfg, ExpectError: errRE(`Rollout Rolled Back(.|\n)*Step 2 of 3 failed the alarms gate: alarm "` + alarm + `" is in ALARM`)},
			planAgain(cfg),
			f.afterFailure(ro, f.original, "rolled_back", "alarms", f.step1, f.step2, f.original),
		},
	})
}

// A Network Load Balancer's metrics gate reads AWS/NetworkELB: the new
// flows are its requests and the resets its targets send are its errors.
func TestAccNetwork_metricsGateResets(t *testing.T) {
	acctest.OneEngine(t)
	t.Parallel()
	f := newNetworkRolloutFixture(t)
	var once sync.Once
	f.e.Clock.OnSleep(func(_ context.Context, _ time.Duration, now time.Time) {
		if len(f.splits()) == 2 { // step 1 applied: its pause
			once.Do(func() {
				f.e.PutTargetGroupMetric(f.ref.ListenerARN, f.green, "NewFlowCount", 1000, now.Add(-time.Second))
				f.e.PutTargetGroupMetric(f.ref.ListenerARN, f.green, "TCP_Target_Reset_Count", 50, now.Add(-time.Second))
			})
		}
	})
	ro := canarySteps + "\n    gates = { metrics = { max_error_rate_percent = 1, min_request_count = 100 } }"
	cfg := f.config(0, 100, ro)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: f.e.Factories(),
		Steps: []resource.TestStep{
			f.start(),
			{Config: cfg, ExpectError: errRE(`Rollout Rolled Back(.|\n)*Step 1 of 3 failed the metrics.max_error_rate_percent gate(.|\n)*answered 50 of 1000 requests with a reset by a target \(TCP_Target_Reset_Count\) \(5 %\)`)},
			planAgain(cfg),
			f.afterFailure(ro, f.original, "rolled_back", "metrics.max_error_rate_percent", f.step1, f.original),
		},
	})
}
