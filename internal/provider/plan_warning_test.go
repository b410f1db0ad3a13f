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
	s, schemas := configured(t, e)
	str := func(v string) tftypes.Value { return tftypes.NewValue(tftypes.String, v) }
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

// configured returns a provider server configured against e's emulator and
// its schemas.
func configured(t *testing.T, e *acctest.Env) (tfprotov6.ProviderServer, *tfprotov6.GetProviderSchemaResponse) {
	t.Helper()
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
	return s, schemas
}

func hasWarning(t *testing.T, ds []*tfprotov6.Diagnostic, summary, detail string) {
	t.Helper()
	for _, d := range ds {
		if d.Severity == tfprotov6.DiagnosticSeverityError {
			t.Errorf("error: %s: %s", d.Summary, d.Detail)
		}
		if d.Severity == tfprotov6.DiagnosticSeverityWarning && d.Summary == summary && strings.Contains(d.Detail, detail) {
			return
		}
	}
	t.Errorf("no warning %q in %v", summary, ds)
}

// splitObject is a rollout_traffic_split object of typ: tgs as [arn, weight]
// pairs, a rollout block, and the other attributes in set.
func splitObject(typ tftypes.Type, tgs []string, ws []int, rollout map[string]tftypes.Value, set map[string]tftypes.Value) tftypes.Value {
	at := typ.(tftypes.Object).AttributeTypes
	elemT := at["target_groups"].(tftypes.List).ElementType
	var elems []tftypes.Value
	for i, tg := range tgs {
		elems = append(elems, tftypes.NewValue(elemT, map[string]tftypes.Value{"arn": tftypes.NewValue(tftypes.String, tg), "weight": tftypes.NewValue(tftypes.Number, ws[i])}))
	}
	vals := map[string]tftypes.Value{"target_groups": tftypes.NewValue(at["target_groups"], elems)}
	if rollout != nil {
		vals["rollout"] = nullsExcept(at["rollout"], rollout)
	}
	for k, v := range set {
		vals[k] = v
	}
	return nullsExcept(typ, vals)
}

// An error-rate gate without min_request_count warns at plan time that a
// step would be judged on as little as one request.
func TestPlanWarnsOfErrorRateWithoutMinimum(t *testing.T) {
	e := acctest.NewEnv(t)
	s, schemas := configured(t, e)
	typ := schemas.ResourceSchemas["rollout_traffic_split"].ValueType()
	rt := typ.(tftypes.Object).AttributeTypes["rollout"].(tftypes.Object)
	gt := rt.AttributeTypes["gates"].(tftypes.Object)
	metrics := nullsExcept(gt.AttributeTypes["metrics"], map[string]tftypes.Value{"max_error_rate_percent": tftypes.NewValue(tftypes.Number, 1)})
	steps := tftypes.NewValue(rt.AttributeTypes["steps"], []tftypes.Value{
		nullsExcept(rt.AttributeTypes["steps"].(tftypes.List).ElementType, map[string]tftypes.Value{"percent": tftypes.NewValue(tftypes.Number, 10), "pause": tftypes.NewValue(tftypes.String, "5m")}),
		nullsExcept(rt.AttributeTypes["steps"].(tftypes.List).ElementType, map[string]tftypes.Value{"percent": tftypes.NewValue(tftypes.Number, 100)}),
	})
	cfg := splitObject(typ, []string{fakeTG(0), fakeTG(1)}, []int{0, 100}, map[string]tftypes.Value{
		"strategy": tftypes.NewValue(tftypes.String, "canary"), "steps": steps,
		"gates": nullsExcept(gt, map[string]tftypes.Value{"metrics": metrics}),
	}, map[string]tftypes.Value{"listener_arn": tftypes.NewValue(tftypes.String, fakeListener)})
	dv, _ := tfprotov6.NewDynamicValue(typ, cfg)
	resp, err := s.ValidateResourceConfig(context.Background(), &tfprotov6.ValidateResourceConfigRequest{TypeName: "rollout_traffic_split", Config: &dv})
	if err != nil {
		t.Fatal(err)
	}
	hasWarning(t, resp.Diagnostics, "Error Rate Gate Without Minimum", "judged on as little as one request")
}

// Finding 9, at plan time: planning again the change that was rolled back
// warns that apply will refuse it until rollout.attempt changes.
func TestPlanWarnsOfRolledBackChange(t *testing.T) {
	e := acctest.NewEnv(t)
	f := e.NewFixture(2)
	s, schemas := configured(t, e)
	typ := schemas.ResourceSchemas["rollout_traffic_split"].ValueType()
	at := typ.(tftypes.Object).AttributeTypes
	str := func(v string) tftypes.Value { return tftypes.NewValue(tftypes.String, v) }
	target := f.TGs[0] + "=0, " + f.TGs[1] + "=100"
	if f.TGs[1] < f.TGs[0] {
		target = f.TGs[1] + "=100, " + f.TGs[0] + "=0"
	}
	last := nullsExcept(at["last_rollout"], map[string]tftypes.Value{"status": str("rolled_back"), "reason": str("step 2 of 3 failed the alarms gate"), "target": str(target), "attempt": str("")})
	prior := splitObject(typ, f.TGs, []int{100, 0}, nil, map[string]tftypes.Value{"id": str(f.Listener), "listener_arn": str(f.Listener), "on_destroy": str("keep"), "last_rollout": last})
	cfg := splitObject(typ, f.TGs, []int{0, 100}, nil, map[string]tftypes.Value{"listener_arn": str(f.Listener)})
	proposed := splitObject(typ, f.TGs, []int{0, 100}, nil, map[string]tftypes.Value{"id": str(f.Listener), "listener_arn": str(f.Listener), "on_destroy": str("keep"), "last_rollout": last})
	pv, _ := tfprotov6.NewDynamicValue(typ, prior)
	cv, _ := tfprotov6.NewDynamicValue(typ, cfg)
	nv, _ := tfprotov6.NewDynamicValue(typ, proposed)
	resp, err := s.PlanResourceChange(context.Background(), &tfprotov6.PlanResourceChangeRequest{TypeName: "rollout_traffic_split", Config: &cv, PriorState: &pv, ProposedNewState: &nv})
	if err != nil {
		t.Fatal(err)
	}
	hasWarning(t, resp.Diagnostics, "Rolled-Back Change Planned Again", "Apply will refuse it with nothing moved")
}

// A flag past expires_at is a plan warning (a stale flag), not an error.
func TestPlanWarnsOfStaleFlag(t *testing.T) {
	e := acctest.NewEnv(t)
	s, schemas := configured(t, e)
	typ := schemas.ResourceSchemas["rollout_feature_flag"].ValueType()
	str := func(v string) tftypes.Value { return tftypes.NewValue(tftypes.String, v) }
	// The engine fills defaults before ModifyPlan: give the planned values.
	planned := nullsExcept(typ, map[string]tftypes.Value{
		"key": str("old-banner"), "path_prefix": str("/rollout/flags/"), "enabled": tftypes.NewValue(tftypes.Bool, true),
		"rollout_percentage": tftypes.NewValue(tftypes.Number, 100), "kill_switch": tftypes.NewValue(tftypes.Bool, false),
		"expires_at": str("2020-01-31T00:00:00Z"),
	})
	cfg := nullsExcept(typ, map[string]tftypes.Value{"key": str("old-banner"), "rollout_percentage": tftypes.NewValue(tftypes.Number, 100), "expires_at": str("2020-01-31T00:00:00Z")})
	cv, _ := tfprotov6.NewDynamicValue(typ, cfg)
	pv, _ := tfprotov6.NewDynamicValue(typ, planned)
	prior, _ := tfprotov6.NewDynamicValue(typ, tftypes.NewValue(typ, nil))
	resp, err := s.PlanResourceChange(context.Background(), &tfprotov6.PlanResourceChangeRequest{TypeName: "rollout_feature_flag", Config: &cv, PriorState: &prior, ProposedNewState: &pv})
	if err != nil {
		t.Fatal(err)
	}
	hasWarning(t, resp.Diagnostics, "Stale Feature Flag", "expired at 2020-01-31T00:00:00Z")
}

// A release's plan-time warnings, on the attribute at fault: a soft
// dependency that would close a cycle is dropped, and a stabilization no
// dependency waits for is never used.
func TestReleaseValidateWarns(t *testing.T) {
	ctx := context.Background()
	s := providerserver.NewProtocol6(provider.New("test")())()
	schemas, err := s.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	str := func(v string) tftypes.Value { return tftypes.NewValue(tftypes.String, v) }
	rtyp := schemas.ResourceSchemas["rollout_release"].ValueType().(tftypes.Object)
	svcsType := rtyp.AttributeTypes["services"].(tftypes.Map)
	svcType := svcsType.ElementType.(tftypes.Object)
	tgsType := svcType.AttributeTypes["target_groups"].(tftypes.List)
	tgs := tftypes.NewValue(tgsType, []tftypes.Value{tftypes.NewValue(tgsType.ElementType, map[string]tftypes.Value{"arn": str(fakeTG(0)), "weight": tftypes.NewValue(tftypes.Number, 100)})})
	svc := func(listener string) tftypes.Value {
		return nullsExcept(svcType, map[string]tftypes.Value{"listener_arn": str(listener), "target_groups": tgs})
	}
	depsType := rtyp.AttributeTypes["dependencies"].(tftypes.List)
	dep := func(service, on, kind string) tftypes.Value {
		return nullsExcept(depsType.ElementType, map[string]tftypes.Value{"service": str(service), "depends_on": str(on), "type": str(kind)})
	}
	stabType := rtyp.AttributeTypes["stabilization"]
	cfgVal := nullsExcept(rtyp, map[string]tftypes.Value{
		"services": tftypes.NewValue(svcsType, map[string]tftypes.Value{
			"api": svc(fakeListener), "web": svc(strings.Replace(fakeListener, "f2f7dc8efc522ab2", "f2f7dc8efc522ab3", 1)),
		}),
		"dependencies":  tftypes.NewValue(depsType, []tftypes.Value{dep("web", "api", "hard"), dep("api", "web", "soft")}),
		"stabilization": nullsExcept(stabType, map[string]tftypes.Value{"duration": str("1m")}),
	})
	cfg, _ := tfprotov6.NewDynamicValue(rtyp, cfgVal)
	resp, err := s.ValidateResourceConfig(ctx, &tfprotov6.ValidateResourceConfigRequest{TypeName: "rollout_release", Config: &cfg})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"Soft Dependency Dropped":  "AttributeName(\"dependencies\").ElementKeyInt(1)",
		"Stabilization Never Used": "AttributeName(\"stabilization\")",
	}
	for _, d := range resp.Diagnostics {
		if d.Severity == tfprotov6.DiagnosticSeverityError {
			t.Errorf("error: %s: %s", d.Summary, d.Detail)
			continue
		}
		if at, ok := want[d.Summary]; ok {
			if d.Attribute == nil || d.Attribute.String() != at {
				t.Errorf("%s on %v, want %s", d.Summary, d.Attribute, at)
			}
			delete(want, d.Summary)
		}
	}
	for summary := range want {
		t.Errorf("no %q warning in %v", summary, resp.Diagnostics)
	}
}
