package listener

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/smithy-go"

	"github.com/rolloutdev/terraform-provider-rollout/internal/awsclient"
	"github.com/rolloutdev/terraform-provider-rollout/internal/clock"
	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

const tgA, tgB = "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/a/1", "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/b/2"

// stubbornELB is a listener that another writer keeps resetting: it accepts
// ModifyListener and then reports its old actions for the next `ignore` writes.
type stubbornELB struct {
	awsclient.ELBAPI
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

// set is the one write path (rollout.Runner.Set) through a listener Router:
// what set did before it went.
func set(ctx context.Context, c *awsclient.Client, f awsclient.Forward) error {
	r := &rollout.Runner{Router: &Router{Client: c, Ref: awsclient.Ref{ListenerARN: "L"}, Stickiness: f.Stickiness}, Clock: c.Clock}
	_, err := r.Set(ctx, nil, f.Split)
	return err
}

func TestListenerWriteRetriesThenConfirms(t *testing.T) {
	fake := clock.NewFake(time.Unix(0, 0))
	api := &stubbornELB{actions: []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: aws.String(tgA)}}, ignore: 2}
	c := &awsclient.Client{ELB: api, Clock: fake}
	want := awsclient.Forward{Split: weights.Split{{ARN: tgA, Weight: 1}, {ARN: tgB, Weight: 1}}}
	if err := set(context.Background(), c, want); err != nil {
		t.Fatalf("set: %v", err)
	}
	if api.writes != 3 {
		t.Errorf("writes = %d, want 3", api.writes)
	}
	if got := fake.Sleeps(); len(got) != 2 || got[0] != rollout.ConfirmBackoff || got[1] != 2*rollout.ConfirmBackoff {
		t.Errorf("back-offs = %v, want [%v %v]", got, rollout.ConfirmBackoff, 2*rollout.ConfirmBackoff)
	}
}

func TestListenerWriteGivesUp(t *testing.T) {
	api := &stubbornELB{actions: []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: aws.String(tgA)}}, ignore: 100}
	c := &awsclient.Client{ELB: api, Clock: clock.NewFake(time.Unix(0, 0))}
	err := set(context.Background(), c, awsclient.Forward{Split: weights.Split{{ARN: tgB, Weight: 1}}})
	var nc *rollout.NotConfirmedError
	if !errors.As(err, &nc) || nc.Attempts != rollout.ConfirmAttempts || api.writes != rollout.ConfirmAttempts {
		t.Fatalf("set = %v after %d writes; want NotConfirmedError after %d", err, api.writes, rollout.ConfirmAttempts)
	}
}

func TestListenerWriteStopsOnCancel(t *testing.T) {
	api := &stubbornELB{actions: []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: aws.String(tgA)}}, ignore: 100}
	ctx, cancel := context.WithCancel(context.Background())
	fake := clock.NewFake(time.Unix(0, 0))
	fake.OnSleep(func(context.Context, time.Duration, time.Time) { cancel() })
	c := &awsclient.Client{ELB: api, Clock: fake}
	err := set(ctx, c, awsclient.Forward{Split: weights.Split{{ARN: tgB, Weight: 1}}})
	if !errors.Is(err, context.Canceled) || api.writes != 1 {
		t.Fatalf("set = %v after %d writes; want context.Canceled after 1", err, api.writes)
	}
}

func TestListenerWriteLeavesAMatchingListenerAlone(t *testing.T) {
	split := weights.Split{{ARN: tgA, Weight: 3}, {ARN: tgB, Weight: 1}}
	api := &stubbornELB{actions: awsclient.Actions{}.WithForward(awsclient.Forward{Split: split})}
	c := &awsclient.Client{ELB: api, Clock: clock.NewFake(time.Unix(0, 0))}
	if err := set(context.Background(), c, awsclient.Forward{Split: weights.Split{{ARN: tgB, Weight: 1}, {ARN: tgA, Weight: 3}}}); err != nil {
		t.Fatal(err)
	}
	if api.writes != 0 {
		t.Errorf("writes = %d, want none: the listener already forwards so", api.writes)
	}
	if err := set(context.Background(), c, awsclient.Forward{Split: weights.Split{{ARN: tgA, Weight: 1}, {ARN: tgB, Weight: 1}}}); err != nil || api.writes != 1 {
		t.Errorf("a different split: %v after %d writes, want one write", err, api.writes)
	}
}

// racingELB is a listener with a second writer: after the first
// ModifyListener it changes the authenticate action's issuer and resets the
// weights, as another pipeline would.
type racingELB struct {
	awsclient.ELBAPI
	actions []types.Action
	writes  [][]types.Action
}

func (s *racingELB) DescribeListeners(context.Context, *elb.DescribeListenersInput, ...func(*elb.Options)) (*elb.DescribeListenersOutput, error) {
	return &elb.DescribeListenersOutput{Listeners: []types.Listener{{ListenerArn: aws.String("L"), DefaultActions: s.actions}}}, nil
}

func (s *racingELB) ModifyListener(_ context.Context, in *elb.ModifyListenerInput, _ ...func(*elb.Options)) (*elb.ModifyListenerOutput, error) {
	s.writes = append(s.writes, in.DefaultActions)
	if len(s.writes) == 1 {
		s.actions = []types.Action{
			{Type: types.ActionTypeEnumAuthenticateOidc, Order: aws.Int32(1), AuthenticateOidcConfig: &types.AuthenticateOidcActionConfig{Issuer: aws.String("https://new-issuer")}},
			{Type: types.ActionTypeEnumForward, Order: aws.Int32(2), TargetGroupArn: aws.String(tgA)},
		}
		return &elb.ModifyListenerOutput{}, nil
	}
	s.actions = in.DefaultActions
	return &elb.ModifyListenerOutput{}, nil
}

// Finding 2: a confirmation retry rebuilds the actions from a fresh read and
// never writes back the other writer's old authenticate action.
func TestListenerWriteRetryRebuildsFromFreshRead(t *testing.T) {
	api := &racingELB{actions: []types.Action{
		{Type: types.ActionTypeEnumAuthenticateOidc, Order: aws.Int32(1), AuthenticateOidcConfig: &types.AuthenticateOidcActionConfig{Issuer: aws.String("https://old-issuer")}},
		{Type: types.ActionTypeEnumForward, Order: aws.Int32(2), TargetGroupArn: aws.String(tgA)},
	}}
	c := &awsclient.Client{ELB: api, Clock: clock.NewFake(time.Unix(0, 0))}
	want := awsclient.Forward{Split: weights.Split{{ARN: tgA, Weight: 1}, {ARN: tgB, Weight: 1}}}
	if err := set(context.Background(), c, want); err != nil {
		t.Fatalf("set: %v", err)
	}
	if len(api.writes) != 2 {
		t.Fatalf("%d writes, want 2", len(api.writes))
	}
	if got := aws.ToString(api.writes[1][0].AuthenticateOidcConfig.Issuer); got != "https://new-issuer" {
		t.Fatalf("the retry wrote issuer %q back, want the other writer's https://new-issuer", got)
	}
	if !aws.ToBool(api.writes[1][0].AuthenticateOidcConfig.UseExistingClientSecret) {
		t.Error("the kept authenticate-oidc action was written without UseExistingClientSecret")
	}
}

// lossyELB accepts writes and then cannot be read.
type lossyELB struct {
	awsclient.ELBAPI
	reads    int
	writeErr error
}

func (s *lossyELB) DescribeListeners(context.Context, *elb.DescribeListenersInput, ...func(*elb.Options)) (*elb.DescribeListenersOutput, error) {
	s.reads++
	if s.reads > 1 {
		return nil, errors.New("connection reset by peer")
	}
	return &elb.DescribeListenersOutput{Listeners: []types.Listener{{ListenerArn: aws.String("L"), DefaultActions: []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: aws.String(tgA)}}}}}, nil
}

func (s *lossyELB) ModifyListener(context.Context, *elb.ModifyListenerInput, ...func(*elb.Options)) (*elb.ModifyListenerOutput, error) {
	return &elb.ModifyListenerOutput{}, s.writeErr
}

// Finding 5: a write whose read-back failed says the weights are unknown; a
// write AWS refused says nothing moved.
func TestListenerWriteUnknownVersusRefused(t *testing.T) {
	c := &awsclient.Client{ELB: &lossyELB{}, Clock: clock.NewFake(time.Unix(0, 0))}
	err := set(context.Background(), c, awsclient.Forward{Split: weights.Split{{ARN: tgB, Weight: 1}}})
	if !errors.Is(err, rollout.ErrUnknownWeights) {
		t.Fatalf("read-back lost: %v, want the weights unknown", err)
	}
	c = &awsclient.Client{ELB: &lossyELB{writeErr: &smithy.GenericAPIError{Code: "ValidationError", Message: "bad", Fault: smithy.FaultClient}}, Clock: clock.NewFake(time.Unix(0, 0))}
	err = set(context.Background(), c, awsclient.Forward{Split: weights.Split{{ARN: tgB, Weight: 1}}})
	if err == nil || errors.Is(err, rollout.ErrUnknownWeights) {
		t.Fatalf("refused write: %v, want a plain error", err)
	}
	c = &awsclient.Client{ELB: &lossyELB{writeErr: &smithy.GenericAPIError{Code: "Throttling", Message: "slow down", Fault: smithy.FaultClient}}, Clock: clock.NewFake(time.Unix(0, 0))}
	err = set(context.Background(), c, awsclient.Forward{Split: weights.Split{{ARN: tgB, Weight: 1}}})
	if !errors.Is(err, rollout.ErrUnknownWeights) {
		t.Fatalf("throttled write: %v, want unknown", err)
	}
}

// Finding 10: the fixed-response action of a destroy comes after the
// highest authenticate order kept.
func TestFixedResponseOrderAfterAuthenticate(t *testing.T) {
	a := awsclient.Actions{
		{Type: types.ActionTypeEnumAuthenticateOidc, Order: aws.Int32(7)},
		{Type: types.ActionTypeEnumForward, Order: aws.Int32(9), TargetGroupArn: aws.String(tgA)},
	}
	out := a.WithFixedResponse(503, "gone")
	if len(out) != 2 || aws.ToInt32(out[1].Order) != 8 {
		t.Fatalf("fixed response order %d, want 8 (after the authenticate action's 7)", aws.ToInt32(out[1].Order))
	}
}

// Finding 8: draining and unused targets do not count against the share.
func TestHealthOfLeavesOutDrainingAndUnused(t *testing.T) {
	h := awsclient.HealthOf(map[string]int{"healthy": 4, "draining": 3, "unused": 2, "unhealthy": 1})
	if h.Healthy != 4 || h.Total != 5 {
		t.Fatalf("HealthOf = %+v, want 4 healthy of 5", h)
	}
}

// The listener router writes on top of the actions it read (an action
// another writer owns stays as read), and tells a refused write from one
// whose outcome is unknown.
func TestListenerRouter(t *testing.T) {
	auth := types.Action{Type: types.ActionTypeEnumAuthenticateOidc, Order: aws.Int32(1)}
	api := &stubbornELB{actions: []types.Action{auth, {Type: types.ActionTypeEnumForward, Order: aws.Int32(2), TargetGroupArn: aws.String(tgA)}}}
	c := &awsclient.Client{ELB: api, Clock: clock.NewFake(time.Unix(0, 0))}
	r := &Router{Client: c, Ref: awsclient.Ref{ListenerARN: "L"}}
	rd, err := r.Read(context.Background())
	if err != nil || !rd.Split.Equal(weights.Split{{ARN: tgA, Weight: 1}}) {
		t.Fatalf("read %v, %v", rd.Split, err)
	}
	want := weights.Split{{ARN: tgA, Weight: 1}, {ARN: tgB, Weight: 1}}
	if err := r.Write(context.Background(), rd, want); err != nil {
		t.Fatal(err)
	}
	if len(api.actions) != 2 || api.actions[0].Type != types.ActionTypeEnumAuthenticateOidc {
		t.Fatalf("written actions %+v, want the authenticate action kept first", api.actions)
	}
	for _, c := range []struct {
		err     error
		unknown bool
	}{
		{&smithy.GenericAPIError{Code: "ValidationError", Message: "bad", Fault: smithy.FaultClient}, false},
		{&smithy.GenericAPIError{Code: "Throttling", Message: "slow down", Fault: smithy.FaultClient}, true},
		{errors.New("connection reset by peer"), true},
	} {
		r := &Router{Client: &awsclient.Client{ELB: &lossyELB{writeErr: c.err}}, Ref: awsclient.Ref{ListenerARN: "L"}}
		err := r.Write(context.Background(), rd, want)
		if errors.Is(err, rollout.ErrUnknownWeights) != c.unknown {
			t.Errorf("write error %v: unknown = %v, want %v", err, !c.unknown, c.unknown)
		}
	}
}
