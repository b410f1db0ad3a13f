package provider_test

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"sync/atomic"
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

// releaseFixture is one load balancer per service, each listener (or, for
// a service named in rules, a listener rule) forwarding to its blue target
// group, with a green one beside it.
type releaseFixture struct {
	e        *acctest.Env
	names    []string
	refs     map[string]awsclient.Ref
	blue     map[string]string
	green    map[string]string
	listener map[string]string
}

func newReleaseFixture(t *testing.T, rules map[string]bool, names ...string) *releaseFixture {
	e := acctest.NewEnv(t)
	f := &releaseFixture{e: e, names: names, refs: map[string]awsclient.Ref{}, blue: map[string]string{}, green: map[string]string{}, listener: map[string]string{}}
	for _, n := range names {
		fx := e.NewFixture(2)
		f.blue[n], f.green[n], f.listener[n] = fx.TGs[0], fx.TGs[1], fx.Listener
		f.refs[n] = awsclient.Ref{ListenerARN: fx.Listener}
		if rules[n] {
			f.refs[n] = awsclient.Ref{RuleARN: e.Rule(fx.Listener, fx.TGs[0], 10)}
		}
	}
	return f
}

// config is the release with every service at blue (green false) or green,
// each service's extra lines (its rollout), and the release's own body.
func (f *releaseFixture) config(green bool, extra map[string]string, body string) string {
	var b strings.Builder
	b.WriteString(f.e.ProviderConfig())
	b.WriteString("resource \"rollout_release\" \"test\" {\n  services = {\n")
	for _, n := range f.names {
		bw, gw := 100, 0
		if green {
			bw, gw = 0, 100
		}
		attr, arn := "listener_arn", f.refs[n].ListenerARN
		if f.refs[n].RuleARN != "" {
			attr, arn = "rule_arn", f.refs[n].RuleARN
		}
		fmt.Fprintf(&b, "    %s = {\n      %s = %q\n      target_groups = [{ arn = %q, weight = %d }, { arn = %q, weight = %d }]\n%s\n    }\n",
			n, attr, arn, f.blue[n], bw, f.green[n], gw, extra[n])
	}
	b.WriteString("  }\n" + body + "\n}\n")
	return b.String()
}

func (f *releaseFixture) split(n string, green bool) weights.Split {
	if green {
		return weights.Split{{ARN: f.blue[n], Weight: 0}, {ARN: f.green[n], Weight: 100}}
	}
	return weights.Split{{ARN: f.blue[n], Weight: 100}, {ARN: f.green[n], Weight: 0}}
}

// serves checks that the emulator serves green (or blue) for each service.
func (f *releaseFixture) serves(green map[string]bool) resource.TestCheckFunc {
	return func(*terraform.State) error {
		for _, n := range f.names {
			got, _ := f.e.Forward(f.refs[n])
			if want := f.split(n, green[n]); !got.Split.Equal(want) {
				return fmt.Errorf("the emulator's %s (service %s) forwards %v, want %v", f.refs[n].ID(), n, got.Split, want)
			}
		}
		return nil
	}
}

// status checks each service's status in state.
func status(want map[string]string) []statecheck.StateCheck {
	var out []statecheck.StateCheck
	for n, s := range want {
		out = append(out, statecheck.ExpectKnownValue("rollout_release.test", tfjsonpath.New("services").AtMapKey(n).AtMapKey("status"), knownvalue.StringExact(s)))
	}
	return out
}

// sequence checks which service each forward-action write went to, in order.
func (f *releaseFixture) sequence(writes func() []acctest.Write, want ...string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		var got []string
		for _, w := range writes() {
			for n, r := range f.refs {
				if r.ID() == w.Owner {
					got = append(got, n)
				}
			}
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			return fmt.Errorf("the writes went to %v, want %v", got, want)
		}
		return nil
	}
}

// statusCheck checks each service's status in state, for steps with no
// config (a refresh after a failed apply).
func statusCheck(want map[string]string) resource.TestCheckFunc {
	var fs []resource.TestCheckFunc
	for n, st := range want {
		fs = append(fs, resource.TestCheckResourceAttr("rollout_release.test", "services."+n+".status", st))
	}
	return resource.ComposeAggregateTestCheckFunc(fs...)
}

// ordered checks that every write of each dependency reached the emulator
// before the first write of its dependent, and counts the writes.
func (f *releaseFixture) ordered(writes func() []acctest.Write, total int, edges ...[2]string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		ws := writes()
		if len(ws) != total {
			return fmt.Errorf("the emulator received %d forward-action writes, want %d: %v", len(ws), total, ws)
		}
		first, last := map[string]int{}, map[string]int{}
		for i, w := range ws {
			for n, r := range f.refs {
				if r.ID() == w.Owner {
					if _, ok := first[n]; !ok {
						first[n] = i
					}
					last[n] = i
				}
			}
		}
		for _, e := range edges {
			svc, dep := e[0], e[1]
			if _, ok := first[svc]; !ok {
				return fmt.Errorf("%s was never written", svc)
			}
			if last[dep] > first[svc] {
				return fmt.Errorf("%s was first written at %d, before its dependency %s's last write at %d", svc, first[svc], dep, last[dep])
			}
		}
		return nil
	}
}

const releaseCanary = `      rollout = { strategy = "canary", steps = [{ percent = 10, pause = "1m" }, { percent = 100 }], poll_interval = "1m" }`

const releaseDeps = `  dependencies = [
    { service = "api", depends_on = "auth" },
    { service = "web", depends_on = "api", type = "hard" },
    { service = "worker", depends_on = "api", type = "soft" },
  ]`

// Four services in three waves: the plan shows the waves and each service's
// schedule; the writes reach the emulator in dependency order, and the two
// services of the last wave are in flight at the same time. Then import, and
// the ownership rule.
func TestAccRelease_waves(t *testing.T) {
	t.Parallel()
	f := newReleaseFixture(t, map[string]bool{"worker": true}, "auth", "api", "web", "worker")
	canary := map[string]string{}
	for _, n := range f.names {
		canary[n] = releaseCanary
	}
	waves := knownvalue.ListExact([]knownvalue.Check{
		knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("auth")}),
		knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("api")}),
		knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("web"), knownvalue.StringExact("worker")}),
	})
	var writes func() []acctest.Write
	var met func() bool
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: f.e.Factories(),
		Steps: []resource.TestStep{
			{
				Config: f.config(false, nil, releaseDeps),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectKnownValue("rollout_release.test", tfjsonpath.New("planned_waves"), waves),
				}},
				// Create takes each forward action over (one write each).
				ConfigStateChecks: status(map[string]string{"auth": "succeeded", "api": "succeeded", "web": "succeeded", "worker": "succeeded"}),
				Check:             f.serves(nil),
			},
			{
				PreConfig: func() {
					writes = f.e.RecordWrites()
					met = f.e.Rendezvous(20*time.Second, f.refs["web"].ID(), f.refs["worker"].ID())
				},
				Config: f.config(true, canary, releaseDeps),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectKnownValue("rollout_release.test", tfjsonpath.New("planned_waves"), waves),
					plancheck.ExpectKnownValue("rollout_release.test", tfjsonpath.New("services").AtMapKey("api").AtMapKey("planned_steps"), knownvalue.ListExact([]knownvalue.Check{
						stepValue(1, 10, "1m0s", weights.Split{{ARN: f.blue["api"], Weight: 900}, {ARN: f.green["api"], Weight: 100}}),
						stepValue(2, 100, "0s", f.split("api", true)),
					})),
				}},
				ConfigStateChecks: append(status(map[string]string{"auth": "succeeded", "api": "succeeded", "web": "succeeded", "worker": "succeeded"}),
					statecheck.ExpectKnownValue("rollout_release.test", tfjsonpath.New("last_release").AtMapKey("status"), knownvalue.StringExact("succeeded"))),
				Check: resource.ComposeTestCheckFunc(
					f.serves(map[string]bool{"auth": true, "api": true, "web": true, "worker": true}),
					f.ordered(func() []acctest.Write { return writes() }, 8, [2]string{"api", "auth"}, [2]string{"web", "api"}, [2]string{"worker", "api"}),
					func(*terraform.State) error {
						if !met() {
							return fmt.Errorf("web and worker, of the same wave, were not written at the same time")
						}
						return nil
					},
				),
			},
			{
				ResourceName:  "rollout_release.test",
				ImportState:   true,
				ImportStateId: importID(f),
				ImportStateCheck: func(states []*terraform.InstanceState) error {
					if len(states) != 1 {
						return fmt.Errorf("%d states imported", len(states))
					}
					a := states[0].Attributes
					if a["id"] != importID(f) || a["services.%"] != "4" {
						return fmt.Errorf("imported id %q with %s services", a["id"], a["services.%"])
					}
					for _, n := range f.names {
						if a["services."+n+".target_groups.1.arn"] != f.green[n] || a["services."+n+".target_groups.1.weight"] != "100" || a["services."+n+".owner_tag"] != "" {
							return fmt.Errorf("service %s imported as %v", n, a)
						}
					}
					return nil
				},
			},
			{
				// A split on a listener the release owns is refused.
				Config: f.config(true, canary, releaseDeps) + fmt.Sprintf(`
resource "rollout_traffic_split" "other" {
  listener_arn  = %q
  target_groups = [{ arn = %q, weight = 50 }, { arn = %q, weight = 50 }]
}
`, f.refs["api"].ListenerARN, f.blue["api"], f.green["api"]),
				ExpectError: errRE(`Listener Has Another Owner`),
			},
		},
	})
}

func importID(f *releaseFixture) string {
	names := append([]string(nil), f.names...)
	sort.Strings(names)
	var parts []string
	for _, n := range names {
		parts = append(parts, n+"="+f.refs[n].ID())
	}
	return strings.Join(parts, ",")
}

// alarmOnFirstWrite sets alarm to ALARM at the first sleep after the
// emulator received a write to owner: the gate then fails during that
// service's first pause.
func alarmOnFirstWrite(e *acctest.Env, owner, alarm string) {
	var written, set atomic.Bool
	e.Emu.OnRequest(func(action string, form url.Values) {
		if action == "elasticloadbalancing:ModifyListener" && form.Get("ListenerArn") == owner ||
			action == "elasticloadbalancing:ModifyRule" && form.Get("RuleArn") == owner {
			written.Store(true)
		}
	})
	e.Clock.OnSleep(func(context.Context, time.Duration, time.Time) {
		if written.Load() && !set.Swap(true) {
			e.SetAlarmState(alarm, cwtypes.StateValueAlarm)
		}
	})
}

// A gate failing in wave 2 with on_failure = { stop = false, rollback =
// "failed" }: api rolls back, web (hard) is skipped, worker (soft) still
// goes, auth stays. The state says all of it; the next apply refuses api's
// rolled-back change with nothing moved, and once rollout.attempt changes
// the release converges.
func TestAccRelease_failureGoesOn(t *testing.T) {
	acctest.OneEngine(t)
	t.Parallel()
	f := newReleaseFixture(t, nil, "auth", "api", "web", "worker")
	alarm := f.e.Alarm("api-5xx")
	rollouts := map[string]string{"auth": releaseCanary, "web": releaseCanary, "worker": releaseCanary,
		"api": `      rollout = { strategy = "canary", steps = [{ percent = 10, pause = "1m" }, { percent = 100 }], poll_interval = "1m", gates = { alarms = [` + fmt.Sprintf("%q", alarm) + `] } }`}
	retry := map[string]string{"auth": releaseCanary, "web": releaseCanary, "worker": releaseCanary,
		"api": `      rollout = { strategy = "canary", steps = [{ percent = 10, pause = "1m" }, { percent = 100 }], poll_interval = "1m", attempt = "2", gates = { alarms = [` + fmt.Sprintf("%q", alarm) + `] } }`}
	body := releaseDeps + "\n  on_failure = { stop = false, rollback = \"failed\" }"
	var writes func() []acctest.Write
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: f.e.Factories(),
		Steps: []resource.TestStep{
			{Config: f.config(false, nil, body), Check: f.serves(nil)},
			{
				PreConfig: func() {
					writes = f.e.RecordWrites()
					alarmOnFirstWrite(f.e, f.refs["api"].ID(), alarm)
				},
				Config:      f.config(true, rollouts, body),
				ExpectError: errRE(`Release Failed(.|\n)*api failed`),
			},
			{
				// What the failed apply saved: a config at what each service
				// serves plans nothing for auth and worker.
				Config:   f.config(true, rollouts, body),
				PlanOnly: true, ExpectNonEmptyPlan: true,
				PreConfig: func() {},
				Check: resource.ComposeTestCheckFunc(
					f.serves(map[string]bool{"auth": true, "worker": true}),
					// auth 2, api 2 (10 %, then back), worker 2; web none.
					f.ordered(func() []acctest.Write { return writes() }, 6, [2]string{"api", "auth"}, [2]string{"worker", "api"}),
				),
			},
			{
				RefreshState: true, ExpectNonEmptyPlan: true,
				Check: resource.ComposeTestCheckFunc(
					statusCheck(map[string]string{"auth": "succeeded", "api": "rolled_back", "web": "skipped", "worker": "succeeded"}),
					resource.TestCheckResourceAttr("rollout_release.test", "services.web.reason", "its hard dependency api failed"),
					resource.TestMatchResourceAttr("rollout_release.test", "services.api.reason", errRE(`failed the alarms gate(.|\n)*rolled back \(immediate\)`)),
					resource.TestCheckResourceAttr("rollout_release.test", "services.api.last_rollout.status", "rolled_back"),
					resource.TestCheckResourceAttr("rollout_release.test", "last_release.status", "failed"),
					resource.TestMatchResourceAttr("rollout_release.test", "last_release.summary", errRE(`auth succeeded; api rolled back \(.*\); web skipped \(its hard dependency api failed\); worker succeeded`)),
				),
			},
			{
				// The same config again: api's rolled-back change is refused,
				// nothing moves.
				PreConfig:   func() { f.e.SetAlarmState(alarm, cwtypes.StateValueOk) },
				Config:      f.config(true, rollouts, body),
				ExpectError: errRE(`Rolled-Back Change Not Retried`),
				Check:       f.ordered(func() []acctest.Write { return writes() }, 6),
			},
			{
				Config:            f.config(true, retry, body),
				ConfigStateChecks: status(map[string]string{"auth": "succeeded", "api": "succeeded", "web": "succeeded", "worker": "succeeded"}),
				Check: resource.ComposeTestCheckFunc(
					f.serves(map[string]bool{"auth": true, "api": true, "web": true, "worker": true}),
					f.ordered(func() []acctest.Write { return writes() }, 10, [2]string{"web", "api"}),
				),
			},
			{Config: f.config(true, retry, body), PlanOnly: true},
		},
	})
}

// The same failure with on_failure.rollback = "started" (stop by default):
// the release stops, api rolls back by its gate, auth is rolled back by the
// release, web and worker never start, and the emulator serves what it did
// before the apply.
func TestAccRelease_failureRollsBackStarted(t *testing.T) {
	acctest.OneEngine(t)
	t.Parallel()
	f := newReleaseFixture(t, nil, "auth", "api", "web", "worker")
	alarm := f.e.Alarm("api-5xx")
	rollouts := map[string]string{"auth": releaseCanary, "web": releaseCanary, "worker": releaseCanary,
		"api": `      rollout = { strategy = "canary", steps = [{ percent = 10, pause = "1m" }, { percent = 100 }], poll_interval = "1m", gates = { alarms = [` + fmt.Sprintf("%q", alarm) + `] } }`}
	body := releaseDeps + "\n  on_failure = { rollback = \"started\" }"
	var writes func() []acctest.Write
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: f.e.Factories(),
		Steps: []resource.TestStep{
			{Config: f.config(false, nil, body), Check: f.serves(nil)},
			{
				PreConfig: func() {
					writes = f.e.RecordWrites()
					alarmOnFirstWrite(f.e, f.refs["api"].ID(), alarm)
				},
				Config:      f.config(true, rollouts, body),
				ExpectError: errRE(`Release Failed(.|\n)*api failed`),
			},
			{
				RefreshState: true, ExpectNonEmptyPlan: true,
				Check: resource.ComposeTestCheckFunc(
					statusCheck(map[string]string{"auth": "rolled_back", "api": "rolled_back", "web": "skipped", "worker": "skipped"}),
					f.serves(nil),
					// auth 2 and 1 back, api 2 (10 %, then back); web and worker none.
					f.sequence(func() []acctest.Write { return writes() }, "auth", "auth", "api", "api", "auth"),
					resource.TestMatchResourceAttr("rollout_release.test", "services.auth.reason", errRE(`failed the release gate: the release rolled back the services it moved because api failed`)),
					resource.TestCheckResourceAttr("rollout_release.test", "services.auth.last_rollout.gate", "release"),
					resource.TestMatchResourceAttr("rollout_release.test", "services.worker.reason", errRE(`the release stopped after api failed`)),
				),
			},
		},
	})
}

// validation_required: api waits for auth to pass stabilization; auth's
// alarm fires while it stabilizes, so auth rolls back and api (hard) is
// skipped.
func TestAccRelease_stabilization(t *testing.T) {
	acctest.OneEngine(t)
	t.Parallel()
	f := newReleaseFixture(t, nil, "auth", "api")
	alarm := f.e.Alarm("auth-5xx")
	body := fmt.Sprintf(`  dependencies = [{ service = "api", depends_on = "auth", validation_required = true }]
  stabilization = { duration = "3m", poll_interval = "1m", alarms = [%q] }`, alarm)
	var writes func() []acctest.Write
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: f.e.Factories(),
		Steps: []resource.TestStep{
			{Config: f.config(false, nil, body), Check: f.serves(nil)},
			{
				PreConfig: func() {
					writes = f.e.RecordWrites()
					alarmOnFirstWrite(f.e, f.refs["auth"].ID(), alarm)
				},
				Config:      f.config(true, nil, body),
				ExpectError: errRE(`Rollout Rolled Back(.|\n)*while stabilizing: alarm`),
			},
			{
				RefreshState: true, ExpectNonEmptyPlan: true,
				Check: resource.ComposeTestCheckFunc(
					statusCheck(map[string]string{"auth": "rolled_back", "api": "skipped"}),
					f.serves(nil),
					f.ordered(func() []acctest.Write { return writes() }, 2),
				),
			},
		},
	})
}

// sequential moves one service at a time, in the order of planned_waves,
// and parallel starts a service as soon as its own dependency finished; a
// release whose waits outlast its timeout is refused at plan.
func TestAccRelease_strategies(t *testing.T) {
	acctest.OneEngine(t)
	t.Parallel()
	f := newReleaseFixture(t, nil, "a", "b", "c")
	twoSteps := map[string]string{}
	for _, n := range f.names {
		twoSteps[n] = releaseCanary
	}
	long := map[string]string{
		"a": `      rollout = { strategy = "canary", steps = [{ percent = 10, pause = "40m" }, { percent = 100 }] }`,
		"c": `      rollout = { strategy = "canary", steps = [{ percent = 10, pause = "30m" }, { percent = 100 }] }`,
	}
	dep := `  dependencies = [{ service = "c", depends_on = "a" }]`
	var writes func() []acctest.Write
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: f.e.Factories(),
		Steps: []resource.TestStep{
			{Config: f.config(false, nil, "  strategy = \"sequential\"\n"+dep), Check: f.serves(nil)},
			{
				PreConfig: func() { writes = f.e.RecordWrites() },
				Config:    f.config(true, twoSteps, "  strategy = \"sequential\"\n"+dep),
				Check: resource.ComposeTestCheckFunc(
					f.serves(map[string]bool{"a": true, "b": true, "c": true}),
					// planned_waves [[a, b], [c]]: one service at a time.
					f.sequence(func() []acctest.Write { return writes() }, "a", "a", "b", "b", "c", "c"),
				),
			},
			{
				PreConfig: func() { writes = f.e.RecordWrites() },
				Config:    f.config(false, twoSteps, "  strategy = \"parallel\"\n  max_parallel = 2\n"+dep),
				Check: resource.ComposeTestCheckFunc(
					f.serves(nil),
					f.ordered(func() []acctest.Write { return writes() }, 6, [2]string{"c", "a"}),
				),
			},
			{
				// a (40m) then c (30m) in waves: 70m of pauses, over the 60m
				// default update timeout.
				Config:      f.config(true, long, dep),
				PlanOnly:    true,
				ExpectError: errRE(`Schedule Longer Than Timeout(.|\n)*The release's 2 waves pause and stabilize for 1h10m0s in all`),
			},
			{
				Config:             f.config(true, long, dep+"\n  timeouts = { update = \"90m\" }"),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
		},
	})
}

// Services join and leave a release: a service removed gives its lease up
// and keeps its traffic (a split may then take its listener without adopt),
// and a service added is claimed and moved like a new one.
func TestAccRelease_membership(t *testing.T) {
	acctest.OneEngine(t)
	t.Parallel()
	f := newReleaseFixture(t, nil, "a", "b", "c")
	only := func(names ...string) *releaseFixture {
		g := *f
		g.names = names
		return &g
	}
	split := fmt.Sprintf(`
resource "rollout_traffic_split" "b" {
  listener_arn  = %q
  target_groups = [{ arn = %q, weight = 50 }, { arn = %q, weight = 50 }]
}
`, f.refs["b"].ListenerARN, f.blue["b"], f.green["b"])
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: f.e.Factories(),
		Steps: []resource.TestStep{
			{Config: only("a", "b").config(true, nil, ""), Check: only("a", "b").serves(map[string]bool{"a": true, "b": true})},
			{
				// b leaves (its listener keeps green), c joins at green.
				Config:            only("a", "c").config(true, nil, ""),
				ConfigStateChecks: status(map[string]string{"a": "succeeded", "c": "succeeded"}),
				Check:             f.serves(map[string]bool{"a": true, "b": true, "c": true}),
			},
			{
				Config: only("a", "c").config(true, nil, "") + split,
				Check: func(*terraform.State) error {
					got, _ := f.e.Forward(f.refs["b"])
					if want := (weights.Split{{ARN: f.blue["b"], Weight: 50}, {ARN: f.green["b"], Weight: 50}}); !got.Split.Equal(want) {
						return fmt.Errorf("b's listener forwards %v, want the split's %v", got.Split, want)
					}
					return nil
				},
			},
		},
	})
}

// A service the release rolls back because another failed is read first:
// someone changed auth's listener while api was running (an on-call
// shift), so the release leaves it as it is and says so, rather than
// overwrite that change with the weights from before the apply.
func TestAccRelease_startedRollbackReadsFirst(t *testing.T) {
	acctest.OneEngine(t)
	t.Parallel()
	f := newReleaseFixture(t, nil, "auth", "api")
	alarm := f.e.Alarm("api-5xx")
	rollouts := map[string]string{"auth": releaseCanary,
		"api": `      rollout = { strategy = "canary", steps = [{ percent = 10, pause = "1m" }, { percent = 100 }], poll_interval = "1m", gates = { alarms = [` + fmt.Sprintf("%q", alarm) + `] } }`}
	body := "  dependencies = [{ service = \"api\", depends_on = \"auth\" }]\n  on_failure = { rollback = \"started\" }"
	shifted := weights.Split{{ARN: f.blue["auth"], Weight: 50}, {ARN: f.green["auth"], Weight: 50}}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: f.e.Factories(),
		Steps: []resource.TestStep{
			{Config: f.config(false, nil, body), Check: f.serves(nil)},
			{
				PreConfig: func() {
					var written, done atomic.Bool
					f.e.Emu.OnRequest(func(action string, form url.Values) {
						if action == "elasticloadbalancing:ModifyListener" && form.Get("ListenerArn") == f.refs["api"].ID() {
							written.Store(true)
						}
					})
					f.e.Clock.OnSleep(func(context.Context, time.Duration, time.Time) {
						if written.Load() && !done.Swap(true) {
							f.e.SetWeights(f.refs["auth"], shifted)
							f.e.SetAlarmState(alarm, cwtypes.StateValueAlarm)
						}
					})
				},
				Config:      f.config(true, rollouts, body),
				ExpectError: errRE(`Changed During Rollout(.|\n)*wrote nothing more, not even a rollback`),
			},
			{
				RefreshState: true, ExpectNonEmptyPlan: true,
				Check: func(*terraform.State) error {
					got, _ := f.e.Forward(f.refs["auth"])
					if !got.Split.Equal(shifted) {
						return fmt.Errorf("auth's listener forwards %v, want the out-of-band %v left as it was", got.Split, shifted)
					}
					api, _ := f.e.Forward(f.refs["api"])
					if !api.Split.Equal(f.split("api", false)) {
						return fmt.Errorf("api's listener forwards %v, want it rolled back to blue", api.Split)
					}
					return nil
				},
			},
		},
	})
}

// An apply that moves nothing keeps last_release as it is: after a release
// that ran, an unrelated in-place change (timeouts.update) plans
// last_release as the state has it, and the apply writes no forward action
// and leaves last_release's times as they were (it used to stamp them
// anew, and the engine reported an inconsistent result).
func TestAccRelease_noMoveKeepsLastRelease(t *testing.T) {
	t.Parallel()
	f := newReleaseFixture(t, nil, "api")
	canary := map[string]string{"api": releaseCanary}
	var started, finished string
	recorded := func(want *string) knownvalue.Check {
		return knownvalue.StringFunc(func(v string) error {
			if v != *want {
				return fmt.Errorf("%q, want %q as the release that ran recorded it", v, *want)
			}
			return nil
		})
	}
	at := func(name string) tfjsonpath.Path { return tfjsonpath.New("last_release").AtMapKey(name) }
	var writes func() []acctest.Write
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: f.e.Factories(),
		Steps: []resource.TestStep{
			{Config: f.config(false, nil, ""), Check: f.serves(nil)},
			{
				Config: f.config(true, canary, ""),
				Check: resource.ComposeTestCheckFunc(f.serves(map[string]bool{"api": true}), func(s *terraform.State) error {
					a := s.RootModule().Resources["rollout_release.test"].Primary.Attributes
					started, finished = a["last_release.started_at"], a["last_release.finished_at"]
					if started == "" || started == finished {
						return fmt.Errorf("last_release ran from %q to %q, want two times a pause apart", started, finished)
					}
					return nil
				}),
			},
			{
				PreConfig: func() { writes = f.e.RecordWrites() },
				Config:    f.config(true, canary, "  timeouts = { update = \"2h\" }"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("rollout_release.test", plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue("rollout_release.test", at("started_at"), recorded(&started)),
					plancheck.ExpectKnownValue("rollout_release.test", at("finished_at"), recorded(&finished)),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("rollout_release.test", at("started_at"), recorded(&started)),
					statecheck.ExpectKnownValue("rollout_release.test", at("finished_at"), recorded(&finished)),
					statecheck.ExpectKnownValue("rollout_release.test", at("status"), knownvalue.StringExact("succeeded")),
				},
				Check: resource.ComposeTestCheckFunc(f.serves(map[string]bool{"api": true}), func(*terraform.State) error {
					if w := writes(); len(w) != 0 {
						return fmt.Errorf("an apply that moves nothing wrote %d forward actions: %v", len(w), w)
					}
					return nil
				}),
			},
		},
	})
}
