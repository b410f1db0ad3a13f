package awsclient

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/rolloutdev/terraform-provider-rollout/internal/arn"
	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
)

// ListenerGates observes the gates of a rollout on one listener or rule:
// target health, alarms, the target groups' metrics and hooks.
type ListenerGates struct {
	Client *Client
	// LoadBalancer is the CloudWatch dimension of the listener's load
	// balancer ("app/NAME/ID", "net/NAME/ID").
	LoadBalancer string
}

var (
	_ rollout.HealthReader  = (*ListenerGates)(nil)
	_ rollout.MetricsReader = (*ListenerGates)(nil)
)

// NewListenerGates builds the gate readers of a listener or rule.
func NewListenerGates(c *Client, ref Ref) (*ListenerGates, error) {
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
	return &ListenerGates{Client: c, LoadBalancer: lb}, nil
}

// Observers are the listener's gate readers.
func (p *ListenerGates) Observers() rollout.Observers {
	return rollout.Observers{Health: p, Alarms: SharedAlarms{p.Client}, Metrics: p, Hooks: HookInvoker{p.Client}}
}

// TargetHealth counts a target group's healthy and serving targets.
func (p *ListenerGates) TargetHealth(ctx context.Context, tg string) (rollout.Health, error) {
	counts, err := p.Client.SharedTargetHealth(ctx, tg)
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

// Metrics reads a target group's RequestCount, HTTPCode_Target_5XX_Count
// (sums) and TargetResponseTime p99 between start and end, in one
// GetMetricData call with a period covering the window. Counts of several
// periods are added up; of several p99 values the highest is kept. On a
// Network Load Balancer (namespace AWS/NetworkELB) the requests are the
// new flows (NewFlowCount), the errors the resets sent by targets
// (TCP_Target_Reset_Count), and there is no latency (the plan refuses a
// p99 gate there).
func (p *ListenerGates) Metrics(ctx context.Context, tg string, start, end time.Time) (rollout.Metrics, error) {
	tgDim, err := arn.TargetGroupDimension(tg)
	if err != nil {
		return rollout.Metrics{}, err
	}
	dims := []cwtypes.Dimension{
		{Name: aws.String("TargetGroup"), Value: aws.String(tgDim)},
		{Name: aws.String("LoadBalancer"), Value: aws.String(p.LoadBalancer)},
	}
	if strings.HasPrefix(p.LoadBalancer, "net/") {
		return p.Client.windowMetrics(ctx, "AWS/NetworkELB", dims, start, end, []metricQuery{
			{"NewFlowCount", "Sum", requestsOf}, {"TCP_Target_Reset_Count", "Sum", errorsOf},
		})
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
// periods add up, and of several p99 values the highest is kept. Under an
// API budget the read is batched with the others (metricbatch.go).
func (c *Client) windowMetrics(ctx context.Context, namespace string, dims []cwtypes.Dimension, start, end time.Time, qs []metricQuery) (rollout.Metrics, error) {
	if c.Pacer != nil && !rollout.IsUrgent(ctx) {
		return c.batchedMetrics(ctx, &metricAsk{namespace: namespace, dims: dims, start: start, end: end, qs: qs})
	}
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

// HookInvoker calls validation hooks through a client.
type HookInvoker struct{ Client *Client }

// Invoke calls a validation hook synchronously. The function answers
// {"status": "Succeeded"} to pass; anything else fails the step.
func (h HookInvoker) Invoke(ctx context.Context, fn string, payload rollout.HookPayload) (rollout.HookResult, error) {
	return h.Client.InvokeHook(ctx, fn, payload)
}

// AlarmAndHookObservers are the gate readers of a subject with no metrics
// or targets of its own (a feature flag): alarms and hooks.
func AlarmAndHookObservers(c *Client) rollout.Observers {
	return rollout.Observers{Alarms: SharedAlarms{c}, Hooks: HookInvoker{c}}
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
