package awsclient

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/rolloutdev/terraform-provider-rollout/internal/clock"
	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

// stubbornELB is a listener that another writer keeps resetting: it accepts
// ModifyListener and then reports its old actions for the next `ignore` writes.
type stubbornELB struct {
	ELBAPI
	actions []types.Action
	ignore  int
	writes  int
}

func (s *stubbornELB) DescribeListeners(context.Context, *elb.DescribeListenersInput, ...func(*elb.Options)) (*elb.DescribeListenersOutput, error) {
	return &elb.DescribeListenersOutput{Listeners: []types.Listener{{ListenerArn: aws.String("L"), DefaultActions: s.actions}}}, nil
}

func (s *stubbornELB) ModifyListener(_ context.Context, in *elb.ModifyListenerInput, _ ...func(*elb.Options)) (*elb.ModifyListenerOutput, error) {
	s.writes++
	if s.writes > s.ignore {
		s.actions = in.DefaultActions
	}
	return &elb.ModifyListenerOutput{}, nil
}

func TestSetForwardRetriesThenConfirms(t *testing.T) {
	fake := clock.NewFake(time.Unix(0, 0))
	api := &stubbornELB{actions: []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: aws.String(tgA)}}, ignore: 2}
	c := &Client{ELB: api, Clock: fake}
	want := Forward{Split: weights.Split{{ARN: tgA, Weight: 1}, {ARN: tgB, Weight: 1}}}
	if _, err := c.SetForward(context.Background(), Ref{ListenerARN: "L"}, nil, want); err != nil {
		t.Fatalf("SetForward: %v", err)
	}
	if api.writes != 3 {
		t.Errorf("writes = %d, want 3", api.writes)
	}
	if got := fake.Sleeps(); len(got) != 2 || got[0] != ConfirmBackoff || got[1] != 2*ConfirmBackoff {
		t.Errorf("back-offs = %v, want [%v %v]", got, ConfirmBackoff, 2*ConfirmBackoff)
	}
}

func TestSetForwardGivesUp(t *testing.T) {
	api := &stubbornELB{actions: []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: aws.String(tgA)}}, ignore: 100}
	c := &Client{ELB: api, Clock: clock.NewFake(time.Unix(0, 0))}
	_, err := c.SetForward(context.Background(), Ref{ListenerARN: "L"}, nil, Forward{Split: weights.Split{{ARN: tgB, Weight: 1}}})
	var nc *NotConfirmedError
	if !errors.As(err, &nc) || nc.Attempts != ConfirmAttempts || api.writes != ConfirmAttempts {
		t.Fatalf("SetForward = %v after %d writes; want NotConfirmedError after %d", err, api.writes, ConfirmAttempts)
	}
}

func TestSetForwardStopsOnCancel(t *testing.T) {
	api := &stubbornELB{actions: []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: aws.String(tgA)}}, ignore: 100}
	ctx, cancel := context.WithCancel(context.Background())
	fake := clock.NewFake(time.Unix(0, 0))
	fake.OnSleep(func(context.Context, time.Duration, time.Time) { cancel() })
	c := &Client{ELB: api, Clock: fake}
	_, err := c.SetForward(ctx, Ref{ListenerARN: "L"}, nil, Forward{Split: weights.Split{{ARN: tgB, Weight: 1}}})
	if !errors.Is(err, context.Canceled) || api.writes != 1 {
		t.Fatalf("SetForward = %v after %d writes; want context.Canceled after 1", err, api.writes)
	}
}

func TestSetForwardLeavesAMatchingListenerAlone(t *testing.T) {
	split := weights.Split{{ARN: tgA, Weight: 3}, {ARN: tgB, Weight: 1}}
	api := &stubbornELB{actions: Actions{}.WithForward(Forward{Split: split})}
	c := &Client{ELB: api, Clock: clock.NewFake(time.Unix(0, 0))}
	if _, err := c.SetForward(context.Background(), Ref{ListenerARN: "L"}, nil, Forward{Split: weights.Split{{ARN: tgB, Weight: 1}, {ARN: tgA, Weight: 3}}}); err != nil {
		t.Fatal(err)
	}
	if api.writes != 0 {
		t.Errorf("writes = %d, want none: the listener already forwards so", api.writes)
	}
	if _, err := c.SetForward(context.Background(), Ref{ListenerARN: "L"}, nil, Forward{Split: weights.Split{{ARN: tgA, Weight: 1}, {ARN: tgB, Weight: 1}}}); err != nil || api.writes != 1 {
		t.Errorf("a different split: %v after %d writes, want one write", err, api.writes)
	}
}
