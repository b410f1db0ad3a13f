package emulator

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/smithy-go"
)

// The fault layer: each kind reaches the SDK as AWS or a network would
// deliver it, and a lost answer still takes effect.
func TestInjectedFaults(t *testing.T) {
	e, err := Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	c := elb.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("a", "b", "")}, func(o *elb.Options) {
		o.BaseEndpoint = aws.String(e.URL)
		o.RetryMaxAttempts = 1
	})
	ctx := context.Background()
	call := func() error {
		_, err := c.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{Name: aws.String("faulty"), Protocol: "HTTP", Port: aws.Int32(80), VpcId: aws.String("vpc-1")})
		return err
	}
	e.InjectFaults("elasticloadbalancing", Faults{Rate: 1, Kinds: []Fault{Throttle}})
	var ae smithy.APIError
	if err := call(); !errors.As(err, &ae) || ae.ErrorCode() != "Throttling" {
		t.Fatalf("throttle: %v", err)
	}
	e.InjectFaults("elasticloadbalancing", Faults{Rate: 1, Kinds: []Fault{ServerError}})
	if err := call(); err == nil || errors.As(err, &ae) && ae.ErrorCode() == "Throttling" {
		t.Fatalf("server error: %v", err)
	}
	e.InjectFaults("elasticloadbalancing", Faults{Rate: 1, Kinds: []Fault{Reset}})
	if err := call(); err == nil {
		t.Fatal("reset: no error")
	}
	e.InjectFaults("elasticloadbalancing", Faults{Rate: 1, Kinds: []Fault{LostAnswer}})
	if err := call(); err == nil {
		t.Fatal("lost answer: no error")
	}
	e.InjectFaults("elasticloadbalancing", Faults{})
	out, err := c.DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{Names: []string{"faulty"}})
	if err != nil || len(out.TargetGroups) != 1 {
		t.Fatalf("the request whose answer was lost did not take effect: %v", err)
	}
	if got := e.Faulted(); got[Throttle] != 1 || got[ServerError] != 1 || got[Reset] != 1 || got[LostAnswer] != 1 {
		t.Fatalf("Faulted = %v", got)
	}
	// A rate of 0.3 faults about 30 % of requests, the same ones every run.
	e.InjectFaults("monitoring", Faults{Rate: 0.3, Seed: 7})
	n := 0
	for i := 0; i < 1000; i++ {
		if e.drawFault("monitoring:DescribeAlarms") != "" {
			n++
		}
	}
	if n < 250 || n > 350 {
		t.Fatalf("%d of 1000 faulted at rate 0.3", n)
	}
}

// FaultNext faults exactly the next n requests of one action.
func TestFaultNext(t *testing.T) {
	e, err := Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	e.FaultNext("elasticloadbalancing:ModifyListener", LostAnswer, 2)
	for i, want := range []Fault{LostAnswer, LostAnswer, ""} {
		if got := e.drawFault("elasticloadbalancing:DescribeListeners"); got != "" {
			t.Fatalf("another action got %q", got)
		}
		if got := e.drawFault("elasticloadbalancing:ModifyListener"); got != want {
			t.Fatalf("request %d: %q, want %q", i+1, got, want)
		}
	}
}

// A denied request reaches the SDK as AccessDenied and is not retried (a
// retry would get through and create the target group).
func TestDeniedAsAWSAnswersIt(t *testing.T) {
	e, err := Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	c := elb.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("a", "b", "")}, func(o *elb.Options) {
		o.BaseEndpoint = aws.String(e.URL)
	})
	ctx := context.Background()
	e.FaultNext("elasticloadbalancing:CreateTargetGroup", Denied, 1)
	_, err = c.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{Name: aws.String("denied-write"), Protocol: "HTTP", Port: aws.Int32(80), VpcId: aws.String("vpc-1")})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDenied" {
		t.Fatalf("denied: %v", err)
	}
	// kumo's state is the process's: look for this test's name only.
	out, err := c.DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tg := range out.TargetGroups {
		if aws.ToString(tg.TargetGroupName) == "denied-write" {
			t.Fatal("the denied request took effect")
		}
	}
	if got := e.Faulted(); got[Denied] != 1 {
		t.Fatalf("Faulted = %v", got)
	}
}
