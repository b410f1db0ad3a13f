package provider_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/rolloutdev/terraform-provider-rollout/internal/acctest"
	"github.com/rolloutdev/terraform-provider-rollout/internal/awsclient"
	"github.com/rolloutdev/terraform-provider-rollout/internal/clock"
	"github.com/rolloutdev/terraform-provider-rollout/internal/emulator"
	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
)

// The model's notices: to SNS, to EventBridge, or to both, and what each
// destination does during an apply (failing, or slow: within the
// notifier's bound or past it).

// The destinations, by the emulator's service name.
const (
	mSNS = "sns"
	mBus = "events"
)

// mNoticeFault is what one destination does to every publish of an apply.
type mNoticeFault struct {
	dest string
	kind emulator.Fault
	// late: a slow answer that takes longer than the notifier's bound on
	// one publish (awsclient.PublishTimeout): the notifier gives up, the
	// notice is not delivered there and is counted.
	late bool
}

func (f mNoticeFault) String() string {
	switch {
	case f.kind == emulator.Slow && f.late:
		return f.dest + " slower than the notifier's bound"
	case f.kind == emulator.Slow:
		return f.dest + " slow, within the bound"
	}
	return f.dest + " failing (" + string(f.kind) + ")"
}

// counted: the notices of the apply are counted undelivered (a publish to
// a destination failed for the notifier).
func (f mNoticeFault) counted() bool { return f.kind != emulator.Slow || f.late }

// blocks: nothing reaches the destination (a lost answer reaches it,
// and is counted all the same).
func (f mNoticeFault) blocks() bool { return f.counted() && f.kind != emulator.LostAnswer }

// slowBy is how long a slow answer takes on the notice clock.
func (f mNoticeFault) slowBy() time.Duration {
	if f.late {
		return awsclient.PublishTimeout + time.Second
	}
	return awsclient.PublishTimeout / 2
}

// dests are the destinations the configuration has.
func (w *mWorld) dests() []string {
	var out []string
	if w.topic != "" {
		out = append(out, mSNS)
	}
	if w.bus != "" {
		out = append(out, mBus)
	}
	return out
}

// setupNotices draws the destinations (none, SNS, EventBridge, both) and
// makes a slow answer take its time on the notice clock, not in real time.
func (w *mWorld) setupNotices() {
	switch w.rng.Intn(6) {
	case 0, 1:
		w.topic, _ = w.e.SNSNotices("model")
	case 2:
		w.bus = mEventBus(w)
	case 3:
		w.topic, _ = w.e.SNSNotices("model")
		w.bus = mEventBus(w)
	}
	w.e.Emu.SlowWith(func(action string, d time.Duration) bool {
		_ = w.noticeClock.Sleep(context.Background(), d)
		return d >= awsclient.PublishTimeout
	})
}

// mEventBus makes an EventBridge bus; what reaches it is read from the
// emulator's requests (a PutEvents the front faulted never reached it).
func mEventBus(w *mWorld) string {
	c := eventbridge.NewFromConfig(aws.Config{Region: acctest.Region, Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")},
		func(o *eventbridge.Options) { o.BaseEndpoint = aws.String(w.e.Emu.URL) })
	bus := acctest.Name("model-bus")
	if _, err := c.CreateEventBus(context.Background(), &eventbridge.CreateEventBusInput{Name: aws.String(bus)}); err != nil {
		w.t.Fatalf("CreateEventBus: %v", err)
	}
	return bus
}

// drawNoticeFaults draws what the destinations do during one apply.
func (w *mWorld) drawNoticeFaults() []mNoticeFault {
	var out []mNoticeFault
	for _, d := range w.dests() {
		if w.rng.Intn(6) != 0 {
			continue
		}
		f := mNoticeFault{dest: d, kind: []emulator.Fault{emulator.ServerError, emulator.Throttle, emulator.Denied, emulator.Reset, emulator.LostAnswer, emulator.Slow, emulator.Slow}[w.rng.Intn(7)]}
		f.late = f.kind == emulator.Slow && w.rng.Intn(2) == 0
		out = append(out, f)
	}
	return out
}

// armNotices makes the destinations fail or slow every publish of the
// apply.
func (w *mWorld) armNotices(fs []mNoticeFault) {
	for _, f := range fs {
		w.e.Emu.InjectFaults(f.dest, emulator.Faults{Rate: 1, Kinds: []emulator.Fault{f.kind}, SlowBy: f.slowBy(), Seed: 1})
	}
}

// eventNotices are the notices that reached the EventBridge bus, in the
// order they arrived.
func (w *mWorld) eventNotices() []rollout.Notice {
	var out []rollout.Notice
	for _, r := range w.e.Emu.Requests("events:PutEvents") {
		entries, _ := r["Entries"].([]any)
		for _, x := range entries {
			m, _ := x.(map[string]any)
			if m["EventBusName"] != w.bus {
				continue
			}
			var n rollout.Notice
			if err := json.Unmarshal([]byte(fmt.Sprint(m["Detail"])), &n); err != nil {
				w.t.Errorf("a notice put on the bus that is not one: %v", err)
				continue
			}
			out = append(out, n)
		}
	}
	return out
}

// noticesAt are the notices that reached a destination so far.
func (w *mWorld) noticesAt(dest string) []rollout.Notice {
	if dest == mBus {
		return w.eventNotices()
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]rollout.Notice(nil), w.notices...)
}

// mNoticeMark is where each destination's notices were before an apply.
type mNoticeMark map[string]int

func (w *mWorld) noticeMark() mNoticeMark {
	m := mNoticeMark{}
	for _, d := range w.dests() {
		m[d] = len(w.noticesAt(d))
	}
	return m
}

// deliveredSince is each destination's notices since mark, by seq.
func (w *mWorld) deliveredSince(mark mNoticeMark) map[string][]rollout.Notice {
	out := map[string][]rollout.Notice{}
	for _, d := range w.dests() {
		ns := w.noticesAt(d)[mark[d]:]
		sort.SliceStable(ns, func(i, j int) bool { return ns[i].Seq < ns[j].Seq })
		out[d] = ns
	}
	return out
}

// distinct drops the repeats of a notice (a publish whose answer was lost,
// sent again), by seq.
func distinct(ns []rollout.Notice) []rollout.Notice {
	var out []rollout.Notice
	seen := map[int]bool{}
	for _, n := range ns {
		if !seen[n.Seq] {
			seen[n.Seq] = true
			out = append(out, n)
		}
	}
	return out
}

// checkNoticeOutcome holds a clean apply's notices to the model: each
// destination has the notices the model says, unless it failed them; the
// notices of an apply with a destination failing are all counted, and
// none otherwise.
func (w *mWorld) checkNoticeOutcome(label string, run *mRun, outcome mOutcome, delivered map[string][]rollout.Notice, fs []mNoticeFault) {
	w.t.Helper()
	want := outcome.notices
	dests := w.dests()
	if len(dests) == 0 {
		return
	}
	faultOf := map[string]mNoticeFault{}
	counted := false
	for _, f := range fs {
		faultOf[f.dest] = f
		counted = counted || f.counted()
	}
	for _, d := range dests {
		got := delivered[d]
		f, faulted := faultOf[d]
		switch {
		case faulted && f.blocks():
			if len(got) != 0 {
				w.fatalf("%s: notices reached %s while it %s: %v", label, d, f, kindsOf(got))
			}
		default:
			if g := strings.Join(kindsOf(distinct(got)), " "); g != strings.Join(want, " ") {
				w.fatalf("%s: the notices at %s were %q, the model says %q", label, d, g, strings.Join(want, " "))
			}
		}
	}
	n := 0
	if counted {
		n = len(want)
	}
	// The record counts the run's notices, across its holds; a detached
	// run's count is its execution's until it ends (the record of a held
	// one has the apply's alone).
	if got := w.last_("notices_undelivered"); got != fmt.Sprint(run.undelivered+n) && (w.states == nil || outcome.status != "held") {
		w.fatalf("%s: last_rollout.notices_undelivered is %s; the apply's %d notices (%v) went to %v with %v, after %d of the run's not delivered before: the model says %d", label, got, len(want), want, dests, fs, run.undelivered, run.undelivered+n)
	}
	run.undelivered += n
}

// checkNoticeCount holds an apply the model does not follow step by step
// to what it can still know: with one destination failing and the other
// healthy, every notice the healthy one got is counted.
func (w *mWorld) checkNoticeCount(label string, delivered map[string][]rollout.Notice, fs []mNoticeFault, lostBefore bool) {
	w.t.Helper()
	if len(w.dests()) != 2 || len(fs) != 1 || !fs[0].counted() || lostBefore || w.states != nil {
		// (the record counts the run's: an earlier apply's losses are in
		// it; a detached run's is its execution's until it ends)
		return
	}
	healthy := mSNS
	if fs[0].dest == mSNS {
		healthy = mBus
	}
	sent := len(distinct(delivered[healthy]))
	if sent == 0 {
		return // nothing ran (or the record is an earlier apply's)
	}
	if got := w.last_("notices_undelivered"); got != fmt.Sprint(sent) {
		w.fatalf("%s: %d notices reached %s and none could be delivered to %s (%s), and last_rollout.notices_undelivered is %s", label, sent, healthy, fs[0].dest, fs[0], got)
	}
}

// newNoticeClock is the clock a notice's publish is bounded by: a fake one
// of its own, moved only by the emulator's slow answers, so the rollout's
// clock is not.
func newNoticeClock() *clock.Fake { return clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) }
