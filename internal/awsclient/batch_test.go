package awsclient

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/smithy-go"

	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
)

// heldClock is a clock whose sleeps wait until the test lets them go: the
// time a request waits for its turn in the budget.
type heldClock struct {
	mu       sync.Mutex
	now      time.Time
	sleeping chan struct{}
	release  chan struct{}
}

func (c *heldClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *heldClock) Sleep(ctx context.Context, d time.Duration) error {
	select { // says it sleeps, once until the test reads it
	case c.sleeping <- struct{}{}:
	default:
	}
	c.mu.Lock()
	release := c.release
	c.mu.Unlock()
	select {
	case <-release:
	case <-ctx.Done():
		return ctx.Err()
	}
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
	return nil
}

// hold makes the sleeps from now on wait for the test's release.
func (c *heldClock) hold() chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(c.sleeping) > 0 {
		<-c.sleeping
	}
	c.release = make(chan struct{})
	return c.release
}

func (c *heldClock) WithDeadline(ctx context.Context, t time.Time) (context.Context, context.CancelFunc) {
	return context.WithDeadline(ctx, t)
}

// listeners answers DescribeListeners for the listeners it has (a
// missing one fails the whole request, as AWS does), recording each
// request's ARNs.
type listeners struct {
	ELBAPI
	mu    sync.Mutex
	have  map[string]bool
	calls [][]string
}

func (l *listeners) DescribeListeners(_ context.Context, in *elb.DescribeListenersInput, _ ...func(*elb.Options)) (*elb.DescribeListenersOutput, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, append([]string(nil), in.ListenerArns...))
	out := &elb.DescribeListenersOutput{}
	for _, a := range in.ListenerArns {
		if !l.have[a] {
			return nil, &smithy.GenericAPIError{Code: "ListenerNotFound", Message: "Listener '" + a + "' not found"}
		}
		out.Listeners = append(out.Listeners, types.Listener{ListenerArn: aws.String(a), DefaultActions: []types.Action{
			{Type: types.ActionTypeEnumForward, TargetGroupArn: aws.String("tg-of-" + a)}}})
	}
	return out, nil
}

// The reads waiting for their turn together are one DescribeListeners,
// each answered with its own listener; a batch failed by one deleted
// listener is read again one by one; a rollback's read never waits for a
// batch; nothing is batched without a budget.
func TestReadsWaitingTogetherAreOneRequest(t *testing.T) {
	clk := &heldClock{now: time.Unix(0, 0), sleeping: make(chan struct{}, 1)}
	api := &listeners{have: map[string]bool{"l1": true, "l2": true, "l3": true}}
	c := &Client{ELB: api, Pacer: NewPacer(clk, map[string]Budget{ClassELBDescribe: {PerSecond: 1, Burst: 1}})}
	ctx := context.Background()
	if err := c.Pacer.Wait(ctx, ClassELBDescribe); err != nil { // the bucket is empty
		t.Fatal(err)
	}
	read := func(arns ...string) map[string]error {
		release := clk.hold()
		var mu sync.Mutex
		got := map[string]error{}
		var wg sync.WaitGroup
		for i, a := range arns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				acts, err := c.ReadActions(ctx, Ref{ListenerARN: a})
				if err == nil && aws.ToString(acts[0].TargetGroupArn) != "tg-of-"+a {
					err = errors.New("the answer of another listener")
				}
				mu.Lock()
				got[a] = err
				mu.Unlock()
			}()
			if i == 0 {
				<-clk.sleeping // the first read waits for its turn
			}
		}
		for { // the others join it
			b := c.batches()
			b.mu.Lock()
			n := 0
			if p := b.pending[false]; p != nil {
				n = len(p.arns)
			}
			b.mu.Unlock()
			if n == len(arns) {
				break
			}
			time.Sleep(time.Millisecond) // other goroutines: real time
		}
		close(release)
		wg.Wait()
		return got
	}

	got := read("l1", "l2", "l3")
	if len(api.calls) != 1 || len(api.calls[0]) != 3 || got["l1"] != nil || got["l2"] != nil || got["l3"] != nil {
		t.Fatalf("three reads waiting together made requests %v and got %v; want one request for the three", api.calls, got)
	}
	if reads, calls := c.BatchedReads(); reads != 3 || calls != 1 {
		t.Fatalf("the client counted %d reads in %d requests", reads, calls)
	}

	// l9 was deleted: the batch fails, and each read is made on its own.
	api.calls = nil
	got = read("l1", "l9")
	if !errors.Is(got["l9"], ErrNotFound) || got["l1"] != nil || len(api.calls) != 3 {
		t.Fatalf("a batch with a deleted listener got %v in requests %v; want l1 read and l9 not found, on their own", got, api.calls)
	}

	// A rollback's read goes at once, on its own.
	api.calls = nil
	if _, err := c.ReadActions(rollout.Urgent(ctx), Ref{ListenerARN: "l2"}); err != nil || len(api.calls) != 1 {
		t.Fatalf("an urgent read: %v, requests %v", err, api.calls)
	}
	c = &Client{ELB: api}
	if _, err := c.ReadActions(ctx, Ref{ListenerARN: "l3"}); err != nil {
		t.Fatal(err)
	}
	if reads, _ := c.BatchedReads(); reads != 0 {
		t.Fatal("an unpaced client batched its reads")
	}
}
