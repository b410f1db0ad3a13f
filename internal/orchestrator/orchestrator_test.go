package orchestrator_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/rolloutdev/terraform-provider-rollout/internal/acctest"
	"github.com/rolloutdev/terraform-provider-rollout/internal/awsclient"
	"github.com/rolloutdev/terraform-provider-rollout/internal/clock"
	"github.com/rolloutdev/terraform-provider-rollout/internal/emulator"
	"github.com/rolloutdev/terraform-provider-rollout/internal/orchestrator"
	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
	"github.com/rolloutdev/terraform-provider-rollout/internal/subjects"
	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

// These tests run the orchestrator binary under kumo's Step Functions and
// Lambda Runtime API: real Wait states, real Retry and Catch, a real
// process. They wait in real time (another process, another goroutine's
// timers), a few seconds each.

func TestMain(m *testing.M) {
	acctest.SetCredentialsEnv()
	os.Exit(m.Run())
}

type detached struct {
	e        *acctest.Env
	f        acctest.Fixture
	ref      awsclient.Ref
	from, to weights.Split
	steps    []rollout.PlannedStep
	proc     *acctest.OrchestratorProcess
	sm       string
	splits   func() []weights.Split
}

func newDetached(t *testing.T, pauses ...time.Duration) *detached {
	var st []rollout.Step
	for i, p := range pauses {
		st = append(st, rollout.Step{Percent: []int{10, 50, 100}[i], Pause: p})
	}
	return newDetachedSteps(t, st)
}

// newDetachedHeld is a canary of 10, 50 and 100 % that holds after step 1
// until the test promotes it: a test that acts on step 1 does so however
// slowly the machine runs beside the orchestrator's real clock.
func newDetachedHeld(t *testing.T) *detached {
	return newDetachedSteps(t, []rollout.Step{{Percent: 10, Hold: true}, {Percent: 50, Pause: time.Second}, {Percent: 100}})
}

// promote tags the subject as an apply with a new rollout.promote does.
func (d *detached) promote(t *testing.T, j orchestrator.Job, step int) {
	t.Helper()
	lease := awsclient.ListenerLease(&awsclient.Client{ELB: d.e.ELB}, d.ref)
	if err := lease.SetRun(context.Background(), orchestrator.PromoteTag(j.Execution, step)); err != nil {
		t.Fatal(err)
	}
}

func newDetachedSteps(t *testing.T, st []rollout.Step) *detached {
	e := acctest.NewEnv(t)
	d := &detached{e: e, f: e.NewFixture(2)}
	d.ref = awsclient.Ref{ListenerARN: d.f.Listener}
	d.from = weights.Split{{ARN: d.f.TGs[0], Weight: 1}, {ARN: d.f.TGs[1], Weight: 0}}
	d.to = weights.Split{{ARN: d.f.TGs[0], Weight: 0}, {ARN: d.f.TGs[1], Weight: 1}}
	e.SetWeights(d.ref, d.from)
	var err error
	d.steps, err = rollout.Plan(d.from, d.to, rollout.Strategy{Kind: rollout.Canary, Steps: st})
	if err != nil {
		t.Fatal(err)
	}
	fn := acctest.Name("orchestrator")
	arn := e.OrchestratorFunction(fn, 5)
	d.sm = e.StateMachine(acctest.Name("rollouts"), arn)
	d.proc = e.RunOrchestrator(fn)
	d.splits = e.RecordSplitsOf(d.f.Listener)
	return d
}

func (d *detached) job(gates rollout.Gates) orchestrator.Job {
	ref := d.ref
	return orchestrator.Job{
		Version:   orchestrator.JobVersion,
		Region:    acctest.Region,
		Subject:   subjects.Ref{Listener: &ref},
		Owner:     "rollout_traffic_split/test",
		Execution: acctest.Name("x"),
		Deadline:  time.Now().Add(2 * time.Minute),
		Settings:  rollout.Settings{Gates: gates, PollInterval: time.Second, Policy: rollout.Auto},
	}
}

func (d *detached) start(t *testing.T, j orchestrator.Job) string {
	t.Helper()
	r := &rollout.Runner{Clock: clock.Real{}}
	in, err := json.Marshal(orchestrator.NewState(j, r.Start(d.from, d.steps)))
	if err != nil {
		t.Fatal(err)
	}
	out, err := d.e.SFN().StartExecution(context.Background(), &sfn.StartExecutionInput{StateMachineArn: aws.String(d.sm), Name: aws.String(j.Execution), Input: aws.String(string(in))})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.ExecutionArn)
}

func (d *detached) serves(t *testing.T) weights.Split {
	t.Helper()
	f, _ := d.e.Forward(d.ref)
	return f.Split
}

func sameSplits(t *testing.T, what string, got []weights.Split, want ...weights.Split) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("%s: the listener was written %v, want %v", what, got, want)
	}
}

func TestDetachedCanarySucceeds(t *testing.T) {
	t.Parallel()
	d := newDetached(t, time.Second, time.Second, 0)
	// The hooks are the user's Lambda, invoked by the orchestrator.
	hook := d.e.HookFunction("detached-hook", func(map[string]any) (string, string) { return acctest.Answer("Succeeded", "smoke test passed"), "" })
	exec := d.start(t, d.job(rollout.Gates{BeforeShift: hook.ARN, AfterPause: hook.ARN}))
	out := d.e.WaitExecution(exec, time.Minute)
	if out.Status != sfntypes.ExecutionStatusSucceeded {
		t.Fatalf("the execution ended %s (%s: %s); orchestrator:\n%s", out.Status, aws.ToString(out.Error), aws.ToString(out.Cause), d.proc.Logs())
	}
	var phases []string
	for _, p := range hook.Calls() {
		phases = append(phases, fmt.Sprintf("%v@%v", p["phase"], p["step"]))
	}
	if got := strings.Join(phases, " "); got != "before_shift@1 after_pause@1 before_shift@2 after_pause@2 before_shift@3 after_pause@3" {
		t.Fatalf("the orchestrator invoked the hooks %s", got)
	}
	var s orchestrator.State
	if err := json.Unmarshal([]byte(aws.ToString(out.Output)), &s); err != nil {
		t.Fatal(err)
	}
	if s.Status != string(rollout.Succeeded) || s.Progress.Result().StepReached != 3 {
		t.Fatalf("the execution's output says %s at step %d", s.Status, s.Progress.Result().StepReached)
	}
	sameSplits(t, "a canary of three steps", d.splits(), d.steps[0].Weights, d.steps[1].Weights, d.steps[2].Weights)
	if got := d.serves(t); !got.Equal(d.to) {
		t.Fatalf("the listener serves %s, want %s", got, d.to)
	}
	lease, err := awsclient.ListenerLease(&awsclient.Client{ELB: d.e.ELB}, d.ref).ReadLease(context.Background())
	if err != nil || lease.Run != orchestrator.EndedTag(rollout.Succeeded, s.Job.Execution) {
		t.Fatalf("the run tag is %q (%v), want the end recorded", lease.Run, err)
	}
	d.e.CheckPolicyCovers()
}

func TestDetachedAlarmRollsBack(t *testing.T) {
	t.Parallel()
	d := newDetached(t, 30*time.Second, time.Second, 0)
	alarm := d.e.Alarm("detached")
	exec := d.start(t, d.job(rollout.Gates{Alarms: []string{alarm}}))
	// Step 1 is written; then the alarm fires during its pause.
	waitFor(t, "step 1", func() bool { return len(d.splits()) == 1 })
	fired := time.Now()
	d.e.SetAlarmState(alarm, cwtypes.StateValueAlarm)
	waitFor(t, "the rollback", func() bool { return len(d.splits()) == 2 })
	took := time.Since(fired)
	out := d.e.WaitExecution(exec, time.Minute)
	if out.Status != sfntypes.ExecutionStatusFailed {
		t.Fatalf("the execution ended %s, want FAILED", out.Status)
	}
	rep, ok := orchestrator.ParseCause(aws.ToString(out.Cause))
	if !ok || rep.Status != rollout.RolledBack || rep.Result.Failure == nil || rep.Result.Failure.Gate != rollout.GateAlarm || rep.Result.Failure.Step != 1 {
		t.Fatalf("the execution's cause is %q; want a report of a rollback at step 1 by the alarm", aws.ToString(out.Cause))
	}
	sameSplits(t, "step 1, then the rollback", d.splits(), d.steps[0].Weights, d.from)
	if got := d.serves(t); !got.Equal(d.from) {
		t.Fatalf("the listener serves %s, want %s", got, d.from)
	}
	// Watched at each poll (1 s), the rollback comes within a few seconds;
	// unwatched, at the end of the 30 s pause. The bound is half the pause,
	// a margin that dwarfs a loaded machine's own time (the orchestrator is
	// another process, and Step Functions' Wait states run in real time);
	// how fast it is, is make bench's figure, not this test's.
	if took > 15*time.Second {
		t.Errorf("the rollback was written %s after the alarm fired; want it at a poll (every second), not at the end of the 30 s pause", took)
	}
	t.Logf("alarm → rollback write: %s", took)
	d.e.CheckPolicyCovers()
}

// Killing the orchestrator mid-call, right after its write of step 2 has
// landed (as it reads the write back), loses no step and takes none twice:
// the call times out, Step Functions retries it, and the repeat, in a new
// process, finds step 2 made and goes on without writing it again.
func TestDetachedSurvivesAKilledOrchestrator(t *testing.T) {
	t.Parallel()
	d := newDetached(t, time.Second, time.Second, 0)
	var once sync.Once
	d.e.Emu.OnRequest(func(action string, form url.Values) {
		// The read-back of step 2's write: the write has landed.
		if action == "elasticloadbalancing:DescribeListeners" && len(d.splits()) == 2 {
			once.Do(func() {
				d.proc.Kill()
				d.proc.Start()
			})
		}
	})
	exec := d.start(t, d.job(rollout.Gates{}))
	out := d.e.WaitExecution(exec, time.Minute)
	if out.Status != sfntypes.ExecutionStatusSucceeded {
		t.Fatalf("the execution ended %s (%s: %s); orchestrator:\n%s", out.Status, aws.ToString(out.Error), aws.ToString(out.Cause), d.proc.Logs())
	}
	sameSplits(t, "a killed orchestrator", d.splits(), d.steps[0].Weights, d.steps[1].Weights, d.steps[2].Weights)
	var s orchestrator.State
	if err := json.Unmarshal([]byte(aws.ToString(out.Output)), &s); err != nil {
		t.Fatal(err)
	}
	if s.Progress.Result().StepReached != 3 {
		t.Fatalf("the run ended at step %d", s.Progress.Result().StepReached)
	}
}

// A person's change mid-rollout stops it, as in the apply: nothing more
// is written, and the report says what was found.
func TestDetachedHandChangeStops(t *testing.T) {
	t.Parallel()
	d := newDetachedHeld(t)
	j := d.job(rollout.Gates{})
	exec := d.start(t, j)
	waitFor(t, "step 1", func() bool { return len(d.splits()) == 1 })
	hand := weights.Split{{ARN: d.f.TGs[0], Weight: 70}, {ARN: d.f.TGs[1], Weight: 30}}
	d.e.SetWeights(d.ref, hand)
	d.promote(t, j, 1) // the next write finds the hand change
	out := d.e.WaitExecution(exec, time.Minute)
	rep, ok := orchestrator.ParseCause(aws.ToString(out.Cause))
	if out.Status != sfntypes.ExecutionStatusFailed || !ok || rep.Result.Failure == nil || rep.Result.Failure.Gate != rollout.GateChanged {
		t.Fatalf("the execution ended %s with %q; want FAILED, changed during the rollout", out.Status, aws.ToString(out.Cause))
	}
	sameSplits(t, "step 1, then the person's change", d.splits(), d.steps[0].Weights, hand)
	if got := d.serves(t); !got.Equal(hand) {
		t.Fatalf("the listener serves %s; the person's %s must win", got, hand)
	}
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	end := time.Now().Add(30 * time.Second)
	for !ok() {
		if time.Now().After(end) {
			t.Fatalf("waited 30 s for %s", what)
		}
		time.Sleep(50 * time.Millisecond) // another process: real time
	}
}

// Another owner taking the subject over mid-rollout (adopt) wins, as a
// hand change does: the orchestrator stops and writes nothing more, not
// even its end in the run and status tags, which are the new owner's now
// (issue 27 (6): it overwrote the new owner's own run there).
func TestDetachedStopsWhenTheLeaseIsTaken(t *testing.T) {
	t.Parallel()
	d := newDetachedHeld(t) // held: nothing else can move it meanwhile
	exec := d.start(t, d.job(rollout.Gates{}))
	waitFor(t, "step 1", func() bool { return len(d.splits()) == 1 })
	lease := awsclient.ListenerLease(&awsclient.Client{ELB: d.e.ELB}, d.ref)
	ctx := context.Background()
	// The new owner's own detached rollout, and an abort it wrote there.
	const theirRun, theirStatus = "abort rollout-another", "started 0/2 2026-01-01T00:00:00Z rollout-another"
	if err := lease.SetOwner(ctx, "rollout_release/another"); err != nil {
		t.Fatal(err)
	}
	if err := lease.SetRun(ctx, theirRun); err != nil {
		t.Fatal(err)
	}
	if err := lease.SetStatus(ctx, theirStatus); err != nil {
		t.Fatal(err)
	}
	out := d.e.WaitExecution(exec, time.Minute)
	rep, ok := orchestrator.ParseCause(aws.ToString(out.Cause))
	if out.Status != sfntypes.ExecutionStatusFailed || !ok || rep.Result.Failure == nil || rep.Result.Failure.Gate != rollout.GateChanged ||
		!strings.Contains(rep.Result.Failure.Reason, "rollout_release/another") {
		t.Fatalf("the execution ended %s with %q; want FAILED, stopped for the other owner", out.Status, aws.ToString(out.Cause))
	}
	sameSplits(t, "step 1, then nothing", d.splits(), d.steps[0].Weights)
	if l, err := lease.ReadLease(ctx); err != nil || l.Run != theirRun || l.Status != theirStatus || l.Owner != "rollout_release/another" {
		t.Fatalf("the lease is %+v (%v); want the new owner's tags left as it wrote them (run %q, status %q)", l, err, theirRun, theirStatus)
	}
}

// A detached rollout's polls are lengthened by up to a tenth, the same
// for a repeated call, differently for each execution; short waits are
// kept.
func TestJitteredPolls(t *testing.T) {
	seen := map[int]bool{}
	for i := 0; i < 200; i++ {
		exec := fmt.Sprintf("rollout-%d", i)
		w := orchestrator.Jittered(60, exec, 3)
		if w < 60 || w > 66 {
			t.Fatalf("a 60 s wait became %d s", w)
		}
		if orchestrator.Jittered(60, exec, 3) != w {
			t.Fatal("a repeated call waits differently")
		}
		seen[w] = true
	}
	if len(seen) < 5 {
		t.Fatalf("200 executions waited only %v", seen)
	}
	if orchestrator.Jittered(5, "rollout-1", 1) != 5 || orchestrator.Jittered(0, "rollout-1", 1) != 0 {
		t.Fatal("a short wait was lengthened")
	}
}

// Issue 27 (11): a call's notices go out before it answers, however long
// they may take within their bounds. With SNS and EventBridge each
// answering in 1.2 s, the call that ends a run (step_completed, succeeded)
// needs about 5 s for its notices, more than the 3 s a call used to wait:
// both are delivered to both, and none is counted undelivered. The
// orchestrator runs in this process, on the real clock (the publishes are
// real requests, bounded in real time).
func TestACallWaitsForItsNotices(t *testing.T) {
	t.Parallel()
	e := acctest.NewEnv(t)
	f := e.NewFixture(2)
	ref := awsclient.Ref{ListenerARN: f.Listener}
	from := weights.Split{{ARN: f.TGs[0], Weight: 1}, {ARN: f.TGs[1], Weight: 0}}
	to := weights.Split{{ARN: f.TGs[0], Weight: 0}, {ARN: f.TGs[1], Weight: 1}}
	e.SetWeights(ref, from)
	steps, err := rollout.Plan(from, to, rollout.Strategy{Kind: rollout.AllAtOnce})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c, err := awsclient.New(ctx, awsclient.Config{Region: acctest.Region, MaxRetries: 1, Endpoints: awsclient.Endpoints{ELBv2: e.Emu.URL, CloudWatch: e.Emu.URL, SNS: e.Emu.URL, EventBridge: e.Emu.URL}}, clock.Real{})
	if err != nil {
		t.Fatal(err)
	}
	topic, _ := e.SNSNotices("calls")
	bus := acctest.Name("calls")
	if _, err := c.Events.(*eventbridge.Client).CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String(bus)}); err != nil {
		t.Fatal(err)
	}
	o := &orchestrator.Orchestrator{Clock: clock.Real{}, Client: func(context.Context, string) (*awsclient.Client, error) { return c, nil }}
	j := orchestrator.Job{
		Version:   orchestrator.JobVersion,
		Region:    acctest.Region,
		Subject:   subjects.Ref{Listener: &ref},
		Owner:     "rollout_traffic_split/test",
		Execution: acctest.Name("x"),
		Deadline:  time.Now().Add(2 * time.Minute),
		Settings:  rollout.Settings{PollInterval: time.Second, Policy: rollout.Auto, Topic: topic, Bus: bus},
	}
	s := orchestrator.NewState(j, (&rollout.Runner{Clock: clock.Real{}}).Start(from, steps))
	for !s.Done {
		if s.Progress.Res.StepReached == 1 { // the write made: the next call ends the run
			slow := emulator.Faults{Rate: 1, Kinds: []emulator.Fault{emulator.Slow}, SlowBy: 1200 * time.Millisecond}
			e.Emu.InjectFaults("sns", slow)
			e.Emu.InjectFaults("events", slow)
		}
		if s, err = o.Handle(ctx, s); err != nil {
			t.Fatal(err)
		}
		if s.Calls > 5 {
			t.Fatalf("the run did not end in %d calls", s.Calls)
		}
	}
	if s.Status != string(rollout.Succeeded) || s.Progress.Res.NotifyFailures != 0 {
		t.Fatalf("the run ended %s with %d notices undelivered; want succeeded and none", s.Status, s.Progress.Res.NotifyFailures)
	}
	if p, pe := e.Emu.Count("sns:Publish"), e.Emu.Count("events:PutEvents"); p != 2 || pe != 2 {
		t.Fatalf("the emulator answered %d Publish and %d PutEvents; want step_completed and succeeded delivered to both", p, pe)
	}
}

// An orchestrator upgraded while a run of the previous release is in
// flight (a canary held for days) goes on with it: a version 1 job is a
// version 2 one without the started notice in its state (sent by that
// release's apply); a version 2 one is a version 3 one whose progress may
// carry the refused state of a promote AWS refused ("refused", read as a
// refusal: rollout's TestOldRefusedProgress). A job of a later release,
// or of none, is refused.
func TestJobVersions(t *testing.T) {
	ref := awsclient.Ref{ListenerARN: "arn:aws:elasticloadbalancing:us-east-1:000000000000:listener/app/a/b/c"}
	j := orchestrator.Job{
		Region:    acctest.Region,
		Subject:   subjects.Ref{Listener: &ref},
		Execution: "x",
		Deadline:  time.Now().Add(time.Minute),
		Settings:  rollout.Settings{PollInterval: time.Second},
	}
	for v, ok := range map[int]bool{0: false, 1: true, 2: true, orchestrator.JobVersion: true, orchestrator.JobVersion + 1: false} {
		j.Version = v
		if err := j.Check(); (err == nil) != ok {
			t.Errorf("a job of version %d: Check says %v, want accepted %v", v, err, ok)
		}
	}
	var old orchestrator.State
	if err := json.Unmarshal([]byte(`{"job":{"v":2},"progress":{"phase":"hold","step":1,"refused":2,"refusals":1}}`), &old); err != nil {
		t.Fatal(err)
	}
	if old.Progress.OldRefused != 2 || old.Progress.Refusals != 1 {
		t.Errorf("the progress of a version 2 job read as %+v", old.Progress)
	}
}

// A refused promote's run tag says what AWS refused in what a tag value
// may hold (ELB, Lambda and SSM take letters, digits, spaces and
// _.:/=+-@, up to 256), and reads back.
func TestRefusedTag(t *testing.T) {
	long := "operation error Elastic Load Balancing v2: ModifyListener, https response error StatusCode: 403, RequestID: 1-2, api error AccessDenied: User: arn:aws:sts::000000000000:assumed-role/deploy/ci is not authorized to perform: elasticloadbalancing:ModifyListener on resource: arn:x because no identity-based policy allows it"
	other := "operation error Lambda: UpdateAlias, https response error StatusCode: 400, api error ValidationException: 1 validation error detected: Value '[x]' (a \"y\") " + strings.Repeat("z", 300)
	for _, c := range []struct{ in, want string }{
		{long, "AccessDenied elasticloadbalancing:ModifyListener"},
		{other, "ValidationException 1 validation error detected: Value x a y z"},
	} {
		why := orchestrator.RefusalText(c.in)
		if !strings.HasPrefix(why, c.want) {
			t.Errorf("RefusalText = %q, want %q…", why, c.want)
		}
		tag := orchestrator.RefusedTag("rollout-0123456789abcdef01234567", 2, why)
		if len(tag) > 256 || regexp.MustCompile(`[^\p{L}\p{Z}\p{N}_.:/=+\-@]`).MatchString(tag) {
			t.Errorf("tag %q is not a tag value", tag)
		}
		step, got, ok := orchestrator.ParseRefusedTag(tag, "rollout-0123456789abcdef01234567")
		if !ok || step != 2 || !strings.HasPrefix(why, got) {
			t.Errorf("ParseRefusedTag(%q) = %d %q %v", tag, step, got, ok)
		}
		if _, _, ok := orchestrator.ParseRefusedTag(tag, "rollout-other"); ok {
			t.Errorf("the tag of another execution was read as this one's")
		}
	}
}

// The end of a run its last call acted on a run tag for says what it acted
// on (a repeat of that call acts on it again), as a tag value can.
func TestEndedAfterTag(t *testing.T) {
	const exec = "rollout-0123456789abcdef01234567"
	for acted, want := range map[string]string{
		"":                                "failed " + exec,
		orchestrator.AbortTag(exec):       "failed " + exec + " after abort",
		orchestrator.StopTag(exec):        "failed " + exec + " after stop",
		orchestrator.PromoteTag(exec, 12): "failed " + exec + " after promote 12",
	} {
		tag := orchestrator.EndedAfter(rollout.Failed, exec, acted)
		if tag != want || len(tag) > 256 || regexp.MustCompile(`[^\p{L}\p{Z}\p{N}_.:/=+\-@]`).MatchString(tag) {
			t.Errorf("EndedAfter(%q) = %q, want %q (a tag value)", acted, tag, want)
		}
	}
}

// The job's settings are one value (rollout.Settings), and the job's JSON
// is the one the previous release wrote: an execution in flight across an
// upgrade reads every field, and a job written now has the same keys.
func TestJobJSONKeepsItsFields(t *testing.T) {
	old := `{"v":2,"region":"us-east-1","subject":{"listener":{"listener_arn":"L"}},"owner":"o","execution":"x",` +
		`"gates":{},"poll_interval":30000000000,"policy":"gradual","ignore_read_failures":true,"flags":["f"],"switch_off_self":true,` +
		`"deadline":"2026-01-01T00:00:00Z","sns_topic_arn":"t","event_bus_name":"b","attempt":"a","hold_timeout":60000000000,"hold_action":"promote"}`
	var j orchestrator.Job
	if err := json.Unmarshal([]byte(old), &j); err != nil {
		t.Fatal(err)
	}
	want := rollout.Settings{PollInterval: 30 * time.Second, Policy: rollout.Gradual, IgnoreReadFailures: true, Flags: []string{"f"},
		Topic: "t", Bus: "b", Attempt: "a", HoldTimeout: time.Minute, HoldAction: rollout.HoldPromote}
	if !reflect.DeepEqual(j.Settings, want) || !j.SwitchOffSelf || j.Owner != "o" || j.Execution != "x" || j.Version != 2 {
		t.Fatalf("a job of the previous release read as %+v", j)
	}
	b, err := json.Marshal(j)
	if err != nil {
		t.Fatal(err)
	}
	var got, was map[string]any
	_ = json.Unmarshal(b, &got)
	_ = json.Unmarshal([]byte(old), &was)
	for k := range was {
		if _, ok := got[k]; !ok {
			t.Errorf("the job written now has no %q", k)
		}
	}
	for k := range got {
		if _, ok := was[k]; !ok {
			t.Errorf("the job written now has %q, which the previous release did not write", k)
		}
	}
}
