package provider_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/rolloutdev/terraform-provider-rollout/internal/acctest"
	"github.com/rolloutdev/terraform-provider-rollout/internal/emulator"
	"github.com/rolloutdev/terraform-provider-rollout/internal/orchestrator"
	"github.com/rolloutdev/terraform-provider-rollout/internal/subjects"
)

// Issue 27: a start whose answer is lost. The provider retries a request
// max_retries (2) times: losing the answer three times makes StartExecution
// fail after the execution was created.
const lostStarts = 3

// A start whose answers are all lost made the execution: the apply looks
// it up, goes on as after a start (step 1 confirmed, the started notice
// sent), and the tags keep saying it runs.
func TestAccDetached_lostStartAnswer(t *testing.T) {
	t.Parallel()
	d := newDetachedEnv(t)
	subj := subjects.Ref{Listener: &d.ref}
	topic, q := d.e.SNSNotices("lost-start")
	var st *terraform.State
	exec := executionOf(&st, "rollout_traffic_split.test")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: d.e.RealFactories(),
		Steps: []resource.TestStep{
			{Config: d.config(100, 0, "")},
			{
				PreConfig: func() { d.e.Emu.FaultNext("states:StartExecution", emulator.LostAnswer, lostStarts) },
				Config:    d.config(0, 100, heldCanary("2s", "", notifications(topic, ""))),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("rollout_traffic_split.test", "last_rollout.status", "running"),
					resource.TestCheckResourceAttrSet("rollout_traffic_split.test", "last_rollout.execution"),
					d.serves(d.step(10)), captureState(&st),
					runTagIs(t, d.e, subj, func() string { return orchestrator.RunningTag(exec()) }),
					func(*terraform.State) error {
						if n := d.e.Emu.Faulted()[emulator.LostAnswer]; n != lostStarts {
							return fmt.Errorf("%d answers lost, want %d", n, lostStarts)
						}
						if got, _ := q.Read(2); len(got) < 2 || got[0].Type != "started" || got[0].Seq != 1 {
							return fmt.Errorf("the run's first notices were %v, want started (seq 1) then the orchestrator's", acctest.Kinds(got))
						}
						return nil
					},
				),
			},
		},
	})
}

// A start whose answers are lost and whose execution cannot be read may
// or may not have started: the apply says so, the tags keep saying it
// runs, and the state records it as running so that the next refresh
// finds out (here: it did start). The run is announced once all the
// same: its first call sends the started notice the apply built.
func TestAccDetached_lostStartUnknown(t *testing.T) {
	t.Parallel()
	d := newDetachedEnv(t)
	subj := subjects.Ref{Listener: &d.ref}
	name := func() string { return "" }
	topic, q := d.e.SNSNotices("unknown-start")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: d.e.RealFactories(),
		Steps: []resource.TestStep{
			{Config: d.config(100, 0, "")},
			{
				PreConfig: func() {
					d.e.Emu.FaultNext("states:StartExecution", emulator.LostAnswer, lostStarts)
					d.e.Emu.FaultNext("states:DescribeExecution", emulator.ServerError, 3)
				},
				Config:      d.config(0, 100, heldCanary("2s", "", notifications(topic, ""))),
				ExpectError: regexp.MustCompile(`Detached Rollout Start Unknown`),
			},
			{
				PreConfig: func() {
					l := leaseOf(t, d.e, subj)
					if !strings.HasPrefix(l.Run, "running rollout-") {
						t.Fatalf("after a start that may have been made, the run tag is %q; want it to say the rollout runs", l.Run)
					}
					run := strings.TrimPrefix(l.Run, "running ")
					name = func() string { return run }
				},
				RefreshState: true,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("rollout_traffic_split.test", "last_rollout.status", "running"),
					resource.TestCheckResourceAttr("rollout_traffic_split.test", "last_rollout.step_reached", "1"),
					func(s *terraform.State) error {
						if got := s.RootModule().Resources["rollout_traffic_split.test"].Primary.Attributes["last_rollout.execution"]; !strings.HasSuffix(got, ":"+name()) {
							return fmt.Errorf("the state names the execution %q, want the one the tags name (%s)", got, name())
						}
						return nil
					},
					d.serves(d.step(10)),
					func(*terraform.State) error {
						got, _ := q.Read(2)
						started := 0
						for _, n := range got {
							if n.Type == "started" {
								started++
								if n.Seq != 1 {
									return fmt.Errorf("the started notice has seq %d, want 1", n.Seq)
								}
							}
						}
						if started != 1 {
							return fmt.Errorf("the run's notices were %v; want exactly one started", acctest.Kinds(got))
						}
						return nil
					},
				),
			},
		},
	})
}

// A start that failed without taking effect, with its execution unread:
// the same unknown start; the next refresh finds no execution and records
// the rollout as failed to start, with nothing moved.
func TestAccDetached_unknownStartNotMade(t *testing.T) {
	t.Parallel()
	d := newDetachedEnv(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: d.e.RealFactories(),
		Steps: []resource.TestStep{
			{Config: d.config(100, 0, "")},
			{
				PreConfig: func() {
					d.e.Emu.FaultNext("states:StartExecution", emulator.Reset, lostStarts)
					d.e.Emu.FaultNext("states:DescribeExecution", emulator.ServerError, 3)
				},
				Config:      d.config(0, 100, heldCanary("2s", "", "")),
				ExpectError: regexp.MustCompile(`Detached Rollout Start Unknown`),
			},
			{
				RefreshState:       true,
				ExpectNonEmptyPlan: true,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("rollout_traffic_split.test", "last_rollout.status", "failed"),
					resource.TestCheckResourceAttr("rollout_traffic_split.test", "last_rollout.gate", "orchestrator"),
					d.serves(d.from),
				),
			},
		},
	})
}
