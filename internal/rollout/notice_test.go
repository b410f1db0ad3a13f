package rollout

import (
	"context"
	"testing"
	"time"

	"github.com/rolloutdev/terraform-provider-rollout/internal/clock"
)

// A notice is the run's at the moment it was sent: the notifier encodes it
// on a goroutine of its own while the run goes on, and a rollback that
// then rewrites its failure's reason (a change found on the way back) must
// not change, or race with, the notice already sent (found by the
// model-based checker under -race).
func TestNoticeOwnsItsFailure(t *testing.T) {
	var sent []Notice
	r := &Runner{Clock: clock.NewFake(time.Unix(0, 0)), Notify: func(_ context.Context, n Notice) error { sent = append(sent, n); return nil }}
	p := &Progress{}
	p.Res.Failure = &Failure{Gate: GateAlarm, Reason: "the alarm fired", Reading: map[string]string{"alarm": "ALARM"}}
	r.notify(context.Background(), p, NoticeGateFailed, 1, nil)
	p.Res.Failure.Reason = "while rolling back: someone changed it"
	p.Res.Failure.Reading["alarm"] = "OK"
	if f := sent[0].Failure; f == nil || f.Reason != "the alarm fired" || f.Reading["alarm"] != "ALARM" {
		t.Fatalf("the notice sent says %+v: the run's later failure leaked into it", f)
	}
}
