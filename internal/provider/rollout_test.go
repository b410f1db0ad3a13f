package provider_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
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

// errRE matches an engine's error output: the engines wrap long lines, so
// any run of white space matches a space.
func errRE(s string) *regexp.Regexp {
	return regexp.MustCompile(strings.ReplaceAll(s, " ", `\s+`))
}

// rolloutFixture is a listener forwarding to blue, a green target group, and
// the weights of the canary used by most tests: 10 % for 5m, 50 % for 10m,
// then 100 %.
type rolloutFixture struct {
	e           *acctest.Env
	ref         awsclient.Ref
	lb          string
	blue, green string
	splits      func() []weights.Split
	original    weights.Split
	step1       weights.Split
	step2       weights.Split
	final       weights.Split
}

func newRolloutFixture(t *testing.T) *rolloutFixture {
	e := acctest.NewEnv(t)
	return rolloutFixtureOn(e, e.NewFixture(2))
}

func rolloutFixtureOn(e *acctest.Env, f acctest.Fixture) *rolloutFixture {
	blue, green := f.TGs[0], f.TGs[1]
	return &rolloutFixture{
		e: e, ref: awsclient.Ref{ListenerARN: f.Listener}, lb: f.LB, blue: blue, green: green,
		splits:   e.RecordSplits(),
		original: weights.Split{{ARN: blue, Weight: 100}, {ARN: green, Weight: 0}},
		step1:    weights.Split{{ARN: blue, Weight: 900}, {ARN: green, Weight: 100}},
		step2:    weights.Split{{ARN: blue, Weight: 500}, {ARN: green, Weight: 500}},
		final:    weights.Split{{ARN: blue, Weight: 0}, {ARN: green, Weight: 100}},
	}
}

const canarySteps = `strategy = "canary"
    steps = [{ percent = 10, pause = "5m" }, { percent = 50, pause = "10m" }, { percent = 100 }]
    poll_interval = "1m"`

// config is the split at blue/green weights with a rollout block.
func (f *rolloutFixture) config(blue, green int, rollout string) string {
	extra := ""
	if rollout != "" {
		extra = "  rollout = {\n    " + rollout + "\n  }"
	}
	return splitConfig(f.e, "listener_arn", f.ref.ListenerARN, []string{f.blue, f.green}, []int{blue, green}, extra)
}

// start is the first step of every rollout test: all traffic on blue.
func (f *rolloutFixture) start() resource.TestStep {
	return resource.TestStep{Config: f.config(100, 0, ""), Check: checkEmulator(f.e, f.ref, f.original)}
}

// wrote checks the splits written to the emulator since the test began, in
// order: the first is always the create at 100/0.
func (f *rolloutFixture) wrote(want ...weights.Split) resource.TestCheckFunc {
	return func(*terraform.State) error {
		got := f.splits()
		want = append([]weights.Split{f.original}, want...)
		if len(got) != len(want) {
			return fmt.Errorf("the emulator received %d forward actions %v, want %d %v", len(got), got, len(want), want)
		}
		for i := range want {
			if !got[i].Equal(want[i]) {
				return fmt.Errorf("forward action %d written was %s, want %s (all: %v)", i+1, got[i], want[i], got)
			}
		}
		return nil
	}
}

// afterFailure is the step after a failed rollout: the listener serves
// `serves`, the state says so (a config at those weights plans no change),
// and last_rollout records status and gate.
func (f *rolloutFixture) afterFailure(rollout string, serves weights.Split, status, gate string, wrote ...weights.Split) resource.TestStep {
	m := serves.Map()
	return resource.TestStep{
		Config: f.config(m[f.blue], m[f.green], rollout),
		ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
			plancheck.ExpectResourceAction("rollout_traffic_split.test", plancheck.ResourceActionNoop),
		}},
		ConfigStateChecks: []statecheck.StateCheck{
			statecheck.ExpectKnownValue("rollout_traffic_split.test", tfjsonpath.New("last_rollout").AtMapKey("status"), knownvalue.StringExact(status)),
			statecheck.ExpectKnownValue("rollout_traffic_split.test", tfjsonpath.New("last_rollout").AtMapKey("gate"), knownvalue.StringExact(gate)),
		},
		Check: resource.ComposeTestCheckFunc(checkEmulator(f.e, f.ref, serves), f.wrote(wrote...)),
	}
}

// planAgain is a plan of the config that failed: it must show the change
// again.
func planAgain(config string) resource.TestStep {
	return resource.TestStep{Config: config, PlanOnly: true, ExpectNonEmptyPlan: true}
}

func stepValue(n, pct int, pause string, s weights.Split) knownvalue.Check {
	var tgs []knownvalue.Check
	for _, t := range s {
		tgs = append(tgs, knownvalue.ObjectExact(map[string]knownvalue.Check{"arn": knownvalue.StringExact(t.ARN), "weight": knownvalue.Int64Exact(int64(t.Weight))}))
	}
	return knownvalue.ObjectExact(map[string]knownvalue.Check{
		"step": knownvalue.Int64Exact(int64(n)), "percent": knownvalue.Int64Exact(int64(pct)),
		"pause": knownvalue.StringExact(pause), "target_groups": knownvalue.ListExact(tgs),
	})
}

// A canary whose every intermediate weight is observed at the emulator, in
// order, after a plan that showed exactly that schedule.
func TestAccRollout_canary(t *testing.T) {
	t.Parallel()
	f := newRolloutFixture(t)
	f.e.RegisterTargets(f.green, 2)
	alarm := f.e.Alarm("api-5xx")
	gates := fmt.Sprintf(`gates = { health = { timeout = "2m" }, alarms = [%q] }`, alarm)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: f.e.Factories(),
		Steps: []resource.TestStep{
			f.start(),
			{
				Config: f.config(0, 100, canarySteps+"\n    "+gates),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectKnownValue("rollout_traffic_split.test", tfjsonpath.New("planned_steps"), knownvalue.ListExact([]knownvalue.Check{
						stepValue(1, 10, "5m0s", f.step1), stepValue(2, 50, "10m0s", f.step2), stepValue(3, 100, "0s", f.final),
					})),
					plancheck.ExpectUnknownValue("rollout_traffic_split.test", tfjsonpath.New("last_rollout")),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("rollout_traffic_split.test", tfjsonpath.New("last_rollout").AtMapKey("status"), knownvalue.StringExact("succeeded")),
					statecheck.ExpectKnownValue("rollout_traffic_split.test", tfjsonpath.New("last_rollout").AtMapKey("step_reached"), knownvalue.Int64Exact(3)),
					statecheck.ExpectKnownValue("rollout_traffic_split.test", tfjsonpath.New("percentages").AtMapKey(f.green), knownvalue.Float64Exact(100)),
				},
				Check: resource.ComposeTestCheckFunc(
					checkEmulator(f.e, f.ref, f.final),
					f.wrote(f.step1, f.step2, f.final),
					func(*terraform.State) error {
						// 15 minutes of pauses, polled every minute, on the fake clock.
						if got := f.e.Clock.Elapsed(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)); got != 15*time.Minute {
							return fmt.Errorf("the rollout took %s by the fake clock, want the 15m of pauses (sleeps %v)", got, f.e.Clock.Sleeps())
						}
						return nil
					},
				),
			},
			// Same weights again: nothing to do, and the last schedule stays.
			{
				Config: f.config(0, 100, canarySteps+"\n    "+gates),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("rollout_traffic_split.test", plancheck.ResourceActionNoop),
				}},
			},
		},
	})
}

// A schedule whose pauses outlast the timeout is refused at plan time.
func TestAccRollout_scheduleLongerThanTimeout(t *testing.T) {
	acctest.OneEngine(t)
	t.Parallel()
	f := newRolloutFixture(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: f.e.Factories(),
		Steps: []resource.TestStep{
			f.start(),
			{
				Config:      strings.Replace(f.config(0, 100, canarySteps), "rollout = {", "timeouts = { update = \"10m\" }\n  rollout = {", 1),
				PlanOnly:    true,
				ExpectError: errRE(`Schedule Longer Than Timeout(.|\n)*pause for 15m0s in all, longer than the update timeout of 10m0s(.|\n)*update = "30m"`),
			},
		},
	})
}

// An alarm set to ALARM during the second pause rolls the listener back at
// once; the state holds the original weights and the next plan shows the
// change again.
func TestAccRollout_alarmRollsBack(t *testing.T) {
	acctest.OneEngine(t)
	t.Parallel()
	f := newRolloutFixture(t)
	alarm := f.e.Alarm("api-5xx")
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
			{Config: cfg, ExpectError: errRE(`Rollout Rolled Back(.|\n)*Step 2 of 3 failed the alarms gate: alarm "` + alarm + `" is in ALARM(.|\n)*rolled back \(immediate\)`)},
			planAgain(cfg),
			f.afterFailure(ro, f.original, "rolled_back", "alarms", f.step1, f.step2, f.original),
		},
	})
}

// A health gate fails when the target group gaining traffic has no
// registered targets: after waiting its timeout, before anything moves.
func TestAccRollout_healthGateNoTargets(t *testing.T) {
	acctest.OneEngine(t)
	t.Parallel()
	f := newRolloutFixture(t)
	ro := canarySteps + "\n    gates = { health = { timeout = \"2m\" } }"
	cfg := f.config(0, 100, ro)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: f.e.Factories(),
		Steps: []resource.TestStep{
			f.start(),
			{Config: cfg, ExpectError: errRE(`Rollout Rolled Back(.|\n)*Step 1 of 3 failed the health gate: ` + regexp.QuoteMeta(f.green) + ` has 0 healthy of 0 registered targets(.|\n)*after waiting 2m0s(.|\n)*No traffic had moved yet; nothing was rolled back`)},
			planAgain(cfg),
			f.afterFailure(ro, f.original, "rolled_back", "health"),
		},
	})
}

// A metrics gate fails on the 5XX rate over the first pause, from data put
// with PutMetricData while the pause runs.
func TestAccRollout_metricsGateErrorRate(t *testing.T) {
	acctest.OneEngine(t)
	t.Parallel()
	f := newRolloutFixture(t)
	var once sync.Once
	f.e.Clock.OnSleep(func(_ context.Context, _ time.Duration, now time.Time) {
		if len(f.splits()) == 2 { // step 1 applied: its pause
			once.Do(func() {
				f.e.PutTargetGroupMetric(f.ref.ListenerARN, f.green, "RequestCount", 1000, now.Add(-time.Second))
				f.e.PutTargetGroupMetric(f.ref.ListenerARN, f.green, "HTTPCode_Target_5XX_Count", 50, now.Add(-time.Second))
			})
		}
	})
	ro := canarySteps + "\n    gates = { metrics = { max_error_rate_percent = 1, min_request_count = 100 } }"
	cfg := f.config(0, 100, ro)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: f.e.Factories(),
		Steps: []resource.TestStep{
			f.start(),
			{Config: cfg, ExpectError: errRE(`Rollout Rolled Back(.|\n)*Step 1 of 3 failed the metrics.max_error_rate_percent gate(.|\n)*answered 50 of 1000 requests with a 5XX \(5 %\), above max_error_rate_percent 1`)},
			planAgain(cfg),
			f.afterFailure(ro, f.original, "rolled_back", "metrics.max_error_rate_percent", f.step1, f.original),
		},
	})
}

// A Lambda hook that answers Failed after the first pause rolls back; it
// received the documented payload before the shift and after the pause.
func TestAccRollout_hookFails(t *testing.T) {
	acctest.OneEngine(t)
	t.Parallel()
	f := newRolloutFixture(t)
	hook := f.e.HookFunction("check", func(p map[string]any) (string, string) {
		if p["phase"] == "after_pause" {
			return acctest.Answer("Failed", "smoke test /checkout answered 502"), ""
		}
		return acctest.Answer("Succeeded", ""), ""
	})
	ro := canarySteps + fmt.Sprintf("\n    gates = { hooks = { before_shift = %q, after_pause = %q } }", hook.ARN, hook.ARN)
	cfg := f.config(0, 100, ro)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: f.e.Factories(),
		Steps: []resource.TestStep{
			f.start(),
			{Config: cfg, ExpectError: errRE(`Rollout Rolled Back(.|\n)*Step 1 of 3 failed the hooks gate: the after_pause hook ` + regexp.QuoteMeta(hook.ARN) + ` answered "Failed", not "Succeeded": smoke test /checkout answered 502`)},
			planAgain(cfg),
			f.afterFailure(ro, f.original, "rolled_back", "hooks", f.step1, f.original),
		},
	})
	calls := hook.Calls()
	if len(calls) != 2 || calls[0]["phase"] != "before_shift" || calls[1]["phase"] != "after_pause" {
		t.Fatalf("the hook received %v, want before_shift then after_pause", calls)
	}
	if calls[0]["split_id"] != f.ref.ListenerARN || calls[0]["step"] != float64(1) || calls[0]["steps"] != float64(3) {
		t.Errorf("payload %v", calls[0])
	}
	if to, _ := calls[0]["to"].(map[string]any); to[f.green] != float64(100) || to[f.blue] != float64(900) {
		t.Errorf("before_shift payload's to is %v, want step 1's weights", calls[0]["to"])
	}
}

// A latency breach rolls back gradually: 25, 50, 75 and 100 % of the way
// back, observed in order.
func TestAccRollout_gradualRollback(t *testing.T) {
	acctest.OneEngine(t)
	t.Parallel()
	f := newRolloutFixture(t)
	f.e.RegisterTargets(f.blue, 2)
	var once sync.Once
	f.e.Clock.OnSleep(func(_ context.Context, _ time.Duration, now time.Time) {
		if len(f.splits()) == 2 {
			once.Do(func() {
				f.e.PutTargetGroupMetric(f.ref.ListenerARN, f.green, "TargetResponseTime", 0.9, now.Add(-time.Second))
			})
		}
	})
	ro := canarySteps + "\n    gates = { health = {}, metrics = { max_p99_latency_ms = 500 } }"
	cfg := f.config(0, 100, ro)
	back := []weights.Split{
		{{ARN: f.blue, Weight: 925}, {ARN: f.green, Weight: 75}},
		{{ARN: f.blue, Weight: 950}, {ARN: f.green, Weight: 50}},
		{{ARN: f.blue, Weight: 975}, {ARN: f.green, Weight: 25}},
		f.original,
	}
	f.e.RegisterTargets(f.green, 1)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: f.e.Factories(),
		Steps: []resource.TestStep{
			f.start(),
			{Config: cfg, ExpectError: errRE(`Rollout Rolled Back(.|\n)*failed the metrics.max_p99_latency_ms gate(.|\n)*p99 target response time of 900 ms, above max_p99_latency_ms 500(.|\n)*rolled back \(gradual\)`)},
			f.afterFailure(ro, f.original, "rolled_back", "metrics.max_p99_latency_ms", append([]weights.Split{f.step1}, back...)...),
		},
	})
}

// An apply interrupted in the middle of a pause (the engine gets SIGINT, as
// from Ctrl-C) leaves the listener at the step it reached and the state
// saying so. Not parallel: it signals this test binary's engine processes.
func TestAccRollout_interrupted(t *testing.T) {
	f := newRolloutFixture(t)
	// The engine stops the provider, which cancels this apply.
	signalEngineInSecondPause(t, f, syscall.SIGINT)
	ro := canarySteps
	cfg := f.config(0, 100, ro)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: f.e.Factories(),
		Steps: []resource.TestStep{
			f.start(),
			{Config: cfg, ExpectError: errRE(`Rollout Interrupted(.|\n)*interrupted at step 2 of 3`)},
			planAgain(cfg),
			f.afterFailure(ro, f.step2, "failed", "", f.step1, f.step2),
		},
	})
}

// signalEngineInSecondPause sends sig to this test binary's engine
// processes in the second pause of f's canary, and waits (in real time: the
// engine is a separate process) until the provider's apply is cancelled.
func signalEngineInSecondPause(t *testing.T, f *rolloutFixture, sig syscall.Signal) {
	var once sync.Once
	f.e.Clock.OnSleep(func(ctx context.Context, _ time.Duration, _ time.Time) {
		if len(f.splits()) != 3 { // created, step 1, step 2
			return
		}
		once.Do(func() { signalEngine(t, ctx, sig) })
	})
}

// signalEngine sends sig to this test binary's engine processes and waits
// until ctx, the provider's apply's, is cancelled: in real time, because the
// engine is another process, and however long the engine takes to stop the
// provider (up to a minute, then the test fails), so that a slow machine
// cannot let the apply go on past the point the test acts at.
func signalEngine(t *testing.T, ctx context.Context, sig syscall.Signal) {
	for _, pid := range childPIDs(t) {
		_ = syscall.Kill(pid, sig)
	}
	select {
	case <-ctx.Done():
	case <-time.After(60 * time.Second):
		t.Errorf("the apply went on for 60s after its engine got %s", sig)
	}
}

// childPIDs lists the processes whose parent is this test binary: the
// engine terraform-plugin-testing runs.
func childPIDs(t *testing.T) []int {
	me := strconv.Itoa(os.Getpid())
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var out []int
	for _, s := range stats {
		b, err := os.ReadFile(s)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		rest := string(b[strings.LastIndexByte(string(b), ')')+1:])
		fields := strings.Fields(rest)
		if len(fields) > 1 && fields[1] == me {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(s)))
			out = append(out, pid)
		}
	}
	if len(out) == 0 {
		t.Errorf("no child process to interrupt")
	}
	return out
}

// Creating a split with a canary plans the schedule from what the listener
// forwards to now, and runs it.
func TestAccRollout_createShowsSchedule(t *testing.T) {
	t.Parallel()
	f := newRolloutFixture(t)
	first := weights.Split{{ARN: f.blue, Weight: 900}, {ARN: f.green, Weight: 100}}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: f.e.Factories(),
		Steps: []resource.TestStep{{
			Config: f.config(0, 100, `strategy = "canary"
    steps = [{ percent = 10, pause = "1m" }, { percent = 100 }]`),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction("rollout_traffic_split.test", plancheck.ResourceActionCreate),
				plancheck.ExpectKnownValue("rollout_traffic_split.test", tfjsonpath.New("planned_steps"), knownvalue.ListExact([]knownvalue.Check{
					stepValue(1, 10, "1m0s", first), stepValue(2, 100, "0s", f.final),
				})),
			}},
			Check: func(*terraform.State) error {
				got := f.splits()
				if len(got) != 2 || !got[0].Equal(first) || !got[1].Equal(f.final) {
					return fmt.Errorf("the emulator received %v, want %s then %s", got, first, f.final)
				}
				return nil
			},
		}},
	})
}

// A canary on a listener rule moves the rule's weights step by step.
func TestAccRollout_rule(t *testing.T) {
	acctest.OneEngine(t)
	t.Parallel()
	e := acctest.NewEnv(t)
	fx := e.NewFixture(2)
	rule := e.Rule(fx.Listener, fx.TGs[0], 10)
	blue, green := fx.TGs[0], fx.TGs[1]
	e.RegisterTargets(green, 1)
	splits := e.RecordSplits()
	ro := `  rollout = {
    strategy = "linear"
    linear   = { step_percent = 40, interval = "30s" }
    gates    = { health = {} }
  }`
	want := []weights.Split{
		{{ARN: blue, Weight: 100}, {ARN: green, Weight: 0}},
		{{ARN: blue, Weight: 600}, {ARN: green, Weight: 400}},
		{{ARN: blue, Weight: 200}, {ARN: green, Weight: 800}},
		{{ARN: blue, Weight: 0}, {ARN: green, Weight: 100}},
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: e.Factories(),
		Steps: []resource.TestStep{
			{Config: splitConfig(e, "rule_arn", rule, []string{blue, green}, []int{100, 0}, ro)},
			{
				Config: splitConfig(e, "rule_arn", rule, []string{blue, green}, []int{0, 100}, ro),
				Check: resource.ComposeTestCheckFunc(
					checkEmulator(e, awsclient.Ref{RuleARN: rule}, want[3]),
					func(*terraform.State) error {
						got := splits()
						if len(got) != len(want) {
							return fmt.Errorf("the rule received %v, want %v", got, want)
						}
						for i := range want {
							if !got[i].Equal(want[i]) {
								return fmt.Errorf("write %d was %s, want %s", i+1, got[i], want[i])
							}
						}
						return nil
					},
				),
			},
		},
	})
}

func weightsOf(f *rolloutFixture, blue, green int) weights.Split {
	return weights.Split{{ARN: f.blue, Weight: blue}, {ARN: f.green, Weight: green}}
}

func regexpMust(s string) *regexp.Regexp { return regexp.MustCompile(s) }

// Changing only the rollout settings leaves the listener alone: no write.
func TestAccRollout_settingsOnlyChangeWritesNothing(t *testing.T) {
	acctest.OneEngine(t)
	t.Parallel()
	f := newRolloutFixture(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: f.e.Factories(),
		Steps: []resource.TestStep{
			f.start(),
			{
				Config: f.config(100, 0, canarySteps),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("rollout_traffic_split.test", plancheck.ResourceActionUpdate),
				}},
				Check: resource.ComposeTestCheckFunc(checkEmulator(f.e, f.ref, f.original), f.wrote()),
			},
		},
	})
}
