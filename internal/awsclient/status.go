package awsclient

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
)

// The status tag: where the last rollout of a subject stands, as its last
// notice but gate_failed said it (the rolled_back after it says more),
// written by whichever driver runs it before each wait and at the end
// (StatusKeeper).
// A tag value holds 256 characters: "<type> <step>/<steps> <time>
// [<execution>]".

// Status is what a status tag says.
type Status struct {
	Type      rollout.NoticeType
	Step      int
	Steps     int
	At        time.Time
	Execution string
}

// StatusValue is the status tag of a notice.
func StatusValue(n rollout.Notice) string {
	v := fmt.Sprintf("%s %d/%d %s", n.Type, n.Step, n.Steps, n.At.UTC().Format(time.RFC3339))
	if n.Execution != "" {
		v += " " + n.Execution[strings.LastIndex(n.Execution, ":")+1:]
	}
	return v
}

// ParseStatus reads a status tag; false when it is not one.
func ParseStatus(v string) (Status, bool) {
	f := strings.Fields(v)
	if len(f) < 3 || len(f) > 4 {
		return Status{}, false
	}
	var s Status
	if _, err := fmt.Sscanf(f[1], "%d/%d", &s.Step, &s.Steps); err != nil {
		return Status{}, false
	}
	at, err := time.Parse(time.RFC3339, f[2])
	if err != nil {
		return Status{}, false
	}
	s.Type, s.At = rollout.NoticeType(f[0]), at
	if len(f) == 4 {
		s.Execution = f[3]
	}
	return s, true
}

// StatusWriteTimeout bounds one status tag write.
const StatusWriteTimeout = 5 * time.Second

// StatusKeeper keeps a subject's status tag for a run: Record keeps the
// latest notice (a Runner's Status hook), Flush writes it when it changed
// (a Runner's Idle hook, and the driver at the end of the run or call). A
// run that does not wait writes once; a rollback never waits for a tag.
// A write that fails is logged, never fatal.
type StatusKeeper struct {
	store            LeaseStore
	log              func(msg string, err error)
	mu               sync.Mutex
	pending, written string
	disowned         bool
}

// Disown stops every later write: the subject is another owner's now (its
// tags are the new owner's to keep).
func (k *StatusKeeper) Disown() {
	k.mu.Lock()
	k.disowned = true
	k.mu.Unlock()
}

// NewStatusKeeper keeps store's status tag.
func NewStatusKeeper(store LeaseStore, log func(msg string, err error)) *StatusKeeper {
	return &StatusKeeper{store: store, log: log}
}

// Record keeps a notice's status (all but gate_failed: the rolled_back
// after it says more).
func (k *StatusKeeper) Record(_ context.Context, n rollout.Notice) {
	if n.Type == rollout.NoticeGateFailed {
		return
	}
	k.mu.Lock()
	k.pending = StatusValue(n)
	k.mu.Unlock()
}

// Dirty says whether Flush would write: the kept status is not the one
// written.
func (k *StatusKeeper) Dirty() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.pending != "" && k.pending != k.written && !k.disowned
}

// Flush writes the kept status if it is not the one written, on a
// context a cancelled apply does not cancel, bounded.
func (k *StatusKeeper) Flush(ctx context.Context) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.pending == "" || k.pending == k.written || k.disowned {
		return
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), StatusWriteTimeout)
	defer cancel()
	if err := k.store.SetStatus(wctx, k.pending); err != nil {
		if k.log != nil {
			k.log("recording the rollout's status on the subject failed", err)
		}
		return
	}
	k.written = k.pending
}
