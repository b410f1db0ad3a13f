package provider_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/rolloutdev/terraform-provider-rollout/internal/awsclient"
	"github.com/rolloutdev/terraform-provider-rollout/internal/clock"
	"github.com/rolloutdev/terraform-provider-rollout/internal/provider"
	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

// The model's busy API budget: the provider's api_budget at low rates,
// its pacer on the rollout's fake clock (provider.WithPacerClock: a paced
// run costs no real time), and other rollouts of the same provider drawing
// on it. The others are a neighbour load through the same pacer, not
// second subjects: at each of the subject's sleeps of a second or more
// (its pauses and polls), they take every token of each class and `debt`
// more, as rollbacks do (urgently, without waiting). Taken in the
// subject's own goroutine, at moments its schedule chooses, the load is
// the same on every run of a seed; a second subject's apply would run on
// goroutines of its own and interleave differently each time.
// A third of the histories have one (ROLLOUT_MODEL_BUSY=0: none).
//
// What it cannot make the same on every run: while a read waits for its
// token, the alarm watch (awsclient.SharedAlarms.WatchAlarms) and the
// shared fetch sleep on goroutines of their own, on the same fake clock, so
// when an alarm that fires mid-apply is seen is not fixed by the seed (two
// runs of seed 28 saw it at step 1 and at step 3). An apply with an alarm
// under a busy budget is held to the invariants alone (racesAlarm); the
// rest of the model holds.

// mBudgetRate is every class's rate, in requests a second.
const mBudgetRate = 0.5

var mBudgetClasses = []string{awsclient.ClassELBDescribe, awsclient.ClassELBModify, awsclient.ClassAlarms, awsclient.ClassLambda, awsclient.ClassSSM}

type mBudget struct {
	w     *mWorld
	pacer *awsclient.Pacer
	debt  int
	// active: the neighbours draw (during an apply)
	active bool
	mu     sync.Mutex
	// waits: for each time a request of the subject's waited for a token,
	// how many writes the subject had received.
	waits []int
}

// mPacerClock is the rollout's fake clock, seen by the pacer: each sleep
// is a request waiting for a token.
type mPacerClock struct {
	*clock.Fake
	b *mBudget
}

func (c mPacerClock) Sleep(ctx context.Context, d time.Duration) error {
	n := len(c.b.w.s.writes())
	c.b.mu.Lock()
	c.b.waits = append(c.b.waits, n)
	c.b.mu.Unlock()
	return c.Fake.Sleep(ctx, d)
}

// setupBudget draws whether the provider has a busy budget, and returns
// the provider's extra configuration and options for it.
func (w *mWorld) setupBudget() (map[string]any, []provider.Option) {
	if w.rng.Intn(3) != 0 {
		return nil, nil
	}
	b := &mBudget{w: w, debt: 1 + w.rng.Intn(4)}
	if os.Getenv("ROLLOUT_MODEL_BUSY") == "0" {
		return nil, nil
	}
	w.budget = b
	cfg := map[string]any{"enabled": true}
	for _, k := range []string{"elb_describe_per_second", "elb_modify_per_second", "cloudwatch_describe_per_second", "lambda_per_second", "ssm_per_second"} {
		cfg[k] = mBudgetRate
	}
	return map[string]any{"api_budget": cfg}, []provider.Option{
		provider.WithPacerClock(mPacerClock{Fake: w.e.Clock, b: b}),
		provider.WithConfigured(func(c *awsclient.Client) { b.pacer = c.Pacer }),
	}
}

// racesAlarm says whether an apply's alarm (firing as write alarmAt
// arrives, or before it) is seen at a moment the seed does not fix.
func (b *mBudget) racesAlarm(alarmAt int, firing bool) bool {
	return b != nil && (alarmAt > 0 || firing)
}

func (b *mBudget) String() string {
	return fmt.Sprintf("api_budget at %g/s, other rollouts leaving a debt of %d tokens a class at each pause and poll", mBudgetRate, b.debt)
}

// draw is the neighbours at one of the subject's sleeps: a sleep of a
// second or more (a pacer's wait is at most 0.1 s) leaves every class
// `debt` tokens short.
func (b *mBudget) draw(d time.Duration) {
	if b == nil || !b.active || d < time.Second || b.pacer == nil {
		return
	}
	ctx := rollout.Urgent(context.Background())
	for _, class := range mBudgetClasses {
		burst := awsclient.DefaultBudgets[class].Burst
		for i := 0; i < burst+b.debt; i++ {
			_ = b.pacer.Wait(ctx, class)
		}
	}
}

func (b *mBudget) start() {
	if b == nil {
		return
	}
	b.mu.Lock()
	b.waits = nil
	b.mu.Unlock()
	b.active = true
}

// backWrites are the indices in writes (the run's, from where it is, up to
// any person's change) of those on the way back. Writes are told by the
// run's own steps, as checkWrites tells them, never by which way the
// weight moves: the next step the engine writes (run.advance: a step that
// serves what the one before it left needs no write, as a flag's whole
// percentages can make of a first step) goes on, the same step again is a
// write whose answer was lost, and anything else starts the way back.
// back says the apply starts on the way back.
func (run *mRun) backWrites(back bool, writes []weights.Split) []int {
	var out []int
	pos := run.pos
	for i, x := range writes {
		n, forward := run.advance(pos, x)
		switch {
		case !back && forward:
			pos = n
		case !back && pos >= 0 && weights.SameShares(x, run.steps[pos].Weights):
		default:
			back = true
			out = append(out, i)
		}
	}
	return out
}

// checkUrgent holds a rollback to its promise under a busy budget: none of
// its requests waits for a token. Between two writes on the way back of a
// gradual rollback (its health read, its guard's read, its status), no
// request of the subject waited.
func (w *mWorld) checkUrgent(label string, mode mMode, run *mRun, mark int) {
	w.t.Helper()
	b := w.budget
	if b == nil {
		return
	}
	b.active = false
	if run == nil || (mode != mNewRun && mode != mResume && mode != mBack) || w.states != nil {
		// (detached, the rollback is the orchestrator's, which has no
		// budget: the waits are the apply's, polling for the first step)
		return
	}
	all := w.s.writes()
	w.mu.Lock()
	person := map[int]bool{}
	for k, v := range w.person {
		person[k] = v
	}
	w.mu.Unlock()
	n := len(all)
	for i := mark; i < len(all); i++ {
		if person[i] {
			n = i
			break
		}
	}
	var backAt []int // indices in all of the writes on the way back
	for _, k := range run.backWrites(mode == mBack, all[mark:n]) {
		backAt = append(backAt, mark+k)
	}
	b.mu.Lock()
	waits := append([]int(nil), b.waits...)
	b.mu.Unlock()
	for k := 1; k < len(backAt); k++ {
		i, j := backAt[k-1], backAt[k]
		for _, n := range waits {
			if n >= i+1 && n <= j {
				w.fatalf("%s: a request of the rollback waited for a token of the busy budget between its writes %s and %s: a rollback's requests are urgent (%s)", label, all[i].Short(), all[j].Short(), b)
			}
		}
	}
}

// TestModelBackWrites holds the checker's classifier of a run's writes to
// the run's own steps: a forward step that rounds to where the run is
// (a flag's whole percentages: on=8 going to 0 by 2 % and 8 % of the way
// serves on=8, then 7) is skipped, and the writes after it go on, even as
// the weight falls; a write that is neither the next step nor the last
// one again starts the way back, whichever way the weight moves (seed
// 6274: a rollout from on=8 to 0 taken for a rollback).
func TestModelBackWrites(t *testing.T) {
	flag := func(on int) weights.Split {
		return weights.Split{{ARN: "on", Weight: on}, {ARN: "off", Weight: 100 - on}}
	}
	run := func(from int, steps ...int) *mRun {
		r := &mRun{from: flag(from), pos: -1, held: -1}
		for _, on := range steps {
			r.steps = append(r.steps, rollout.PlannedStep{Weights: flag(on)})
		}
		r.to = r.steps[len(r.steps)-1].Weights
		return r
	}
	down := func() *mRun { return run(8, 8, 7, 4, 0) } // seed 6274's
	up := func() *mRun { return run(0, 2, 8, 46, 100) }
	for _, c := range []struct {
		name   string
		run    *mRun
		pos    int
		back   bool
		writes []int
		want   []int
	}{
		{"down, its first step skipped", down(), -1, false, []int{7, 4, 0}, nil},
		{"down, back to where it started (immediate)", down(), -1, false, []int{7, 4, 8}, []int{2}},
		{"down, back gradually", down(), -1, false, []int{7, 4, 7, 8}, []int{2, 3}},
		{"down, from a step reached", down(), 2, false, []int{8}, []int{0}},
		{"down, a step not planned", down(), -1, false, []int{6}, []int{0}},
		{"up", up(), -1, false, []int{2, 8, 46, 100}, nil},
		{"up, a step again (its answer lost)", up(), -1, false, []int{2, 2, 8}, nil},
		{"up, back (immediate)", up(), -1, false, []int{2, 8, 0}, []int{2}},
		{"up, back gradually", up(), -1, false, []int{2, 8, 2, 0}, []int{2, 3}},
		{"up, a step skipped that needs a write", up(), -1, false, []int{2, 46}, []int{1}},
		{"the apply goes back", up(), 1, true, []int{2, 0}, []int{0, 1}},
	} {
		c.run.pos = c.pos
		var writes []weights.Split
		for _, on := range c.writes {
			writes = append(writes, flag(on))
		}
		if got := c.run.backWrites(c.back, writes); fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%s: writes on=%v: on the way back %v, want %v", c.name, c.writes, got, c.want)
		}
	}
}
