package provider_test

import (
	"context"
	"fmt"
	"regexp"
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
	"github.com/rolloutdev/terraform-provider-rollout/internal/emulator"
	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

// The tests of issue "No surprise traffic moves": each proves one finding
// against the emulator, on both engines.

// act is a plan check that does something between plan and apply (the
// engine applies the saved plan), as an on-call engineer would.
type act func()

func (a act) CheckPlan(context.Context, plancheck.CheckPlanRequest, *plancheck.CheckPlanResponse) {
	a()
}

// Finding 1: a saved plan applied after an out-of-band shift is refused with
// nothing written; the shift stays, and the next plan starts from it.
func TestAccNoSurprise_staleSavedPlan(t *testing.T) {
	t.Parallel()
	f := newRolloutFixture(t)
	oncall := weights.Split{{ARN: f.blue, Weight: 70}, {ARN: f.green, Weight: 30}}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: f.e.Factories(),
		Steps: []resource.TestStep{
			f.start(),
			{
				Config: f.config(0, 100, canarySteps),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					act(func() { f.e.SetWeights(f.ref, oncall) }),
				}},
				ExpectError: errRE(`Listener Changed Since Plan(.|\n)*served lb-[0-9]+-tg0=100, lb-[0-9]+-tg1=0; it serves lb-[0-9]+-tg0=70, lb-[0-9]+-tg1=30 now(.|\n)*Nothing was moved`),
			},
			{
				// The refreshed plan starts from the on-call weights; a config
				// at them plans nothing, and nothing else was ever written.
				Config: f.config(70, 30, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("rollout_traffic_split.test", plancheck.ResourceActionNoop),
				}},
				Check: resource.ComposeTestCheckFunc(checkEmulator(f.e, f.ref, oncall), f.wrote(oncall)),
			},
		},
	})
}

// A saved plan applied after a person rewrote the listener in another form
// of the same traffic (green's zero-weight entry dropped) is not refused:
// nothing a person changed is served differently. The rollout starts from
// the form found; a change that moves no traffic (stickiness alone) is
// written over it. A real change is still refused (staleSavedPlan).
func TestAccNoSurprise_sameTrafficOtherForm(t *testing.T) {
	t.Parallel()
	f := newRolloutFixture(t)
	blueOnly := weights.Split{{ARN: f.blue, Weight: 100}}
	sticky := func(c string) string {
		return strings.Replace(c, "target_groups", "stickiness = { enabled = true, duration_seconds = 60 }\n  target_groups", 1)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: f.e.Factories(),
		Steps: []resource.TestStep{
			f.start(),
			{
				Config: sticky(f.config(100, 0, "")),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					act(func() { f.e.SetWeights(f.ref, blueOnly) }),
				}},
				Check: resource.ComposeTestCheckFunc(checkEmulator(f.e, f.ref, f.original), f.wrote(blueOnly, f.original), func(*terraform.State) error {
					if fwd, _ := f.e.Forward(f.ref); !fwd.Stickiness.Enabled || fwd.Stickiness.DurationSeconds != 60 {
						return fmt.Errorf("the listener's stickiness is %+v, want enabled for 60 s", fwd.Stickiness)
					}
					return nil
				}),
			},
			{
				Config: sticky(f.config(0, 100, canarySteps)),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					act(func() { f.e.SetWeights(f.ref, blueOnly) }),
				}},
				Check: resource.ComposeTestCheckFunc(checkEmulator(f.e, f.ref, f.final), f.wrote(blueOnly, f.original, blueOnly, f.step1, f.step2, f.final)),
			},
		},
	})
}

// Finding 9: after a rollback, the same change is refused by the next apply
// with nothing moved, until rollout.attempt changes; then it runs.
func TestAccNoSurprise_rolledBackNotRetried(t *testing.T) {
	acctest.OneEngine(t)
	t.Parallel()
	f := newRolloutFixture(t)
	alarm := f.e.Alarm("api-5xx")
	var once sync.Once
	f.e.Clock.OnSleep(func(context.Context, time.Duration, time.Time) {
		if len(f.splits()) == 3 {
			once.Do(func() { f.e.SetAlarmState(alarm, cwtypes.StateValueAlarm) })
		}
	})
	ro := canarySteps + fmt.Sprintf("\n    gates = { alarms = [%q] }", alarm)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: f.e.Factories(),
		Steps: []resource.TestStep{
			f.start(),
			{Config: f.config(0, 100, ro), ExpectError: errRE(`Rollout Rolled Back(.|\n)*apply refuses it until rollout.attempt changes`)},
			{
				// An unrelated apply later: the alarm is quiet again, but the
				// candidate does not ship silently.
				PreConfig:   func() { f.e.SetAlarmState(alarm, cwtypes.StateValueOk) },
				Config:      f.config(0, 100, ro),
				ExpectError: errRE(`Rolled-Back Change Not Retried(.|\n)*rollout.attempt is still unset(.|\n)*Nothing was moved`),
			},
			{
				Config: f.config(0, 100, ro+"\n    attempt = \"2\""),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("rollout_traffic_split.test", tfjsonpath.New("last_rollout").AtMapKey("status"), knownvalue.StringExact("succeeded")),
					statecheck.ExpectKnownValue("rollout_traffic_split.test", tfjsonpath.New("last_rollout").AtMapKey("attempt"), knownvalue.StringExact("2")),
				},
				Check: resource.ComposeTestCheckFunc(checkEmulator(f.e, f.ref, f.final),
					f.wrote(f.step1, f.step2, f.original, f.step1, f.step2, f.final)),
			},
		},
	})
}

// Findings 4 and 5: a canary under 30 % injected faults on ELB and
// CloudWatch (throttling, 503s, resets, answers lost after the write took
// effect, slow answers) ends with every step applied in order, and the
// state and the emulator agree.
func TestAccNoSurprise_canaryUnderFaults(t *testing.T) {
	acctest.OneEngine(t)
	t.Parallel()
	f := newRolloutFixture(t)
	alarm := f.e.Alarm("api-5xx")
	f.e.RegisterTargets(f.green, 2)
	ro := canarySteps + fmt.Sprintf("\n    gates = { health = { timeout = \"2m\" }, alarms = [%q] }", alarm)
	// The SDK retries each request up to 8 times (the default) with its own
	// real back-off; the rollout's reads are tried again at the next poll.
	cfg := strings.Replace(f.config(0, 100, ro), "max_retries = 2", "max_retries = 8", 1)
	faults := emulator.Faults{Rate: 0.3, Seed: 11, SlowBy: 50 * time.Millisecond}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: f.e.Factories(),
		Steps: []resource.TestStep{
			f.start(),
			{
				PreConfig: func() {
					f.e.Emu.InjectFaults("elasticloadbalancing", faults)
					f.e.Emu.InjectFaults("monitoring", faults)
				},
				Config: cfg,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("rollout_traffic_split.test", tfjsonpath.New("last_rollout").AtMapKey("status"), knownvalue.StringExact("succeeded")),
					statecheck.ExpectKnownValue("rollout_traffic_split.test", tfjsonpath.New("percentages").AtMapKey(f.green), knownvalue.Float64Exact(100)),
				},
				Check: func(s *terraform.State) error {
					n := 0
					for _, v := range f.e.Emu.Faulted() {
						n += v
					}
					f.e.Emu.InjectFaults("elasticloadbalancing", emulator.Faults{})
					f.e.Emu.InjectFaults("monitoring", emulator.Faults{})
					if n < 5 {
						return fmt.Errorf("only %d faults were injected", n)
					}
					// A write whose answer was lost took effect and is seen
					// again when retried: the distinct splits are the steps.
					var distinct []weights.Split
					for _, w := range f.splits() {
						if len(distinct) == 0 || !distinct[len(distinct)-1].Equal(w) {
							distinct = append(distinct, w)
						}
					}
					want := []weights.Split{f.original, f.step1, f.step2, f.final}
					if fmt.Sprint(distinct) != fmt.Sprint(want) {
						return fmt.Errorf("the listener went through %v, want %v", distinct, want)
					}
					return checkEmulator(f.e, f.ref, f.final)(s)
				},
			},
		},
	})
}

// Finding 2: rollout_alarm does not take over an alarm it did not create.
func TestAccNoSurprise_alarmExists(t *testing.T) {
	t.Parallel()
	f := newRolloutFixture(t)
	existing := f.e.Alarm("taken")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: f.e.Factories(),
		Steps: []resource.TestStep{{
			Config: f.e.ProviderConfig() + fmt.Sprintf(`
resource "rollout_alarm" "test" {
  name              = %q
  preset            = "target_5xx_count"
  load_balancer_arn = %q
  target_group_arn  = %q
}
`, existing, f.lb, f.green),
			ExpectError: errRE(`Alarm Already Exists(.|\n)*Nothing was changed(.|\n)*import it`),
		}},
	})
	names := f.e.AlarmNames(existing)
	if len(names) != 1 {
		t.Fatalf("alarms named %s after the refused create: %v", existing, names)
	}
	if n := f.e.Emu.Count("monitoring:PutMetricAlarm"); n != 1 {
		t.Fatalf("%d PutMetricAlarm requests, want only the fixture's", n)
	}
}

// Finding 2: a second owner of one listener is refused at create, can
// adopt it deliberately, and then the first owner's next apply is refused:
// neither overwrites the other unseen.
func TestAccNoSurprise_twoOwners(t *testing.T) {
	acctest.OneEngine(t)
	t.Parallel()
	f := newRolloutFixture(t)
	other := func(adopt string) string {
		return fmt.Sprintf(`
resource "rollout_traffic_split" "other" {
  listener_arn  = %q
  target_groups = [{ arn = %q, weight = 80 }, { arn = %q, weight = 20 }]
  %s
}
`, f.ref.ListenerARN, f.blue, f.green, adopt)
	}
	adopted := weights.Split{{ARN: f.blue, Weight: 80}, {ARN: f.green, Weight: 20}}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: f.e.Factories(),
		Steps: []resource.TestStep{
			f.start(),
			{
				Config:      f.config(100, 0, "") + other(""),
				ExpectError: errRE(`Listener Has Another Owner(.|\n)*owned by another rollout resource \(tag rollout:owner = "rollout_traffic_split/[0-9a-f]+"\)(.|\n)*Nothing was moved`),
			},
			{
				// The first owner's plan shows the adopter's weights as drift.
				Config:             f.config(100, 0, "") + other("adopt = true"),
				ExpectNonEmptyPlan: true,
				Check:              resource.ComposeTestCheckFunc(checkEmulator(f.e, f.ref, adopted), f.wrote(adopted)),
			},
			{
				// The first owner's next change: refused, the adopter's
				// weights stay.
				Config:      f.config(60, 40, "") + other("adopt = true"),
				ExpectError: errRE(`Listener Has Another Owner(.|\n)*was taken over by another rollout resource`),
			},
			{
				Config:   f.config(60, 40, "") + other("adopt = true"),
				PlanOnly: true, ExpectNonEmptyPlan: true,
				Check: resource.ComposeTestCheckFunc(checkEmulator(f.e, f.ref, adopted), f.wrote(adopted)),
			},
		},
	})
}

// Finding 7: a create whose rollout rolled back is tainted, and the next
// apply replaces it. That replacement moves no traffic by surprise: the
// destroy does not restore (no ungated jump), and the new create does not
// run the rolled-back change again until rollout.attempt changes.
func TestAccNoSurprise_failedCreateReplaced(t *testing.T) {
	t.Parallel()
	f := newRolloutFixture(t)
	alarm := f.e.Alarm("api-5xx")
	var once sync.Once
	f.e.Clock.OnSleep(func(context.Context, time.Duration, time.Time) {
		if len(f.splits()) == 2 { // step 2 of the create: its pause
			once.Do(func() { f.e.SetAlarmState(alarm, cwtypes.StateValueAlarm) })
		}
	})
	ro := fmt.Sprintf(`strategy = "canary"
    steps = [{ percent = 10, pause = "5m" }, { percent = 50, pause = "10m" }, { percent = 100 }]
    gates = { alarms = [%q] }`, alarm)
	cfg := func(extra string) string {
		return strings.Replace(f.config(0, 100, ro+extra), "rollout = {", "on_destroy = \"restore\"\n  rollout = {", 1)
	}
	listenerOnly := weights.Split{{ARN: f.blue, Weight: 1}}
	writes := func(want ...weights.Split) resource.TestCheckFunc {
		return func(*terraform.State) error {
			if got := f.splits(); fmt.Sprint(got) != fmt.Sprint(want) {
				return fmt.Errorf("the emulator received %v, want %v", got, want)
			}
			return nil
		}
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: f.e.Factories(),
		Steps: []resource.TestStep{
			{Config: cfg(""), ExpectError: errRE(`Rollout Rolled Back`)},
			{
				PreConfig: func() { f.e.SetAlarmState(alarm, cwtypes.StateValueOk) },
				Config:    cfg(""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("rollout_traffic_split.test", plancheck.ResourceActionDestroyBeforeCreate),
				}},
				ExpectError: errRE(`Rolled-Back Change Not Retried(.|\n)*Nothing was moved`),
			},
			{
				// Nothing moved in that apply; a deliberate attempt runs.
				Config: cfg("\n    attempt = \"2\""),
				Check: resource.ComposeTestCheckFunc(
					writes(f.step1, f.step2, listenerOnly, f.step1, f.step2, f.final),
					checkEmulator(f.e, f.ref, f.final)),
			},
		},
	})
}

// Finding 3: on a listener that authenticates with OIDC, every shift keeps
// the authenticate-oidc action (AWS never returns its secret, and refuses it
// written back without UseExistingClientSecret, as the emulator front does).
func TestAccNoSurprise_oidcListener(t *testing.T) {
	acctest.OneEngine(t)
	t.Parallel()
	f := newRolloutFixture(t)
	f.e.AuthenticateOIDC(f.ref.ListenerARN, f.blue, "https://idp.example.com")
	keepsOIDC := func(*terraform.State) error {
		_, acts := f.e.Forward(f.ref)
		if len(acts) != 2 || acts[0].AuthenticateOidcConfig == nil || *acts[0].AuthenticateOidcConfig.Issuer != "https://idp.example.com" {
			return fmt.Errorf("the listener's actions are %+v, want the authenticate-oidc action kept first", acts)
		}
		return nil
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: f.e.Factories(),
		Steps: []resource.TestStep{
			{Config: f.config(100, 0, ""), Check: resource.ComposeTestCheckFunc(checkEmulator(f.e, f.ref, f.original), keepsOIDC)},
			{Config: f.config(0, 100, canarySteps), Check: resource.ComposeTestCheckFunc(checkEmulator(f.e, f.ref, f.final), keepsOIDC, func(*terraform.State) error {
				// After the fixture's own write: the create, then each step.
				got, want := f.splits()[1:], []weights.Split{f.original, f.step1, f.step2, f.final}
				if fmt.Sprint(got) != fmt.Sprint(want) {
					return fmt.Errorf("the provider wrote %v, want %v", got, want)
				}
				return nil
			})},
		},
	})
}

// Finding 5 (nothing lost): the engine SIGKILLed in the middle of a canary
// saves nothing, but the provider stops where it is, the next plan shows the
// real weights, and the next apply converges from them with the record of
// the replaced action kept. Not parallel: it kills this test binary's
// engine processes (a separate process, so the wait for the provider's
// cancel is in real time).
func TestAccNoSurprise_engineKilled(t *testing.T) {
	f := newRolloutFixture(t)
	signalEngineInSecondPause(t, f, syscall.SIGKILL)
	cfg := f.config(0, 100, canarySteps)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: f.e.Factories(),
		Steps: []resource.TestStep{
			f.start(),
			{Config: cfg, ExpectError: errRE(`killed`)},
			{
				// The refresh finds step 2; the plan goes on from there.
				Config: cfg, PlanOnly: true, ExpectNonEmptyPlan: true,
				ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPostRefresh: []plancheck.PlanCheck{
					plancheck.ExpectKnownValue("rollout_traffic_split.test", tfjsonpath.New("planned_steps").AtSliceIndex(0).AtMapKey("target_groups").AtSliceIndex(0).AtMapKey("weight"), knownvalue.Int64Exact(450)),
				}},
			},
			{
				Config: cfg,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("rollout_traffic_split.test", tfjsonpath.New("last_rollout").AtMapKey("status"), knownvalue.StringExact("succeeded")),
					statecheck.ExpectKnownValue("rollout_traffic_split.test", tfjsonpath.New("replaced_actions"), knownvalue.StringRegexp(regexp.MustCompile(regexp.QuoteMeta(f.blue)))),
				},
				Check: func(s *terraform.State) error {
					got := f.splits()
					if len(got) < 4 || !got[1].Equal(f.step1) || !got[2].Equal(f.step2) || !got[len(got)-1].Equal(f.final) {
						return fmt.Errorf("the emulator received %v", got)
					}
					return checkEmulator(f.e, f.ref, f.final)(s)
				},
			},
		},
	})
}

// Finding 1, blue/green: a saved flip applied after an out-of-band shift is
// refused before anything is written (target groups included), and the
// shift stays.
func TestAccNoSurprise_staleSavedFlip(t *testing.T) {
	t.Parallel()
	f := newBGFixture(t)
	var oncall weights.Split
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: f.e.Factories(),
		Steps: []resource.TestStep{
			{Config: f.config("blue", ""), Check: f.serves(100, 0, "green")},
			{
				Config: f.config("green", fmt.Sprintf(bgCanary, "")),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					act(func() {
						oncall = f.split(60, 40)
						f.e.SetWeights(awsclient.Ref{ListenerARN: f.listener}, oncall)
					}),
				}},
				ExpectError: errRE(`Listener Changed Since Plan(.|\n)*=100, .*=0; it serves .*=60, .*=40 now(.|\n)*Nothing was moved`),
			},
			{
				// Before anything else runs: the on-call weights are still
				// there, and nothing but the create and that shift was written.
				PreConfig: func() {
					if got, _ := f.e.Forward(awsclient.Ref{ListenerARN: f.listener}); !got.Split.Equal(oncall) {
						t.Errorf("the listener forwards %v after the refused flip, want the on-call %v", got.Split, oncall)
					}
					if n := len(f.main()); n != 2 {
						t.Errorf("%d forward actions were written to the listener, want 2: %v", n, f.main())
					}
				},
				Config: f.config("green", fmt.Sprintf(bgCanary, "")), PlanOnly: true, ExpectNonEmptyPlan: true,
			},
		},
	})
}
