package awsclient

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/rolloutdev/terraform-provider-rollout/internal/clock"
	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
)

// alarmsAfter answers DescribeAlarms with every alarm OK, and ALARM from
// its nth call.
type alarmsAfter struct {
	CloudWatchAPI
	n     int
	calls atomic.Int64
}

func (a *alarmsAfter) DescribeAlarms(_ context.Context, in *cloudwatch.DescribeAlarmsInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error) {
	state := cwtypes.StateValueOk
	if int(a.calls.Add(1)) >= a.n {
		state = cwtypes.StateValueAlarm
	}
	out := &cloudwatch.DescribeAlarmsOutput{}
	for _, n := range in.AlarmNames {
		out.MetricAlarms = append(out.MetricAlarms, cwtypes.MetricAlarm{AlarmName: aws.String(n), StateValue: state})
	}
	return out, nil
}

// The watch of a rollout's alarms fires once an alarm is in ALARM, reading
// through the shared readings (a request when they are older than
// ReadingMaxAge); it stops when ended; a
// client without a pacer watches nothing (nothing waits its turn there).
func TestWatchAlarms(t *testing.T) {
	clk := clock.NewFake(time.Unix(0, 0))
	cw := &alarmsAfter{n: 3}
	c := &Client{CloudWatch: cw, Clock: clk, Pacer: NewPacer(clk, DefaultBudgets)}
	var fired atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	end := SharedAlarms{c}.WatchAlarms(context.Background(), []string{"api-5xx"}, time.Second, func() { fired.Add(1); wg.Done() })
	wg.Wait()
	end()
	if fired.Load() != 1 || cw.calls.Load() != 3 {
		t.Fatalf("the watch fired %d times after %d DescribeAlarms, want once after 3", fired.Load(), cw.calls.Load())
	}
	if el := clk.Elapsed(time.Unix(0, 0)); el < 2*ReadingMaxAge {
		t.Fatalf("the watch made 3 requests in %s: it does not share the readings", el)
	}

	quiet := &alarmsAfter{n: 1 << 30}
	c = &Client{CloudWatch: quiet, Clock: clk, Pacer: NewPacer(clk, DefaultBudgets)}
	end = SharedAlarms{c}.WatchAlarms(context.Background(), []string{"api-5xx"}, time.Second, func() { t.Error("fired with every alarm OK") })
	for quiet.calls.Load() < 2 {
		time.Sleep(time.Millisecond) // the watch is another goroutine: real time
	}
	end() // returns once the watch's goroutine has ended

	c = &Client{CloudWatch: cw, Clock: clk}
	SharedAlarms{c}.WatchAlarms(context.Background(), []string{"api-5xx"}, time.Second, func() { t.Error("an unpaced client watched") })()
}

// heldAlarms answers DescribeAlarms once released, recording how many
// requests it had.
type heldAlarms struct {
	CloudWatchAPI
	release chan struct{}
	calls   atomic.Int64
}

func (h *heldAlarms) DescribeAlarms(ctx context.Context, in *cloudwatch.DescribeAlarmsInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error) {
	h.calls.Add(1)
	select {
	case <-h.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	out := &cloudwatch.DescribeAlarmsOutput{}
	for _, n := range in.AlarmNames {
		out.MetricAlarms = append(out.MetricAlarms, cwtypes.MetricAlarm{AlarmName: aws.String(n), StateValue: cwtypes.StateValueOk})
	}
	return out, nil
}

// A shared fetch is every waiting rollout's: when the rollout that started
// it stops waiting (its watch ended), the others still get its reading,
// from the one request.
func TestSharedFetchOutlivesItsStarter(t *testing.T) {
	cw := &heldAlarms{release: make(chan struct{})}
	c := &Client{CloudWatch: cw, Clock: clock.NewFake(time.Unix(0, 0))}
	ctx, cancel := context.WithCancel(context.Background())
	first := make(chan error, 1)
	go func() { _, err := (SharedAlarms{c}).AlarmStates(ctx, []string{"a"}); first <- err }()
	for cw.calls.Load() == 0 {
		time.Sleep(time.Millisecond) // the fetch is another goroutine's: real time
	}
	second := make(chan error, 1)
	var got []string
	go func() {
		states, err := (SharedAlarms{c}).AlarmStates(context.Background(), []string{"a"})
		for _, s := range states {
			got = append(got, s.Name+"="+s.State)
		}
		second <- err
	}()
	cancel()
	if err := <-first; err == nil {
		t.Fatal("the starter's read did not end with its context")
	}
	close(cw.release)
	if err := <-second; err != nil || len(got) != 1 || got[0] != "a=OK" || cw.calls.Load() != 1 {
		t.Fatalf("the other rollout read %v, %v after %d requests; want a=OK from the one request", got, err, cw.calls.Load())
	}
}

// Under a budget the alarms' reading is fetched at most once per
// ReadingMaxAge: a rollout whose alarm is not in the last reading waits
// for the next; a rollback's read does not wait.
func TestAlarmFetchesAreSpaced(t *testing.T) {
	clk := clock.NewFake(time.Unix(0, 0))
	cw := &alarmsAfter{n: 1 << 30}
	c := &Client{CloudWatch: cw, Clock: clk, Pacer: NewPacer(clk, DefaultBudgets)}
	ctx := context.Background()
	if _, err := (SharedAlarms{c}).AlarmStates(ctx, []string{"a"}); err != nil || cw.calls.Load() != 1 {
		t.Fatalf("the first read: %v, %d requests", err, cw.calls.Load())
	}
	if st, err := (SharedAlarms{c}).AlarmStates(ctx, []string{"b"}); err != nil || len(st) != 1 || cw.calls.Load() != 2 {
		t.Fatalf("a new alarm's read: %v, %v, %d requests", st, err, cw.calls.Load())
	}
	if el := clk.Elapsed(time.Unix(0, 0)); el < ReadingMaxAge {
		t.Fatalf("the second fetch came %s after the first, want at least %s", el, ReadingMaxAge)
	}
	before := clk.Now()
	if _, err := (SharedAlarms{c}).AlarmStates(rollout.Urgent(ctx), []string{"c"}); err != nil || clk.Now() != before || cw.calls.Load() != 3 {
		t.Fatalf("a rollback's read waited %s (%v, %d requests)", clk.Now().Sub(before), err, cw.calls.Load())
	}
}
