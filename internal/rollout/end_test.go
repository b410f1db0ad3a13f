package rollout

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rolloutdev/terraform-provider-rollout/internal/clock"
	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout/noticeschema"
	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

// Issue 27 (4): every run that starts ends with exactly one end notice
// (succeeded, rolled_back, failed or changed_during_rollout), the last of
// its notices, saying how it ended; its notices are numbered 1..n without
// a repeat; the status hook (the subject's status tag) is told the same
// end last. A run held in the apply has not ended: its last notice is
// held, and the apply that promotes it or rolls it back goes on with its
// notices. Nothing is sent for a run that never started.

// ends records a run's notices and what its status hook was told.
type ends struct {
	notices []Notice
	status  []Notice
}

func (l *ends) on(r *Runner) *Runner {
	r.Notify = func(_ context.Context, n Notice) error {
		if err := noticeschema.CheckValue(n); err != nil {
			return err
		}
		l.notices = append(l.notices, n)
		return nil
	}
	r.Status = func(_ context.Context, n Notice) { l.status = append(l.status, n) }
	return r
}

func (l *ends) String() string {
	var s []string
	for _, n := range l.notices {
		s = append(s, fmt.Sprintf("%s#%d@%d(%d)", n.Type, n.Seq, n.Step, n.Started.Unix()))
	}
	return strings.Join(s, " ")
}

var endTypes = map[NoticeType]bool{NoticeSucceeded: true, NoticeRolledBack: true, NoticeFailed: true, NoticeChanged: true}

// endOf is the end notice a result must have been told by.
func endOf(res Result) NoticeType {
	switch {
	case res.Status == Succeeded:
		return NoticeSucceeded
	case res.Status == RolledBack:
		return NoticeRolledBack
	case res.Failure != nil && res.Failure.Gate == GateChanged:
		return NoticeChanged
	}
	return NoticeFailed
}

// check checks the notices of every run recorded: each run (a started_at)
// numbered 1..n; the run of res ended by exactly one end notice, its last,
// of res's kind (none when it is held); every other run recorded ended too.
func (l *ends) check(t *testing.T, res Result) {
	t.Helper()
	if len(l.notices) == 0 {
		t.Fatalf("no notice was sent; the run ended %s", res.Summary())
	}
	runs := map[time.Time][]Notice{}
	var order []time.Time
	for _, n := range l.notices {
		k := n.Started
		if _, ok := runs[k]; !ok {
			order = append(order, k)
		}
		runs[k] = append(runs[k], n)
	}
	for _, k := range order {
		ns := runs[k]
		endsSeen := 0
		for i, n := range ns {
			if n.Seq != i+1 {
				t.Fatalf("the run started at %v sent %s as #%d, want #%d (notices: %s)", k, n.Type, n.Seq, i+1, l)
			}
			if endTypes[n.Type] {
				endsSeen++
				if i != len(ns)-1 {
					t.Fatalf("the run started at %v sent %s and then more (notices: %s)", k, n.Type, l)
				}
			}
		}
		last := ns[len(ns)-1]
		if k.Equal(res.Started) && res.Status == Held {
			if endsSeen != 0 || last.Type != NoticeHeld {
				t.Fatalf("a held run ended its notices with %s; want held and no end (notices: %s)", last.Type, l)
			}
			continue
		}
		if endsSeen != 1 {
			t.Fatalf("the run started at %v sent %d end notices, want exactly 1 (notices: %s)", k, endsSeen, l)
		}
		if k.Equal(res.Started) && last.Type != endOf(res) {
			t.Fatalf("the run ended %s (%s) and its end notice is %s (notices: %s)", res.Status, res.Summary(), last.Type, l)
		}
	}
	if _, ok := runs[res.Started]; !ok {
		t.Fatalf("no notice carries the run's started_at %v (notices: %s)", res.Started, l)
	}
	// The status tag is written from the notices (all but gate_failed):
	// the last one it was told is the run's end (or its hold).
	var lastStatus NoticeType
	for _, n := range l.status {
		if n.Type != NoticeGateFailed {
			lastStatus = n.Type
		}
	}
	want := endOf(res)
	if res.Status == Held {
		want = NoticeHeld
	}
	if lastStatus != want {
		t.Fatalf("the status hook was last told %q; the run ended %s (want %s)", lastStatus, res.Status, want)
	}
}

// alarmAt is an alarm in ALARM from step n on.
func alarmAt(n int) func(int) string {
	return func(step int) string {
		if step >= n {
			return StateAlarm
		}
		return StateOK
	}
}

func TestEveryRunEndsWithOneEndNotice(t *testing.T) {
	steps := canary(t)
	alarms := Gates{Alarms: []string{"a"}}
	from, held := holdSchedule(t)
	for _, c := range []struct {
		name string
		run  func(t *testing.T, l *ends) Result
	}{
		{"succeeded", func(t *testing.T, l *ends) Result {
			return l.on(runner(&script{}, alarms, clock.NewFake(time.Unix(0, 0)))).Run(context.Background(), start, steps)
		}},
		{"an alarm, rolled back at once", func(t *testing.T, l *ends) Result {
			return l.on(runner(&script{alarm: alarmAt(2)}, alarms, clock.NewFake(time.Unix(0, 0)))).Run(context.Background(), start, steps)
		}},
		{"an alarm, rolled back gradually", func(t *testing.T, l *ends) Result {
			r := l.on(runner(&script{alarm: alarmAt(2)}, alarms, clock.NewFake(time.Unix(0, 0))))
			r.Policy = Gradual
			return r.Run(context.Background(), start, steps)
		}},
		{"flags switched off", func(t *testing.T, l *ends) Result {
			r := l.on(runner(&script{alarm: alarmAt(2)}, alarms, clock.NewFake(time.Unix(0, 0))))
			r.Policy = FeatureFlag
			r.SwitchOff = func(context.Context) (string, error) { return "f", nil }
			return r.Run(context.Background(), start, steps)
		}},
		{"flags that cannot be switched off: traffic back", func(t *testing.T, l *ends) Result {
			r := l.on(runner(&script{alarm: alarmAt(2)}, alarms, clock.NewFake(time.Unix(0, 0))))
			r.Policy = FeatureFlag
			r.SwitchOff = func(context.Context) (string, error) { return "", errors.New("AccessDenied") }
			return r.Run(context.Background(), start, steps)
		}},
		{"the first write refused by AWS", func(t *testing.T, l *ends) Result {
			res := l.on(runner(&script{applyErr: func(int) error { return errors.New("AccessDenied") }}, alarms, clock.NewFake(time.Unix(0, 0)))).Run(context.Background(), start, steps)
			if !res.NothingMoved() {
				t.Fatalf("the run ended %s; want nothing moved", res.Summary())
			}
			return res
		}},
		{"a later write refused: rolled back", func(t *testing.T, l *ends) Result {
			return l.on(runner(&script{applyErr: failOnce(2)}, alarms, clock.NewFake(time.Unix(0, 0)))).Run(context.Background(), start, steps)
		}},
		{"the first write's outcome unknown: rolled back", func(t *testing.T, l *ends) Result {
			p := &script{lands: true, applyErr: func(n int) error {
				if n == 1 {
					return fmt.Errorf("reset: %w", ErrUnknownWeights)
				}
				return nil
			}}
			return l.on(runner(p, alarms, clock.NewFake(time.Unix(0, 0)))).Run(context.Background(), start, steps)
		}},
		{"the rollback's write refused", func(t *testing.T, l *ends) Result {
			p := &script{alarm: alarmAt(2), applyErr: func(n int) error {
				if n == 3 {
					return errors.New("AccessDenied")
				}
				return nil
			}}
			res := l.on(runner(p, alarms, clock.NewFake(time.Unix(0, 0)))).Run(context.Background(), start, steps)
			if res.Status != Failed {
				t.Fatalf("the run ended %s", res.Summary())
			}
			return res
		}},
		{"changed by hand in a pause", func(t *testing.T, l *ends) Result {
			p := &script{}
			p.readErr = func(n int) error {
				if p.step() == 1 {
					p.serving = weights.Split{{ARN: blue, Weight: 700}, {ARN: green, Weight: 300}}
				}
				return nil
			}
			return l.on(runner(p, alarms, clock.NewFake(time.Unix(0, 0)))).Run(context.Background(), start, steps)
		}},
		{"changed by hand during the rollback", func(t *testing.T, l *ends) Result {
			p := &script{alarm: alarmAt(2)}
			r := l.on(runner(p, alarms, clock.NewFake(time.Unix(0, 0))))
			r.Policy = Gradual
			p.readErr = func(n int) error {
				if len(p.applied) == 3 { // the rollback's first step
					p.serving = weights.Split{{ARN: blue, Weight: 700}, {ARN: green, Weight: 300}}
				}
				return nil
			}
			return r.Run(context.Background(), start, steps)
		}},
		{"Ctrl-C in a pause", func(t *testing.T, l *ends) Result {
			clk := clock.NewFake(time.Unix(0, 0))
			p := &script{}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			clk.OnSleep(func(context.Context, time.Duration, time.Time) {
				if p.step() == 2 {
					cancel()
				}
			})
			return l.on(runner(p, alarms, clk)).Run(ctx, start, steps)
		}},
		{"Ctrl-C during a gradual rollback", func(t *testing.T, l *ends) Result {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			p := &script{alarm: alarmAt(2), applyErr: func(n int) error {
				if n == 3 {
					cancel()
				}
				return nil
			}}
			r := l.on(runner(p, alarms, clock.NewFake(time.Unix(0, 0))))
			r.Policy = Gradual
			return r.Run(ctx, start, steps)
		}},
		{"the deadline", func(t *testing.T, l *ends) Result {
			r := l.on(runner(&script{}, alarms, clock.NewFake(time.Unix(0, 0))))
			r.Deadline = time.Unix(0, 0).Add(8 * time.Minute)
			return r.Run(context.Background(), start, steps)
		}},
		{"a failed gate held (release, rollback none)", func(t *testing.T, l *ends) Result {
			r := l.on(runner(&script{alarm: alarmAt(2)}, alarms, clock.NewFake(time.Unix(0, 0))))
			r.Hold = true
			return r.Run(context.Background(), start, steps)
		}},
		{"no rollback possible (more than 5 target groups back)", func(t *testing.T, l *ends) Result {
			var a, b weights.Split
			for i := 0; i < 3; i++ {
				a = append(a, weights.Target{ARN: fmt.Sprintf("arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/a%d/1", i), Weight: 1})
				b = append(b, weights.Target{ARN: fmt.Sprintf("arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/b%d/1", i), Weight: 1})
			}
			one, err := Plan(a, b, Strategy{Kind: AllAtOnce})
			if err != nil {
				t.Fatal(err)
			}
			one[0].Pause = 5 * time.Minute
			r := l.on(runner(&script{serving: a, alarm: alarmAt(1)}, alarms, clock.NewFake(time.Unix(0, 0))))
			r.Policy = Gradual
			res := r.Run(context.Background(), a, one)
			if res.Status != Failed || res.Policy != Gradual {
				t.Fatalf("the run ended %s; want a rollback plan refused", res.Summary())
			}
			return res
		}},
		{"another owner took the subject (detached)", func(t *testing.T, l *ends) Result {
			clk := clock.NewFake(time.Unix(0, 0))
			p := &script{}
			mk := func() *Runner { r := l.on(runner(p, alarms, clk)); r.Repeatable = true; return r }
			pr := mk().Start(start, steps)
			for p.step() < 1 {
				if _, done := mk().Advance(context.Background(), pr); done {
					t.Fatalf("the run ended %s", pr.Res.Summary())
				}
			}
			r := mk()
			r.Stop(pr, &Failure{Gate: GateChanged, Reason: "another owner (rollout_release/x) took the listener's lease during the rollout"})
			if _, done := r.Advance(context.Background(), pr); !done {
				t.Fatal("a stopped run goes on")
			}
			return pr.Res
		}},
		{"another owner takes the lease in a pause (in the apply)", func(t *testing.T, l *ends) Result {
			p := &script{}
			r := l.on(runner(p, alarms, clock.NewFake(time.Unix(0, 0))))
			r.Taken = func(context.Context) string {
				if p.step() >= 1 {
					return "another owner (rollout_release/x) took the listener's lease during the rollout"
				}
				return ""
			}
			res := r.Run(context.Background(), start, steps)
			if res.Status != Failed || res.Failure == nil || res.Failure.Gate != GateChanged || p.step() != 1 {
				t.Fatalf("the run ended %s after %d writes; want it stopped where it was (1 write) by the other owner", res.Summary(), p.step())
			}
			return res
		}},
		{"aborted (detached)", func(t *testing.T, l *ends) Result {
			clk := clock.NewFake(time.Unix(0, 0))
			p := &script{}
			mk := func() *Runner { r := l.on(runner(p, alarms, clk)); r.Repeatable = true; return r }
			pr := mk().Start(start, steps)
			for p.step() < 1 {
				mk().Advance(context.Background(), pr)
			}
			r := mk()
			r.Fail(context.Background(), pr, &Failure{Gate: GateAborted, Reason: "aborted"})
			for done := false; !done; {
				_, done = mk().Advance(context.Background(), pr)
			}
			return pr.Res
		}},
		{"held in the apply", func(t *testing.T, l *ends) Result {
			return l.on(runner(&script{serving: from}, alarms, clock.NewFake(time.Unix(0, 0)))).Run(context.Background(), from, held)
		}},
		{"held, then promoted", func(t *testing.T, l *ends) Result {
			p := &script{serving: from}
			res := l.on(runner(p, alarms, clock.NewFake(time.Unix(0, 0)))).Run(context.Background(), from, held)
			r := l.on(runner(p, alarms, clock.NewFake(time.Unix(0, 0).Add(time.Hour))))
			return r.Drive(context.Background(), r.Resume(from, held, 1, res.Started))
		}},
		{"held, then its hold timed out", func(t *testing.T, l *ends) Result {
			p := &script{serving: from}
			res := l.on(runner(p, alarms, clock.NewFake(time.Unix(0, 0)))).Run(context.Background(), from, held)
			r := l.on(runner(p, alarms, clock.NewFake(time.Unix(0, 0).Add(time.Hour))))
			return r.Drive(context.Background(), r.Expire(context.Background(), from, held, 1, res.Started, time.Minute))
		}},
		{"held, then set back to where it started", func(t *testing.T, l *ends) Result {
			p := &script{serving: from}
			res := l.on(runner(p, alarms, clock.NewFake(time.Unix(0, 0)))).Run(context.Background(), from, held)
			r := l.on(runner(p, alarms, clock.NewFake(time.Unix(0, 0).Add(time.Hour))))
			return r.RollBackHeld(context.Background(), res.Current, from, held, 1, res.Started,
				Failure{Gate: GateAborted, Step: 1, Reason: "the configuration went back to where the held rollout started"})
		}},
		{"a watched hold timed out (detached)", func(t *testing.T, l *ends) Result {
			r := l.on(runner(&script{serving: from}, alarms, clock.NewFake(time.Unix(0, 0))))
			r.Promoted = func(context.Context) (bool, error) { return false, nil }
			r.HoldTimeout = 5 * time.Minute
			return r.Run(context.Background(), from, held)
		}},
		{"a release's rollback of a service it started", func(t *testing.T, l *ends) Result {
			return l.on(runner(&script{serving: end}, alarms, clock.NewFake(time.Unix(0, 0)))).RollBack(context.Background(), end, start, 3, "web failed its alarms gate")
		}},
		{"stabilized", func(t *testing.T, l *ends) Result {
			r := l.on(runner(&script{}, alarms, clock.NewFake(time.Unix(0, 0))))
			r.Stabilizes = true
			return r.Stabilize(context.Background(), r.Run(context.Background(), start, steps), start, 5*time.Minute)
		}},
		{"an alarm while stabilizing: rolled back", func(t *testing.T, l *ends) Result {
			p := &script{}
			r := l.on(runner(p, alarms, clock.NewFake(time.Unix(0, 0))))
			r.Stabilizes = true
			res := r.Run(context.Background(), start, steps)
			p.alarm = alarmAt(0)
			return r.Stabilize(context.Background(), res, start, 5*time.Minute)
		}},
		{"Ctrl-C while stabilizing", func(t *testing.T, l *ends) Result {
			clk := clock.NewFake(time.Unix(0, 0))
			p := &script{}
			r := l.on(runner(p, alarms, clk))
			r.Stabilizes = true
			res := r.Run(context.Background(), start, steps)
			ctx, cancel := context.WithCancel(context.Background())
			clk.OnSleep(func(context.Context, time.Duration, time.Time) { cancel() })
			res = r.Stabilize(ctx, res, start, 5*time.Minute)
			if res.Status != Failed {
				t.Fatalf("the run ended %s", res.Summary())
			}
			return res
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			l := &ends{}
			res := c.run(t, l)
			l.check(t, res)
		})
	}
}

// Nothing is sent for a run that never started: a schedule with nothing
// to do sends nothing.
func TestNoNoticeForARunThatNeverStarted(t *testing.T) {
	l := &ends{}
	res := l.on(runner(&script{}, Gates{}, clock.NewFake(time.Unix(0, 0)))).Run(context.Background(), start, nil)
	if res.Status != Succeeded || len(l.notices) != 0 || len(l.status) != 0 {
		t.Fatalf("a run with no steps ended %s and sent %s", res.Status, l)
	}
}
