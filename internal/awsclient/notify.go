package awsclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/rolloutdev/terraform-provider-rollout/internal/clock"
	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
)

// Notices go out to SNS and EventBridge from a queue, in order, on their
// own goroutine: a rollback never waits for a publish. Each publish is
// bounded (PublishTimeout to each destination, one SDK retry), so Drain
// can say how long what is left can take; Close waits a bounded time for
// the queue and counts every notice that did not go out: failed, in
// flight, or still queued.

// NoticeSource is the EventBridge source of the notices.
const NoticeSource = "rollout"

// PublishTimeout bounds one publish.
const PublishTimeout = 2 * time.Second

// DetailType is the EventBridge detail-type of a notice: "Rollout Gate
// Failed" for gate_failed, and so on.
func DetailType(t rollout.NoticeType) string {
	words := strings.Split(string(t), "_")
	for i, w := range words {
		words[i] = strings.ToUpper(w[:1]) + w[1:]
	}
	return "Rollout " + strings.Join(words, " ")
}

// Notifier publishes a run's notices.
type Notifier struct {
	c         *Client
	topic     string
	bus       string
	queue     chan rollout.Notice
	done      chan struct{}
	mu        sync.Mutex
	failed    int
	lastError string
	closed    bool
	// pending counts the notices taken and not yet delivered or failed:
	// queued, or in flight.
	pending int
}

// NewNotifier starts a notifier publishing to an SNS topic, an EventBridge
// bus, or both ("" for neither).
func (c *Client) NewNotifier(topic, bus string) *Notifier {
	n := &Notifier{c: c, topic: topic, bus: bus, queue: make(chan rollout.Notice, 256), done: make(chan struct{})}
	go n.run()
	return n
}

// Notify queues a notice; it never blocks.
func (n *Notifier) Notify(_ context.Context, no rollout.Notice) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return errors.New("the notifier is closed")
	}
	select {
	case n.queue <- no:
		n.pending++
		return nil
	default:
		return errors.New("the notice queue is full")
	}
}

func (n *Notifier) run() {
	defer close(n.done)
	for no := range n.queue {
		err := n.publish(no)
		n.mu.Lock()
		n.pending--
		if err != nil {
			n.failed++
			n.lastError = err.Error()
		}
		n.mu.Unlock()
	}
}

// drainSlack is what Drain adds for the goroutine's own time around the
// bounded publishes.
const drainSlack = 500 * time.Millisecond

// Drain is how long delivering every notice taken and not yet delivered
// (queued, or in flight) can take at most: each publish to each
// destination is bounded by PublishTimeout. A driver that ends waits this
// long (Close) so that what it sent goes out, or is counted.
func (n *Notifier) Drain() time.Duration {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.pending == 0 {
		return 0
	}
	dests := 0
	for _, d := range []string{n.topic, n.bus} {
		if d != "" {
			dests++
		}
	}
	return time.Duration(n.pending*dests)*PublishTimeout + drainSlack
}

func (n *Notifier) publish(no rollout.Notice) error {
	body, err := json.Marshal(no)
	if err != nil {
		return err
	}
	var errs []error
	if n.topic != "" {
		ctx, cancel := n.bound()
		_, err := n.c.SNS.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(n.topic), Message: aws.String(string(body)),
			Subject: aws.String(subjectOf(no)),
			MessageAttributes: map[string]snstypes.MessageAttributeValue{
				"type":         {DataType: aws.String("String"), StringValue: aws.String(string(no.Type))},
				"subject_kind": {DataType: aws.String("String"), StringValue: aws.String(no.SubjectKind)},
			}}, func(o *sns.Options) { o.RetryMaxAttempts = 2 })
		cancel()
		if err != nil {
			errs = append(errs, fmt.Errorf("SNS %s: %w", n.topic, err))
		}
	}
	if n.bus != "" {
		ctx, cancel := n.bound()
		out, err := n.c.Events.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{{
			EventBusName: aws.String(n.bus), Source: aws.String(NoticeSource), DetailType: aws.String(DetailType(no.Type)),
			Detail: aws.String(string(body)), Resources: []string{no.SubjectID}, Time: aws.Time(no.At),
		}}}, func(o *eventbridge.Options) { o.RetryMaxAttempts = 2 })
		cancel()
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("EventBridge %s: %w", n.bus, err))
		case out.FailedEntryCount > 0:
			errs = append(errs, fmt.Errorf("EventBridge %s refused the event: %s", n.bus, aws.ToString(out.Entries[0].ErrorMessage)))
		}
	}
	return errors.Join(errs...)
}

// bound is the context of one publish: PublishTimeout from now on the
// client's NoticeClock (the real clock unless a test gives another).
func (n *Notifier) bound() (context.Context, context.CancelFunc) {
	var clk clock.Clock = clock.Real{}
	if n.c.NoticeClock != nil {
		clk = n.c.NoticeClock
	}
	return clk.WithDeadline(context.Background(), clk.Now().Add(PublishTimeout))
}

// subjectOf is a notice's SNS subject (at most 100 characters).
func subjectOf(no rollout.Notice) string {
	s := fmt.Sprintf("rollout %s: %s %s", no.Type, no.SubjectKind, no.SubjectID)
	if len(s) > 100 {
		s = s[:97] + "..."
	}
	return s
}

// Close stops taking notices and waits up to wait for the queue (Drain
// says how long it can take). It returns how many were not delivered
// (failed, in flight when the wait ended, or still queued), and the last
// error.
func (n *Notifier) Close(wait time.Duration) (undelivered int, lastError string) {
	n.mu.Lock()
	if !n.closed {
		n.closed = true
		close(n.queue)
	}
	n.mu.Unlock()
	select {
	case <-n.done:
	case <-time.After(wait):
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.failed + n.pending, n.lastError
}
