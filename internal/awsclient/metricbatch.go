package awsclient

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
)

// Batched metric reads: under an API budget, the metric gates of every
// rollout of the provider read within MetricsBatchWait of each other are
// one GetMetricData (up to MaxMetricQueries queries) over the union of
// their windows at one-minute periods, the resolution of the load
// balancer's and Lambda's metrics; each gate then keeps the datapoints of
// its own window, from the minute its window starts in. A metric gate is
// read long after its pause (the metrics delay), so waiting two seconds
// for the others costs nothing that matters.

// MetricsBatchWait is how long a metric read waits for others to join it.
const MetricsBatchWait = 2 * time.Second

// MaxMetricQueries is GetMetricData's limit of queries a request.
const MaxMetricQueries = 500

type metricAsk struct {
	namespace  string
	dims       []cwtypes.Dimension
	start, end time.Time
	qs         []MetricQuery
	got        rollout.Metrics
}

type metricBatch struct {
	asks    []*metricAsk
	queries int
	sent    bool
	done    chan struct{}
	err     error
}

type metricBatcher struct {
	mu      sync.Mutex
	pending *metricBatch
	calls   int64
	asks    int64
}

// BatchedMetricReads are how many metric gate reads the client made, and
// in how many GetMetricData requests.
func (c *Client) BatchedMetricReads() (reads, calls int64) {
	m := c.metricBatches()
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.asks, m.calls
}

func (c *Client) metricBatches() *metricBatcher {
	c.metricOnce.Do(func() { c.metrics = &metricBatcher{} })
	return c.metrics
}

// batchedMetrics reads one gate's window with the others asked for
// meanwhile.
func (c *Client) batchedMetrics(ctx context.Context, a *metricAsk) (rollout.Metrics, error) {
	mb := c.metricBatches()
	mb.mu.Lock()
	b := mb.pending
	if b != nil && !b.sent && b.queries+len(a.qs) <= MaxMetricQueries {
		b.asks = append(b.asks, a)
		b.queries += len(a.qs)
		mb.mu.Unlock()
		select {
		case <-b.done:
		case <-ctx.Done():
			return rollout.Metrics{}, ctx.Err()
		}
		return a.got, b.err
	}
	b = &metricBatch{asks: []*metricAsk{a}, queries: len(a.qs), done: make(chan struct{})}
	mb.pending = b
	mb.mu.Unlock()

	// The batch is sent once it has waited, whatever happens to this
	// read's context: the others wait for it.
	_ = c.Pacer.clock.Sleep(ctx, MetricsBatchWait)
	mb.mu.Lock()
	b.sent = true
	if mb.pending == b {
		mb.pending = nil
	}
	mb.calls++
	mb.asks += int64(len(b.asks))
	mb.mu.Unlock()
	b.err = c.getMetrics(context.WithoutCancel(ctx), b.asks)
	close(b.done)
	return a.got, b.err
}

// getMetrics reads the asks' metrics in one GetMetricData (paginated) over
// the union of their windows, at one-minute periods, and adds each
// datapoint to the asks whose window holds it.
func (c *Client) getMetrics(ctx context.Context, asks []*metricAsk) error {
	start, end := asks[0].start, asks[0].end
	for _, a := range asks[1:] {
		start, end = minTime(start, a.start), maxTime(end, a.end)
	}
	in := &cloudwatch.GetMetricDataInput{StartTime: aws.Time(start.Truncate(time.Minute)), EndTime: aws.Time(end)}
	for i, a := range asks {
		for j, q := range a.qs {
			in.MetricDataQueries = append(in.MetricDataQueries, cwtypes.MetricDataQuery{Id: aws.String(fmt.Sprintf("a%d_%d", i, j)), ReturnData: aws.Bool(true),
				MetricStat: &cwtypes.MetricStat{Metric: &cwtypes.Metric{Namespace: aws.String(a.namespace), MetricName: aws.String(q.Metric), Dimensions: a.dims},
					Period: aws.Int32(60), Stat: aws.String(q.Stat)}})
		}
	}
	pg := cloudwatch.NewGetMetricDataPaginator(c.CloudWatch, in)
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, r := range page.MetricDataResults {
			var i, j int
			if _, err := fmt.Sscanf(aws.ToString(r.Id), "a%d_%d", &i, &j); err != nil || i >= len(asks) || j >= len(asks[i].qs) {
				continue
			}
			a := asks[i]
			for k, v := range r.Values {
				// A datapoint is its minute's: it belongs to a window
				// from the minute the window starts in to its end.
				if k < len(r.Timestamps) && (r.Timestamps[k].Before(a.start.Truncate(time.Minute)) || r.Timestamps[k].After(a.end)) {
					continue
				}
				a.qs[j].Into(&a.got, v)
			}
		}
	}
	return nil
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
