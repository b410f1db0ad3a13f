package provider_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/rolloutdev/terraform-provider-rollout/internal/acctest"
	"github.com/rolloutdev/terraform-provider-rollout/internal/awsclient"
	"github.com/rolloutdev/terraform-provider-rollout/internal/emulator"
	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

// Twenty canaries in one apply, each with its own alarm, a health and a
// metrics gate, against a front that throttles as AWS does (AWSBuckets),
// on the real clock: the front throttles nothing, the alarms of all twenty
// are read with at most about two DescribeAlarms a second (one request for
// all of them), the listener reads waiting together and the metrics gates
// read together are batched, and every listener reaches its target. The
// rollouts wait in real time here: the throttling buckets refill on the
// wall clock, so pacing can only be shown in real time (about 20 s, mostly
// ELB's Describe* budget: some 200 reads at 10 a second).
func TestAccBudget_twentyRollouts(t *testing.T) {
	t.Parallel()
	e := acctest.NewEnv(t)
	const n = 20
	type svc struct {
		listener, blue, green, alarm string
	}
	var svcs []svc
	lb := e.LoadBalancer(acctest.Name("budget"))
	for i := 0; i < n; i++ {
		blue, green := e.TargetGroup(acctest.Name("b")), e.TargetGroup(acctest.Name("g"))
		e.RegisterTargets(green, 1)
		svcs = append(svcs, svc{listener: e.Listener(lb, blue, int32(8000+i)), blue: blue, green: green, alarm: e.Alarm("budget-5xx")})
	}
	cfg := func(green int) string {
		var b strings.Builder
		// ELB's Describe* at AWS's own refill (10 a second), its bucket of
		// 40 at the front: paced, nothing is throttled.
		b.WriteString(strings.Replace(e.ProviderConfig(), "api_budget = { enabled = false }", "api_budget = { elb_describe_per_second = 10 }", 1))
		for i, s := range svcs {
			fmt.Fprintf(&b, `
resource "rollout_traffic_split" "s%d" {
  listener_arn  = %q
  target_groups = [{ arn = %q, weight = %d }, { arn = %q, weight = %d }]
  rollout = {
    strategy      = "canary"
    steps         = [{ percent = 50, pause = "2s" }, { percent = 100 }]
    poll_interval = "1s"
    gates         = { health = { min_healthy_targets = 1, timeout = "30s" }, alarms = [%q],
                      metrics = { max_error_rate_percent = 5, delay = "1s" } }
  }
}
`, i, s.listener, s.blue, 100-green, s.green, green, s.alarm)
		}
		return b.String()
	}
	var start time.Time
	var before map[string]int
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: e.RealFactories(),
		Steps: []resource.TestStep{
			{Config: cfg(0)},
			{
				PreConfig: func() {
					for _, s := range svcs {
						e.PutSteadyTraffic(s.listener, s.green, time.Now().Add(-time.Minute), 3*time.Minute)
					}
					e.Emu.Throttle(emulator.AWSBuckets)
					before, start = e.Emu.Counts(), time.Now()
				},
				Config: cfg(100),
				Check: func(st *terraform.State) error {
					took := time.Since(start)
					// The stagger is shown: each rollout's offset, within
					// the spread of at most 1 s (all but a first may wait).
					staggered := 0
					for i := range svcs {
						rs := st.RootModule().Resources[fmt.Sprintf("rollout_traffic_split.s%d", i)]
						if rs == nil {
							return fmt.Errorf("no s%d in state", i)
						}
						if v := rs.Primary.Attributes["last_rollout.staggered"]; v != "" {
							d, err := time.ParseDuration(v)
							if err != nil || d <= 0 || d > time.Second {
								return fmt.Errorf("s%d: last_rollout.staggered = %q, want a duration within 1s", i, v)
							}
							staggered++
						}
					}
					if staggered < n/2 {
						return fmt.Errorf("only %d of %d rollouts show a stagger", staggered, n)
					}
					if th := e.Emu.Throttled(); len(th) != 0 {
						return fmt.Errorf("the front throttled %v", th)
					}
					after := e.Emu.Counts()
					alarms := after["monitoring:DescribeAlarms"] - before["monitoring:DescribeAlarms"]
					if perSecond := float64(alarms) / took.Seconds(); perSecond > 2.5 {
						return fmt.Errorf("%d DescribeAlarms in %s (%.1f a second) for %d rollouts polling every second: the reads were not shared", alarms, took.Round(time.Millisecond), perSecond, n)
					}
					// Without batching each rollout reads its listener 5 to 6
					// times (the read before its first write, the guard's
					// read and the read-back of each write); the reads
					// waiting for their turn together are one request.
					if lr := after["elasticloadbalancing:DescribeListeners"] - before["elasticloadbalancing:DescribeListeners"]; lr >= 5*n {
						return fmt.Errorf("%d DescribeListeners for %d rollouts: the reads waiting together were not batched", lr, n)
					}
					// Each metrics gate is read once, after the pause: the
					// reads within two seconds of each other are one request.
					if md := after["monitoring:GetMetricData"] - before["monitoring:GetMetricData"]; md == 0 || md > n/2 {
						return fmt.Errorf("%d GetMetricData for the %d metrics gates: they were not batched", md, n)
					}
					for _, s := range svcs {
						if got, _ := e.Forward(awsclient.Ref{ListenerARN: s.listener}); !got.Split.Equal(weights.Split{{ARN: s.blue, Weight: 0}, {ARN: s.green, Weight: 100}}) {
							return fmt.Errorf("%s serves %v", s.listener, got.Split)
						}
					}
					diff := map[string]int{}
					for k, v := range after {
						if d := v - before[k]; d > 0 {
							diff[k] = d
						}
					}
					t.Logf("%d rollouts in %s: %d DescribeAlarms; all requests %v", n, took.Round(time.Millisecond), alarms, diff)
					return nil
				},
			},
		},
	})
}
