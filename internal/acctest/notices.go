package acctest

import (
	"context"
	"encoding/json"
	"fmt"
	neturl "net/url"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout/noticeschema"
)

// Notice queues: an SQS queue subscribed to an SNS topic, and one that an
// EventBridge rule (source "rollout") targets, read back as notices.

func (e *Env) awsConfig() aws.Config {
	return aws.Config{Region: Region, Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")}
}

func (e *Env) sqsClient() *sqs.Client {
	return sqs.NewFromConfig(e.awsConfig(), func(o *sqs.Options) { o.BaseEndpoint = aws.String(e.Emu.URL) })
}

// NoticeQueue reads the notices that reach one SQS queue.
type NoticeQueue struct {
	e   *Env
	url string
	// envelope: "sns" (a JSON SNS notification whose Message is the
	// notice) or "events" (an EventBridge event whose detail is).
	envelope string
	got      []rollout.Notice
	types    []string
	// published is each SNS message the emulator's front took for the
	// topic, as it arrived: what the provider and the orchestrator
	// published (kumo's delivery to the queue is lossy while other
	// emulators start in the same process).
	mu        sync.Mutex
	published []string
}

func (e *Env) queue(name string) (url, arn string) {
	e.T.Helper()
	c := e.sqsClient()
	q, err := c.CreateQueue(e.ctx(), &sqs.CreateQueueInput{QueueName: aws.String(name)})
	if err != nil {
		e.T.Fatalf("CreateQueue: %v", err)
	}
	a, err := c.GetQueueAttributes(e.ctx(), &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		e.T.Fatalf("GetQueueAttributes: %v", err)
	}
	return aws.ToString(q.QueueUrl), a.Attributes["QueueArn"]
}

// SNSNotices makes a topic with a queue subscribed to it, and returns the
// topic's ARN and the queue. Its Read returns what the emulator's front
// took for the topic: the publishes themselves, which kumo's delivery to
// the queue sometimes loses while other emulators start in the process.
func (e *Env) SNSNotices(prefix string) (string, *NoticeQueue) {
	e.T.Helper()
	c := sns.NewFromConfig(e.awsConfig(), func(o *sns.Options) { o.BaseEndpoint = aws.String(e.Emu.URL) })
	t, err := c.CreateTopic(e.ctx(), &sns.CreateTopicInput{Name: aws.String(Name(prefix))})
	if err != nil {
		e.T.Fatalf("CreateTopic: %v", err)
	}
	url, arn := e.queue(Name(prefix + "-q"))
	if _, err := c.Subscribe(e.ctx(), &sns.SubscribeInput{TopicArn: t.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String(arn)}); err != nil {
		e.T.Fatalf("Subscribe: %v", err)
	}
	q := &NoticeQueue{e: e, url: url, envelope: "sns"}
	topic := aws.ToString(t.TopicArn)
	e.Emu.OnRequest(func(action string, form neturl.Values) {
		if action == "sns:Publish" && form.Get("TopicArn") == topic {
			q.mu.Lock()
			q.published = append(q.published, form.Get("Message"))
			q.mu.Unlock()
		}
	})
	return topic, q
}

// EventNotices makes a bus with a rule matching source "rollout" whose
// target is a queue, and returns the bus's name and the queue. kumo's
// EventBridge delivers through the emulator's bridge (ServeStates).
func (e *Env) EventNotices(prefix string) (string, *NoticeQueue) {
	e.T.Helper()
	e.ServeStates()
	c := eventbridge.NewFromConfig(e.awsConfig(), func(o *eventbridge.Options) { o.BaseEndpoint = aws.String(e.Emu.URL) })
	bus := Name(prefix)
	if _, err := c.CreateEventBus(e.ctx(), &eventbridge.CreateEventBusInput{Name: aws.String(bus)}); err != nil {
		e.T.Fatalf("CreateEventBus: %v", err)
	}
	url, arn := e.queue(Name(prefix + "-q"))
	rule := Name(prefix + "-rule")
	if _, err := c.PutRule(e.ctx(), &eventbridge.PutRuleInput{Name: aws.String(rule), EventBusName: aws.String(bus), EventPattern: aws.String(`{"source":["rollout"]}`)}); err != nil {
		e.T.Fatalf("PutRule: %v", err)
	}
	if _, err := c.PutTargets(e.ctx(), &eventbridge.PutTargetsInput{Rule: aws.String(rule), EventBusName: aws.String(bus),
		Targets: []ebtypes.Target{{Id: aws.String("q"), Arn: aws.String(arn)}}}); err != nil {
		e.T.Fatalf("PutTargets: %v", err)
	}
	return bus, &NoticeQueue{e: e, url: url, envelope: "events"}
}

// Read receives what reached the queue until want notices have, or a
// few seconds pass (delivery is another goroutine's), and returns all the
// notices read so far, in the order they happened (by seq), with their EventBridge detail-types. Each
// must follow the schema the docs publish.
func (q *NoticeQueue) Read(want int) ([]rollout.Notice, []string) {
	q.e.T.Helper()
	if q.envelope == "sns" {
		return q.readPublished(want)
	}
	c := q.e.sqsClient()
	end := time.Now().Add(5 * time.Second)
	for len(q.got) < want && time.Now().Before(end) {
		out, err := c.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(q.url), MaxNumberOfMessages: 10})
		if err != nil {
			q.e.T.Fatalf("ReceiveMessage: %v", err)
		}
		for _, m := range out.Messages {
			body := aws.ToString(m.Body)
			var raw json.RawMessage
			switch q.envelope {
			case "sns":
				var env struct{ Message string }
				if err := json.Unmarshal([]byte(body), &env); err != nil || env.Message == "" {
					q.e.T.Fatalf("an SNS delivery that is not a notification: %s", body)
				}
				raw = json.RawMessage(env.Message)
				q.types = append(q.types, "")
			default:
				var ev struct {
					Source     string          `json:"source"`
					DetailType string          `json:"detail-type"`
					Detail     json.RawMessage `json:"detail"`
				}
				if err := json.Unmarshal([]byte(body), &ev); err != nil || ev.Source != "rollout" {
					q.e.T.Fatalf("an EventBridge delivery that is not a rollout event: %s", body)
				}
				raw = ev.Detail
				q.types = append(q.types, ev.DetailType)
			}
			if err := noticeschema.Check(raw); err != nil {
				q.e.T.Fatalf("%v", err) // what was published follows the published schema
			}
			var n rollout.Notice
			if err := json.Unmarshal(raw, &n); err != nil {
				q.e.T.Fatalf("a notice that is not JSON: %s", raw)
			}
			q.got = append(q.got, n)
			_, _ = c.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(q.url), ReceiptHandle: m.ReceiptHandle})
		}
		if len(out.Messages) == 0 {
			time.Sleep(50 * time.Millisecond) // delivery is another goroutine's: real time
		}
	}
	return q.sorted()
}

// readPublished is Read for a topic: the notices its front took, once
// want have come or a few seconds pass (the orchestrator publishes from
// another process: real time).
func (q *NoticeQueue) readPublished(want int) ([]rollout.Notice, []string) {
	q.e.T.Helper()
	end := time.Now().Add(5 * time.Second)
	for {
		q.mu.Lock()
		msgs := append([]string(nil), q.published...)
		q.mu.Unlock()
		if len(msgs) >= want || !time.Now().Before(end) {
			q.got, q.types = nil, nil
			for _, m := range msgs {
				if err := noticeschema.Check(json.RawMessage(m)); err != nil {
					q.e.T.Fatalf("%v", err) // what was published follows the published schema
				}
				var n rollout.Notice
				if err := json.Unmarshal([]byte(m), &n); err != nil {
					q.e.T.Fatalf("a notice that is not JSON: %s", m)
				}
				q.got, q.types = append(q.got, n), append(q.types, "")
			}
			return q.sorted()
		}
		time.Sleep(20 * time.Millisecond) // another process publishes: real time
	}
}

// sorted orders what was read as a reader does: SNS and EventBridge keep
// no order, so each run's notices (by started_at) by their seq, as the
// guide says.
func (q *NoticeQueue) sorted() ([]rollout.Notice, []string) {
	idx := make([]int, len(q.got))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool {
		x, y := q.got[idx[a]], q.got[idx[b]]
		if !x.Started.Equal(y.Started) {
			return x.Started.Before(y.Started)
		}
		return x.Seq < y.Seq
	})
	got, types := make([]rollout.Notice, len(idx)), make([]string, len(idx))
	for i, j := range idx {
		got[i], types[i] = q.got[j], q.types[j]
	}
	q.got, q.types = got, types
	return q.got, q.types
}

// Kinds is "type@step" for each notice.
func Kinds(ns []rollout.Notice) []string {
	var out []string
	for _, n := range ns {
		out = append(out, fmt.Sprintf("%s@%d", n.Type, n.Step))
	}
	return out
}
