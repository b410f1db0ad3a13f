package emulator

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/smithy-go"
)

// The OIDC layer keeps an authenticate-oidc action's config, never returns
// its secret, and refuses a write with neither a secret nor
// UseExistingClientSecret, as AWS does.
func TestOIDCLayer(t *testing.T) {
	e, err := Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	c := elb.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("a", "b", "")}, func(o *elb.Options) { o.BaseEndpoint = aws.String(e.URL) })
	ctx := context.Background()
	lb, err := c.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String("oidc"), Type: types.LoadBalancerTypeEnumApplication, Subnets: []string{"subnet-0a", "subnet-0b"}})
	if err != nil {
		t.Fatal(err)
	}
	tg, err := c.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{Name: aws.String("oidc-tg"), TargetType: types.TargetTypeEnumIp, Protocol: "HTTP", Port: aws.Int32(80), VpcId: aws.String("vpc-0123456789abcdef0")})
	if err != nil {
		t.Fatal(err)
	}
	tga := tg.TargetGroups[0].TargetGroupArn
	l, err := c.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: lb.LoadBalancers[0].LoadBalancerArn, Port: aws.Int32(80), Protocol: "HTTP", DefaultActions: []types.Action{{Type: "forward", TargetGroupArn: tga}}})
	if err != nil {
		t.Fatal(err)
	}
	la := l.Listeners[0].ListenerArn
	oidc := func(secret *string, useExisting *bool) []types.Action {
		return []types.Action{
			{Type: types.ActionTypeEnumAuthenticateOidc, Order: aws.Int32(1), AuthenticateOidcConfig: &types.AuthenticateOidcActionConfig{
				Issuer: aws.String("https://idp"), AuthorizationEndpoint: aws.String("https://idp/a"), TokenEndpoint: aws.String("https://idp/t"),
				UserInfoEndpoint: aws.String("https://idp/u"), ClientId: aws.String("cid"), ClientSecret: secret, UseExistingClientSecret: useExisting}},
			{Type: types.ActionTypeEnumForward, Order: aws.Int32(2), TargetGroupArn: tga},
		}
	}
	var ae smithy.APIError
	if _, err := c.ModifyListener(ctx, &elb.ModifyListenerInput{ListenerArn: la, DefaultActions: oidc(nil, aws.Bool(true))}); !errors.As(err, &ae) || ae.ErrorCode() != "ValidationError" {
		t.Fatalf("keeping a secret the listener does not have: %v", err)
	}
	if _, err := c.ModifyListener(ctx, &elb.ModifyListenerInput{ListenerArn: la, DefaultActions: oidc(aws.String("s3cret"), nil)}); err != nil {
		t.Fatal(err)
	}
	out, err := c.DescribeListeners(ctx, &elb.DescribeListenersInput{ListenerArns: []string{*la}})
	if err != nil {
		t.Fatal(err)
	}
	got := out.Listeners[0].DefaultActions[0].AuthenticateOidcConfig
	if got == nil || aws.ToString(got.Issuer) != "https://idp" || aws.ToString(got.ClientId) != "cid" || got.ClientSecret != nil {
		t.Fatalf("described config %+v", got)
	}
	if _, err := c.ModifyListener(ctx, &elb.ModifyListenerInput{ListenerArn: la, DefaultActions: oidc(nil, nil)}); !errors.As(err, &ae) || ae.ErrorCode() != "ValidationError" {
		t.Fatalf("a write with neither secret nor UseExistingClientSecret: %v", err)
	}
	if _, err := c.ModifyListener(ctx, &elb.ModifyListenerInput{ListenerArn: la, DefaultActions: oidc(nil, aws.Bool(true))}); err != nil {
		t.Fatalf("UseExistingClientSecret: %v", err)
	}
}
