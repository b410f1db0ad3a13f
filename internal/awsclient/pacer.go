package awsclient

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"

	"github.com/rolloutdev/terraform-provider-rollout/internal/clock"
	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
)

// The API budget: one provider process sees every rollout of an apply, so
// it paces their requests to AWS per action class, with token buckets kept
// well under AWS's own (which throttle per account and Region, shared with
// every other tool in the account). A rollback's requests (a context marked
// rollout.Urgent) take their token at once, borrowing from the requests
// after them; no request ever waits for another rollout's pause, only for
// a token.

// Action classes of the budget.
const (
	ClassELBDescribe = "elb_describe"
	ClassELBModify   = "elb_modify"
	ClassAlarms      = "cloudwatch_describe"
	ClassMetricData  = "cloudwatch_metric_data"
	ClassLambda      = "lambda"
	ClassSSM         = "ssm"
)

// Budget is one class's rate: PerSecond tokens a second, at most Burst
// at once.
type Budget struct {
	PerSecond float64
	Burst     int
}

// DefaultBudgets are the provider's rates: half of AWS's buckets where
// AWS documents them (ELB's Describe* refill 10/s into a bucket of 40;
// CloudWatch's DescribeAlarms about 9/s and GetMetricData 50/s; Lambda's
// control plane 15/s; Parameter Store's GetParameter 40/s), and for ELB's
// writes, whose smaller buckets AWS does not publish, 5/s.
var DefaultBudgets = map[string]Budget{
	ClassELBDescribe: {PerSecond: 5, Burst: 20},
	ClassELBModify:   {PerSecond: 5, Burst: 10},
	ClassAlarms:      {PerSecond: 4, Burst: 8},
	ClassMetricData:  {PerSecond: 25, Burst: 25},
	ClassLambda:      {PerSecond: 7, Burst: 10},
	ClassSSM:         {PerSecond: 10, Burst: 20},
}

// ClassOf is the budget class of a request, "" for an unpaced one.
func ClassOf(serviceID, operation string) string {
	switch serviceID {
	case "Elastic Load Balancing v2":
		if strings.HasPrefix(operation, "Describe") {
			return ClassELBDescribe
		}
		return ClassELBModify
	case "CloudWatch":
		if operation == "GetMetricData" {
			return ClassMetricData
		}
		return ClassAlarms
	case "Lambda":
		if operation == "Invoke" {
			return "" // a hook: the data plane, and the apply's deadline bounds it
		}
		return ClassLambda
	case "SSM":
		return ClassSSM
	}
	return ""
}

type bucket struct {
	Budget
	tokens float64
	last   time.Time
}

// Pacer holds the buckets of one provider process.
type Pacer struct {
	clock   clock.Clock
	mu      sync.Mutex
	buckets map[string]*bucket
	taken   map[string]int
}

// NewPacer paces by budgets on clk (the real clock in the provider: it
// paces requests, not schedules). A class without a budget, or with a rate
// of 0, is not paced.
func NewPacer(clk clock.Clock, budgets map[string]Budget) *Pacer {
	p := &Pacer{clock: clk, buckets: map[string]*bucket{}, taken: map[string]int{}}
	now := clk.Now()
	for class, b := range budgets {
		if b.PerSecond > 0 {
			if b.Burst < 1 {
				b.Burst = 1
			}
			p.buckets[class] = &bucket{Budget: b, tokens: float64(b.Burst), last: now}
		}
	}
	return p
}

// Wait takes one token of class for a request of ctx, waiting for it
// unless the request is urgent, or becomes urgent while it waits (a
// rollout whose alarm fired during its write: rollout.Escalatable).
func (p *Pacer) Wait(ctx context.Context, class string) error {
	_, err := p.waitFor(ctx, class, func() bool { return rollout.IsUrgent(ctx) })
	return err
}

// waitFor is Wait with the urgency asked each time it wakes (a batch is
// urgent once one of its reads is). waited reports whether the token came
// after a wait.
func (p *Pacer) waitFor(ctx context.Context, class string, urgent func() bool) (waited bool, err error) {
	for {
		p.mu.Lock()
		b := p.buckets[class]
		if b == nil {
			p.mu.Unlock()
			return waited, nil
		}
		now := p.clock.Now()
		b.tokens = min(float64(b.Burst), b.tokens+now.Sub(b.last).Seconds()*b.PerSecond)
		b.last = now
		if b.tokens >= 1 || urgent() {
			b.tokens--
			p.taken[class]++
			p.mu.Unlock()
			return waited, nil
		}
		// Wake for the token, or sooner to see an escalation.
		wait := min(time.Duration((1-b.tokens)/b.PerSecond*float64(time.Second)), escalationCheck)
		p.mu.Unlock()
		waited = true
		if err := p.clock.Sleep(ctx, max(wait, time.Millisecond)); err != nil {
			return waited, fmt.Errorf("waiting for the %s budget: %w", class, err)
		}
	}
}

// Reserve waits for the turn of ctx's next request of class and returns
// the context to make that request with: its first attempt waits no more.
// waited reports whether the turn came after a wait.
func (c *Client) Reserve(ctx context.Context, class string) (rctx context.Context, waited bool, err error) {
	if c.Pacer == nil {
		return ctx, false, nil
	}
	waited, err = c.Pacer.waitFor(ctx, class, func() bool { return rollout.IsUrgent(ctx) })
	if err != nil {
		return nil, waited, err
	}
	return prepaid(ctx), waited, nil
}

// escalationCheck is how often a waiting request looks whether it became
// urgent.
const escalationCheck = 100 * time.Millisecond

// Taken is how many requests of each class the pacer let through.
func (p *Pacer) Taken() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string]int{}
	for k, v := range p.taken {
		out[k] = v
	}
	return out
}

// paceMiddleware makes every attempt of a request (retries included) wait
// for its class's token.
func paceMiddleware(p *Pacer) func(*middleware.Stack) error {
	return func(s *middleware.Stack) error {
		return s.Finalize.Add(middleware.FinalizeMiddlewareFunc("RolloutPacer", func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			class := ClassOf(awsmiddleware.GetServiceID(ctx), awsmiddleware.GetOperationName(ctx))
			if class != "" && !isPrepaid(ctx) {
				if err := p.Wait(ctx, class); err != nil {
					return middleware.FinalizeOutput{}, middleware.Metadata{}, err
				}
			}
			return next.HandleFinalize(ctx, in)
		}), middleware.After)
	}
}
