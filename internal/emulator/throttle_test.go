package emulator

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"
)

// The throttling layer answers Throttling, in each service's protocol, once
// a class's bucket is empty; the SDK reads it as AWS's throttling error.
func TestThrottlingAsAWSAnswersIt(t *testing.T) {
	e, err := Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	e.Throttle(map[string]Bucket{"elb_describe": {Capacity: 3, Refill: 0.001}, "cloudwatch_describe": {Capacity: 2, Refill: 0.001}, "ssm": {Capacity: 1, Refill: 0.001}})
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("a", "b", ""), RetryMaxAttempts: 1}
	ctx := context.Background()
	lb := elb.NewFromConfig(cfg, func(o *elb.Options) { o.BaseEndpoint = aws.String(e.URL) })
	cw := cloudwatch.NewFromConfig(cfg, func(o *cloudwatch.Options) { o.BaseEndpoint = aws.String(e.URL) })
	sm := ssm.NewFromConfig(cfg, func(o *ssm.Options) { o.BaseEndpoint = aws.String(e.URL) })
	code := func(err error) string {
		var ae smithy.APIError
		if errors.As(err, &ae) {
			return ae.ErrorCode()
		}
		if err != nil {
			return err.Error()
		}
		return ""
	}
	var got []string
	// What services publish (PutMetricData) has its own quota: it takes
	// nothing from DescribeAlarms' bucket.
	for i := 0; i < 3; i++ {
		if _, err := cw.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("AWS/ApplicationELB"),
			MetricData: []cwtypes.MetricDatum{{MetricName: aws.String("RequestCount"), Value: aws.Float64(1)}}}); err != nil {
			t.Fatalf("PutMetricData: %v", err)
		}
	}
	for i := 0; i < 4; i++ {
		_, err := lb.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{})
		got = append(got, code(err))
	}
	for i := 0; i < 3; i++ {
		_, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{})
		got = append(got, code(err))
	}
	for i := 0; i < 2; i++ {
		_, err := sm.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/x")})
		got = append(got, code(err))
	}
	want := []string{"", "", "", "Throttling", "", "", "Throttling", "ParameterNotFound", "ThrottlingException"}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("the answers were %q, want %q", got, want)
		}
	}
	if n := e.Throttled(); n["elb_describe"] != 1 || n["cloudwatch_describe"] != 1 || n["ssm"] != 1 {
		t.Fatalf("the front counted %v throttled", n)
	}
	// A modify class without a bucket is not throttled.
	if _, err := lb.AddTags(ctx, &elb.AddTagsInput{ResourceArns: []string{"arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/app/x/1"}}); code(err) == "Throttling" {
		t.Fatal("a class without a bucket was throttled")
	}
}
