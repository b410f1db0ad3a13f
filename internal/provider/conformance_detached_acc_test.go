package provider_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
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

// The schedules of the rows: two holds, or timed pauses (a run that goes
// on by itself between the applies).
const (
	detachedHolds  = `[{ percent = 10, pause = "hold" }, { percent = 50, pause = "hold" }, { percent = 100 }]`
	detachedPauses = `[{ percent = 10, pause = "30s" }, { percent = 50, pause = "30s" }, { percent = 100 }]`
)

// cfg is the subject at its target, run detached: a canary that holds
// after its first two steps, with notices to topic; extra goes in the
// rollout block, attrs in the resource.
func (s *detachedSubj) cfg(topic, extra, attrs string) string {
	return s.run(true, detachedHolds, "5m", topic, extra, attrs)
}

// run is the subject at its target (or back where it started), run
// detached on steps with hold_timeout, notices to topic.
func (s *detachedSubj) run(atTo bool, steps, holdTimeout, topic, extra, attrs string) string {
	ht := ""
	if strings.Contains(steps, `"hold"`) {
		ht = fmt.Sprintf("\n    hold_timeout  = %q", holdTimeout)
	}
	ro := fmt.Sprintf(`rollout = {
    strategy      = "canary"
    steps         = %s
    poll_interval = "1s"%s
    gates         = { alarms = [%q] }%s
    execution     = { mode = "detached", orchestrator = %q }
    %s
  }`, steps, ht, s.alarm, notifications(topic, ""), s.states.Machine, extra)
	return s.fit(s.hcl(atTo, ro, attrs))
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
	s.runFor(maxRun, what, cond)
}

// runFor is runUntil with its own bound on the fake clock.
func (s *detachedSubj) runFor(bound time.Duration, what string, cond func() bool) {
	s.t.Helper()
	stop := func() bool { return cond() || len(s.states.Running()) == 0 }
	if err := s.states.Run(context.Background(), s.e.Clock.Now().Add(bound), stop); err != nil {
		s.t.Fatalf("an orchestrator call failed: %v", err)
	}
	if !cond() {
		l, _ := s.lease.ReadLease(context.Background())
		s.t.Fatalf("the orchestrator's calls went on for %s without %s: the subject serves %s, its status tag says %q, %d executions run",
			bound, what, s.live().Short(), l.Status, len(s.states.Running()))
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
	s.endedWithin(maxRun, st)
}

// endedWithin is ended with its own bound on the fake clock.
func (s *detachedSubj) endedWithin(bound time.Duration, st *terraform.State) {
	s.t.Helper()
	arn := st.RootModule().Resources[s.address].Primary.Attributes["last_rollout.execution"]
	if arn == "" {
		s.t.Fatalf("no execution in the state of %s", s.address)
	}
	s.runFor(bound, "the end of "+arn, func() bool { return !slices.Contains(s.states.Running(), arn) })
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
	name string
	// steps builds the row's steps; nil with na, why the row is n/a.
	steps func(t *testing.T, s *detachedSubj) []resource.TestStep
	na    string
	// serial rows signal the engine processes: not run in parallel.
	serial bool
	// observe: the row hands the subject back (manage = "observe"); n/a on
	// a subject that cannot.
	observe bool
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
func TestAccConformanceDetached(t *testing.T) { runDetached(t, false) }

// TestAccConformanceDetachedInterrupted runs the rows that signal the
// engine, one at a time: a signal goes to every engine this test binary
// runs.
func TestAccConformanceDetachedInterrupted(t *testing.T) { runDetached(t, true) }

func runDetached(t *testing.T, serial bool) {
	for _, c := range detachedCases {
		if c.serial != serial {
			continue
		}
		for _, k := range accKits {
			t.Run(c.name+"/"+k.name, func(t *testing.T) {
				if c.oneEngine {
					acctest.OneEngine(t)
				}
				if !serial {
					t.Parallel()
				}
				a := k.make(t)
				if a.noDetached != "" {
					t.Skip(a.noDetached)
				}
				if c.na != "" {
					t.Skip(c.na)
				}
				if c.observe && a.observe == nil {
					t.Skip(noObserve)
				}
				s := &detachedSubj{accSubj: a, t: t, states: a.e.NewStates(acctest.Name("orchestrator"))}
				s.e.Clock.OnSleep(s.tick)
				resource.Test(t, resource.TestCase{ProtoV6ProviderFactories: s.e.Factories(), Steps: c.steps(t, s)})
			})
		}
	}
}

// The rows of issue 27 on the detached driver: every way a run ends early
// (a hold timing out, a gate that cannot be read beside one that can, a
// start refused; Ctrl-C is n/a), and the hand-back to observe while the
// run goes on and while it is held.
func init() {
	detachedCases = append(detachedCases,
		detachedCase{name: "a hold timing out: the orchestrator rolls back", oneEngine: true, steps: func(t *testing.T, s *detachedSubj) []resource.TestStep {
			return detachedHoldTimesOut(t, s, "rollback")
		}},
		detachedCase{name: "a hold timing out, hold_timeout_action promote: the orchestrator goes on", oneEngine: true, steps: func(t *testing.T, s *detachedSubj) []resource.TestStep {
			return detachedHoldTimesOut(t, s, "promote")
		}},
		detachedCase{name: "a gate unreadable beside one that reads", oneEngine: true, steps: func(t *testing.T, s *detachedSubj) []resource.TestStep {
			// From step 1 on, the alarms cannot be read by the orchestrator;
			// whatever else the subject's gates read reads fine. The unread
			// gate rolls the run back.
			topic, q := s.snsNotices(t)
			var st *terraform.State
			return []resource.TestStep{
				{Config: s.base()},
				{Config: s.run(true, detachedPauses, "", topic, "", ""), Check: captureState(&st)},
				{
					PreConfig: func() {
						s.e.Emu.FaultNext("monitoring:DescribeAlarms", emulator.ServerError, 100000)
						s.ended(st)
						s.e.Emu.ClearFaults()
						s.expectLive(t, s.from)()
						if ns := s.readRun(t, q); len(ns) > 0 && ns[len(ns)-1].Type != rollout.NoticeRolledBack {
							t.Errorf("the notices were %v, want the run to end rolled_back", acctest.Kinds(ns))
						}
						s.expectStatus(t, string(rollout.NoticeRolledBack))
					},
					RefreshState:       true,
					ExpectNonEmptyPlan: true,
					Check:              resource.TestCheckResourceAttr(s.address, "last_rollout.status", "rolled_back"),
				},
			}
		}},
		detachedCase{name: "start refused: no notice, the tags as they were", oneEngine: true, steps: func(t *testing.T, s *detachedSubj) []resource.TestStep {
			// StartExecution is refused (AccessDenied): no run started, so
			// nothing is published, and the run and status tags say again
			// what they said before the apply.
			topic, q := s.snsNotices(t)
			mark, none := s.noWritesSince(t)
			var had awsclient.Lease
			return []resource.TestStep{
				{Config: s.base()},
				{
					PreConfig: func() {
						var err error
						if had, err = s.lease.ReadLease(context.Background()); err != nil {
							t.Fatalf("reading the tags: %v", err)
						}
						mark()
						s.e.Emu.FaultNext("states:StartExecution", emulator.Denied, 3)
					},
					Config:      s.cfg(topic, "", ""),
					ExpectError: errRE(`Cannot Start Detached Rollout(.|\n)*Nothing was moved and no notice was sent`),
				},
				{
					PreConfig: func() {
						s.e.Emu.ClearFaults()
						none()
						s.expectLive(t, s.from)()
						if n := s.e.Emu.Faulted()[emulator.Denied]; n == 0 {
							t.Errorf("StartExecution was not refused: %v", s.e.Emu.Faulted())
						}
						if r := s.states.Running(); len(r) != 0 {
							t.Errorf("executions run: %v", r)
						}
						q.mu.Lock()
						if len(q.ns) != 0 {
							t.Errorf("a run that never started published %v", acctest.Kinds(q.ns))
						}
						q.mu.Unlock()
						if l, err := s.lease.ReadLease(context.Background()); err != nil || l.Run != had.Run || l.Status != had.Status {
							t.Errorf("the tags are %+v (%v), want the run and status tags as before the apply: %+v", l, err, had)
						}
					},
					RefreshState:       true,
					ExpectNonEmptyPlan: true,
				},
			}
		}},
		detachedCase{name: "Ctrl-C while the apply waits for the first step", serial: true, steps: func(t *testing.T, s *detachedSubj) []resource.TestStep {
			// The apply only starts the run and waits for its first step:
			// Ctrl-C then ends the apply, not the run, which goes on in AWS
			// (the orchestrator's calls) and is recorded as running; it
			// ends as the other rows show, with its own end notice.
			topic, q := s.snsNotices(t)
			return []resource.TestStep{
				{Config: s.base()},
				{
					PreConfig: func() {
						var once sync.Once
						s.e.Clock.OnSleep(func(ctx context.Context, d time.Duration, at time.Time) {
							interrupted := false
							once.Do(func() { interrupted = true; interruptEngine(t, ctx) })
							if !interrupted {
								s.tick(ctx, d, at)
							}
						})
					},
					Config:      s.cfg(topic, "", ""),
					ExpectError: errRE(`execution halted|[Ii]nterrupt`),
				},
				{
					PreConfig: func() {
						s.runUntil("the hold after step 1", s.heldAt(1))
						if got := s.live(); got.Equal(s.from()) || got.Equal(s.to()) {
							t.Errorf("after Ctrl-C the run serves %s: want it gone on to step 1", got.Short())
						}
						if r := s.states.Running(); len(r) != 1 {
							t.Errorf("executions running: %v, want the one the apply started", r)
						}
						q.mu.Lock()
						if got := typesOf(q.ns); len(got) == 0 || got[0] != string(rollout.NoticeStarted) || slices.ContainsFunc(q.ns, func(n rollout.Notice) bool { return isEndNotice(n.Type) }) {
							t.Errorf("the notices were %v, want the run started and not ended", got)
						}
						q.mu.Unlock()
						s.expectStatus(t, string(rollout.NoticeHeld))
					},
					RefreshState: true,
					Check: resource.ComposeAggregateTestCheckFunc(
						resource.TestCheckResourceAttr(s.address, "last_rollout.status", "running"),
						resource.TestCheckResourceAttrSet(s.address, "last_rollout.execution"),
					),
				},
			}
		}},
		detachedCase{name: "hand-back to observe while the run goes on", observe: true, steps: func(t *testing.T, s *detachedSubj) []resource.TestStep {
			topic, q := s.snsNotices(t)
			mark, none := s.noWritesSince(t)
			var st *terraform.State
			var owner string
			return []resource.TestStep{
				{Config: s.base()},
				{
					Config: s.run(true, detachedPauses, "", topic, "", ""),
					Check: resource.ComposeAggregateTestCheckFunc(captureState(&st),
						resource.TestCheckResourceAttr(s.address, "last_rollout.status", "running")),
				},
				{
					// Between the orchestrator's calls: refused, nothing written,
					// the subject still owned.
					PreConfig: func() {
						l, _ := s.lease.ReadLease(context.Background())
						owner = l.Owner
						mark()
					},
					Config:      s.observe(),
					ExpectError: errRE(`Detached Rollout Running(.|\n)*running in AWS`),
				},
				{
					PreConfig: func() {
						none()
						if l, err := s.lease.ReadLease(context.Background()); err != nil || l.Owner != owner || owner == "" {
							t.Errorf("after the refused hand-back the owner tag is %q (%v), want %q", l.Owner, err, owner)
						}
						s.ended(st)
						s.expectLive(t, s.to)()
						mark()
					},
					Config: s.observe(),
					Check:  s.handedBack(t, q, none, rollout.NoticeSucceeded, s.to).check,
				},
				s.handedBack(t, q, none, rollout.NoticeSucceeded, s.to).after,
			}
		}},
		detachedCase{name: "hand-back to observe while held", observe: true, steps: func(t *testing.T, s *detachedSubj) []resource.TestStep {
			topic, q := s.snsNotices(t)
			mark, none := s.noWritesSince(t)
			var st *terraform.State
			var held weights.Split
			return []resource.TestStep{
				{Config: s.base()},
				{Config: s.cfg(topic, "", ""), Check: captureState(&st)},
				{
					PreConfig: func() {
						s.runUntil("the hold after step 1", s.heldAt(1))
						held = s.live()
						mark()
					},
					Config:      s.observe(),
					ExpectError: errRE(`Detached Rollout Running(.|\n)*running in AWS`),
				},
				{
					// Still held: the orchestrator's calls go on watching the
					// hold and write nothing; it is rolled back from there.
					PreConfig: func() {
						s.orchestratorCalls(10)
						none()
						s.expectLive(t, func() weights.Split { return held })()
						s.expectStatus(t, string(rollout.NoticeHeld))
					},
					Config: s.run(false, detachedHolds, "5m", topic, "", ""),
				},
				{
					PreConfig: func() {
						s.ended(st)
						s.expectLive(t, s.from)()
						mark()
					},
					Config: s.observe(),
					Check:  s.handedBack(t, q, none, rollout.NoticeRolledBack, s.from).check,
				},
				s.handedBack(t, q, none, rollout.NoticeRolledBack, s.from).after,
			}
		}},
	)
}

// detachedHoldTimesOut is a detached run held at step 1 whose hold_timeout
// (1m) passes with no apply: the orchestrator acts on it itself (rolls
// back, or with hold_timeout_action = "promote" runs the rest of the
// schedule, its second hold timing out the same way). The refresh and the
// next plan or apply say how it ended.
func detachedHoldTimesOut(t *testing.T, s *detachedSubj, action string) []resource.TestStep {
	topic, q := s.snsNotices(t)
	mark, none := s.noWritesSince(t)
	var st *terraform.State
	cfg := s.run(true, detachedHolds, "1m", topic, fmt.Sprintf("hold_timeout_action = %q", action), "")
	// A hold is watched at each poll: 10s makes six calls a hold, not 60.
	cfg = strings.Replace(cfg, `poll_interval = "1s"`, `poll_interval = "10s"`, 1)
	end, want, held, promoted := rollout.NoticeRolledBack, s.from, 1, 0
	if action == "promote" {
		end, want, held, promoted = rollout.NoticeSucceeded, s.to, 2, 2
	}
	refresh := resource.TestStep{
		// No apply: the orchestrator acts on the timeout itself.
		PreConfig: func() {
			s.runUntil("the hold after step 1", s.heldAt(1))
			s.endedWithin(10*time.Minute, st)
			s.expectLive(t, want)()
			ns := s.readRun(t, q)
			if c := countTypes(ns); len(ns) == 0 || ns[len(ns)-1].Type != end || c["held"] != held || c["promoted"] != promoted {
				t.Errorf("the notices were %v, want %d held, %d promoted, ending %s", acctest.Kinds(ns), held, promoted, end)
			}
			s.expectStatus(t, string(end))
			mark()
		},
		RefreshState: true,
		Check:        resource.TestCheckResourceAttr(s.address, "last_rollout.status", string(end)),
	}
	if action == "promote" {
		return []resource.TestStep{
			{Config: s.base()},
			{Config: cfg, Check: captureState(&st)},
			refresh,
			// The next plan shows nothing to do: the run ended at the target.
			{Config: cfg, PlanOnly: true},
			{PreConfig: none, RefreshState: true},
		}
	}
	refresh.ExpectNonEmptyPlan = true
	refresh.Check = resource.ComposeAggregateTestCheckFunc(refresh.Check, resource.TestCheckResourceAttr(s.address, "last_rollout.gate", "hold"))
	return []resource.TestStep{
		{Config: s.base()},
		{Config: cfg, Check: captureState(&st)},
		refresh,
		{
			// The next apply of the same change says how it ended, and
			// moves nothing.
			Config:      cfg,
			ExpectError: errRE(`Rolled-Back Change Not Retried(.|\n)*not promoted within 1m0s(.|\n)*Nothing was moved`),
		},
		checkStep(none),
	}
}
