package provider_test

import (
	"context"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rolloutdev/terraform-provider-rollout/internal/acctest"
	"github.com/rolloutdev/terraform-provider-rollout/internal/emulator"
	"github.com/rolloutdev/terraform-provider-rollout/internal/orchestrator"
	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

// Detached runs on the in-process engine, the state machine played by
// acctest.States on the fake clock (each found by the model-based checker
// first).

// dRig is a split on a listener whose resource runs its rollouts
// detached (or in the apply, when states is nil).
type dRig struct {
	t      *testing.T
	e      *acctest.Env
	s      *mSubj
	r      *acctest.Resource
	states *acctest.States
	topic  string
}

func newDRig(t *testing.T, detached bool) *dRig {
	return newDRigOf(t, mSplitKit("split on a listener", false), detached)
}

// newDRigOf is a rig of kit's subject.
func newDRigOf(t *testing.T, kit mKit, detached bool) *dRig {
	e := acctest.NewEnv(t)
	c := conformanceClient(t, e)
	s := kit.make(t, e, c)
	d := &dRig{t: t, e: e, s: s}
	if detached {
		d.states = e.NewStates(acctest.Name("engine"))
	}
	d.topic, _ = e.SNSNotices("engine")
	d.r = e.NewEngine(nil).Resource(s.typ)
	if diags := d.r.PlanApply(s.config(s.from, nil)); diags.HasError("") {
		t.Fatalf("create: %s", diags)
	}
	return d
}

// rollout is a canary to at with a hold after its first step when hold,
// under promote.
func (d *dRig) config(at weights.Split, hold bool, promote string) map[string]any {
	first := map[string]any{"percent": 20}
	if hold {
		first["pause"] = "hold"
	}
	ro := map[string]any{"strategy": "canary", "steps": []any{first, map[string]any{"percent": 100}}, "poll_interval": "1m",
		"gates": map[string]any{"alarms": []any{d.s.alarm}}, "notifications": map[string]any{"sns_topic_arn": d.topic}}
	if promote != "" {
		ro["promote"] = promote
	}
	if d.states != nil {
		ro["execution"] = map[string]any{"mode": "detached", "orchestrator": d.states.Machine}
	}
	return d.s.config(at, ro)
}

// apply plans and applies cfg, then lets the orchestrator run the
// detached run until it holds or ends, and refreshes.
func (d *dRig) apply(cfg map[string]any) acctest.Diags {
	d.t.Helper()
	d.e.Clock.OnSleep(func(context.Context, time.Duration, time.Time) {
		if d.states != nil {
			_ = d.states.Tick(context.Background())
		}
	})
	defer d.e.Clock.OnSleep(nil)
	diags := d.r.PlanApply(cfg)
	d.settle()
	return diags
}

// settle lets the orchestrator run a detached run until it holds or ends,
// and refreshes.
func (d *dRig) settle() {
	d.t.Helper()
	if d.states != nil {
		// Until it holds at another hold, or ends.
		was, _ := d.s.lease.ReadLease(context.Background())
		held := func() bool {
			l, _ := d.s.lease.ReadLease(context.Background())
			return len(d.states.Running()) == 0 || strings.HasPrefix(l.Status, "held ") && l.Status != was.Status
		}
		if err := d.states.Run(context.Background(), d.e.Clock.Now().Add(time.Hour), held); err != nil {
			d.t.Fatal(err)
		}
	}
	if diags := d.r.Refresh(); diags.HasError("") {
		d.t.Fatalf("refresh: %s", diags)
	}
}

// The same change made again after its run ended (a version rolled out,
// rolled back by hand, rolled out again; or a held run aborted by going
// back, then made again) is a new run: its execution has a name of its
// own, which Step Functions accepts (it refuses a name it ran in the last
// 90 days). A blue/green flip named its execution after the flip alone,
// so the same flip again was refused as a start (found by the model
// checker, seed 5744).
func TestDetachedSameChangeAgain(t *testing.T) {
	for _, kit := range []mKit{mSplitKit("split on a listener", false), mAliasKit(), mFlagKit(), mBlueGreenKit()} {
		t.Run(kit.name, func(t *testing.T) {
			d := newDRigOf(t, kit, true)
			if d.s.colors != nil {
				d.s.colors()
			}
			for i, at := range []weights.Split{d.s.to, d.s.from, d.s.to} {
				if diags := d.apply(d.config(at, false, "")); diags.HasError("") {
					t.Fatalf("apply %d (to %s): %s", i+1, at.Short(), diags)
				}
				if got := d.r.String("last_rollout.status"); got != "succeeded" {
					t.Fatalf("apply %d: last_rollout.status %q (%s)", i+1, got, d.r.String("last_rollout.reason"))
				}
				if live := d.s.live(); !weights.SameShares(live, at) {
					t.Fatalf("apply %d: serves %s, want %s", i+1, live.Short(), at.Short())
				}
			}
			if n := len(d.e.Emu.Executions()); n != 3 {
				t.Fatalf("%d executions, want 3 (one per run)", n)
			}
		})
		t.Run(kit.name+", aborted", func(t *testing.T) {
			d := newDRigOf(t, kit, true)
			if d.s.colors != nil {
				d.s.colors()
			}
			for i, at := range []weights.Split{d.s.to, d.s.from, d.s.to} {
				if diags := d.apply(d.config(at, true, "")); diags.HasError("") {
					t.Fatalf("apply %d (to %s): %s", i+1, at.Short(), diags)
				}
			}
			if got, step := d.r.String("last_rollout.status"), d.r.String("last_rollout.step_reached"); got != "running" || step != "1" {
				t.Fatalf("last_rollout.status %q at step %s after the same change again (%s), want running, held at step 1", got, step, d.r.String("last_rollout.reason"))
			}
			if live := d.s.live(); weights.SameShares(live, d.s.from) || weights.SameShares(live, d.s.to) {
				t.Fatalf("serves %s, want the first step towards %s", live.Short(), d.s.to.Short())
			}
			if n := len(d.e.Emu.Executions()); n != 2 {
				t.Fatalf("%d executions, want 2 (the aborted run, the new one)", n)
			}
			l, _ := d.s.lease.ReadLease(context.Background())
			if !strings.HasPrefix(l.Status, "held 1/2 ") || !strings.Contains(l.Status, d.states.Running()[0][strings.LastIndex(d.states.Running()[0], ":")+1:]) {
				t.Fatalf("status tag %q, want the new run held at 1/2", l.Status)
			}
		})
	}
}

// A promote planned while the run is held, applied after a person changed
// the subject, is refused before the promote is sent: the person's change
// wins, as in an apply's run.
func TestDetachedPromoteAfterHandChange(t *testing.T) {
	d := newDRig(t, true)
	if diags := d.apply(d.config(d.s.to, true, "")); diags.HasError("") {
		t.Fatal(diags)
	}
	p := d.r.Plan(d.config(d.s.to, true, "go"))
	if p.Diags.HasError("") {
		t.Fatalf("plan: %s", p.Diags)
	}
	hand := weights.Split{{ARN: d.s.from[0].ARN, Weight: 70}, {ARN: d.s.from[1].ARN, Weight: 30}}
	d.s.set(hand)
	diags := p.Apply()
	if !diags.HasError("Listener Changed Since Plan") {
		t.Fatalf("the promote was not refused: %s", diags)
	}
	l, _ := d.s.lease.ReadLease(context.Background())
	exec := d.e.Emu.Executions()[0]
	if l.Run == orchestrator.PromoteTag(exec.Name, 1) {
		t.Fatalf("the promote was sent (run tag %q) after the subject changed", l.Run)
	}
}

// Notices not delivered are counted for the whole run, with SNS failing
// throughout: across a hold promoted by a later apply, or aborted, in both
// drivers (detached, the started notice beside those the execution sends).
func TestUndeliveredCountedPerRun(t *testing.T) {
	cases := []struct {
		name     string
		detached bool
		// second is where the second apply points, promote its token
		second  func(d *dRig) weights.Split
		promote string
		status  string
		lost    []string
	}{
		{"promoted", false, func(d *dRig) weights.Split { return d.s.to }, "go", "succeeded", []string{"started", "held", "promoted", "step_completed", "succeeded"}},
		{"promoted detached", true, func(d *dRig) weights.Split { return d.s.to }, "go", "succeeded", []string{"started", "held", "promoted", "step_completed", "succeeded"}},
		{"aborted", false, func(d *dRig) weights.Split { return d.s.from }, "", "rolled_back", []string{"started", "held", "gate_failed", "rolled_back"}},
		{"aborted detached", true, func(d *dRig) weights.Split { return d.s.from }, "", "rolled_back", []string{"started", "held", "gate_failed", "rolled_back"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := newDRig(t, c.detached)
			d.e.Emu.InjectFaults("sns", emulator.Faults{Rate: 1, Kinds: []emulator.Fault{emulator.ServerError}, Seed: 1})
			if diags := d.apply(d.config(d.s.to, true, "")); diags.HasError("") {
				t.Fatal(diags)
			}
			if diags := d.apply(d.config(c.second(d), true, c.promote)); diags.HasError("") {
				t.Fatal(diags)
			}
			if got := d.r.String("last_rollout.status"); got != c.status {
				t.Fatalf("last_rollout.status %q, want %q", got, c.status)
			}
			if n := d.r.String("last_rollout.notices_undelivered"); n != strconv.Itoa(len(c.lost)) {
				t.Fatalf("last_rollout.notices_undelivered = %s; the run's %d notices %v were all lost", n, len(c.lost), c.lost)
			}
		})
	}
}

// A person's change right after a detached run's last write, before the
// apply that started it has seen it end: the run succeeded, the state
// keeps what the plan showed (the target), and the change is drift for
// the next plan (found by the model-based checker, seed 145: the alias
// recorded what it read, core's "inconsistent result").
func TestDetachedHandChangeAfterLastWrite(t *testing.T) {
	for _, kit := range []mKit{mSplitKit("split on a listener", false), mSplitKit("split on a rule", true), mAliasKit(), mFlagKit(), mBlueGreenKit()} {
		t.Run(kit.name, func(t *testing.T) {
			d := newDRigOf(t, kit, true)
			if d.s.colors != nil {
				d.s.colors()
			}
			done := false
			d.e.Clock.OnSleep(func(context.Context, time.Duration, time.Time) {
				_ = d.states.Tick(context.Background())
				if !done && len(d.states.Running()) == 0 {
					// The execution has ended; the apply has not read it yet.
					done = true
					d.s.set(d.s.from)
				}
			})
			diags := d.r.PlanApply(d.config(d.s.to, false, ""))
			d.e.Clock.OnSleep(nil)
			if diags.HasError("") {
				t.Fatalf("apply: %s", diags)
			}
			if !done {
				t.Fatal("the person's change was not made")
			}
			if got := d.r.String("last_rollout.status"); got != "succeeded" {
				t.Fatalf("last_rollout.status %q", got)
			}
			if rd := d.r.Refresh(); rd.HasError("") {
				t.Fatalf("refresh: %s", rd)
			}
			if p := d.r.Plan(d.config(d.s.to, false, "")); !p.Changes() {
				t.Fatalf("the hand change after the run (back to %s) is not shown as drift by the next plan", d.s.from.Short())
			}
		})
	}
}

func TestDetachedSavedPromoteAfterExecutionEnded(t *testing.T) {
	for _, status := range []string{"ABORTED", "TIMED_OUT"} {
		t.Run(status, func(t *testing.T) {
			d := newDRig(t, true)
			if diags := d.apply(d.config(d.s.to, true, "")); diags.HasError("") {
				t.Fatal(diags)
			}
			p := d.r.Plan(d.config(d.s.to, true, "go"))
			if p.Diags.HasError("") {
				t.Fatalf("plan: %s", p.Diags)
			}
			arn := d.states.Running()[0]
			d.e.Emu.SetExecution(arn, func(x *emulator.Execution) { x.Status, x.Stop = status, d.e.Clock.Now() })
			before := len(d.s.writes())
			diags := p.Apply()
			if !diags.HasError("(?s)Detached Rollout Ended.*" + status + ".*Nothing was sent.*terraform plan") {
				t.Errorf("the promote of an execution that ended %s was not refused: %s", status, diags)
			}
			l, _ := d.s.lease.ReadLease(context.Background())
			if l.Run == orchestrator.PromoteTag(nameOfARN(arn), 1) {
				t.Errorf("the promote was sent (run tag %q) to an execution that ended %s", l.Run, status)
			}
			if w := d.s.writes()[before:]; len(w) != 0 {
				t.Errorf("the refused promote wrote %v", w)
			}
		})
	}
}

func nameOfARN(arn string) string { return arn[strings.LastIndex(arn, ":")+1:] }

func TestDetachedPromoteAfterHandChangeRefreshed(t *testing.T) {
	d := newDRig(t, true)
	if diags := d.apply(d.config(d.s.to, true, "")); diags.HasError("") {
		t.Fatal(diags)
	}
	hand := weights.Split{{ARN: d.s.from[0].ARN, Weight: 50}, {ARN: d.s.from[1].ARN, Weight: 50}}
	d.s.set(hand)
	before := len(d.s.writes())
	if rd := d.r.Refresh(); rd.HasError("") {
		t.Fatal(rd)
	}
	p := d.r.Plan(d.config(d.s.to, true, "go"))
	if !p.Diags.HasWarning("(?s)Changed During Hold.*" + regexp.QuoteMeta(hand.Short())) {
		t.Errorf("the promote's plan does not say the subject was changed during the hold: %s", p.Diags)
	}
	diags := p.Apply()
	if !diags.HasError("(?s)Changed During Hold.*Nothing was sent") {
		t.Errorf("the promote over a person's change was not refused: %s", diags)
	}
	l, _ := d.s.lease.ReadLease(context.Background())
	if l.Run == orchestrator.PromoteTag(d.e.Emu.Executions()[0].Name, 1) {
		t.Errorf("the promote was sent (run tag %q) over the person's change", l.Run)
	}
	d.settle()
	if w := d.s.writes()[before:]; len(w) != 0 {
		t.Errorf("the rollout wrote %v over the person's change", w)
	}
}

func TestDetachedAbortAfterHandChange(t *testing.T) {
	d := newDRig(t, true)
	if diags := d.apply(d.config(d.s.to, true, "")); diags.HasError("") {
		t.Fatal(diags)
	}
	hand := weights.Split{{ARN: d.s.from[0].ARN, Weight: 50}, {ARN: d.s.from[1].ARN, Weight: 50}}
	d.s.set(hand)
	if rd := d.r.Refresh(); rd.HasError("") {
		t.Fatal(rd)
	}
	before := len(d.s.writes())
	p := d.r.Plan(d.config(d.s.from, true, ""))
	if !p.Diags.HasWarning("(?s)Changed During Hold.*" + regexp.QuoteMeta(hand.Short())) {
		t.Errorf("the abort's plan does not say the subject was changed during the hold: %s", p.Diags)
	}
	d.e.Clock.OnSleep(func(context.Context, time.Duration, time.Time) { _ = d.states.Tick(context.Background()) })
	diags := p.Apply()
	d.e.Clock.OnSleep(nil)
	if w := d.s.writes()[before:]; len(w) != 0 {
		t.Errorf("the abort wrote %v over the person's change (apply: %s)", w, diags)
	}
}

// A detached run that reached its hold after the apply returned (a step
// with a pause before it), changed by a person before any refresh saw the
// hold: the refresh still records the hold (the status tag's step, since
// the subject serves none of the steps), the plan of a promote warns, and
// the promote is refused as changed during the hold, not as "nothing to
// promote" (found by the model checker, seed 2979).
func TestDetachedHoldReachedUnseenThenChangedByHand(t *testing.T) {
	d := newDRig(t, true)
	cfg := func(promote string) map[string]any {
		c := d.config(d.s.to, false, promote)
		c["rollout"].(map[string]any)["steps"] = []any{
			map[string]any{"percent": 20, "pause": "2m"}, map[string]any{"percent": 50, "pause": "hold"}, map[string]any{"percent": 100}}
		return c
	}
	if diags := d.r.PlanApply(cfg("")); diags.HasError("") {
		t.Fatal(diags)
	}
	held := func() bool {
		l, _ := d.s.lease.ReadLease(context.Background())
		return len(d.states.Running()) == 0 || strings.HasPrefix(l.Status, "held ")
	}
	if err := d.states.Run(context.Background(), d.e.Clock.Now().Add(time.Hour), held); err != nil {
		t.Fatal(err)
	}
	hand := weights.Split{{ARN: d.s.from[0].ARN, Weight: 65}, {ARN: d.s.from[1].ARN, Weight: 35}}
	d.s.set(hand)
	// A status tag that is not this run's (another execution's) says
	// nothing of where this run stands.
	l, _ := d.s.lease.ReadLease(context.Background())
	if !strings.HasPrefix(l.Status, "held 2/3 ") || !strings.Contains(l.Status, " rollout-") {
		t.Fatalf("status tag %q, want this run's held 2/3", l.Status)
	}
	if err := d.s.lease.SetStatus(context.Background(), strings.Replace(l.Status, "rollout-", "rollout-other", 1)); err != nil {
		t.Fatal(err)
	}
	if rd := d.r.Refresh(); rd.HasError("") {
		t.Fatal(rd)
	}
	if got := d.r.String("last_rollout.step_reached"); got == "2" {
		t.Errorf("last_rollout.step_reached = 2 from another execution's status tag %q", strings.Replace(l.Status, "rollout-", "rollout-other", 1))
	}
	if err := d.s.lease.SetStatus(context.Background(), l.Status); err != nil {
		t.Fatal(err)
	}
	if rd := d.r.Refresh(); rd.HasError("") {
		t.Fatal(rd)
	}
	if got := d.r.String("last_rollout.step_reached"); got != "2" {
		t.Errorf("last_rollout.step_reached = %s after the refresh, want 2 (the hold the status tag names)", got)
	}
	p := d.r.Plan(cfg("go"))
	if !p.Diags.HasWarning("(?s)Changed During Hold.*" + regexp.QuoteMeta(hand.Short())) {
		t.Errorf("the promote's plan does not say the subject was changed during the hold: %s", p.Diags)
	}
	if diags := p.Apply(); !diags.HasError("(?s)Changed During Hold.*Nothing was sent") {
		t.Errorf("the promote over a person's change was not refused as such: %s", diags)
	}
}

// lostOnce makes the orchestrator's next call lose its answer (it runs to
// its end; Step Functions repeats it with the same input), once.
func (d *dRig) lostOnce() {
	lost := false
	d.states.Fault = func(string) acctest.CallFault {
		if lost {
			return ""
		}
		lost = true
		return acctest.CallLost
	}
}

// The abort of a held detached run, planned while the run was held and
// applied after a person changed the subject, is refused before anything
// is sent, as a promote is: the apply cannot do what its plan showed (a
// rollback from the held step), and the person's change wins. One error
// says so; no abort tag, nothing written to the listener, the run still
// held in AWS; the apply does not wait for an end that nothing asked for
// (found by the model checker, seed 5373: the abort was sent, its call's
// answer lost, and the apply waited an hour for "Abort Not Confirmed").
func TestDetachedAbortChangedSincePlan(t *testing.T) {
	d := newDRig(t, true)
	if diags := d.apply(d.config(d.s.to, true, "")); diags.HasError("") {
		t.Fatal(diags)
	}
	exec := d.e.Emu.Executions()[0].Name
	held := d.lease()
	p := d.r.Plan(d.config(d.s.from, true, ""))
	if p.Diags.HasError("") || p.Diags.HasWarning("Changed During Hold") {
		t.Fatalf("plan: %s", p.Diags)
	}
	hand := weights.Split{{ARN: d.s.from[0].ARN, Weight: 50}, {ARN: d.s.from[1].ARN, Weight: 950}}
	d.s.set(hand)
	before, at := len(d.s.writes()), d.e.Clock.Now()
	d.lostOnce()
	defer d.ticking()()
	diags := p.Apply()
	if !diags.HasError("(?s)Changed Since Plan.*"+regexp.QuoteMeta(hand.Short())+`.*nothing was sent \(the abort tag was not written\)`) || len(diags) != 1 {
		t.Errorf("the abort over a person's change since the plan was not refused plainly (one error): %s", diags)
	}
	if w := d.s.writes()[before:]; len(w) != 0 {
		t.Errorf("the abort wrote %v over the person's change", w)
	}
	if l := d.lease(); l.Run != orchestrator.RunningTag(exec) || l.Status != held.Status {
		t.Errorf("run tag %q, status tag %q after the refused abort; want %q, %q (nothing sent)", l.Run, l.Status, orchestrator.RunningTag(exec), held.Status)
	}
	if n := len(d.states.Running()); n != 1 {
		t.Errorf("%d executions running after the refused abort, want the held one", n)
	}
	if waited := d.e.Clock.Now().Sub(at); waited > time.Minute {
		t.Errorf("the refused abort waited %s", waited)
	}
	if live := d.s.live(); !live.Equal(hand) {
		t.Errorf("the listener serves %s, want the person's %s", live.Short(), hand.Short())
	}
}

// A call that ends a held run because of its run tag (an abort), whose
// answer is lost, is repeated by Step Functions with the same input, after
// the first attempt replaced that tag with the run's end: the repeat acts
// on the same tag and ends the run the same way at once, not held until
// the execution's deadline (found with seed 5373). An abort that rolls
// back, and a promote, go on in later calls, which find their tag.
func TestDetachedEndingCallRepeated(t *testing.T) {
	cases := []struct {
		name string
		// hand: a person changed the subject during the hold, which the
		// refresh before the abort's plan sees.
		hand    bool
		promote string
		// status and gate are last_rollout's; end the status tag's and the
		// run tag's; writes the listener's writes after the hold; err the
		// apply's error ("" for none).
		status, gate, end string
		writes            int
		err               string
	}{
		{name: "abort", status: "rolled_back", gate: "aborted", end: "rolled_back", writes: 1},
		{name: "abort over a person's change", hand: true, status: "failed", gate: "changed_during_rollout", end: "changed_during_rollout", err: "Changed During Rollout"},
		{name: "promote to the last step", promote: "go", status: "succeeded", end: "succeeded", writes: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := newDRig(t, true)
			if diags := d.apply(d.config(d.s.to, true, "")); diags.HasError("") {
				t.Fatal(diags)
			}
			exec := d.e.Emu.Executions()[0].Name
			cfg := d.config(d.s.from, true, "")
			if tc.promote != "" {
				cfg = d.config(d.s.to, true, tc.promote)
			}
			want := d.s.from
			if tc.hand {
				want = weights.Split{{ARN: d.s.from[0].ARN, Weight: 50}, {ARN: d.s.from[1].ARN, Weight: 950}}
				d.s.set(want)
			} else if tc.promote != "" {
				want = d.s.to
			}
			if rd := d.r.Refresh(); rd.HasError("") {
				t.Fatal(rd)
			}
			before, at := len(d.s.writes()), d.e.Clock.Now()
			d.lostOnce()
			diags := d.apply(cfg)
			if tc.err == "" && diags.HasError("") || tc.err != "" && !diags.HasError(tc.err) || diags.HasError("Not Confirmed") {
				t.Errorf("apply: %s", diags)
			}
			if n := len(d.states.Running()); n != 0 {
				t.Fatalf("%d executions still running", n)
			}
			if took := d.e.Clock.Now().Sub(at); took > 5*time.Minute {
				t.Errorf("the run ended %s after the apply began, held past the call that ended it", took)
			}
			if got, gate := d.r.String("last_rollout.status"), d.r.String("last_rollout.gate"); got != tc.status || gate != tc.gate {
				t.Errorf("last_rollout.status %q, gate %q; want %q, %q (%s)", got, gate, tc.status, tc.gate, d.r.String("last_rollout.reason"))
			}
			if w := d.s.writes()[before:]; len(w) != tc.writes {
				t.Errorf("the listener was written %d times after the hold (%v), want %d", len(w), w, tc.writes)
			}
			if live := d.s.live(); !weights.SameShares(live, want) {
				t.Errorf("the listener serves %s, want %s", live.Short(), want.Short())
			}
			if l := d.lease(); !strings.HasPrefix(l.Status, tc.end+" ") || !strings.HasPrefix(l.Run, tc.status+" "+exec) {
				t.Errorf("status tag %q, run tag %q; want the run's end, %s", l.Status, l.Run, tc.end)
			}
		})
	}
}

// An abort of a detached run that ends in an error (the orchestrator found
// a person's change and stopped with nothing written) is recorded in the
// state as it ended, for every kind of subject: the error says the state
// records it, and a state still saying "running" would refuse the next
// change as if the run went on.
func TestDetachedAbortEndingInErrorIsRecorded(t *testing.T) {
	for _, kit := range []mKit{mSplitKit("split on a listener", false), mAliasKit(), mFlagKit()} {
		t.Run(kit.name, func(t *testing.T) {
			d := newDRigOf(t, kit, true)
			if diags := d.apply(d.config(d.s.to, true, "")); diags.HasError("") {
				t.Fatal(diags)
			}
			// A split of the subject's two targets that none of the
			// schedule's steps serves.
			arns := []string{}
			for _, x := range append(append(weights.Split{}, d.s.from...), d.s.to...) {
				if !slices.Contains(arns, x.ARN) {
					arns = append(arns, x.ARN)
				}
			}
			hand := weights.Split{{ARN: arns[0], Weight: 97}, {ARN: arns[1], Weight: 3}}
			if d.s.norm != nil {
				hand = d.s.norm.Normalize(hand)
			}
			d.s.set(hand)
			if rd := d.r.Refresh(); rd.HasError("") {
				t.Fatal(rd)
			}
			diags := d.apply(d.config(d.s.from, true, ""))
			if !diags.HasError("Changed During Rollout") {
				t.Fatalf("apply: %s", diags)
			}
			if got, gate := d.r.String("last_rollout.status"), d.r.String("last_rollout.gate"); got != "failed" || gate != "changed_during_rollout" {
				t.Errorf("last_rollout.status %q, gate %q; want failed, changed_during_rollout", got, gate)
			}
			if live := d.s.live(); !weights.SameShares(live, hand) {
				t.Errorf("serves %s, want the person's %s", live.Short(), hand.Short())
			}
		})
	}
}
