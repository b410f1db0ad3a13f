package provider_test

import (
	"context"
	"encoding/json"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/rolloutdev/terraform-provider-rollout/flag"
	"github.com/rolloutdev/terraform-provider-rollout/internal/acctest"
	"github.com/rolloutdev/terraform-provider-rollout/internal/awsclient"
	"github.com/rolloutdev/terraform-provider-rollout/internal/emulator"
	"github.com/rolloutdev/terraform-provider-rollout/internal/provider"
	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
	"github.com/rolloutdev/terraform-provider-rollout/internal/subjects/featureflag"
	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

// The subject conformance table: every guarantee of the traffic pipeline is
// a case written once, and every case runs on every subject the pipeline
// moves (a listener's or a rule's forward action, a Lambda alias, a flag's
// ramp), driving the pipeline directly over the emulator, on the fake
// clock. A subject is not done until it passes the table. The resources
// (splits, blue/green flips, releases, aliases and flags, each with its own
// resource code) run the same cases and the rows of holds, promotes and
// early ends through real engines in conformance_acc_test.go, and
// generated histories of them in model_test.go.

// subj is one subject set up at the emulator, with what a case needs to
// act on it as a person would and to read what it serves.
type subj struct {
	e     *acctest.Env
	c     *awsclient.Client
	s     provider.Subject
	from  weights.Split
	to    weights.Split
	steps []rollout.Step
	// set is a person's write; setRest a person's change of the rest of
	// the subject (a flag's kill switch), nil when it has none.
	set     func(weights.Split)
	setRest func()
	live    func() weights.Split
	// writeAction and readAction are the emulator actions of the subject's
	// writes and reads.
	writeAction, readAction string
	// writes counts the writes of writeAction the emulator received, and
	// person those a person made.
	person int
	// alarm gates every change; failAlarm makes it fire.
	alarm string
}

func (s *subj) providerWrites() int { return s.e.Emu.Count(s.writeAction) - s.person }

func (s *subj) personSets(w weights.Split) {
	before := s.e.Emu.Count(s.writeAction)
	s.set(w)
	s.person += s.e.Emu.Count(s.writeAction) - before
}

func (s *subj) failAlarm() { s.e.SetAlarmState(s.alarm, cwtypes.StateValueAlarm) }

// spec is the change from -> to as a canary with an alarm gate.
func (s *subj) spec() provider.Spec {
	return provider.Spec{From: s.from, To: s.to, Steps: s.steps, Poll: time.Minute, Alarms: []string{s.alarm}, ReadFirst: true, Owner: true}
}

// step is the weights of the nth step (from 1) of the spec's schedule.
func (s *subj) step(t *testing.T, n int) weights.Split {
	t.Helper()
	steps, err := rollout.Plan(s.from, s.to, rollout.Strategy{Kind: rollout.Canary, Steps: s.steps})
	if err != nil {
		t.Fatal(err)
	}
	norm := steps[n-1].Weights
	if nz, ok := s.s.Router().(rollout.Normalizer); ok {
		norm = nz.Normalize(norm)
	}
	return norm
}

// kit sets a kind of subject up.
type kit struct {
	name string
	make func(t *testing.T, e *acctest.Env, c *awsclient.Client) *subj
}

func conformanceClient(t *testing.T, e *acctest.Env) *awsclient.Client {
	t.Helper()
	u := e.Emu.URL
	c, err := awsclient.New(context.Background(), awsclient.Config{Region: acctest.Region, MaxRetries: 0,
		Endpoints: awsclient.Endpoints{ELBv2: u, CloudWatch: u, Lambda: u, SSM: u}}, e.Clock)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var canary3 = []rollout.Step{{Percent: 10, Pause: 2 * time.Minute}, {Percent: 50, Pause: 2 * time.Minute}, {Percent: 100}}

func listenerKit(name string, rule bool, attr path.Path) kit {
	return kit{name: name, make: func(t *testing.T, e *acctest.Env, c *awsclient.Client) *subj {
		f := e.NewFixture(2)
		ref := awsclient.Ref{ListenerARN: f.Listener}
		action := "elasticloadbalancing:ModifyListener"
		if rule {
			ref = awsclient.Ref{RuleARN: e.Rule(f.Listener, f.TGs[0], 10)}
			action = "elasticloadbalancing:ModifyRule"
		}
		from := weights.Split{{ARN: f.TGs[0], Weight: 100}, {ARN: f.TGs[1], Weight: 0}}
		s := &subj{e: e, c: c, s: provider.ListenerSubject(c, ref, attr), from: from, to: weights.Split{{ARN: f.TGs[0], Weight: 0}, {ARN: f.TGs[1], Weight: 100}}, person: e.Emu.Count(action),
			steps: canary3, writeAction: action, readAction: map[bool]string{false: "elasticloadbalancing:DescribeListeners", true: "elasticloadbalancing:DescribeRules"}[rule], alarm: e.Alarm("conf"),
			set:  func(w weights.Split) { e.SetWeights(ref, w) },
			live: func() weights.Split { got, _ := e.Forward(ref); return got.Split }}
		s.personSets(from)
		return s
	}}
}

func aliasKit() kit {
	return kit{name: "lambda alias", make: func(t *testing.T, e *acctest.Env, c *awsclient.Client) *subj {
		fn := e.LambdaFunction("conf", 3)
		ref := awsclient.AliasRef{Function: fn, Alias: "live"}
		if _, err := c.CreateAlias(context.Background(), ref, "1", ""); err != nil {
			t.Fatal(err)
		}
		set := func(w weights.Split) {
			v, add, err := awsclient.AliasOf(w, "1")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.Lambda().UpdateAlias(context.Background(), &lambda.UpdateAliasInput{FunctionName: aws.String(fn), Name: aws.String("live"), FunctionVersion: aws.String(v),
				RoutingConfig: &lambdatypes.AliasRoutingConfiguration{AdditionalVersionWeights: add}}); err != nil {
				t.Fatalf("UpdateAlias: %v", err)
			}
		}
		return &subj{e: e, c: c, s: provider.AliasSubject(c, ref), from: weights.Split{{ARN: "1", Weight: 1}}, to: weights.Split{{ARN: "2", Weight: 1}},
			steps: canary3, writeAction: "lambda:UpdateAlias", readAction: "lambda:GetAlias", alarm: e.Alarm("conf"), set: set,
			live: func() weights.Split {
				a, err := c.ReadAlias(context.Background(), ref)
				if err != nil {
					t.Fatal(err)
				}
				return a.Split()
			}}
	}}
}

func flagKit() kit {
	return kit{name: "flag ramp", make: func(t *testing.T, e *acctest.Env, c *awsclient.Client) *subj {
		name := "/rollout/flags/" + acctest.Name("conf")
		doc := func(pct int, kill bool) string {
			f := flag.Flag{SchemaVersion: flag.SchemaVersion, Key: name[strings.LastIndex(name, "/")+1:], Enabled: true, RolloutPercentage: pct, KillSwitch: kill}
			b, _ := jsonMarshal(f)
			return b
		}
		e.PutParameter(name, doc(0, false))
		s := &subj{e: e, c: c, s: provider.FlagSubject(c, name), from: featureflag.Split(0), to: featureflag.Split(100),
			steps: canary3, writeAction: "ssm:PutParameter", readAction: "ssm:GetParameter", alarm: e.Alarm("conf"),
			live: func() weights.Split {
				_, f, err := c.ReadFlag(context.Background(), name)
				if err != nil {
					t.Fatal(err)
				}
				return featureflag.Split(f.RolloutPercentage)
			}}
		s.set = func(w weights.Split) { e.PutParameter(name, doc(featureflag.PercentageOf(w), false)) }
		s.setRest = func() {
			before := e.Emu.Count(s.writeAction)
			_, f, _ := c.ReadFlag(context.Background(), name)
			e.PutParameter(name, doc(f.RolloutPercentage, true))
			s.person += e.Emu.Count(s.writeAction) - before
		}
		s.person = e.Emu.Count(s.writeAction) // the PutParameter above
		return s
	}}
}

var kits = []kit{
	listenerKit("split on a listener", false, path.Root("target_groups")),
	listenerKit("split on a rule", true, path.Root("target_groups")),
	aliasKit(),
	flagKit(),
}

// onSecondPause runs fn once, during the first step's pause, after the
// provider's first write.
func onFirstPause(s *subj, fn func()) {
	var once sync.Once
	s.e.Clock.OnSleep(func(context.Context, time.Duration, time.Time) {
		if s.providerWrites() >= 1 {
			once.Do(fn)
		}
	})
}

func hasError(d diag.Diagnostics, re string) bool {
	for _, x := range d.Errors() {
		if regexp.MustCompile(re).MatchString(x.Summary() + "\n" + x.Detail()) {
			return true
		}
	}
	return false
}

func sameSplit(t *testing.T, what string, got, want weights.Split) {
	t.Helper()
	if !got.Equal(want) {
		t.Fatalf("%s: %s, want %s", what, got.Short(), want.Short())
	}
}

// conformanceCase is one guarantee. run returns "" when it held, or
// "n/a: why" when it does not apply to the subject.
type conformanceCase struct {
	name string
	run  func(t *testing.T, s *subj) string
}

var conformanceCases = []conformanceCase{
	{"stale saved plan", func(t *testing.T, s *subj) string {
		oncall := s.step(t, 2)
		s.personSets(oncall)
		out := provider.RunChange(context.Background(), s.c, s.s, s.spec())
		if !hasError(out.Diags, `Changed Since Plan(.|\n)*Nothing was moved`) || s.providerWrites() != 0 {
			t.Fatalf("%s; %d writes", provider.Summaries(out.Diags), s.providerWrites())
		}
		sameSplit(t, "serves", s.live(), oncall)
		return ""
	}},
	{"hand change mid-rollout", func(t *testing.T, s *subj) string {
		onFirstPause(s, func() { s.personSets(s.from) }) // on-call puts everything back
		out := provider.RunChange(context.Background(), s.c, s.s, s.spec())
		if !hasError(out.Diags, `Changed During Rollout(.|\n)*wrote nothing more, not even a rollback`) || s.providerWrites() != 1 {
			t.Fatalf("%s; %d provider writes, want 1 (step 1)", provider.Summaries(out.Diags), s.providerWrites())
		}
		if out.Res.Failure == nil || out.Res.Failure.Gate != rollout.GateChanged || !out.Moved {
			t.Fatalf("result %+v", out.Res)
		}
		sameSplit(t, "serves", s.live(), s.from)
		sameSplit(t, "recorded", out.Res.Current, s.from)
		last := provider.LastRollout(out.Res, s.to, "")
		if g := last.Attributes()["gate"].(types.String).ValueString(); g != string(rollout.GateChanged) {
			t.Fatalf("last_rollout.gate %q", g)
		}
		return ""
	}},
	{"hand change, then a failed gate", func(t *testing.T, s *subj) string {
		other := s.step(t, 2)
		onFirstPause(s, func() { s.personSets(other); s.failAlarm() })
		out := provider.RunChange(context.Background(), s.c, s.s, s.spec())
		if !hasError(out.Diags, `Changed During Rollout`) || s.providerWrites() != 1 {
			t.Fatalf("%s; %d provider writes, want 1: no rollback over the person's change", provider.Summaries(out.Diags), s.providerWrites())
		}
		sameSplit(t, "serves", s.live(), other)
		return ""
	}},
	{"the rest changed mid-rollout", func(t *testing.T, s *subj) string {
		if s.setRest == nil {
			return "n/a: the rollout writes all of the subject (nothing else to change)"
		}
		onFirstPause(s, s.setRest)
		out := provider.RunChange(context.Background(), s.c, s.s, s.spec())
		if !hasError(out.Diags, `Changed During Rollout`) || s.providerWrites() != 1 {
			t.Fatalf("%s; %d provider writes", provider.Summaries(out.Diags), s.providerWrites())
		}
		return ""
	}},
	{"lost answer on a step", func(t *testing.T, s *subj) string {
		var once sync.Once
		s.e.Clock.OnSleep(func(context.Context, time.Duration, time.Time) {
			if s.providerWrites() == 1 {
				once.Do(func() { s.e.Emu.FaultNext(s.writeAction, emulator.LostAnswer, 1) })
			}
		})
		out := provider.RunChange(context.Background(), s.c, s.s, s.spec())
		// Step 2's write landed and its answer was lost. A router that can
		// tell (a flag, by its version) goes on; otherwise the outcome is not
		// known, and the runner puts back what it served before the apply.
		switch {
		case out.Res.NothingMoved() || !out.Moved:
			t.Fatalf("a write whose answer was lost was reported as nothing moved: %+v", out.Res)
		case out.Res.Status == rollout.RolledBack:
			sameSplit(t, "serves", s.live(), s.from)
		case out.Res.Status == rollout.Succeeded:
			sameSplit(t, "serves", s.live(), s.to)
		default:
			t.Fatalf("result %+v; %s", out.Res, provider.Summaries(out.Diags))
		}
		sameSplit(t, "recorded", out.Res.Current, s.live())
		return ""
	}},
	{"lost answer on the first write", func(t *testing.T, s *subj) string {
		s.e.Emu.FaultNext(s.writeAction, emulator.LostAnswer, 1)
		out := provider.RunChange(context.Background(), s.c, s.s, s.spec())
		if out.Res.NothingMoved() || !out.Moved {
			t.Fatalf("a write whose answer was lost was reported as nothing moved: %+v", out.Res)
		}
		sameSplit(t, "serves what is recorded", s.live(), out.Res.Current)
		return ""
	}},
	{"a lost answer, then nothing readable", func(t *testing.T, s *subj) string {
		// Step 2's write lands and its answer is lost; from then on no read
		// gets an answer.
		var armed, once sync.Once
		s.e.Clock.OnSleep(func(context.Context, time.Duration, time.Time) {
			if s.providerWrites() == 1 {
				armed.Do(func() { s.e.Emu.FaultNext(s.writeAction, emulator.LostAnswer, 1) })
			}
		})
		s.e.Emu.OnRequest(func(action string, _ url.Values) {
			if action == s.writeAction && s.providerWrites() == 2 {
				once.Do(func() { s.e.Emu.FaultNext(s.readAction, emulator.ServerError, 50) })
			}
		})
		out := provider.RunChange(context.Background(), s.c, s.s, s.spec())
		if !out.Res.Unknown || !hasError(out.Diags, `Weights Unknown`) {
			t.Fatalf("result %+v; %s", out.Res, provider.Summaries(out.Diags))
		}
		return ""
	}},
	{"Ctrl-C mid-rollout", func(t *testing.T, s *subj) string {
		ctx, cancel := context.WithCancel(context.Background())
		onFirstPause(s, cancel)
		out := provider.RunChange(ctx, s.c, s.s, s.spec())
		if !hasError(out.Diags, `Rollout Interrupted`) || s.providerWrites() != 1 {
			t.Fatalf("%s; %d writes", provider.Summaries(out.Diags), s.providerWrites())
		}
		sameSplit(t, "serves step 1", s.live(), s.step(t, 1))
		sameSplit(t, "recorded", out.Res.Current, s.step(t, 1))
		return ""
	}},
	{"Ctrl-C mid-rollback", func(t *testing.T, s *subj) string {
		ctx, cancel := context.WithCancel(context.Background())
		spec := s.spec()
		spec.Policy = rollout.Gradual
		var once sync.Once
		s.e.Clock.OnSleep(func(context.Context, time.Duration, time.Time) {
			switch s.providerWrites() {
			case 2:
				once.Do(s.failAlarm) // in step 2's pause
			case 3:
				cancel() // after the first rollback write
			}
		})
		out := provider.RunChange(ctx, s.c, s.s, spec)
		if out.Res.Status != rollout.RolledBack {
			t.Fatalf("result %+v; %s", out.Res, provider.Summaries(out.Diags))
		}
		sameSplit(t, "serves", s.live(), s.from)
		return ""
	}},
	{"Ctrl-C before a release rolls a started service back", func(t *testing.T, s *subj) string {
		// The release moved the subject to `to`; Ctrl-C came; rollback =
		// "started" must still finish, reading first on a live context.
		s.personSets(s.to)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		spec := s.spec()
		spec.Policy = rollout.Gradual
		res, diags := provider.RollBackChange(ctx, s.c, s.s, spec, s.to, "api failed")
		if res.Status != rollout.RolledBack {
			t.Fatalf("result %+v; %s", res, provider.Summaries(diags))
		}
		sameSplit(t, "serves", s.live(), s.from)
		return ""
	}},
	{"rolled-back change not retried", func(t *testing.T, s *subj) string {
		return notRetried(t, s, rollout.Result{Status: rollout.RolledBack, Failure: &rollout.Failure{Gate: rollout.GateAlarm}, Policy: rollout.Immediate, Current: s.from}, `Rolled-Back Change Not Retried`)
	}},
	{"held change not retried", func(t *testing.T, s *subj) string {
		return notRetried(t, s, rollout.Result{Status: rollout.Failed, Failure: &rollout.Failure{Gate: rollout.GateAlarm}, Policy: rollout.None, Current: s.step(t, 1)}, `Held Change Not Retried`)
	}},
	{"stopped change not retried", func(t *testing.T, s *subj) string {
		return notRetried(t, s, rollout.Result{Status: rollout.Failed, Failure: &rollout.Failure{Gate: rollout.GateChanged}, Current: s.from}, `Stopped Change Not Retried`)
	}},
	{"tainted create's replacement", func(t *testing.T, s *subj) string {
		// The create rolled back; the engine destroys the tainted resource
		// (its lease given up, the outcome left on the subject) and creates
		// it again: the replacement refuses the same change.
		token, d := provider.Claim(context.Background(), s.s, "", false, s.to, "")
		if d.HasError() {
			t.Fatal(provider.Summaries(d))
		}
		last := provider.LastRollout(rollout.Result{Status: rollout.RolledBack, Failure: &rollout.Failure{Gate: rollout.GateAlarm}, Policy: rollout.Immediate}, s.to, "")
		if d := provider.ReleaseLease(context.Background(), s.s, token, last); d.HasError() {
			t.Fatal(provider.Summaries(d))
		}
		spec := s.spec()
		spec.ReadFirst = false
		out := provider.RunChange(context.Background(), s.c, s.s, spec)
		if !hasError(out.Diags, `Rolled-Back Change Not Retried`) || s.providerWrites() != 0 {
			t.Fatalf("%s; %d writes", provider.Summaries(out.Diags), s.providerWrites())
		}
		spec.Attempt = "2"
		if out := provider.RunChange(context.Background(), s.c, s.s, spec); out.Diags.HasError() || out.Res.Status != rollout.Succeeded {
			t.Fatalf("with a new attempt: %s", provider.Summaries(out.Diags))
		}
		return ""
	}},
	{"import of an owned subject", func(t *testing.T, s *subj) string {
		if _, d := provider.Claim(context.Background(), s.s, "", false, nil, ""); d.HasError() {
			t.Fatal(provider.Summaries(d))
		}
		// The import holds no token (it never copies one): its first write
		// is refused, like a create, until adopt.
		out := provider.RunChange(context.Background(), s.c, s.s, s.spec())
		if !hasError(out.Diags, `Has Another Owner(.|\n)*Nothing was moved`) || s.providerWrites() != 0 {
			t.Fatalf("%s; %d writes", provider.Summaries(out.Diags), s.providerWrites())
		}
		spec := s.spec()
		spec.Adopt = true
		if out := provider.RunChange(context.Background(), s.c, s.s, spec); out.Diags.HasError() || out.Token == "" {
			t.Fatalf("with adopt: %s", provider.Summaries(out.Diags))
		}
		return ""
	}},
	{"destroy with restore after adoption", func(t *testing.T, s *subj) string {
		mine, d := provider.Claim(context.Background(), s.s, "", false, nil, "")
		if d.HasError() {
			t.Fatal(provider.Summaries(d))
		}
		if _, d := provider.Claim(context.Background(), s.s, "", true, nil, ""); d.HasError() {
			t.Fatal(provider.Summaries(d))
		}
		if owner, ok := provider.StillOwned(context.Background(), s.s, mine); ok || owner == "" {
			t.Fatalf("the first owner still owns it after an adoption (owner %q)", owner)
		}
		// And a restore guarded by what the subject serves writes nothing
		// over someone else's change.
		s.personSets(s.step(t, 1))
		d = provider.Restore(context.Background(), s.c, s.s, s.from, s.to)
		if s.providerWrites() != 0 || len(d.Warnings()) == 0 {
			t.Fatalf("restore: %s, %d writes", provider.Summaries(d), s.providerWrites())
		}
		return ""
	}},
}

func notRetried(t *testing.T, s *subj, last rollout.Result, want string) string {
	t.Helper()
	spec := s.spec()
	spec.Last, spec.LastTo = &last, s.to
	s.personSets(last.Current)
	spec.From = last.Current
	out := provider.RunChange(context.Background(), s.c, s.s, spec)
	if !hasError(out.Diags, want+`(.|\n)*Nothing was moved`) || s.providerWrites() != 0 {
		t.Fatalf("%s; %d writes", provider.Summaries(out.Diags), s.providerWrites())
	}
	spec.Attempt = "2"
	if out := provider.RunChange(context.Background(), s.c, s.s, spec); out.Diags.HasError() {
		t.Fatalf("with a new attempt: %s", provider.Summaries(out.Diags))
	}
	return ""
}

func TestConformance(t *testing.T) {
	t.Parallel()
	for _, c := range conformanceCases {
		for _, k := range kits {
			t.Run(c.name+"/"+k.name, func(t *testing.T) {
				t.Parallel()
				e := acctest.NewEnv(t)
				s := k.make(t, e, conformanceClient(t, e))
				if why := c.run(t, s); why != "" {
					t.Skip(why)
				}
			})
		}
	}
}

func jsonMarshal(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}
