package awsclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/smithy-go"

	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

// ErrNotFound means the listener or rule no longer exists.
var ErrNotFound = errors.New("not found")

// Ref names the owner of a forward action: a listener (its default actions)
// or a listener rule. Exactly one field is set.
type Ref struct {
	ListenerARN string `json:"listener_arn,omitempty"`
	RuleARN     string `json:"rule_arn,omitempty"`
}

// ID is the ARN of whichever is set.
func (r Ref) ID() string {
	if r.RuleARN != "" {
		return r.RuleARN
	}
	return r.ListenerARN
}

// Kind is "listener" or "rule", for messages.
func (r Ref) Kind() string {
	if r.RuleARN != "" {
		return "rule"
	}
	return "listener"
}

// Stickiness is the target group stickiness of a forward action.
type Stickiness struct {
	Enabled         bool  `json:"enabled,omitempty"`
	DurationSeconds int32 `json:"duration_seconds,omitempty"`
}

// Forward is the part of a forward action the provider owns.
type Forward struct {
	Split      weights.Split
	Stickiness Stickiness
}

// Matches reports whether f and o would route traffic the same way.
func (f Forward) Matches(o Forward) bool {
	if !f.Split.Equal(o.Split) || f.Stickiness.Enabled != o.Stickiness.Enabled {
		return false
	}
	return !f.Stickiness.Enabled || f.Stickiness.DurationSeconds == o.Stickiness.DurationSeconds
}

// Actions is the ordered action list of a listener's default action or a rule.
type Actions []types.Action

// Forward returns the forward action's target groups and stickiness, and
// false when there is no forward action.
func (a Actions) Forward() (Forward, bool) {
	for _, act := range a {
		if act.Type != types.ActionTypeEnumForward {
			continue
		}
		var f Forward
		if fc := act.ForwardConfig; fc != nil && len(fc.TargetGroups) > 0 {
			for _, t := range fc.TargetGroups {
				f.Split = append(f.Split, weights.Target{ARN: aws.ToString(t.TargetGroupArn), Weight: int(aws.ToInt32(t.Weight))})
			}
			if s := fc.TargetGroupStickinessConfig; s != nil {
				f.Stickiness = Stickiness{Enabled: aws.ToBool(s.Enabled), DurationSeconds: aws.ToInt32(s.DurationSeconds)}
			}
		} else if act.TargetGroupArn != nil {
			// A forward to one target group without ForwardConfig carries
			// all the traffic; AWS reports it with weight 1.
			f.Split = weights.Split{{ARN: aws.ToString(act.TargetGroupArn), Weight: 1}}
		}
		return f, true
	}
	return Forward{}, false
}

// terminal action types: a list ends with exactly one of them.
func isTerminal(t types.ActionTypeEnum) bool {
	switch t {
	case types.ActionTypeEnumForward, types.ActionTypeEnumFixedResponse, types.ActionTypeEnumRedirect:
		return true
	}
	return false
}

// WithForward returns a copy of a in which the terminal action (a forward,
// fixed-response or redirect) is replaced by a forward action to f. Actions
// that run before it, such as authenticate-oidc, are kept with their order.
func (a Actions) WithForward(f Forward) Actions {
	fwd := types.Action{Type: types.ActionTypeEnumForward, ForwardConfig: &types.ForwardActionConfig{}}
	for _, t := range f.Split {
		fwd.ForwardConfig.TargetGroups = append(fwd.ForwardConfig.TargetGroups, types.TargetGroupTuple{
			TargetGroupArn: aws.String(t.ARN),
			Weight:         aws.Int32(int32(t.Weight)),
		})
	}
	st := &types.TargetGroupStickinessConfig{Enabled: aws.Bool(f.Stickiness.Enabled)}
	if f.Stickiness.Enabled {
		st.DurationSeconds = aws.Int32(f.Stickiness.DurationSeconds)
	}
	fwd.ForwardConfig.TargetGroupStickinessConfig = st

	out := make(Actions, 0, len(a)+1)
	replaced := false
	for _, act := range a {
		if isTerminal(act.Type) {
			if replaced {
				continue
			}
			fwd.Order = act.Order
			out = append(out, fwd)
			replaced = true
			continue
		}
		out = append(out, act)
	}
	if !replaced {
		if n := len(out); n > 0 && out[n-1].Order != nil {
			fwd.Order = aws.Int32(aws.ToInt32(out[n-1].Order) + 1)
		}
		out = append(out, fwd)
	}
	return out
}

// WithFixedResponse returns the actions with the terminal action replaced by
// a fixed response (authenticate actions are kept).
func (a Actions) WithFixedResponse(code int, message string) Actions {
	fr := types.Action{Type: types.ActionTypeEnumFixedResponse, FixedResponseConfig: &types.FixedResponseActionConfig{
		StatusCode: aws.String(strconv.Itoa(code)), ContentType: aws.String("text/plain"), MessageBody: aws.String(message),
	}}
	var out Actions
	order := int32(0)
	for _, act := range a {
		if act.Type == types.ActionTypeEnumAuthenticateCognito || act.Type == types.ActionTypeEnumAuthenticateOidc {
			out = append(out, act)
			order = max(order, aws.ToInt32(act.Order))
		}
	}
	// The terminal action must come last: after the highest order kept
	// (an authenticate action may have any order up to 50000).
	fr.Order = aws.Int32(max(order, int32(len(out))) + 1)
	return append(out, fr)
}

// Encode turns a into the JSON the provider keeps in state to restore later.
func (a Actions) Encode() (string, error) {
	b, err := json.Marshal(a)
	return string(b), err
}

// DecodeActions reads what Encode wrote.
func DecodeActions(s string) (Actions, error) {
	var a Actions
	if err := json.Unmarshal([]byte(s), &a); err != nil {
		return nil, err
	}
	return a, nil
}

// forWrite strips what AWS reports but refuses on input: a forward action
// given both TargetGroupArn and a ForwardConfig of several target groups.
func (a Actions) forWrite() []types.Action {
	out := make([]types.Action, len(a))
	copy(out, a)
	for i := range out {
		if out[i].Type == types.ActionTypeEnumForward && out[i].ForwardConfig != nil && len(out[i].ForwardConfig.TargetGroups) > 0 {
			out[i].TargetGroupArn = nil
		}
		// AWS never returns an OIDC client secret, and refuses an
		// authenticate-oidc action written back with neither the secret nor
		// UseExistingClientSecret: keep the secret the listener has.
		if oc := out[i].AuthenticateOidcConfig; out[i].Type == types.ActionTypeEnumAuthenticateOidc && oc != nil && aws.ToString(oc.ClientSecret) == "" {
			c := *oc
			c.ClientSecret = nil
			c.UseExistingClientSecret = aws.Bool(true)
			out[i].AuthenticateOidcConfig = &c
		}
	}
	return out
}

// ReadActions returns the actions of a listener's default action or a rule,
// or ErrNotFound; under an API budget, with the reads waiting meanwhile
// (batch.go).
func (c *Client) ReadActions(ctx context.Context, ref Ref) (Actions, error) {
	return c.readBatched(ctx, ref)
}

// readOne reads the actions of one listener or rule in its own request.
func (c *Client) readOne(ctx context.Context, ref Ref) (Actions, error) {
	if ref.RuleARN != "" {
		out, err := c.ELB.DescribeRules(ctx, &elb.DescribeRulesInput{RuleArns: []string{ref.RuleARN}})
		if isNotFound(err) {
			return nil, ErrNotFound
		}
		if err != nil {
			return nil, err
		}
		for _, r := range out.Rules {
			if aws.ToString(r.RuleArn) == ref.RuleARN {
				return r.Actions, nil
			}
		}
		// An empty answer means the rule is gone, whatever error code the
		// endpoint uses for it.
		return nil, ErrNotFound
	}
	out, err := c.ELB.DescribeListeners(ctx, &elb.DescribeListenersInput{ListenerArns: []string{ref.ListenerARN}})
	if isNotFound(err) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	for _, l := range out.Listeners {
		if aws.ToString(l.ListenerArn) == ref.ListenerARN {
			return l.DefaultActions, nil
		}
	}
	return nil, ErrNotFound
}

// WriteActions replaces the actions of a listener's default action or a rule.
func (c *Client) WriteActions(ctx context.Context, ref Ref, a Actions) error {
	var err error
	if ref.RuleARN != "" {
		_, err = c.ELB.ModifyRule(ctx, &elb.ModifyRuleInput{RuleArn: aws.String(ref.RuleARN), Actions: a.forWrite()})
	} else {
		_, err = c.ELB.ModifyListener(ctx, &elb.ModifyListenerInput{ListenerArn: aws.String(ref.ListenerARN), DefaultActions: a.forWrite()})
	}
	if isNotFound(err) {
		return ErrNotFound
	}
	return err
}

// UnknownWeightsError says a write was sent but what the listener serves
// after it could not be read: the write may or may not have landed.
type UnknownWeightsError struct {
	Ref Ref
	Err error
}

func (e *UnknownWeightsError) Error() string {
	return fmt.Sprintf("the new forward action of %s was sent, but whether it is in place could not be confirmed: %v", e.Ref.ID(), e.Err)
}

// Unwrap lets errors.Is find rollout.ErrUnknownWeights and the cause.
func (e *UnknownWeightsError) Unwrap() []error { return []error{rollout.ErrUnknownWeights, e.Err} }

// Refused reports whether AWS answered a request with an error of the
// caller's (a 4xx such as ValidationError, AccessDenied, TargetGroupNotFound),
// after which nothing changed. A throttle, a server error, a reset
// connection or a timeout leaves the outcome unknown.
func Refused(err error) bool {
	if errors.Is(err, ErrNotFound) {
		return true
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorFault() == smithy.FaultServer {
		return false
	}
	switch ae.ErrorCode() {
	case "Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException", "RequestTimeout", "RequestTimeoutException":
		return false
	}
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) && re.HTTPStatusCode() >= 500 {
		return false
	}
	return true
}

func isNotFound(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.ErrorCode() {
	case "ListenerNotFound", "RuleNotFound", "LoadBalancerNotFound":
		return true
	}
	return false
}

// TerminalType is the type of the action that ends the list ("forward",
// "fixed-response", "redirect"), or "" when there is none.
func (a Actions) TerminalType() string {
	for _, act := range a {
		if isTerminal(act.Type) {
			return string(act.Type)
		}
	}
	return ""
}
