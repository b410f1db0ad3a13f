package provider_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/rolloutdev/terraform-provider-rollout/flag"
	"github.com/rolloutdev/terraform-provider-rollout/internal/acctest"
	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

// The defects of issue "Every guarantee, for every subject" that the
// conformance table does not already prove on every subject, each as the
// user met it. Every one of these failed before its fix.

// Defect 2: a release rolling back what it started (rollback = "started")
// after Ctrl-C finishes: the rollback reads and writes on a live context.
// Not parallel: it signals this test binary's engine processes.
func TestAccGuarantee_releaseStartedRollbackAfterCtrlC(t *testing.T) {
	f := newReleaseFixture(t, nil, "auth", "api")
	rollouts := map[string]string{"auth": releaseCanary, "api": releaseCanary}
	body := "  dependencies = [{ service = \"api\", depends_on = \"auth\" }]\n  on_failure = { rollback = \"started\" }"
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: f.e.Factories(),
		Steps: []resource.TestStep{
			{Config: f.config(false, nil, body), Check: f.serves(nil)},
			{
				// Ctrl-C in api's pause: auth has finished, api stops.
				PreConfig: func() {
					var written, done atomic.Bool
					f.e.Emu.OnRequest(func(action string, form url.Values) {
						if action == "elasticloadbalancing:ModifyListener" && form.Get("ListenerArn") == f.refs["api"].ID() {
							written.Store(true)
						}
					})
					f.e.Clock.OnSleep(func(ctx context.Context, _ time.Duration, _ time.Time) {
						if written.Load() && !done.Swap(true) {
							interruptEngine(t, ctx)
						}
					})
				},
				Config:      f.config(true, rollouts, body),
				ExpectError: errRE(`interrupt|Interrupted|Release Failed`),
			},
			checkStep(func() {
				// Everything the release moved is back: auth too.
				for _, n := range []string{"auth", "api"} {
					if got, _ := f.e.Forward(f.refs[n]); got.Split.Equal(f.split(n, true)) {
						t.Errorf("%s serves %s after the interrupted release: the started rollback did not finish", n, got.Split.Short())
					}
				}
				if got, _ := f.e.Forward(f.refs["auth"]); !got.Split.Equal(f.split("auth", false)) {
					t.Errorf("auth serves %s, want it rolled back to %s", got.Split.Short(), f.split("auth", false).Short())
				}
			}),
		},
	})
}

// Defect 3: rollback = "feature_flag" naming a flag that does not exist is
// refused before anything moves; a flag deleted mid-rollout cannot be
// switched off, so traffic moves back instead.
func TestAccGuarantee_featureFlagRollbackWithAFlagItCannotSwitch(t *testing.T) {
	t.Parallel()
	f := newRolloutFixture(t)
	alarm := f.e.Alarm("api-5xx")
	key := "real-" + strings.ReplaceAll(acctest.Name("f"), "_", "-")
	f.e.PutParameter("/rollout/flags/"+key, fmt.Sprintf(`{"schema_version":1,"key":%q,"enabled":true,"rollout_percentage":100}`, key))
	ro := func(flags string) string {
		return canarySteps + fmt.Sprintf("\n    rollback = \"feature_flag\"\n    flags    = [%s]\n    gates    = { alarms = [%q] }", flags, alarm)
	}
	var once sync.Once
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: f.e.Factories(),
		Steps: []resource.TestStep{
			f.start(),
			{
				// A typo: refused at apply before anything moves (the plan
				// only warns, as the flag could be created in the same apply).
				Config:      f.config(0, 100, ro(`"chekout-typo"`)),
				ExpectError: errRE(`Rollback Flag Not Usable(.|\n)*does not exist(.|\n)*Nothing was moved`),
			},
			{
				// The flag exists when the rollout starts and is deleted
				// during it: the switch-off fails, and traffic moves back.
				PreConfig: func() {
					f.e.Clock.OnSleep(func(context.Context, time.Duration, time.Time) {
						if len(f.splits()) == 2 {
							once.Do(func() {
								_, _ = f.e.SSM().DeleteParameter(context.Background(), ssmDelete("/rollout/flags/"+key))
								f.e.SetAlarmState(alarm, cwtypes.StateValueAlarm)
							})
						}
					})
				},
				Config:      f.config(0, 100, ro(fmt.Sprintf("%q", key))),
				ExpectError: errRE(`Rollout Rolled Back(.|\n)*rolled back \(immediate\)`),
			},
			checkStep(func() {
				if got := f.splits(); !got[len(got)-1].Equal(f.original) {
					t.Errorf("the last write was %s, want the weights before the apply %s", got[len(got)-1], f.original)
				}
				if err := f.wrote(f.step1, f.original)(nil); err != nil {
					t.Error(err)
				}
			}),
		},
	})
}

// Defect 7: on_failure.rollback = "none" holds a service where its gate
// failed; the next unrelated apply does not ship it.
func TestAccGuarantee_heldReleaseServiceNotRetried(t *testing.T) {
	t.Parallel()
	f := newReleaseFixture(t, nil, "api")
	alarm := f.e.Alarm("api-5xx")
	ro := map[string]string{"api": `      rollout = { strategy = "canary", steps = [{ percent = 10, pause = "1m" }, { percent = 100 }], poll_interval = "1m", gates = { alarms = [` + fmt.Sprintf("%q", alarm) + `] } }`}
	body := "  on_failure = { rollback = \"none\" }"
	var once sync.Once
	held := weights.Split{{ARN: f.blue["api"], Weight: 900}, {ARN: f.green["api"], Weight: 100}}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: f.e.Factories(),
		Steps: []resource.TestStep{
			{Config: f.config(false, nil, body)},
			{
				PreConfig: func() {
					f.e.Clock.OnSleep(func(context.Context, time.Duration, time.Time) {
						once.Do(func() { f.e.SetAlarmState(alarm, cwtypes.StateValueAlarm) })
					})
				},
				Config:      f.config(true, ro, body),
				ExpectError: errRE(`Rollout Failed, Not Rolled Back|Release Failed`),
			},
			{
				PreConfig:   func() { f.e.SetAlarmState(alarm, cwtypes.StateValueOk) },
				Config:      f.config(true, ro, body),
				ExpectError: errRE(`Held Change Not Retried(.|\n)*Nothing was moved`),
			},
			checkStep(func() {
				if got, _ := f.e.Forward(f.refs["api"]); !got.Split.Equal(held) {
					t.Errorf("api serves %s, want it held at %s", got.Split.Short(), held.Short())
				}
			}),
		},
	})
}

// Defect 8: a kill switch set by hand during a ramp's pause stops the ramp
// (the rest of the flag changed; Parameter Store has no compare-and-swap, so
// writes go over the version read), and nothing overwrites it.
func TestAccGuarantee_flagKillSwitchDuringRamp(t *testing.T) {
	t.Parallel()
	e := acctest.NewEnv(t)
	alarm := e.Alarm("checkout-errors")
	key := "ramp-" + acctest.Name("f")
	name := "/rollout/flags/" + key
	ro := flagRamp(alarm, `{ percent = 10, pause = "5m" }, { percent = 50, pause = "5m" }, { percent = 100 }`, "kill_switch")
	var once sync.Once
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: e.Factories(),
		Steps: []resource.TestStep{
			{Config: flagConfig(e, key, "rollout_percentage = 0\n  "+ro)},
			{
				PreConfig: func() {
					e.Clock.OnSleep(func(context.Context, time.Duration, time.Time) {
						if len(flagWrites(e, name)) == 2 { // created, 5 %
							once.Do(func() {
								doc, _ := e.Parameter(name)
								e.PutParameter(name, strings.Replace(doc, `"kill_switch":false`, `"kill_switch":true`, 1))
							})
						}
					})
				},
				Config:      flagConfig(e, key, "rollout_percentage = 50\n  "+ro),
				ExpectError: errRE(`Changed During Rollout(.|\n)*wrote nothing more`),
			},
			checkStep(func() {
				doc, _ := e.Parameter(name)
				if f, err := flag.Parse([]byte(doc)); err != nil || !f.KillSwitch || f.RolloutPercentage != 5 {
					t.Errorf("the flag at the emulator: %s (%v), want the person's kill switch on at 5 %%", doc, err)
				}
			}),
		},
	})
}

// Defect 11: a kill switch a ramp's own rollback turned on is saved in the
// state with its reason, so an apply with -refresh=false (which plans from
// the state alone) does not turn it off.
func TestAccGuarantee_flagKillSwitchWithoutRefresh(t *testing.T) {
	t.Parallel()
	e := acctest.NewEnv(t)
	alarm := e.Alarm("checkout-errors")
	key := "reason-" + acctest.Name("f")
	name := "/rollout/flags/" + key
	ro := flagRamp(alarm, `{ percent = 10, pause = "5m" }, { percent = 100 }`, "kill_switch")
	var once sync.Once
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: e.Factories(),
		AdditionalCLIOptions:     &resource.AdditionalCLIOptions{Plan: resource.PlanOptions{NoRefresh: true}},
		Steps: []resource.TestStep{
			{Config: flagConfig(e, key, "rollout_percentage = 0\n  "+ro)},
			{
				PreConfig: func() {
					e.Clock.OnSleep(func(context.Context, time.Duration, time.Time) {
						once.Do(func() { e.SetAlarmState(alarm, cwtypes.StateValueAlarm) })
					})
				},
				Config:      flagConfig(e, key, "rollout_percentage = 50\n  "+ro),
				ExpectError: errRE(`Rollout Rolled Back(.|\n)*kill_switch`),
			},
			{
				// An unrelated change (the description), planned without a
				// refresh: the kill switch stays on.
				PreConfig:   func() { e.SetAlarmState(alarm, cwtypes.StateValueOk) },
				Config:      flagConfig(e, key, "rollout_percentage = 5\n  description = \"unrelated\"\n  "+ro),
				ExpectError: errRE(`Flag Switched Off By A Rollback(.|\n)*Nothing was written`),
			},
			checkStep(func() {
				doc, _ := e.Parameter(name)
				if f, err := flag.Parse([]byte(doc)); err != nil || !f.KillSwitch {
					t.Errorf("the flag at the emulator: %s (%v), want its kill switch still on", doc, err)
				}
			}),
		},
	})
}

// Defect 9: two flags updated in one apply that would depend on each other
// (a → b and b → a) do not both pass: one is refused, and no cycle is left
// at the emulator.
func TestAccGuarantee_flagDependencyCycleInOneApply(t *testing.T) {
	t.Parallel()
	e := acctest.NewEnv(t)
	a, b := "dep-a-"+acctest.Name("f"), "dep-b-"+acctest.Name("f")
	cfg := func(aDeps, bDeps string) string {
		return e.ProviderConfig() + fmt.Sprintf(`
resource "rollout_feature_flag" "a" {
  key          = %q
  dependencies = %s
}
resource "rollout_feature_flag" "b" {
  key          = %q
  dependencies = %s
}
`, a, aDeps, b, bDeps)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: e.Factories(),
		Steps: []resource.TestStep{
			{Config: cfg("[]", "[]")},
			{Config: cfg(fmt.Sprintf("[%q]", b), fmt.Sprintf("[%q]", a)), ExpectError: errRE(`Flag Dependency Cycle`)},
			{
				PreConfig: func() {
					da, _ := e.Parameter("/rollout/flags/" + a)
					db, _ := e.Parameter("/rollout/flags/" + b)
					if strings.Contains(da, `"dependencies"`) && strings.Contains(db, `"dependencies"`) {
						t.Errorf("a cycle was written: %s and %s", da, db)
					}
				},
				Config: cfg("[]", "[]"),
			},
		},
	})
}

// Defect 12: a change that is refused (rolled back before, same attempt)
// writes nothing at all, not even the flag's other attributes.
func TestAccGuarantee_flagRefusalBeforeAnyWrite(t *testing.T) {
	t.Parallel()
	e := acctest.NewEnv(t)
	alarm := e.Alarm("checkout-errors")
	key := "refuse-" + acctest.Name("f")
	name := "/rollout/flags/" + key
	ro := flagRamp(alarm, `{ percent = 10, pause = "5m" }, { percent = 100 }`, "auto")
	var once sync.Once
	writes := 0
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: e.Factories(),
		Steps: []resource.TestStep{
			{Config: flagConfig(e, key, "rollout_percentage = 0\n  "+ro)},
			{
				PreConfig: func() {
					e.Clock.OnSleep(func(context.Context, time.Duration, time.Time) {
						once.Do(func() { e.SetAlarmState(alarm, cwtypes.StateValueAlarm) })
					})
				},
				Config:      flagConfig(e, key, "rollout_percentage = 50\n  "+ro),
				ExpectError: errRE(`Rollout Rolled Back`),
			},
			{
				PreConfig:   func() { e.SetAlarmState(alarm, cwtypes.StateValueOk); writes = len(flagWrites(e, name)) },
				Config:      flagConfig(e, key, "rollout_percentage = 50\n  description = \"new words\"\n  "+ro),
				ExpectError: errRE(`Rolled-Back Change Not Retried(.|\n)*Nothing was moved`),
			},
			checkStep(func() {
				if got := len(flagWrites(e, name)); got != writes {
					t.Errorf("%d writes to the flag after the refusal, want none", got-writes)
				}
			}),
		},
	})
}

// Defect 14: an alias that already routes to two versions, or serves
// $LATEST, plans no canary AWS cannot write: the plan refuses it.
func TestAccGuarantee_aliasScheduleAWSCannotWrite(t *testing.T) {
	t.Parallel()
	e := acctest.NewEnv(t)
	fn := e.LambdaFunction("routed", 3)
	if _, err := e.Lambda().CreateAlias(context.Background(), &lambda.CreateAliasInput{FunctionName: aws.String(fn), Name: aws.String("live"), FunctionVersion: aws.String("1"),
		RoutingConfig: &lambdatypes.AliasRoutingConfiguration{AdditionalVersionWeights: map[string]float64{"2": 0.2}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Lambda().CreateAlias(context.Background(), &lambda.CreateAliasInput{FunctionName: aws.String(fn), Name: aws.String("latest"), FunctionVersion: aws.String("$LATEST")}); err != nil {
		t.Fatal(err)
	}
	cfg := func(alias string) string {
		return e.ProviderConfig() + fmt.Sprintf(`
resource "rollout_lambda_alias" "test" {
  function_name = %q
  alias_name    = %q
  version       = "3"
  rollout       = { strategy = "canary", steps = [{ percent = 10, pause = "1m" }, { percent = 100 }] }
}
`, fn, alias)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: e.Factories(),
		Steps: []resource.TestStep{
			{Config: cfg("live"), PlanOnly: true, ExpectError: errRE(`Schedule Not Possible(.|\n)*route to 3 versions`)},
			{Config: cfg("latest"), PlanOnly: true, ExpectError: errRE(`Schedule Not Possible(.|\n)*\$LATEST`)},
		},
	})
	if n := e.Emu.Count("lambda:UpdateAlias"); n != 0 {
		t.Fatalf("%d UpdateAlias requests, want none", n)
	}
}

// Also seen: a release whose precheck adopted a listener and then refused
// gives the listener back to the owner it had.
func TestAccGuarantee_releasePrecheckGivesAdoptedLeaseBack(t *testing.T) {
	t.Parallel()
	f := newReleaseFixture(t, nil, "api", "web")
	split := fmt.Sprintf(`
resource "rollout_traffic_split" "owner" {
  listener_arn  = %q
  target_groups = [{ arn = %q, weight = 100 }, { arn = %q, weight = 0 }]
}
`, f.refs["api"].ListenerARN, f.blue["api"], f.green["api"])
	var owner string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: f.e.Factories(),
		Steps: []resource.TestStep{
			{Config: f.e.ProviderConfig() + split, Check: func(s *terraform.State) error {
				owner = s.RootModule().Resources["rollout_traffic_split.owner"].Primary.Attributes["owner_tag"]
				return nil
			}},
			{
				// web's listener was deleted: the precheck of every service
				// fails after api's lease was adopted; nothing moves, and api's
				// owner gets its listener back.
				PreConfig:   func() { f.e.DeleteListener(f.refs["web"].ListenerARN) },
				Config:      f.config(true, nil, "  adopt = true") + split,
				ExpectError: errRE(`Listener Not Found`),
			},
			checkStep(func() {
				tags, err := f.e.ELB.DescribeTags(context.Background(), elbTags(f.refs["api"].ListenerARN))
				got := ""
				if err == nil {
					for _, d := range tags.TagDescriptions {
						for _, tg := range d.Tags {
							if aws.ToString(tg.Key) == "rollout:owner" {
								got = aws.ToString(tg.Value)
							}
						}
					}
				}
				if got != owner || owner == "" {
					t.Errorf("api's owner tag is %q, want the split's %q back", got, owner)
				}
			}),
		},
	})
}

// flagRamp is a flag's rollout block: the steps, an alarm gate, a rollback.
func flagRamp(alarm, steps, rollback string) string {
	return fmt.Sprintf(`rollout = {
    steps         = [%s]
    strategy      = "canary"
    poll_interval = "1m"
    rollback      = %q
    gates         = { alarms = [%q] }
  }`, steps, rollback, alarm)
}

func ssmDelete(name string) *ssm.DeleteParameterInput {
	return &ssm.DeleteParameterInput{Name: aws.String(name)}
}

func elbTags(arn string) *elb.DescribeTagsInput {
	return &elb.DescribeTagsInput{ResourceArns: []string{arn}}
}
