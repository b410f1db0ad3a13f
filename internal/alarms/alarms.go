// Package alarms turns a rollout_alarm's inputs into the CloudWatch alarm AWS
// expects (namespace, metric, statistic or extended statistic, dimensions,
// metric math) and recognises a described alarm as one of the presets again.
// It has no AWS or Terraform imports.
package alarms

import (
	"math"
	"regexp"
	"sort"
	"strings"

	"github.com/rolloutdev/terraform-provider-rollout/internal/problem"
)

// Preset names a kind of alarm.
type Preset string

// Presets.
const (
	ErrorRate      Preset = "error_rate"
	Target5xxCount Preset = "target_5xx_count"
	ELB4xxCount    Preset = "elb_4xx_count"
	P99Latency     Preset = "p99_latency"
	UnhealthyHosts Preset = "unhealthy_hosts"
	LowTraffic     Preset = "low_traffic"
	Custom         Preset = "custom"
)

// Presets lists every preset, in documentation order.
var Presets = []Preset{ErrorRate, Target5xxCount, ELB4xxCount, P99Latency, UnhealthyHosts, LowTraffic, Custom}

// Namespace of Application Load Balancer metrics.
const Namespace = "AWS/ApplicationELB"

// Comparison operators allowed for custom alarms (the static-threshold ones).
var Comparisons = []string{"GreaterThanOrEqualToThreshold", "GreaterThanThreshold", "LessThanThreshold", "LessThanOrEqualToThreshold"}

// Statistics allowed as a plain statistic.
var Statistics = []string{"SampleCount", "Average", "Sum", "Minimum", "Maximum"}

// TreatMissing values.
var TreatMissing = []string{"breaching", "notBreaching", "ignore", "missing"}

// Limits from the CloudWatch API reference.
const (
	MaxQueries      = 10
	MaxActions      = 5
	MaxDimensions   = 30
	MaxEvaluationS  = 86400 // evaluation_periods × period
	MaxNameLen      = 255
	MaxDescription  = 1024
	MaxTags         = 50
	ErrorRateExpr   = "100 * errors / requests"
	errorRateResult = "error_rate"
)

// Metric is one metric with its dimensions.
type Metric struct {
	Namespace  string
	Name       string
	Dimensions map[string]string
}

// Query is one entry of a metric-math alarm: an expression or a metric stat.
type Query struct {
	ID         string
	Expression string
	Metric     *Metric
	Stat       string
	Period     int
	Label      string
	ReturnData bool
}

// Spec is a PutMetricAlarm request in neutral terms: either Metric with
// Statistic or ExtendedStatistic, or Queries.
type Spec struct {
	Metric             *Metric
	Statistic          string
	ExtendedStatistic  string
	Period             int
	Queries            []Query
	Threshold          float64 // in CloudWatch's unit (seconds for latency)
	ComparisonOperator string
	EvaluationPeriods  int
	DatapointsToAlarm  int
	TreatMissingData   string
}

// Input is what a user writes.
type Input struct {
	Preset            Preset
	TargetGroup       string // CloudWatch dimension "targetgroup/NAME/ID", empty when not set
	LoadBalancer      string // CloudWatch dimension "app/NAME/ID", empty when not set
	Threshold         *float64
	EvaluationPeriods *int
	DatapointsToAlarm *int
	Period            *int
	TreatMissingData  string
	// Custom only.
	Comparison        string
	Metric            *Metric
	Statistic         string
	ExtendedStatistic string
	Queries           []Query
}

// Defaults are a preset's settings when the user does not say.
type Defaults struct {
	Threshold         float64 // in the user's unit (milliseconds for latency)
	EvaluationPeriods int
	Period            int
	TreatMissingData  string
	Comparison        string
	// Scope: whether target_group_arn is required, allowed, or refused.
	TargetGroup Need
	Description string
}

// Need says whether an input is required, optional or not allowed.
type Need int

// Needs.
const (
	Refused Need = iota
	Optional
	Required
)

// DefaultsOf returns a preset's defaults. The figures are the ones release
// pipelines commonly gate on: error rate above 0.1 %, p99 above 500 ms, the
// load balancer's 4XX count above 10 over two 5-minute periods.
func DefaultsOf(p Preset) Defaults {
	switch p {
	case ErrorRate:
		return Defaults{0.1, 1, 60, "notBreaching", "GreaterThanThreshold", Optional, "100 × HTTPCode_Target_5XX_Count / RequestCount, in percent"}
	case Target5xxCount:
		return Defaults{10, 1, 60, "notBreaching", "GreaterThanThreshold", Optional, "HTTPCode_Target_5XX_Count, Sum"}
	case ELB4xxCount:
		return Defaults{10, 2, 300, "notBreaching", "GreaterThanThreshold", Refused, "HTTPCode_ELB_4XX_Count, Sum"}
	case P99Latency:
		return Defaults{500, 1, 60, "notBreaching", "GreaterThanThreshold", Optional, "TargetResponseTime, p99, threshold in milliseconds"}
	case UnhealthyHosts:
		return Defaults{0, 1, 60, "notBreaching", "GreaterThanThreshold", Required, "UnHealthyHostCount, Maximum"}
	case LowTraffic:
		return Defaults{100, 1, 300, "breaching", "LessThanThreshold", Optional, "RequestCount, Sum, below the threshold; no data counts as breaching"}
	}
	return Defaults{EvaluationPeriods: 1, Period: 60, TreatMissingData: "missing", TargetGroup: Refused}
}

// Problem is a wrong input: the attribute (relative to the resource) and why.
type Problem = problem.Problem

var queryIDRE = regexp.MustCompile(`^[a-z][a-zA-Z0-9_]*$`)
var extendedStatRE = regexp.MustCompile(`^p(\d{1,2}(\.\d{1,2})?|100)$`)

// ValidPeriod reports whether CloudWatch accepts a period: 10, 30 or a
// multiple of 60 seconds.
func ValidPeriod(p int) bool { return p == 10 || p == 30 || (p >= 60 && p%60 == 0) }

// ValidQueryID reports whether CloudWatch accepts a metric-math id.
func ValidQueryID(id string) bool { return len(id) <= 255 && queryIDRE.MatchString(id) }

// ValidExtendedStatistic reports whether s is a percentile statistic pNN or
// pNN.NN.
func ValidExtendedStatistic(s string) bool { return extendedStatRE.MatchString(s) }

// Build checks an input and returns the alarm it describes.
func Build(in Input) (Spec, []Problem) {
	var ps []Problem
	add := func(at problem.Path, f string, a ...any) { ps = append(ps, problem.New(at, "", f, a...)) }
	d := DefaultsOf(in.Preset)
	known := false
	for _, p := range Presets {
		known = known || p == in.Preset
	}
	if !known {
		add(problem.At("preset"), "%q is not one of %s", in.Preset, list(Presets))
		return Spec{}, ps
	}
	if in.Preset != Custom {
		checkPresetInputs(in, d, add)
	} else {
		checkCustomInputs(in, add)
	}
	spec := Spec{
		ComparisonOperator: d.Comparison, Period: d.Period, EvaluationPeriods: d.EvaluationPeriods,
		TreatMissingData: d.TreatMissingData, Threshold: d.Threshold,
	}
	if in.Preset == Custom {
		spec.ComparisonOperator = in.Comparison
	}
	evaluation(&spec, in, add)
	spec.Threshold = threshold(in, d, add)
	if in.Preset == Custom {
		ps = append(ps, buildCustom(&spec, in)...)
	} else {
		presetMetric(&spec, in)
	}
	return spec, ps
}

// adder adds a problem at a path.
type adder func(at problem.Path, f string, a ...any)

// checkPresetInputs checks the inputs of a preset: the load balancer and
// target group it watches, and no custom block.
func checkPresetInputs(in Input, d Defaults, add adder) {
	if in.LoadBalancer == "" {
		add(problem.At("load_balancer_arn"), "the %s preset needs the load balancer whose metrics it watches", in.Preset)
	}
	switch {
	case d.TargetGroup == Required && in.TargetGroup == "":
		add(problem.At("target_group_arn"), "the %s preset is per target group: set target_group_arn", in.Preset)
	case d.TargetGroup == Refused && in.TargetGroup != "":
		add(problem.At("target_group_arn"), "the %s preset is a load balancer metric: remove target_group_arn", in.Preset)
	}
	if in.Metric != nil || len(in.Queries) > 0 || in.Comparison != "" {
		add(problem.At("custom"), "custom is only used with preset = \"custom\"")
	}
}

// checkCustomInputs checks the inputs of a custom alarm: its comparison,
// threshold and metric or queries, and no preset dimensions.
func checkCustomInputs(in Input, add adder) {
	if in.LoadBalancer != "" || in.TargetGroup != "" {
		add(problem.At("preset"), "load_balancer_arn and target_group_arn are for the presets; a custom alarm names its dimensions")
	}
	if in.Comparison == "" {
		add(problem.At("custom").Name("comparison_operator"), "a custom alarm needs a comparison operator, one of %s", strings.Join(Comparisons, ", "))
	} else if !contains(Comparisons, in.Comparison) {
		add(problem.At("custom").Name("comparison_operator"), "%q is not one of %s", in.Comparison, strings.Join(Comparisons, ", "))
	}
	if in.Threshold == nil {
		add(problem.At("threshold"), "a custom alarm needs a threshold")
	}
	switch {
	case in.Metric == nil && len(in.Queries) == 0:
		add(problem.At("custom"), "set custom.metric (one metric) or custom.queries (metric math)")
	case in.Metric != nil && len(in.Queries) > 0:
		add(problem.At("custom"), "set custom.metric or custom.queries, not both")
	}
}

// evaluation sets the period, the evaluation periods, the datapoints to
// alarm and the treatment of missing data given in spec, and checks them.
func evaluation(spec *Spec, in Input, add adder) {
	if in.Period != nil {
		spec.Period = *in.Period
		if !ValidPeriod(spec.Period) {
			add(problem.At("period"), "%d seconds is not 10, 30 or a multiple of 60", spec.Period)
		}
	}
	if in.EvaluationPeriods != nil {
		spec.EvaluationPeriods = *in.EvaluationPeriods
		if spec.EvaluationPeriods < 1 {
			add(problem.At("evaluation_periods"), "%d is below 1", spec.EvaluationPeriods)
		}
	}
	if spec.EvaluationPeriods*spec.Period > MaxEvaluationS && spec.Period > 0 {
		add(problem.At("evaluation_periods"), "%d periods of %d s make %d s; CloudWatch evaluates at most one day (86400 s)", spec.EvaluationPeriods, spec.Period, spec.EvaluationPeriods*spec.Period)
	}
	spec.DatapointsToAlarm = spec.EvaluationPeriods
	if in.DatapointsToAlarm != nil {
		spec.DatapointsToAlarm = *in.DatapointsToAlarm
		if spec.DatapointsToAlarm < 1 || spec.DatapointsToAlarm > spec.EvaluationPeriods {
			add(problem.At("datapoints_to_alarm"), "%d is outside 1 to evaluation_periods (%d): an alarm fires when that many of the evaluated periods breach", spec.DatapointsToAlarm, spec.EvaluationPeriods)
		}
	}
	if in.TreatMissingData != "" {
		spec.TreatMissingData = in.TreatMissingData
		if !contains(TreatMissing, in.TreatMissingData) {
			add(problem.At("treat_missing_data"), "%q is not one of %s", in.TreatMissingData, strings.Join(TreatMissing, ", "))
		}
	}
}

// threshold is the threshold given or the preset's, checked against what
// the preset measures.
func threshold(in Input, d Defaults, add adder) float64 {
	user := d.Threshold
	if in.Threshold != nil {
		user = *in.Threshold
	}
	switch in.Preset {
	case ErrorRate:
		if user < 0 || user > 100 {
			add(problem.At("threshold"), "%g is outside 0 to 100 (percent of requests)", user)
		}
	case Target5xxCount, ELB4xxCount, UnhealthyHosts:
		if user < 0 {
			add(problem.At("threshold"), "%g is negative; a count is never below 0", user)
		}
	case P99Latency:
		if user <= 0 {
			add(problem.At("threshold"), "%g ms is not above 0", user)
		}
	case LowTraffic:
		if user <= 0 {
			add(problem.At("threshold"), "%g is not above 0; RequestCount is never below 0, so the alarm could never fire", user)
		}
	}
	return user
}

// presetMetric sets the metric or metric math a preset watches, on the load
// balancer (and the target group) given.
func presetMetric(spec *Spec, in Input) {
	dims := map[string]string{"LoadBalancer": in.LoadBalancer}
	if in.TargetGroup != "" {
		dims["TargetGroup"] = in.TargetGroup
	}
	one := func(name, stat string) {
		spec.Metric = &Metric{Namespace: Namespace, Name: name, Dimensions: dims}
		spec.Statistic = stat
	}
	switch in.Preset {
	case ErrorRate:
		spec.Queries = []Query{
			{ID: "errors", Metric: &Metric{Namespace: Namespace, Name: "HTTPCode_Target_5XX_Count", Dimensions: dims}, Stat: "Sum", Period: spec.Period},
			{ID: "requests", Metric: &Metric{Namespace: Namespace, Name: "RequestCount", Dimensions: dims}, Stat: "Sum", Period: spec.Period},
			{ID: errorRateResult, Expression: ErrorRateExpr, Label: "5XX error rate (%)", ReturnData: true},
		}
	case Target5xxCount:
		one("HTTPCode_Target_5XX_Count", "Sum")
	case ELB4xxCount:
		one("HTTPCode_ELB_4XX_Count", "Sum")
	case P99Latency:
		spec.Metric = &Metric{Namespace: Namespace, Name: "TargetResponseTime", Dimensions: dims}
		spec.ExtendedStatistic = "p99"
		spec.Threshold /= 1000 // CloudWatch measures TargetResponseTime in seconds
	case UnhealthyHosts:
		one("UnHealthyHostCount", "Maximum")
	case LowTraffic:
		one("RequestCount", "Sum")
	}
}

func buildCustom(spec *Spec, in Input) []Problem {
	var ps []Problem
	add := func(at problem.Path, f string, a ...any) { ps = append(ps, problem.New(at, "", f, a...)) }
	checkMetric := func(attr problem.Path, m *Metric) {
		if m.Namespace == "" || m.Name == "" {
			add(attr, "namespace and name are both required")
		}
		if len(m.Dimensions) > MaxDimensions {
			add(attr.Name("dimensions"), "%d dimensions; CloudWatch allows at most %d", len(m.Dimensions), MaxDimensions)
		}
	}
	if in.Metric != nil {
		checkMetric(problem.At("custom").Name("metric"), in.Metric)
		spec.Metric = in.Metric
		switch {
		case in.Statistic == "" && in.ExtendedStatistic == "":
			add(problem.At("custom").Name("metric").Name("statistic"), "set statistic (one of %s) or extended_statistic (such as p99)", strings.Join(Statistics, ", "))
		case in.Statistic != "" && in.ExtendedStatistic != "":
			add(problem.At("custom").Name("metric").Name("statistic"), "set statistic or extended_statistic, not both")
		case in.Statistic != "" && !contains(Statistics, in.Statistic):
			add(problem.At("custom").Name("metric").Name("statistic"), "%q is not one of %s", in.Statistic, strings.Join(Statistics, ", "))
		case in.ExtendedStatistic != "" && !ValidExtendedStatistic(in.ExtendedStatistic):
			add(problem.At("custom").Name("metric").Name("extended_statistic"), "%q is not a percentile such as p90, p99 or p99.9", in.ExtendedStatistic)
		}
		spec.Statistic, spec.ExtendedStatistic = in.Statistic, in.ExtendedStatistic
	}
	if len(in.Queries) > 0 {
		if len(in.Queries) > MaxQueries {
			add(problem.At("custom").Name("queries"), "%d queries; a metric-math alarm has at most %d", len(in.Queries), MaxQueries)
		}
		seen := map[string]int{}
		returning := 0
		for i, q := range in.Queries {
			attr := problem.At("custom").Name("queries").Index(i)
			if !ValidQueryID(q.ID) {
				add(attr.Name("id"), "%q must start with a lower-case letter and hold only letters, digits and underscores", q.ID)
			}
			if j, dup := seen[q.ID]; dup {
				add(attr.Name("id"), "%q is also the id of queries[%d]; ids are unique", q.ID, j)
			}
			seen[q.ID] = i
			if q.ReturnData {
				returning++
			}
			switch {
			case q.Expression == "" && q.Metric == nil:
				add(attr, "set expression or metric")
			case q.Expression != "" && q.Metric != nil:
				add(attr, "set expression or metric, not both")
			case q.Metric != nil:
				checkMetric(attr.Name("metric"), q.Metric)
				if q.Stat == "" {
					add(attr.Name("metric").Name("stat"), "a metric query needs a stat, such as Sum or p99")
				}
				if !ValidPeriod(q.Period) {
					add(attr.Name("metric").Name("period"), "%d seconds is not 10, 30 or a multiple of 60", q.Period)
				}
			}
		}
		if returning != 1 {
			add(problem.At("custom").Name("queries"), "%d queries have return_data = true; exactly one must, and the alarm watches it", returning)
		}
		if in.Period != nil {
			add(problem.At("period"), "a metric-math alarm sets the period of each metric in custom.queries[*].metric.period; remove period")
		}
		spec.Queries = in.Queries
		spec.Period = 0
	}
	return ps
}

// Recognize returns the preset and inputs a described alarm was built from,
// so that import and refresh show the alarm in the resource's terms; any
// alarm that is not a preset is custom.
func Recognize(s Spec) Input {
	in := Input{Preset: Custom}
	fill := func(p Preset, dims map[string]string, threshold float64) Input {
		th, ev, dp, per := threshold, s.EvaluationPeriods, s.DatapointsToAlarm, s.Period
		out := Input{Preset: p, TargetGroup: dims["TargetGroup"], LoadBalancer: dims["LoadBalancer"],
			Threshold: &th, EvaluationPeriods: &ev, DatapointsToAlarm: &dp, Period: &per, TreatMissingData: s.TreatMissingData}
		return out
	}
	presetDims := func(m *Metric) (map[string]string, bool) {
		if m == nil || m.Namespace != Namespace || m.Dimensions["LoadBalancer"] == "" {
			return nil, false
		}
		for k := range m.Dimensions {
			if k != "LoadBalancer" && k != "TargetGroup" {
				return nil, false
			}
		}
		return m.Dimensions, true
	}
	if len(s.Queries) == 3 {
		q := s.Queries
		if q[0].ID == "errors" && q[1].ID == "requests" && q[2].ID == errorRateResult && q[2].Expression == ErrorRateExpr && q[2].ReturnData &&
			q[0].Metric != nil && q[0].Metric.Name == "HTTPCode_Target_5XX_Count" && q[0].Stat == "Sum" &&
			q[1].Metric != nil && q[1].Metric.Name == "RequestCount" && q[1].Stat == "Sum" &&
			q[0].Period == q[1].Period && sameDims(q[0].Metric.Dimensions, q[1].Metric.Dimensions) && s.ComparisonOperator == "GreaterThanThreshold" {
			if dims, ok := presetDims(q[0].Metric); ok {
				s.Period = q[0].Period
				return fill(ErrorRate, dims, s.Threshold)
			}
		}
	}
	if dims, ok := presetDims(s.Metric); ok && len(s.Queries) == 0 {
		_, tg := dims["TargetGroup"]
		switch {
		case s.Metric.Name == "HTTPCode_Target_5XX_Count" && s.Statistic == "Sum" && s.ComparisonOperator == "GreaterThanThreshold":
			return fill(Target5xxCount, dims, s.Threshold)
		case s.Metric.Name == "HTTPCode_ELB_4XX_Count" && s.Statistic == "Sum" && s.ComparisonOperator == "GreaterThanThreshold" && !tg:
			return fill(ELB4xxCount, dims, s.Threshold)
		case s.Metric.Name == "TargetResponseTime" && s.ExtendedStatistic == "p99" && s.ComparisonOperator == "GreaterThanThreshold":
			return fill(P99Latency, dims, Round(s.Threshold*1000))
		case s.Metric.Name == "UnHealthyHostCount" && s.Statistic == "Maximum" && s.ComparisonOperator == "GreaterThanThreshold" && tg:
			return fill(UnhealthyHosts, dims, s.Threshold)
		case s.Metric.Name == "RequestCount" && s.Statistic == "Sum" && s.ComparisonOperator == "LessThanThreshold":
			return fill(LowTraffic, dims, s.Threshold)
		}
	}
	th, ev, dp := s.Threshold, s.EvaluationPeriods, s.DatapointsToAlarm
	in.Threshold, in.EvaluationPeriods, in.DatapointsToAlarm = &th, &ev, &dp
	if len(s.Queries) == 0 {
		per := s.Period
		in.Period = &per
	}
	in.TreatMissingData = s.TreatMissingData
	in.Comparison = s.ComparisonOperator
	in.Metric, in.Statistic, in.ExtendedStatistic, in.Queries = s.Metric, s.Statistic, s.ExtendedStatistic, s.Queries
	return in
}

// Round drops floating-point noise from a unit conversion (0.5 s × 1000).
func Round(f float64) float64 { return math.Round(f*1e6) / 1e6 }

func sameDims(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// SortedKeys returns a map's keys in order, for stable requests.
func SortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func list(ps []Preset) string {
	var out []string
	for _, p := range ps {
		out = append(out, string(p))
	}
	return strings.Join(out, ", ")
}
