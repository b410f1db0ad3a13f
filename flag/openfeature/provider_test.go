package openfeature

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	of "github.com/open-feature/go-sdk/openfeature"
)

type fakeSSM struct {
	docs  map[string]string
	calls int
	// err, when set, is every read's answer.
	err error
}

func (f *fakeSSM) GetParameter(ctx context.Context, in *ssm.GetParameterInput, _ ...func(*ssm.Options)) (*ssm.GetParameterOutput, error) {
	f.calls++
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if f.err != nil {
		return nil, f.err
	}
	d, ok := f.docs[aws.ToString(in.Name)]
	if !ok {
		return nil, &ssmtypes.ParameterNotFound{}
	}
	return &ssm.GetParameterOutput{Parameter: &ssmtypes.Parameter{Value: aws.String(d)}}, nil
}

func TestProviderEvaluatesCachesAndFailsSafe(t *testing.T) {
	now := time.Unix(0, 0)
	s := &fakeSSM{docs: map[string]string{
		"/rollout/flags/checkout": `{"schema_version":1,"key":"checkout","enabled":true,"rollout_percentage":100,"targeting":{"excluded_users":["bob"]}}`,
		"/rollout/flags/upsell":   `{"schema_version":1,"key":"upsell","enabled":true,"rollout_percentage":100,"dependencies":["checkout"]}`,
		"/rollout/flags/broken":   `{"schema_version":7}`,
	}}
	p := New(s, WithClock(func() time.Time { return now }), WithEnvironment("prod"))
	ctx := context.Background()
	eval := func(key, user string) of.BoolResolutionDetail {
		return p.BooleanEvaluation(ctx, key, true, of.FlattenedContext{of.TargetingKey: user, "plan": "pro"})
	}
	if r := eval("checkout", "alice"); !r.Value || r.Reason != of.StaticReason || r.Variant != "on" {
		t.Fatalf("alice: %+v", r)
	}
	if r := eval("checkout", "bob"); r.Value || r.Reason != of.TargetingMatchReason || r.FlagMetadata["rollout_reason"] != "EXCLUDED" {
		t.Fatalf("bob: %+v", r)
	}
	if r := eval("upsell", "bob"); r.Value || r.FlagMetadata["rollout_reason"] != "DEPENDENCY_OFF" {
		t.Fatalf("upsell for bob: %+v", r)
	}
	for _, key := range []string{"missing", "broken"} {
		if r := eval(key, "alice"); r.Value || r.Reason != of.ErrorReason || r.Error() == nil {
			t.Fatalf("%s: %+v", key, r)
		}
	}
	calls := s.calls
	eval("checkout", "carol")
	if s.calls != calls {
		t.Fatalf("a cached flag was read again")
	}
	// A flag with dependencies, and its dependencies, are read again after
	// 30 s (a dependency's kill switch reaches its dependents in 30 s); a
	// flag evaluated alone after 300 s.
	now = now.Add(31 * time.Second)
	calls = s.calls
	eval("upsell", "alice")
	if s.calls != calls+2 {
		t.Fatalf("%d reads after 31 s, want 2 (the flag with dependencies and its dependency)", s.calls-calls)
	}
	calls = s.calls
	eval("checkout", "alice")
	if s.calls != calls {
		t.Fatalf("checkout, evaluated alone, was read again before its 300 s")
	}
	now = now.Add(300 * time.Second)
	calls = s.calls
	eval("checkout", "alice")
	if s.calls != calls+1 {
		t.Fatalf("checkout was not read again after its 300 s")
	}
	if r := p.StringEvaluation(ctx, "checkout", "x", nil); r.Value != "x" || r.Error() == nil {
		t.Fatalf("string evaluation: %+v", r)
	}
}

// Only answers are cached: one caller's cancelled context does not turn the
// flag off for the others, and while Parameter Store cannot be read the
// last document is served, for at most MaxStale past its lifetime.
func TestProviderCachesOnlyAnswers(t *testing.T) {
	now := time.Unix(0, 0)
	s := &fakeSSM{docs: map[string]string{
		"/rollout/flags/checkout": `{"schema_version":1,"key":"checkout","enabled":true,"rollout_percentage":100}`,
	}}
	p := New(s, WithClock(func() time.Time { return now }), WithMaxStale(10*time.Minute))
	flat := of.FlattenedContext{of.TargetingKey: "alice"}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if r := p.BooleanEvaluation(cancelled, "checkout", false, flat); r.Value || r.Reason != of.ErrorReason {
		t.Fatalf("a cancelled caller: %+v", r)
	}
	if r := p.BooleanEvaluation(context.Background(), "checkout", false, flat); !r.Value {
		t.Fatalf("the next caller after a cancelled one: %+v, want on (the cancel was cached)", r)
	}
	s.err = errors.New("ThrottlingException: Rate exceeded")
	now = now.Add(DefaultTTL + 5*time.Minute)
	if r := p.BooleanEvaluation(context.Background(), "checkout", false, flat); !r.Value {
		t.Fatalf("Parameter Store failing 5 minutes after the lifetime: %+v, want the last document (on)", r)
	}
	now = now.Add(6 * time.Minute)
	if r := p.BooleanEvaluation(context.Background(), "checkout", false, flat); r.Value || r.Reason != of.ErrorReason {
		t.Fatalf("past MaxStale: %+v, want off with ERROR", r)
	}
	s.err = nil
	if r := p.BooleanEvaluation(context.Background(), "checkout", false, flat); !r.Value {
		t.Fatalf("Parameter Store back: %+v", r)
	}
}
