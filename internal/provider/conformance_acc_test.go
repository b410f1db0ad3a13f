package provider_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/rolloutdev/terraform-provider-rollout/flag"
	"github.com/rolloutdev/terraform-provider-rollout/internal/acctest"
	"github.com/rolloutdev/terraform-provider-rollout/internal/awsclient"
	"github.com/rolloutdev/terraform-provider-rollout/internal/emulator"
	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
	"github.com/rolloutdev/terraform-provider-rollout/internal/subjects/featureflag"
	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

// The conformance table through real engines: each case is written once
// and runs on every subject, on OpenTofu and on Terraform, against the
// emulator; checks read the emulator. The same cases run directly on the
// pipeline in conformance_test.go.

// accSubj is one subject at the emulator and how to configure it.
type accSubj struct {
	e       *acctest.Env
	address string
	// hcl is the configuration with the subject at its `to` (or `from`),
	// a rollout block (or none), and extra attributes.
	hcl func(atTo bool, rollout, extra string) string
	// other is a second resource on the same subject, named "other", at
	// weights of its own (otherSplit), with extra attributes.
	other      func(extra string) string
	otherSplit func() weights.Split
	// importID imports the subject.
	importID string
	// from and to are what the subject serves before and after the change
	// (functions: a blue/green's target groups exist once it is created).
	from, to    func() weights.Split
	live        func() weights.Split
	set         func(weights.Split)
	writeAction string
	alarm       string
	// createRuns is true when a create runs a rollout (and may roll back).
	createRuns bool
	// lease is the subject's lease tags (owner, status) at the emulator.
	lease awsclient.LeaseStore
	// noHolds says why its rollout cannot hold ("" when it can).
	noHolds string
	// noDetached says why it cannot run detached ("" when it can);
	// detachable, when set, makes a configuration one that can.
	noDetached string
	detachable func(string) string
	// observe is the resource handed back to another system (manage =
	// "observe"); nil for a subject that cannot be (noObserve).
	observe func() string
}

// noObserve is why a hand-back row is n/a on every subject but a split.
const noObserve = "n/a: only rollout_traffic_split has manage = \"observe\" (a hand-back to another system)"

// canaryHCL is the rollout block every case uses: three steps, pauses on
// the fake clock, an alarm gate.
func canaryHCL(alarm, extra string) string {
	return fmt.Sprintf(`rollout = {
    strategy      = "canary"
    steps         = [{ percent = 10, pause = "2m" }, { percent = 50, pause = "2m" }, { percent = 100 }]
    poll_interval = "1m"
    gates         = { alarms = [%q] }
    %s
  }`, alarm, extra)
}

type accKit struct {
	name string
	make func(t *testing.T) *accSubj
}

func splitAccKit(name string, rule bool) accKit {
	return accKit{name: name, make: func(t *testing.T) *accSubj {
		e := acctest.NewEnv(t)
		f := e.NewFixture(3)
		ref, attr, action := awsclient.Ref{ListenerARN: f.Listener}, "listener_arn", "elasticloadbalancing:ModifyListener"
		if rule {
			ref, attr, action = awsclient.Ref{RuleARN: e.Rule(f.Listener, f.TGs[0], 10)}, "rule_arn", "elasticloadbalancing:ModifyRule"
		}
		from := weights.Split{{ARN: f.TGs[0], Weight: 100}, {ARN: f.TGs[1], Weight: 0}}
		to := weights.Split{{ARN: f.TGs[0], Weight: 0}, {ARN: f.TGs[1], Weight: 100}}
		e.SetWeights(ref, from)
		body := func(name string, s weights.Split, extra string) string {
			var tgs []string
			for _, t := range s {
				tgs = append(tgs, fmt.Sprintf("{ arn = %q, weight = %d }", t.ARN, t.Weight))
			}
			return fmt.Sprintf("resource \"rollout_traffic_split\" %q {\n  %s = %q\n  target_groups = [%s]\n  %s\n}\n", name, attr, ref.ID(), strings.Join(tgs, ", "), extra)
		}
		other := weights.Split{{ARN: f.TGs[0], Weight: 60}, {ARN: f.TGs[2], Weight: 40}}
		s := &accSubj{e: e, address: "rollout_traffic_split.test", importID: ref.ID(), writeAction: action, alarm: e.Alarm("conf"), createRuns: true,
			lease: awsclient.ListenerLease(conformanceClient(t, e), ref),
			from:  func() weights.Split { return from }, to: func() weights.Split { return to },
			live: func() weights.Split { got, _ := e.Forward(ref); return got.Split },
			set:  func(w weights.Split) { e.SetWeights(ref, w) }, otherSplit: func() weights.Split { return other }}
		s.hcl = func(atTo bool, ro, extra string) string {
			w := from
			if atTo {
				w = to
			}
			return e.ProviderConfig() + body("test", w, ro+"\n  "+extra)
		}
		s.other = func(extra string) string { return body("other", other, extra) }
		s.observe = func() string {
			return e.ProviderConfig() + fmt.Sprintf("resource \"rollout_traffic_split\" \"test\" {\n  %s = %q\n  manage = \"observe\"\n}\n", attr, ref.ID())
		}
		return s
	}}
}

func aliasAccKit() accKit {
	return accKit{name: "lambda alias", make: func(t *testing.T) *accSubj {
		e := acctest.NewEnv(t)
		fn := e.LambdaFunction("conf", 3)
		if _, err := e.Lambda().CreateAlias(context.Background(), &lambda.CreateAliasInput{FunctionName: aws.String(fn), Name: aws.String("live"), FunctionVersion: aws.String("1")}); err != nil {
			t.Fatal(err)
		}
		body := func(name, version, extra string) string {
			return fmt.Sprintf("resource \"rollout_lambda_alias\" %q {\n  function_name = %q\n  alias_name = \"live\"\n  version = %q\n  %s\n}\n", name, fn, version, extra)
		}
		read := func() weights.Split {
			out, err := e.Lambda().GetAlias(context.Background(), &lambda.GetAliasInput{FunctionName: aws.String(fn), Name: aws.String("live")})
			if err != nil {
				t.Errorf("GetAlias: %v", err)
				return nil
			}
			a := awsclient.Alias{Version: aws.ToString(out.FunctionVersion), Additional: map[string]float64{}}
			if out.RoutingConfig != nil {
				a.Additional = out.RoutingConfig.AdditionalVersionWeights
			}
			return a.Split()
		}
		s := &accSubj{e: e, address: "rollout_lambda_alias.test", importID: fn + ":live", writeAction: "lambda:UpdateAlias", alarm: e.Alarm("conf"), createRuns: true,
			lease: awsclient.AliasLease(conformanceClient(t, e), awsclient.AliasRef{Function: fn, Alias: "live"}),
			from:  func() weights.Split { return weights.Split{{ARN: "1", Weight: 1}} }, to: func() weights.Split { return weights.Split{{ARN: "2", Weight: 1}} },
			live: read, otherSplit: func() weights.Split { return weights.Split{{ARN: "3", Weight: 1}} },
			set: func(w weights.Split) {
				v, add, err := awsclient.AliasOf(w, "1")
				if err != nil {
					t.Fatal(err)
				}
				if _, err := e.Lambda().UpdateAlias(context.Background(), &lambda.UpdateAliasInput{FunctionName: aws.String(fn), Name: aws.String("live"), FunctionVersion: aws.String(v),
					RoutingConfig: &lambdatypes.AliasRoutingConfiguration{AdditionalVersionWeights: add}}); err != nil {
					t.Errorf("UpdateAlias: %v", err)
				}
			}}
		s.hcl = func(atTo bool, ro, extra string) string {
			v := "1"
			if atTo {
				v = "2"
			}
			return e.ProviderConfig() + body("test", v, ro+"\n  "+extra)
		}
		s.other = func(extra string) string { return body("other", "3", extra) }
		return s
	}}
}

func flagAccKit() accKit {
	return accKit{name: "flag ramp", make: func(t *testing.T) *accSubj {
		e := acctest.NewEnv(t)
		key := "conf-" + strings.ReplaceAll(acctest.Name("f"), "_", "-")
		name := "/rollout/flags/" + key
		body := func(res string, pct int, extra string) string {
			return fmt.Sprintf("resource \"rollout_feature_flag\" %q {\n  key = %q\n  rollout_percentage = %d\n  %s\n}\n", res, key, pct, extra)
		}
		read := func() weights.Split {
			doc, ok := e.Parameter(name)
			if !ok {
				return nil
			}
			f, err := flag.Parse([]byte(doc))
			if err != nil {
				t.Errorf("the flag at the emulator: %v", err)
				return nil
			}
			return featureflag.Split(f.RolloutPercentage)
		}
		s := &accSubj{e: e, address: "rollout_feature_flag.test", importID: key, writeAction: "ssm:PutParameter", alarm: e.Alarm("conf"),
			lease: awsclient.FlagLease(conformanceClient(t, e), name),
			from:  func() weights.Split { return featureflag.Split(0) }, to: func() weights.Split { return featureflag.Split(100) },
			live: read, otherSplit: func() weights.Split { return featureflag.Split(30) },
			set: func(w weights.Split) {
				doc, _ := e.Parameter(name)
				f, _ := flag.Parse([]byte(doc))
				f.RolloutPercentage = featureflag.PercentageOf(w)
				b, _ := jsonMarshal(f)
				e.PutParameter(name, b)
			}}
		s.hcl = func(atTo bool, ro, extra string) string {
			pct := 0
			if atTo {
				pct = 100
			}
			return e.ProviderConfig() + body("test", pct, ro+"\n  "+extra)
		}
		s.other = func(extra string) string {
			return fmt.Sprintf("import {\n  to = rollout_feature_flag.other\n  id = %q\n}\n", key) + body("other", 30, extra)
		}
		return s
	}}
}

func releaseAccKit() accKit {
	return accKit{name: "release service", make: func(t *testing.T) *accSubj {
		e := acctest.NewEnv(t)
		f := e.NewFixture(3)
		ref := awsclient.Ref{ListenerARN: f.Listener}
		from := weights.Split{{ARN: f.TGs[0], Weight: 100}, {ARN: f.TGs[1], Weight: 0}}
		to := weights.Split{{ARN: f.TGs[0], Weight: 0}, {ARN: f.TGs[1], Weight: 100}}
		other := weights.Split{{ARN: f.TGs[0], Weight: 60}, {ARN: f.TGs[2], Weight: 40}}
		e.SetWeights(ref, from)
		tgs := func(s weights.Split) string {
			var out []string
			for _, t := range s {
				out = append(out, fmt.Sprintf("{ arn = %q, weight = %d }", t.ARN, t.Weight))
			}
			return "[" + strings.Join(out, ", ") + "]"
		}
		s := &accSubj{e: e, address: "rollout_release.test", importID: "api=" + f.Listener, writeAction: "elasticloadbalancing:ModifyListener", alarm: e.Alarm("conf"), createRuns: true,
			lease: awsclient.ListenerLease(conformanceClient(t, e), ref), noHolds: "n/a: a release's services do not hold (a release is promoted by its next apply)",
			noDetached: "n/a: a release runs its services from the apply, in order (a detached rollout is for one subject)",
			from:       func() weights.Split { return from }, to: func() weights.Split { return to }, otherSplit: func() weights.Split { return other },
			live: func() weights.Split { got, _ := e.Forward(ref); return got.Split },
			set:  func(w weights.Split) { e.SetWeights(ref, w) }}
		s.hcl = func(atTo bool, ro, extra string) string {
			w := from
			if atTo {
				w = to
			}
			return e.ProviderConfig() + fmt.Sprintf("resource \"rollout_release\" \"test\" {\n  services = {\n    api = {\n      listener_arn = %q\n      target_groups = %s\n      %s\n    }\n  }\n  %s\n}\n", f.Listener, tgs(w), ro, extra)
		}
		s.other = func(extra string) string {
			return fmt.Sprintf("resource \"rollout_release\" \"other\" {\n  services = {\n    api = { listener_arn = %q, target_groups = %s }\n  }\n  %s\n}\n", f.Listener, tgs(other), extra)
		}
		return s
	}}
}

func blueGreenAccKit() accKit {
	return accKit{name: "blue/green flip", make: func(t *testing.T) *accSubj {
		f := newBGFixture(t)
		e := f.e
		ref := awsclient.Ref{ListenerARN: f.listener}
		colors := func() (string, string) { return bgColors(e, f.prefix) }
		split := func(blue, green int) func() weights.Split {
			return func() weights.Split {
				b, g := colors()
				return weights.Split{{ARN: b, Weight: blue}, {ARN: g, Weight: green}}
			}
		}
		// The import id names the colors the deployment made: read from its
		// state by the import block itself.
		s := &accSubj{e: e, address: bgRes, writeAction: "elasticloadbalancing:ModifyListener", alarm: e.Alarm("conf"),
			lease:    awsclient.ListenerLease(conformanceClient(t, e), ref),
			importID: "${" + bgRes + ".listener_arn},${" + bgRes + ".blue_target_group_arn},${" + bgRes + ".green_target_group_arn}",
			from:     split(100, 0), to: split(0, 100), otherSplit: func() weights.Split { return weights.Split{{ARN: f.app, Weight: 1}} },
			live: func() weights.Split { got, _ := e.Forward(ref); return got.Split },
			set:  func(w weights.Split) { e.SetWeights(ref, w) }}
		s.hcl = func(atTo bool, ro, extra string) string {
			active := "blue"
			if atTo {
				active = "green"
			}
			return f.config(active, ro+"\n  "+extra)
		}
		// A detached flip has no test listener (the apply would not see
		// it pointed at the new idle color).
		s.detachable = func(cfg string) string { return testListenerLine.ReplaceAllString(cfg, "") }
		s.other = func(extra string) string {
			return fmt.Sprintf("resource \"rollout_traffic_split\" \"other\" {\n  listener_arn = %q\n  target_groups = [{ arn = %q, weight = 1 }]\n  %s\n}\n", f.listener, f.app, extra)
		}
		return s
	}}
}

var testListenerLine = regexp.MustCompile(`(?m)^\s*test_listener_arn\s*=.*\n`)

// bgColors finds a blue/green deployment's target groups by name prefix.
func bgColors(e *acctest.Env, prefix string) (blue, green string) {
	out, err := e.ELB.DescribeTargetGroups(context.Background(), &elb.DescribeTargetGroupsInput{})
	if err != nil {
		e.T.Errorf("DescribeTargetGroups: %v", err)
		return "", ""
	}
	for _, tg := range out.TargetGroups {
		n := aws.ToString(tg.TargetGroupName)
		switch {
		case strings.HasPrefix(n, prefix+"-blue"):
			blue = aws.ToString(tg.TargetGroupArn)
		case strings.HasPrefix(n, prefix+"-green"):
			green = aws.ToString(tg.TargetGroupArn)
		}
	}
	return blue, green
}

var accKits = []accKit{
	splitAccKit("split on a listener", false), splitAccKit("split on a rule", true), blueGreenAccKit(), aliasAccKit(), flagAccKit(), releaseAccKit(),
}

// writes counts the subject's writes at the emulator.
func (s *accSubj) writes() int { return s.e.Emu.Count(s.writeAction) }

// after runs fn once in a pause, when the subject has had n more writes
// than when armed.
func (s *accSubj) after(n int, fn func()) func() {
	return s.afterCtx(n, func(context.Context) { fn() })
}

// afterCtx is after for an action that needs the sleeping run's context.
func (s *accSubj) afterCtx(n int, fn func(ctx context.Context)) func() {
	return func() {
		base := s.writes()
		var once sync.Once
		s.e.Clock.OnSleep(func(ctx context.Context, _ time.Duration, _ time.Time) {
			if s.writes()-base >= n {
				once.Do(func() { fn(ctx) })
			}
		})
	}
}

// expectLive is a step check that the subject serves want at the emulator.
func (s *accSubj) expectLive(t *testing.T, want func() weights.Split) func() {
	return func() {
		if got := s.live(); !got.Equal(want()) {
			t.Errorf("the subject serves %s at the emulator, want %s", got.Short(), want().Short())
		}
	}
}

// noWritesSince fails when the subject was written since mark was called.
func (s *accSubj) noWritesSince(t *testing.T) (mark, check func()) {
	n := 0
	return func() { n = s.writes() }, func() {
		if got := s.writes() - n; got != 0 {
			t.Errorf("%d writes to the subject, want none", got)
		}
	}
}

type accCase struct {
	name string
	// steps builds the case's steps on s; "" skip, or "n/a: why".
	steps func(t *testing.T, s *accSubj) ([]resource.TestStep, string)
	// serial cases signal engine processes: not run in parallel.
	serial bool
	// noRefresh plans every step with -refresh=false.
	noRefresh bool
	// oneEngine: what it proves is the provider's alone (a gate's verdict,
	// a refused write, another owner's lease; no plan or saved plan of the
	// engine's in it): it runs on OpenTofu only (acctest.OneEngine).
	oneEngine bool
}

var accCases = []accCase{
	{name: "stale saved plan", steps: func(t *testing.T, s *accSubj) ([]resource.TestStep, string) {
		hand := s.otherSplit
		mark, none := s.noWritesSince(t)
		return []resource.TestStep{
			{Config: s.hcl(false, "", "")},
			{
				Config: s.hcl(true, canaryHCL(s.alarm, ""), ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					act(func() { s.set(hand()); mark() }),
				}},
				ExpectError: errRE(`Changed Since Plan(.|\n)*Nothing was (moved|written)`),
			},
			checkStep(func() { none(); s.expectLive(t, hand)() }),
		}, ""
	}},
	{name: "hand change mid-rollout, then not retried", steps: func(t *testing.T, s *accSubj) ([]resource.TestStep, string) {
		mark, none := s.noWritesSince(t)
		cfg := s.hcl(true, canaryHCL(s.alarm, ""), "")
		return []resource.TestStep{
			{Config: s.hcl(false, "", "")},
			{
				PreConfig:   s.after(1, func() { s.set(s.from()); mark() }), // on-call puts everything back
				Config:      cfg,
				ExpectError: errRE(`Changed During Rollout(.|\n)*wrote nothing more, not even a rollback`),
			},
			{
				// The person's change stands, and the next unrelated apply
				// does not run the change again.
				PreConfig:   func() { none(); s.expectLive(t, s.from)(); mark() },
				Config:      cfg,
				ExpectError: errRE(`Stopped Change Not Retried(.|\n)*Nothing was moved`),
			},
			checkStep(none),
		}, ""
	}},
	{name: "lost answers on a step", steps: func(t *testing.T, s *accSubj) ([]resource.TestStep, string) {
		if s.address == "rollout_feature_flag.test" {
			// A flag's write tells a lost answer from another writer by the
			// parameter's version, reading after it: it goes on.
			return []resource.TestStep{
				{Config: s.hcl(false, "", "")},
				{PreConfig: s.after(1, func() { s.e.Emu.FaultNext(s.writeAction, emulator.LostAnswer, 3) }), Config: s.hcl(true, canaryHCL(s.alarm, ""), "")},
				checkStep(s.expectLive(t, s.to)),
			}, ""
		}
		return []resource.TestStep{
			{Config: s.hcl(false, "", "")},
			{
				// Every try of step 2's write (max_retries = 2) loses its
				// answer after taking effect: the outcome is not known, so
				// the rollout puts back what it served before, reading first.
				PreConfig:   s.after(1, func() { s.e.Emu.FaultNext(s.writeAction, emulator.LostAnswer, 3) }),
				Config:      s.hcl(true, canaryHCL(s.alarm, ""), ""),
				ExpectError: errRE(`Rollout Rolled Back`),
			},
			checkStep(s.expectLive(t, s.from)),
		}, ""
	}},
	{name: "lost answer on create", steps: func(t *testing.T, s *accSubj) ([]resource.TestStep, string) {
		create := s.writeAction
		switch s.address {
		case "rollout_lambda_alias.test":
			create = "lambda:CreateAlias"
		}
		// The alias does not exist yet for the alias kit: delete it first.
		pre := func() { s.e.Emu.FaultNext(create, emulator.LostAnswer, 1) }
		if s.address == "rollout_lambda_alias.test" {
			pre = func() {
				fn := strings.TrimSuffix(s.importID, ":live")
				_, _ = s.e.Lambda().DeleteAlias(context.Background(), &lambda.DeleteAliasInput{FunctionName: aws.String(fn), Name: aws.String("live")})
				s.e.Emu.FaultNext(create, emulator.LostAnswer, 1)
			}
		}
		// The SDK tries again; the retry finds the first try's work. The
		// create succeeds, and the state holds what the emulator serves.
		return []resource.TestStep{{PreConfig: pre, Config: s.hcl(true, "", ""), Check: func(*terraform.State) error {
			if got := s.live(); !got.Equal(s.to()) {
				return fmt.Errorf("the subject serves %s, want %s", got.Short(), s.to().Short())
			}
			if s.e.Emu.Faulted()[emulator.LostAnswer] != 1 {
				return fmt.Errorf("no answer was lost: %v", s.e.Emu.Faulted())
			}
			return nil
		}}}, ""
	}},
	{name: "Ctrl-C mid-rollout", serial: true, steps: func(t *testing.T, s *accSubj) ([]resource.TestStep, string) {
		topic, q := s.snsNotices(t)
		return []resource.TestStep{
			{Config: s.hcl(false, "", "")},
			{PreConfig: s.afterCtx(1, func(ctx context.Context) { interruptEngine(t, ctx) }), Config: s.hcl(true, canaryHCL(s.alarm, notifications(topic, "")), ""), ExpectError: errRE(`Rollout Interrupted|execution halted|interrupt`)},
			checkStep(func() {
				if got := s.live(); got.Equal(s.from()) || got.Equal(s.to()) {
					t.Errorf("after Ctrl-C in step 1's pause the subject serves %s: want step 1, neither rolled back nor finished", got.Short())
				}
				// The run ends, where it is, with one end notice.
				if ns := s.readRun(t, q); len(ns) > 0 && ns[len(ns)-1].Type != rollout.NoticeFailed {
					t.Errorf("the notices were %v, want the run to end failed", acctest.Kinds(ns))
				}
				s.expectStatus(t, string(rollout.NoticeFailed))
			}),
		}, ""
	}},
	{name: "Ctrl-C mid-rollback", serial: true, steps: func(t *testing.T, s *accSubj) ([]resource.TestStep, string) {
		rollback := `rollback = "gradual"`
		return []resource.TestStep{
			{Config: s.hcl(false, "", "")},
			{
				PreConfig: func() {
					base := s.writes()
					var alarm, stop sync.Once
					s.e.Clock.OnSleep(func(ctx context.Context, d time.Duration, at time.Time) {
						switch n := s.writes() - base; {
						case n == 2: // in step 2's pause
							alarm.Do(func() { s.e.SetAlarmState(s.alarm, cwtypes.StateValueAlarm) })
						case n >= 3: // after the first rollback write
							stop.Do(func() { interruptEngine(t, ctx) })
						}
					})
				},
				Config:      s.hcl(true, canaryHCL(s.alarm, rollback), ""),
				ExpectError: errRE(`Rollout Rolled Back|interrupt`),
			},
			checkStep(s.expectLive(t, s.from)),
		}, ""
	}},
	{name: "tainted create's replacement", steps: func(t *testing.T, s *accSubj) ([]resource.TestStep, string) {
		if !s.createRuns {
			return nil, "n/a: its create runs no rollout, so it cannot roll back"
		}
		mark, none := s.noWritesSince(t)
		cfg := s.hcl(true, canaryHCL(s.alarm, ""), "")
		return []resource.TestStep{
			{PreConfig: s.after(1, func() { s.e.SetAlarmState(s.alarm, cwtypes.StateValueAlarm) }), Config: cfg, ExpectError: errRE(`Rolled Back|Release Failed`)},
			{
				// The tainted resource is replaced: its replacement refuses
				// the same change until rollout.attempt changes.
				PreConfig:   func() { s.e.SetAlarmState(s.alarm, cwtypes.StateValueOk); mark() },
				Config:      cfg,
				ExpectError: errRE(`Rolled-Back Change Not Retried`),
			},
			{PreConfig: func() { none(); s.expectLive(t, s.from)() }, Config: s.hcl(true, canaryHCL(s.alarm, `attempt = "2"`), ""), Check: func(*terraform.State) error {
				if got := s.live(); !got.Equal(s.to()) {
					return fmt.Errorf("with a new attempt the subject serves %s, want %s", got.Short(), s.to().Short())
				}
				return nil
			}},
		}, ""
	}},
	{name: "import of an owned subject", steps: func(t *testing.T, s *accSubj) ([]resource.TestStep, string) {
		mark, none := s.noWritesSince(t)
		name := s.address[strings.Index(s.address, ".")+1:]
		imported := s.hcl(false, "", "") + fmt.Sprintf("import {\n  to = %s\n  id = %q\n}\n", strings.Replace(s.address, "."+name, ".imported", 1), s.importID) +
			strings.Replace(strings.Replace(s.hcl(true, "", ""), s.e.ProviderConfig(), "", 1), "\""+name+"\"", "\"imported\"", 1)
		return []resource.TestStep{
			{Config: s.hcl(false, "", "")},
			{
				// The import copies no lease: its first write is refused.
				PreConfig:   mark,
				Config:      imported,
				ExpectError: errRE(`Has Another Owner(.|\n)*Nothing was moved`),
			},
			checkStep(func() { none(); s.expectLive(t, s.from)() }),
		}, ""
	}},
	{name: "destroy with restore after adoption", steps: func(t *testing.T, s *accSubj) ([]resource.TestStep, string) {
		restore := `on_destroy = "restore"`
		if s.address == "rollout_feature_flag.test" || s.address == "rollout_release.test" || s.address == bgRes {
			restore = "" // flags are deleted, releases never move traffic, blue/green always points away
		}
		return []resource.TestStep{
			{Config: s.hcl(true, "", restore)},
			// The second resource adopts it; the first one's next plan shows
			// that someone else moved it.
			{Config: s.hcl(true, "", restore) + s.other("adopt = true"), ExpectNonEmptyPlan: true},
			{
				// The first resource goes: it owns nothing any more, so it
				// leaves the subject to its new owner.
				Config: s.e.ProviderConfig() + s.other("adopt = true"),
				Check: func(*terraform.State) error {
					if got := s.live(); !got.Equal(s.otherSplit()) {
						return fmt.Errorf("after the first owner's destroy the subject serves %s, want the new owner's %s", got.Short(), s.otherSplit().Short())
					}
					return nil
				},
			},
		}, ""
	}},
	// Planned with -refresh=false: what the failed apply saved in the state
	// must be enough to refuse the change again.
	{name: "rolled-back change not retried, planned with -refresh=false", noRefresh: true, steps: func(t *testing.T, s *accSubj) ([]resource.TestStep, string) {
		mark, none := s.noWritesSince(t)
		cfg := s.hcl(true, canaryHCL(s.alarm, ""), "")
		return []resource.TestStep{
			{Config: s.hcl(false, "", "")},
			{PreConfig: s.after(1, func() { s.e.SetAlarmState(s.alarm, cwtypes.StateValueAlarm) }), Config: cfg, ExpectError: errRE(`Rolled Back|Release Failed`)},
			{PreConfig: func() { s.e.SetAlarmState(s.alarm, cwtypes.StateValueOk); mark() }, Config: cfg, ExpectError: errRE(`Rolled-Back Change Not Retried|Flag Switched Off By A Rollback`)},
			{PreConfig: func() { none(); s.expectLive(t, s.from)() }, Config: s.hcl(true, canaryHCL(s.alarm, `attempt = "2"`), "")},
		}, ""
	}},
}

// The rows for holds, promotes and runs that end early: each reads the
// notices the run published (to SNS) and the status tag it left.
func init() {
	accCases = append(accCases,
		accCase{name: "two holds promoted, a token reused", steps: func(t *testing.T, s *accSubj) ([]resource.TestStep, string) {
			if s.noHolds != "" {
				return nil, s.noHolds
			}
			topic, q := s.snsNotices(t)
			mark, none := s.noWritesSince(t)
			var first, second weights.Split
			cfg := func(promote, extra string) string {
				return s.hcl(true, holdsHCL(s.alarm, topic, promote), extra)
			}
			reused := `timeouts = { update = "3h" }`
			return []resource.TestStep{
				{Config: s.hcl(false, "", "")},
				// A held rollout's plan is empty until a promote.
				{Config: cfg("", "")},
				{
					PreConfig: func() {
						first = s.live()
						if first.Equal(s.from()) || first.Equal(s.to()) {
							t.Errorf("held at step 1, the subject serves %s", first.Short())
						}
						s.expectStatus(t, "held")
					},
					Config: cfg(`promote = "a"`, ""),
				},
				{
					// The token "a" promoted the first hold; an unrelated
					// change that keeps it promotes nothing.
					PreConfig: func() {
						second = s.live()
						if second.Equal(first) || second.Equal(s.to()) {
							t.Errorf("promoted once, the subject serves %s (held at step 1: %s)", second.Short(), first.Short())
						}
						s.expectStatus(t, "held")
						mark()
					},
					Config: cfg(`promote = "a"`, reused),
				},
				{
					PreConfig: func() {
						none()
						s.expectLive(t, func() weights.Split { return second })()
					},
					Config: cfg(`promote = "b"`, reused),
					Check: func(*terraform.State) error {
						if got := s.live(); !got.Equal(s.to()) {
							return fmt.Errorf("promoted twice, the subject serves %s, want %s", got.Short(), s.to().Short())
						}
						s.expectStatus(t, "succeeded")
						ns := s.readRun(t, q)
						if c := countTypes(ns); c["held"] != 2 || c["promoted"] != 2 {
							t.Errorf("the notices were %v: want two held and two promoted", acctest.Kinds(ns))
						}
						return nil
					},
				},
			}, ""
		}},
		accCase{name: "a hold timing out between plan and apply", steps: func(t *testing.T, s *accSubj) ([]resource.TestStep, string) {
			return holdTimesOut(t, s, "rollback")
		}},
		accCase{name: "a hold timing out between plan and apply, hold_timeout_action promote", steps: func(t *testing.T, s *accSubj) ([]resource.TestStep, string) {
			return holdTimesOut(t, s, "promote")
		}},
		accCase{name: "a gate unreadable beside one that reads", oneEngine: true, steps: func(t *testing.T, s *accSubj) ([]resource.TestStep, string) {
			// From step 1's pause on, the alarms cannot be read; whatever
			// else the subject's gates read (target health, a function's
			// metrics) reads fine. The unread gate rolls the run back.
			topic, q := s.snsNotices(t)
			return []resource.TestStep{
				{Config: s.hcl(false, "", "")},
				{
					PreConfig:   s.after(1, func() { s.e.Emu.FaultNext("monitoring:DescribeAlarms", emulator.ServerError, 1000) }),
					Config:      s.hcl(true, canaryHCL(s.alarm, notifications(topic, "")), ""),
					ExpectError: errRE(`Rolled Back|Release Failed`),
				},
				checkStep(func() {
					s.e.Emu.ClearFaults()
					s.expectLive(t, s.from)()
					if ns := s.readRun(t, q); len(ns) > 0 && ns[len(ns)-1].Type != rollout.NoticeRolledBack {
						t.Errorf("the notices were %v, want the run to end rolled_back", acctest.Kinds(ns))
					}
					s.expectStatus(t, string(rollout.NoticeRolledBack))
				}),
			}, ""
		}},
		accCase{name: "first write refused: one end notice, final status", oneEngine: true, steps: func(t *testing.T, s *accSubj) ([]resource.TestStep, string) {
			topic, q := s.snsNotices(t)
			return []resource.TestStep{
				{Config: s.hcl(false, "", "")},
				{
					PreConfig:   func() { s.e.Emu.FaultNext(s.writeAction, emulator.Denied, 1) },
					Config:      s.hcl(true, canaryHCL(s.alarm, notifications(topic, "")), ""),
					ExpectError: errRE(`Nothing was (moved|written)|keeps its previous|(AccessDenied|not authorized)`),
				},
				checkStep(func() {
					s.e.Emu.ClearFaults()
					s.expectLive(t, s.from)()
					ns := s.readRun(t, q)
					if got := strings.Join(typesOf(ns), " "); got != "started failed" {
						t.Errorf("the notices were %v, want started, failed", acctest.Kinds(ns))
					}
					s.expectStatus(t, "failed")
				}),
			}, ""
		}},
		accCase{name: "another owner takes it mid-rollout: one end notice, final status", oneEngine: true, steps: func(t *testing.T, s *accSubj) ([]resource.TestStep, string) {
			topic, q := s.snsNotices(t)
			var step1 weights.Split
			const owner = "rollout_traffic_split/someone-else"
			theirStatus := awsclient.StatusValue(rollout.Notice{Type: rollout.NoticeSucceeded, Step: 1, Steps: 1, At: time.Unix(1700000000, 0)})
			return []resource.TestStep{
				{Config: s.hcl(false, "", "")},
				{
					PreConfig: s.afterCtx(1, func(ctx context.Context) {
						step1 = s.live()
						had, err := s.lease.ReadLease(context.Background())
						if err == nil {
							err = s.lease.TakeLease(context.Background(), owner, had)
						}
						if err == nil {
							err = s.lease.SetStatus(context.Background(), theirStatus)
						}
						if err != nil {
							t.Errorf("another owner takes the subject: %v", err)
						}
					}),
					Config:      s.hcl(true, canaryHCL(s.alarm, notifications(topic, "")), ""),
					ExpectError: errRE(`Another Owner|Changed During Rollout`),
				},
				checkStep(func() {
					// It writes nothing more: no rollback over the new owner.
					s.expectLive(t, func() weights.Split { return step1 })()
					ns := s.readRun(t, q)
					if len(ns) == 0 || ns[len(ns)-1].Type != rollout.NoticeChanged {
						t.Errorf("the notices were %v, want the run to end with changed_during_rollout", acctest.Kinds(ns))
					}
					// Its tags are the new owner's, as it wrote them.
					if l, err := s.lease.ReadLease(context.Background()); err != nil || l.Owner != owner || l.Status != theirStatus {
						t.Errorf("the lease is %+v (%v); want the new owner's tags as it wrote them", l, err)
					}
				}),
			}, ""
		}},
	)
}

// The hand-back to observe, in the apply driver: while held it is
// refused with nothing written; rolled back first, it goes through, and
// nothing more is written. While running it is n/a: the apply driver's
// run lives inside one apply, which holds the state (no other apply can
// hand it back meanwhile), and it never records running once its apply
// ends; the detached rows hand back between the orchestrator's calls.
func init() {
	accCases = append(accCases,
		accCase{name: "hand-back to observe while running", steps: func(t *testing.T, s *accSubj) ([]resource.TestStep, string) {
			if s.observe == nil {
				return nil, noObserve
			}
			return nil, "n/a: the apply driver's run lives inside one apply, which holds the state: no other apply hands it back while it runs, and no run is recorded running once its apply ends (the detached rows hand back while running)"
		}},
		accCase{name: "hand-back to observe while held", steps: func(t *testing.T, s *accSubj) ([]resource.TestStep, string) {
			if s.observe == nil {
				return nil, noObserve
			}
			topic, q := s.snsNotices(t)
			mark, none := s.noWritesSince(t)
			var held weights.Split
			var owner string
			ro := holdsHCL(s.alarm, topic, "")
			hb := s.handedBack(t, q, none, rollout.NoticeRolledBack, s.from,
				resource.TestCheckResourceAttr(s.address, "target_groups.0.weight", "100"))
			return []resource.TestStep{
				{Config: s.hcl(false, "", "")},
				{
					Config: s.hcl(true, ro, ""),
					Check: func(*terraform.State) error {
						held = s.live()
						s.expectStatus(t, string(rollout.NoticeHeld))
						l, _ := s.lease.ReadLease(context.Background())
						owner = l.Owner
						mark()
						return nil
					},
				},
				{
					Config:      s.observe(),
					ExpectError: errRE(`Rollout Held(.|\n)*manage = "observe"(.|\n)*Nothing was written`),
				},
				{
					// Nothing was written: still held, still owned, no end
					// notice; it is rolled back from there.
					PreConfig: func() {
						none()
						s.expectLive(t, func() weights.Split { return held })()
						s.expectStatus(t, string(rollout.NoticeHeld))
						if l, err := s.lease.ReadLease(context.Background()); err != nil || l.Owner != owner || owner == "" {
							t.Errorf("after the refused hand-back the owner tag is %q (%v), want %q", l.Owner, err, owner)
						}
						q.mu.Lock()
						if got := typesOf(q.ns); len(got) == 0 || got[len(got)-1] != string(rollout.NoticeHeld) {
							t.Errorf("the notices were %v, want the run held, not ended", got)
						}
						q.mu.Unlock()
					},
					Config: s.hcl(false, ro, ""),
					Check:  resource.TestCheckResourceAttr(s.address, "last_rollout.status", "rolled_back"),
				},
				{
					PreConfig: func() { s.expectLive(t, s.from)(); mark() },
					Config:    s.observe(),
					Check:     hb.check,
				},
				hb.after,
			}, ""
		}},
	)
}

// holdTimesOut is a run held at step 1 whose hold_timeout (1h) passes
// between a plan and its saved apply: the plan showed the hold kept, so the
// apply refuses before any write; the next plan shows the timeout's action
// (rollback, or promote: the rest of the schedule), and the apply makes it.
func holdTimesOut(t *testing.T, s *accSubj, action string) ([]resource.TestStep, string) {
	if s.noHolds != "" {
		return nil, s.noHolds
	}
	topic, q := s.snsNotices(t)
	mark, none := s.noWritesSince(t)
	ro := fmt.Sprintf(`rollout = {
    strategy            = "canary"
    steps               = [{ percent = 10, pause = "hold" }, { percent = 50, pause = "2m" }, { percent = 100 }]
    poll_interval       = "1m"
    gates               = { alarms = [%q] }
    hold_timeout        = "1h"
    hold_timeout_action = %q%s
  }`, s.alarm, action, notifications(topic, ""))
	pass := act(func() { _ = s.e.Clock.Sleep(context.Background(), 61*time.Minute) })
	var held weights.Split
	end, want, errWant := rollout.NoticeRolledBack, s.from, `Rolled Back`
	if action == "promote" {
		end, want, errWant = rollout.NoticeSucceeded, s.to, ``
	}
	last := resource.TestStep{
		PreConfig: func() { none(); s.expectLive(t, func() weights.Split { return held })() },
		Config:    s.hcl(true, ro, `timeouts = { update = "3h" }`),
		Check: func(*terraform.State) error {
			s.expectLive(t, want)()
			if ns := s.readRun(t, q); len(ns) > 0 && ns[len(ns)-1].Type != end {
				t.Errorf("the notices were %v, want the run to end %s", acctest.Kinds(ns), end)
			}
			s.expectStatus(t, string(end))
			return nil
		},
	}
	if errWant != "" {
		// The apply ends in the rollback's error: Check does not run.
		last.Check = nil
		last.ExpectError = errRE(errWant)
	}
	steps := []resource.TestStep{
		{Config: s.hcl(false, "", "")},
		{Config: s.hcl(true, ro, "")},
		{
			// Planned before the timeout, with another change; applied
			// after it: refused, nothing written.
			PreConfig:        func() { held = s.live(); mark() },
			Config:           s.hcl(true, ro, `timeouts = { update = "3h" }`),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{pass}},
			ExpectError:      errRE(`Hold Timed Out Since Plan(.|\n)*Nothing was moved`),
		},
		last,
	}
	if errWant != "" {
		steps = append(steps, checkStep(func() {
			s.expectLive(t, want)()
			if ns := s.readRun(t, q); len(ns) > 0 && ns[len(ns)-1].Type != end {
				t.Errorf("the notices were %v, want the run to end %s", acctest.Kinds(ns), end)
			}
			s.expectStatus(t, string(end))
		}))
	}
	return steps, ""
}

// holdsHCL is a canary that holds after its first two steps, with notices
// to topic.
func holdsHCL(alarm, topic, extra string) string {
	return fmt.Sprintf(`rollout = {
    strategy      = "canary"
    steps         = [{ percent = 10, pause = "hold" }, { percent = 50, pause = "hold" }, { percent = 100 }]
    poll_interval = "1m"
    gates         = { alarms = [%q] }%s
    %s
  }`, alarm, notifications(topic, ""), extra)
}

// expectStatus checks the status tag the run left on the subject.
func (s *accSubj) expectStatus(t *testing.T, want string) {
	t.Helper()
	l, err := s.lease.ReadLease(context.Background())
	if err != nil {
		t.Errorf("reading the status tag: %v", err)
		return
	}
	st, ok := awsclient.ParseStatus(l.Status)
	if !ok || string(st.Type) != want {
		t.Errorf("the status tag says %q, want %s", l.Status, want)
	}
}

// published is what a run published to a topic, as the emulator's front
// received it (what the provider or the orchestrator sent; kumo's delivery
// from SNS on to a queue is not what these rows test, and it loses
// messages while other emulators start in the same process).
type published struct {
	mu sync.Mutex
	ns []rollout.Notice
}

// snsNotices makes a topic and records what is published to it.
func (s *accSubj) snsNotices(t *testing.T) (string, *published) {
	topic, _ := s.e.SNSNotices("conf")
	p := &published{}
	s.e.Emu.OnRequest(func(action string, form url.Values) {
		if action != "sns:Publish" || form.Get("TopicArn") != topic {
			return
		}
		var n rollout.Notice
		if err := json.Unmarshal([]byte(form.Get("Message")), &n); err != nil {
			t.Errorf("a published notice that is not one: %v", err)
			return
		}
		p.mu.Lock()
		p.ns = append(p.ns, n)
		p.mu.Unlock()
	})
	return topic, p
}

// readRun reads one run's notices (the provider's and the orchestrator's
// calls run in this process: every notice was published by then), in seq
// order, a repeated publish once, and checks what every run's notices
// promise: seq 1..n with no gap or repeat, one started_at, exactly one end
// notice, the last.
func (s *accSubj) readRun(t *testing.T, q *published) []rollout.Notice {
	t.Helper()
	q.mu.Lock()
	ns := slices.Clone(q.ns)
	q.mu.Unlock()
	sort.SliceStable(ns, func(i, j int) bool { return ns[i].Seq < ns[j].Seq })
	ns = slices.CompactFunc(ns, func(a, b rollout.Notice) bool { return a.Seq == b.Seq && a.Type == b.Type && a.Step == b.Step })
	ends := 0
	for i, n := range ns {
		if n.Seq != i+1 || !n.Started.Equal(ns[0].Started) {
			t.Errorf("notice %d is %s#%d started at %v (the run started at %v): want seq %d and one started_at; notices %v", i+1, n.Type, n.Seq, n.Started, ns[0].Started, i+1, acctest.Kinds(ns))
		}
		if isEndNotice(n.Type) {
			ends++
		}
	}
	if ends != 1 || len(ns) == 0 || !isEndNotice(ns[len(ns)-1].Type) {
		t.Errorf("the run sent %d end notices, want exactly one, last: %v", ends, acctest.Kinds(ns))
	}
	return ns
}

// isEndNotice says whether a notice ends its run.
func isEndNotice(t rollout.NoticeType) bool {
	switch t {
	case rollout.NoticeSucceeded, rollout.NoticeRolledBack, rollout.NoticeFailed, rollout.NoticeChanged:
		return true
	}
	return false
}

func typesOf(ns []rollout.Notice) []string {
	var out []string
	for _, n := range ns {
		out = append(out, string(n.Type))
	}
	return out
}

func countTypes(ns []rollout.Notice) map[string]int {
	c := map[string]int{}
	for _, n := range ns {
		c[string(n.Type)]++
	}
	return c
}

// checkStep checks the emulator (in PreConfig) and refreshes, whatever the
// plan then shows.
func checkStep(check func()) resource.TestStep {
	return resource.TestStep{PreConfig: check, RefreshState: true, ExpectNonEmptyPlan: true}
}

// interruptEngine sends SIGINT to this test binary's engine processes and
// waits until the provider's apply (ctx) is cancelled (signalEngine).
func interruptEngine(t *testing.T, ctx context.Context) { signalEngine(t, ctx, syscall.SIGINT) }

func TestAccConformance(t *testing.T) {
	for _, c := range accCases {
		for _, k := range accKits {
			name := c.name + "/" + k.name
			if c.serial {
				continue
			}
			t.Run(name, func(t *testing.T) {
				if c.oneEngine {
					acctest.OneEngine(t)
				}
				t.Parallel()
				s := k.make(t)
				steps, why := c.steps(t, s)
				if why != "" {
					t.Skip(why)
				}
				tc := resource.TestCase{ProtoV6ProviderFactories: s.e.Factories(), Steps: steps}
				if c.noRefresh {
					tc.AdditionalCLIOptions = &resource.AdditionalCLIOptions{Plan: resource.PlanOptions{NoRefresh: true}}
				}
				resource.Test(t, tc)
			})
		}
	}
}

// TestAccConformanceInterrupted runs the cases that signal the engine,
// one at a time: a signal goes to every engine this test binary runs.
func TestAccConformanceInterrupted(t *testing.T) {
	for _, c := range accCases {
		if !c.serial {
			continue
		}
		for _, k := range accKits {
			t.Run(c.name+"/"+k.name, func(t *testing.T) {
				s := k.make(t)
				steps, why := c.steps(t, s)
				if why != "" {
					t.Skip(why)
				}
				resource.Test(t, resource.TestCase{ProtoV6ProviderFactories: s.e.Factories(), Steps: steps})
			})
		}
	}
}

// handedBack is the end of a hand-back row: the split handed back to
// observe (after its run ended with end, serving live) has no owner and
// records how the run ended; at the refresh after it, nothing more was
// written, the run's last notice and the status tag say end.
func (s *accSubj) handedBack(t *testing.T, q *published, none func(), end rollout.NoticeType, live func() weights.Split, extra ...resource.TestCheckFunc) handBack {
	checks := append([]resource.TestCheckFunc{
		resource.TestCheckResourceAttr(s.address, "manage", "observe"),
		resource.TestCheckResourceAttr(s.address, "owner_tag", ""),
		resource.TestCheckResourceAttr(s.address, "last_rollout.status", string(end)),
		func(*terraform.State) error {
			if l, err := s.lease.ReadLease(context.Background()); err != nil || l.Owner != "" {
				return fmt.Errorf("handed back, the owner tag is %q (%v), want none", l.Owner, err)
			}
			return nil
		},
	}, extra...)
	return handBack{check: resource.ComposeAggregateTestCheckFunc(checks...), after: resource.TestStep{
		RefreshState: true,
		Check: func(*terraform.State) error {
			none()
			s.expectLive(t, live)()
			if ns := s.readRun(t, q); len(ns) > 0 && ns[len(ns)-1].Type != end {
				t.Errorf("the notices were %v, want the run to end %s", acctest.Kinds(ns), end)
			}
			s.expectStatus(t, string(end))
			return nil
		},
	}}
}

// handBack is the check of the hand-back's step, and the step after it.
type handBack struct {
	check resource.TestCheckFunc
	after resource.TestStep
}
