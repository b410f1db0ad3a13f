package provider_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/rolloutdev/terraform-provider-rollout/internal/acctest"
	"github.com/rolloutdev/terraform-provider-rollout/internal/awsclient"
	"github.com/rolloutdev/terraform-provider-rollout/internal/emulator"
	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

// The conformance rows of holds, a refused first write and another owner,
// in the detached driver: the applies only start, promote and refresh the
// run, and the orchestrator's calls run it between them. Each row reads the
// notices the run published (SNS, at the emulator's front) and the status
// tag it left, as the apply rows do. The runs hold where a step looks.
//
// The state machine is played in-process (acctest.States, each call the
// real orchestrator.Handle) on the env's fake clock, with the provider on
// the same clock: every call happens at a point the row chooses, so the
// rows are deterministic and take no real time. The end-to-end path (the
// orchestrator process deployed by rollout_orchestrator, kumo's Step
// Functions in real time) is proven in detached_acc_test.go.

// detachedSubj is a kit's subject with the orchestrator's state machine
// beside it.
type detachedSubj struct {
	*accSubj
	t *testing.T
	// states makes the calls one at a time, whichever goroutine asks.
	states *acctest.States
}

// cfg is the subject at its target, run detached: a canary that holds
// after its first two steps, with notices to topic; extra goes in the
// rollout block, attrs in the resource.
func (s *detachedSubj) cfg(topic, extra, attrs string) string {
	ro := fmt.Sprintf(`rollout = {
    strategy      = "canary"
    steps         = [{ percent = 10, pause = "hold" }, { percent = 50, pause = "hold" }, { percent = 100 }]
    poll_interval = "1s"
    hold_timeout  = "5m"
    gates         = { alarms = [%q] }%s
    execution     = { mode = "detached", orchestrator = %q }
    %s
  }`, s.alarm, notifications(topic, ""), s.states.Machine, extra)
	return s.fit(s.hcl(true, ro, attrs))
}

// fit is a configuration of the kit's made one that can run detached.
func (s *detachedSubj) fit(cfg string) string {
	if s.detachable == nil {
		return cfg
	}
	return s.detachable(cfg)
}

// base is the subject where it starts.
func (s *detachedSubj) base() string { return s.fit(s.hcl(false, "", "")) }

// tick makes the orchestrator's calls due now, as Step Functions makes
// them while an apply waits: the fake clock's hook, so that the provider's
// own waits (for a run's first step) see the run go on.
func (s *detachedSubj) tick(context.Context, time.Duration, time.Time) {
	if err := s.states.Tick(context.Background()); err != nil {
		s.t.Errorf("an orchestrator call failed: %v", err)
	}
}

// maxRun bounds, on the fake clock, how long the calls of one wait may
// take: the rows' runs hold or end well before (hold_timeout is 5m).
const maxRun = 4 * time.Minute

// runUntil makes the orchestrator's calls, as the fake clock advances,
// until cond holds or the run has ended; it fails the row when cond does
// not hold then.
func (s *detachedSubj) runUntil(what string, cond func() bool) {
	s.t.Helper()
	stop := func() bool { return cond() || len(s.states.Running()) == 0 }
	if err := s.states.Run(context.Background(), s.e.Clock.Now().Add(maxRun), stop); err != nil {
		s.t.Fatalf("an orchestrator call failed: %v", err)
	}
	if !cond() {
		l, _ := s.lease.ReadLease(context.Background())
		s.t.Fatalf("the orchestrator's calls went on for %s without %s: the subject serves %s, its status tag says %q, %d executions run",
			maxRun, what, s.live().Short(), l.Status, len(s.states.Running()))
	}
}

// orchestratorCalls lets the orchestrator make n more whole calls.
func (s *detachedSubj) orchestratorCalls(n int) {
	s.t.Helper()
	base := s.states.Calls
	s.runUntil(fmt.Sprintf("%d calls of the orchestrator", n), func() bool { return s.states.Calls-base >= n })
}

// ended makes the orchestrator's calls until the execution a resource's
// state names has ended.
func (s *detachedSubj) ended(st *terraform.State) {
	s.t.Helper()
	arn := st.RootModule().Resources[s.address].Primary.Attributes["last_rollout.execution"]
	if arn == "" {
		s.t.Fatalf("no execution in the state of %s", s.address)
	}
	s.runUntil("the end of "+arn, func() bool { return !slices.Contains(s.states.Running(), arn) })
}

// heldAt says whether the status tag says the run is held after step n.
func (s *detachedSubj) heldAt(n int) func() bool {
	return func() bool {
		l, err := s.lease.ReadLease(context.Background())
		st, ok := awsclient.ParseStatus(l.Status)
		return err == nil && ok && st.Type == rollout.NoticeHeld && st.Step == n
	}
}

type detachedCase struct {
	name  string
	steps func(t *testing.T, s *detachedSubj) []resource.TestStep
	// oneEngine: what it proves is the provider's and the orchestrator's
	// alone (no plan or saved plan of the engine's in it): OpenTofu only.
	oneEngine bool
}

var detachedCases = []detachedCase{
	{name: "two holds promoted, a token reused", steps: func(t *testing.T, s *detachedSubj) []resource.TestStep {
		topic, q := s.snsNotices(t)
		mark, none := s.noWritesSince(t)
		var first, second weights.Split
		var st *terraform.State
		reused := `timeouts = { update = "3h" }`
		return []resource.TestStep{
			{Config: s.base()},
			{Config: s.cfg(topic, "", ""), Check: captureState(&st)},
			{
				PreConfig: func() {
					s.runUntil("the hold after step 1", s.heldAt(1))
					first = s.live()
					if first.Equal(s.from()) || first.Equal(s.to()) {
						t.Errorf("held at step 1, the subject serves %s", first.Short())
					}
				},
				Config: s.cfg(topic, `promote = "a"`, ""),
				Check:  resource.TestCheckResourceAttr(s.address, "last_rollout.promote", "a"),
			},
			{
				// The token "a" promoted the first hold; an unrelated
				// change that keeps it promotes nothing.
				PreConfig: func() {
					s.runUntil("the hold after step 2", s.heldAt(2))
					second = s.live()
					if second.Equal(first) || second.Equal(s.to()) {
						t.Errorf("promoted once, the subject serves %s (held at step 1: %s)", second.Short(), first.Short())
					}
					mark()
				},
				Config: s.cfg(topic, `promote = "a"`, reused),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(s.address, "last_rollout.status", "running"),
					resource.TestCheckResourceAttr(s.address, "last_rollout.promote", "a"),
				),
			},
			{
				PreConfig: func() {
					// A promote would have moved it at the orchestrator's
					// next call: let whole calls go by.
					s.orchestratorCalls(10)
					none()
					s.expectLive(t, func() weights.Split { return second })()
					s.expectStatus(t, string(rollout.NoticeHeld))
				},
				Config: s.cfg(topic, `promote = "b"`, reused),
				Check:  resource.TestCheckResourceAttr(s.address, "last_rollout.promote", "b"),
			},
			{
				PreConfig:    func() { s.ended(st) },
				RefreshState: true,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(s.address, "last_rollout.status", "succeeded"),
					func(*terraform.State) error {
						if got := s.live(); !got.Equal(s.to()) {
							return fmt.Errorf("promoted twice, the subject serves %s, want %s", got.Short(), s.to().Short())
						}
						s.expectStatus(t, "succeeded")
						ns := s.readRun(t, q)
						if c := countTypes(ns); c["held"] != 2 || c["promoted"] != 2 || c["succeeded"] != 1 {
							t.Errorf("the notices were %v: want two held, two promoted, one succeeded", acctest.Kinds(ns))
						}
						return nil
					},
				),
			},
		}
	}},
	{name: "first write refused: one end notice, final status", oneEngine: true, steps: func(t *testing.T, s *detachedSubj) []resource.TestStep {
		topic, q := s.snsNotices(t)
		return []resource.TestStep{
			{Config: s.base()},
			{
				PreConfig:   func() { s.e.Emu.FaultNext(s.writeAction, emulator.Denied, 1) },
				Config:      s.cfg(topic, "", ""),
				ExpectError: errRE(`Nothing was (moved|written)|(AccessDenied|not authorized)`),
			},
			{
				PreConfig: func() {
					s.e.Emu.ClearFaults()
					s.expectLive(t, s.from)()
					ns := s.readRun(t, q)
					if got := strings.Join(typesOf(ns), " "); got != "started failed" {
						t.Errorf("the notices were %v, want started, failed", acctest.Kinds(ns))
					}
					s.expectStatus(t, "failed")
				},
				RefreshState:       true,
				ExpectNonEmptyPlan: true,
				Check:              resource.TestCheckResourceAttr(s.address, "last_rollout.status", "failed"),
			},
		}
	}},
	{name: "another owner takes it while held: nothing more written, its tags kept", oneEngine: true, steps: func(t *testing.T, s *detachedSubj) []resource.TestStep {
		topic, q := s.snsNotices(t)
		mark, none := s.noWritesSince(t)
		var step1 weights.Split
		var st *terraform.State
		const owner, theirRun, theirStatus = "rollout_traffic_split/someone-else", "abort rollout-someone-else", "started 0/2 2026-01-01T00:00:00Z rollout-someone-else"
		return []resource.TestStep{
			{Config: s.base()},
			{Config: s.cfg(topic, "", ""), Check: captureState(&st)},
			{
				PreConfig: func() {
					s.runUntil("the hold after step 1", s.heldAt(1))
					step1 = s.live()
					mark()
					ctx := context.Background()
					had, err := s.lease.ReadLease(ctx)
					if err == nil {
						err = s.lease.TakeLease(ctx, owner, had)
					}
					if err == nil {
						err = s.lease.SetRun(ctx, theirRun)
					}
					if err == nil {
						err = s.lease.SetStatus(ctx, theirStatus)
					}
					if err != nil {
						t.Fatalf("another owner takes the subject: %v", err)
					}
					s.ended(st)
				},
				RefreshState:       true,
				ExpectNonEmptyPlan: true,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(s.address, "last_rollout.status", "failed"),
					resource.TestCheckResourceAttr(s.address, "last_rollout.gate", "changed_during_rollout"),
					func(*terraform.State) error {
						// It writes nothing more: no rollback over the new owner,
						// and its tags stay the new owner's.
						none()
						s.expectLive(t, func() weights.Split { return step1 })()
						if l, err := s.lease.ReadLease(context.Background()); err != nil || l.Owner != owner || l.Run != theirRun || l.Status != theirStatus {
							return fmt.Errorf("the lease is %+v (%v); want the new owner's tags as it wrote them", l, err)
						}
						ns := s.readRun(t, q)
						if len(ns) == 0 || ns[len(ns)-1].Type != rollout.NoticeChanged {
							t.Errorf("the notices were %v, want the run to end with changed_during_rollout", acctest.Kinds(ns))
						}
						return nil
					},
				),
			},
		}
	}},
}

// TestAccConformanceDetached runs the detached rows on every kit that can
// run detached.
func TestAccConformanceDetached(t *testing.T) {
	for _, c := range detachedCases {
		for _, k := range accKits {
			t.Run(c.name+"/"+k.name, func(t *testing.T) {
				if c.oneEngine {
					acctest.OneEngine(t)
				}
				t.Parallel()
				a := k.make(t)
				if a.noDetached != "" {
					t.Skip(a.noDetached)
				}
				s := &detachedSubj{accSubj: a, t: t, states: a.e.NewStates(acctest.Name("orchestrator"))}
				s.e.Clock.OnSleep(s.tick)
				resource.Test(t, resource.TestCase{ProtoV6ProviderFactories: s.e.Factories(), Steps: c.steps(t, s)})
			})
		}
	}
}
