package emulator

import (
	"bytes"
	"compress/gzip"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"time"

	"github.com/fxamacker/cbor/v2"
)

// Gap fillers: each rewrites one kind of request that kumo cannot read into
// the form it can, without changing its meaning. They exist for the tests'
// fixtures and are listed in docs/design/emulator-gaps.md.

// fixRequest returns the body to forward for an action, and fixes the
// request's headers to match.
func fixRequest(r *http.Request, action string, body []byte) []byte {
	switch action {
	case "monitoring:PutMetricData":
		// The SDK gzips PutMetricData (the operation's request compression
		// trait); kumo does not inflate request bodies.
		if r.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				return body
			}
			plain, err := io.ReadAll(zr)
			if err != nil {
				return body
			}
			r.Header.Del("Content-Encoding")
			body = plain
		}
		return cborTimesAsStrings(body)
	}
	return body
}

// cborTimesAsStrings rewrites the CBOR timestamps (tag 1, epoch seconds) of a
// request as RFC 3339 strings. CloudWatch's RPCv2 CBOR protocol sends
// MetricDatum.Timestamp as a tag-1 timestamp; kumo decodes it into a string
// field and fails with "Failed to parse request body". Bodies it cannot
// decode are forwarded as they are.
func cborTimesAsStrings(body []byte) []byte {
	dm, err := cbor.DecOptions{DefaultMapType: mapType}.DecMode()
	if err != nil {
		return body
	}
	var v any
	if err := dm.Unmarshal(body, &v); err != nil {
		return body
	}
	out, err := cbor.Marshal(timesToStrings(v))
	if err != nil {
		return body
	}
	return out
}

func timesToStrings(v any) any {
	switch x := v.(type) {
	case time.Time:
		return x.UTC().Format(time.RFC3339)
	case map[string]any:
		for k, e := range x {
			x[k] = timesToStrings(e)
		}
	case []any:
		for i, e := range x {
			x[i] = timesToStrings(e)
		}
	}
	return v
}

// The alarm layer. kumo's PutMetricAlarm keeps only MetricName, Namespace,
// Statistic, Dimensions, Period, EvaluationPeriods, Threshold,
// ComparisonOperator, the description and the alarm and OK actions, and it
// refuses an alarm without MetricName. It rejects metric math (Metrics) and
// drops ExtendedStatistic, DatapointsToAlarm, TreatMissingData,
// InsufficientDataActions and Unit. Per the CloudWatch API reference a
// metric-math alarm has Metrics and none of MetricName, Namespace,
// Statistic, ExtendedStatistic, Dimensions or Period, and DescribeAlarms
// returns every field given to PutMetricAlarm. The layer keeps each alarm's
// full request, forwards a form kumo accepts (the first metric of a math
// alarm stands in for it, so kumo keeps the alarm and its state), and
// completes DescribeAlarms answers from the kept request.

// keptFields are the PutMetricAlarm fields the layer restores.
var keptFields = []string{"Metrics", "ExtendedStatistic", "DatapointsToAlarm", "TreatMissingData", "InsufficientDataActions", "Unit", "EvaluateLowSampleCountPercentile", "ThresholdMetricId"}

// mathOnlyAbsent are the fields a metric-math alarm does not have.
var mathOnlyAbsent = []string{"MetricName", "Namespace", "Statistic", "ExtendedStatistic", "Dimensions", "Period"}

func decodeCBOR(body []byte) (map[string]any, bool) {
	dm, err := cbor.DecOptions{DefaultMapType: mapType}.DecMode()
	if err != nil {
		return nil, false
	}
	var v map[string]any
	if err := dm.Unmarshal(body, &v); err != nil {
		return nil, false
	}
	return v, true
}

// encodeCBOR writes times as tag-1 epoch seconds, as CloudWatch does.
func encodeCBOR(v any) ([]byte, error) {
	em, err := cbor.EncOptions{Time: cbor.TimeUnixMicro, TimeTag: cbor.EncTagRequired}.EncMode()
	if err != nil {
		return nil, err
	}
	return em.Marshal(v)
}

// putMetricAlarm keeps the request and returns the body to forward.
func (e *Emulator) putMetricAlarm(req map[string]any) []byte {
	name, _ := req["AlarmName"].(string)
	e.mu.Lock()
	e.alarms[name] = req
	e.mu.Unlock()
	fwd := map[string]any{}
	for k, v := range req {
		fwd[k] = v
	}
	for _, k := range keptFields {
		delete(fwd, k)
	}
	if qs, ok := req["Metrics"].([]any); ok {
		for _, q := range qs {
			qm, _ := q.(map[string]any)
			ms, _ := qm["MetricStat"].(map[string]any)
			m, _ := ms["Metric"].(map[string]any)
			if m == nil {
				continue
			}
			fwd["MetricName"], fwd["Namespace"], fwd["Dimensions"] = m["MetricName"], m["Namespace"], m["Dimensions"]
			fwd["Period"], fwd["Statistic"] = ms["Period"], "Sum"
			break
		}
	}
	out, err := encodeCBOR(fwd)
	if err != nil {
		return nil
	}
	return out
}

// describeAlarms completes an answer from the kept requests.
func (e *Emulator) describeAlarms(body []byte) []byte {
	resp, ok := decodeCBOR(body)
	if !ok {
		return body
	}
	list, _ := resp["MetricAlarms"].([]any)
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, a := range list {
		am, _ := a.(map[string]any)
		name, _ := am["AlarmName"].(string)
		req, kept := e.alarms[name]
		if !kept {
			continue
		}
		if _, math := req["Metrics"]; math {
			for _, k := range mathOnlyAbsent {
				delete(am, k)
			}
		}
		if _, ext := req["ExtendedStatistic"]; ext {
			delete(am, "Statistic")
		}
		for _, k := range keptFields {
			if v, ok := req[k]; ok {
				am[k] = v
			}
		}
	}
	out, err := encodeCBOR(resp)
	if err != nil {
		return body
	}
	return out
}

func (e *Emulator) deleteAlarms(req map[string]any) {
	names, _ := req["AlarmNames"].([]any)
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, n := range names {
		if s, ok := n.(string); ok {
			delete(e.alarms, s)
		}
	}
}

// The health-check layer. kumo has no ModifyTargetGroup ("The action
// 'ModifyTargetGroup' is not valid"). Per the ELB API reference it changes a
// target group's health check in place and returns the target group. The
// layer answers it, keeps the settings per target group, and applies them
// to DescribeTargetGroups answers. DeleteTargetGroup forgets them.

// healthCheckFields are the ModifyTargetGroup parameters the layer keeps, as
// DescribeTargetGroups names its elements.
var healthCheckFields = []string{"HealthCheckPath", "HealthCheckProtocol", "HealthCheckPort", "HealthCheckEnabled",
	"HealthCheckIntervalSeconds", "HealthCheckTimeoutSeconds", "HealthyThresholdCount", "UnhealthyThresholdCount"}

// answerDirectly returns the answer to a request the layer serves itself, or
// nil to forward it.
func (e *Emulator) answerDirectly(action string, form url.Values) []byte {
	switch action {
	case "elasticloadbalancing:ModifyTargetGroup":
		arn := form.Get("TargetGroupArn")
		e.mu.Lock()
		hc := e.healthChecks[arn]
		if hc == nil {
			hc = url.Values{}
		}
		for _, f := range append(healthCheckFields, "Matcher.HttpCode") {
			if v := form.Get(f); v != "" {
				hc.Set(f, v)
			}
		}
		e.healthChecks[arn] = hc
		e.mu.Unlock()
		return []byte(`<ModifyTargetGroupResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"><ModifyTargetGroupResult><TargetGroups/></ModifyTargetGroupResult><ResponseMetadata><RequestId>rollout-emulator</RequestId></ResponseMetadata></ModifyTargetGroupResponse>`)
	case "elasticloadbalancing:DeleteTargetGroup":
		e.mu.Lock()
		delete(e.healthChecks, form.Get("TargetGroupArn"))
		e.mu.Unlock()
	}
	return nil
}

var tgMemberRE = regexp.MustCompile(`(?s)<member>\s*<TargetGroupArn>([^<]*)</TargetGroupArn>.*?</member>`)

// describeTargetGroups applies kept health-check settings to an answer.
func (e *Emulator) describeTargetGroups(body []byte) []byte {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.healthChecks) == 0 {
		return body
	}
	return tgMemberRE.ReplaceAllFunc(body, func(member []byte) []byte {
		hc := e.healthChecks[string(tgMemberRE.FindSubmatch(member)[1])]
		for _, f := range healthCheckFields {
			v := hc.Get(f)
			if v == "" {
				continue
			}
			el := regexp.MustCompile(`<` + f + `>[^<]*</` + f + `>`)
			repl := []byte("<" + f + ">" + html.EscapeString(v) + "</" + f + ">")
			if el.Match(member) {
				member = el.ReplaceAll(member, repl)
			} else {
				member = bytes.Replace(member, []byte("</TargetGroupArn>"), append([]byte("</TargetGroupArn>"), repl...), 1)
			}
		}
		if v := hc.Get("Matcher.HttpCode"); v != "" {
			m := regexp.MustCompile(`(?s)<Matcher>.*?</Matcher>`)
			repl := []byte("<Matcher><HttpCode>" + html.EscapeString(v) + "</HttpCode></Matcher>")
			if m.Match(member) {
				member = m.ReplaceAll(member, repl)
			} else {
				member = bytes.Replace(member, []byte("</TargetGroupArn>"), append([]byte("</TargetGroupArn>"), repl...), 1)
			}
		}
		return member
	})
}
