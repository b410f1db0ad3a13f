package provider_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"

	"github.com/rolloutdev/terraform-provider-rollout/flag"
	"github.com/rolloutdev/terraform-provider-rollout/internal/acctest"
	"github.com/rolloutdev/terraform-provider-rollout/internal/awsclient"
	"github.com/rolloutdev/terraform-provider-rollout/internal/clock"
	"github.com/rolloutdev/terraform-provider-rollout/internal/emulator"
	"github.com/rolloutdev/terraform-provider-rollout/internal/provider"
	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
	"github.com/rolloutdev/terraform-provider-rollout/internal/subjects"
	"github.com/rolloutdev/terraform-provider-rollout/internal/subjects/featureflag"
	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

// The model-based checker. A seed generates a history of what users,
// people and AWS do to one subject, run through the real resource code
// (acctest.Engine: the plugin protocol in-process, as core drives it, on
// the fake clock):
//
//   - a schedule of 1 to 4 steps with holds (several), pauses, a rollback
//     policy, a hold timeout and its action, notices to SNS, to
//     EventBridge or to both (model_notices_test.go);
//   - in a third of the histories, the rollouts run detached
//     (model_detached_test.go): the applies start, promote and abort; the
//     orchestrator's calls (the state machine played in-process,
//     acctest.States) advance the run while the apply waits, after it,
//     between a plan and its apply and as time passes (a hold that times
//     out is the orchestrator's); a call's answer lost (the call repeated
//     with the same input) or every retry of a call failed (Recover);
//   - in a third, a busy API budget: api_budget at low rates, the pacer on
//     the fake clock, other rollouts leaving every class in debt at each
//     pause and poll (model_budget_test.go; an apply with an alarm under
//     it is held to the invariants alone: when the alarm is seen is not
//     the seed's, see racesAlarm);
//   - a sequence of operations: applying the change, promoting with a new
//     token, an unrelated change that reuses the token, a retry with a new
//     attempt, going back to where the run started, refreshing, time
//     passing (past a hold timeout, between a plan and its apply too);
//   - inside applies: an alarm firing at a chosen write, a person changing
//     the subject, a lost answer or a failed request, a Ctrl-C; SNS or
//     EventBridge failing (server error, throttle, denied, reset, lost
//     answer) or slow, within the notifier's bound or past it (on a notice
//     clock of its own, provider.WithNoticeClock: no real wait).
//
// A reference model (mRun) follows the history: from each plan and the
// events, it says which writes may come next and in which order (only the
// next planned step, or the way back), what the apply must do given what
// its plan showed, and, where nothing uncertain happened, how the run ends,
// what last_rollout and the status tag say and which notices are sent.
// Invariants checked on every history:
//
//	writes   only the next planned step, or the way back, from what the
//	         last write left; nothing after a person's change; nothing when
//	         the plan showed nothing to do
//	plan     the apply does what its plan said (the engine holds the provider
//	         to core's rules: no inconsistent final plan or result)
//	record   last_rollout and the subject's status tag say what the subject
//	         serves and how the run stands
//	notices  one started_at per run; seq 1..n, a repeat only of the same
//	         notice; exactly one end notice per run that ended, none after,
//	         at each destination; each notice not delivered is counted:
//	         notices_undelivered exact in a clean apply, and where one
//	         destination fails beside a healthy one
//	budget   (busy budget) no request waits for a token between two writes
//	         of a rollback
//
// make test runs a few hundred seeds (ROLLOUT_MODEL_SEEDS, bounded by
// ROLLOUT_MODEL_BUDGET; ROLLOUT_MODEL_FIRST starts a wide run elsewhere);
// make fuzz runs FuzzModel; a failing seed prints the
// command that replays it alone.

// mSubj is one subject, managed by its real resource, at the emulator.
type mSubj struct {
	e    *acctest.Env
	kind string
	typ  string
	// holds is false for a subject whose resource refuses holds (a
	// release's service).
	holds bool
	// from and to are what the subject serves before and after the change.
	from, to weights.Split
	// config is the resource's configuration at w (from or to), with a
	// rollout block (nil: none) and extra attributes.
	config func(w weights.Split, ro map[string]any) map[string]any
	live   func() weights.Split
	set    func(w weights.Split)
	// writes lists every write the subject received, a person's included.
	writes func() []weights.Split
	lease  awsclient.LeaseStore
	norm   rollout.Normalizer
	alarm  string
	// colors, when set, learns from and to once the resource is created
	// (a blue/green's target groups).
	colors func()
	// rolloutAt and lastAt are where the rollout block and last_rollout
	// are in the state ("rollout", "last_rollout" when empty).
	rolloutAt, lastAt string
}

type mKit struct {
	name string
	make func(t *testing.T, e *acctest.Env, c *awsclient.Client) *mSubj
}

func mTGs(s weights.Split) []any {
	var out []any
	for _, t := range s {
		out = append(out, map[string]any{"arn": t.ARN, "weight": t.Weight})
	}
	return out
}

func mSplitKit(name string, rule bool) mKit {
	return mKit{name: name, make: func(t *testing.T, e *acctest.Env, c *awsclient.Client) *mSubj {
		f := e.NewFixture(2)
		ref, attr := awsclient.Ref{ListenerARN: f.Listener}, "listener_arn"
		if rule {
			ref, attr = awsclient.Ref{RuleARN: e.Rule(f.Listener, f.TGs[0], 10)}, "rule_arn"
		}
		from := weights.Split{{ARN: f.TGs[0], Weight: 100}, {ARN: f.TGs[1], Weight: 0}}
		e.SetWeights(ref, from)
		return &mSubj{e: e, kind: name, typ: "rollout_traffic_split", holds: true, from: from,
			to: weights.Split{{ARN: f.TGs[0], Weight: 0}, {ARN: f.TGs[1], Weight: 100}},
			config: func(w weights.Split, ro map[string]any) map[string]any {
				return map[string]any{attr: ref.ID(), "target_groups": mTGs(w), "rollout": ro}
			},
			live:   func() weights.Split { got, _ := e.Forward(ref); return got.Split },
			set:    func(w weights.Split) { e.SetWeights(ref, w) },
			writes: e.RecordSplitsOf(ref.ID()), lease: awsclient.ListenerLease(c, ref), alarm: e.Alarm("model")}
	}}
}

func mReleaseKit() mKit {
	return mKit{name: "release service", make: func(t *testing.T, e *acctest.Env, c *awsclient.Client) *mSubj {
		f := e.NewFixture(2)
		ref := awsclient.Ref{ListenerARN: f.Listener}
		from := weights.Split{{ARN: f.TGs[0], Weight: 100}, {ARN: f.TGs[1], Weight: 0}}
		e.SetWeights(ref, from)
		return &mSubj{e: e, kind: "release service", typ: "rollout_release", from: from, rolloutAt: "services.api.rollout", lastAt: "services.api.last_rollout",
			to: weights.Split{{ARN: f.TGs[0], Weight: 0}, {ARN: f.TGs[1], Weight: 100}},
			config: func(w weights.Split, ro map[string]any) map[string]any {
				return map[string]any{"services": map[string]any{"api": map[string]any{"listener_arn": f.Listener, "target_groups": mTGs(w), "rollout": ro}}}
			},
			live:   func() weights.Split { got, _ := e.Forward(ref); return got.Split },
			set:    func(w weights.Split) { e.SetWeights(ref, w) },
			writes: e.RecordSplitsOf(ref.ID()), lease: awsclient.ListenerLease(c, ref), alarm: e.Alarm("model")}
	}}
}

func mBlueGreenKit() mKit {
	return mKit{name: "blue/green flip", make: func(t *testing.T, e *acctest.Env, c *awsclient.Client) *mSubj {
		f := e.NewFixture(1)
		ref := awsclient.Ref{ListenerARN: f.Listener}
		prefix := strings.ReplaceAll(acctest.Name("mbg"), "_", "-")
		s := &mSubj{e: e, kind: "blue/green flip", typ: "rollout_deployment_bluegreen", holds: true,
			live:   func() weights.Split { got, _ := e.Forward(ref); return got.Split },
			set:    func(w weights.Split) { e.SetWeights(ref, w) },
			writes: e.RecordSplitsOf(ref.ID()), lease: awsclient.ListenerLease(c, ref), alarm: e.Alarm("model")}
		s.config = func(w weights.Split, ro map[string]any) map[string]any {
			active := "blue"
			if s.to != nil && weights.SameShares(w, s.to) {
				active = "green"
			}
			return map[string]any{"listener_arn": f.Listener, "name_prefix": prefix, "port": 8080, "protocol": "HTTP",
				"vpc_id": e.VPC, "target_type": "ip", "active": active, "rollout": ro}
		}
		// The colors exist once the resource is created (mHistory.create
		// calls colors after it).
		s.colors = func() {
			blue, green := bgColors(e, prefix)
			s.from = weights.Split{{ARN: blue, Weight: 100}, {ARN: green, Weight: 0}}
			s.to = weights.Split{{ARN: blue, Weight: 0}, {ARN: green, Weight: 100}}
		}
		return s
	}}
}

func mAliasKit() mKit {
	return mKit{name: "lambda alias", make: func(t *testing.T, e *acctest.Env, c *awsclient.Client) *mSubj {
		fn := e.LambdaFunction("model", 2)
		if _, err := e.Lambda().CreateAlias(context.Background(), &lambda.CreateAliasInput{FunctionName: aws.String(fn), Name: aws.String("live"), FunctionVersion: aws.String("1")}); err != nil {
			t.Fatal(err)
		}
		ref := awsclient.AliasRef{Function: fn, Alias: "live"}
		version := func(w weights.Split) string {
			for _, x := range w {
				if x.Weight > 0 {
					return x.ARN
				}
			}
			return "1"
		}
		return &mSubj{e: e, kind: "lambda alias", typ: "rollout_lambda_alias", holds: true,
			from: weights.Split{{ARN: "1", Weight: 1}}, to: weights.Split{{ARN: "2", Weight: 1}},
			config: func(w weights.Split, ro map[string]any) map[string]any {
				return map[string]any{"function_name": fn, "alias_name": "live", "version": version(w), "rollout": ro}
			},
			live: func() weights.Split {
				got, err := subjects.Router(c, subjects.Ref{Alias: &ref}).Read(context.Background())
				if err != nil {
					t.Fatalf("reading the alias: %v", err)
				}
				return got.Split
			},
			set: func(w weights.Split) {
				v, add, err := awsclient.AliasOf(w, "1")
				if err != nil {
					t.Fatal(err)
				}
				in := &lambda.UpdateAliasInput{FunctionName: aws.String(fn), Name: aws.String("live"), FunctionVersion: aws.String(v)}
				if len(add) > 0 {
					in.RoutingConfig = &lambdatypes.AliasRoutingConfiguration{AdditionalVersionWeights: add}
				} else {
					in.RoutingConfig = &lambdatypes.AliasRoutingConfiguration{AdditionalVersionWeights: map[string]float64{}}
				}
				if _, err := e.Lambda().UpdateAlias(context.Background(), in); err != nil {
					t.Fatal(err)
				}
			},
			writes: e.AliasWrites, lease: awsclient.AliasLease(c, ref), alarm: e.Alarm("model")}
	}}
}

func mFlagKit() mKit {
	return mKit{name: "flag ramp", make: func(t *testing.T, e *acctest.Env, c *awsclient.Client) *mSubj {
		key := "model-" + strings.ReplaceAll(acctest.Name("f"), "_", "-")
		name := "/rollout/flags/" + key
		read := func(doc string) weights.Split {
			f, err := flag.Parse([]byte(doc))
			if err != nil {
				return nil
			}
			return featureflag.Split(f.RolloutPercentage)
		}
		return &mSubj{e: e, kind: "flag ramp", typ: "rollout_feature_flag", holds: true,
			from: featureflag.Split(0), to: featureflag.Split(100),
			config: func(w weights.Split, ro map[string]any) map[string]any {
				return map[string]any{"key": key, "rollout_percentage": featureflag.PercentageOf(w), "rollout": ro}
			},
			live: func() weights.Split {
				doc, ok := e.Parameter(name)
				if !ok {
					return nil
				}
				return read(doc)
			},
			set: func(w weights.Split) {
				doc, _ := e.Parameter(name)
				f, _ := flag.Parse([]byte(doc))
				f.RolloutPercentage = featureflag.PercentageOf(w)
				b, _ := jsonMarshal(f)
				e.PutParameter(name, b)
			},
			writes: func() []weights.Split {
				var out []weights.Split
				for _, r := range e.Emu.Requests("ssm:PutParameter") {
					if r["Name"] == name {
						v, _ := r["Value"].(string)
						out = append(out, read(v))
					}
				}
				return out
			},
			lease: subjects.Lease(c, subjects.Ref{Flag: &subjects.FlagRef{Name: name}}),
			norm:  subjects.Router(c, subjects.Ref{Flag: &subjects.FlagRef{Name: name}}).(rollout.Normalizer), alarm: e.Alarm("model")}
	}}
}

var mKits = []mKit{mSplitKit("split on a listener", false), mSplitKit("split on a rule", true), mBlueGreenKit(), mAliasKit(), mFlagKit(), mReleaseKit()}

// ---- the history and the reference model --------------------------------

// mRun is the reference model of one run: a change from `from` to `to`
// through steps (as the subject serves them).
type mRun struct {
	from, to weights.Split
	steps    []rollout.PlannedStep
	// pos is the index of the last step written, -1 before the first.
	pos int
	// held is the index of the step the run is held after, -1 when not
	// held; heldAt is when, token the rollout.promote it was held with.
	held   int
	heldAt time.Time
	token  string
	ended  bool
	// started is the run's started_at, from its first notice.
	started time.Time
	// lost is set once one of its applies lost notices (SNS failing);
	// undelivered counts those the model knows were lost (the record
	// counts a run's, across its holds).
	lost        bool
	undelivered int
	// attempt is rollout.attempt when the run started.
	attempt string
}

// next is the index of the step written after step pos: a step that
// serves what the one before it left (a flag's whole percentages round
// them together) needs no write.
func (run *mRun) next(pos int) int {
	at := run.from
	if pos >= 0 {
		at = run.steps[pos].Weights
	}
	n := pos + 1
	for n < len(run.steps)-1 && weights.SameShares(run.steps[n].Weights, at) {
		n++
	}
	return n
}

// advance says whether write x is the run's next step after pos, the
// step the engine writes next (next skips those that need no write), and
// returns that step's index. A nil run has no steps.
func (run *mRun) advance(pos int, x weights.Split) (int, bool) {
	if run == nil {
		return pos, false
	}
	if n := run.next(pos); n < len(run.steps) && weights.SameShares(x, run.steps[n].Weights) {
		return n, true
	}
	return pos, false
}

// noop says whether a step of the run needs no write (next skips it).
func (run *mRun) noop() bool {
	for i := range run.steps {
		if run.next(i-1) != i {
			return true
		}
	}
	return false
}

// mEnd is how the last run that ended did, for the retry rule.
type mEnd struct {
	to      weights.Split
	attempt string
	status  string
	// refuses: the retry rule holds it back (rolled back by a gate, held
	// where a gate failed, stopped by someone else's change); a Ctrl-C or
	// an AWS error is not.
	refuses bool
}

type mWorld struct {
	t   *testing.T
	rng *rand.Rand
	// forms draws, apart from rng (the seed's history stays the same),
	// whether a person rewrites the subject in another form of the same
	// traffic between a plan and its apply (otherForm).
	forms *rand.Rand
	e     *acctest.Env
	c     *awsclient.Client
	s     *mSubj
	r     *acctest.Resource
	// the configuration: where it points (at), and the rollout block's
	// settings
	at               weights.Split
	steps            []rollout.Step
	policy           string
	poll             time.Duration
	holdTimeout      time.Duration
	holdAction       string
	promote, attempt string
	updateTimeout    string
	topic, bus       string
	// noticeClock bounds each publish of a notice (model_notices_test.go)
	noticeClock *clock.Fake
	// budget is the busy API budget, nil for none (model_budget_test.go)
	budget      *mBudget
	run         *mRun
	last        *mEnd
	alarmFiring bool
	// uncertain is set once something the model does not predict happened
	// (a fault, a cancel, a person's change): from then on only the
	// invariants are checked.
	uncertain bool
	// notices are those delivered to SNS, in the order they arrived;
	// person counts the subject's writes made by people.
	mu       sync.Mutex
	notices  []rollout.Notice
	person   map[int]bool
	inPerson bool
	// noticesLost: the destinations some apply ran with failing
	noticesLost map[string]bool
	// the alarm fires as the apply's alarmAt-th write arrives (0: never)
	alarmAt, alarmMark int
	start              time.Time
	log                []string
	// states plays the state machine of a history run detached
	// (model_detached_test.go); nil: the rollouts run in the apply.
	states *acctest.States
}

func (w *mWorld) logf(format string, args ...any) {
	w.log = append(w.log, fmt.Sprintf(format, args...))
}

// Helper and Fatalf make the world the engine's test: what it finds is
// printed with the history.
func (w *mWorld) Helper() { w.t.Helper() }

func (w *mWorld) Fatalf(format string, args ...any) {
	w.t.Helper()
	w.fatalf(format, args...)
}

func (w *mWorld) fatalf(format string, args ...any) {
	w.t.Helper()
	w.t.Fatalf("%s\nhistory:\n  %s", fmt.Sprintf(format, args...), strings.Join(w.log, "\n  "))
}

// rolloutBlock is the configuration's rollout block.
func (w *mWorld) rolloutBlock() map[string]any {
	var steps []any
	for _, s := range w.steps {
		pause := s.Pause.String()
		if s.Hold {
			pause = "hold"
		}
		st := map[string]any{"percent": s.Percent}
		if s.Hold || s.Pause > 0 {
			st["pause"] = pause
		}
		steps = append(steps, st)
	}
	ro := map[string]any{"strategy": "canary", "steps": steps, "poll_interval": w.poll.String(),
		"rollback": w.policy, "gates": map[string]any{"alarms": []any{w.s.alarm}}}
	if w.holdTimeout > 0 {
		ro["hold_timeout"] = w.holdTimeout.String()
		if w.holdAction != "" {
			ro["hold_timeout_action"] = w.holdAction
		}
	}
	if w.promote != "" {
		ro["promote"] = w.promote
	}
	if w.attempt != "" {
		ro["attempt"] = w.attempt
	}
	if n := map[string]any{}; w.topic != "" || w.bus != "" {
		if w.topic != "" {
			n["sns_topic_arn"] = w.topic
		}
		if w.bus != "" {
			n["event_bus_name"] = w.bus
		}
		ro["notifications"] = n
	}
	if x := w.detachedBlock(); x != nil {
		ro["execution"] = x
	}
	return ro
}

func (w *mWorld) config() map[string]any {
	cfg := w.s.config(w.at, w.rolloutBlock())
	if w.updateTimeout != "" && w.s.typ != "rollout_lambda_alias" {
		cfg["timeouts"] = map[string]any{"update": w.updateTimeout}
	}
	return cfg
}

func (w *mWorld) norm(s weights.Split) weights.Split {
	if w.s.norm != nil {
		return w.s.norm.Normalize(s)
	}
	return s
}

func (w *mWorld) schedule(from, to weights.Split) []rollout.PlannedStep {
	steps, err := rollout.Plan(from, to, rollout.Strategy{Kind: rollout.Canary, Steps: w.steps})
	if err != nil {
		w.fatalf("the model's schedule %v: %v", w.steps, err)
	}
	for i := range steps {
		steps[i].Weights = w.norm(steps[i].Weights)
	}
	return steps
}

// personSets makes a person's change, and says whether it made one.
func (w *mWorld) personSets(s weights.Split) bool {
	if weights.SameShares(w.norm(s), w.norm(w.s.live())) {
		// What it already serves: a change that changes nothing cannot
		// be seen (nor told from no change), so none is made.
		w.logf("  (the person's change would set what it serves: none made)")
		return false
	}
	w.personWrites(s)
	return true
}

// personWrites writes s as a person, whatever the subject serves.
func (w *mWorld) personWrites(s weights.Split) {
	w.mu.Lock()
	w.inPerson = true
	w.mu.Unlock()
	before := len(w.s.writes())
	w.s.set(s)
	after := len(w.s.writes())
	w.mu.Lock()
	w.inPerson = false
	for i := before; i < after; i++ {
		w.person[i] = true
	}
	w.mu.Unlock()
}

// rewriteInOtherForm has a person write what the subject serves in
// another form (otherForm), and says whether one was written.
func (w *mWorld) rewriteInOtherForm() bool {
	form, ok := w.otherForm()
	if ok {
		w.logf("  a person rewrites %s as %s between the plan and its apply (the same traffic)", w.s.live(), form)
		w.personWrites(form)
	}
	return ok
}

// mForms turns the move on (ROLLOUT_MODEL_FORMS=1). It is off by
// default while two findings it makes stand: a detached run started from
// another form is not aborted by the configuration set back to where it
// started (pipeline.Plan compares its from exactly; seed 20), and a run
// rolled back to the form found leaves a form the next plan acts on where
// the model says nothing is to do (seeds 70, 250).
var mForms = os.Getenv("ROLLOUT_MODEL_FORMS") == "1"

// otherForm is what the subject serves, written in another form of the
// same traffic (weights.SameTraffic), as a person may rewrite a listener:
// its zero-weight entries dropped, else its weights at another scale
// (1/1 for 50/50). False for a subject whose traffic has one form (an
// alias's versions, a flag's percentage).
func (w *mWorld) otherForm() (weights.Split, bool) {
	switch w.s.typ {
	case "rollout_traffic_split", "rollout_deployment_bluegreen", "rollout_release":
	default:
		return nil, false
	}
	live := w.s.live()
	var form weights.Split
	for _, t := range live {
		if t.Weight > 0 {
			form = append(form, t)
		}
	}
	if len(form) == len(live) {
		g := 0
		for _, t := range live {
			g = gcd(g, t.Weight)
		}
		form = nil
		for _, t := range live {
			if g > 1 {
				t.Weight /= g
			} else {
				t.Weight *= 2
			}
			form = append(form, t)
		}
	}
	if len(form) == 0 || len(form.Problems()) > 0 || !weights.SameTraffic(form, live) || form.Equal(live) {
		return nil, false
	}
	return form, true
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// mMode is what the model says an apply does, from its plan.
type mMode string

const (
	mNothing  mMode = "nothing"   // no traffic write (no change, or still held)
	mNewRun   mMode = "new run"   // a rollout from what the subject serves
	mResume   mMode = "resume"    // a held run goes on (promoted, or timed out with action promote)
	mBack     mMode = "back"      // a held run goes back (to from, or timed out with action rollback)
	mRefused  mMode = "refused"   // the retry rule refuses it
	mMoveOnly mMode = "move only" // a change with no rollout block
	// mNothingToPromote: a new rollout.promote with no hold is refused at plan
	mNothingToPromote mMode = "nothing to promote"
)

// statePromote is rollout.promote as the state has it.
func (w *mWorld) statePromote() string {
	at := w.s.rolloutAt
	if at == "" {
		at = "rollout"
	}
	return w.r.String(at + ".promote")
}

// mEvents are what happens inside one apply, each at the first sleep after
// the provider's nth write of the apply (alarm: as the nth write arrives).
type mEvents struct {
	alarmAt, personAt, faultAt, cancelAt int
	faultKind                            emulator.Fault
	faultRead                            bool
	hand                                 weights.Split
	notices                              []mNoticeFault
	// callAt: the detached run's first call after write callAt goes
	// wrong (callFault)
	callAt    int
	callFault acctest.CallFault
}

func (ev mEvents) String() string {
	var out []string
	if ev.alarmAt > 0 {
		out = append(out, fmt.Sprintf("alarm at write %d", ev.alarmAt))
	}
	if ev.personAt > 0 {
		out = append(out, fmt.Sprintf("person sets %s after write %d", ev.hand.Short(), ev.personAt))
	}
	if ev.faultAt > 0 {
		what := "write"
		if ev.faultRead {
			what = "read"
		}
		out = append(out, fmt.Sprintf("%s on a %s after write %d", ev.faultKind, what, ev.faultAt))
	}
	if ev.cancelAt > 0 {
		out = append(out, fmt.Sprintf("Ctrl-C after write %d", ev.cancelAt))
	}
	if ev.callAt > 0 {
		out = append(out, fmt.Sprintf("the orchestrator's call after write %d %s", ev.callAt, ev.callFault))
	}
	for _, f := range ev.notices {
		out = append(out, f.String())
	}
	return strings.Join(out, ", ")
}

// lastStatus is last_rollout.status; a detached run held is "running"
// there (its execution runs), and its status tag says held.
func (w *mWorld) lastStatus() string {
	st := w.last_("status")
	if w.states != nil && st == "running" {
		if typ, _ := w.statusTagType(); typ == string(rollout.NoticeHeld) {
			return "held"
		}
	}
	return st
}

// last_ is an attribute of last_rollout in the state.
func (w *mWorld) last_(name string) string {
	at := w.s.lastAt
	if at == "" {
		at = "last_rollout"
	}
	return w.r.String(at + "." + name)
}

// expect is what the model says the apply of a plan made at `at` does:
// what the plan showed. A hold timeout that passes between the plan and
// its apply does not act: the saved plan showed the hold kept, so its
// apply writes nothing, or refuses before any write ("Hold Timed Out Since
// Plan"; checked in apply).
func (w *mWorld) expect(planned time.Time, stateAt weights.Split) mMode {
	run := w.run
	held := run != nil && !run.ended && run.held >= 0
	if w.s.holds && w.promote != w.statePromote() && !held && weights.SameShares(w.norm(w.at), w.norm(stateAt)) {
		return mNothingToPromote
	}
	if run != nil && !run.ended && run.held >= 0 {
		switch {
		case weights.SameShares(w.at, run.to):
			expired := w.holdTimeout > 0 && planned.Sub(run.heldAt) >= w.holdTimeout
			if w.budget != nil && w.holdTimeout > 0 && !expired && planned.Sub(run.heldAt) >= w.holdTimeout-2*time.Minute {
				// The model's hold began when the apply ended; under a busy
				// budget the status and notices after the hold waited for
				// tokens, so the provider's began up to a minute or so
				// earlier: too close to the timeout to say.
				w.uncertain = true
			}
			switch {
			case w.promote != run.token:
				return mResume
			case expired && w.holdAction == rollout.HoldPromote:
				return mResume
			case expired:
				return mBack
			}
			return mNothing
		case weights.SameShares(w.at, run.from):
			return mBack
		}
		return mRefused
	}
	if weights.SameShares(w.norm(w.at), w.norm(stateAt)) {
		return mNothing
	}
	if w.last != nil && weights.SameShares(w.last.to, w.at) && w.last.attempt == w.attempt && w.last.refuses {
		return mRefused
	}
	return mNewRun
}

// expectedAtApply is what an apply of a plan made now starts from: what a
// held run left (the held record's, or detached the held step's), or
// what the plan saw (stateAt).
func (w *mWorld) expectedAtApply(stateAt weights.Split) weights.Split {
	run := w.run
	if run == nil || run.ended || run.held < 0 {
		return stateAt
	}
	if w.states != nil && run.held < len(run.steps) {
		return w.norm(run.steps[run.held].Weights)
	}
	if sv, err := weights.ParseCanonical(w.last_("serving")); err == nil && len(sv) > 0 {
		return w.norm(sv)
	}
	return stateAt
}

// providerWrites are the subject's writes since mark that people did not
// make, with whether a person wrote before each.
func (w *mWorld) writesSince(mark int) (provider []weights.Split, afterPerson []bool) {
	all := w.s.writes()
	w.mu.Lock()
	defer w.mu.Unlock()
	person := false
	for i := mark; i < len(all); i++ {
		if w.person[i] {
			person = true
			continue
		}
		provider = append(provider, all[i])
		afterPerson = append(afterPerson, person)
	}
	return provider, afterPerson
}

// setBackUnseen reports whether the provider's write i since mark repeats
// its write i-1 and the person's change just before it set exactly what
// write i-1 replaced: the change the guard cannot see (ELB has no version
// to write against).
func (w *mWorld) setBackUnseen(mark, i int) bool {
	if i == 0 {
		return false
	}
	all := w.s.writes()
	w.mu.Lock()
	defer w.mu.Unlock()
	n, prev, person := -1, -1, -1
	for j := mark; j < len(all); j++ {
		if w.person[j] {
			person = j
			continue
		}
		if n++; n == i-1 {
			prev = j
		}
		if n == i {
			return prev > 0 && person > prev && weights.SameShares(all[j], all[prev]) && weights.SameShares(all[person], all[prev-1])
		}
	}
	return false
}

// backSet is every split a rollback of run may write: the way back from
// any step reached, by either policy.
func (w *mWorld) backSet(run *mRun, reached int) []weights.Split {
	out := []weights.Split{w.norm(run.from)}
	for i := 0; i <= reached && i < len(run.steps); i++ {
		for _, pol := range []rollout.Policy{rollout.Immediate, rollout.Gradual} {
			rb, err := rollout.RollbackPlan(run.steps[i].Weights, run.from, pol)
			if err != nil {
				continue
			}
			for _, st := range rb {
				out = append(out, w.norm(st.Weights))
			}
		}
	}
	return out
}

func inSplits(s weights.Split, set []weights.Split) bool {
	for _, x := range set {
		if weights.SameShares(s, x) {
			return true
		}
	}
	return false
}

// checkWrites holds the apply's writes to the model: the next planned step
// from where the run is, or the way back; nothing after a person's
// change; nothing at all when the model says so. It returns the index of
// the last step written and whether the run went back.
func (w *mWorld) checkWrites(mode mMode, run *mRun, mark int, uncertainOutcome bool) (int, bool) {
	got, afterPerson := w.writesSince(mark)
	pos := -1
	if run != nil {
		pos = run.pos
	}
	back := false
	writtenOver := false
	for i, x := range got {
		n, forward := run.advance(pos, x)
		switch {
		case afterPerson[i] && !writtenOver && w.setBackUnseen(mark, i):
			// A person set back exactly what the run's last write
			// replaced, before its read-back: not told from a write not
			// yet visible, so the write is made again (docs/design/
			// guarantees.md, limits of the guard). The run goes on from it.
			writtenOver = true
			w.logf("  (the person set back what write %d replaced before its read-back: written again, as a write not yet visible)", i)
		case afterPerson[i] && !writtenOver:
			w.fatalf("write %d (%s) came after a person's change: someone else's change wins, nothing more is written (writes %v)", i+1, x.Short(), got)
		case mode == mNothing || mode == mRefused:
			w.fatalf("the model says this apply (%s) writes nothing, yet it wrote %v", mode, got)
		case mode == mMoveOnly:
			continue
		case run == nil:
			w.fatalf("a write (%s) with no run", x.Short())
		case !back && mode != mBack && forward:
			pos = n
		case !back && pos >= 0 && uncertainOutcome && weights.SameShares(x, run.steps[pos].Weights):
			// the same step again, after an answer was lost
		case inSplits(x, w.backSet(run, max(pos, 0))):
			back = true
		default:
			next := "nothing (the run is at its end)"
			if pos+1 < len(run.steps) {
				next = run.steps[pos+1].Weights.Short()
			}
			w.fatalf("write %d (%s) is neither the next planned step (%s) nor on the way back to %s (mode %s, writes %v)", i+1, x.Short(), next, run.from.Short(), mode, got)
		}
	}
	return pos, back
}

// staleAlarm reports an alarm that fires as a step with no pause is
// written: the gate before the next step may decide on the shared reading
// taken before that write (awsclient/shared.go: a reading serves every
// rollout for 0.75 s), and then sees the alarm only at the next poll. The
// model does not say which; the invariants still hold.
func (w *mWorld) staleAlarm(run *mRun, alarmAt int) bool {
	if run == nil || alarmAt <= 0 {
		return false
	}
	i := run.pos + alarmAt // the index of the step written as the alarm fires
	return i >= 0 && i < len(run.steps) && !run.steps[i].Hold && run.steps[i].Pause == 0
}

// mOutcome is how the model says a clean apply ends.
type mOutcome struct {
	status  string
	live    weights.Split
	notices []string // "type@step", in order
	pos     int
	held    int
}

// predict runs the model of an apply with nothing uncertain in it: the
// schedule from where the run is, the alarm (firing before the apply, or
// as write alarmAt arrives) read at each pause's polls and before each
// step, holds, and the way back.
func (w *mWorld) predict(mode mMode, run *mRun, alarmAt int, firing bool) mOutcome {
	out := mOutcome{pos: run.pos, held: -1}
	back := func(step int) {
		out.notices = append(out.notices, fmt.Sprintf("gate_failed@%d", step), fmt.Sprintf("rolled_back@%d", step))
		out.status, out.live = "rolled_back", w.norm(run.from)
	}
	start := run.pos + 1
	switch mode {
	case mNewRun:
		out.notices = append(out.notices, "started@0")
	case mResume:
		out.notices = append(out.notices, fmt.Sprintf("promoted@%d", run.held+1))
	case mBack:
		back(run.held + 1)
		return out
	}
	writes := 0
	for i := start; i < len(run.steps); i++ {
		n := i + 1
		if firing {
			back(n)
			return out
		}
		writes++
		out.pos = i
		if writes == alarmAt {
			firing = true
		}
		st := run.steps[i]
		if st.Hold {
			out.notices = append(out.notices, fmt.Sprintf("held@%d", n))
			out.status, out.live, out.held = "held", st.Weights, i
			return out
		}
		if firing && st.Pause > 0 {
			back(n)
			return out
		}
		out.notices = append(out.notices, fmt.Sprintf("step_completed@%d", n))
	}
	out.notices = append(out.notices, fmt.Sprintf("succeeded@%d", len(run.steps)))
	out.status, out.live = "succeeded", w.norm(run.to)
	return out
}

// listen records the notices SNS accepts (a publish the front failed never
// reached it) and raises the alarm as the apply's alarmAt-th write arrives.
func (w *mWorld) listen() {
	w.e.Emu.OnRequest(func(action string, form url.Values) {
		switch action {
		case "sns:Publish":
			var n rollout.Notice
			if err := json.Unmarshal([]byte(form.Get("Message")), &n); err != nil {
				w.t.Errorf("a published notice that is not one: %v", err)
				return
			}
			w.mu.Lock()
			w.notices = append(w.notices, n)
			w.mu.Unlock()
		case "elasticloadbalancing:ModifyListener", "elasticloadbalancing:ModifyRule", "lambda:UpdateAlias", "ssm:PutParameter":
			w.mu.Lock()
			at, mark, inPerson := w.alarmAt, w.alarmMark, w.inPerson
			w.mu.Unlock()
			if at <= 0 || inPerson {
				return
			}
			if got, _ := w.writesSince(mark); len(got) >= at {
				w.mu.Lock()
				w.alarmAt = 0
				w.mu.Unlock()
				// Before the write is answered: the run's next read sees it.
				w.e.SetAlarmState(w.s.alarm, cwtypes.StateValueAlarm)
				w.alarmFiring = true
			}
		}
	})
}

func (w *mWorld) armAlarm(at, mark int) {
	w.mu.Lock()
	w.alarmAt, w.alarmMark = at, mark
	w.mu.Unlock()
}

func kindsOf(ns []rollout.Notice) []string {
	var out []string
	for _, n := range ns {
		out = append(out, fmt.Sprintf("%s@%d", n.Type, n.Step))
	}
	return out
}

// apply plans the configuration, lets gap pass (and a person set hand)
// between the plan and its apply, then applies the saved plan with the
// events, and holds everything that happened to the model.
func (w *mWorld) apply(label string, ev mEvents, gap time.Duration, hand weights.Split) {
	w.t.Helper()
	// Applies are seconds apart: a gate's shared reading (at most 0.75 s
	// old, awsclient/shared.go) is never one an earlier apply took.
	_ = w.e.Clock.Sleep(context.Background(), 2*time.Second)
	if d := w.r.Refresh(); d.HasError("") {
		w.fatalf("refresh before %s: %s", label, d)
	}
	stateAt := w.norm(w.s.live())
	planAt := w.e.Clock.Now()
	mode := w.expect(planAt, stateAt)
	if _, ok := w.r.Get("rollout"); !ok && w.run == nil && mode == mNewRun && w.steps == nil {
		mode = mMoveOnly
	}
	p := w.r.Plan(w.config())
	w.logf("%s: plan at +%s, model: %s; plan changes %v, unknown %v%s", label, planAt.Sub(w.start), mode, p.Changes(), p.Unknown(), errText(p.Diags))
	if mode == mNothingToPromote {
		if !p.Diags.HasError(`Nothing To Promote`) {
			w.fatalf("%s: a new rollout.promote with nothing held was not refused at plan: %s", label, p.Diags)
		}
		w.promote = w.statePromote()
		w.logf("  refused at plan, as the model says; rollout.promote back to %q", w.promote)
		return
	}
	if p.Diags.HasError("") {
		if mode != mRefused {
			w.fatalf("%s: the plan was refused, and the model says the apply does %s: %s", label, mode, p.Diags)
		}
		return
	}
	acts := false
	for _, u := range p.Unknown() {
		acts = acts || strings.Contains(u, `"last_rollout"`)
	}
	switch {
	case (mode == mNothing) && acts:
		w.fatalf("%s: the plan shows last_rollout unknown (the apply acts), the model says it does nothing", label)
	case (mode == mNewRun || mode == mResume || mode == mBack) && !acts && w.run != nil && w.states == nil:
		// (detached, a promote or an abort only tags the subject: the
		// record stays running, known at plan)
		w.fatalf("%s: the plan shows last_rollout known (the apply does nothing), the model says %s", label, mode)
	}
	if gap > 0 && w.states != nil {
		w.logf("  %s pass between the plan and its apply", gap)
		if w.passDetached(gap) {
			// The orchestrator acted on the run (a hold timed out) after
			// the plan: the apply may refuse; the invariants still hold.
			w.logf("  the orchestrator moved the run meanwhile")
			w.uncertain = true
			if r := w.r.Refresh(); r.HasError("") {
				w.fatalf("%s: refresh: %s", label, r)
			}
			w.syncModel()
		}
	} else if gap > 0 {
		_ = w.e.Clock.Sleep(context.Background(), gap)
		w.logf("  %s pass between the plan and its apply", gap)
	}
	refusedByHand := false
	expectAt := w.expectedAtApply(stateAt)
	if hand != nil && w.personSets(hand) {
		w.logf("  a person sets %s between the plan and its apply", hand.Short())
		// A change by hand that puts back what the apply starts from (what
		// the run left, or what the plan saw) is no change: the apply does
		// what its plan showed. Any other is refused before a write.
		refusedByHand = mode != mNothing && mode != mRefused && !weights.SameShares(w.norm(hand), expectAt)
		// A change by hand while nothing runs: the next run finds it (a
		// held one stops at its next write); the model leaves that to the
		// invariants.
		w.uncertain = true
	}
	// The same traffic in another form (a zero-weight entry dropped,
	// another scale) is no change: the run goes on from the form found, as
	// its plan showed, and the model predicts it all.
	rewritten := mForms && hand == nil && mode == mNewRun && !w.uncertain && w.forms.Intn(3) == 0 &&
		!weights.SameShares(stateAt, w.norm(w.at)) && w.rewriteInOtherForm()
	// Arm the events.
	mark := len(w.s.writes())
	noticeMark := w.noticeMark()
	w.armAlarm(ev.alarmAt, mark)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	faulted := false
	var once sync.Once
	count := func() int { got, _ := w.writesSince(mark); return len(got) }
	applier := goroutineID()
	w.e.Clock.OnSleep(func(_ context.Context, d time.Duration, _ time.Time) {
		if goroutineID() != applier {
			// A sleep of another goroutine (a shared fetch waiting for
			// its turn, the alarm watch, a notice): events happen while
			// the apply itself waits (a pause, a poll, a turn in the
			// budget, a back-off), the moments its promises cover, and
			// not between a read and the write right after it, a window
			// no writer without a version can close. On the apply's
			// goroutine alone, the history is the seed's.
			return
		}
		w.budget.draw(d)
		n := count()
		if ev.personAt > 0 && n >= ev.personAt {
			once.Do(func() { w.personSets(ev.hand) })
		}
		if ev.faultAt > 0 && n >= ev.faultAt && !faulted {
			faulted = true
			w.e.Emu.FaultNext(w.s.action(ev.faultRead), ev.faultKind, 1+w.rng.Intn(2))
		}
		if ev.cancelAt > 0 && n >= ev.cancelAt {
			cancel()
		}
		if w.states != nil {
			// Step Functions goes on while the apply waits.
			if err := w.states.Tick(context.Background()); err != nil {
				w.fatalf("an orchestrator call failed: %v", err)
			}
		}
	})
	callFaulted := false
	startTag := ""
	if w.states != nil {
		startTag = w.statusTag()
		called := false
		w.states.Fault = func(string) acctest.CallFault {
			if ev.callAt > 0 && !called && count() >= ev.callAt-1 {
				called, callFaulted = true, true
				return ev.callFault
			}
			return ""
		}
	}
	w.armNotices(ev.notices)
	run := w.run
	if mode == mNewRun {
		run = &mRun{from: stateAt, to: w.norm(w.at), steps: w.schedule(stateAt, w.at), pos: -1, held: -1, attempt: w.attempt}
	}
	alarmBefore := w.alarmFiring
	w.logf("  apply (%s)", ev)
	w.budget.start()
	d := p.ApplyContext(ctx)
	if typ, _ := w.statusTagType(); w.states != nil && (mode == mNewRun || mode == mResume || mode == mBack || w.uncertain && typ != string(rollout.NoticeHeld)) {
		w.drive(startTag)
		if r := w.r.Refresh(); r.HasError("") {
			w.fatalf("%s: refresh after the orchestrator's calls: %s", label, r)
		}
	}
	w.e.Clock.OnSleep(nil)
	if w.states != nil {
		w.states.Fault = nil
	}
	w.armAlarm(0, 0)
	w.e.Emu.ClearFaults()
	w.logf("  → last_rollout %s at step %s, serving %s%s", w.lastStatus(), w.last_("step_reached"), w.norm(w.s.live()).Short(), errText(d))

	uncertain := faulted || callFaulted || run != nil && run.noop() || ev.cancelAt > 0 && ctx.Err() != nil || ev.personAt > 0 && w.personHappened(mark) ||
		w.staleAlarm(run, ev.alarmAt) || w.budget.racesAlarm(ev.alarmAt, alarmBefore)
	checkMode := mode
	if refusedByHand {
		checkMode = mRefused
	}
	pos, back := w.checkWrites(checkMode, run, mark, faulted)
	w.checkUrgent(label, checkMode, run, mark)
	// A hold that timed out since its plan showed it kept: the apply (if
	// the plan had anything to apply) refuses, and only then.
	timedOutSincePlan := mode == mNothing && run != nil && !run.ended && run.held >= 0 && w.promote == run.token && w.holdTimeout > 0 &&
		planAt.Sub(run.heldAt) < w.holdTimeout && w.e.Clock.Now().Sub(run.heldAt) >= w.holdTimeout
	switch refused := d.HasError(`Hold Timed Out Since Plan`); {
	case timedOutSincePlan && p.Changes() && !refused:
		w.fatalf("%s: the hold timed out between the plan (which showed it kept) and its apply, and the apply did not refuse: %s", label, d)
	case refused && !timedOutSincePlan:
		w.fatalf("%s: the apply refused a hold timeout since its plan, and the model says none passed: %s", label, d)
	}
	if rewritten && d.HasError(`Changed Since Plan`) {
		w.fatalf("%s: a person rewrote the subject in another form of the same traffic, and the apply refused it as a change: %s", label, d)
	}
	if refusedByHand {
		if !d.HasError(`Changed Since Plan|Changed During Hold|Changed During Rollout|Not Retried`) {
			w.fatalf("%s: a person changed the subject between the plan and its apply, and the apply did not refuse: %s", label, d)
		}
		w.uncertain = true
		w.syncModel()
		return
	}
	delivered := w.deliveredSince(noticeMark)
	if !w.uncertain && !uncertain && run != nil && (mode == mNewRun || mode == mResume || mode == mBack) {
		want := w.predict(mode, run, ev.alarmAt, alarmBefore)
		w.checkOutcome(label, mode, run, want, delivered, ev.notices)
		run.pos = pos
	} else if uncertain {
		w.uncertain = true
	}
	_ = back
	w.run = run
	if mode == mRefused && !d.HasError("") {
		w.fatalf("%s: the model says the retry rule refuses this change, and the apply did not", label)
	}
	lostBefore := run != nil && run.lost
	for _, f := range ev.notices {
		if f.counted() {
			w.noticesLost[f.dest] = true
			if run != nil {
				run.lost = true
			}
		}
	}
	if w.uncertain || uncertain {
		w.checkNoticeCount(label, delivered, ev.notices, lostBefore)
	}
	w.checkRecord(label)
	w.checkNotices(label, run, delivered)
	w.syncModel()
}

// goroutineID is the calling goroutine's number, from its stack's first
// line ("goroutine 7 [running]:").
func goroutineID() int {
	var buf [64]byte
	n := runtime.Stack(buf[:], false)
	f := strings.Fields(string(buf[:n]))
	if len(f) < 2 {
		return -1
	}
	id, err := strconv.Atoi(f[1])
	if err != nil {
		return -1
	}
	return id
}

// errText is the errors of d for the history: each summary and the start
// of its detail, which says what was found.
func errText(d acctest.Diags) string {
	if !d.HasError("") {
		return ""
	}
	var out []string
	for _, x := range d {
		if x.Severity == tfprotov6.DiagnosticSeverityError {
			detail := strings.Join(strings.Fields(x.Detail), " ")
			if len(detail) > 240 {
				detail = detail[:240] + "…"
			}
			out = append(out, x.Summary+" ("+detail+")")
		}
	}
	return "; errors: " + strings.Join(out, ", ")
}

// action is the emulator action of the subject's writes, or of its reads.
func (s *mSubj) action(read bool) string {
	switch s.typ {
	case "rollout_lambda_alias":
		return map[bool]string{false: "lambda:UpdateAlias", true: "lambda:GetAlias"}[read]
	case "rollout_feature_flag":
		return map[bool]string{false: "ssm:PutParameter", true: "ssm:GetParameter"}[read]
	}
	if s.kind == "split on a rule" {
		return map[bool]string{false: "elasticloadbalancing:ModifyRule", true: "elasticloadbalancing:DescribeRules"}[read]
	}
	return map[bool]string{false: "elasticloadbalancing:ModifyListener", true: "elasticloadbalancing:DescribeListeners"}[read]
}

// personHappened reports a person's write since mark.
func (w *mWorld) personHappened(mark int) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	for i := range w.person {
		if i >= mark {
			return true
		}
	}
	return false
}

// personLast reports whether the subject's last write was a person's.
func (w *mWorld) personLast() bool {
	n := len(w.s.writes())
	w.mu.Lock()
	defer w.mu.Unlock()
	return n > 0 && w.person[n-1]
}

// statusTag is the subject's rollout:status tag, "type step/steps …".
func (w *mWorld) statusTag() string {
	l, err := w.s.lease.ReadLease(context.Background())
	if err != nil {
		w.fatalf("reading the subject's tags: %v", err)
	}
	return l.Status
}

// checkOutcome holds a clean apply to the model's prediction: how the run
// ends, what the subject serves, the notices and the status tag.
func (w *mWorld) checkOutcome(label string, mode mMode, run *mRun, want mOutcome, delivered map[string][]rollout.Notice, fs []mNoticeFault) {
	w.t.Helper()
	if got := w.lastStatus(); got != want.status {
		w.fatalf("%s: last_rollout.status is %q, the model says %q (%s)", label, got, want.status, w.last_("reason"))
	}
	if live := w.norm(w.s.live()); !weights.SameShares(live, want.live) {
		w.fatalf("%s: the subject serves %s, the model says %s", label, live.Short(), want.live.Short())
	}
	w.checkNoticeOutcome(label, run, want, delivered, fs)
	last := ""
	for _, n := range want.notices {
		if !strings.HasPrefix(n, "gate_failed@") {
			last = n
		}
	}
	if last != "" {
		typ, step, _ := strings.Cut(last, "@")
		tag := w.statusTag()
		if !strings.HasPrefix(tag, typ+" "+step+"/") {
			w.fatalf("%s: the status tag says %q, the model says %s at step %s", label, tag, typ, step)
		}
	}
}

// checkRecord holds last_rollout to the subject after a refresh: what it
// says the subject serves, it serves (unless it says the weights are
// unknown, or a person wrote last).
func (w *mWorld) checkRecord(label string) {
	w.t.Helper()
	if d := w.r.Refresh(); d.HasError("") {
		w.fatalf("%s: refresh: %s", label, d)
	}
	status := w.lastStatus()
	if status == "" || status == "running" || w.personLast() {
		return
	}
	serving, err := weights.ParseCanonical(w.last_("serving"))
	if err != nil || len(serving) == 0 {
		return
	}
	if strings.Contains(w.last_("reason"), "unknown") {
		return
	}
	if live := w.norm(w.s.live()); !weights.SameShares(w.norm(serving), live) {
		w.fatalf("%s: last_rollout (%s) says the subject serves %s; it serves %s (its writes: %v)", label, status, serving.Short(), live.Short(), w.s.writes())
	}
}

// checkNotices holds every notice delivered so far to the rules readers
// rely on: a run's notices share its started_at; seq numbers them from 1,
// a repeat only of the same notice; one end notice per run, none after.
func (w *mWorld) checkNotices(label string, run *mRun, delivered map[string][]rollout.Notice) {
	w.t.Helper()
	for _, d := range w.dests() {
		if run != nil && len(delivered[d]) > 0 {
			if run.started.IsZero() {
				run.started = delivered[d][0].Started
			}
			for _, n := range delivered[d] {
				if !n.Started.Equal(run.started) {
					w.fatalf("%s: notice %s#%d at %s says the run started at %s, its earlier notices %s: one run, one started_at (%v)", label, n.Type, n.Seq, d, n.Started.Format(time.RFC3339Nano), run.started.Format(time.RFC3339Nano), kindsOf(delivered[d]))
				}
			}
		}
		w.checkRuns(label, d, w.noticesAt(d))
	}
}

// checkRuns holds the notices a destination got to the rules, run by run.
func (w *mWorld) checkRuns(label, dest string, all []rollout.Notice) {
	w.t.Helper()
	type key struct{ subject, started string }
	runs := map[key][]rollout.Notice{}
	for _, n := range all {
		k := key{n.SubjectID, n.Started.Format(time.RFC3339Nano)}
		runs[k] = append(runs[k], n)
	}
	for k, ns := range runs {
		seen := map[int]rollout.Notice{}
		ends := 0
		endSeq := 0
		for _, n := range ns {
			if o, ok := seen[n.Seq]; ok {
				if o.Type != n.Type || o.Step != n.Step {
					w.fatalf("%s: at "+dest+", two notices of the run started %s share seq %d: %s@%d and %s@%d", label, k.started, n.Seq, o.Type, o.Step, n.Type, n.Step)
				}
				continue
			}
			seen[n.Seq] = n
			switch n.Type {
			case rollout.NoticeSucceeded, rollout.NoticeRolledBack, rollout.NoticeFailed, rollout.NoticeChanged:
				ends++
				endSeq = n.Seq
			}
		}
		if ends > 1 {
			w.fatalf("%s: at "+dest+", the run started %s has %d end notices: %v", label, k.started, ends, kindsOf(ns))
		}
		for s := range seen {
			if s < 1 || ends == 1 && s > endSeq {
				w.fatalf("%s: at "+dest+", the run started %s has a notice numbered %d (its end is %d): %v", label, k.started, s, endSeq, kindsOf(ns))
			}
		}
		if ends == 1 && !w.noticesLost[dest] && !w.uncertain && len(seen) != endSeq {
			w.fatalf("%s: the run started %s ended at seq %d, but %d distinct notices reached %s with nothing lost: %v", label, k.started, endSeq, len(seen), dest, kindsOf(ns))
		}
	}
}

// syncModel takes from the record what the model does not compute (when a
// hold began), and ends the run the record says ended.
func (w *mWorld) syncModel() {
	run := w.run
	if run == nil {
		return
	}
	st := w.lastStatus()
	switch st {
	case "held":
		n, _ := strconv.Atoi(w.last_("step_reached"))
		if w.states != nil {
			// Detached, step_reached is the step whose weights the subject
			// serves (a hand change moves it); the status tag says where
			// the run holds.
			_, n = w.statusTagType()
		}
		if run.held != n-1 {
			run.held, run.pos = n-1, n-1
			run.heldAt, run.token = w.e.Clock.Now(), w.promote
		}
	case "succeeded", "rolled_back", "failed":
		if !run.ended {
			run.ended, run.held = true, -1
			gate, policy := w.last_("gate"), w.last_("rollback")
			// The retry rule compares the attempt its record has: the
			// apply's that ended the run, or a detached run's own (its
			// end is read by a refresh).
			attempt := w.attempt
			if w.states != nil {
				attempt = run.attempt
			}
			w.last = &mEnd{to: run.to, attempt: attempt, status: st,
				refuses: st == "rolled_back" || gate == string(rollout.GateChanged) || policy == string(rollout.None)}
			if weights.SameShares(w.norm(w.at), w.norm(run.from)) {
				// Going back on purpose (an abort) is no failure: the
				// change may be made again.
				w.last = nil
			}
		}
	}
}

// ---- the generator ------------------------------------------------------

func modelSeeds() (int, time.Duration) {
	n, budget := 300, 90*time.Second
	if v, err := strconv.Atoi(os.Getenv("ROLLOUT_MODEL_SEEDS")); err == nil {
		n = v
	}
	if v, err := time.ParseDuration(os.Getenv("ROLLOUT_MODEL_BUDGET")); err == nil {
		budget = v
	}
	return n, budget
}

func TestModel(t *testing.T) {
	if v, err := strconv.ParseInt(os.Getenv("ROLLOUT_MODEL_SEED"), 10, 64); err == nil {
		t.Run(fmt.Sprintf("seed=%d", v), func(t *testing.T) { modelHistory(t, v) })
		return
	}
	n, budget := modelSeeds()
	first := int64(1)
	if v, err := strconv.ParseInt(os.Getenv("ROLLOUT_MODEL_FIRST"), 10, 64); err == nil {
		first = v // a wide run: seeds first .. first+n-1
	}
	start := time.Now()
	ran := 0
	for seed := first; seed < first+int64(n); seed++ {
		if time.Since(start) > budget {
			t.Logf("stopped after %d seeds: the %s budget is spent", ran, budget)
			break
		}
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) { modelHistory(t, seed) })
		ran++
	}
	t.Logf("%d seeds in %s", ran, time.Since(start).Round(time.Millisecond))
}

func FuzzModel(f *testing.F) {
	for _, s := range []int64{1, 7, 42, 1234} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, seed int64) { modelHistory(t, seed) })
}

func modelHistory(t *testing.T, seed int64) {
	defer func() {
		if t.Failed() {
			t.Logf("replay: ROLLOUT_MODEL_SEED=%d go test ./internal/provider -run '^TestModel$' -count=1 -v", seed)
		}
	}()
	rng := rand.New(rand.NewSource(seed))
	e := acctest.NewEnv(t)
	c := conformanceClient(t, e)
	k := mKits[rng.Intn(len(mKits))]
	s := k.make(t, e, c)
	w := &mWorld{t: t, rng: rng, forms: rand.New(rand.NewSource(seed*7927 + 5)), e: e, c: c, s: s, person: map[int]bool{}, poll: time.Minute, noticesLost: map[string]bool{}, noticeClock: newNoticeClock()}
	w.listen()
	extra, opts := w.setupBudget()
	eng := e.NewEngine(extra, append(opts, provider.WithNoticeClock(w.noticeClock))...)
	eng.T = w // the engine's findings print the history too
	w.r = eng.Resource(s.typ)
	w.logf("seed %d: %s", seed, k.name)
	if w.budget != nil {
		w.logf("%s", w.budget)
	}
	if os.Getenv("ROLLOUT_MODEL_SEED") != "" {
		// A replayed seed shows its history (with -v) when it passes too.
		defer func() {
			if !t.Failed() {
				t.Logf("history:\n  %s", strings.Join(w.log, "\n  "))
			}
		}()
	}

	// The subject's resource, created where the subject is, with no rollout.
	if d := w.r.PlanApply(s.config(s.from, nil)); d.HasError("") {
		w.fatalf("create: %s", d)
	}
	if s.colors != nil {
		s.colors()
	}
	w.at = s.from

	// The schedule.
	pct := 0
	n := 1 + rng.Intn(4)
	holds := 0
	for i := 0; i < n-1; i++ {
		pct += 1 + rng.Intn((100-pct)/(n-i))
		if pct >= 100 {
			break
		}
		st := rollout.Step{Percent: pct, Pause: time.Duration(rng.Intn(4)) * time.Minute}
		if s.holds && rng.Intn(3) == 0 {
			st.Hold, st.Pause = true, 0
			holds++
		}
		w.steps = append(w.steps, st)
	}
	w.steps = append(w.steps, rollout.Step{Percent: 100})
	w.policy = []string{"auto", "immediate", "gradual"}[rng.Intn(3)]
	if holds > 0 && rng.Intn(2) == 0 {
		w.holdTimeout = []time.Duration{30 * time.Minute, time.Hour}[rng.Intn(2)]
		w.holdAction = []string{"", "rollback", rollout.HoldPromote}[rng.Intn(3)]
	}
	w.setupNotices()
	if s.typ != "rollout_release" && rand.New(rand.NewSource(seed*7919+1)).Intn(3) == 0 {
		// Drawn apart: the history is the same as the seed's in the apply.
		w.states = e.NewStates(acctest.Name("model"))
		w.states.NoticeClock = w.noticeClock
	}
	w.start = e.Clock.Now()
	w.logf("detached %v, schedule %v, rollback %s, hold_timeout %s %s, notices to %v", w.states != nil, w.steps, w.policy, w.holdTimeout, w.holdAction, w.dests())

	// The operations.
	w.at = s.to
	ops := 2 + rng.Intn(6)
	tokens := 0
	for i := 0; i < ops; i++ {
		ev := w.events()
		var gap time.Duration
		var hand weights.Split
		switch rng.Intn(10) {
		case 0, 1:
			gap = []time.Duration{10 * time.Minute, 59 * time.Minute, 61 * time.Minute, 2 * time.Hour}[rng.Intn(4)]
		case 2:
			hand = w.handSplit()
		}
		label := fmt.Sprintf("op %d", i+1)
		switch op := rng.Intn(10); {
		case i == 0 || op < 2:
			label += " apply the change"
		case op < 5 && w.s.holds: // a release refuses rollout.promote at plan
			tokens++
			w.promote = fmt.Sprintf("p%d", tokens)
			label += " promote " + w.promote
		case op < 6:
			w.updateTimeout = []string{"2h", "3h"}[rng.Intn(2)]
			label += " an unrelated change (timeouts.update = " + w.updateTimeout + "), same token"
		case op < 7:
			w.attempt = fmt.Sprintf("a%d", i)
			label += " retry with attempt " + w.attempt
		case op < 8:
			w.at = s.from
			label += " back to where it started"
		case op < 9:
			w.at = s.to
			label += " on to the target again"
		default:
			d := time.Duration(1+rng.Intn(90)) * time.Minute
			w.logf("%s: %s pass", label, d)
			if w.states != nil {
				w.pass(label, d)
			} else {
				_ = e.Clock.Sleep(context.Background(), d)
			}
			if rng.Intn(2) == 0 && w.alarmFiring {
				e.SetAlarmState(s.alarm, cwtypes.StateValueOk)
				w.alarmFiring = false
				w.logf("  the alarm is OK again")
			}
			continue
		}
		w.apply(label, ev, gap, hand)
	}
}

// events draws what happens inside an apply.
func (w *mWorld) events() mEvents {
	rng := w.rng
	var ev mEvents
	if rng.Intn(4) == 0 {
		ev.alarmAt = 1 + rng.Intn(3)
	}
	switch rng.Intn(10) {
	case 0:
		ev.personAt, ev.hand = 1+rng.Intn(2), w.handSplit()
	case 1:
		ev.faultAt = 1 + rng.Intn(2)
		ev.faultKind = []emulator.Fault{emulator.LostAnswer, emulator.ServerError, emulator.Throttle, emulator.Reset}[rng.Intn(4)]
		ev.faultRead = rng.Intn(2) == 0
	case 2:
		ev.cancelAt = 1 + rng.Intn(2)
	}
	ev.notices = w.drawNoticeFaults()
	if w.states != nil && ev.cancelAt > 0 {
		// Detached, the apply only starts the run: what goes wrong is
		// one of the orchestrator's calls.
		ev.callAt, ev.callFault = ev.cancelAt, []acctest.CallFault{acctest.CallLost, acctest.CallFailed}[len(w.log)%2]
		ev.cancelAt = 0
	}
	return ev
}

// handSplit is what a person sets: where the change started, its target,
// or one of its steps.
func (w *mWorld) handSplit() weights.Split {
	cands := []weights.Split{w.s.from, w.s.to}
	for _, st := range w.schedule(w.s.from, w.s.to) {
		cands = append(cands, st.Weights)
	}
	if w.states != nil {
		cands = w.offSchedule(cands)
	}
	live := w.norm(w.s.live())
	var out []weights.Split
	for _, c := range cands {
		if !weights.SameShares(w.norm(c), live) {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return cands[0]
	}
	return out[w.rng.Intn(len(out))]
}
