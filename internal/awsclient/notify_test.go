package awsclient_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/rolloutdev/terraform-provider-rollout/internal/acctest"
	"github.com/rolloutdev/terraform-provider-rollout/internal/awsclient"
	"github.com/rolloutdev/terraform-provider-rollout/internal/clock"
	"github.com/rolloutdev/terraform-provider-rollout/internal/emulator"
	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
)

// These tests wait in real time: a publish is bounded by a real timeout
// around real HTTP requests to the emulator, which holds its answers back
// (emulator.Slow) in real time too.

// notifyClient is a client whose SNS and EventBridge are the emulator's,
// with a topic and a bus to publish to.
func notifyClient(t *testing.T) (e *acctest.Env, c *awsclient.Client, topic, bus string) {
	t.Helper()
	e = acctest.NewEnv(t)
	c, err := awsclient.New(context.Background(), awsclient.Config{Region: acctest.Region, MaxRetries: 1,
		Endpoints: awsclient.Endpoints{SNS: e.Emu.URL, EventBridge: e.Emu.URL}}, clock.Real{})
	if err != nil {
		t.Fatal(err)
	}
	topic, _ = e.SNSNotices("notices")
	bus = acctest.Name("notices")
	if _, err := c.Events.(*eventbridge.Client).CreateEventBus(context.Background(), &eventbridge.CreateEventBusInput{Name: aws.String(bus)}); err != nil {
		t.Fatal(err)
	}
	return e, c, topic, bus
}

func notice(seq int) rollout.Notice {
	return rollout.Notice{Version: rollout.NoticeVersion, Type: rollout.NoticeStepCompleted, Seq: seq, SubjectKind: "listener", SubjectID: "arn:aws:elasticloadbalancing:us-east-1:1:listener/app/x/1/2",
		Steps: 3, Step: seq, Before: map[string]int{}, After: map[string]int{}, Started: time.Unix(0, 0), At: time.Now()}
}

// Issue 27 (11): every notice not delivered when the wait ends is counted:
// the ones that failed, the one in flight, and the ones still queued.
// SNS holds every answer back 3 s, past the 2 s a publish may take: the
// first notice fails at 2 s, the second is in flight at 3 s, the third is
// queued.
func TestEveryUndeliveredNoticeIsCounted(t *testing.T) {
	t.Parallel()
	e, c, topic, _ := notifyClient(t)
	e.Emu.InjectFaults("sns", emulator.Faults{Rate: 1, Kinds: []emulator.Fault{emulator.Slow}, SlowBy: 3 * time.Second})
	n := c.NewNotifier(topic, "")
	for i := 1; i <= 3; i++ {
		if err := n.Notify(context.Background(), notice(i)); err != nil {
			t.Fatal(err)
		}
	}
	undelivered, last := n.Close(3 * time.Second)
	if undelivered != 3 {
		t.Fatalf("%d notices counted undelivered (last error %q); none was delivered: want 3 (one failed, one in flight, one queued)", undelivered, last)
	}
	if last == "" {
		t.Error("the failed publish's error is not reported")
	}
}

// Issue 27 (11): the wait at the end covers what was sent. With SNS and
// EventBridge each answering in 1.2 s (within the 2 s a publish may take),
// two notices take about 5 s to go out, longer than the orchestrator's
// 3 s: Drain says how long the queue may take, and a Close that waits
// that long delivers them all and counts none.
func TestDrainCoversWhatWasSent(t *testing.T) {
	t.Parallel()
	e, c, topic, bus := notifyClient(t)
	slow := emulator.Faults{Rate: 1, Kinds: []emulator.Fault{emulator.Slow}, SlowBy: 1200 * time.Millisecond}
	e.Emu.InjectFaults("sns", slow)
	e.Emu.InjectFaults("events", slow)
	n := c.NewNotifier(topic, bus)
	for i := 1; i <= 2; i++ {
		if err := n.Notify(context.Background(), notice(i)); err != nil {
			t.Fatal(err)
		}
	}
	wait := n.Drain()
	if want := 2 * 2 * awsclient.PublishTimeout; wait < want {
		t.Fatalf("Drain says the queue takes at most %s; two notices to SNS and EventBridge may take %s", wait, want)
	}
	undelivered, last := n.Close(wait)
	if undelivered != 0 {
		t.Fatalf("%d notices counted undelivered (%s) after waiting %s", undelivered, last, wait)
	}
	if p, pe := e.Emu.Count("sns:Publish"), e.Emu.Count("events:PutEvents"); p != 2 || pe != 2 {
		t.Fatalf("the emulator answered %d Publish and %d PutEvents; want both notices delivered to both", p, pe)
	}
}
