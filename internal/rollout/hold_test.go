package rollout

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rolloutdev/terraform-provider-rollout/internal/clock"
	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

func holdSchedule(t *testing.T) (weights.Split, []PlannedStep) {
	t.Helper()
	from := weights.Split{{ARN: blue, Weight: 100}, {ARN: green, Weight: 0}}
	to := weights.Split{{ARN: blue, Weight: 0}, {ARN: green, Weight: 100}}
	steps, err := Plan(from, to, Strategy{Kind: Canary, Steps: []Step{{Percent: 10, Hold: true}, {Percent: 50, Pause: 2 * time.Minute}, {Percent: 100}}})
	if err != nil {
		t.Fatal(err)
	}
	if !steps[0].Hold || steps[1].Hold || steps[2].Hold {
		t.Fatalf("the schedule's holds are %v, %v, %v", steps[0].Hold, steps[1].Hold, steps[2].Hold)
	}
	return from, steps
}

// An alarm during the second pause: the notices are exactly started,
// step_completed, gate_failed (with the alarm's reading), rolled_back.
func TestNoticesOfAnAlarmRollback(t *testing.T) {
	from := weights.Split{{ARN: blue, Weight: 100}, {ARN: green, Weight: 0}}
	to := weights.Split{{ARN: blue, Weight: 0}, {ARN: green, Weight: 100}}
	steps, _ := Plan(from, to, Strategy{Kind: Canary, Steps: []Step{{Percent: 10, Pause: time.Minute}, {Percent: 50, Pause: 2 * time.Minute}, {Percent: 100}}})
	p := &script{serving: from, alarm: func(step int) string {
		if step == 2 {
			return StateAlarm
		}
		return StateOK
	}}
	var got []Notice
	r := runner(p, Gates{Alarms: []string{"api-5xx"}}, clock.NewFake(time.Unix(0, 0)))
	r.Attempt = "7"
	r.Notify = func(ctx context.Context, n Notice) error { got = append(got, n); return p.notice(ctx, n) }
	res := r.Run(context.Background(), from, steps)
	if res.Status != RolledBack {
		t.Fatalf("the run ended %s", res.Status)
	}
	var kinds []string
	for _, n := range got {
		kinds = append(kinds, fmt.Sprintf("%s@%d", n.Type, n.Step))
	}
	if strings.Join(kinds, " ") != "started@0 step_completed@1 gate_failed@2 rolled_back@2" {
		t.Fatalf("the notices were %v", kinds)
	}
	gf, rb := got[2], got[3]
	if gf.Failure == nil || gf.Failure.Gate != GateAlarm || !strings.Contains(gf.Failure.Reason, "api-5xx") || gf.Policy != Immediate ||
		gf.Failure.Reading["alarm"] != "api-5xx" || gf.Failure.Reading["state"] != StateAlarm {
		t.Fatalf("gate_failed says %+v (policy %s)", gf.Failure, gf.Policy)
	}
	if gf.After[green] != 500 || rb.Before[green] != 500 || rb.After[green] != 0 || rb.Attempt != "7" || rb.Version != NoticeVersion || rb.Steps != 3 {
		t.Fatalf("the weights or labels of the notices are wrong: %+v, %+v", gf, rb)
	}
}

// A failed delivery is counted, never fatal.
func TestNoticeFailuresAreCounted(t *testing.T) {
	from, steps := holdSchedule(t)
	p := &script{serving: from}
	r := runner(p, Gates{}, clock.NewFake(time.Unix(0, 0)))
	r.Notify = func(context.Context, Notice) error { return fmt.Errorf("SNS: InternalError") }
	res := r.Run(context.Background(), from, steps)
	if res.Status != Held || res.NotifyFailures != 2 {
		t.Fatalf("the run ended %s with %d failed notices; want held, 2 (started, held)", res.Status, res.NotifyFailures)
	}
}

// Without a Promoted watcher (the apply) a run ends at its hold, held; a
// later run resumes from there, checking the gates again before the next
// step, and a rollback then goes back to where the first run started.
func TestHoldEndsTheRunAndResumeGoesOn(t *testing.T) {
	from, steps := holdSchedule(t)
	p := &script{serving: from}
	clk := clock.NewFake(time.Unix(0, 0))
	r := runner(p, Gates{Alarms: []string{"a"}}, clk)
	res := r.Run(context.Background(), from, steps)
	if res.Status != Held || res.StepReached != 1 || !res.Current.Equal(steps[0].Weights) || res.HeldAt.IsZero() {
		t.Fatalf("the run ended %s at step %d (%s), held at %v", res.Status, res.StepReached, res.Current, res.HeldAt)
	}
	sameSplits(t, p.applied, steps[0].Weights)
	if len(clk.Sleeps()) != 0 {
		t.Fatalf("a held run watches nothing: it waited %v", clk.Sleeps())
	}
	reads := p.alarmRead
	res = r.Drive(context.Background(), r.Resume(from, steps, 1, res.Started))
	if res.Status != Succeeded || res.StepReached != 3 {
		t.Fatalf("the resumed run ended %s at step %d", res.Status, res.StepReached)
	}
	sameSplits(t, p.applied, steps[0].Weights, steps[1].Weights, steps[2].Weights)
	if p.alarmRead == reads {
		t.Fatal("the gates were not checked again before the step after the hold")
	}
	if got := strings.Join(p.notices, " "); got != "started@0 held@1 promoted@1 step_completed@2 step_completed@3 succeeded@3" {
		t.Fatalf("the notices were %s", got)
	}

	// A resumed run whose gate fails rolls back to the first run's start.
	// The first run sent started and held (seq 1 and 2).
	p2 := &script{serving: steps[0].Weights, alarm: func(int) string { return StateAlarm }, seq: map[int64]int{time.Unix(0, 0).UnixNano(): 2}}
	r2 := runner(p2, Gates{Alarms: []string{"a"}}, clock.NewFake(time.Unix(0, 0)))
	res = r2.Drive(context.Background(), r2.Resume(from, steps, 1, time.Unix(0, 0)))
	if res.Status != RolledBack || !res.Current.Equal(from) {
		t.Fatalf("the resumed run ended %s at %s; want rolled back to %s", res.Status, res.Current, from)
	}
	sameSplits(t, p2.applied, from)
}

// A watched hold (the orchestrator's) goes on when promoted, and takes its
// action when the timeout passes first.
func TestWatchedHold(t *testing.T) {
	for _, c := range []struct {
		name       string
		promotedAt int // poll at which Promoted says yes; 0: never
		timeout    time.Duration
		action     string
		want       Status
		gate       Gate
	}{
		{"promoted at the third poll", 3, 0, "", Succeeded, ""},
		{"timed out, rolled back", 0, 5 * time.Minute, "", RolledBack, GateHold},
		{"timed out, promoted", 0, 5 * time.Minute, HoldPromote, Succeeded, ""},
		{"promoted before the timeout", 2, 5 * time.Minute, "", Succeeded, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			from, steps := holdSchedule(t)
			p := &script{serving: from}
			clk := clock.NewFake(time.Unix(0, 0))
			r := runner(p, Gates{}, clk)
			asked := 0
			r.Promoted = func(context.Context) (bool, error) {
				asked++
				return c.promotedAt > 0 && asked >= c.promotedAt, nil
			}
			r.HoldTimeout, r.HoldAction = c.timeout, c.action
			res := r.Run(context.Background(), from, steps)
			if res.Status != c.want || (c.gate != "" && (res.Failure == nil || res.Failure.Gate != c.gate)) {
				t.Fatalf("the run ended %s (%+v)", res.Status, res.Failure)
			}
			if c.timeout > 0 && c.promotedAt == 0 && clk.Now().Sub(time.Unix(0, 0)) < c.timeout {
				t.Fatalf("the hold ended after %s, before its timeout", clk.Now().Sub(time.Unix(0, 0)))
			}
		})
	}
}

func TestHoldOnTheLastStepIsRefused(t *testing.T) {
	st := Strategy{Kind: Canary, Steps: []Step{{Percent: 10}, {Percent: 100, Hold: true}}}
	ps := st.Problems()
	if len(ps) != 1 || !strings.Contains(ps[0].Error(), "steps[1].pause") || !strings.Contains(ps[0].Error(), "cannot be a hold") {
		t.Fatalf("problems: %v", ps)
	}
}

// Idle is called before every wait of a run, and never while it rolls
// back: a status kept there is written before the run waits, and a
// rollback never waits for it.
func TestIdleBeforeEveryWaitButTheRollbacks(t *testing.T) {
	p := &script{serving: start, alarm: func(step int) string {
		if step == 2 {
			return StateAlarm
		}
		return StateOK
	}}
	clk := clock.NewFake(time.Unix(0, 0))
	r := runner(p, Gates{Alarms: []string{"a"}}, clk)
	r.Policy = Gradual
	idle, rollingBack := 0, false
	waitsBefore := 0
	r.Idle = func(context.Context) { idle++ }
	r.Notify = func(ctx context.Context, n Notice) error {
		if n.Type == NoticeGateFailed {
			rollingBack, waitsBefore = true, len(clk.Sleeps())
		}
		return p.notice(ctx, n)
	}
	res := r.Run(context.Background(), start, canary(t))
	if res.Status != RolledBack || !rollingBack {
		t.Fatalf("the run ended %s", res.Status)
	}
	if len(clk.Sleeps()) == waitsBefore {
		t.Fatal("the gradual rollback did not wait between its steps: the test proves nothing")
	}
	if idle != waitsBefore {
		t.Fatalf("Idle was called %d times for %d waits before the rollback (and %d waits in it)", idle, waitsBefore, len(clk.Sleeps())-waitsBefore)
	}
}

// slowHealth is a script whose target health read at step 2 waits for its
// turn in the API budget until its context ends.
type slowHealth struct {
	*script
	waiting chan struct{}
	blocked bool
	at      int // the step whose health read waits (2 by default)
}

func (h *slowHealth) TargetHealth(ctx context.Context, tg string) (Health, error) {
	at := h.at
	if at == 0 {
		at = 2
	}
	if h.step() == at && !h.blocked {
		h.blocked = true
		close(h.waiting)
		<-ctx.Done()
		return Health{}, ctx.Err()
	}
	return h.script.TargetHealth(ctx, tg)
}

// watchingAlarms watches the alarms: they go into ALARM while the health
// read waits.
type watchingAlarms struct {
	*script
	waiting  chan struct{}
	interval time.Duration
	fired    bool
}

func (w *watchingAlarms) WatchAlarms(ctx context.Context, names []string, interval time.Duration, fire func()) func() {
	w.interval = interval
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		select {
		case <-w.waiting:
		case <-stop:
		case <-ctx.Done():
		}
		select { // the alarm fired before the watch ended: it is seen
		case <-w.waiting:
			w.fired = true
			fire()
		default:
		}
	}()
	return func() { close(stop); <-done }
}

// An alarm that goes into ALARM while the rollout's health read waits for
// its turn (a hundred rollouts reading target health at 5 a second) rolls
// back at once: the watch cancels the read, the alarms decide, and the
// cancelled read is not a failed one.
func TestAlarmWatchCutsAWaitingHealthRead(t *testing.T) {
	from := weights.Split{{ARN: blue, Weight: 100}, {ARN: green, Weight: 0}}
	to := weights.Split{{ARN: blue, Weight: 0}, {ARN: green, Weight: 100}}
	steps, _ := Plan(from, to, Strategy{Kind: Canary, Steps: []Step{{Percent: 10, Pause: time.Minute}, {Percent: 50, Pause: 2 * time.Minute}, {Percent: 100}}})
	waiting := make(chan struct{})
	w := &watchingAlarms{waiting: waiting}
	p := &script{serving: from, alarm: func(step int) string {
		if w.fired {
			return StateAlarm
		}
		return StateOK
	}}
	w.script = p
	r := runner(p, Gates{Alarms: []string{"api-5xx"}, Health: &HealthGate{MinHealthyPercent: 100}}, clock.NewFake(time.Unix(0, 0)))
	r.Observe.Health, r.Observe.Alarms = &slowHealth{script: p, waiting: waiting}, w
	res := r.Run(context.Background(), from, steps)
	if res.Status != RolledBack || res.Failure == nil || res.Failure.Gate != GateAlarm || res.Failure.Step != 2 || !res.Current.Equal(from) {
		t.Fatalf("the run ended %s at %s (%+v); want rolled back by the alarm at step 2", res.Status, res.Current, res.Failure)
	}
	if w.interval != time.Minute {
		t.Fatalf("the alarms were watched every %s, want the poll interval", w.interval)
	}
	if len(r.readFailures) != 0 {
		t.Fatalf("the cancelled health read counted as failed reads: %v", r.readFailures)
	}
}

// slowReads is target health whose every read takes 20 s (its turn in a
// busy API budget), and a router that notes when each write lands.
type slowReads struct {
	*script
	clk    *clock.Fake
	writes []time.Time
}

func (s *slowReads) TargetHealth(ctx context.Context, tg string) (Health, error) {
	_ = s.clk.Sleep(ctx, 20*time.Second)
	return s.script.TargetHealth(ctx, tg)
}

func (s *slowReads) Write(ctx context.Context, r Reading, w weights.Split) error {
	s.writes = append(s.writes, s.clk.Now())
	return s.script.Write(ctx, r, w)
}

// A pause lasts its time on the clock, however long the reads made
// during it take: a minute's pause polled every 10 s with reads of 20 s
// each ends after about a minute, not after six polls of 30 s.
func TestPauseIsClockTime(t *testing.T) {
	from := weights.Split{{ARN: blue, Weight: 100}, {ARN: green, Weight: 0}}
	to := weights.Split{{ARN: blue, Weight: 0}, {ARN: green, Weight: 100}}
	steps, _ := Plan(from, to, Strategy{Kind: Canary, Steps: []Step{{Percent: 10, Pause: time.Minute}, {Percent: 100}}})
	clk := clock.NewFake(time.Unix(0, 0))
	p := &script{serving: from}
	s := &slowReads{script: p, clk: clk}
	r := runner(p, Gates{Health: &HealthGate{MinHealthyPercent: 100, Timeout: time.Hour}}, clk)
	r.PollInterval = 10 * time.Second
	r.Router, r.Observe.Health = s, s
	if res := r.Run(context.Background(), from, steps); res.Status != Succeeded {
		t.Fatalf("the run ended %s (%+v)", res.Status, res.Failure)
	}
	if len(s.writes) != 2 {
		t.Fatalf("%d writes", len(s.writes))
	}
	// The pause, then the read before the next step (20 s), and at most
	// one poll with its read over.
	if between := s.writes[1].Sub(s.writes[0]); between > time.Minute+20*time.Second+30*time.Second {
		t.Fatalf("a 1m pause with slow reads took %s between the writes", between)
	}
}

// firesOnWrite is a router whose write lets the alarm watch fire (the
// alarm went into ALARM while the step was written).
type firesOnWrite struct {
	*script
	waiting chan struct{}
	once    bool
}

func (f *firesOnWrite) Write(ctx context.Context, r Reading, w weights.Split) error {
	if !f.once {
		f.once = true
		close(f.waiting)
	}
	return f.script.Write(ctx, r, w)
}

// An alarm that fires while a step is being written is judged at once:
// the pause's first poll does not wait its interval.
func TestAlarmDuringAWriteIsJudgedAtOnce(t *testing.T) {
	from := weights.Split{{ARN: blue, Weight: 100}, {ARN: green, Weight: 0}}
	to := weights.Split{{ARN: blue, Weight: 0}, {ARN: green, Weight: 100}}
	steps, _ := Plan(from, to, Strategy{Kind: Canary, Steps: []Step{{Percent: 10, Pause: time.Minute}, {Percent: 100}}})
	waiting := make(chan struct{})
	w := &watchingAlarms{waiting: waiting}
	p := &script{serving: from, alarm: func(int) string {
		if w.fired {
			return StateAlarm
		}
		return StateOK
	}}
	w.script = p
	clk := clock.NewFake(time.Unix(0, 0))
	r := runner(p, Gates{Alarms: []string{"api-5xx"}}, clk)
	r.Router, r.Observe.Alarms = &firesOnWrite{script: p, waiting: waiting}, w
	res := r.Run(context.Background(), from, steps)
	if res.Status != RolledBack || res.Failure == nil || res.Failure.Gate != GateAlarm || res.Failure.Step != 1 {
		t.Fatalf("the run ended %s (%+v); want rolled back by the alarm at step 1", res.Status, res.Failure)
	}
	if el := clk.Elapsed(time.Unix(0, 0)); el != 0 {
		t.Fatalf("the alarm that fired during the write was judged after %s", el)
	}
}

// The same before a step: an alarm that fires while the health gate's read
// before step 2 waits its turn rolls back at once.
func TestAlarmWatchCutsTheHealthGateBeforeAStep(t *testing.T) {
	from := weights.Split{{ARN: blue, Weight: 100}, {ARN: green, Weight: 0}}
	to := weights.Split{{ARN: blue, Weight: 0}, {ARN: green, Weight: 100}}
	steps, _ := Plan(from, to, Strategy{Kind: Canary, Steps: []Step{{Percent: 10}, {Percent: 100}}})
	waiting := make(chan struct{})
	w := &watchingAlarms{waiting: waiting}
	p := &script{serving: from, alarm: func(int) string {
		if w.fired {
			return StateAlarm
		}
		return StateOK
	}}
	w.script = p
	r := runner(p, Gates{Alarms: []string{"api-5xx"}, Health: &HealthGate{MinHealthyPercent: 100, Timeout: time.Hour}}, clock.NewFake(time.Unix(0, 0)))
	r.Observe.Health, r.Observe.Alarms = &slowHealth{script: p, waiting: waiting, at: 1}, w
	res := r.Run(context.Background(), from, steps)
	if res.Status != RolledBack || res.Failure == nil || res.Failure.Gate != GateAlarm || res.Failure.Step != 2 || !res.Current.Equal(from) {
		t.Fatalf("the run ended %s at %s (%+v); want rolled back by the alarm before step 2", res.Status, res.Current, res.Failure)
	}
}

// A run with two holds, promoted twice (each time a new Runner, as each
// apply is), numbers its notices 1..n with no repeat, under one started_at
// (to the second, as last_rollout records it); set back at its second
// hold, its rollback's notices go on from there too.
func TestTwoHoldsOneRun(t *testing.T) {
	from := weights.Split{{ARN: blue, Weight: 100}, {ARN: green, Weight: 0}}
	to := weights.Split{{ARN: blue, Weight: 0}, {ARN: green, Weight: 100}}
	steps, err := Plan(from, to, Strategy{Kind: Canary, Steps: []Step{{Percent: 10, Hold: true}, {Percent: 50, Hold: true}, {Percent: 100}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, back := range []bool{false, true} {
		p := &script{serving: from}
		start := time.Unix(0, 0).Add(1500 * time.Millisecond)
		res := runner(p, Gates{}, clock.NewFake(start)).Run(context.Background(), from, steps)
		if !res.Started.Equal(time.Unix(1, 0)) {
			t.Fatalf("the run started at %v, want %v (to the second)", res.Started, time.Unix(1, 0))
		}
		r := runner(p, Gates{}, clock.NewFake(start.Add(time.Hour)))
		res = r.Drive(context.Background(), r.Resume(from, steps, 1, res.Started))
		if res.Status != Held || res.StepReached != 2 {
			t.Fatalf("the first promote ended %s at step %d", res.Status, res.StepReached)
		}
		r = runner(p, Gates{}, clock.NewFake(start.Add(2*time.Hour)))
		want := "started@0 held@1 promoted@1 held@2 promoted@2 step_completed@3 succeeded@3"
		if back {
			res = r.RollBackHeld(context.Background(), res.Current, from, steps, 2, res.Started, Failure{Gate: GateAborted, Step: 2, Reason: "back"})
			want = "started@0 held@1 promoted@1 held@2 gate_failed@2 rolled_back@2"
		} else {
			res = r.Drive(context.Background(), r.Resume(from, steps, 2, res.Started))
		}
		if got := strings.Join(p.notices, " "); got != want {
			t.Fatalf("the notices were %s, want %s", got, want)
		}
		if len(p.seq) != 1 {
			t.Fatalf("the notices carry %d started_at, want one: %v", len(p.seq), p.seq)
		}
		if res.Steps != len(steps) {
			t.Fatalf("the run ended with %d steps, want the schedule's %d (an abort at step 2 of 3 is not \"step 2 of 2\")", res.Steps, len(steps))
		}
	}
}

// AWS refusing the first write after a promote changed nothing: the run
// is held again where it was (no rollback), its status says held and no
// notice ends it. Without a Promoted watcher (the apply) it ends Held with
// the error; with one (the orchestrator) it tries again a poll later and
// goes on once the write is allowed.
func TestRefusedWriteAfterPromoteHoldsAgain(t *testing.T) {
	refusedOnce := func() func(n int) error {
		done := false
		return func(n int) error {
			if n == 2 && !done {
				done = true
				return fmt.Errorf("AccessDenied: not authorized to perform: elasticloadbalancing:ModifyListener")
			}
			return nil
		}
	}
	t.Run("apply", func(t *testing.T) {
		refused := refusedOnce()
		from, steps := holdSchedule(t)
		p := &script{serving: steps[0].Weights, applied: []weights.Split{steps[0].Weights}, applyErr: refused, seq: map[int64]int{0: 2}}
		r := runner(p, Gates{}, clock.NewFake(time.Unix(0, 0)))
		var status []string
		r.Notify = p.notice
		r.Status = func(_ context.Context, n Notice) { status = append(status, fmt.Sprintf("%s@%d", n.Type, n.Step)) }
		res := r.Drive(context.Background(), r.Resume(from, steps, 1, time.Unix(0, 0)))
		if res.Status != Held || res.Err == nil || res.StepReached != 1 || !res.Current.Equal(steps[0].Weights) {
			t.Fatalf("the run ended %s at step %d (%s), err %v; want held at step 1 with the error", res.Status, res.StepReached, res.Current, res.Err)
		}
		sameSplits(t, p.applied[1:])
		if got := strings.Join(p.notices, " "); got != "promoted@1" {
			t.Fatalf("the notices were %s; want promoted@1 only", got)
		}
		if got := strings.Join(status, " "); got != "promoted@1 held@1" {
			t.Fatalf("the statuses were %s; want promoted@1 held@1", got)
		}
	})
	t.Run("orchestrator", func(t *testing.T) {
		refused := refusedOnce()
		from, steps := holdSchedule(t)
		p := &script{serving: from, applyErr: refused}
		clk := clock.NewFake(time.Unix(0, 0))
		r := runner(p, Gates{}, clk)
		r.Notify = p.notice
		r.Promoted = func(context.Context) (bool, error) { return true, nil }
		res := r.Run(context.Background(), from, steps)
		if res.Status != Succeeded {
			t.Fatalf("the run ended %s (%+v, %v)", res.Status, res.Failure, res.Err)
		}
		sameSplits(t, p.applied, steps[0].Weights, steps[1].Weights, steps[2].Weights)
		if got := strings.Join(p.notices, " "); got != "started@0 held@1 promoted@1 step_completed@2 step_completed@3 succeeded@3" {
			t.Fatalf("the notices were %s", got)
		}
	})
}

// A hold that timed out with hold_timeout_action = "promote" goes on by
// itself; when AWS refuses that write (a permission missing), the run is
// held again and tries again later, at a growing interval (a poll, then
// twice that, up to maxRefusedBackoff), not at every poll until the
// deadline: each try is a write AWS refuses and a gate check. Once the
// write is allowed, a try goes through; a promote given meanwhile (the
// orchestrator's Promoted) is tried at the next poll.
func TestTimedOutPromoteRefusedBacksOff(t *testing.T) {
	const denied = "AccessDenied: not authorized to perform: elasticloadbalancing:ModifyListener"
	for _, c := range []struct {
		name      string
		allowFrom time.Duration // from the start: the write is allowed (0: never)
		promoteAt time.Duration // from the start: Promoted says yes (0: never)
		want      Status
		maxTries  int
		within    time.Duration // the run ends within this of the write being allowed
	}{
		// The rollback at the deadline is refused too (the same write).
		{"refused until the deadline", 0, 0, Failed, 18, 0},
		{"allowed later", 3 * time.Hour, 0, Succeeded, 12, maxRefusedBackoff + time.Minute},
		{"promoted after the permission is given", 3 * time.Hour, 3*time.Hour + 5*time.Minute, Succeeded, 12, 6 * time.Minute},
	} {
		t.Run(c.name, func(t *testing.T) {
			from, steps := holdSchedule(t)
			start := time.Unix(0, 0)
			clk := clock.NewFake(start)
			tries := 0
			var allowedAt time.Time
			p := &script{serving: from, applyErr: func(n int) error {
				if n != 2 {
					return nil
				}
				if c.allowFrom > 0 && !clk.Now().Before(start.Add(c.allowFrom)) {
					if allowedAt.IsZero() {
						allowedAt = clk.Now()
					}
					return nil
				}
				tries++
				return fmt.Errorf("%s", denied)
			}}
			r := runner(p, Gates{}, clk)
			r.Promoted = func(context.Context) (bool, error) {
				return c.promoteAt > 0 && !clk.Now().Before(start.Add(c.promoteAt)), nil
			}
			r.HoldTimeout, r.HoldAction = 5*time.Minute, HoldPromote
			r.Deadline = start.Add(10 * time.Hour)
			res := r.Run(context.Background(), from, steps)
			t.Logf("ended %s after %s, %d refused tries", res.Status, clk.Now().Sub(start), tries)
			if res.Status != c.want {
				t.Fatalf("the run ended %s (%+v, %v), want %s", res.Status, res.Failure, res.Err, c.want)
			}
			if tries > c.maxTries {
				t.Errorf("the write AWS refuses was tried %d times in %s, want at most %d (a growing interval)", tries, clk.Now().Sub(start), c.maxTries)
			}
			if tries < 3 {
				t.Errorf("the write was tried %d times: it must be tried again", tries)
			}
			if c.within > 0 {
				if allowedAt.IsZero() {
					t.Fatal("the write was never tried once allowed")
				}
				if late := allowedAt.Sub(start.Add(c.allowFrom)); late > c.within && c.promoteAt == 0 {
					t.Errorf("the write went through %s after it was allowed, want within %s", late, c.within)
				}
				if c.promoteAt > 0 && allowedAt.Sub(start.Add(c.promoteAt)) > 2*time.Minute {
					t.Errorf("the write went through %s after the promote, want at the next poll", allowedAt.Sub(start.Add(c.promoteAt)))
				}
			}
			if got := strings.Count(strings.Join(p.notices, " "), "promoted@1"); got != 1 {
				t.Errorf("%d promoted notices (%s), want 1", got, strings.Join(p.notices, " "))
			}
		})
	}
}

// A progress of job version 2 or older carries the refused state of a
// promote AWS refused ("refused": 2, beside "refusals", or, older,
// without it): read now, it is a refused promote all the same, and the
// try again that goes through sends no second promoted notice.
func TestOldRefusedProgress(t *testing.T) {
	for name, old := range map[string]func(map[string]any){
		"version 2":       func(m map[string]any) { m["refused"] = 2 },
		"before refusals": func(m map[string]any) { m["refused"] = 2; delete(m, "refusals"); delete(m, "retry_at") },
	} {
		t.Run(name, func(t *testing.T) {
			from, steps := holdSchedule(t)
			refused := false
			p := &script{serving: from, applyErr: func(n int) error {
				if n == 2 && !refused {
					refused = true
					return fmt.Errorf("AccessDenied: not authorized to perform: elasticloadbalancing:ModifyListener")
				}
				return nil
			}}
			clk := clock.NewFake(time.Unix(0, 0))
			r := runner(p, Gates{}, clk)
			r.Notify = p.notice
			r.Promoted = func(context.Context) (bool, error) { return true, nil }
			prog := r.Start(from, steps)
			for prog.Refusals == 0 {
				wait, done := r.Advance(context.Background(), prog)
				if done {
					t.Fatalf("the run ended %s before the refusal", prog.Res.Status)
				}
				_ = clk.Sleep(context.Background(), wait)
			}
			b, err := json.Marshal(prog)
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			_ = json.Unmarshal(b, &m)
			old(m)
			b, _ = json.Marshal(m)
			var again Progress
			if err := json.Unmarshal(b, &again); err != nil {
				t.Fatal(err)
			}
			res := r.Drive(context.Background(), &again)
			if res.Status != Succeeded {
				t.Fatalf("the run ended %s (%+v, %v)", res.Status, res.Failure, res.Err)
			}
			if got := strings.Join(p.notices, " "); got != "started@0 held@1 promoted@1 step_completed@2 step_completed@3 succeeded@3" {
				t.Fatalf("the notices were %s, want one promoted@1", got)
			}
			if again.OldRefused != 0 {
				t.Errorf("the old refused state is still carried: %d", again.OldRefused)
			}
		})
	}
}
