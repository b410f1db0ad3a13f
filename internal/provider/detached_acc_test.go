package provider_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/rolloutdev/terraform-provider-rollout/internal/acctest"
	"github.com/rolloutdev/terraform-provider-rollout/internal/awsclient"
	"github.com/rolloutdev/terraform-provider-rollout/internal/orchestrator"
	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

// Detached rollouts on both engines. The orchestrator is the binary users
// deploy, run as a process that answers the emulator's Lambda through the
// Runtime API; Step Functions is kumo's, with real Wait states. These
// tests wait in real time for that process and that executor (DEVELOPERS:
// a separate process), with pauses of a few seconds.

type detachedEnv struct {
	e        *acctest.Env
	f        acctest.Fixture
	ref      awsclient.Ref
	orch     string
	proc     *acctest.OrchestratorProcess
	zip      string
	blue     string
	green    string
	splits   func() []weights.Split
	from, to weights.Split
}

func newDetachedEnv(t *testing.T) *detachedEnv {
	e := acctest.NewEnv(t)
	d := &detachedEnv{e: e, f: e.NewFixture(2), orch: acctest.Name("orchestrator"), zip: acctest.OrchestratorZip(t)}
	d.ref = awsclient.Ref{ListenerARN: d.f.Listener}
	d.blue, d.green = d.f.TGs[0], d.f.TGs[1]
	d.from = weights.Split{{ARN: d.blue, Weight: 100}, {ARN: d.green, Weight: 0}}
	d.to = weights.Split{{ARN: d.blue, Weight: 0}, {ARN: d.green, Weight: 100}}
	// The process polls for its function's invocations before the apply
	// creates the function.
	d.proc = e.RunOrchestrator(d.orch)
	d.splits = e.RecordSplitsOf(d.f.Listener)
	return d
}

// config is the orchestrator and a split at blue/green weights, detached
// with a canary of the given pauses when rollout is set.
func (d *detachedEnv) config(blue, green int, rollout string) string {
	return d.e.ProviderConfig() + fmt.Sprintf(`
resource "rollout_orchestrator" "main" {
  name              = %q
  function_role_arn = "arn:aws:iam::000000000000:role/rollout-orchestrator"
  states_role_arn   = "arn:aws:iam::000000000000:role/rollout-states"
  timeout           = "10s"
  code = { file = %q }
}

resource "rollout_traffic_split" "test" {
  listener_arn = %q
  target_groups = [
    { arn = %q, weight = %d },
    { arn = %q, weight = %d },
  ]
  %s
}
`, d.orch, d.zip, d.f.Listener, d.blue, blue, d.green, green, rollout)
}

// canary is a detached canary of 10 and 50 percent with the given pauses,
// polling every second.
func canary(p1, p2 string, gates string) string {
	return fmt.Sprintf(`rollout = {
    strategy      = "canary"
    steps         = [{ percent = 10, pause = %q }, { percent = 50, pause = %q }, { percent = 100 }]
    poll_interval = "1s"
    execution     = { mode = "detached", orchestrator = rollout_orchestrator.main.arn }
    %s
  }`, p1, p2, gates)
}

// heldCanary is a detached canary of 10 and 50 percent that holds after
// its first step (so that a test looks at it there, whatever the speed of
// the machine), with p2 the second step's pause and promote the
// rollout.promote line, if any.
func heldCanary(p2, promote, gates string) string {
	return fmt.Sprintf(`rollout = {
    strategy      = "canary"
    steps         = [{ percent = 10, pause = "hold" }, { percent = 50, pause = %q }, { percent = 100 }]
    poll_interval = "1s"
    hold_timeout  = "10m" # far beyond a slow machine's time to the promote; bounds the execution's history
    execution     = { mode = "detached", orchestrator = rollout_orchestrator.main.arn }
    %s
    %s
  }`, p2, gates, promote)
}

// step is the weights of a canary step at pct percent.
func (d *detachedEnv) step(pct int) weights.Split {
	return weights.Split{{ARN: d.blue, Weight: 1000 - 10*pct}, {ARN: d.green, Weight: 10 * pct}}
}

// waitEnded waits, in real time, until the split's execution has ended.
func (d *detachedEnv) waitEnded(t *testing.T, s *terraform.State) {
	t.Helper()
	arn := s.RootModule().Resources["rollout_traffic_split.test"].Primary.Attributes["last_rollout.execution"]
	if arn == "" {
		t.Fatal("no execution in state")
	}
	if out := d.e.WaitExecution(arn, time.Minute); string(out.Status) == "RUNNING" {
		t.Fatalf("the execution %s still runs after a minute; orchestrator:\n%s", arn, d.proc.Logs())
	}
}

func (d *detachedEnv) serves(want weights.Split) resource.TestCheckFunc {
	return checkEmulator(d.e, d.ref, want)
}

// captureState keeps the state for a later step's PreConfig.
func captureState(into **terraform.State) resource.TestCheckFunc {
	return func(s *terraform.State) error { *into = s; return nil }
}

// A detached canary runs in AWS: the apply returns at step 1, a refresh
// shows it running there, and the orchestrator goes on, across a crash of
// its own process, to the target, taking each step once.
//
// The run holds after step 1 (pause = "hold") so that the refresh looks at
// it where it is, however slowly the engine runs beside the orchestrator's
// real clock: with a short pause instead, a slow machine saw the run finish
// before the refresh. The crash is made while the promote is in flight.
func TestAccDetached_canarySucceeds(t *testing.T) {
	t.Parallel()
	d := newDetachedEnv(t)
	var st *terraform.State
	killed := false
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: d.e.RealFactories(),
		Steps: []resource.TestStep{
			{Config: d.config(100, 0, ""), Check: d.serves(d.from)},
			{
				// apply returns with step 1 confirmed; the rest runs in AWS
				Config: d.config(0, 100, heldCanary("2s", "", "")),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("rollout_traffic_split.test", "last_rollout.status", "running"),
					resource.TestCheckResourceAttr("rollout_traffic_split.test", "last_rollout.step_reached", "1"),
					resource.TestCheckResourceAttr("rollout_traffic_split.test", "last_rollout.steps", "3"),
					resource.TestCheckResourceAttr("rollout_traffic_split.test", "last_rollout.serving", d.step(10).Canonical()),
					resource.TestCheckResourceAttr("rollout_traffic_split.test", "last_rollout.from", d.from.Canonical()),
					resource.TestMatchResourceAttr("rollout_traffic_split.test", "last_rollout.execution", regexp.MustCompile(`^arn:aws:states:.*:execution:.*:rollout-[0-9a-f]{24}$`)),
					d.serves(d.step(10)),
					captureState(&st),
				),
			},
			{
				// a refresh during step 1 shows it running at its weights,
				// and the plan is empty: the steps are the rollout's
				RefreshState: true,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("rollout_traffic_split.test", "last_rollout.status", "running"),
					resource.TestCheckResourceAttr("rollout_traffic_split.test", "last_rollout.step_reached", "1"),
					resource.TestCheckResourceAttr("rollout_traffic_split.test", "last_rollout.serving", d.step(10).Canonical()),
					d.serves(d.step(10)),
				),
			},
			{
				// promoted while the orchestrator process is down; it comes
				// back and goes on
				PreConfig: func() {
					d.proc.Kill()
					killed = true
				},
				Config: d.config(0, 100, heldCanary("2s", `promote = "go"`, "")),
				Check:  d.serves(d.step(10)), // nothing moves while it is down
			},
			{
				PreConfig: func() {
					time.Sleep(time.Second) // the process is gone across a poll: real time
					d.proc.Start()
					d.waitEnded(t, st)
				},
				RefreshState: true,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("rollout_traffic_split.test", "last_rollout.status", "succeeded"),
					resource.TestCheckResourceAttr("rollout_traffic_split.test", "last_rollout.step_reached", "3"),
					resource.TestCheckResourceAttr("rollout_traffic_split.test", "target_groups.1.weight", "100"),
					d.serves(d.to),
					func(*terraform.State) error {
						if got, want := fmt.Sprint(d.splits()), fmt.Sprint([]weights.Split{d.from, d.step(10), d.step(50), d.to}); !killed || got != want {
							return fmt.Errorf("the listener was written %s, want the create's write, then each step once: %s", got, want)
						}
						return nil
					},
				),
			},
			{Config: d.config(0, 100, heldCanary("2s", `promote = "go"`, "")), PlanOnly: true},
		},
	})
}

func TestAccDetached_alarmRollsBack(t *testing.T) {
	t.Parallel()
	d := newDetachedEnv(t)
	alarm := d.e.Alarm("detached")
	gates := fmt.Sprintf("gates = { alarms = [%q] }", alarm)
	var st *terraform.State
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: d.e.RealFactories(),
		Steps: []resource.TestStep{
			{Config: d.config(100, 0, "")},
			{
				Config: d.config(0, 100, canary("30s", "2s", gates)),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("rollout_traffic_split.test", "last_rollout.status", "running"),
					d.serves(d.step(10)),
					captureState(&st),
				),
			},
			{
				// the alarm fires during step 1's pause: the orchestrator
				// rolls back, and the execution ends failed
				PreConfig: func() {
					d.e.SetAlarmState(alarm, cwtypes.StateValueAlarm)
					d.waitEnded(t, st)
				},
				RefreshState:       true,
				ExpectNonEmptyPlan: true,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("rollout_traffic_split.test", "last_rollout.status", "rolled_back"),
					resource.TestCheckResourceAttr("rollout_traffic_split.test", "last_rollout.gate", "alarms"),
					resource.TestCheckResourceAttr("rollout_traffic_split.test", "last_rollout.rollback", "immediate"),
					resource.TestCheckResourceAttr("rollout_traffic_split.test", "target_groups.0.weight", "100"),
					d.serves(d.from),
					func(*terraform.State) error {
						x, err := d.e.SFN().DescribeExecution(context.Background(), &sfn.DescribeExecutionInput{ExecutionArn: aws.String(st.RootModule().Resources["rollout_traffic_split.test"].Primary.Attributes["last_rollout.execution"])})
						if err != nil || x.Status != "FAILED" {
							return fmt.Errorf("the execution ended %v (%v), want FAILED", x.Status, err)
						}
						return nil
					},
				),
			},
			{
				// the rolled-back change is not run again with the same attempt
				Config:      d.config(0, 100, canary("30s", "2s", gates)),
				ExpectError: regexp.MustCompile(`Rolled Back|attempt`),
			},
		},
	})
}

func TestAccDetached_abortThroughApply(t *testing.T) {
	t.Parallel()
	d := newDetachedEnv(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: d.e.RealFactories(),
		Steps: []resource.TestStep{
			{Config: d.config(100, 0, "")},
			{Config: d.config(0, 100, canary("60s", "2s", "")), Check: d.serves(d.step(10))},
			{
				// another change while it runs is refused at plan
				Config:      d.config(50, 50, canary("60s", "2s", "")),
				ExpectError: regexp.MustCompile(`Detached Rollout Running`),
			},
			{
				// and so is handing the listener back: the orchestrator
				// would go on writing a listener nobody owns
				Config:      regexp.MustCompile(`(?s)target_groups = \[.*?\n  \]`).ReplaceAllString(d.config(0, 100, ""), `manage = "observe"`),
				ExpectError: regexp.MustCompile(`Detached Rollout Running`),
			},
			{
				// back to where it started: an abort, carried out by the
				// orchestrator's rollback; the apply waits for it
				Config: d.config(100, 0, canary("60s", "2s", "")),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("rollout_traffic_split.test", "last_rollout.status", "rolled_back"),
					resource.TestCheckResourceAttr("rollout_traffic_split.test", "last_rollout.gate", "aborted"),
					resource.TestCheckResourceAttr("rollout_traffic_split.test", "target_groups.0.weight", "100"),
					d.serves(d.from),
				),
			},
			{Config: d.config(100, 0, canary("60s", "2s", "")), PlanOnly: true},
		},
	})
}

func TestAccDetached_handChangeStops(t *testing.T) {
	t.Parallel()
	d := newDetachedEnv(t)
	hand := weights.Split{{ARN: d.blue, Weight: 70}, {ARN: d.green, Weight: 30}}
	var st *terraform.State
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: d.e.RealFactories(),
		Steps: []resource.TestStep{
			{Config: d.config(100, 0, "")},
			// held after step 1, so the hand change lands mid-run however
			// slow the machine (a 3 s pause could end before it)
			{Config: d.config(0, 100, heldCanary("2s", "", "")), Check: captureState(&st)},
			{
				// a hand change during the hold, then the promote: the
				// plan (which refreshes) warns, and the apply refuses it
				// before the promote is sent
				PreConfig:   func() { d.e.SetWeights(d.ref, hand) },
				Config:      d.config(0, 100, heldCanary("2s", `promote = "go"`, "")),
				ExpectError: regexp.MustCompile(`Changed During Hold`),
			},
			{
				// put back, the promote goes; the orchestrator process is
				// down across its apply, so that the refresh after it sees
				// the run where it was
				PreConfig: func() {
					d.e.SetWeights(d.ref, d.step(10))
					d.proc.Kill()
				},
				Config: d.config(0, 100, heldCanary("2s", `promote = "go"`, "")),
			},
			{
				// a hand change after the promote; back up, the
				// orchestrator finds it before its next write: it wins,
				// and nothing more is written
				PreConfig: func() {
					d.e.SetWeights(d.ref, hand)
					d.proc.Start()
					d.waitEnded(t, st)
				},
				RefreshState:       true,
				ExpectNonEmptyPlan: true,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("rollout_traffic_split.test", "last_rollout.status", "failed"),
					resource.TestCheckResourceAttr("rollout_traffic_split.test", "last_rollout.gate", "changed_during_rollout"),
					resource.TestCheckResourceAttr("rollout_traffic_split.test", "last_rollout.serving", hand.Canonical()),
					resource.TestCheckResourceAttr("rollout_traffic_split.test", "target_groups.0.weight", "70"),
					d.serves(hand),
					func(*terraform.State) error {
						if got, want := fmt.Sprint(d.splits()), fmt.Sprint([]weights.Split{d.from, d.step(10), hand, d.step(10), hand}); got != want {
							return fmt.Errorf("the listener was written %s, want %s: nothing after the hand changes", got, want)
						}
						return nil
					},
				),
			},
		},
	})
}

func TestAccDetached_stoppedExecution(t *testing.T) {
	t.Parallel()
	d := newDetachedEnv(t)
	var st *terraform.State
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: d.e.RealFactories(),
		Steps: []resource.TestStep{
			{Config: d.config(100, 0, "")},
			{Config: d.config(0, 100, canary("60s", "2s", "")), Check: captureState(&st)},
			{
				// StopExecution skips Catch: the subject stays where it was
				PreConfig: func() {
					arn := st.RootModule().Resources["rollout_traffic_split.test"].Primary.Attributes["last_rollout.execution"]
					if _, err := d.e.SFN().StopExecution(context.Background(), &sfn.StopExecutionInput{ExecutionArn: aws.String(arn)}); err != nil {
						t.Fatal(err)
					}
					d.waitEnded(t, st)
				},
				RefreshState:       true,
				ExpectNonEmptyPlan: true,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("rollout_traffic_split.test", "last_rollout.status", "stopped"),
					resource.TestCheckResourceAttr("rollout_traffic_split.test", "last_rollout.step_reached", "1"),
					resource.TestCheckResourceAttr("rollout_traffic_split.test", "last_rollout.serving", d.step(10).Canonical()),
					resource.TestCheckResourceAttr("rollout_traffic_split.test", "target_groups.0.weight", "900"),
					d.serves(d.step(10)),
				),
			},
		},
	})
}

// orchestratorBlock is a rollout_orchestrator for the test's process.
func orchestratorBlock(name, zip string) string {
	return fmt.Sprintf(`
resource "rollout_orchestrator" "main" {
  name              = %q
  function_role_arn = "arn:aws:iam::000000000000:role/rollout-orchestrator"
  states_role_arn   = "arn:aws:iam::000000000000:role/rollout-states"
  timeout           = "10s"
  code = { file = %q }
}
`, name, zip)
}

// waitEndedAt waits, in real time, for the execution a resource's state
// names to end.
func waitEndedAt(t *testing.T, e *acctest.Env, s *terraform.State, address string) {
	t.Helper()
	arn := s.RootModule().Resources[address].Primary.Attributes["last_rollout.execution"]
	if arn == "" {
		t.Fatalf("no execution in the state of %s", address)
	}
	if out := e.WaitExecution(arn, time.Minute); string(out.Status) == "RUNNING" {
		t.Fatalf("the execution %s still runs after a minute", arn)
	}
}

func TestAccDetached_lambdaAlias(t *testing.T) {
	t.Parallel()
	e := acctest.NewEnv(t)
	orch := acctest.Name("orchestrator")
	e.RunOrchestrator(orch)
	fn := e.LambdaFunction("orders", 2)
	if _, err := e.Lambda().CreateAlias(context.Background(), &lambda.CreateAliasInput{FunctionName: aws.String(fn), Name: aws.String("live"), FunctionVersion: aws.String("1")}); err != nil {
		t.Fatal(err)
	}
	cfg := func(version, ro string) string {
		return aliasConfig(e, fn, "live", version, ro) + orchestratorBlock(orch, acctest.OrchestratorZip(t))
	}
	// Held after step 1, so that the check after the apply reads the alias
	// there however slowly the engine runs beside the orchestrator.
	ro := func(promote string) string {
		return fmt.Sprintf(`rollout = {
    strategy      = "canary"
    steps         = [{ percent = 10, pause = "hold" }, { percent = 50, pause = "1s" }, { percent = 100 }]
    poll_interval = "1s"
    hold_timeout  = "10m"
    execution     = { mode = "detached", orchestrator = rollout_orchestrator.main.arn }
    %s
  }`, promote)
	}
	var st *terraform.State
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: e.RealFactories(),
		Steps: []resource.TestStep{
			{Config: cfg("1", "")},
			{
				Config: cfg("2", ro("")),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(aliasRes, "last_rollout.status", "running"),
					resource.TestCheckResourceAttr(aliasRes, "current_version", "2"),
					resource.TestCheckResourceAttr(aliasRes, "last_rollout.serving", v1v2at10.Canonical()),
					aliasServes(e, fn, "live", "1", map[string]float64{"2": 0.1}),
					captureState(&st),
				),
			},
			{Config: cfg("2", ro(`promote = "go"`))},
			{
				PreConfig:    func() { waitEndedAt(t, e, st, aliasRes) },
				RefreshState: true,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(aliasRes, "last_rollout.status", "succeeded"),
					resource.TestCheckResourceAttr(aliasRes, "current_version", "2"),
					aliasServes(e, fn, "live", "2", noRouting),
					aliasWrote(e, v1v2at10, v1v2at50, v2),
				),
			},
			{Config: cfg("2", ro(`promote = "go"`)), PlanOnly: true},
		},
	})
}

func TestAccDetached_featureFlagRampAndAbort(t *testing.T) {
	t.Parallel()
	e := acctest.NewEnv(t)
	orch := acctest.Name("orchestrator")
	e.RunOrchestrator(orch)
	key := "detached-" + acctest.Name("f")
	name := "/rollout/flags/" + key
	cfg := func(pct int, pause string) string {
		return flagConfig(e, key, fmt.Sprintf(`rollout_percentage = %d
  rollout = {
    strategy      = "canary"
    steps         = [{ percent = 10, pause = %q }, { percent = 100 }]
    poll_interval = "1s"
    rollback      = "kill_switch"
    execution     = { mode = "detached", orchestrator = rollout_orchestrator.main.arn }
  }`, pct, pause)) + orchestratorBlock(orch, acctest.OrchestratorZip(t))
	}
	var st *terraform.State
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: e.RealFactories(),
		Steps: []resource.TestStep{
			{Config: cfg(0, "2s")},
			{
				// 0 → 50 in AWS: the apply returns at 5 %
				Config: cfg(50, "2s"),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(flagRes, "last_rollout.status", "running"),
					resource.TestCheckResourceAttr(flagRes, "rollout_percentage", "50"),
					// What the flag received, not what it holds now: the
					// orchestrator may have taken the next step (real time)
					// by the time this check runs on a slow machine.
					func(*terraform.State) error {
						got := flagWrites(e, name)
						if len(got) < 2 || got[0] != "0" || got[1] != "5" || len(got) > 3 || len(got) == 3 && got[2] != "50" {
							return fmt.Errorf("the flag was written %v, want the create's 0, then the first step's 5 (and perhaps the last step's 50)", got)
						}
						return nil
					},
					captureState(&st),
				),
			},
			{
				PreConfig:    func() { waitEndedAt(t, e, st, flagRes) },
				RefreshState: true,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(flagRes, "last_rollout.status", "succeeded"),
					resource.TestCheckResourceAttr(flagRes, "rollout_percentage", "50"),
				),
			},
			{Config: cfg(50, "2s"), PlanOnly: true},
			// 50 → 100 with a long pause, aborted by going back to 50: the
			// orchestrator moves the percentage back (an abort is not a
			// failed gate: the kill switch stays off)
			{Config: cfg(100, "60s"), Check: resource.TestCheckResourceAttr(flagRes, "last_rollout.status", "running")},
			{
				Config: cfg(50, "60s"),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(flagRes, "last_rollout.status", "rolled_back"),
					resource.TestCheckResourceAttr(flagRes, "last_rollout.gate", "aborted"),
					resource.TestCheckResourceAttr(flagRes, "rollout_percentage", "50"),
					resource.TestCheckResourceAttr(flagRes, "kill_switch", "false"),
					func(*terraform.State) error {
						if got := fmt.Sprint(flagWrites(e, name)); got != "[0 5 50 55 50]" {
							return fmt.Errorf("the flag was written as %s, want [0 5 50 55 50]", got)
						}
						return nil
					},
				),
			},
			{Config: cfg(50, "60s"), PlanOnly: true},
		},
	})
}

func TestAccDetached_blueGreenFlip(t *testing.T) {
	t.Parallel()
	f := newBGFixture(t)
	orch := acctest.Name("orchestrator")
	f.e.RunOrchestrator(orch)
	created := 0 // the listener's writes by the create
	cfg := func(active string) string {
		return f.e.ProviderConfig() + fmt.Sprintf(`
resource "rollout_deployment_bluegreen" "web" {
  listener_arn = %q
  name_prefix  = %q
  port         = 8080
  protocol     = "HTTP"
  vpc_id       = %q
  target_type  = "ip"
  active       = %q
  rollout = {
    strategy      = "canary"
    steps         = [{ percent = 10, pause = "2s" }, { percent = 100 }]
    poll_interval = "1s"
    execution     = { mode = "detached", orchestrator = rollout_orchestrator.main.arn }
  }
}
`, f.listener, f.prefix, f.e.VPC, active) + orchestratorBlock(orch, acctest.OrchestratorZip(t))
	}
	var st *terraform.State
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: f.e.RealFactories(),
		Steps: []resource.TestStep{
			{Config: cfg("blue"), Check: func(*terraform.State) error { created = len(f.main()); return nil }},
			{
				Config: cfg("green"),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(bgRes, "last_rollout.status", "running"),
					resource.TestCheckResourceAttr(bgRes, "active", "green"),
					resource.TestCheckResourceAttr(bgRes, "history.0.status", "running"),
					// What the listener received after the create, not what
					// it serves now: the orchestrator may have taken the last
					// step (real time) by the time this check runs.
					func(*terraform.State) error {
						got := f.main()[created:]
						if len(got) < 1 || !got[0].Equal(f.split(900, 100)) || len(got) > 2 || len(got) == 2 && !got[1].Equal(f.split(0, 100)) {
							return fmt.Errorf("the listener was written %v after the create, want the first step's %s (and perhaps the last step's %s)", got, f.split(900, 100).Short(), f.split(0, 100).Short())
						}
						return nil
					},
					captureState(&st),
				),
			},
			{
				PreConfig:    func() { waitEndedAt(t, f.e, st, bgRes) },
				RefreshState: true,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(bgRes, "last_rollout.status", "succeeded"),
					resource.TestCheckResourceAttr(bgRes, "active", "green"),
					resource.TestCheckResourceAttr(bgRes, "history.0.status", "succeeded"),
					func(*terraform.State) error {
						return checkEmulator(f.e, awsclient.Ref{ListenerARN: f.listener}, f.split(0, 100))(nil)
					},
				),
			},
			{Config: cfg("green"), PlanOnly: true},
		},
	})
}

// Destroying a resource whose detached rollout runs ends the run first:
// nothing goes on moving a subject that no resource owns. The orchestrator
// ends it where it is (the stop run tag), so the execution ends failed,
// gate aborted, not stopped by hand.
func TestAccDetached_destroyStopsTheRollout(t *testing.T) {
	t.Parallel()
	d := newDetachedEnv(t)
	var st *terraform.State
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: d.e.RealFactories(),
		CheckDestroy: func(*terraform.State) error {
			arn := st.RootModule().Resources["rollout_traffic_split.test"].Primary.Attributes["last_rollout.execution"]
			x, err := d.e.SFN().DescribeExecution(context.Background(), &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
			if err != nil || x.Status != "FAILED" {
				return fmt.Errorf("after destroy the execution is %v (%v), want FAILED", x.Status, err)
			}
			if rep, ok := orchestrator.ParseCause(aws.ToString(x.Cause)); !ok || rep.Result.Failure == nil || rep.Result.Failure.Gate != rollout.GateAborted {
				return fmt.Errorf("after destroy the execution's cause is %s, want failed, gate aborted", aws.ToString(x.Cause))
			}
			return d.serves(d.step(10))(nil)
		},
		Steps: []resource.TestStep{
			{Config: d.config(100, 0, "")},
			{Config: d.config(0, 100, canary("60s", "2s", "")), Check: captureState(&st)},
		},
	})
}

// The plan refuses a detached rollout whose calls could not fit one
// execution's history, and says what would fit.
func TestAccDetached_tooLongForOneExecution(t *testing.T) {
	t.Parallel()
	e := acctest.NewEnv(t)
	f := e.NewFixture(2)
	cfg := e.ProviderConfig() + fmt.Sprintf(`
resource "rollout_traffic_split" "test" {
  listener_arn  = %q
  target_groups = [{ arn = %q, weight = 0 }, { arn = %q, weight = 100 }]
  rollout = {
    strategy      = "canary"
    steps         = [{ percent = 10, pause = "24h" }, { percent = 100 }]
    poll_interval = "1s"
    execution     = { mode = "detached", orchestrator = "arn:aws:states:us-east-1:000000000000:stateMachine:rollouts", timeout = "48h" }
  }
}
`, f.Listener, f.TGs[0], f.TGs[1])
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: e.Factories(),
		Steps: []resource.TestStep{{
			Config: cfg, PlanOnly: true,
			ExpectError: regexp.MustCompile(`Detached Rollout Too Long For One Execution(.|\n)*Polling every 1s for up to 48h0m0s(.|\n)*history events, above Step Functions' 25000(.|\n)*rollout\.poll_interval to 1m[0-9]+s or more`),
		}},
	})
}

// rollout_orchestrator: create, import, update in place (code, timeout,
// a definition changed by hand), destroy; its policies rendered.
func TestAccOrchestrator_lifecycle(t *testing.T) {
	t.Parallel()
	e := acctest.NewEnv(t)
	name := acctest.Name("orchestrator")
	zip1 := acctest.OrchestratorZip(t)
	zip2 := filepath.Join(t.TempDir(), "other.zip")
	b, err := os.ReadFile(zip1)
	if err != nil {
		t.Fatal(err)
	}
	// Another release's zip: other bytes.
	if err := os.WriteFile(zip2, append(b, 0), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := func(zip, timeout string) string {
		return e.ProviderConfig() + fmt.Sprintf(`
resource "rollout_orchestrator" "main" {
  name              = %q
  function_role_arn = "arn:aws:iam::000000000000:role/rollout-orchestrator"
  states_role_arn   = "arn:aws:iam::000000000000:role/rollout-states"
  timeout           = %q
  code = { file = %q }
}

data "rollout_orchestrator_policy" "main" {
  name              = rollout_orchestrator.main.name
  function_role_arn = rollout_orchestrator.main.function_role_arn
  states_role_arn   = rollout_orchestrator.main.states_role_arn
  listener_arns     = ["arn:aws:elasticloadbalancing:us-east-1:000000000000:listener/app/web/*"]
}
`, name, timeout, zip)
	}
	const res = "rollout_orchestrator.main"
	var fnARN string
	lambdaOf := func() *lambda.GetFunctionOutput {
		out, err := e.Lambda().GetFunction(context.Background(), &lambda.GetFunctionInput{FunctionName: aws.String(name)})
		if err != nil {
			t.Fatalf("GetFunction: %v", err)
		}
		return out
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: e.Factories(),
		CheckDestroy: func(*terraform.State) error {
			if _, err := e.Lambda().GetFunction(context.Background(), &lambda.GetFunctionInput{FunctionName: aws.String(name)}); err == nil {
				return fmt.Errorf("the function %s is still there", name)
			}
			if _, err := e.SFN().DescribeStateMachine(context.Background(), &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(awsclient.StateMachineARN(fnARN, name))}); err == nil {
				return fmt.Errorf("the state machine %s is still there", name)
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				Config: cfg(zip1, "20s"),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestMatchResourceAttr(res, "arn", regexp.MustCompile(`^arn:aws:states:us-east-1:[0-9]+:stateMachine:`+name+`$`)),
					resource.TestCheckResourceAttr(res, "architecture", "arm64"),
					resource.TestCheckResourceAttr(res, "job_version", "3"),
					func(s *terraform.State) error {
						fnARN = s.RootModule().Resources[res].Primary.Attributes["function_arn"]
						fn := lambdaOf()
						if aws.ToInt32(fn.Configuration.Timeout) != 20 || string(fn.Configuration.Runtime) != "provided.al2023" || aws.ToString(fn.Configuration.Handler) != "bootstrap" {
							return fmt.Errorf("the emulator's function is %+v", fn.Configuration)
						}
						sm, err := e.SFN().DescribeStateMachine(context.Background(), &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(s.RootModule().Resources[res].Primary.Attributes["arn"])})
						if err != nil || aws.ToString(sm.Definition) != orchestrator.Definition(fnARN) {
							return fmt.Errorf("the emulator's state machine is not the generated one: %v", err)
						}
						return nil
					},
					resource.TestMatchResourceAttr("data.rollout_orchestrator_policy.main", "states_policy", regexp.MustCompile(`"arn:aws:lambda:\*:\*:function:`+name+`"`)),
					resource.TestMatchResourceAttr("data.rollout_orchestrator_policy.main", "function_policy", regexp.MustCompile(`listener/app/web/\*`)),
					resource.TestMatchResourceAttr("data.rollout_orchestrator_policy.main", "provider_policy", regexp.MustCompile(`"iam:PassRole"(.|\n)*role/rollout-orchestrator`)),
				),
			},
			{ResourceName: res, ImportState: true, ImportStateId: name, ImportStateVerify: true, ImportStateVerifyIgnore: []string{"code", "timeout"}},
			{
				// new code and timeout: in place, the same function
				Config:           cfg(zip2, "30s"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(res, plancheck.ResourceActionUpdate)}},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttrWith(res, "function_arn", func(v string) error {
						if v != fnARN {
							return fmt.Errorf("the function was replaced: %s, was %s", v, fnARN)
						}
						return nil
					}),
					func(*terraform.State) error {
						fn := lambdaOf()
						if aws.ToInt32(fn.Configuration.Timeout) != 30 || aws.ToString(fn.Configuration.CodeSha256) != awsclient.CodeSHA256(append(b, 0)) {
							return fmt.Errorf("the emulator's function has timeout %d and code %s", aws.ToInt32(fn.Configuration.Timeout), aws.ToString(fn.Configuration.CodeSha256))
						}
						return nil
					},
				),
			},
			{
				// a definition changed by hand is put back in place
				PreConfig: func() {
					if _, err := e.SFN().UpdateStateMachine(context.Background(), &sfn.UpdateStateMachineInput{StateMachineArn: aws.String(awsclient.StateMachineARN(fnARN, name)),
						Definition: aws.String(`{"StartAt":"A","States":{"A":{"Type":"Succeed"}}}`)}); err != nil {
						t.Fatal(err)
					}
				},
				Config:           cfg(zip2, "30s"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(res, plancheck.ResourceActionUpdate)}},
				Check: func(*terraform.State) error {
					sm, err := e.SFN().DescribeStateMachine(context.Background(), &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(awsclient.StateMachineARN(fnARN, name))})
					if err != nil || aws.ToString(sm.Definition) != orchestrator.Definition(fnARN) {
						return fmt.Errorf("the definition was not put back: %v", err)
					}
					return nil
				},
			},
			{Config: cfg(zip2, "30s"), PlanOnly: true},
		},
	})
}

// A detached canary held after its first step: the orchestrator watches
// the hold (the execution runs, polling) until an apply with a new
// rollout.promote tags the subject; then it goes on to the target.
//
// Its notices reach SNS and EventBridge from both drivers (started from the
// apply; the rest from the orchestrator, which the rendered policy allows).
func TestAccDetached_holdPromote(t *testing.T) {
	t.Parallel()
	d := newDetachedEnv(t)
	topic, viaSNS := d.e.SNSNotices("detached-notices")
	bus, viaEvents := d.e.EventNotices("detached-bus")
	var st *terraform.State
	ro := func(promote string) string {
		return fmt.Sprintf(`rollout = {
    strategy      = "canary"
    steps         = [{ percent = 10, pause = "hold" }, { percent = 50, pause = "1s" }, { percent = 100 }]
    poll_interval = "1s"
    hold_timeout  = "2m"
    execution     = { mode = "detached", orchestrator = rollout_orchestrator.main.arn }
    notifications = { sns_topic_arn = %q, event_bus_name = %q }
    %s
  }`, topic, bus, promote)
	}
	const want = "started@0 held@1 promoted@1 step_completed@2 step_completed@3 succeeded@3"
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: d.e.RealFactories(),
		Steps: []resource.TestStep{
			{Config: d.config(100, 0, ""), Check: d.serves(d.from)},
			{
				Config: d.config(0, 100, ro("")),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("rollout_traffic_split.test", "last_rollout.status", "running"),
					d.serves(d.step(10)), captureState(&st),
				),
			},
			{
				// Held: three polls later it still serves step 1.
				PreConfig:    func() { time.Sleep(3 * time.Second) }, // the orchestrator polls in real time
				RefreshState: true,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("rollout_traffic_split.test", "last_rollout.status", "running"),
					resource.TestCheckResourceAttr("rollout_traffic_split.test", "last_rollout.step_reached", "1"),
					resource.TestMatchResourceAttr("rollout_traffic_split.test", "last_rollout.reason", regexp.MustCompile(`held after step 1 of 3`)),
					d.serves(d.step(10)),
				),
			},
			{
				Config: d.config(0, 100, ro(`promote = "ok"`)),
				Check: func(*terraform.State) error {
					d.waitEnded(t, st)
					if got, want := fmt.Sprint(d.splits()), fmt.Sprint([]weights.Split{d.from, d.step(10), d.step(50), d.to}); got != want {
						return fmt.Errorf("the listener was written %s, want %s; orchestrator:\n%s", got, want, d.proc.Logs())
					}
					return nil
				},
			},
			{
				RefreshState: true,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("rollout_traffic_split.test", "last_rollout.status", "succeeded"),
					func(*terraform.State) error {
						for _, q := range []*acctest.NoticeQueue{viaSNS, viaEvents} {
							got, _ := q.Read(6)
							if k := strings.Join(acctest.Kinds(got), " "); k != want {
								return fmt.Errorf("the notices were %s, want %s", k, want)
							}
							for _, n := range got[1:] {
								if n.Execution == "" || n.Execution != got[0].Execution {
									return fmt.Errorf("a notice does not name the execution %q: %+v", got[0].Execution, n)
								}
							}
						}
						d.e.CheckPolicyCovers()
						return nil
					},
				),
			},
		},
	})
}
