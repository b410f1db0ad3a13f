package rollout

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rolloutdev/terraform-provider-rollout/internal/clock"
	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

// The mid-rollout guard and the one write path (move): a person's change to
// the subject during a rollout wins.

var oncall = weights.Split{{ARN: blue, Weight: 100}, {ARN: green, Weight: 0}}

// handChange makes the subject serve s at the nth alarm read (during the
// first pause of a canary with an alarm gate).
func handChange(p *script, at int, s weights.Split) {
	reads := 0
	p.alarm = func(int) string {
		if reads++; reads == at {
			p.serving = s
		}
		return StateOK
	}
}

func TestHandChangeDuringAPauseStopsTheRollout(t *testing.T) {
	steps := canary(t)
	p := &script{}
	// The on-call engineer puts everything back on blue during step 1's
	// pause (the alarm is read before the shift, then every minute).
	handChange(p, 3, oncall)
	res := runner(p, Gates{Alarms: []string{"a"}}, clock.NewFake(time.Unix(0, 0))).Run(context.Background(), start, steps)
	if res.Status != Failed || res.Failure == nil || res.Failure.Gate != GateChanged || res.Failure.Step != 2 {
		t.Fatalf("result %+v, want failed at step 2 with gate %s", res, GateChanged)
	}
	sameSplits(t, p.applied, steps[0].Weights)
	if !res.Current.Equal(oncall) || res.NothingMoved() || len(res.RollbackSteps) != 0 {
		t.Fatalf("current %s, want the on-call weights %s and no rollback", res.Current, oncall)
	}
	var ce *ChangedError
	if !errors.As(res.Err, &ce) || !ce.Expected.Equal(steps[0].Weights) {
		t.Fatalf("err %v, want a ChangedError expecting step 1's weights", res.Err)
	}
	if s := res.Summary(); !strings.Contains(s, "changed during the rollout by someone or something else") {
		t.Errorf("summary %q", s)
	}
}

func TestHandChangeThenFailedGateDoesNotRollBackOverIt(t *testing.T) {
	steps := canary(t)
	p := &script{}
	reads := 0
	p.alarm = func(int) string {
		reads++
		if reads == 3 {
			p.serving = oncall // the person's fix
			return StateAlarm
		}
		return StateOK
	}
	r := runner(p, Gates{Alarms: []string{"a"}}, clock.NewFake(time.Unix(0, 0)))
	r.Policy = Gradual
	res := r.Run(context.Background(), start, steps)
	if res.Status != Failed || res.Failure.Gate != GateChanged || !strings.Contains(res.Failure.Reason, "while rolling back after the alarms gate failed") {
		t.Fatalf("result %+v", res)
	}
	sameSplits(t, p.applied, steps[0].Weights)
	if !res.Current.Equal(oncall) {
		t.Fatalf("current %s, want %s", res.Current, oncall)
	}
}

func TestRollbackAfterAHandChangeAtTheSameWeightsWritesNothing(t *testing.T) {
	// A person set the weights back to where the rollout started; the
	// rollout's rollback, finding them changed, stops: it is not its
	// change any more, even if the weights are the ones it wanted.
	steps := canary(t)
	p := &script{}
	reads := 0
	p.alarm = func(int) string {
		if reads++; reads == 3 {
			p.serving = start
			return StateAlarm
		}
		return StateOK
	}
	res := runner(p, Gates{Alarms: []string{"a"}}, clock.NewFake(time.Unix(0, 0))).Run(context.Background(), start, steps)
	if res.Failure == nil || res.Failure.Gate != GateChanged || len(p.applied) != 1 {
		t.Fatalf("result %+v, applied %v", res, p.applied)
	}
}

// changingRouter is a Router whose writes another writer follows at once,
// or whose read-back keeps the old split.
type changingRouter struct {
	script
	after    weights.Split // served right after each write, when set
	conflict bool          // every write reports ErrConflict
	stuck    bool          // writes never show
	rest     string
}

func (c *changingRouter) Read(ctx context.Context) (Reading, error) {
	rd, err := c.script.Read(ctx)
	rd.Rest = c.rest
	return rd, err
}

func (c *changingRouter) Write(ctx context.Context, base Reading, w weights.Split) error {
	before := c.serving
	if err := c.script.Write(ctx, base, w); err != nil {
		return err
	}
	switch {
	case c.conflict:
		return fmt.Errorf("version 7 written, 5 read: %w", ErrConflict)
	case c.stuck:
		c.serving = before
	case c.after != nil:
		c.serving = c.after
	}
	return nil
}

func TestMove(t *testing.T) {
	step := weights.Split{{ARN: blue, Weight: 900}, {ARN: green, Weight: 100}}
	other := weights.Split{{ARN: blue, Weight: 500}, {ARN: green, Weight: 500}}
	run := func(c *changingRouter) (*Runner, *clock.Fake) {
		clk := clock.NewFake(time.Unix(0, 0))
		return &Runner{Router: c, Clock: clk}, clk
	}
	t.Run("confirmed", func(t *testing.T) {
		c := &changingRouter{}
		r, _ := run(c)
		got, err := r.move(context.Background(), []weights.Split{start}, step)
		if err != nil || !got.Equal(step) || c.reads != 2 {
			t.Fatalf("got %s, %v after %d reads", got, err, c.reads)
		}
	})
	t.Run("changed right after the write", func(t *testing.T) {
		c := &changingRouter{after: other}
		r, _ := run(c)
		_, err := r.move(context.Background(), []weights.Split{start}, step)
		var ce *ChangedError
		if !errors.As(err, &ce) || !ce.AfterWrite || !ce.Found.Equal(other) || len(c.applied) != 1 {
			t.Fatalf("err %v, applied %v", err, c.applied)
		}
	})
	t.Run("another writer between read and write", func(t *testing.T) {
		c := &changingRouter{conflict: true}
		r, _ := run(c)
		_, err := r.move(context.Background(), []weights.Split{start}, step)
		var ce *ChangedError
		if !errors.As(err, &ce) || !ce.Overwritten || !strings.Contains(ce.Error(), "overwrote") {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("a write not visible yet is made again, then not confirmed", func(t *testing.T) {
		c := &changingRouter{stuck: true}
		r, clk := run(c)
		_, err := r.move(context.Background(), []weights.Split{start}, step)
		var nc *NotConfirmedError
		if !errors.As(err, &nc) || nc.Attempts != ConfirmAttempts || len(c.applied) != ConfirmAttempts {
			t.Fatalf("err %v, applied %d", err, len(c.applied))
		}
		if got := clk.Sleeps(); len(got) != 3 || got[0] != ConfirmBackoff || got[2] != 4*ConfirmBackoff {
			t.Fatalf("sleeps %v", got)
		}
	})
	t.Run("the rest of the subject changed", func(t *testing.T) {
		c := &changingRouter{rest: "kill_switch=false"}
		r, _ := run(c)
		if _, err := r.move(context.Background(), []weights.Split{start}, step); err != nil {
			t.Fatal(err)
		}
		c.rest = "kill_switch=true"
		_, err := r.move(context.Background(), []weights.Split{step}, start)
		var ce *ChangedError
		if !errors.As(err, &ce) || !ce.RestChanged || len(c.applied) != 1 {
			t.Fatalf("err %v, applied %v", err, c.applied)
		}
	})
	t.Run("a read-back that fails leaves the outcome unknown", func(t *testing.T) {
		c := &changingRouter{}
		c.readErr = func(n int) error {
			if n == 2 {
				return errors.New("connection reset")
			}
			return nil
		}
		r, _ := run(c)
		_, err := r.move(context.Background(), []weights.Split{start}, step)
		if !errors.Is(err, ErrUnknownWeights) {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("a primed reading is used once when fresh", func(t *testing.T) {
		c := &changingRouter{}
		r, clk := run(c)
		r.Primed = &Reading{Split: start, At: clk.Now()}
		if _, err := r.move(context.Background(), []weights.Split{start}, step); err != nil || c.reads != 1 {
			t.Fatalf("err %v after %d reads, want only the read-back", err, c.reads)
		}
		r.Primed = &Reading{Split: step, At: clk.Now().Add(-2 * PrimedMaxAge)}
		if _, err := r.move(context.Background(), []weights.Split{step}, start); err != nil || c.reads != 3 {
			t.Fatalf("err %v after %d reads, want a new read for a stale prime", err, c.reads)
		}
	})
}

func TestSwitchOffThatFailsMovesTrafficBack(t *testing.T) {
	steps := canary(t)
	p := &script{}
	reads := 0
	p.alarm = func(int) string {
		if reads++; reads == 3 {
			return StateAlarm
		}
		return StateOK
	}
	r := runner(p, Gates{Alarms: []string{"a"}}, clock.NewFake(time.Unix(0, 0)))
	r.Policy = FeatureFlag
	r.SwitchOff = func(context.Context) (string, error) {
		return "", errors.New("ParameterNotFound: /rollout/flags/chekout")
	}
	res := r.Run(context.Background(), start, steps)
	if res.Status != RolledBack || res.Policy != Immediate || res.SwitchOffErr == nil || !res.Current.Equal(start) {
		t.Fatalf("result %+v", res)
	}
	sameSplits(t, p.applied, steps[0].Weights, start)
	if s := res.Summary(); !strings.Contains(s, "could not switch the flags off") {
		t.Errorf("summary %q", s)
	}
}

func TestRollbackAfterCancelReadsOnALiveContext(t *testing.T) {
	// Ctrl-C during a gradual rollback (release "started" and gate
	// failures alike): every read and write of the rollback has a live
	// context, so it finishes.
	ctx, cancel := context.WithCancel(context.Background())
	p := &script{serving: end}
	cancel()
	r := runner(p, Gates{}, clock.NewFake(time.Unix(0, 0)))
	r.Policy = Gradual
	res := r.RollBack(ctx, end, start, 3, "api failed")
	if res.Status != RolledBack || !res.Current.Equal(start) {
		t.Fatalf("result %+v", res)
	}
	for i, e := range p.applyCtx {
		if e != nil {
			t.Fatalf("write %d had a done context: %v", i+1, e)
		}
	}
	if len(p.readCtx) == 0 {
		t.Fatal("the rollback did not read before writing")
	}
	for i, e := range p.readCtx {
		if e != nil {
			t.Fatalf("read %d had a done context: %v", i+1, e)
		}
	}
}
