package provider_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/rolloutdev/terraform-provider-rollout/internal/acctest"
)

// The defects of issue 27 (hold and promote in the apply driver), each
// against the emulator, on both engines.

// twoHolds is a canary held after its first and its second step.
const twoHolds = `strategy = "canary"
    steps = [{ percent = 10, pause = "hold" }, { percent = 50, pause = "hold" }, { percent = 100 }]
    poll_interval = "1m"`

// A held rollout with nothing to promote plans nothing; a saved plan that
// showed nothing, applied after hold_timeout has passed, does what it
// showed: nothing. A plan with another change, applied after the timeout
// passed, is refused before any write (it did not show the rollback), and
// the next plan shows the rollback, which the apply then makes.
func TestAccHold_timeoutAfterPlan(t *testing.T) {
	t.Parallel()
	f := newRolloutFixture(t)
	const addr = "rollout_traffic_split.test"
	ro := holdSteps + "\n    hold_timeout = \"1h\""
	withTimeouts := func(update string) string {
		return splitConfig(f.e, "listener_arn", f.ref.ListenerARN, []string{f.blue, f.green}, []int{0, 100},
			"  rollout = {\n    "+ro+"\n  }\n  timeouts = { update = \""+update+"\" }")
	}
	pass := func(d time.Duration) act {
		return act(func() { _ = f.e.Clock.Sleep(context.Background(), d) })
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: f.e.Factories(),
		Steps: []resource.TestStep{
			f.start(),
			{Config: withTimeouts("1h"), Check: resource.ComposeTestCheckFunc(checkEmulator(f.e, f.ref, f.step1), f.wrote(f.step1))},
			{
				// Still held, not promoted: nothing to apply. 59 minutes
				// pass between the plan and its apply: still nothing.
				Config: withTimeouts("1h"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectEmptyPlan(), pass(59 * time.Minute),
				}},
				Check: resource.ComposeTestCheckFunc(checkEmulator(f.e, f.ref, f.step1), f.wrote(f.step1)),
			},
			{
				// Another change, planned at +59m: the plan shows the hold
				// kept. Applied at +61m, after the timeout: refused, nothing
				// written.
				Config: withTimeouts("2h"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectKnownValue(addr, tfjsonpath.New("last_rollout").AtMapKey("status"), knownvalue.StringExact("held")),
					pass(2 * time.Minute),
				}},
				ExpectError: errRE(`Hold Timed Out Since Plan(.|\n)*hold_timeout(.|\n)*Nothing was moved(.|\n)*plan again`),
			},
			{
				// The next plan shows the rollback, and the apply makes it.
				PreConfig: func() {
					if err := resource.ComposeTestCheckFunc(checkEmulator(f.e, f.ref, f.step1), f.wrote(f.step1))(nil); err != nil {
						t.Errorf("after the refused apply: %v", err)
					}
				},
				Config: withTimeouts("2h"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectUnknownValue(addr, tfjsonpath.New("last_rollout")),
				}},
				ExpectError: errRE(`Rollout Rolled Back(.|\n)*the hold after step 1 was not promoted within 1h0m0s`),
			},
			{
				Config: splitConfig(f.e, "listener_arn", f.ref.ListenerARN, []string{f.blue, f.green}, []int{100, 0},
					"  rollout = {\n    "+ro+"\n  }\n  timeouts = { update = \"2h\" }"),
				ConfigStateChecks: []statecheck.StateCheck{lastIs(addr, "status", knownvalue.StringExact("rolled_back"))},
				Check:             resource.ComposeTestCheckFunc(checkEmulator(f.e, f.ref, f.original), f.wrote(f.step1, f.original)),
			},
		},
	})
}

// A rollout with two holds is promoted twice: held at 10 %, promote "a"
// holds it at 50 %, promote "b" takes it to 100 %. While held at 50 %,
// last_rollout.from is where the rollout started, not its target.
func TestAccHold_promoteTwice(t *testing.T) {
	t.Parallel()
	f := newRolloutFixture(t)
	const addr = "rollout_traffic_split.test"
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: f.e.Factories(),
		Steps: []resource.TestStep{
			f.start(),
			{
				Config: f.config(0, 100, twoHolds),
				Check:  resource.ComposeTestCheckFunc(checkEmulator(f.e, f.ref, f.step1), f.wrote(f.step1)),
			},
			{
				Config: f.config(0, 100, twoHolds+"\n    promote = \"a\""),
				ConfigStateChecks: []statecheck.StateCheck{
					lastIs(addr, "status", knownvalue.StringExact("held")),
					lastIs(addr, "step_reached", knownvalue.Int64Exact(2)),
					lastIs(addr, "serving", knownvalue.StringExact(f.step2.Canonical())),
					lastIs(addr, "from", knownvalue.StringExact(f.original.Canonical())),
				},
				Check: resource.ComposeTestCheckFunc(checkEmulator(f.e, f.ref, f.step2), f.wrote(f.step1, f.step2)),
			},
			{
				Config: f.config(0, 100, twoHolds+"\n    promote = \"b\""),
				ConfigStateChecks: []statecheck.StateCheck{
					lastIs(addr, "status", knownvalue.StringExact("succeeded")),
					lastIs(addr, "step_reached", knownvalue.Int64Exact(3)),
				},
				Check: resource.ComposeTestCheckFunc(checkEmulator(f.e, f.ref, f.final), f.wrote(f.step1, f.step2, f.final)),
			},
		},
	})
}

// Removing rollout.promote while held is no new token: it promotes
// nothing and writes nothing (the null is not a promote), whether the
// token was the baseline set with the start or the one that promoted an
// earlier hold; a new token then goes on.
func TestAccHold_removingPromoteIsNotAPromote(t *testing.T) {
	t.Parallel()
	f := newRolloutFixture(t)
	const addr = "rollout_traffic_split.test"
	held := func(step int) []statecheck.StateCheck {
		return []statecheck.StateCheck{
			lastIs(addr, "status", knownvalue.StringExact("held")),
			lastIs(addr, "step_reached", knownvalue.Int64Exact(int64(step))),
		}
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: f.e.Factories(),
		Steps: []resource.TestStep{
			f.start(),
			{
				Config:            f.config(0, 100, twoHolds+"\n    promote = \"p0\""),
				ConfigStateChecks: held(1),
				Check:             resource.ComposeTestCheckFunc(checkEmulator(f.e, f.ref, f.step1), f.wrote(f.step1)),
			},
			{
				Config: f.config(0, 100, twoHolds),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectKnownValue(addr, tfjsonpath.New("last_rollout").AtMapKey("status"), knownvalue.StringExact("held")),
				}},
				ConfigStateChecks: held(1),
				Check:             resource.ComposeTestCheckFunc(checkEmulator(f.e, f.ref, f.step1), f.wrote(f.step1)),
			},
			{
				Config:            f.config(0, 100, twoHolds+"\n    promote = \"p1\""),
				ConfigStateChecks: held(2),
				Check:             resource.ComposeTestCheckFunc(checkEmulator(f.e, f.ref, f.step2), f.wrote(f.step1, f.step2)),
			},
			{
				Config:            f.config(0, 100, twoHolds),
				ConfigStateChecks: held(2),
				Check:             resource.ComposeTestCheckFunc(checkEmulator(f.e, f.ref, f.step2), f.wrote(f.step1, f.step2)),
			},
			{
				Config:            f.config(0, 100, twoHolds+"\n    promote = \"p2\""),
				ConfigStateChecks: []statecheck.StateCheck{lastIs(addr, "status", knownvalue.StringExact("succeeded"))},
				Check:             resource.ComposeTestCheckFunc(checkEmulator(f.e, f.ref, f.final), f.wrote(f.step1, f.step2, f.final)),
			},
		},
	})
}

// A change of stickiness alone while held is refused at plan (the apply
// would write nothing to the listener, and every plan would show it
// again); with a promote, the apply that moves the listener writes it.
func TestAccHold_stickinessWhileHeld(t *testing.T) {
	t.Parallel()
	f := newRolloutFixture(t)
	sticky := func(promote string) string {
		return strings.Replace(f.config(0, 100, twoHolds+promote), "  rollout = {", "  stickiness = { enabled = true, duration_seconds = 300 }\n  rollout = {", 1)
	}
	stickinessIs := func(on bool) resource.TestCheckFunc {
		return func(*terraform.State) error {
			if fw, _ := f.e.Forward(f.ref); fw.Stickiness.Enabled != on {
				return fmt.Errorf("the listener's stickiness is %+v, want enabled = %v", fw.Stickiness, on)
			}
			return nil
		}
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: f.e.Factories(),
		Steps: []resource.TestStep{
			f.start(),
			{Config: f.config(0, 100, twoHolds), Check: resource.ComposeTestCheckFunc(checkEmulator(f.e, f.ref, f.step1), stickinessIs(false))},
			{
				Config:      sticky(""),
				ExpectError: errRE(`Stickiness Changed While Held(.|\n)*stickiness changes, but a rollout is held after step 1`),
			},
			{
				Config: sticky("\n    promote = \"1\""),
				Check:  resource.ComposeTestCheckFunc(checkEmulator(f.e, f.ref, f.step2), f.wrote(f.step1, f.step2), stickinessIs(true)),
			},
			{Config: sticky("\n    promote = \"1\""), PlanOnly: true},
		},
	})
}

// Removing the rollout block while held is refused at plan, saying so
// (not that the schedule now has one step).
func TestAccHold_rolloutBlockRemoved(t *testing.T) {
	t.Parallel()
	f := newRolloutFixture(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: f.e.Factories(),
		Steps: []resource.TestStep{
			f.start(),
			{Config: f.config(0, 100, twoHolds), Check: checkEmulator(f.e, f.ref, f.step1)},
			{
				Config:      f.config(0, 100, ""),
				ExpectError: errRE(`Rollout Removed While Held(.|\n)*rollout block was removed(.|\n)*Put the rollout block back`),
			},
		},
	})
}

// Planned with -refresh=false, a hold whose timeout has passed is refused
// at every apply; the error says why (the state the plan started from was
// read before the timeout passed) and to plan with refresh.
func TestAccHold_timedOutNoRefresh(t *testing.T) {
	t.Parallel()
	f := newRolloutFixture(t)
	ro := twoHolds + "\n    hold_timeout = \"30m\""
	withTimeouts := splitConfig(f.e, "listener_arn", f.ref.ListenerARN, []string{f.blue, f.green}, []int{0, 100},
		"  rollout = {\n    "+ro+"\n  }\n  timeouts = { update = \"3h\" }")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: f.e.Factories(),
		AdditionalCLIOptions:     &resource.AdditionalCLIOptions{Plan: resource.PlanOptions{NoRefresh: true}},
		Steps: []resource.TestStep{
			f.start(),
			{Config: f.config(0, 100, ro), Check: checkEmulator(f.e, f.ref, f.step1)},
			{
				PreConfig:   func() { _ = f.e.Clock.Sleep(context.Background(), 40*time.Minute) },
				Config:      withTimeouts,
				ExpectError: errRE(`Hold Timed Out Since Plan(.|\n)*-refresh=false(.|\n)*Run plan again with refresh`),
				Check:       checkEmulator(f.e, f.ref, f.step1),
			},
		},
	})
}

// One run, promoted twice, is one run to a reader of its notices: every
// notice carries the started_at that last_rollout records, and seq numbers
// them 1..n with no repeat across the three applies.
func TestAccHold_noticesOneRun(t *testing.T) {
	t.Parallel()
	f := newRolloutFixture(t)
	topic, q := f.e.SNSNotices("held")
	ro := twoHolds + notifications(topic, "")
	const addr = "rollout_traffic_split.test"
	started := ""
	checkNotices := func(want string) resource.TestCheckFunc {
		return func(s *terraform.State) error {
			n := len(strings.Fields(want))
			got, _ := q.Read(n)
			if kinds := strings.Join(acctest.Kinds(got), " "); kinds != want {
				return fmt.Errorf("the notices were %s, want %s", kinds, want)
			}
			for i, x := range got {
				if x.Seq != i+1 {
					return fmt.Errorf("notice %d (%s@%d) has seq %d: one run numbers its notices 1..n (%v)", i+1, x.Type, x.Step, x.Seq, acctest.Kinds(got))
				}
				if at := x.Started.UTC().Format(time.RFC3339Nano); at != started {
					return fmt.Errorf("notice %s#%d says the run started at %s, last_rollout.started_at %s: one run, one started_at", x.Type, x.Seq, at, started)
				}
			}
			return nil
		}
	}
	startedIs := func(s *terraform.State) error {
		rs := s.RootModule().Resources[addr]
		if rs == nil {
			return fmt.Errorf("no %s in state", addr)
		}
		if started == "" {
			started = rs.Primary.Attributes["last_rollout.started_at"]
		}
		if got := rs.Primary.Attributes["last_rollout.started_at"]; got != started || got == "" {
			return fmt.Errorf("last_rollout.started_at is %q, the run started at %q", got, started)
		}
		return nil
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: f.e.Factories(),
		Steps: []resource.TestStep{
			f.start(),
			{
				PreConfig: func() { _ = f.e.Clock.Sleep(context.Background(), 1500*time.Millisecond) },
				Config:    f.config(0, 100, ro),
				Check:     resource.ComposeTestCheckFunc(startedIs, checkNotices("started@0 held@1")),
			},
			{
				PreConfig: func() { _ = f.e.Clock.Sleep(context.Background(), 2*time.Minute) },
				Config:    f.config(0, 100, ro+"\n    promote = \"a\""),
				Check:     resource.ComposeTestCheckFunc(startedIs, checkNotices("started@0 held@1 promoted@1 held@2")),
			},
			{
				PreConfig: func() { _ = f.e.Clock.Sleep(context.Background(), 2*time.Minute) },
				Config:    f.config(0, 100, ro+"\n    promote = \"b\""),
				Check: resource.ComposeTestCheckFunc(startedIs, checkEmulator(f.e, f.ref, f.final),
					checkNotices("started@0 held@1 promoted@1 held@2 promoted@2 step_completed@3 succeeded@3")),
			},
		},
	})
}
