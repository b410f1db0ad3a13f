package emulator

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// The alarm layer lets kumo keep metric-math and percentile alarms and
// answers DescribeAlarms as CloudWatch does.
func TestAlarmLayer(t *testing.T) {
	e, err := Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx := context.Background()
	cw := cloudwatch.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("a", "b", "")},
		func(o *cloudwatch.Options) { o.BaseEndpoint = aws.String(e.URL) })
	dims := []cwtypes.Dimension{{Name: aws.String("LoadBalancer"), Value: aws.String("app/web/1")}}
	stat := func(id, metric string) cwtypes.MetricDataQuery {
		return cwtypes.MetricDataQuery{Id: aws.String(id), ReturnData: aws.Bool(false), MetricStat: &cwtypes.MetricStat{
			Metric: &cwtypes.Metric{Namespace: aws.String("AWS/ApplicationELB"), MetricName: aws.String(metric), Dimensions: dims},
			Period: aws.Int32(60), Stat: aws.String("Sum")}}
	}
	if _, err := cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String("rate"), ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold, Threshold: aws.Float64(0.1),
		EvaluationPeriods: aws.Int32(3), DatapointsToAlarm: aws.Int32(2), TreatMissingData: aws.String("notBreaching"),
		Metrics: []cwtypes.MetricDataQuery{stat("errors", "HTTPCode_Target_5XX_Count"), stat("requests", "RequestCount"),
			{Id: aws.String("rate"), Expression: aws.String("100 * errors / requests"), ReturnData: aws.Bool(true)}},
	}); err != nil {
		t.Fatalf("metric-math PutMetricAlarm: %v", err)
	}
	if _, err := cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String("p99"), ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold, Threshold: aws.Float64(0.5),
		EvaluationPeriods: aws.Int32(1), Namespace: aws.String("AWS/ApplicationELB"), MetricName: aws.String("TargetResponseTime"),
		Dimensions: dims, Period: aws.Int32(60), ExtendedStatistic: aws.String("p99"), InsufficientDataActions: []string{"arn:aws:sns:us-east-1:1:t"},
	}); err != nil {
		t.Fatalf("percentile PutMetricAlarm: %v", err)
	}
	if _, err := cw.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String("rate"), StateValue: cwtypes.StateValueAlarm, StateReason: aws.String("test")}); err != nil {
		t.Fatal(err)
	}
	out, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{"rate", "p99"}})
	if err != nil {
		t.Fatalf("DescribeAlarms: %v", err)
	}
	by := map[string]cwtypes.MetricAlarm{}
	for _, a := range out.MetricAlarms {
		by[aws.ToString(a.AlarmName)] = a
	}
	rate, p99 := by["rate"], by["p99"]
	if len(rate.Metrics) != 3 || aws.ToString(rate.Metrics[2].Expression) != "100 * errors / requests" || rate.MetricName != nil || rate.Namespace != nil || rate.Statistic != "" || rate.Period != nil || len(rate.Dimensions) != 0 {
		t.Errorf("metric-math alarm described as %+v", rate)
	}
	if aws.ToInt32(rate.DatapointsToAlarm) != 2 || aws.ToString(rate.TreatMissingData) != "notBreaching" || rate.StateValue != cwtypes.StateValueAlarm {
		t.Errorf("metric-math alarm lost its settings or state: %+v", rate)
	}
	if aws.ToString(p99.ExtendedStatistic) != "p99" || p99.Statistic != "" || aws.ToString(p99.MetricName) != "TargetResponseTime" || len(p99.InsufficientDataActions) != 1 {
		t.Errorf("percentile alarm described as %+v", p99)
	}
	if _, err := cw.DeleteAlarms(ctx, &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{"rate"}}); err != nil {
		t.Fatal(err)
	}
	e.mu.Lock()
	_, kept := e.alarms["rate"]
	e.mu.Unlock()
	if kept {
		t.Error("a deleted alarm's request is still kept")
	}
	if got := e.Requests("monitoring:PutMetricAlarm"); len(got) != 2 || got[0]["Metrics"] == nil {
		t.Errorf("recorded requests %v", got)
	}
}

// The health-check layer answers ModifyTargetGroup and DescribeTargetGroups
// shows the change, as ELB does.
func TestHealthCheckLayer(t *testing.T) {
	e, err := Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx := context.Background()
	c := elb.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("a", "b", "")},
		func(o *elb.Options) { o.BaseEndpoint = aws.String(e.URL) })
	out, err := c.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{Name: aws.String("hc-layer"), Protocol: elbtypes.ProtocolEnumHttp,
		Port: aws.Int32(80), VpcId: aws.String("vpc-1"), HealthCheckPath: aws.String("/"), Matcher: &elbtypes.Matcher{HttpCode: aws.String("200")}})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(out.TargetGroups[0].TargetGroupArn)
	if _, err := c.ModifyTargetGroup(ctx, &elb.ModifyTargetGroupInput{TargetGroupArn: aws.String(arn), HealthCheckPath: aws.String("/ready"),
		HealthCheckIntervalSeconds: aws.Int32(15), HealthyThresholdCount: aws.Int32(3), Matcher: &elbtypes.Matcher{HttpCode: aws.String("200-299")}}); err != nil {
		t.Fatalf("ModifyTargetGroup: %v", err)
	}
	d, err := c.DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{TargetGroupArns: []string{arn}})
	if err != nil {
		t.Fatal(err)
	}
	g := d.TargetGroups[0]
	if aws.ToString(g.HealthCheckPath) != "/ready" || aws.ToInt32(g.HealthCheckIntervalSeconds) != 15 || aws.ToInt32(g.HealthyThresholdCount) != 3 ||
		aws.ToString(g.Matcher.HttpCode) != "200-299" || aws.ToInt32(g.Port) != 80 {
		t.Errorf("described as path %q interval %d healthy %d matcher %q port %d", aws.ToString(g.HealthCheckPath), aws.ToInt32(g.HealthCheckIntervalSeconds),
			aws.ToInt32(g.HealthyThresholdCount), aws.ToString(g.Matcher.HttpCode), aws.ToInt32(g.Port))
	}
	if _, err := c.DeleteTargetGroup(ctx, &elb.DeleteTargetGroupInput{TargetGroupArn: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	if len(e.healthChecks) != 0 {
		t.Error("a deleted target group's health check is still kept")
	}
}
