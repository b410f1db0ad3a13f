package clock

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestFakeAdvancesAndCallsHook(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := NewFake(start)
	var seen []time.Time
	f.OnSleep(func(_ context.Context, _ time.Duration, now time.Time) { seen = append(seen, now) })
	ctx := context.Background()
	if err := f.Sleep(ctx, time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := f.Sleep(ctx, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	if got := f.Elapsed(start); got != 90*time.Second {
		t.Fatalf("Elapsed = %v, want 1m30s", got)
	}
	if len(seen) != 2 || !seen[1].Equal(start.Add(90*time.Second)) {
		t.Fatalf("hook saw %v", seen)
	}
	if got := f.Sleeps(); len(got) != 2 || got[0] != time.Minute {
		t.Fatalf("Sleeps = %v", got)
	}
}

func TestFakeHonoursCancellation(t *testing.T) {
	f := NewFake(time.Unix(0, 0))
	ctx, cancel := context.WithCancel(context.Background())
	f.OnSleep(func(context.Context, time.Duration, time.Time) { cancel() })
	if err := f.Sleep(ctx, time.Second); !errors.Is(err, context.Canceled) {
		t.Fatalf("Sleep after cancel in hook = %v, want context.Canceled", err)
	}
	if err := f.Sleep(ctx, time.Second); !errors.Is(err, context.Canceled) {
		t.Fatalf("Sleep on a done context = %v", err)
	}
	if f.Elapsed(time.Unix(0, 0)) != time.Second {
		t.Fatal("a sleep on a done context must not move the time")
	}
}

func TestRealSleepCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := (Real{}).Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("Real.Sleep on a cancelled context = %v", err)
	}
	if err := (Real{}).Sleep(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
}

func TestFakeDeadlineEndsContextWhenTimePasses(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := NewFake(start)
	ctx, cancel := f.WithDeadline(context.Background(), start.Add(10*time.Minute))
	defer cancel()
	if err := f.Sleep(ctx, 9*time.Minute); err != nil {
		t.Fatalf("before the deadline: %v", err)
	}
	if err := f.Sleep(ctx, 20*time.Minute); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a sleep past the deadline returned %v, want context.DeadlineExceeded", err)
	}
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("ctx.Err() = %v", ctx.Err())
	}
	// A deadline already passed is done at once; one far away stays open.
	past, c2 := f.WithDeadline(context.Background(), start)
	defer c2()
	if !errors.Is(past.Err(), context.DeadlineExceeded) {
		t.Fatalf("past deadline: %v", past.Err())
	}
	later, c3 := f.WithDeadline(context.Background(), f.Now().Add(time.Hour))
	c3()
	if errors.Is(later.Err(), context.DeadlineExceeded) {
		t.Fatal("a cancelled context reported its deadline as passed")
	}
}

func TestRealDeadline(t *testing.T) {
	ctx, cancel := Real{}.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("ctx.Err() = %v", ctx.Err())
	}
}
