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

	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
)

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

// MetricQuery is one metric of a gate's window (its CloudWatch name and
// statistic) and where its values go.
type MetricQuery struct {
	Metric, Stat string
	Into         func(m *rollout.Metrics, v float64)
}

// AddRequests counts the values as requests.
func AddRequests(m *rollout.Metrics, v float64) { m.Requests += v }

// AddErrors counts the values as errors.
func AddErrors(m *rollout.Metrics, v float64) { m.Errors5xx += v }

// MaxP99 keeps the highest p99 value (milliseconds) of the window.
func MaxP99(m *rollout.Metrics, ms float64) {
	if !m.HasP99 || ms > m.P99Ms {
		m.P99Ms, m.HasP99 = ms, true
	}
}

// WindowMetrics reads the queries' metrics between start and end in one
// GetMetricData call whose period covers the window; counts of several
// periods add up, and of several p99 values the highest is kept. Under an
// API budget the read is batched with the others (metricbatch.go).
func (c *Client) WindowMetrics(ctx context.Context, namespace string, dims []cwtypes.Dimension, start, end time.Time, qs []MetricQuery) (rollout.Metrics, error) {
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
			Metric: &cwtypes.Metric{Namespace: aws.String(namespace), MetricName: aws.String(q.Metric), Dimensions: dims},
			Period: aws.Int32(period), Stat: aws.String(q.Stat),
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
				qs[i].Into(&m, v)
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
