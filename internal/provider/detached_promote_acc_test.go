package provider_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/rolloutdev/terraform-provider-rollout/internal/acctest"
	"github.com/rolloutdev/terraform-provider-rollout/internal/awsclient"
	"github.com/rolloutdev/terraform-provider-rollout/internal/orchestrator"
	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
	"github.com/rolloutdev/terraform-provider-rollout/internal/subjects"
	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

// Issue 27: promoting detached rollouts, a start Step Functions refuses,
// and a subject another owner takes. Each run holds where the test looks
// (pause = "hold"), whatever the speed of the machine beside the
// orchestrator's real clock.

// leaseOf reads a subject's lease tags at the emulator.
func leaseOf(t *testing.T, e *acctest.Env, s subjects.Ref) awsclient.Lease {
	t.Helper()
	c := &awsclient.Client{ELB: e.ELB, SSM: e.SSM()}
	l, err := subjects.Lease(c, s).ReadLease(context.Background())
	if err != nil {
		t.Fatalf("reading the lease: %v", err)
	}
	return l
}

// runTagIs checks the subject's rollout:run tag: one of want. A promote
// tag that lets the run go to its end may already be the end's.
func runTagIs(t *testing.T, e *acctest.Env, s subjects.Ref, want ...func() string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		got := leaseOf(t, e, s).Run
		var ws []string
		for _, w := range want {
			if got == w() {
				return nil
			}
			ws = append(ws, fmt.Sprintf("%q", w()))
		}
		return fmt.Errorf("the run tag is %q, want %s", got, strings.Join(ws, " or "))
	}
}

// endedTag is the run tag of an execution that succeeded.
func endedTag(exec func() string) func() string {
	return func() string { return orchestrator.EndedTag(rollout.Succeeded, exec()) }
}

// executionOf is the name of the execution a resource's state names.
func executionOf(st **terraform.State, address string) func() string {
	return func() string {
		arn := (*st).RootModule().Resources[address].Primary.Attributes["last_rollout.execution"]
		return arn[strings.LastIndex(arn, ":")+1:]
	}
}

// Issue 27 (3): a token promotes exactly one hold. A canary held after
// steps 1 and 2 is promoted with "1": the state records the token, so an
// unrelated change later (on_destroy), applied while it is held at step 2,
// neither promotes that hold nor is refused; a new token ("2") does.
// Also: a change the orchestrator would overwrite (stickiness, written
// with every step) is refused at plan, not at apply.
func TestAccDetached_tokenPromotesOneHold(t *testing.T) {
	t.Parallel()
	d := newDetachedEnv(t)
	ro := func(promote, extra string) string {
		return fmt.Sprintf(`rollout = {
    strategy      = "canary"
    steps         = [{ percent = 10, pause = "hold" }, { percent = 50, pause = "hold" }, { percent = 100 }]
    poll_interval = "1s"
    hold_timeout  = "5m"
    execution     = { mode = "detached", orchestrator = rollout_orchestrator.main.arn }
    %s
  }
  %s`, promote, extra)
	}
	subj := subjects.Ref{Listener: &d.ref}
	var st *terraform.State
	exec := executionOf(&st, "rollout_traffic_split.test")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: d.e.RealFactories(),
		Steps: []resource.TestStep{
			{Config: d.config(100, 0, "")},
			{
				Config: d.config(0, 100, ro("", "")),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("rollout_traffic_split.test", "last_rollout.status", "running"),
					d.serves(d.step(10)), captureState(&st),
				),
			},
			{
				// the orchestrator writes the stickiness with every step
				Config:      d.config(0, 100, ro("", `stickiness = { enabled = true, duration_seconds = 300 }`)),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`Detached Rollout Running`),
			},
			{
				Config: d.config(0, 100, ro(`promote = "1"`, "")),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("rollout_traffic_split.test", "last_rollout.status", "running"),
					resource.TestCheckResourceAttr("rollout_traffic_split.test", "last_rollout.promote", "1"),
					runTagIs(t, d.e, subj, func() string { return orchestrator.PromoteTag(exec(), 1) }),
				),
			},
			{
				// held again, at step 2
				PreConfig: func() {
					end := time.Now().Add(time.Minute)
					for fwd, _ := d.e.Forward(d.ref); !fwd.Split.Equal(d.step(50)); fwd, _ = d.e.Forward(d.ref) {
						if time.Now().After(end) {
							t.Fatalf("the run did not reach step 2 in a minute; orchestrator:\n%s", d.proc.Logs())
						}
						time.Sleep(100 * time.Millisecond) // another process: real time
					}
				},
				RefreshState: true,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("rollout_traffic_split.test", "last_rollout.status", "running"),
					resource.TestCheckResourceAttr("rollout_traffic_split.test", "last_rollout.step_reached", "2"),
				),
			},
			{
				// an unrelated change, with the token that promoted step 1:
				// applied, and nothing sent to the run
				Config: d.config(0, 100, ro(`promote = "1"`, `on_destroy = "restore"`)),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("rollout_traffic_split.test", "on_destroy", "restore"),
					resource.TestCheckResourceAttr("rollout_traffic_split.test", "last_rollout.status", "running"),
					resource.TestCheckResourceAttr("rollout_traffic_split.test", "last_rollout.promote", "1"),
					runTagIs(t, d.e, subj, func() string { return orchestrator.PromoteTag(exec(), 1) }),
					d.serves(d.step(50)),
				),
			},
			{
				// removing rollout.promote is no new token: nothing is sent
				Config: d.config(0, 100, ro("", `on_destroy = "restore"`)),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("rollout_traffic_split.test", "last_rollout.status", "running"),
					resource.TestCheckResourceAttr("rollout_traffic_split.test", "last_rollout.promote", "1"),
					runTagIs(t, d.e, subj, func() string { return orchestrator.PromoteTag(exec(), 1) }),
					d.serves(d.step(50)),
				),
			},
			{
				Config: d.config(0, 100, ro(`promote = "2"`, `on_destroy = "restore"`)),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("rollout_traffic_split.test", "last_rollout.promote", "2"),
					runTagIs(t, d.e, subj, func() string { return orchestrator.PromoteTag(exec(), 2) }, endedTag(exec)),
				),
			},
			{
				PreConfig:    func() { d.waitEnded(t, st) },
				RefreshState: true,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("rollout_traffic_split.test", "last_rollout.status", "succeeded"),
					d.serves(d.to),
					func(*terraform.State) error {
						if got, want := fmt.Sprint(d.splits()), fmt.Sprint([]weights.Split{d.from, d.step(10), d.step(50), d.to}); got != want {
							return fmt.Errorf("the listener was written %s, want %s", got, want)
						}
						return nil
					},
				),
			},
			{Config: d.config(0, 100, ro(`promote = "2"`, `on_destroy = "restore"`)), PlanOnly: true},
		},
	})
}

// Issue 27 (7): promoting a detached blue/green flip is planned as it is
// applied: the flip goes on (the promote tag), and the state keeps its
// steps, its previous color and its history.
func TestAccDetached_blueGreenPromote(t *testing.T) {
	t.Parallel()
	f := newBGFixture(t)
	orch := acctest.Name("orchestrator")
	f.e.RunOrchestrator(orch)
	cfg := func(active, promote string) string {
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
    steps         = [{ percent = 10, pause = "hold" }, { percent = 100 }]
    poll_interval = "1s"
    hold_timeout  = "10m"
    execution     = { mode = "detached", orchestrator = rollout_orchestrator.main.arn }
    %s
  }
}
`, f.listener, f.prefix, f.e.VPC, active, promote) + orchestratorBlock(orch, acctest.OrchestratorZip(t))
	}
	ref := awsclient.Ref{ListenerARN: f.listener}
	subj := subjects.Ref{Listener: &ref}
	var st *terraform.State
	exec := executionOf(&st, bgRes)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: f.e.RealFactories(),
		Steps: []resource.TestStep{
			{Config: cfg("blue", "")},
			{
				Config: cfg("green", ""),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(bgRes, "last_rollout.status", "running"),
					resource.TestCheckResourceAttr(bgRes, "history.0.status", "running"),
					func(*terraform.State) error { return checkEmulator(f.e, ref, f.split(900, 100))(nil) },
					captureState(&st),
				),
			},
			{
				Config: cfg("green", `promote = "go"`),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(bgRes, "last_rollout.status", "running"),
					resource.TestCheckResourceAttr(bgRes, "last_rollout.promote", "go"),
					resource.TestCheckResourceAttr(bgRes, "active", "green"),
					resource.TestCheckResourceAttr(bgRes, "previous_active", "blue"),
					resource.TestCheckResourceAttr(bgRes, "planned_steps.#", "2"),
					resource.TestCheckResourceAttr(bgRes, "history.#", "1"),
					resource.TestCheckResourceAttr(bgRes, "history.0.status", "running"),
					runTagIs(t, f.e, subj, func() string { return orchestrator.PromoteTag(exec(), 1) }, endedTag(exec)),
				),
			},
			{
				PreConfig:    func() { waitEndedAt(t, f.e, st, bgRes) },
				RefreshState: true,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(bgRes, "last_rollout.status", "succeeded"),
					resource.TestCheckResourceAttr(bgRes, "history.0.status", "succeeded"),
					func(*terraform.State) error { return checkEmulator(f.e, ref, f.split(0, 100))(nil) },
				),
			},
			{Config: cfg("green", `promote = "go"`), PlanOnly: true},
		},
	})
}

// Issue 27 (8): promoting a detached flag ramp is planned as it is
// applied: the state keeps the percentage it goes to and its steps. A
// change to the rest of the flag while the ramp runs is refused at plan
// (the orchestrator writes the document), not at apply.
func TestAccDetached_featureFlagPromote(t *testing.T) {
	t.Parallel()
	e := acctest.NewEnv(t)
	orch := acctest.Name("orchestrator")
	e.RunOrchestrator(orch)
	key := "promote-" + acctest.Name("f")
	name := "/rollout/flags/" + key
	cfg := func(pct int, promote, extra string) string {
		return flagConfig(e, key, fmt.Sprintf(`rollout_percentage = %d
  %s
  rollout = {
    strategy      = "canary"
    steps         = [{ percent = 10, pause = "hold" }, { percent = 50, pause = "hold" }, { percent = 100 }]
    poll_interval = "1s"
    hold_timeout  = "5m"
    execution     = { mode = "detached", orchestrator = rollout_orchestrator.main.arn }
    %s
  }`, pct, extra, promote)) + orchestratorBlock(orch, acctest.OrchestratorZip(t))
	}
	subj := subjects.Ref{Flag: &subjects.FlagRef{Name: name}}
	var st *terraform.State
	exec := executionOf(&st, flagRes)
	writes := func(want string) resource.TestCheckFunc {
		return func(*terraform.State) error {
			if got := fmt.Sprint(flagWrites(e, name)); got != want {
				return fmt.Errorf("the flag was written as %s, want %s", got, want)
			}
			return nil
		}
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: e.RealFactories(),
		Steps: []resource.TestStep{
			{Config: cfg(0, "", "")},
			{
				Config: cfg(50, "", ""),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(flagRes, "last_rollout.status", "running"),
					writes("[0 5]"), captureState(&st),
				),
			},
			{
				Config: cfg(50, `promote = "go"`, ""),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(flagRes, "last_rollout.status", "running"),
					resource.TestCheckResourceAttr(flagRes, "last_rollout.promote", "go"),
					resource.TestCheckResourceAttr(flagRes, "rollout_percentage", "50"),
					resource.TestCheckResourceAttr(flagRes, "planned_steps.#", "3"),
					runTagIs(t, e, subj, func() string { return orchestrator.PromoteTag(exec(), 1) }),
				),
			},
			{
				// held again, at step 2 (25 %)
				PreConfig: func() {
					end := time.Now().Add(time.Minute)
					for fmt.Sprint(flagWrites(e, name)) != "[0 5 25]" {
						if time.Now().After(end) {
							t.Fatalf("the ramp did not reach step 2 in a minute: written %v", flagWrites(e, name))
						}
						time.Sleep(100 * time.Millisecond) // another process: real time
					}
				},
				RefreshState: true,
				Check:        resource.TestCheckResourceAttr(flagRes, "last_rollout.step_reached", "2"),
			},
			{
				Config:      cfg(50, `promote = "go"`, `ticket = "OPS-1"`),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`Flag Changed While Running`),
			},
			{
				// the tier goes with a write, and the orchestrator makes them
				Config:      cfg(50, `promote = "go"`, `tier = "Advanced"`),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`Flag Changed While Running(.|\n)*tier`),
			},
			{
				Config: cfg(50, `promote = "again"`, ""),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(flagRes, "last_rollout.promote", "again"),
					resource.TestCheckResourceAttr(flagRes, "rollout_percentage", "50"),
					runTagIs(t, e, subj, func() string { return orchestrator.PromoteTag(exec(), 2) }, endedTag(exec)),
				),
			},
			{
				PreConfig:    func() { waitEndedAt(t, e, st, flagRes) },
				RefreshState: true,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(flagRes, "last_rollout.status", "succeeded"),
					resource.TestCheckResourceAttr(flagRes, "rollout_percentage", "50"),
					writes("[0 5 25 50]"),
				),
			},
			{Config: cfg(50, `promote = "again"`, ""), PlanOnly: true},
		},
	})
}

// Issue 27 (4c): a start Step Functions refuses publishes nothing, and the
// subject's run and status tags say again what they said: no reader sees
// a run that never started.
func TestAccDetached_refusedStartPublishesNothing(t *testing.T) {
	t.Parallel()
	e := acctest.NewEnv(t)
	f := e.NewFixture(2)
	ref := awsclient.Ref{ListenerARN: f.Listener}
	subj := subjects.Ref{Listener: &ref}
	topic, viaSNS := e.SNSNotices("refused")
	bus, viaEvents := e.EventNotices("refused-bus")
	cfg := func(blue, green int, ro string) string {
		return e.ProviderConfig() + fmt.Sprintf(`
resource "rollout_traffic_split" "test" {
  listener_arn  = %q
  target_groups = [{ arn = %q, weight = %d }, { arn = %q, weight = %d }]
  %s
}
`, f.Listener, f.TGs[0], blue, f.TGs[1], green, ro)
	}
	detached := fmt.Sprintf(`rollout = {
    strategy      = "canary"
    steps         = [{ percent = 10, pause = "hold" }, { percent = 100 }]
    poll_interval = "1s"
    hold_timeout  = "5m"
    execution     = { mode = "detached", orchestrator = "arn:aws:states:%s:000000000000:stateMachine:no-such-orchestrator" }
    notifications = { sns_topic_arn = %q, event_bus_name = %q }
  }`, acctest.Region, topic, bus)
	// What an earlier run left on the listener.
	const prevRun, prevStatus = "succeeded rollout-earlier", "succeeded 2/2 2026-01-01T00:00:00Z rollout-earlier"
	lease := awsclient.ListenerLease(&awsclient.Client{ELB: e.ELB}, ref)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: e.RealFactories(),
		Steps: []resource.TestStep{
			{Config: cfg(100, 0, "")},
			{
				PreConfig: func() {
					ctx := context.Background()
					if err := lease.SetRun(ctx, prevRun); err != nil {
						t.Fatal(err)
					}
					if err := lease.SetStatus(ctx, prevStatus); err != nil {
						t.Fatal(err)
					}
				},
				Config:      cfg(0, 100, detached),
				ExpectError: regexp.MustCompile(`Cannot Start Detached Rollout`),
			},
			{
				PreConfig: func() {
					if l := leaseOf(t, e, subj); l.Run != prevRun || l.Status != prevStatus {
						t.Fatalf("after the refused start the run tag is %q and the status tag %q; want them as they were (%q, %q)", l.Run, l.Status, prevRun, prevStatus)
					}
					for _, q := range []*acctest.NoticeQueue{viaSNS, viaEvents} {
						if got, _ := q.Read(1); len(got) != 0 {
							t.Fatalf("a run that never started published %s", strings.Join(acctest.Kinds(got), " "))
						}
					}
				},
				Config:   cfg(100, 0, ""),
				PlanOnly: true,
				Check:    checkEmulator(e, ref, weights.Split{{ARN: f.TGs[0], Weight: 100}, {ARN: f.TGs[1], Weight: 0}}),
			},
		},
	})
}

// Issue 27 (6): another owner taking the subject during a detached run
// keeps what it wrote in the run and status tags (its own run, an abort
// or a promote): the orchestrator stops and writes nothing there.
func TestAccDetached_takenSubjectKeepsItsTags(t *testing.T) {
	t.Parallel()
	d := newDetachedEnv(t)
	subj := subjects.Ref{Listener: &d.ref}
	lease := awsclient.ListenerLease(&awsclient.Client{ELB: d.e.ELB}, d.ref)
	const owner, theirRun, theirStatus = "rollout_traffic_split/another", "abort rollout-another", "started 0/2 2026-01-01T00:00:00Z rollout-another"
	var st *terraform.State
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: d.e.RealFactories(),
		Steps: []resource.TestStep{
			{Config: d.config(100, 0, "")},
			{Config: d.config(0, 100, heldCanary("2s", "", "")), Check: captureState(&st)},
			{
				PreConfig: func() {
					ctx := context.Background()
					for _, set := range []func() error{
						func() error { return lease.SetOwner(ctx, owner) },
						func() error { return lease.SetRun(ctx, theirRun) },
						func() error { return lease.SetStatus(ctx, theirStatus) },
					} {
						if err := set(); err != nil {
							t.Fatal(err)
						}
					}
					d.waitEnded(t, st)
				},
				RefreshState:       true,
				ExpectNonEmptyPlan: true,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("rollout_traffic_split.test", "last_rollout.status", "failed"),
					resource.TestCheckResourceAttr("rollout_traffic_split.test", "last_rollout.gate", "changed_during_rollout"),
					d.serves(d.step(10)),
					func(*terraform.State) error {
						if l := leaseOf(t, d.e, subj); l.Owner != owner || l.Run != theirRun || l.Status != theirStatus {
							return fmt.Errorf("the lease is %+v; want the new owner's tags as it wrote them", l)
						}
						return nil
					},
				),
			},
		},
	})
}
