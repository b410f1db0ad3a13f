package awsclient

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/rolloutdev/terraform-provider-rollout/internal/arn"
	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

// Probe runs a rollout on one listener or rule: it applies splits with
// SetForward (confirmed by reading back) and observes the gates through
// ELB, CloudWatch and Lambda.
type Probe struct {
	Client     *Client
	Ref        Ref
	Stickiness Stickiness
	// LoadBalancer is the CloudWatch dimension of the listener's load
	// balancer ("app/NAME/ID").
	LoadBalancer string
	// Primed, when set, may hold the actions the caller read just before
	// the run (its read before write): a first write that follows at once
	// starts from them instead of reading the listener again.
	Primed *Primed
}

// PrimedMaxAge is how old, by the client's clock, actions read before a run
// may be for its first write to start from them. Anything slower (a health
// gate that waited, a hook) reads again.
const PrimedMaxAge = time.Second

// Primed holds the actions of one listener or rule read just now, for the
// next write to start from once. Safe for concurrent use.
type Primed struct {
	mu      sync.Mutex
	actions Actions
	at      time.Time
}

// Set keeps actions read at `at`.
func (p *Primed) Set(a Actions, at time.Time) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.actions, p.at = a, at
}

// Take returns the actions kept, once, when they were read at most
// PrimedMaxAge before now; nil otherwise (the write then reads first).
func (p *Primed) Take(now time.Time) Actions {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	a := p.actions
	p.actions = nil
	if a == nil || now.Sub(p.at) > PrimedMaxAge || now.Before(p.at) {
		return nil
	}
	return a
}

var _ rollout.Probe = (*Probe)(nil)

// NewProbe builds the probe of a listener or rule.
func NewProbe(c *Client, ref Ref, st Stickiness) (*Probe, error) {
	listener := ref.ListenerARN
	if ref.RuleARN != "" {
		l, err := arn.ListenerOfRule(ref.RuleARN)
		if err != nil {
			return nil, err
		}
		listener = l
	}
	lb, err := arn.LoadBalancerOfListener(listener)
	if err != nil {
		return nil, err
	}
	return &Probe{Client: c, Ref: ref, Stickiness: st, LoadBalancer: lb}, nil
}

// Apply sets the split and confirms it, from the primed actions when they
// are fresh.
func (p *Probe) Apply(ctx context.Context, w weights.Split) error {
	var from Actions
	if p.Primed != nil {
		from = p.Primed.Take(p.Client.Clock.Now())
	}
	_, err := p.Client.SetForward(ctx, p.Ref, from, Forward{Split: w, Stickiness: p.Stickiness})
	return err
}

// TargetHealth counts a target group's healthy and serving targets.
func (p *Probe) TargetHealth(ctx context.Context, tg string) (rollout.Health, error) {
	counts, err := p.Client.TargetHealthCounts(ctx, tg)
	if err != nil {
		return rollout.Health{}, err
	}
	return HealthOf(counts), nil
}

// HealthOf turns target counts by state into the health gate's figures.
// Draining targets (leaving, for example on a scale-in) and unused ones
// (in no enabled zone, or the target group not yet in use) receive no new
// traffic, so they count neither as healthy nor against the healthy share.
func HealthOf(counts map[string]int) rollout.Health {
	h := rollout.Health{Healthy: counts[string(elbtypes.TargetHealthStateEnumHealthy)]}
	for st, n := range counts {
		switch elbtypes.TargetHealthStateEnum(st) {
		case elbtypes.TargetHealthStateEnumDraining, elbtypes.TargetHealthStateEnumUnused:
		default:
			h.Total += n
		}
	}
	return h
}

// AlarmStates reads the states of metric and composite alarms by name.
func (p *Probe) AlarmStates(ctx context.Context, names []string) ([]rollout.AlarmState, error) {
	return p.Client.AlarmStates(ctx, names)
}

// Metrics reads a target group's RequestCount, HTTPCode_Target_5XX_Count
// (sums) and TargetResponseTime p99 between start and end, in one
// GetMetricData call with a period covering the window. Counts of several
// periods are added up; of several p99 values the highest is kept.
func (p *Probe) Metrics(ctx context.Context, tg string, start, end time.Time) (rollout.Metrics, error) {
	tgDim, err := arn.TargetGroupDimension(tg)
	if err != nil {
		return rollout.Metrics{}, err
	}
	dims := []cwtypes.Dimension{
		{Name: aws.String("TargetGroup"), Value: aws.String(tgDim)},
		{Name: aws.String("LoadBalancer"), Value: aws.String(p.LoadBalancer)},
	}
	return p.Client.windowMetrics(ctx, "AWS/ApplicationELB", dims, start, end, []metricQuery{
		{"RequestCount", "Sum", requestsOf}, {"HTTPCode_Target_5XX_Count", "Sum", errorsOf},
		// TargetResponseTime is in seconds.
		{"TargetResponseTime", "p99", func(m *rollout.Metrics, v float64) { p99Of(m, v*1000) }},
	})
}

// metricQuery is one metric of a gate's window and where its values go.
type metricQuery struct {
	metric, stat string
	into         func(m *rollout.Metrics, v float64)
}

func requestsOf(m *rollout.Metrics, v float64) { m.Requests += v }
func errorsOf(m *rollout.Metrics, v float64)   { m.Errors5xx += v }

// p99Of keeps the highest p99 value (milliseconds) of the window.
func p99Of(m *rollout.Metrics, ms float64) {
	if !m.HasP99 || ms > m.P99Ms {
		m.P99Ms, m.HasP99 = ms, true
	}
}

// windowMetrics reads the queries' metrics between start and end in one
// GetMetricData call whose period covers the window; counts of several
// periods add up, and of several p99 values the highest is kept.
func (c *Client) windowMetrics(ctx context.Context, namespace string, dims []cwtypes.Dimension, start, end time.Time, qs []metricQuery) (rollout.Metrics, error) {
	period := int32((end.Sub(start) + time.Minute - 1) / time.Minute * 60)
	if period < 60 {
		period = 60
	}
	in := &cloudwatch.GetMetricDataInput{StartTime: aws.Time(start), EndTime: aws.Time(end)}
	for i, q := range qs {
		in.MetricDataQueries = append(in.MetricDataQueries, cwtypes.MetricDataQuery{Id: aws.String(fmt.Sprintf("m%d", i)), ReturnData: aws.Bool(true), MetricStat: &cwtypes.MetricStat{
			Metric: &cwtypes.Metric{Namespace: aws.String(namespace), MetricName: aws.String(q.metric), Dimensions: dims},
			Period: aws.Int32(period), Stat: aws.String(q.stat),
		}})
	}
	var m rollout.Metrics
	pg := cloudwatch.NewGetMetricDataPaginator(c.CloudWatch, in)
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx)
		if err != nil {
			return m, err
		}
		for _, r := range page.MetricDataResults {
			var i int
			if _, err := fmt.Sscanf(aws.ToString(r.Id), "m%d", &i); err != nil || i >= len(qs) {
				continue
			}
			for _, v := range r.Values {
				qs[i].into(&m, v)
			}
		}
	}
	return m, nil
}

// Invoke calls a validation hook synchronously. The function answers
// {"status": "Succeeded"} to pass; anything else fails the step.
func (p *Probe) Invoke(ctx context.Context, fn string, payload rollout.HookPayload) (rollout.HookResult, error) {
	return p.Client.InvokeHook(ctx, fn, payload)
}

// InvokeHook calls a validation hook synchronously with the payload.
func (c *Client) InvokeHook(ctx context.Context, fn string, payload rollout.HookPayload) (rollout.HookResult, error) {
	body, err := json.Marshal(payload)
	if err != nil {
		return rollout.HookResult{}, err
	}
	out, err := c.Lambda.Invoke(ctx, &lambda.InvokeInput{
		FunctionName: aws.String(fn), Payload: body, InvocationType: lambdatypes.InvocationTypeRequestResponse,
	})
	if err != nil {
		return rollout.HookResult{}, err
	}
	return ParseHookAnswer(aws.ToString(out.FunctionError), out.Payload), nil
}

// ParseHookAnswer reads a hook's answer: {"status": "...", "reason": "..."}
// or, for a function error, Lambda's {"errorMessage": "..."}.
func ParseHookAnswer(functionError string, payload []byte) rollout.HookResult {
	var a struct {
		Status       string `json:"status"`
		Reason       string `json:"reason"`
		ErrorMessage string `json:"errorMessage"`
	}
	if err := json.Unmarshal(payload, &a); err != nil && functionError == "" {
		return rollout.HookResult{Reason: fmt.Sprintf("the answer is not a JSON object: %.200s", strings.TrimSpace(string(payload)))}
	}
	if functionError != "" {
		return rollout.HookResult{FunctionError: functionError, Reason: a.ErrorMessage}
	}
	return rollout.HookResult{Status: a.Status, Reason: a.Reason}
}
