package awsclient

import (
	"context"
	"testing"
	"time"

	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
)

func TestStatusValueRoundTrip(t *testing.T) {
	at := time.Date(2026, 11, 30, 3, 4, 5, 0, time.UTC)
	for _, n := range []rollout.Notice{
		{Type: rollout.NoticeHeld, Step: 1, Steps: 3, At: at},
		{Type: rollout.NoticeSucceeded, Step: 3, Steps: 3, At: at, Execution: "arn:aws:states:us-east-1:1:execution:sm:rollout-0123456789abcdef01234567"},
	} {
		v := StatusValue(n)
		if len(v) > 256 {
			t.Fatalf("%q is longer than a tag value may be", v)
		}
		s, ok := ParseStatus(v)
		if !ok || s.Type != n.Type || s.Step != n.Step || s.Steps != n.Steps || !s.At.Equal(at) {
			t.Fatalf("%q read back as %+v", v, s)
		}
		if n.Execution != "" && s.Execution != "rollout-0123456789abcdef01234567" {
			t.Fatalf("the execution of %q read back as %q", v, s.Execution)
		}
	}
	for _, bad := range []string{"", "held", "held x/3 2026-11-30T03:04:05Z", "held 1/3 yesterday", "a 1/2 2026-11-30T03:04:05Z e extra"} {
		if _, ok := ParseStatus(bad); ok {
			t.Fatalf("%q was read as a status", bad)
		}
	}
}

// fakeStatusStore counts status writes.
type fakeStatusStore struct {
	LeaseStore
	writes []string
}

func (f *fakeStatusStore) SetStatus(_ context.Context, s string) error {
	f.writes = append(f.writes, s)
	return nil
}

// A keeper writes the latest status once per flush, only when it changed,
// and never for gate_failed.
func TestStatusKeeperWritesTheLatestOnce(t *testing.T) {
	at := time.Date(2026, 11, 30, 3, 4, 5, 0, time.UTC)
	store := &fakeStatusStore{}
	k := NewStatusKeeper(store, nil)
	ctx := context.Background()
	k.Record(ctx, rollout.Notice{Type: rollout.NoticeStarted, Steps: 2, At: at})
	k.Record(ctx, rollout.Notice{Type: rollout.NoticeStepCompleted, Step: 1, Steps: 2, At: at})
	k.Flush(ctx)
	k.Flush(ctx)
	k.Record(ctx, rollout.Notice{Type: rollout.NoticeGateFailed, Step: 2, Steps: 2, At: at})
	k.Flush(ctx)
	k.Record(ctx, rollout.Notice{Type: rollout.NoticeRolledBack, Step: 2, Steps: 2, At: at})
	k.Flush(ctx)
	want := []string{"step_completed 1/2 2026-11-30T03:04:05Z", "rolled_back 2/2 2026-11-30T03:04:05Z"}
	if len(store.writes) != len(want) || store.writes[0] != want[0] || store.writes[1] != want[1] {
		t.Fatalf("the status was written %q, want %q", store.writes, want)
	}
}
