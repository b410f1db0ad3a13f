// Package listener is the subject of a rollout on an ALB or NLB listener or
// listener rule: how its forward action is read and written (Router), the
// gates its target groups are judged by (Gates) and where its lease lives
// (Lease). It says nothing of plans, holds or rollbacks: the pipeline and
// the engine (internal/rollout) own those, the same for every subject.
package listener

import (
	"context"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/rolloutdev/terraform-provider-rollout/internal/arn"
	"github.com/rolloutdev/terraform-provider-rollout/internal/awsclient"
	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

// Router reads and writes the forward action of a listener or rule. A
// write is built from the actions of the reading it starts from, so an
// action another writer owns (an authenticate action) is kept as read.
// The rollout's one write path (rollout.Runner) checks before each write
// that the subject serves what the last step left, reads every write back
// and handles unknown outcomes; a router only says whether AWS refused a
// write (nothing changed) or its outcome is unknown.
type Router struct {
	Client     *awsclient.Client
	Ref        awsclient.Ref
	Stickiness awsclient.Stickiness
}

var (
	_ rollout.Router   = (*Router)(nil)
	_ rollout.Reserver = (*Router)(nil)
	_ rollout.Matcher  = (*Router)(nil)
)

// Matches reports whether rd's forward action is want with the router's
// stickiness: a write of stickiness alone is a write too.
func (l *Router) Matches(rd rollout.Reading, want weights.Split) bool {
	acts, _ := rd.Base.(awsclient.Actions)
	f, ok := acts.Forward()
	return ok && f.Matches(awsclient.Forward{Split: want, Stickiness: l.Stickiness})
}

// Reserve waits for a write's turn in the API budget.
func (l *Router) Reserve(ctx context.Context) (context.Context, bool, error) {
	return l.Client.Reserve(ctx, awsclient.ClassELBModify)
}

// Read reads the actions and their forward split.
func (l *Router) Read(ctx context.Context) (rollout.Reading, error) {
	acts, err := l.Client.ReadActions(ctx, l.Ref)
	if err != nil {
		return rollout.Reading{}, err
	}
	f, _ := acts.Forward()
	return rollout.Reading{Split: f.Split, Base: acts}, nil
}

// Write replaces the terminal action of the read actions with a forward
// to want.
func (l *Router) Write(ctx context.Context, base rollout.Reading, want weights.Split) error {
	acts, _ := base.Base.(awsclient.Actions)
	err := l.Client.WriteActions(ctx, l.Ref, acts.WithForward(awsclient.Forward{Split: want, Stickiness: l.Stickiness}))
	if err == nil || awsclient.Refused(err) {
		return err
	}
	return &awsclient.UnknownWeightsError{Ref: l.Ref, Err: err}
}

// Gates are the gate readers of a rollout on one listener or rule: target
// health, alarms, the target groups' metrics and hooks.
type Gates struct {
	Client *awsclient.Client
	// LoadBalancer is the CloudWatch dimension of the listener's load
	// balancer ("app/NAME/ID", "net/NAME/ID").
	LoadBalancer string
}

var (
	_ rollout.HealthReader  = (*Gates)(nil)
	_ rollout.MetricsReader = (*Gates)(nil)
)

// NewGates builds the gate readers of a listener or rule.
func NewGates(c *awsclient.Client, ref awsclient.Ref) (*Gates, error) {
	listener := ref.ListenerARN
	if ref.RuleARN != "" {
		l, err := arn.ListenerOfRule(ref.RuleARN)
		if err != nil {
			return nil, err
		}
		listener = l
	}
	lb, err := arn.LoadBalancerOfListener(listener)
	if err != nil {
		return nil, err
	}
	return &Gates{Client: c, LoadBalancer: lb}, nil
}

// Observers are the listener's gate readers.
func (p *Gates) Observers() rollout.Observers {
	return rollout.Observers{Health: p, Alarms: awsclient.SharedAlarms{Client: p.Client}, Metrics: p, Hooks: awsclient.HookInvoker{Client: p.Client}}
}

// TargetHealth counts a target group's healthy and serving targets.
func (p *Gates) TargetHealth(ctx context.Context, tg string) (rollout.Health, error) {
	counts, err := p.Client.SharedTargetHealth(ctx, tg)
	if err != nil {
		return rollout.Health{}, err
	}
	return awsclient.HealthOf(counts), nil
}

// Metrics reads a target group's RequestCount, HTTPCode_Target_5XX_Count
// (sums) and TargetResponseTime p99 between start and end, in one
// GetMetricData call with a period covering the window. Counts of several
// periods are added up; of several p99 values the highest is kept. On a
// Network Load Balancer (namespace AWS/NetworkELB) the requests are the
// new flows (NewFlowCount), the errors the resets sent by targets
// (TCP_Target_Reset_Count), and there is no latency (the plan refuses a
// p99 gate there).
func (p *Gates) Metrics(ctx context.Context, tg string, start, end time.Time) (rollout.Metrics, error) {
	tgDim, err := arn.TargetGroupDimension(tg)
	if err != nil {
		return rollout.Metrics{}, err
	}
	dims := []cwtypes.Dimension{
		{Name: aws.String("TargetGroup"), Value: aws.String(tgDim)},
		{Name: aws.String("LoadBalancer"), Value: aws.String(p.LoadBalancer)},
	}
	if strings.HasPrefix(p.LoadBalancer, "net/") {
		return p.Client.WindowMetrics(ctx, "AWS/NetworkELB", dims, start, end, []awsclient.MetricQuery{
			{Metric: "NewFlowCount", Stat: "Sum", Into: awsclient.AddRequests},
			{Metric: "TCP_Target_Reset_Count", Stat: "Sum", Into: awsclient.AddErrors},
		})
	}
	return p.Client.WindowMetrics(ctx, "AWS/ApplicationELB", dims, start, end, []awsclient.MetricQuery{
		{Metric: "RequestCount", Stat: "Sum", Into: awsclient.AddRequests},
		{Metric: "HTTPCode_Target_5XX_Count", Stat: "Sum", Into: awsclient.AddErrors},
		// TargetResponseTime is in seconds.
		{Metric: "TargetResponseTime", Stat: "p99", Into: func(m *rollout.Metrics, v float64) { awsclient.MaxP99(m, v*1000) }},
	})
}

// Lease is where a listener's or rule's lease lives: its ELB tags.
func Lease(c *awsclient.Client, ref awsclient.Ref) awsclient.LeaseStore {
	return awsclient.ListenerLease(c, ref)
}
