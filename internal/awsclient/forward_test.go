package awsclient

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

const tgA, tgB = "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/a/1", "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/b/2"

func TestForwardOfActions(t *testing.T) {
	cases := []struct {
		name   string
		acts   Actions
		want   weights.Split
		sticky Stickiness
		ok     bool
	}{
		{"single target group", Actions{{Type: types.ActionTypeEnumForward, TargetGroupArn: aws.String(tgA)}}, weights.Split{{ARN: tgA, Weight: 1}}, Stickiness{}, true},
		{"weighted", Actions{{Type: types.ActionTypeEnumForward, ForwardConfig: &types.ForwardActionConfig{
			TargetGroups:                []types.TargetGroupTuple{{TargetGroupArn: aws.String(tgA), Weight: aws.Int32(9)}, {TargetGroupArn: aws.String(tgB), Weight: aws.Int32(1)}},
			TargetGroupStickinessConfig: &types.TargetGroupStickinessConfig{Enabled: aws.Bool(true), DurationSeconds: aws.Int32(60)},
		}}}, weights.Split{{ARN: tgA, Weight: 9}, {ARN: tgB, Weight: 1}}, Stickiness{true, 60}, true},
		{"fixed response", Actions{{Type: types.ActionTypeEnumFixedResponse}}, nil, Stickiness{}, false},
		{"none", nil, nil, Stickiness{}, false},
	}
	for _, c := range cases {
		got, ok := c.acts.Forward()
		if ok != c.ok || !got.Split.Equal(c.want) || got.Stickiness != c.sticky {
			t.Errorf("%s: Forward() = %+v, %v; want %v %+v, %v", c.name, got, ok, c.want, c.sticky, c.ok)
		}
	}
}

func TestWithForwardKeepsOtherActions(t *testing.T) {
	f := Forward{Split: weights.Split{{ARN: tgA, Weight: 90}, {ARN: tgB, Weight: 10}}}
	auth := types.Action{Type: types.ActionTypeEnumAuthenticateOidc, Order: aws.Int32(1)}
	cases := []struct {
		name      string
		in        Actions
		wantTypes []types.ActionTypeEnum
		wantOrder int32
	}{
		{"replaces forward", Actions{{Type: types.ActionTypeEnumForward, TargetGroupArn: aws.String(tgA)}}, []types.ActionTypeEnum{"forward"}, 0},
		{"replaces fixed response after auth", Actions{auth, {Type: types.ActionTypeEnumFixedResponse, Order: aws.Int32(2)}}, []types.ActionTypeEnum{"authenticate-oidc", "forward"}, 2},
		{"appends after auth only", Actions{auth}, []types.ActionTypeEnum{"authenticate-oidc", "forward"}, 2},
		{"empty", nil, []types.ActionTypeEnum{"forward"}, 0},
	}
	for _, c := range cases {
		out := c.in.WithForward(f)
		if len(out) != len(c.wantTypes) {
			t.Fatalf("%s: %d actions, want %d", c.name, len(out), len(c.wantTypes))
		}
		for i, ty := range c.wantTypes {
			if out[i].Type != ty {
				t.Errorf("%s: action %d is %s, want %s", c.name, i, out[i].Type, ty)
			}
		}
		last := out[len(out)-1]
		if aws.ToInt32(last.Order) != c.wantOrder {
			t.Errorf("%s: forward order %d, want %d", c.name, aws.ToInt32(last.Order), c.wantOrder)
		}
		got, _ := out.Forward()
		if !got.Matches(f) {
			t.Errorf("%s: WithForward then Forward = %+v, want %+v", c.name, got, f)
		}
		if w := out.forWrite(); w[len(w)-1].TargetGroupArn != nil {
			t.Errorf("%s: a weighted forward is written with TargetGroupArn", c.name)
		}
	}
}

func TestEncodeDecode(t *testing.T) {
	in := Actions{{Type: types.ActionTypeEnumForward, TargetGroupArn: aws.String(tgA)}}
	s, err := in.Encode()
	if err != nil {
		t.Fatal(err)
	}
	out, err := DecodeActions(s)
	if err != nil || len(out) != 1 || aws.ToString(out[0].TargetGroupArn) != tgA || out[0].Type != types.ActionTypeEnumForward {
		t.Fatalf("DecodeActions(Encode()) = %+v, %v", out, err)
	}
	if _, err := DecodeActions("{"); err == nil {
		t.Fatal("DecodeActions of bad JSON: want an error")
	}
}

func TestMatchesIgnoresDurationWhenDisabled(t *testing.T) {
	s := weights.Split{{ARN: tgA, Weight: 1}}
	if !(Forward{Split: s, Stickiness: Stickiness{false, 0}}).Matches(Forward{Split: s, Stickiness: Stickiness{false, 300}}) {
		t.Error("disabled stickiness should match whatever the duration")
	}
	if (Forward{Split: s, Stickiness: Stickiness{true, 60}}).Matches(Forward{Split: s, Stickiness: Stickiness{true, 300}}) {
		t.Error("enabled stickiness with other durations should not match")
	}
}

func TestNewWithoutRegion(t *testing.T) {
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	t.Setenv("AWS_PROFILE", "")
	if _, err := New(context.Background(), Config{}, nil); !errors.Is(err, ErrNoRegion) {
		t.Fatalf("New without a region = %v, want ErrNoRegion", err)
	}
	c, err := New(context.Background(), Config{Region: "eu-west-1", Endpoints: Endpoints{ELBv2: "http://127.0.0.1:1"}}, nil)
	if err != nil || c.Region != "eu-west-1" {
		t.Fatalf("New with a region = %+v, %v", c, err)
	}
}
