package awsclient

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
)

// The status tag: where the last rollout of a subject stands, written at
// each of its notices but gate_failed (the rolled_back after it says more,
// and the rollback must not wait for a tag), by whichever driver runs it.
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

// StatusRecorder is a Runner's Status hook that keeps store's status tag.
// It writes on a context that a cancelled apply does not cancel, bounded,
// and never fails the run (log says why a write failed).
func StatusRecorder(store LeaseStore, log func(msg string, err error)) func(ctx context.Context, n rollout.Notice) {
	return func(ctx context.Context, n rollout.Notice) {
		if n.Type == rollout.NoticeGateFailed {
			return
		}
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), StatusWriteTimeout)
		defer cancel()
		if err := store.SetStatus(wctx, StatusValue(n)); err != nil && log != nil {
			log("recording the rollout's status on the subject failed", err)
		}
	}
}
