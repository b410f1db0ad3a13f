// Package openfeature is an OpenFeature provider for rollout feature flags:
// it reads flag documents from SSM Parameter Store (one parameter per flag,
// as rollout_feature_flag writes them), caches them, evaluates them with
// package flag, the evaluator the Terraform provider uses, and reports why.
//
//	client := openfeature.NewClient("checkout")
//	_ = openfeature.SetProviderAndWait(rolloutof.New(ssm.NewFromConfig(cfg), rolloutof.WithEnvironment("prod")))
//	on, _ := client.BooleanValue(ctx, "new-checkout", false, openfeature.NewEvaluationContext(userID, map[string]any{"plan": "pro"}))
//
// It fails safe: a missing flag, a document it cannot read, an SSM error or
// a dependency cycle evaluates off, with reason ERROR. The OpenFeature SDK
// then returns the default value, so pass false as the default to keep that
// rule. Documents are cached for 300 s, and 30 s for flags with
// dependencies and for every flag read as a dependency (the model's TTLs),
// so a dependency's kill switch reaches its dependents within 30 s. Only
// answers are cached (a document, or no such flag): a read that fails, or
// one caller's cancelled context, is never cached, and while Parameter
// Store cannot be read the last document read is served for up to
// MaxStale (stale-while-error), then the flag evaluates off with ERROR.
package openfeature

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	of "github.com/open-feature/go-sdk/openfeature"

	"github.com/rolloutdev/terraform-provider-rollout/flag"
)

// The model's cache lifetimes, and how long a document is served past them
// while Parameter Store cannot be read.
const (
	DefaultTTL      = 300 * time.Second
	DependencyTTL   = 30 * time.Second
	DefaultMaxStale = 15 * time.Minute
	DefaultPrefix   = "/rollout/flags/"
)

// SSMGetter is the one Parameter Store call the provider makes.
type SSMGetter interface {
	GetParameter(ctx context.Context, in *ssm.GetParameterInput, optFns ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)
}

// Provider evaluates rollout flags for OpenFeature.
type Provider struct {
	ssm         SSMGetter
	prefix      string
	environment string
	now         func() time.Time
	maxStale    time.Duration

	mu    sync.Mutex
	cache map[string]entry
}

// entry is an answer of Parameter Store: a flag, no such flag
// (errNotFound), or a document that is not a flag; at is when it was read.
type entry struct {
	f   *flag.Flag
	err error
	at  time.Time
}

var _ of.FeatureProvider = (*Provider)(nil)

// Option configures a Provider.
type Option func(*Provider)

// WithPrefix reads flags under prefix (default /rollout/flags/).
func WithPrefix(prefix string) Option { return func(p *Provider) { p.prefix = prefix } }

// WithEnvironment is the environment the app runs in, used unless the
// evaluation context carries "environment".
func WithEnvironment(env string) Option { return func(p *Provider) { p.environment = env } }

// WithMaxStale bounds how long past its lifetime a document is served
// while Parameter Store cannot be read (default 15 minutes; 0 serves none).
func WithMaxStale(d time.Duration) Option { return func(p *Provider) { p.maxStale = d } }

// WithClock sets the clock of the cache (tests).
func WithClock(now func() time.Time) Option { return func(p *Provider) { p.now = now } }

// New returns a provider reading flags with client.
func New(client SSMGetter, opts ...Option) *Provider {
	p := &Provider{ssm: client, prefix: DefaultPrefix, now: time.Now, maxStale: DefaultMaxStale, cache: map[string]entry{}}
	for _, o := range opts {
		o(p)
	}
	return p
}

// Metadata names the provider.
func (p *Provider) Metadata() of.Metadata { return of.Metadata{Name: "rollout"} }

// Hooks are none.
func (p *Provider) Hooks() []of.Hook { return nil }

// ttl is how long an answer is fresh: a flag with dependencies, or one
// read as a dependency, for DependencyTTL; others for DefaultTTL.
func ttl(e entry, asDependency bool) time.Duration {
	if asDependency || (e.f != nil && len(e.f.Dependencies) > 0) || (e.err != nil && !errors.Is(e.err, errNotFound)) {
		return DependencyTTL
	}
	return DefaultTTL
}

// load returns a flag from the cache while its answer is fresh, else from
// SSM. A read that fails is not cached: the last answer is served while it
// is at most maxStale past its lifetime.
func (p *Provider) load(ctx context.Context, key string, asDependency bool) (*flag.Flag, error) {
	p.mu.Lock()
	e, ok := p.cache[key]
	p.mu.Unlock()
	now := p.now()
	if ok && now.Before(e.at.Add(ttl(e, asDependency))) {
		return e.f, e.err
	}
	out, err := p.ssm.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(p.prefix + key)})
	var nf *ssmtypes.ParameterNotFound
	switch {
	case errors.As(err, &nf):
		e = entry{err: errNotFound, at: now}
	case err == nil:
		f, perr := flag.Parse([]byte(aws.ToString(out.Parameter.Value)))
		e = entry{f: f, err: perr, at: now}
	default:
		// No answer (throttled, unreachable, this caller's context done):
		// not cached; the last answer stands for a while.
		if ok && e.f != nil && now.Before(e.at.Add(ttl(e, asDependency)+p.maxStale)) {
			return e.f, nil
		}
		return nil, fmt.Errorf("reading %s%s: %w", p.prefix, key, err)
	}
	p.mu.Lock()
	p.cache[key] = e
	p.mu.Unlock()
	return e.f, e.err
}

var errNotFound = errors.New("flag not found")

// Evaluate evaluates a flag for an OpenFeature context: targetingKey is the
// user id, "environment" the environment (else the provider's), and every
// other string, number or bool value an attribute.
func (p *Provider) Evaluate(ctx context.Context, key string, flatCtx of.FlattenedContext) (flag.Result, error) {
	f, err := p.load(ctx, key, false)
	if err != nil {
		return flag.Result{Reason: flag.Error, Err: err}, err
	}
	c := flag.Context{Environment: p.environment, Attributes: map[string]string{}}
	for k, v := range flatCtx {
		s := fmt.Sprint(v)
		switch k {
		case of.TargetingKey:
			c.UserID = s
		case "environment":
			c.Environment = s
		default:
			c.Attributes[k] = s
		}
	}
	r := flag.Evaluate(f, c, func(k string) (*flag.Flag, bool) {
		d, err := p.load(ctx, k, true)
		return d, err == nil
	})
	return r, r.Err
}

// BooleanEvaluation is the flag's value for the context.
func (p *Provider) BooleanEvaluation(ctx context.Context, key string, defaultValue bool, flatCtx of.FlattenedContext) of.BoolResolutionDetail {
	r, err := p.Evaluate(ctx, key, flatCtx)
	detail := of.ProviderResolutionDetail{Reason: reasonOf(r.Reason), Variant: "off", FlagMetadata: of.FlagMetadata{"rollout_reason": string(r.Reason)}}
	if r.On {
		detail.Variant = "on"
	}
	if err != nil {
		if errors.Is(err, errNotFound) {
			detail.ResolutionError = of.NewFlagNotFoundResolutionError(fmt.Sprintf("no flag %s%s", p.prefix, key))
		} else {
			detail.ResolutionError = of.NewGeneralResolutionError(err.Error())
		}
		return of.BoolResolutionDetail{Value: false, ProviderResolutionDetail: detail}
	}
	return of.BoolResolutionDetail{Value: r.On, ProviderResolutionDetail: detail}
}

// reasonOf maps the evaluator's reasons to OpenFeature's.
func reasonOf(r flag.Reason) of.Reason {
	switch r {
	case flag.PercentageIn, flag.PercentageOut:
		return of.SplitReason
	case flag.KillSwitch, flag.Disabled:
		return of.DisabledReason
	case flag.Environment, flag.Included, flag.Excluded, flag.SegmentMatch, flag.SegmentMiss, flag.DependencyOff:
		return of.TargetingMatchReason
	case flag.FullRollout:
		return of.StaticReason
	case flag.Error:
		return of.ErrorReason
	}
	return of.DefaultReason
}

func mismatch(kind string) of.ProviderResolutionDetail {
	return of.ProviderResolutionDetail{Reason: of.ErrorReason, ResolutionError: of.NewTypeMismatchResolutionError("rollout flags are booleans, not " + kind)}
}

// StringEvaluation: rollout flags are booleans.
func (p *Provider) StringEvaluation(_ context.Context, _ string, d string, _ of.FlattenedContext) of.StringResolutionDetail {
	return of.StringResolutionDetail{Value: d, ProviderResolutionDetail: mismatch("strings")}
}

// FloatEvaluation: rollout flags are booleans.
func (p *Provider) FloatEvaluation(_ context.Context, _ string, d float64, _ of.FlattenedContext) of.FloatResolutionDetail {
	return of.FloatResolutionDetail{Value: d, ProviderResolutionDetail: mismatch("numbers")}
}

// IntEvaluation: rollout flags are booleans.
func (p *Provider) IntEvaluation(_ context.Context, _ string, d int64, _ of.FlattenedContext) of.IntResolutionDetail {
	return of.IntResolutionDetail{Value: d, ProviderResolutionDetail: mismatch("numbers")}
}

// ObjectEvaluation: rollout flags are booleans.
func (p *Provider) ObjectEvaluation(_ context.Context, _ string, d any, _ of.FlattenedContext) of.InterfaceResolutionDetail {
	return of.InterfaceResolutionDetail{Value: d, ProviderResolutionDetail: mismatch("objects")}
}
