// Package alias is the subject of a rollout on a Lambda alias: how its
// routing is read and written as a split over versions (Router), the gates
// its versions are judged by (Gates) and where its lease lives (Lease).
package alias

import (
	"context"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/rolloutdev/terraform-provider-rollout/internal/awsclient"
	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

// Router reads and writes a Lambda alias's routing as a split over
// versions (awsclient.AliasOf): the version a change started from stays
// primary until the last step.
type Router struct {
	Client *awsclient.Client
	Ref    awsclient.AliasRef
}

var (
	_ rollout.Router   = (*Router)(nil)
	_ rollout.Reserver = (*Router)(nil)
)

// Reserve waits for a write's turn in the API budget.
func (a *Router) Reserve(ctx context.Context) (context.Context, bool, error) {
	return a.Client.Reserve(ctx, awsclient.ClassLambda)
}

// Read reads the alias.
func (a *Router) Read(ctx context.Context) (rollout.Reading, error) {
	al, err := a.Client.ReadAlias(ctx, a.Ref)
	if err != nil {
		return rollout.Reading{}, err
	}
	return rollout.Reading{Split: al.Split(), Base: al}, nil
}

// Write sets the alias's version and routing.
func (a *Router) Write(ctx context.Context, base rollout.Reading, want weights.Split) error {
	primary := ""
	if al, ok := base.Base.(awsclient.Alias); ok {
		primary = al.Version
	}
	version, additional, err := awsclient.AliasOf(want, primary)
	if err != nil {
		return err
	}
	_, err = a.Client.Lambda.UpdateAlias(ctx, &lambda.UpdateAliasInput{
		FunctionName: aws.String(a.Ref.Function), Name: aws.String(a.Ref.Alias), FunctionVersion: aws.String(version),
		RoutingConfig: &lambdatypes.AliasRoutingConfiguration{AdditionalVersionWeights: additional},
	})
	if err == nil || awsclient.Refused(err) || awsclient.LambdaRefused(err) {
		return err
	}
	return &awsclient.UnknownWeightsError{Ref: awsclient.Ref{ListenerARN: a.Ref.ID()}, Err: err}
}

// Gates are the gate readers of a rollout on a Lambda alias: alarms, the
// versions' metrics (AWS/Lambda) and hooks. There is no health gate for
// functions.
type Gates struct {
	Client *awsclient.Client
	Ref    awsclient.AliasRef
	// FunctionName is the function's name, the metrics' dimension.
	FunctionName string
}

var _ rollout.MetricsReader = (*Gates)(nil)

// NewGates builds the gate readers of an alias: the function's name is
// its ARN's last part when ref names it by ARN.
func NewGates(c *awsclient.Client, ref awsclient.AliasRef) *Gates {
	name := ref.Function
	if i := strings.Index(name, "function:"); i >= 0 {
		name = name[i+len("function:"):]
	}
	return &Gates{Client: c, Ref: ref, FunctionName: name}
}

// Observers are the alias's gate readers.
func (p *Gates) Observers() rollout.Observers {
	return rollout.Observers{Alarms: awsclient.SharedAlarms{Client: p.Client}, Metrics: p, Hooks: awsclient.HookInvoker{Client: p.Client}}
}

// Metrics reads a version's Invocations, Errors and Throttles (sums) and
// Duration p99 through the alias between start and end (dimensions
// FunctionName, Resource = FUNCTION:ALIAS, ExecutedVersion). A throttled
// request failed for its caller but is not in Invocations, so the error
// rate is (Errors + Throttles) / (Invocations + Throttles). Duration is
// already in milliseconds.
func (p *Gates) Metrics(ctx context.Context, version string, start, end time.Time) (rollout.Metrics, error) {
	dims := []cwtypes.Dimension{
		{Name: aws.String("FunctionName"), Value: aws.String(p.FunctionName)},
		{Name: aws.String("Resource"), Value: aws.String(p.FunctionName + ":" + p.Ref.Alias)},
		{Name: aws.String("ExecutedVersion"), Value: aws.String(version)},
	}
	return p.Client.WindowMetrics(ctx, "AWS/Lambda", dims, start, end, []awsclient.MetricQuery{
		{Metric: "Invocations", Stat: "Sum", Into: awsclient.AddRequests},
		{Metric: "Errors", Stat: "Sum", Into: awsclient.AddErrors},
		{Metric: "Throttles", Stat: "Sum", Into: func(m *rollout.Metrics, v float64) { m.Errors5xx += v; m.Requests += v }},
		{Metric: "Duration", Stat: "p99", Into: awsclient.MaxP99}, // already milliseconds
	})
}

// Lease is where an alias's lease lives: tags on its function whose keys
// name the alias (Lambda has no tags on aliases).
func Lease(c *awsclient.Client, ref awsclient.AliasRef) awsclient.LeaseStore {
	return awsclient.AliasLease(c, ref)
}
