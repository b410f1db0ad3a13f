package openfeature

import (
	"context"
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
}

func (f *fakeSSM) GetParameter(_ context.Context, in *ssm.GetParameterInput, _ ...func(*ssm.Options)) (*ssm.GetParameterOutput, error) {
	f.calls++
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
	// A flag with dependencies is read again after 30 s, the others after 300 s.
	now = now.Add(31 * time.Second)
	calls = s.calls
	eval("upsell", "alice")
	if s.calls != calls+1 { // upsell again; checkout still cached
		t.Fatalf("%d reads after 31 s, want 1 (the flag with dependencies)", s.calls-calls)
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
