package acctest

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/rolloutdev/terraform-provider-rollout/internal/provider"
)

// Engine drives the provider under test in-process through the plugin
// protocol, as Terraform's core does, on the test's fake clock: validate,
// plan (with the proposed new state core computes), apply a plan made
// earlier (a saved plan: core plans again at apply time and requires the
// final plan to keep every value the saved one showed), refresh, import and
// destroy. It checks the provider's answers by the rules core enforces, and
// reports a break of them as core would ("Provider produced inconsistent
// final plan", "… inconsistent result after apply", "… invalid plan"), so a
// test finds, in a millisecond and on any seed, what a user would meet
// through a real engine. It runs the real resource code; only the engine is
// a stand-in (the real engines run the acceptance tests).
type Engine struct {
	T       TB
	srv     tfprotov6.ProviderServer
	schemas map[string]*tfprotov6.Schema
	data    map[string]*tfprotov6.Schema
}

// TB is the part of testing.TB the engine uses.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
}

// NewEngine serves the provider on e's fake clock and configures it with
// the provider block of ProviderConfig (every endpoint at the emulator, no
// API budget), with extra provider attributes set over it (e.g. api_budget)
// and options for the provider (e.g. provider.WithPacerClock(e.Clock)).
func (e *Env) NewEngine(extra map[string]any, opts ...provider.Option) *Engine {
	e.T.Helper()
	srv, err := providerserver.NewProtocol6WithError(provider.New("test", append([]provider.Option{provider.WithClock(e.Clock)}, opts...)...)())()
	if err != nil {
		e.T.Fatalf("serving the provider: %v", err)
	}
	ctx := context.Background()
	sch, err := srv.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{})
	if err != nil || hasErrors(sch.Diagnostics) {
		e.T.Fatalf("GetProviderSchema: %v %s", err, diagText(sch.Diagnostics))
	}
	eng := &Engine{T: e.T, srv: srv, schemas: sch.ResourceSchemas, data: sch.DataSourceSchemas}
	u := e.Emu.URL
	cfg := map[string]any{
		"region": Region,
		"endpoints": map[string]any{"elbv2": u, "cloudwatch": u, "lambda": u, "ssm": u, "stepfunctions": u,
			"sns": u, "eventbridge": u, "ecs": u, "codedeploy": u},
		"max_retries": 2,
		"api_budget":  map[string]any{"enabled": false},
	}
	for k, v := range extra {
		cfg[k] = v
	}
	pv, err := FromGo(sch.Provider.ValueType(), cfg)
	if err != nil {
		e.T.Fatalf("provider configuration: %v", err)
	}
	dv := dynamic(e.T, sch.Provider.ValueType(), pv)
	vr, err := srv.ValidateProviderConfig(ctx, &tfprotov6.ValidateProviderConfigRequest{Config: &dv})
	if err != nil || hasErrors(vr.Diagnostics) {
		e.T.Fatalf("ValidateProviderConfig: %v %s", err, diagText(vr.Diagnostics))
	}
	cr, err := srv.ConfigureProvider(ctx, &tfprotov6.ConfigureProviderRequest{TerraformVersion: "1.8.5", Config: &dv})
	if err != nil || hasErrors(cr.Diagnostics) {
		e.T.Fatalf("ConfigureProvider: %v %s", err, diagText(cr.Diagnostics))
	}
	return eng
}

// Resource is one resource instance of a configuration, with its state.
type Resource struct {
	eng     *Engine
	Type    string
	typ     tftypes.Type
	schema  *tfprotov6.Schema
	state   tftypes.Value
	private []byte
}

// Resource starts tracking an instance of typ, not created yet.
func (eng *Engine) Resource(typ string) *Resource {
	eng.T.Helper()
	s, ok := eng.schemas[typ]
	if !ok {
		eng.T.Fatalf("no resource type %s", typ)
	}
	t := s.ValueType()
	return &Resource{eng: eng, Type: typ, typ: t, schema: s, state: tftypes.NewValue(t, nil)}
}

// Diags are the diagnostics of one operation.
type Diags []*tfprotov6.Diagnostic

// HasError reports an error diagnostic whose summary and detail match re
// (any error when re is empty).
func (d Diags) HasError(re string) bool {
	for _, x := range d {
		if x.Severity != tfprotov6.DiagnosticSeverityError {
			continue
		}
		if re == "" || matches(re, x.Summary+"\n"+x.Detail) {
			return true
		}
	}
	return false
}

// HasWarning reports a warning whose summary and detail match re.
func (d Diags) HasWarning(re string) bool {
	for _, x := range d {
		if x.Severity == tfprotov6.DiagnosticSeverityWarning && matches(re, x.Summary+"\n"+x.Detail) {
			return true
		}
	}
	return false
}

func (d Diags) String() string { return diagText(d) }

// Plan is a plan of one resource: what core saves in a plan file.
type Plan struct {
	r       *Resource
	Prior   tftypes.Value
	Config  tftypes.Value
	Planned tftypes.Value
	private []byte
	// Destroy is a plan to delete the resource; Replace one to replace it.
	Destroy, Replace bool
	Diags            Diags
}

// Changes reports whether applying the plan would call the provider.
func (p *Plan) Changes() bool {
	return p.Destroy || p.Replace || !p.Prior.Equal(p.Planned)
}

// Unknown lists the attribute paths the plan leaves unknown.
func (p *Plan) Unknown() []string { return unknownPaths(p.Planned) }

// Get reads an attribute of the planned state by path ("last_rollout.status",
// "target_groups.0.weight"); ok is false when it is unknown or absent.
func (p *Plan) Get(path string) (any, bool) { return get(p.Planned, path) }

// Plan plans cfg (a configuration as Go values: maps, slices, strings,
// numbers and booleans; an absent attribute is null) against the
// resource's state, as core does: validate, propose, plan, and check the
// plan is valid. It does not refresh first (Refresh does).
func (r *Resource) Plan(cfg map[string]any) *Plan {
	r.eng.T.Helper()
	ctx := context.Background()
	config, err := FromGo(r.typ, cfg)
	if err != nil {
		r.eng.T.Fatalf("%s configuration: %v", r.Type, err)
	}
	p := &Plan{r: r, Prior: r.state, Config: config}
	cdv := dynamic(r.eng.T, r.typ, config)
	vr, err := r.eng.srv.ValidateResourceConfig(ctx, &tfprotov6.ValidateResourceConfigRequest{TypeName: r.Type, Config: &cdv})
	if err != nil {
		r.eng.T.Fatalf("ValidateResourceConfig: %v", err)
	}
	p.Diags = append(p.Diags, vr.Diagnostics...)
	if hasErrors(vr.Diagnostics) {
		return p
	}
	p.plan(ctx, config, r.state, r.private)
	return p
}

// PlanDestroy is a plan to delete the resource.
func (r *Resource) PlanDestroy() *Plan {
	return &Plan{r: r, Prior: r.state, Config: tftypes.NewValue(r.typ, nil), Planned: tftypes.NewValue(r.typ, nil), Destroy: true}
}

func (p *Plan) plan(ctx context.Context, config, prior tftypes.Value, private []byte) {
	r := p.r
	proposed := proposedNew(r.schema.Block, prior, config)
	pr, err := r.eng.srv.PlanResourceChange(ctx, &tfprotov6.PlanResourceChangeRequest{TypeName: r.Type,
		PriorState: ptr(dynamic(r.eng.T, r.typ, prior)), ProposedNewState: ptr(dynamic(r.eng.T, r.typ, proposed)),
		Config: ptr(dynamic(r.eng.T, r.typ, config)), PriorPrivate: private})
	if err != nil {
		r.eng.T.Fatalf("PlanResourceChange: %v", err)
	}
	p.Diags = append(p.Diags, pr.Diagnostics...)
	if hasErrors(pr.Diagnostics) {
		return
	}
	p.Planned = undynamic(r.eng.T, r.typ, pr.PlannedState)
	p.private = pr.PlannedPrivate
	p.Replace = len(pr.RequiresReplace) > 0 && !prior.IsNull()
	if problems := planValid(r.schema.Block, prior, config, p.Planned); len(problems) > 0 {
		r.eng.T.Fatalf("Provider produced invalid plan for %s: %s", r.Type, strings.Join(problems, "; "))
	}
}

// Apply applies a plan made earlier (a saved plan, or one just made), as
// core does: it plans again from the plan's prior state and configuration
// (the final plan), which must keep every value the saved plan showed, then
// applies the final plan and requires the new state to keep every value
// planned. A break of either is a test failure, named as core names it.
// The state is updated with what the provider returned, also on error.
func (p *Plan) Apply() Diags { return p.ApplyContext(context.Background()) }

// ApplyContext is Apply under ctx: cancelling it is what core does to a
// provider's requests on Ctrl-C (StopProvider).
func (p *Plan) ApplyContext(ctx context.Context) Diags {
	r := p.r
	r.eng.T.Helper()
	if p.Diags.HasError("") {
		r.eng.T.Fatalf("applying a plan that failed: %s", p.Diags)
	}
	if p.Destroy {
		return r.applyChange(ctx, p.Prior, tftypes.NewValue(r.typ, nil), tftypes.NewValue(r.typ, nil), nil)
	}
	if p.Replace {
		if d := r.applyChange(ctx, p.Prior, tftypes.NewValue(r.typ, nil), tftypes.NewValue(r.typ, nil), nil); d.HasError("") {
			return d
		}
		p.Prior = tftypes.NewValue(r.typ, nil)
	}
	final := &Plan{r: r, Prior: p.Prior, Config: p.Config}
	final.plan(ctx, p.Config, p.Prior, r.private)
	if final.Diags.HasError("") {
		return final.Diags
	}
	if problems := compatible(r.schema.Block, p.Planned, final.Planned, ""); len(problems) > 0 {
		r.eng.T.Fatalf("Provider produced inconsistent final plan for %s (the saved plan, applied later): %s", r.Type, strings.Join(problems, "; "))
	}
	if p.Prior.Equal(final.Planned) && !p.Replace {
		return final.Diags // no change: core does not call apply
	}
	d := r.applyChange(ctx, p.Prior, final.Planned, p.Config, final.private)
	return append(final.Diags, d...)
}

func (r *Resource) applyChange(ctx context.Context, prior, planned, config tftypes.Value, private []byte) Diags {
	ar, err := r.eng.srv.ApplyResourceChange(ctx, &tfprotov6.ApplyResourceChangeRequest{TypeName: r.Type,
		PriorState: ptr(dynamic(r.eng.T, r.typ, prior)), PlannedState: ptr(dynamic(r.eng.T, r.typ, planned)),
		Config: ptr(dynamic(r.eng.T, r.typ, config)), PlannedPrivate: private})
	if err != nil {
		r.eng.T.Fatalf("ApplyResourceChange: %v", err)
	}
	var next tftypes.Value
	if ar.NewState != nil {
		next = undynamic(r.eng.T, r.typ, ar.NewState)
	} else {
		next = tftypes.NewValue(r.typ, nil)
	}
	if !hasErrors(ar.Diagnostics) {
		if problems := compatible(r.schema.Block, planned, next, ""); len(problems) > 0 {
			r.eng.T.Fatalf("Provider produced inconsistent result after apply of %s: %s", r.Type, strings.Join(problems, "; "))
		}
	}
	if !next.IsFullyKnown() {
		r.eng.T.Fatalf("Provider returned invalid result object after apply of %s: unknown values %v", r.Type, unknownPaths(next))
	}
	r.state, r.private = next, ar.Private
	return ar.Diagnostics
}

// PlanApply plans cfg and applies it at once (terraform apply).
func (r *Resource) PlanApply(cfg map[string]any) Diags {
	r.eng.T.Helper()
	p := r.Plan(cfg)
	if p.Diags.HasError("") {
		return p.Diags
	}
	return append(p.Diags, p.Apply()...)
}

// Refresh reads the resource as core's refresh does; a resource gone is
// removed from the state.
func (r *Resource) Refresh() Diags {
	r.eng.T.Helper()
	if r.state.IsNull() {
		return nil
	}
	rr, err := r.eng.srv.ReadResource(context.Background(), &tfprotov6.ReadResourceRequest{TypeName: r.Type,
		CurrentState: ptr(dynamic(r.eng.T, r.typ, r.state)), Private: r.private})
	if err != nil {
		r.eng.T.Fatalf("ReadResource: %v", err)
	}
	if hasErrors(rr.Diagnostics) {
		return rr.Diagnostics
	}
	if rr.NewState != nil {
		r.state = undynamic(r.eng.T, r.typ, rr.NewState)
	} else {
		r.state = tftypes.NewValue(r.typ, nil)
	}
	r.private = rr.Private
	return rr.Diagnostics
}

// Import imports the resource by id, then reads it, as core does.
func (r *Resource) Import(id string) Diags {
	r.eng.T.Helper()
	ir, err := r.eng.srv.ImportResourceState(context.Background(), &tfprotov6.ImportResourceStateRequest{TypeName: r.Type, ID: id})
	if err != nil {
		r.eng.T.Fatalf("ImportResourceState: %v", err)
	}
	if hasErrors(ir.Diagnostics) || len(ir.ImportedResources) != 1 {
		return ir.Diagnostics
	}
	r.state = undynamic(r.eng.T, r.typ, ir.ImportedResources[0].State)
	r.private = ir.ImportedResources[0].Private
	return append(ir.Diagnostics, r.Refresh()...)
}

// ReadData validates and reads a data source of typ with cfg, as core
// does, and returns what it read as Go values (nil after an error).
func (eng *Engine) ReadData(typ string, cfg map[string]any) (map[string]any, Diags) {
	eng.T.Helper()
	s, ok := eng.data[typ]
	if !ok {
		eng.T.Fatalf("no data source type %s", typ)
	}
	t := s.ValueType()
	cv, err := FromGo(t, cfg)
	if err != nil {
		eng.T.Fatalf("configuration of %s: %v", typ, err)
	}
	ctx := context.Background()
	vr, err := eng.srv.ValidateDataResourceConfig(ctx, &tfprotov6.ValidateDataResourceConfigRequest{TypeName: typ, Config: ptr(dynamic(eng.T, t, cv))})
	if err != nil {
		eng.T.Fatalf("ValidateDataResourceConfig: %v", err)
	}
	if hasErrors(vr.Diagnostics) {
		return nil, vr.Diagnostics
	}
	rr, err := eng.srv.ReadDataSource(ctx, &tfprotov6.ReadDataSourceRequest{TypeName: typ, Config: ptr(dynamic(eng.T, t, cv))})
	if err != nil {
		eng.T.Fatalf("ReadDataSource: %v", err)
	}
	if hasErrors(rr.Diagnostics) || rr.State == nil {
		return nil, append(vr.Diagnostics, rr.Diagnostics...)
	}
	m, _ := ToGo(undynamic(eng.T, t, rr.State)).(map[string]any)
	return m, append(vr.Diagnostics, rr.Diagnostics...)
}

// Exists reports whether the resource has a state.
func (r *Resource) Exists() bool { return !r.state.IsNull() }

// Get reads an attribute of the state by path; ok is false when it is
// null or absent.
func (r *Resource) Get(path string) (any, bool) { return get(r.state, path) }

// String reads a string attribute of the state ("" when null).
func (r *Resource) String(path string) string {
	v, _ := r.Get(path)
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return ""
	default:
		return fmt.Sprint(x)
	}
}

// State is the resource's state as Go values.
func (r *Resource) State() map[string]any {
	v := ToGo(r.state)
	m, _ := v.(map[string]any)
	return m
}

// ---- values ------------------------------------------------------------

// FromGo makes a value of type t from Go values: maps for objects and maps,
// slices for lists and sets, strings, numbers, booleans; nil or an absent
// attribute is null; Unknown is an unknown value.
func FromGo(t tftypes.Type, v any) (tftypes.Value, error) {
	if v == nil {
		return tftypes.NewValue(t, nil), nil
	}
	if v == Unknown {
		return tftypes.NewValue(t, tftypes.UnknownValue), nil
	}
	switch {
	case t.Is(tftypes.String):
		s, ok := v.(string)
		if !ok {
			return tftypes.Value{}, fmt.Errorf("want a string, got %T", v)
		}
		return tftypes.NewValue(t, s), nil
	case t.Is(tftypes.Bool):
		b, ok := v.(bool)
		if !ok {
			return tftypes.Value{}, fmt.Errorf("want a bool, got %T", v)
		}
		return tftypes.NewValue(t, b), nil
	case t.Is(tftypes.Number):
		f := new(big.Float)
		switch n := v.(type) {
		case int:
			f.SetInt64(int64(n))
		case int64:
			f.SetInt64(n)
		case float64:
			f.SetFloat64(n)
		case json.Number:
			if _, ok := f.SetString(n.String()); !ok {
				return tftypes.Value{}, fmt.Errorf("bad number %q", n)
			}
		default:
			return tftypes.Value{}, fmt.Errorf("want a number, got %T", v)
		}
		return tftypes.NewValue(t, f), nil
	}
	switch tt := t.(type) {
	case tftypes.Object:
		m, ok := v.(map[string]any)
		if !ok {
			return tftypes.Value{}, fmt.Errorf("want an object, got %T", v)
		}
		for k := range m {
			if _, ok := tt.AttributeTypes[k]; !ok {
				return tftypes.Value{}, fmt.Errorf("no attribute %q", k)
			}
		}
		out := map[string]tftypes.Value{}
		for k, at := range tt.AttributeTypes {
			x, err := FromGo(at, m[k])
			if err != nil {
				return tftypes.Value{}, fmt.Errorf("%s: %w", k, err)
			}
			out[k] = x
		}
		return tftypes.NewValue(t, out), nil
	case tftypes.Map:
		m, ok := v.(map[string]any)
		if !ok {
			return tftypes.Value{}, fmt.Errorf("want a map, got %T", v)
		}
		out := map[string]tftypes.Value{}
		for k, x := range m {
			e, err := FromGo(tt.ElementType, x)
			if err != nil {
				return tftypes.Value{}, fmt.Errorf("[%q]: %w", k, err)
			}
			out[k] = e
		}
		return tftypes.NewValue(t, out), nil
	case tftypes.List, tftypes.Set:
		s, ok := v.([]any)
		if !ok {
			return tftypes.Value{}, fmt.Errorf("want a list, got %T", v)
		}
		et := elementType(t)
		out := []tftypes.Value{}
		for i, x := range s {
			e, err := FromGo(et, x)
			if err != nil {
				return tftypes.Value{}, fmt.Errorf("[%d]: %w", i, err)
			}
			out = append(out, e)
		}
		return tftypes.NewValue(t, out), nil
	}
	return tftypes.Value{}, fmt.Errorf("type %s is not supported", t)
}

type unknown struct{}

// Unknown stands for an unknown value in FromGo.
var Unknown any = unknown{}

// ToGo is the Go form of a value: maps, slices, strings, float64 numbers,
// booleans; null is nil and unknown is Unknown.
func ToGo(v tftypes.Value) any {
	if !v.IsKnown() {
		return Unknown
	}
	if v.IsNull() {
		return nil
	}
	t := v.Type()
	switch {
	case t.Is(tftypes.String):
		var s string
		_ = v.As(&s)
		return s
	case t.Is(tftypes.Bool):
		var b bool
		_ = v.As(&b)
		return b
	case t.Is(tftypes.Number):
		var f big.Float
		_ = v.As(&f)
		x, _ := f.Float64()
		return x
	}
	switch t.(type) {
	case tftypes.Object, tftypes.Map:
		var m map[string]tftypes.Value
		_ = v.As(&m)
		out := map[string]any{}
		for k, x := range m {
			out[k] = ToGo(x)
		}
		return out
	case tftypes.List, tftypes.Set, tftypes.Tuple:
		var s []tftypes.Value
		_ = v.As(&s)
		out := []any{}
		for _, x := range s {
			out = append(out, ToGo(x))
		}
		return out
	}
	return fmt.Sprint(v)
}

func get(v tftypes.Value, path string) (any, bool) {
	cur := ToGo(v)
	for _, part := range strings.Split(path, ".") {
		switch c := cur.(type) {
		case map[string]any:
			cur = c[part]
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(c) {
				return nil, false
			}
			cur = c[i]
		default:
			return nil, false
		}
	}
	if cur == nil || cur == Unknown {
		return nil, false
	}
	return cur, true
}

func elementType(t tftypes.Type) tftypes.Type {
	switch tt := t.(type) {
	case tftypes.List:
		return tt.ElementType
	case tftypes.Set:
		return tt.ElementType
	case tftypes.Map:
		return tt.ElementType
	}
	return nil
}

func unknownPaths(v tftypes.Value) []string {
	var out []string
	_ = tftypes.Walk(v, func(p *tftypes.AttributePath, x tftypes.Value) (bool, error) {
		if !x.IsKnown() {
			out = append(out, p.String())
			return false, nil
		}
		return true, nil
	})
	sort.Strings(out)
	return out
}

// ---- core's rules ------------------------------------------------------

// proposedNew is core's proposed new state: the configuration, with each
// computed attribute the configuration leaves null taken from the prior
// state (objchange.ProposedNew, for attributes and nested attributes; this
// provider has no blocks).
func proposedNew(b *tfprotov6.SchemaBlock, prior, config tftypes.Value) tftypes.Value {
	if config.IsNull() || !config.IsKnown() {
		return config
	}
	var cfg, pri map[string]tftypes.Value
	_ = config.As(&cfg)
	if !prior.IsNull() && prior.IsKnown() {
		_ = prior.As(&pri)
	}
	out := map[string]tftypes.Value{}
	for _, a := range b.Attributes {
		out[a.Name] = proposedAttr(a.Computed, a.NestedType, pri[a.Name], cfg[a.Name])
	}
	return tftypes.NewValue(config.Type(), out)
}

func proposedAttr(computed bool, nested *tfprotov6.SchemaObject, prior, config tftypes.Value) tftypes.Value {
	if config.IsNull() && computed {
		if prior.Type() == nil {
			return config
		}
		return prior
	}
	if nested == nil || config.IsNull() || !config.IsKnown() || prior.Type() == nil || prior.IsNull() || !prior.IsKnown() {
		return config
	}
	switch nested.Nesting {
	case tfprotov6.SchemaObjectNestingModeSingle:
		return proposedObject(nested, prior, config)
	case tfprotov6.SchemaObjectNestingModeMap:
		var cm, pm map[string]tftypes.Value
		_ = config.As(&cm)
		_ = prior.As(&pm)
		out := map[string]tftypes.Value{}
		for k, c := range cm {
			if p, ok := pm[k]; ok {
				out[k] = proposedObject(nested, p, c)
			} else {
				out[k] = c
			}
		}
		return tftypes.NewValue(config.Type(), out)
	case tfprotov6.SchemaObjectNestingModeList:
		var cl, pl []tftypes.Value
		_ = config.As(&cl)
		_ = prior.As(&pl)
		out := []tftypes.Value{}
		for i, c := range cl {
			if i < len(pl) {
				out = append(out, proposedObject(nested, pl[i], c))
			} else {
				out = append(out, c)
			}
		}
		return tftypes.NewValue(config.Type(), out)
	}
	return config
}

func proposedObject(o *tfprotov6.SchemaObject, prior, config tftypes.Value) tftypes.Value {
	if config.IsNull() || !config.IsKnown() {
		return config
	}
	var cfg, pri map[string]tftypes.Value
	_ = config.As(&cfg)
	if !prior.IsNull() && prior.IsKnown() {
		_ = prior.As(&pri)
	}
	out := map[string]tftypes.Value{}
	for _, a := range o.Attributes {
		out[a.Name] = proposedAttr(a.Computed, a.NestedType, pri[a.Name], cfg[a.Name])
	}
	return tftypes.NewValue(config.Type(), out)
}

// planValid is core's check of a plan (objchange.AssertPlanValid, for
// attributes and nested attributes): a value the configuration sets is
// planned as set, and an attribute that is not computed is planned as
// configured.
func planValid(b *tfprotov6.SchemaBlock, prior, config, planned tftypes.Value) []string {
	if planned.IsNull() {
		return nil
	}
	return planValidAttrs(b.Attributes, config, planned, "")
}

func planValidAttrs(attrs []*tfprotov6.SchemaAttribute, config, planned tftypes.Value, at string) []string {
	var cfg, pl map[string]tftypes.Value
	_ = config.As(&cfg)
	_ = planned.As(&pl)
	var out []string
	for _, a := range attrs {
		c, p := cfg[a.Name], pl[a.Name]
		name := strings.TrimPrefix(at+"."+a.Name, ".")
		switch {
		case a.NestedType != nil && !c.IsNull() && c.IsKnown() && p.IsKnown() && !p.IsNull():
			out = append(out, planValidNested(a.NestedType, c, p, name)...)
		case !a.Computed && !c.Equal(p):
			out = append(out, fmt.Sprintf("%s: planned %s for a value configured as %s", name, short(p), short(c)))
		case a.Computed && !c.IsNull() && c.IsFullyKnown() && !c.Equal(p):
			out = append(out, fmt.Sprintf("%s: planned %s, but the configuration sets %s", name, short(p), short(c)))
		}
	}
	return out
}

func planValidNested(o *tfprotov6.SchemaObject, config, planned tftypes.Value, at string) []string {
	switch o.Nesting {
	case tfprotov6.SchemaObjectNestingModeSingle:
		return planValidAttrs(o.Attributes, config, planned, at)
	case tfprotov6.SchemaObjectNestingModeMap:
		var cm, pm map[string]tftypes.Value
		_ = config.As(&cm)
		_ = planned.As(&pm)
		var out []string
		if len(cm) != len(pm) {
			out = append(out, fmt.Sprintf("%s: planned %d elements for %d configured", at, len(pm), len(cm)))
		}
		for k, c := range cm {
			p, ok := pm[k]
			if !ok {
				out = append(out, fmt.Sprintf("%s[%q]: configured, not planned", at, k))
				continue
			}
			out = append(out, planValidAttrs(o.Attributes, c, p, fmt.Sprintf("%s[%q]", at, k))...)
		}
		return out
	case tfprotov6.SchemaObjectNestingModeList:
		var cl, pl []tftypes.Value
		_ = config.As(&cl)
		_ = planned.As(&pl)
		if len(cl) != len(pl) {
			return []string{fmt.Sprintf("%s: planned %d elements for %d configured", at, len(pl), len(cl))}
		}
		var out []string
		for i := range cl {
			out = append(out, planValidAttrs(o.Attributes, cl[i], pl[i], fmt.Sprintf("%s.%d", at, i))...)
		}
		return out
	}
	return nil
}

// compatible is core's check that actual keeps what planned showed
// (objchange.AssertObjectCompatible): every known planned value is the
// actual value; unknown planned values may become anything. Problems are
// named by attribute path.
func compatible(b *tfprotov6.SchemaBlock, planned, actual tftypes.Value, at string) []string {
	var out []string
	var walk func(at string, p, a tftypes.Value)
	walk = func(at string, p, a tftypes.Value) {
		switch {
		case !p.IsKnown():
			return
		case p.IsNull() || !a.IsKnown() || a.IsNull():
			if !p.Equal(a) {
				out = append(out, fmt.Sprintf("%s: planned %s, got %s", at, short(p), short(a)))
			}
			return
		}
		switch p.Type().(type) {
		case tftypes.Object, tftypes.Map:
			var pm, am map[string]tftypes.Value
			_ = p.As(&pm)
			_ = a.As(&am)
			keys := make([]string, 0, len(pm))
			for k := range pm {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				av, ok := am[k]
				if !ok {
					out = append(out, fmt.Sprintf("%s.%s: planned %s, got nothing", at, k, short(pm[k])))
					continue
				}
				walk(at+"."+k, pm[k], av)
			}
			for k := range am {
				if _, ok := pm[k]; !ok {
					out = append(out, fmt.Sprintf("%s.%s: not planned, got %s", at, k, short(am[k])))
				}
			}
		case tftypes.List, tftypes.Tuple:
			var pl, al []tftypes.Value
			_ = p.As(&pl)
			_ = a.As(&al)
			if len(pl) != len(al) {
				out = append(out, fmt.Sprintf("%s: planned %d elements (%s), got %d (%s)", at, len(pl), short(p), len(al), short(a)))
				return
			}
			for i := range pl {
				walk(fmt.Sprintf("%s.%d", at, i), pl[i], al[i])
			}
		default:
			if !p.Equal(a) {
				out = append(out, fmt.Sprintf("%s: planned %s, got %s", at, short(p), short(a)))
			}
		}
	}
	walk(at, planned, actual)
	for i := range out {
		out[i] = strings.TrimPrefix(out[i], ".")
	}
	return out
}

func short(v tftypes.Value) string {
	if !v.IsKnown() {
		return "(known after apply)"
	}
	s := fmt.Sprint(ToGo(v))
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// ---- plumbing ----------------------------------------------------------

func dynamic(t TB, typ tftypes.Type, v tftypes.Value) tfprotov6.DynamicValue {
	t.Helper()
	dv, err := tfprotov6.NewDynamicValue(typ, v)
	if err != nil {
		t.Fatalf("encoding a value: %v", err)
	}
	return dv
}

func undynamic(t TB, typ tftypes.Type, dv *tfprotov6.DynamicValue) tftypes.Value {
	t.Helper()
	if dv == nil {
		return tftypes.NewValue(typ, nil)
	}
	v, err := dv.Unmarshal(typ)
	if err != nil {
		t.Fatalf("decoding a value: %v", err)
	}
	return v
}

func ptr[T any](v T) *T { return &v }

func matches(re, s string) bool { return regexp.MustCompile(re).MatchString(s) }

func hasErrors(d []*tfprotov6.Diagnostic) bool {
	for _, x := range d {
		if x.Severity == tfprotov6.DiagnosticSeverityError {
			return true
		}
	}
	return false
}

func diagText(d []*tfprotov6.Diagnostic) string {
	var b strings.Builder
	for _, x := range d {
		sev := "warning"
		if x.Severity == tfprotov6.DiagnosticSeverityError {
			sev = "error"
		}
		at := ""
		if x.Attribute != nil {
			at = " at " + x.Attribute.String()
		}
		fmt.Fprintf(&b, "\n  %s%s: %s: %s", sev, at, x.Summary, x.Detail)
	}
	return b.String()
}
