package provider_test

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/rolloutdev/terraform-provider-rollout/internal/acctest"
	"github.com/rolloutdev/terraform-provider-rollout/internal/emulator"
	"github.com/rolloutdev/terraform-provider-rollout/internal/provider"
	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

// The randomized interleaving test: random schedules, operators' hand
// changes, injected faults (throttling, 503s, resets, lost answers) and
// cancels, on every subject over the emulator, against a checker of the
// pipeline's invariants:
//
//   - every write is either the plan's next step from what the last write
//     left, or the way back to what the subject served before the apply;
//   - no write after someone else's change;
//   - afterwards, what the result records is what the emulator serves
//     (unless the result says the weights are unknown), and a write that
//     landed is never reported as nothing moved.
//
// make test runs a few hundred seeds (ROLLOUT_INTERLEAVING_SEEDS, and never
// longer than ROLLOUT_INTERLEAVING_BUDGET of wall time); make fuzz runs
// FuzzInterleaving. A failing seed says how to run it again alone.

// event is one write at the subject, in the order they happened.
type event struct {
	person     bool
	base, want weights.Split
}

// recorder wraps a subject's router to record the provider's writes.
type recorder struct {
	rollout.Router
	mu     *sync.Mutex
	events *[]event
}

func (r recorder) Write(ctx context.Context, base rollout.Reading, want weights.Split) error {
	r.mu.Lock()
	*r.events = append(*r.events, event{base: base.Split, want: want})
	r.mu.Unlock()
	return r.Router.Write(ctx, base, want)
}

// normalizingRecorder keeps a flag router's resolution.
type normalizingRecorder struct {
	recorder
	rollout.Normalizer
}

type recordedSubject struct {
	provider.Subject
	mu     *sync.Mutex
	events *[]event
}

func (s recordedSubject) Router() rollout.Router {
	inner := s.Subject.Router()
	r := recorder{Router: inner, mu: s.mu, events: s.events}
	if n, ok := inner.(rollout.Normalizer); ok {
		return normalizingRecorder{recorder: r, Normalizer: n}
	}
	return r
}

func interleavingSeeds() (int, time.Duration) {
	n, budget := 300, 60*time.Second
	if v, err := strconv.Atoi(os.Getenv("ROLLOUT_INTERLEAVING_SEEDS")); err == nil {
		n = v
	}
	if v, err := time.ParseDuration(os.Getenv("ROLLOUT_INTERLEAVING_BUDGET")); err == nil {
		budget = v
	}
	return n, budget
}

func TestInterleaving(t *testing.T) {
	if v, err := strconv.ParseInt(os.Getenv("ROLLOUT_INTERLEAVING_SEED"), 10, 64); err == nil {
		t.Run(fmt.Sprintf("seed=%d", v), func(t *testing.T) { interleave(t, v) })
		return
	}
	n, budget := interleavingSeeds()
	start := time.Now()
	ran := 0
	for seed := int64(1); seed <= int64(n); seed++ {
		if time.Since(start) > budget {
			t.Logf("stopped after %d seeds: the %s budget is spent", ran, budget)
			break
		}
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) { interleave(t, seed) })
		ran++
	}
	t.Logf("%d seeds in %s", ran, time.Since(start).Round(time.Millisecond))
}

func FuzzInterleaving(f *testing.F) {
	for _, s := range []int64{1, 7, 42, 1234} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, seed int64) { interleave(t, seed) })
}

func interleave(t *testing.T, seed int64) {
	defer func() {
		if t.Failed() {
			t.Logf("reproduce: ROLLOUT_INTERLEAVING_SEED=%d go test ./internal/provider -run '^TestInterleaving$' -count=1 -v", seed)
		}
	}()
	rng := rand.New(rand.NewSource(seed))
	e := acctest.NewEnv(t)
	k := kits[rng.Intn(len(kits))]
	s := k.make(t, e, conformanceClient(t, e))
	var mu sync.Mutex
	var events []event
	rs := recordedSubject{Subject: s.s, mu: &mu, events: &events}

	// A random schedule: 1 to 4 steps, increasing, the last at 100.
	var steps []rollout.Step
	pct := 0
	for i, n := 0, 1+rng.Intn(4); i < n-1; i++ {
		pct += 1 + rng.Intn((100-pct)/(n-i))
		if pct >= 100 {
			break
		}
		steps = append(steps, rollout.Step{Percent: pct, Pause: time.Duration(rng.Intn(4)) * time.Minute})
	}
	steps = append(steps, rollout.Step{Percent: 100})
	spec := s.spec()
	spec.Steps = steps
	spec.Policy = []rollout.Policy{rollout.Auto, rollout.Immediate, rollout.Gradual}[rng.Intn(3)]
	planned, err := rollout.Plan(s.from, s.to, rollout.Strategy{Kind: rollout.Canary, Steps: steps})
	if err != nil {
		t.Fatalf("schedule %v: %v", steps, err)
	}

	// What happens during the sleeps: an alarm, a person, faults, a cancel.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sleeps := 0
	alarmAt, handAt, faultAt, cancelAt := rng.Intn(12), rng.Intn(12), rng.Intn(12), rng.Intn(16)
	hands := []weights.Split{s.from, s.to}
	for _, p := range planned {
		hands = append(hands, p.Weights)
	}
	hand := hands[rng.Intn(len(hands))]
	faultKind := []emulator.Fault{emulator.LostAnswer, emulator.ServerError, emulator.Throttle, emulator.Reset}[rng.Intn(4)]
	faultRead := rng.Intn(2) == 0
	e.Clock.OnSleep(func(context.Context, time.Duration, time.Time) {
		sleeps++
		switch sleeps {
		case alarmAt:
			e.SetAlarmState(s.alarm, cwtypes.StateValueAlarm)
		case handAt:
			mu.Lock()
			events = append(events, event{person: true, want: hand})
			mu.Unlock()
			s.personSets(hand)
		case faultAt:
			action := s.writeAction
			if faultRead {
				action = s.readAction
			}
			e.Emu.FaultNext(action, faultKind, 1+rng.Intn(2))
		case cancelAt:
			cancel()
		}
	})
	live := s.live()
	out := provider.RunChange(ctx, s.c, rs, spec)
	e.Clock.OnSleep(nil)

	// The checker.
	allowed := map[string]bool{}
	for _, p := range planned {
		allowed[norm(s, p.Weights).Canonical()] = true
	}
	back := map[string]bool{norm(s, s.from).Canonical(): true}
	for _, p := range planned {
		for _, pol := range []rollout.Policy{rollout.Immediate, rollout.Gradual} {
			rb, err := rollout.RollbackPlan(norm(s, p.Weights), s.from, pol)
			if err == nil {
				for _, st := range rb {
					back[norm(s, st.Weights).Canonical()] = true
				}
			}
		}
	}
	prev := live
	foreign := false
	for i, ev := range events {
		if ev.person {
			// A person setting what it already serves changes nothing.
			if !norm(s, ev.want).Equal(prev) {
				foreign = true
			}
			prev = norm(s, ev.want)
			continue
		}
		want := norm(s, ev.want)
		switch {
		case foreign:
			t.Fatalf("write %d (%s) after someone else's change (events %v)", i, want.Short(), events)
		case !allowed[want.Canonical()] && !back[want.Canonical()]:
			t.Fatalf("write %d (%s) is neither a step of %v nor on the way back to %s", i, want.Short(), planned, s.from.Short())
		case !ev.base.Equal(prev) && !ev.base.Equal(want):
			// A write starts from what the last write left; after one whose
			// outcome was unknown, or that did not show yet, from what that
			// one started from.
			if i == 0 || events[i-1].person || (!ev.base.Equal(norm(s, events[i-1].want)) && !ev.base.Equal(events[i-1].base)) {
				t.Fatalf("write %d (%s) started from %s, which no write or person left (last: %s)", i, want.Short(), ev.base.Short(), prev.Short())
			}
		}
		prev = want
	}
	e.Emu.ClearFaults()
	now := s.live()
	if out.Res.Unread && !hasError(out.Diags, `could not be read again after the run`) {
		t.Fatalf("the result could not read what the subject serves, and does not say so: %s", provider.Summaries(out.Diags))
	}
	if !out.Res.Unknown && !out.Res.Unread && out.Moved && !now.Equal(out.Res.Current) {
		t.Fatalf("the result records %s, but the subject serves %s (result %+v; %s)", out.Res.Current.Short(), now.Short(), out.Res, provider.Summaries(out.Diags))
	}
	if out.Res.Unknown && !hasError(out.Diags, `Weights Unknown`) {
		t.Fatalf("unknown weights not reported: %s", provider.Summaries(out.Diags))
	}
	if !out.Moved && !now.Equal(live) && !foreign {
		t.Fatalf("reported nothing moved, but the subject serves %s, not %s", now.Short(), live.Short())
	}
}

// norm is a split as the subject serves it.
func norm(s *subj, w weights.Split) weights.Split {
	if n, ok := s.s.Router().(rollout.Normalizer); ok {
		return n.Normalize(w)
	}
	return w
}
