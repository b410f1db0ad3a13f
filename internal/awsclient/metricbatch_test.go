package awsclient

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
)

// minutes answers GetMetricData with one datapoint a minute for every
// query (1, 10, 100, 1000 at minutes 0, 1, 5 and 6), recording requests.
type minutes struct {
	CloudWatchAPI
	mu    sync.Mutex
	calls []*cloudwatch.GetMetricDataInput
}

func (m *minutes) GetMetricData(_ context.Context, in *cloudwatch.GetMetricDataInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls = append(m.calls, in)
	at := func(m int) time.Time { return time.Unix(0, 0).Add(time.Duration(m) * time.Minute) }
	out := &cloudwatch.GetMetricDataOutput{}
	for _, q := range in.MetricDataQueries {
		out.MetricDataResults = append(out.MetricDataResults, cwtypes.MetricDataResult{Id: q.Id,
			Timestamps: []time.Time{at(0), at(1), at(5), at(6)}, Values: []float64{1, 10, 100, 1000}})
	}
	return out, nil
}

// The metric gates read meanwhile are one GetMetricData over their
// windows' union at one-minute periods, and each gate keeps the minutes
// of its own window, from the minute it starts in.
func TestMetricReadsAreOneRequest(t *testing.T) {
	clk := &heldClock{now: time.Unix(0, 0), sleeping: make(chan struct{}, 1)}
	release := clk.hold()
	cw := &minutes{}
	c := &Client{CloudWatch: cw, Pacer: NewPacer(clk, DefaultBudgets)}
	t0 := time.Unix(0, 0)
	windows := [][2]time.Time{
		{t0.Add(30 * time.Second), t0.Add(90 * time.Second)},                             // minutes 0 and 1
		{t0.Add(5*time.Minute + 10*time.Second), t0.Add(370 * time.Second)},              // minutes 5 and 6
		{t0.Add(5*time.Minute + 10*time.Second), t0.Add(5*time.Minute + 20*time.Second)}, // minute 5
	}
	got := make([]rollout.Metrics, len(windows))
	var wg sync.WaitGroup
	for i, w := range windows {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dims := []cwtypes.Dimension{{Name: aws.String("TargetGroup"), Value: aws.String("targetgroup/tg" + string(rune('a'+i)) + "/1")}}
			m, err := c.WindowMetrics(context.Background(), "AWS/ApplicationELB", dims, w[0], w[1], []MetricQuery{
				{Metric: "RequestCount", Stat: "Sum", Into: AddRequests}, {Metric: "HTTPCode_Target_5XX_Count", Stat: "Sum", Into: AddErrors},
				{Metric: "TargetResponseTime", Stat: "p99", Into: MaxP99},
			})
			if err != nil {
				t.Error(err)
			}
			got[i] = m
		}()
		if i == 0 {
			<-clk.sleeping // the first read waits for others
		}
	}
	for {
		b := c.metricBatches()
		b.mu.Lock()
		n := 0
		if b.pending != nil {
			n = len(b.pending.asks)
		}
		b.mu.Unlock()
		if n == len(windows) {
			break
		}
		time.Sleep(time.Millisecond) // other goroutines: real time
	}
	close(release)
	wg.Wait()
	if len(cw.calls) != 1 || len(cw.calls[0].MetricDataQueries) != 9 {
		t.Fatalf("three metric gates made %d requests", len(cw.calls))
	}
	in := cw.calls[0]
	if !aws.ToTime(in.StartTime).Equal(t0) || !aws.ToTime(in.EndTime).Equal(windows[1][1]) || aws.ToInt32(in.MetricDataQueries[0].MetricStat.Period) != 60 {
		t.Fatalf("the request read %v to %v at %ds", in.StartTime, in.EndTime, aws.ToInt32(in.MetricDataQueries[0].MetricStat.Period))
	}
	for i, want := range []float64{11, 1100, 100} {
		if got[i].Requests != want || got[i].Errors5xx != want || !got[i].HasP99 {
			t.Fatalf("gate %d read %+v, want %v requests and errors", i, got[i], want)
		}
	}
	if reads, calls := c.BatchedMetricReads(); reads != 3 || calls != 1 {
		t.Fatalf("the client counted %d reads in %d requests", reads, calls)
	}
}
