package alarms

import (
	"reflect"
	"strings"
	"testing"
)

const (
	lb = "app/web/50dc6c495c0c9188"
	tg = "targetgroup/green/73e2d6bc24d8a067"
)

func f(v float64) *float64 { return &v }
func i(v int) *int         { return &v }

func TestPresets(t *testing.T) {
	both := map[string]string{"LoadBalancer": lb, "TargetGroup": tg}
	lbOnly := map[string]string{"LoadBalancer": lb}
	cases := []struct {
		in                          Input
		metric, stat, ext, cmp, tmd string
		dims                        map[string]string
		threshold                   float64
		period, eval                int
	}{
		{Input{Preset: Target5xxCount, LoadBalancer: lb, TargetGroup: tg}, "HTTPCode_Target_5XX_Count", "Sum", "", "GreaterThanThreshold", "notBreaching", both, 10, 60, 1},
		{Input{Preset: Target5xxCount, LoadBalancer: lb}, "HTTPCode_Target_5XX_Count", "Sum", "", "GreaterThanThreshold", "notBreaching", lbOnly, 10, 60, 1},
		{Input{Preset: ELB4xxCount, LoadBalancer: lb}, "HTTPCode_ELB_4XX_Count", "Sum", "", "GreaterThanThreshold", "notBreaching", lbOnly, 10, 300, 2},
		{Input{Preset: P99Latency, LoadBalancer: lb, TargetGroup: tg, Threshold: f(250)}, "TargetResponseTime", "", "p99", "GreaterThanThreshold", "notBreaching", both, 0.25, 60, 1},
		{Input{Preset: UnhealthyHosts, LoadBalancer: lb, TargetGroup: tg}, "UnHealthyHostCount", "Maximum", "", "GreaterThanThreshold", "notBreaching", both, 0, 60, 1},
		{Input{Preset: LowTraffic, LoadBalancer: lb, TargetGroup: tg, Period: i(600), EvaluationPeriods: i(3)}, "RequestCount", "Sum", "", "LessThanThreshold", "breaching", both, 100, 600, 3},
	}
	for _, c := range cases {
		s, ps := Build(c.in)
		if len(ps) > 0 {
			t.Fatalf("%s: problems %v", c.in.Preset, ps)
		}
		if s.Metric == nil || s.Metric.Namespace != Namespace || s.Metric.Name != c.metric || s.Statistic != c.stat || s.ExtendedStatistic != c.ext ||
			!reflect.DeepEqual(s.Metric.Dimensions, c.dims) || s.ComparisonOperator != c.cmp || s.TreatMissingData != c.tmd ||
			s.Threshold != c.threshold || s.Period != c.period || s.EvaluationPeriods != c.eval || s.DatapointsToAlarm != c.eval {
			t.Errorf("%s: built %+v metric %+v", c.in.Preset, s, s.Metric)
		}
		if got := Recognize(s); got.Preset != c.in.Preset || got.TargetGroup != c.in.TargetGroup || got.LoadBalancer != lb || *got.Threshold != orDefault(c.in) {
			t.Errorf("%s: recognized as %+v", c.in.Preset, got)
		}
	}
}

func orDefault(in Input) float64 {
	if in.Threshold != nil {
		return *in.Threshold
	}
	return DefaultsOf(in.Preset).Threshold
}

func TestErrorRateIsMetricMath(t *testing.T) {
	s, ps := Build(Input{Preset: ErrorRate, LoadBalancer: lb, TargetGroup: tg, Period: i(120)})
	if len(ps) > 0 || s.Metric != nil || len(s.Queries) != 3 {
		t.Fatalf("spec %+v problems %v", s, ps)
	}
	q := s.Queries
	if q[0].Metric.Name != "HTTPCode_Target_5XX_Count" || q[0].Stat != "Sum" || q[0].Period != 120 || q[0].ReturnData ||
		q[1].Metric.Name != "RequestCount" || q[1].Stat != "Sum" || q[1].ReturnData ||
		q[2].Expression != "100 * errors / requests" || !q[2].ReturnData || s.Threshold != 0.1 {
		t.Errorf("queries %+v", q)
	}
	if got := Recognize(s); got.Preset != ErrorRate || *got.Period != 120 || got.TargetGroup != tg {
		t.Errorf("recognized as %+v", got)
	}
}

func TestCustom(t *testing.T) {
	m := &Metric{Namespace: "App", Name: "Checkouts", Dimensions: map[string]string{"Env": "prod"}}
	s, ps := Build(Input{Preset: Custom, Comparison: "LessThanThreshold", Threshold: f(5), Metric: m, ExtendedStatistic: "p10"})
	if len(ps) > 0 || s.Metric != m || s.ExtendedStatistic != "p10" || s.Threshold != 5 {
		t.Fatalf("spec %+v problems %v", s, ps)
	}
	if got := Recognize(s); got.Preset != Custom || got.Metric.Name != "Checkouts" || got.Comparison != "LessThanThreshold" {
		t.Errorf("recognized %+v", got)
	}
	qs := []Query{
		{ID: "a", Metric: m, Stat: "Sum", Period: 60},
		{ID: "b", Expression: "a * 2", ReturnData: true},
	}
	s, ps = Build(Input{Preset: Custom, Comparison: "GreaterThanThreshold", Threshold: f(1), Queries: qs})
	if len(ps) > 0 || len(s.Queries) != 2 || s.Period != 0 {
		t.Fatalf("spec %+v problems %v", s, ps)
	}
	// A metric alarm on ALB metrics but not shaped like a preset stays custom.
	odd := Spec{Metric: &Metric{Namespace: Namespace, Name: "RequestCount", Dimensions: map[string]string{"LoadBalancer": lb}}, Statistic: "Average", ComparisonOperator: "GreaterThanThreshold", Period: 60}
	if got := Recognize(odd); got.Preset != Custom {
		t.Errorf("average request count recognized as %s", got.Preset)
	}
}

func TestProblems(t *testing.T) {
	m := &Metric{Namespace: "App", Name: "X"}
	q := func(id string, ret bool) Query {
		return Query{ID: id, Metric: m, Stat: "Sum", Period: 60, ReturnData: ret}
	}
	var eleven []Query
	for n := 0; n < 11; n++ {
		eleven = append(eleven, q("m"+strings.Repeat("x", n), n == 0))
	}
	cases := []struct {
		in   Input
		attr string
		want string
	}{
		{Input{Preset: "latency"}, "preset", `"latency" is not one of error_rate`},
		{Input{Preset: ErrorRate}, "load_balancer_arn", "needs the load balancer"},
		{Input{Preset: UnhealthyHosts, LoadBalancer: lb}, "target_group_arn", "per target group"},
		{Input{Preset: ELB4xxCount, LoadBalancer: lb, TargetGroup: tg}, "target_group_arn", "remove target_group_arn"},
		{Input{Preset: ErrorRate, LoadBalancer: lb, Threshold: f(150)}, "threshold", "outside 0 to 100"},
		{Input{Preset: Target5xxCount, LoadBalancer: lb, Threshold: f(-1)}, "threshold", "negative"},
		{Input{Preset: P99Latency, LoadBalancer: lb, Threshold: f(0)}, "threshold", "not above 0"},
		{Input{Preset: LowTraffic, LoadBalancer: lb, Threshold: f(0)}, "threshold", "could never fire"},
		{Input{Preset: Target5xxCount, LoadBalancer: lb, Period: i(45)}, "period", "45 seconds is not 10, 30 or a multiple of 60"},
		{Input{Preset: Target5xxCount, LoadBalancer: lb, Period: i(3600), EvaluationPeriods: i(25)}, "evaluation_periods", "at most one day"},
		{Input{Preset: Target5xxCount, LoadBalancer: lb, EvaluationPeriods: i(2), DatapointsToAlarm: i(3)}, "datapoints_to_alarm", "outside 1 to evaluation_periods (2)"},
		{Input{Preset: Target5xxCount, LoadBalancer: lb, TreatMissingData: "zero"}, "treat_missing_data", `"zero" is not one of`},
		{Input{Preset: Target5xxCount, LoadBalancer: lb, Comparison: "GreaterThanThreshold"}, "custom", "only used with preset"},
		{Input{Preset: Custom, Threshold: f(1), Metric: m, Statistic: "Sum"}, "custom.comparison_operator", "needs a comparison operator"},
		{Input{Preset: Custom, Comparison: "LessThanLowerThreshold", Threshold: f(1), Metric: m, Statistic: "Sum"}, "custom.comparison_operator", "is not one of"},
		{Input{Preset: Custom, Comparison: "GreaterThanThreshold", Metric: m, Statistic: "Sum"}, "threshold", "needs a threshold"},
		{Input{Preset: Custom, Comparison: "GreaterThanThreshold", Threshold: f(1)}, "custom", "set custom.metric"},
		{Input{Preset: Custom, Comparison: "GreaterThanThreshold", Threshold: f(1), Metric: m}, "custom.metric.statistic", "set statistic"},
		{Input{Preset: Custom, Comparison: "GreaterThanThreshold", Threshold: f(1), Metric: m, Statistic: "Median"}, "custom.metric.statistic", `"Median" is not one of`},
		{Input{Preset: Custom, Comparison: "GreaterThanThreshold", Threshold: f(1), Metric: m, ExtendedStatistic: "p999"}, "custom.metric.extended_statistic", "not a percentile"},
		{Input{Preset: Custom, Comparison: "GreaterThanThreshold", Threshold: f(1), Queries: eleven}, "custom.queries", "11 queries; a metric-math alarm has at most 10"},
		{Input{Preset: Custom, Comparison: "GreaterThanThreshold", Threshold: f(1), Queries: []Query{q("Bad", true)}}, "custom.queries[0].id", "must start with a lower-case letter"},
		{Input{Preset: Custom, Comparison: "GreaterThanThreshold", Threshold: f(1), Queries: []Query{q("a", true), q("a", false)}}, "custom.queries[1].id", `"a" is also the id of queries[0]`},
		{Input{Preset: Custom, Comparison: "GreaterThanThreshold", Threshold: f(1), Queries: []Query{q("a", true), q("b", true)}}, "custom.queries", "2 queries have return_data = true"},
		{Input{Preset: Custom, Comparison: "GreaterThanThreshold", Threshold: f(1), Queries: []Query{{ID: "a", ReturnData: true}}}, "custom.queries[0]", "set expression or metric"},
		{Input{Preset: Custom, Comparison: "GreaterThanThreshold", Threshold: f(1), Queries: []Query{{ID: "a", Metric: m, Stat: "Sum", Period: 7, ReturnData: true}}}, "custom.queries[0].metric.period", "7 seconds"},
		{Input{Preset: Custom, Comparison: "GreaterThanThreshold", Threshold: f(1), Period: i(60), Queries: []Query{q("a", true)}}, "period", "remove period"},
	}
	for _, c := range cases {
		_, ps := Build(c.in)
		found := false
		for _, p := range ps {
			found = found || (p.Path.String() == c.attr && strings.Contains(p.Reason, c.want))
		}
		if !found {
			t.Errorf("%+v: problems %v, want %s: …%s…", c.in, ps, c.attr, c.want)
		}
	}
}

func FuzzQueryID(f *testing.F) {
	for _, s := range []string{"a", "errors", "m_1", "A", "1a", "a-b", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		ok := ValidQueryID(id)
		if ok && (id == "" || id[0] < 'a' || id[0] > 'z' || len(id) > 255) {
			t.Fatalf("%q accepted", id)
		}
		for _, r := range id {
			allowed := r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
			if ok && !allowed {
				t.Fatalf("%q accepted with %q", id, r)
			}
		}
		// Whatever the id, Build never panics and refuses bad ones.
		_, ps := Build(Input{Preset: Custom, Comparison: "GreaterThanThreshold", Threshold: new(float64),
			Queries: []Query{{ID: id, Expression: "1", ReturnData: true}}})
		if !ok && len(ps) == 0 {
			t.Fatalf("%q built without a problem", id)
		}
	})
}

func FuzzPeriod(f *testing.F) {
	for _, p := range []int{10, 30, 60, 45, 0, -60, 86400} {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p int) {
		if ValidPeriod(p) != (p == 10 || p == 30 || (p > 0 && p%60 == 0)) {
			t.Fatalf("ValidPeriod(%d) = %v", p, ValidPeriod(p))
		}
	})
}
