package arn

import (
	"strings"
	"testing"
)

const (
	awsListener = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/my-alb/50dc6c495c0c9188/f2f7dc8efc522ab2"
	kumoListner = "arn:aws:elasticloadbalancing:us-east-1:000000000000:listener/app/demo/3ec07e37-13f7-417/98cdd543-c932-4ae"
	awsRule     = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/my-alb/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee"
	kumoRule    = "arn:aws:elasticloadbalancing:us-east-1:000000000000:listener-rule/app/demo/3ec07e37-13f7-417/98cdd543-c932-4ae/rule-1795774089851780739"
	awsTG       = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/blue/73e2d6bc24d8a067"
	awsLB       = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/my-alb/50dc6c495c0c9188"
	awsNLBLst   = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/net/my-nlb/50dc6c495c0c9188/f2f7dc8efc522ab2"
	awsLambda   = "arn:aws:lambda:us-east-1:123456789012:function:validate"
)

func TestKindCheck(t *testing.T) {
	cases := []struct {
		kind    Kind
		in      string
		wantErr string
	}{
		{Listener, awsListener, ""},
		{Listener, kumoListner, ""},
		{Listener, strings.Replace(awsListener, "arn:aws:", "arn:aws-cn:", 1), ""},
		{Listener, awsNLBLst, ""},
		{Listener, strings.Replace(awsNLBLst, "/net/", "/gwy/", 1), "Gateway Load Balancer"},
		{Listener, awsTG, `starts with "listener/app/" or "listener/net/"`},
		{ListenerRule, strings.Replace(strings.Replace(awsRule, "/app/", "/net/", 1), "listener-rule", "listener-rule", 1), "has no rules: set listener_arn"},
		{Listener, awsLambda, `service "elasticloadbalancing"`},
		{Listener, "not-an-arn", "is not an ARN"},
		{Listener, "arn:aws:elasticloadbalancing:us-east-1:1:listener/app/x", "incomplete"},
		{Listener, "arn:aws:elasticloadbalancing::1:listener/app/a/b/c", "has no region"},
		{Listener, "arn:azure:elasticloadbalancing:us-east-1:1:listener/app/a/b/c", "partition"},
		{Listener, "arn:aws:elasticloadbalancing:us-east-1:1:listener/app/a//c", "empty part"},
		{ListenerRule, awsRule, ""},
		{ListenerRule, kumoRule, ""},
		{ListenerRule, awsListener, `starts with "listener-rule/app/"`},
		{TargetGroup, awsTG, ""},
		{TargetGroup, awsListener, `starts with "targetgroup/"`},
		{LambdaFunc, awsLambda, ""},
		{LambdaFunc, awsLambda + ":live", ""},
		{LambdaFunc, "arn:aws:lambda:us-east-1:1:layer:x", `starts with "function:"`},
		{LoadBalancer, awsLB, ""},
		{IAMRole, "arn:aws:iam::123456789012:role/deploy", ""},
		{IAMRole, "arn:aws:iam::123456789012:user/deploy", `starts with "role/"`},
		{ECSService, "arn:aws:ecs:us-east-1:123456789012:service/prod/web", ""},
		{ECSService, "arn:aws:ecs:us-east-1:123456789012:service/web", "incomplete"},
		{CodeDeployGroup, "arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:web/prod", ""},
		{CodeDeployGroup, "arn:aws:codedeploy:us-east-1:123456789012:application:web", `starts with "deploymentgroup:"`},
		{Listener, "", "is not an ARN"},
		{Listener, "arn:aws::us-east-1:1:listener/app/a/b/c", "empty service"},
	}
	for _, c := range cases {
		_, err := c.kind.Check(c.in)
		switch {
		case c.wantErr == "" && err != nil:
			t.Errorf("%s.Check(%q): unexpected error %v", c.kind.Name, c.in, err)
		case c.wantErr != "" && err == nil:
			t.Errorf("%s.Check(%q): no error, want one containing %q", c.kind.Name, c.in, c.wantErr)
		case c.wantErr != "" && !strings.Contains(err.Error(), c.wantErr):
			t.Errorf("%s.Check(%q): error %q does not contain %q", c.kind.Name, c.in, err, c.wantErr)
		}
	}
}

func TestListenerOfRule(t *testing.T) {
	for rule, want := range map[string]string{awsRule: awsListener, kumoRule: kumoListner} {
		got, err := ListenerOfRule(rule)
		if err != nil || got != want {
			t.Errorf("ListenerOfRule(%q) = %q, %v; want %q", rule, got, err, want)
		}
	}
	if _, err := ListenerOfRule(awsListener); err == nil {
		t.Error("ListenerOfRule(listener ARN): want an error")
	}
}

func TestDimensions(t *testing.T) {
	if got, _ := LoadBalancerOfListener(awsListener); got != "app/my-alb/50dc6c495c0c9188" {
		t.Errorf("LoadBalancerOfListener = %q", got)
	}
	if got, _ := LoadBalancerOfListener(awsNLBLst); got != "net/my-nlb/50dc6c495c0c9188" || !IsNetwork(awsNLBLst) || IsNetwork(awsListener) {
		t.Errorf("LoadBalancerOfListener(NLB) = %q, IsNetwork %v", got, IsNetwork(awsNLBLst))
	}
	if _, err := LoadBalancerOfListener(awsTG); err == nil {
		t.Error("LoadBalancerOfListener(target group): want an error")
	}
	if got, _ := TargetGroupDimension(awsTG); got != "targetgroup/blue/73e2d6bc24d8a067" {
		t.Errorf("TargetGroupDimension = %q", got)
	}
	if got, _ := LoadBalancerDimension(awsLB); got != "app/my-alb/50dc6c495c0c9188" {
		t.Errorf("LoadBalancerDimension = %q", got)
	}
	if _, err := LoadBalancerDimension(awsTG); err == nil {
		t.Error("LoadBalancerDimension(target group): want an error")
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{awsListener, kumoRule, awsTG, awsLambda, "arn:aws:::", "arn:::::"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := Parse(s)
		if err != nil {
			return
		}
		// A parsed ARN joins back to the input.
		joined := strings.Join([]string{"arn", a.Partition, a.Service, a.Region, a.AccountID, a.Resource}, ":")
		if joined != s {
			t.Fatalf("Parse(%q) joined back to %q", s, joined)
		}
		for _, k := range []Kind{Listener, ListenerRule, TargetGroup, LambdaFunc} {
			if got, err := k.Check(s); err == nil && (got.Service != k.Service || !strings.HasPrefix(got.Resource, k.ResourcePrefix)) {
				t.Fatalf("%s.Check(%q) accepted %+v", k.Name, s, got)
			}
		}
	})
}

func TestForeignParts(t *testing.T) {
	if c, s, err := ECSServiceParts("arn:aws:ecs:us-east-1:1:service/prod/web"); err != nil || c != "prod" || s != "web" {
		t.Fatalf("ECSServiceParts = %q, %q, %v", c, s, err)
	}
	if a, g, err := CodeDeployGroupParts("arn:aws:codedeploy:us-east-1:1:deploymentgroup:web/prod"); err != nil || a != "web" || g != "prod" {
		t.Fatalf("CodeDeployGroupParts = %q, %q, %v", a, g, err)
	}
	if _, _, err := CodeDeployGroupParts("arn:aws:codedeploy:us-east-1:1:deploymentgroup:web"); err == nil || !strings.Contains(err.Error(), "APPLICATION/GROUP") {
		t.Fatalf("a group ARN without its group: %v", err)
	}
}
