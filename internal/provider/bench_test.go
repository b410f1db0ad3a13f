package provider_test

import (
	"context"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/rolloutdev/terraform-provider-rollout/internal/provider"
)

// The provider's own share of a plan: what one PlanResourceChange and one
// ValidateResourceConfig of a traffic split cost, without the engine or AWS.
func benchServer(b *testing.B) (tfprotov6.ProviderServer, tftypes.Type) {
	b.Helper()
	s := providerserver.NewProtocol6(provider.New("bench")())()
	resp, err := s.GetProviderSchema(context.Background(), &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		b.Fatal(err)
	}
	return s, resp.ResourceSchemas["rollout_traffic_split"].ValueType()
}

func splitValue(typ tftypes.Type, withComputed bool) tftypes.Value {
	obj := typ.(tftypes.Object)
	tgType := obj.AttributeTypes["target_groups"].(tftypes.List).ElementType
	tg := func(arn string, w int64) tftypes.Value {
		return tftypes.NewValue(tgType, map[string]tftypes.Value{"arn": tftypes.NewValue(tftypes.String, arn), "weight": tftypes.NewValue(tftypes.Number, w)})
	}
	vals := map[string]tftypes.Value{}
	for name, t := range obj.AttributeTypes {
		vals[name] = tftypes.NewValue(t, nil)
	}
	vals["listener_arn"] = tftypes.NewValue(tftypes.String, fakeListener)
	vals["target_groups"] = tftypes.NewValue(obj.AttributeTypes["target_groups"], []tftypes.Value{tg(fakeTG(0), 90), tg(fakeTG(1), 10)})
	if withComputed {
		vals["id"] = tftypes.NewValue(tftypes.String, fakeListener)
		vals["on_destroy"] = tftypes.NewValue(tftypes.String, "keep")
		vals["percentages"] = tftypes.NewValue(obj.AttributeTypes["percentages"], map[string]tftypes.Value{
			fakeTG(0): tftypes.NewValue(tftypes.Number, 90), fakeTG(1): tftypes.NewValue(tftypes.Number, 10)})
		vals["replaced_actions"] = tftypes.NewValue(tftypes.String, "[]")
	}
	return tftypes.NewValue(typ, vals)
}

func BenchmarkPlanUnchangedSplit(b *testing.B) {
	s, typ := benchServer(b)
	ctx := context.Background()
	cfg, _ := tfprotov6.NewDynamicValue(typ, splitValue(typ, false))
	state, _ := tfprotov6.NewDynamicValue(typ, splitValue(typ, true))
	b.ReportAllocs()
	for b.Loop() {
		resp, err := s.PlanResourceChange(ctx, &tfprotov6.PlanResourceChangeRequest{
			TypeName: "rollout_traffic_split", Config: &cfg, PriorState: &state, ProposedNewState: &state,
		})
		if err != nil || len(resp.Diagnostics) > 0 {
			b.Fatalf("PlanResourceChange: %v %v", err, resp.Diagnostics)
		}
	}
}

func BenchmarkValidateSplit(b *testing.B) {
	s, typ := benchServer(b)
	ctx := context.Background()
	cfg, _ := tfprotov6.NewDynamicValue(typ, splitValue(typ, false))
	b.ReportAllocs()
	for b.Loop() {
		resp, err := s.ValidateResourceConfig(ctx, &tfprotov6.ValidateResourceConfigRequest{TypeName: "rollout_traffic_split", Config: &cfg})
		if err != nil || len(resp.Diagnostics) > 0 {
			b.Fatalf("ValidateResourceConfig: %v %v", err, resp.Diagnostics)
		}
	}
}
