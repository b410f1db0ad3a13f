package acctest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/rolloutdev/terraform-provider-rollout/internal/arn"
	"github.com/rolloutdev/terraform-provider-rollout/internal/emulator"
	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

// Alarm creates a CloudWatch alarm on a target group's 5XX count and returns
// its name. kumo never evaluates it: change its state with SetAlarmState.
func (e *Env) Alarm(prefix string) string {
	e.T.Helper()
	name := Name(prefix)
	_, err := e.CW.PutMetricAlarm(e.ctx(), &cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String(name), Namespace: aws.String("AWS/ApplicationELB"), MetricName: aws.String("HTTPCode_Target_5XX_Count"),
		Statistic: cwtypes.StatisticSum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(10),
		ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold,
	})
	if err != nil {
		e.T.Fatalf("PutMetricAlarm: %v", err)
	}
	e.SetAlarmState(name, cwtypes.StateValueOk)
	return name
}

// SetAlarmState sets an alarm's state as CloudWatch would on evaluation.
func (e *Env) SetAlarmState(name string, s cwtypes.StateValue) {
	e.T.Helper()
	_, err := e.CW.SetAlarmState(e.ctx(), &cloudwatch.SetAlarmStateInput{
		AlarmName: aws.String(name), StateValue: s, StateReason: aws.String("set by the test: threshold crossed"),
	})
	if err != nil {
		e.T.Fatalf("SetAlarmState: %v", err)
	}
}

// PutTargetGroupMetric puts one datapoint of a metric of a target group
// behind the listener's load balancer: AWS/ApplicationELB, or
// AWS/NetworkELB behind a Network Load Balancer.
func (e *Env) PutTargetGroupMetric(listener, tg, metric string, value float64, at time.Time) {
	e.T.Helper()
	lb, err := arn.LoadBalancerOfListener(listener)
	if err != nil {
		e.T.Fatal(err)
	}
	tgDim, err := arn.TargetGroupDimension(tg)
	if err != nil {
		e.T.Fatal(err)
	}
	ns := "AWS/ApplicationELB"
	if arn.IsNetwork(listener) {
		ns = "AWS/NetworkELB"
	}
	_, err = e.CW.PutMetricData(e.ctx(), &cloudwatch.PutMetricDataInput{
		Namespace: aws.String(ns),
		MetricData: []cwtypes.MetricDatum{{
			MetricName: aws.String(metric), Value: aws.Float64(value), Timestamp: aws.Time(at),
			Dimensions: []cwtypes.Dimension{{Name: aws.String("TargetGroup"), Value: aws.String(tgDim)}, {Name: aws.String("LoadBalancer"), Value: aws.String(lb)}},
		}},
	})
	if err != nil {
		e.T.Fatalf("PutMetricData: %v", err)
	}
}

// PutSteadyTraffic puts a steady, healthy load on a target group behind
// the listener's load balancer (emulator.PutSteadyTraffic).
func (e *Env) PutSteadyTraffic(listener, tg string, from time.Time, span time.Duration) {
	e.T.Helper()
	if err := emulator.PutSteadyTraffic(e.ctx(), e.CW, listener, tg, from, span); err != nil {
		e.T.Fatalf("PutMetricData: %v", err)
	}
}

// Hook is a Lambda function whose invocations kumo forwards to a local HTTP
// handler (kumo's InvokeEndpoint), answering what Answer returns.
type Hook struct {
	ARN string
	mu  sync.Mutex
	// answer returns the function's JSON answer and, for a function error,
	// the X-Amz-Function-Error value.
	answer   func(payload map[string]any) (body string, functionError string)
	Payloads []map[string]any
}

// Calls returns the payloads received so far.
func (h *Hook) Calls() []map[string]any {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]map[string]any(nil), h.Payloads...)
}

// HookFunction creates a Lambda function answering through answer.
func (e *Env) HookFunction(prefix string, answer func(payload map[string]any) (string, string)) *Hook {
	e.T.Helper()
	h := &Hook{answer: answer}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var p map[string]any
		_ = json.Unmarshal(b, &p)
		h.mu.Lock()
		h.Payloads = append(h.Payloads, p)
		h.mu.Unlock()
		body, fe := h.answer(p)
		if fe != "" {
			w.Header().Set("X-Amz-Function-Error", fe)
		}
		_, _ = io.WriteString(w, body)
	}))
	e.T.Cleanup(srv.Close)
	h.ARN = e.createFunction(map[string]any{"FunctionName": Name(prefix), "Role": "arn:aws:iam::000000000000:role/hook", "InvokeEndpoint": srv.URL})
	return h
}

// createFunction creates a function in the emulator from raw JSON (the SDK
// has no InvokeEndpoint field, a kumo extension), with the credential
// scope kumo routes on, and returns its ARN. fields add to or replace the
// defaults: runtime provided.al2023, handler bootstrap, an empty zip.
func (e *Env) createFunction(fields map[string]any) string {
	e.T.Helper()
	body := map[string]any{"Runtime": "provided.al2023", "Handler": "bootstrap", "Role": "arn:aws:iam::000000000000:role/fn",
		"Code": map[string]any{"ZipFile": "UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA=="}}
	for k, v := range fields {
		body[k] = v
	}
	req, _ := json.Marshal(body)
	hr, _ := http.NewRequest(http.MethodPost, e.Emu.URL+"/2015-03-31/functions", bytes.NewReader(req))
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=test/20260101/"+Region+"/lambda/aws4_request, SignedHeaders=host, Signature=0")
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		e.T.Fatalf("CreateFunction: %v", err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	var created struct{ FunctionArn string }
	if err := json.Unmarshal(out, &created); err != nil || created.FunctionArn == "" {
		e.T.Fatalf("CreateFunction answered %d %s", resp.StatusCode, out)
	}
	return created.FunctionArn
}

// Answer is a hook answer with the given status.
func Answer(status, reason string) string {
	return fmt.Sprintf(`{"status":%q,"reason":%q}`, status, reason)
}

// RecordSplits records the weights of every forward action written to the
// emulator (ModifyListener and ModifyRule), in order, from now on.
func (e *Env) RecordSplits() func() []weights.Split { return e.RecordSplitsOf("") }

// RecordSplitsOf records the forward actions written to one listener or
// rule ARN (any when empty), in order, from now on.
func (e *Env) RecordSplitsOf(owner string) func() []weights.Split {
	var mu sync.Mutex
	var got []weights.Split
	e.Emu.OnRequest(func(action string, form url.Values) {
		to, ok := writeOwner(action, form)
		if !ok || owner != "" && to != owner {
			return
		}
		prefix := "DefaultActions"
		if action == "elasticloadbalancing:ModifyRule" {
			prefix = "Actions"
		}
		for a := 1; form.Get(fmt.Sprintf("%s.member.%d.Type", prefix, a)) != ""; a++ {
			act := fmt.Sprintf("%s.member.%d", prefix, a)
			if form.Get(act+".Type") != "forward" {
				continue
			}
			var s weights.Split
			for i := 1; ; i++ {
				tg := fmt.Sprintf("%s.ForwardConfig.TargetGroups.member.%d", act, i)
				arn := form.Get(tg + ".TargetGroupArn")
				if arn == "" {
					break
				}
				w, _ := strconv.Atoi(form.Get(tg + ".Weight"))
				s = append(s, weights.Target{ARN: arn, Weight: w})
			}
			mu.Lock()
			got = append(got, s)
			mu.Unlock()
		}
	})
	return func() []weights.Split {
		mu.Lock()
		defer mu.Unlock()
		return append([]weights.Split(nil), got...)
	}
}

// AlarmNames lists the metric alarms whose names start with prefix.
func (e *Env) AlarmNames(prefix string) []string {
	e.T.Helper()
	out, err := e.CW.DescribeAlarms(e.ctx(), &cloudwatch.DescribeAlarmsInput{AlarmNamePrefix: aws.String(prefix)})
	if err != nil {
		e.T.Fatalf("DescribeAlarms: %v", err)
	}
	var names []string
	for _, a := range out.MetricAlarms {
		names = append(names, aws.ToString(a.AlarmName))
	}
	return names
}

// LambdaFunction creates a function with n published versions and returns
// its name.
func (e *Env) LambdaFunction(prefix string, versions int) string {
	e.T.Helper()
	name := Name(prefix)
	e.createFunction(map[string]any{"FunctionName": name})
	for i := 0; i < versions; i++ {
		if _, err := e.Lambda().PublishVersion(e.ctx(), &lambda.PublishVersionInput{FunctionName: aws.String(name)}); err != nil {
			e.T.Fatalf("PublishVersion: %v", err)
		}
	}
	return name
}

// Lambda is an SDK client of the emulator's Lambda.
func (e *Env) Lambda() *lambda.Client {
	return lambda.NewFromConfig(aws.Config{Region: Region, Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")},
		func(o *lambda.Options) { o.BaseEndpoint = aws.String(e.Emu.URL) })
}

// AliasWrites lists every routing written to an alias at the emulator, in
// order, as a split over versions (the primary version's weight is the rest
// of 1000).
func (e *Env) AliasWrites() []weights.Split {
	var out []weights.Split
	for _, r := range e.Emu.Requests("lambda:UpdateAlias") {
		v, _ := r["FunctionVersion"].(string)
		if v == "" {
			continue
		}
		s := weights.Split{{ARN: v, Weight: 1000}}
		if rc, ok := r["RoutingConfig"].(map[string]any); ok {
			if w, ok := rc["AdditionalVersionWeights"].(map[string]any); ok {
				for other, f := range w {
					n := int(f.(float64)*1000 + 0.5)
					if n > 0 {
						s[0].Weight -= n
						s = append(s, weights.Target{ARN: other, Weight: n})
					}
				}
			}
		}
		if len(s) == 1 {
			s[0].Weight = 1
		}
		out = append(out, s)
	}
	return out
}

// PutLambdaMetric puts one datapoint of an AWS/Lambda metric of a version
// executed through an alias.
func (e *Env) PutLambdaMetric(function, alias, version, metric string, value float64, at time.Time) {
	e.T.Helper()
	_, err := e.CW.PutMetricData(e.ctx(), &cloudwatch.PutMetricDataInput{
		Namespace: aws.String("AWS/Lambda"),
		MetricData: []cwtypes.MetricDatum{{
			MetricName: aws.String(metric), Value: aws.Float64(value), Timestamp: aws.Time(at),
			Dimensions: []cwtypes.Dimension{
				{Name: aws.String("FunctionName"), Value: aws.String(function)},
				{Name: aws.String("Resource"), Value: aws.String(function + ":" + alias)},
				{Name: aws.String("ExecutedVersion"), Value: aws.String(version)},
			},
		}},
	})
	if err != nil {
		e.T.Fatalf("PutMetricData: %v", err)
	}
}
