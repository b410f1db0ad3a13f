package awsclient

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
)

// Shared gate readings: every rollout of one provider process reads its
// alarms and target health through one reader, so a hundred rollouts
// polling the same second make one DescribeAlarms (for all their alarms,
// 100 names a request) and one DescribeTargetHealth per target group. A
// reading is shared while it is at most ReadingMaxAge old on the client's
// clock; each rollout still decides on its own readings at its own poll.
// Only gate reads are shared: the reads before a write (the guard) and the
// read-backs are each rollout's own.

// ReadingMaxAge is how old a shared gate reading may be: a hundred
// rollouts polling all the time make about one DescribeAlarms a second.
const ReadingMaxAge = 750 * time.Millisecond

// watchFor is how long an alarm stays in the shared request after a
// rollout last asked for it.
const watchFor = time.Minute

type sharedReadings struct {
	mu      sync.Mutex
	alarms  map[string]alarmReading
	watched map[string]time.Time
	// fetching is the alarm fetch in flight, if any; fetched is when the
	// last one started.
	fetching *fetch
	fetched  time.Time
	health   map[string]*healthReading
}

type alarmReading struct {
	state rollout.AlarmState
	found bool
	at    time.Time
}

type healthReading struct {
	counts   map[string]int
	at       time.Time
	fetching *fetch
}

type fetch struct {
	done chan struct{}
	err  error
	// hurry makes the fetch's requests urgent (rollout.Escalatable): a
	// rollback's read that joins it does not wait its turn in the budget.
	hurry func()
}

// newFetch is a fetch whose requests run on the returned context: not
// cancelled with ctx (the fetch is every waiting rollout's), and urgent
// when ctx is or once a waiting read that is urgent joins it (join).
func newFetch(ctx context.Context) (*fetch, context.Context) {
	fctx, hurry := rollout.Escalatable(context.WithoutCancel(ctx))
	return &fetch{done: make(chan struct{}), hurry: hurry}, fctx
}

// join waits for f as a read of ctx: an urgent read hurries it.
func (f *fetch) join(ctx context.Context) error {
	if rollout.IsUrgent(ctx) {
		f.hurry()
	}
	select {
	case <-f.done:
		return f.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// now is the client's clock's time (the real one for a client built
// without a clock).
func (c *Client) now() time.Time {
	if c.Clock == nil {
		return time.Now()
	}
	return c.Clock.Now()
}

func (c *Client) readings() *sharedReadings {
	c.sharedOnce.Do(func() {
		c.shared = &sharedReadings{alarms: map[string]alarmReading{}, watched: map[string]time.Time{}, health: map[string]*healthReading{}}
	})
	return c.shared
}

// sharedFetch is how a reading that is not fresh is fetched (readShared).
type sharedFetch struct {
	// slot holds the reading's fetch in flight.
	slot **fetch
	// wait is how long a new fetch must wait (0: none).
	wait time.Duration
	// start, called with the readings locked when the fetch starts at now,
	// returns the fetch's read; keep, called locked, stores what it read.
	start func(now time.Time) func(context.Context) (keep func(at time.Time), err error)
}

// readShared reads through the shared readings: with them locked, look
// reports nil once the reading it wants is fresh (and keeps it), or how it
// is fetched. Until then the read joins the fetch in flight, waits when a
// new one must wait, or starts it for every waiting read, and looks again.
func (c *Client) readShared(ctx context.Context, look func(now time.Time) *sharedFetch) error {
	r := c.readings()
	for {
		now := c.now()
		r.mu.Lock()
		sf := look(now)
		if sf == nil {
			r.mu.Unlock()
			return nil
		}
		if f := *sf.slot; f != nil {
			// Another rollout's fetch is in flight: it asks for this too.
			r.mu.Unlock()
			if err := f.join(ctx); err != nil {
				return err
			}
			continue
		}
		if sf.wait > 0 {
			r.mu.Unlock()
			if err := c.Pacer.clock.Sleep(ctx, sf.wait); err != nil {
				return err
			}
			continue
		}
		read := sf.start(now)
		f, fctx := newFetch(ctx)
		*sf.slot = f
		r.mu.Unlock()
		// The fetch is every waiting rollout's: it goes on when the
		// context of the one that started it ends (a watch that stopped).
		go func() {
			keep, err := read(fctx)
			at := c.now()
			r.mu.Lock()
			if err == nil {
				keep(at)
			}
			f.err = err
			*sf.slot = nil
			close(f.done)
			r.mu.Unlock()
		}()
	}
}

// SharedAlarms reads alarm states through the client's shared readings.
type SharedAlarms struct{ Client *Client }

// AlarmStates reads the states of names, from a shared reading at most
// ReadingMaxAge old, or from one DescribeAlarms for every alarm any rollout
// watches.
func (s SharedAlarms) AlarmStates(ctx context.Context, names []string) ([]rollout.AlarmState, error) {
	c, r := s.Client, s.Client.readings()
	var out []rollout.AlarmState
	err := c.readShared(ctx, func(now time.Time) *sharedFetch {
		fresh := true
		for _, n := range names {
			r.watched[n] = now
			if a, ok := r.alarms[n]; !ok || now.Sub(a.at) > ReadingMaxAge {
				fresh = false
			}
		}
		if fresh {
			for _, n := range names {
				if a := r.alarms[n]; a.found {
					out = append(out, a.state)
				}
			}
			return nil
		}
		sf := &sharedFetch{slot: &r.fetching, start: func(now time.Time) func(context.Context) (func(time.Time), error) {
			r.fetched = now
			all := r.watchedAt(now)
			return func(fctx context.Context) (func(time.Time), error) {
				states, err := c.AlarmStates(fctx, all)
				return func(at time.Time) { r.keepAlarms(all, states, at) }, err
			}
		}}
		if next := r.fetched.Add(ReadingMaxAge); c.Pacer != nil && now.Before(next) && !rollout.IsUrgent(ctx) {
			// Under a budget the reading is fetched at most once per
			// ReadingMaxAge: alarms not in the last one (a rollout that
			// just started) wait for the next, which names them too. A
			// rollback's read does not wait.
			sf.wait = next.Sub(now)
		}
		return sf
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// watchedAt is, sorted, every alarm a rollout asked for within watchFor
// before now; it forgets the others.
func (r *sharedReadings) watchedAt(now time.Time) []string {
	var all []string
	for n, at := range r.watched {
		if now.Sub(at) <= watchFor {
			all = append(all, n)
		} else {
			delete(r.watched, n)
		}
	}
	sort.Strings(all)
	return all
}

// keepAlarms keeps the states of all read at: an alarm DescribeAlarms did
// not return is not found.
func (r *sharedReadings) keepAlarms(all []string, states []rollout.AlarmState, at time.Time) {
	got := map[string]rollout.AlarmState{}
	for _, st := range states {
		got[st.Name] = st
	}
	for _, n := range all {
		st, ok := got[n]
		r.alarms[n] = alarmReading{state: st, found: ok, at: at}
	}
}

// SharedTargetHealth reads a target group's health counts from a shared
// reading at most ReadingMaxAge old, or from one DescribeTargetHealth for
// every rollout that asks for it meanwhile.
func (c *Client) SharedTargetHealth(ctx context.Context, tg string) (map[string]int, error) {
	r := c.readings()
	var counts map[string]int
	err := c.readShared(ctx, func(now time.Time) *sharedFetch {
		h := r.health[tg]
		if h == nil {
			h = &healthReading{}
			r.health[tg] = h
		}
		if h.counts != nil && now.Sub(h.at) <= ReadingMaxAge {
			counts = h.counts
			return nil
		}
		return &sharedFetch{slot: &h.fetching, start: func(time.Time) func(context.Context) (func(time.Time), error) {
			return func(fctx context.Context) (func(time.Time), error) {
				got, err := c.TargetHealthCounts(fctx, tg)
				return func(at time.Time) { h.counts, h.at = got, at }, err
			}
		}}
	})
	if err != nil {
		return nil, err
	}
	return counts, nil
}

// WatchAlarms watches names through the shared readings while another
// read of the rollout waits for its turn in the API budget, every interval
// or more often (a third of ReadingMaxAge: the watch costs no request of
// its own), and fires once when one is in ALARM. Without a pacer nothing
// waits its turn, and nothing is watched.
func (s SharedAlarms) WatchAlarms(ctx context.Context, names []string, interval time.Duration, fire func()) func() {
	p := s.Client.Pacer
	if p == nil {
		return func() {}
	}
	every := min(interval, ReadingMaxAge/3)
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for p.clock.Sleep(wctx, every) == nil {
			states, err := s.AlarmStates(wctx, names)
			if wctx.Err() != nil {
				return
			}
			if err != nil {
				continue // the read's own poll judges a failing reader
			}
			for _, st := range states {
				if st.State == rollout.StateAlarm {
					fire()
					return
				}
			}
		}
	}()
	return func() { cancel(); <-done }
}
