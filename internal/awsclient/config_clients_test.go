package awsclient

import (
	"context"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/rolloutdev/terraform-provider-rollout/internal/clock"
)

// Every service client but Lambda's gives up an answer that does not start
// within ResponseTimeout (Lambda hooks may run for minutes), and each
// takes its endpoint override.
func TestServiceClientsTimeoutAndEndpoints(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	eps := Endpoints{ELBv2: "http://elb", CloudWatch: "http://cw", Lambda: "http://lambda", SSM: "http://ssm", StepFunctions: "http://sfn",
		SNS: "http://sns", EventBridge: "http://events", ECS: "http://ecs", CodeDeploy: "http://codedeploy"}
	c, err := New(context.Background(), Config{Region: "us-east-1", Endpoints: eps}, clock.Real{})
	if err != nil {
		t.Fatal(err)
	}
	type opts struct {
		http     any
		endpoint *string
	}
	got := map[string]opts{
		eps.ELBv2:         {c.ELB.(*elb.Client).Options().HTTPClient, c.ELB.(*elb.Client).Options().BaseEndpoint},
		eps.CloudWatch:    {c.CloudWatch.(*cloudwatch.Client).Options().HTTPClient, c.CloudWatch.(*cloudwatch.Client).Options().BaseEndpoint},
		eps.Lambda:        {c.Lambda.(*lambda.Client).Options().HTTPClient, c.Lambda.(*lambda.Client).Options().BaseEndpoint},
		eps.SSM:           {c.SSM.(*ssm.Client).Options().HTTPClient, c.SSM.(*ssm.Client).Options().BaseEndpoint},
		eps.StepFunctions: {c.States.(*sfn.Client).Options().HTTPClient, c.States.(*sfn.Client).Options().BaseEndpoint},
		eps.SNS:           {c.SNS.(*sns.Client).Options().HTTPClient, c.SNS.(*sns.Client).Options().BaseEndpoint},
		eps.EventBridge:   {c.Events.(*eventbridge.Client).Options().HTTPClient, c.Events.(*eventbridge.Client).Options().BaseEndpoint},
		eps.ECS:           {c.ECS.(*ecs.Client).Options().HTTPClient, c.ECS.(*ecs.Client).Options().BaseEndpoint},
		eps.CodeDeploy:    {c.CodeDeploy.(*codedeploy.Client).Options().HTTPClient, c.CodeDeploy.(*codedeploy.Client).Options().BaseEndpoint},
	}
	for ep, o := range got {
		if o.endpoint == nil || *o.endpoint != ep {
			t.Errorf("the client of %s has endpoint %v", ep, o.endpoint)
		}
		var timeout any
		if b, ok := o.http.(*awshttp.BuildableClient); ok {
			timeout = b.GetTransport().ResponseHeaderTimeout
		}
		if quick := timeout == ResponseTimeout; quick == (ep == eps.Lambda) {
			t.Errorf("the client of %s: response header timeout %v (Lambda's is the apply's deadline; every other's %s)", ep, timeout, ResponseTimeout)
		}
	}
}

// With no override in the configuration, a client keeps the endpoint the
// SDK found in the environment (the orchestrator's process is pointed at
// its endpoints so).
func TestServiceClientsKeepTheEnvironmentsEndpoint(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_ENDPOINT_URL", "http://from-env")
	c, err := New(context.Background(), Config{Region: "us-east-1"}, clock.Real{})
	if err != nil {
		t.Fatal(err)
	}
	for name, ep := range map[string]*string{
		"elb": c.ELB.(*elb.Client).Options().BaseEndpoint, "lambda": c.Lambda.(*lambda.Client).Options().BaseEndpoint,
		"ssm": c.SSM.(*ssm.Client).Options().BaseEndpoint, "sfn": c.States.(*sfn.Client).Options().BaseEndpoint,
	} {
		if ep == nil || *ep != "http://from-env" {
			t.Errorf("the %s client's endpoint is %v, want the environment's", name, ep)
		}
	}
}
