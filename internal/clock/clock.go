// Package clock lets the provider wait for bake times, poll intervals and
// retry back-offs through an interface, so that tests run on a fake clock and
// never sleep for real.
package clock

import (
	"context"
	"sync"
	"time"
)

// Clock tells the time and waits.
type Clock interface {
	Now() time.Time
	// Sleep waits for d or until ctx is done, whichever comes first, and
	// returns ctx.Err() in the second case.
	Sleep(ctx context.Context, d time.Duration) error
	// WithDeadline returns a context that is done once this clock reaches
	// t, so AWS calls and hooks cannot outlive an apply's timeout, on the
	// fake clock too.
	WithDeadline(ctx context.Context, t time.Time) (context.Context, context.CancelFunc)
}

// Real is the wall clock.
type Real struct{}

// Now returns the current time.
func (Real) Now() time.Time { return time.Now() }

// Sleep waits for d or until ctx is done.
func (Real) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// WithDeadline is context.WithDeadline.
func (Real) WithDeadline(ctx context.Context, t time.Time) (context.Context, context.CancelFunc) {
	return context.WithDeadline(ctx, t)
}

// Fake is a clock whose Sleep returns at once after moving the time forward by
// the duration asked for. A hook sees every sleep, so a test can act at a
// precise moment of a rollout (set an alarm during the second pause, cancel
// the context half way).
type Fake struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
	hook   func(ctx context.Context, d time.Duration, now time.Time)
	// deadlines are the contexts of WithDeadline, cancelled once the fake
	// time reaches theirs.
	deadlines map[*fakeDeadline]struct{}
}

type fakeDeadline struct {
	at     time.Time
	cancel context.CancelCauseFunc
}

// WithDeadline returns a context cancelled with context.DeadlineExceeded as
// its error once a Sleep moves the fake time to t or past it.
func (f *Fake) WithDeadline(ctx context.Context, t time.Time) (context.Context, context.CancelFunc) {
	c, cancel := context.WithCancelCause(ctx)
	f.mu.Lock()
	if !f.now.Before(t) {
		f.mu.Unlock()
		cancel(context.DeadlineExceeded)
		return deadlineCtx{c}, func() { cancel(context.Canceled) }
	}
	d := &fakeDeadline{at: t, cancel: cancel}
	if f.deadlines == nil {
		f.deadlines = map[*fakeDeadline]struct{}{}
	}
	f.deadlines[d] = struct{}{}
	f.mu.Unlock()
	return deadlineCtx{c}, func() {
		f.mu.Lock()
		delete(f.deadlines, d)
		f.mu.Unlock()
		cancel(context.Canceled)
	}
}

// deadlineCtx reports its cause as its error, so a context whose fake
// deadline passed says context.DeadlineExceeded, as a real one does.
type deadlineCtx struct{ context.Context }

func (c deadlineCtx) Err() error {
	if c.Context.Err() == nil {
		return nil
	}
	return context.Cause(c.Context)
}

// NewFake returns a fake clock set to start.
func NewFake(start time.Time) *Fake { return &Fake{now: start} }

// Now returns the fake time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// Sleep moves the fake time forward by d, calls the hook and returns
// ctx.Err().
func (f *Fake) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	if d > 0 {
		f.now = f.now.Add(d)
	}
	f.sleeps = append(f.sleeps, d)
	now, hook := f.now, f.hook
	var due []*fakeDeadline
	for dl := range f.deadlines {
		if !now.Before(dl.at) {
			due = append(due, dl)
			delete(f.deadlines, dl)
		}
	}
	f.mu.Unlock()
	for _, dl := range due {
		dl.cancel(context.DeadlineExceeded)
	}
	if hook != nil {
		hook(ctx, d, now)
	}
	return ctx.Err()
}

// OnSleep sets a function called after each Sleep has moved the time forward.
func (f *Fake) OnSleep(h func(ctx context.Context, d time.Duration, now time.Time)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hook = h
}

// Sleeps returns every duration Sleep was called with, in order.
func (f *Fake) Sleeps() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.sleeps...)
}

// Elapsed returns how far the fake time has moved since start.
func (f *Fake) Elapsed(start time.Time) time.Duration { return f.Now().Sub(start) }
