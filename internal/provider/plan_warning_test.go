package provider_test

import (
	"context"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/rolloutdev/terraform-provider-rollout/internal/acctest"
	"github.com/rolloutdev/terraform-provider-rollout/internal/provider"
)

// nullsExcept builds an object of typ whose attributes are null but those in
// set.
func nullsExcept(typ tftypes.Type, set map[string]tftypes.Value) tftypes.Value {
	obj := typ.(tftypes.Object)
	vals := map[string]tftypes.Value{}
	for name, t := range obj.AttributeTypes {
		vals[name] = tftypes.NewValue(t, nil)
	}
	for k, v := range set {
		vals[k] = v
	}
	return tftypes.NewValue(typ, vals)
}

// Planning a blue/green deployment on a listener that serves traffic warns
// that the traffic moves at once to the new, empty target group. The
// engines show warnings but terraform-plugin-testing cannot assert them, so
// this plan is made through the provider server against the emulator.
func TestPlanWarnsOfTakeover(t *testing.T) {
	e := acctest.NewEnv(t)
	f := e.NewFixture(1)
	ctx := context.Background()
	s := providerserver.NewProtocol6(provider.New("test")())()
	schemas, err := s.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	str := func(v string) tftypes.Value { return tftypes.NewValue(tftypes.String, v) }
	ptyp := schemas.Provider.ValueType()
	epType := ptyp.(tftypes.Object).AttributeTypes["endpoints"]
	eps := nullsExcept(epType, map[string]tftypes.Value{"elbv2": str(e.Emu.URL), "cloudwatch": str(e.Emu.URL), "lambda": str(e.Emu.URL)})
	pcfg, _ := tfprotov6.NewDynamicValue(ptyp, nullsExcept(ptyp, map[string]tftypes.Value{"region": str(acctest.Region), "endpoints": eps}))
	if resp, err := s.ConfigureProvider(ctx, &tfprotov6.ConfigureProviderRequest{Config: &pcfg}); err != nil || len(resp.Diagnostics) > 0 {
		t.Fatalf("ConfigureProvider: %v %v", err, resp.Diagnostics)
	}
	rtyp := schemas.ResourceSchemas["rollout_deployment_bluegreen"].ValueType()
	cfgVal := nullsExcept(rtyp, map[string]tftypes.Value{
		"listener_arn": str(f.Listener), "name_prefix": str("web"), "port": tftypes.NewValue(tftypes.Number, 8080),
		"protocol": str("HTTP"), "vpc_id": str(e.VPC), "active": str("blue"),
	})
	cfg, _ := tfprotov6.NewDynamicValue(rtyp, cfgVal)
	prior, _ := tfprotov6.NewDynamicValue(rtyp, tftypes.NewValue(rtyp, nil))
	resp, err := s.PlanResourceChange(ctx, &tfprotov6.PlanResourceChangeRequest{
		TypeName: "rollout_deployment_bluegreen", Config: &cfg, PriorState: &prior, ProposedNewState: &cfg,
	})
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, d := range resp.Diagnostics {
		if d.Severity == tfprotov6.DiagnosticSeverityError {
			t.Errorf("error: %s: %s", d.Summary, d.Detail)
		}
		found = found || (d.Summary == "Listener Traffic Moves On Create" && strings.Contains(d.Detail, "sends all of it at once to the new blue target group"))
	}
	if !found {
		t.Errorf("no takeover warning in %v", resp.Diagnostics)
	}
}
