package emulator

import (
	"context"
	"net/url"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
)

// The front forwards requests to kumo unchanged and counts them per
// service:Action, for the query (ELBv2) and CBOR (CloudWatch) protocols.
func TestCountsPerAction(t *testing.T) {
	emu, err := Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer emu.Close()
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("a", "b", "")}
	ctx := context.Background()
	e := elb.NewFromConfig(cfg, func(o *elb.Options) { o.BaseEndpoint = aws.String(emu.URL) })
	cw := cloudwatch.NewFromConfig(cfg, func(o *cloudwatch.Options) { o.BaseEndpoint = aws.String(emu.URL) })

	var seen []string
	emu.OnRequest(func(action string, _ url.Values) { seen = append(seen, action) })
	for i := 0; i < 2; i++ {
		if _, err := e.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{}); err != nil {
			t.Fatalf("DescribeLoadBalancers through the front: %v", err)
		}
	}
	if _, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{}); err != nil {
		t.Fatalf("DescribeAlarms through the front: %v", err)
	}
	if got := emu.Count("elasticloadbalancing:DescribeLoadBalancers"); got != 2 {
		t.Errorf("DescribeLoadBalancers counted %d times, want 2 (saw %v)", got, emu.Actions())
	}
	if got := emu.Count("monitoring:DescribeAlarms"); got != 1 {
		t.Errorf("DescribeAlarms counted %d times, want 1 (saw %v)", got, emu.Actions())
	}
	if got := emu.Total("elasticloadbalancing:"); got != 2 {
		t.Errorf("Total(elasticloadbalancing:) = %d, want 2", got)
	}
	if len(seen) != 3 {
		t.Errorf("hook saw %v, want 3 requests", seen)
	}
	emu.ResetCounts()
	if emu.Total("") != 0 {
		t.Error("ResetCounts left counts")
	}
}
