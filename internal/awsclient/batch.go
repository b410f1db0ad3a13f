package awsclient

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
)

// Batched reads: under an API budget, the reads of listeners (and rules)
// that rollouts make before and after their writes wait for their turn in
// ELB's Describe* budget. The reads that wait at the same time are made
// as one DescribeListeners (DescribeRules) with every ARN, up to
// MaxBatchARNs, when the first of them gets its turn. Each read still
// starts after it was asked for (it joins a request not yet sent), so the
// read before a write stays a fresh one. A rollback's read (an urgent
// context) never waits for a batch. When a batch's answer is an error
// that may be one ARN's (a listener deleted meanwhile fails the whole
// request), each of its reads is made again on its own.

// MaxBatchARNs is the most ARNs one batched Describe request names.
const MaxBatchARNs = 20

// errBatchLeft is a batch whose first read gave up its turn (its context
// ended): the others try again.
var errBatchLeft = errors.New("the batched read was given up")

type batch struct {
	// ctxs are the contexts of the batch's reads: the batch is urgent once
	// one of them is (escalated while it waits).
	ctxs    []context.Context
	arns    []string
	sent    bool
	done    chan struct{}
	actions map[string][]types.Action
	err     error
}

type batcher struct {
	mu      sync.Mutex
	pending map[bool]*batch // by rule (true) or listener (false)
	// calls and reads count the batched requests and the reads they
	// served (the bench's figures).
	calls, reads atomic.Int64
}

// BatchedReads are how many listener and rule reads the client made, and
// in how many Describe requests.
func (c *Client) BatchedReads() (reads, calls int64) {
	b := c.batches()
	return b.reads.Load(), b.calls.Load()
}

func (c *Client) batches() *batcher {
	c.batchOnce.Do(func() { c.batcher = &batcher{pending: map[bool]*batch{}} })
	return c.batcher
}

// prepaid marks a request whose budget token was taken before it was
// built (a batch's): the pacer lets its first attempt through.
type prepaidKey struct{}

func prepaid(ctx context.Context) context.Context {
	var first atomic.Bool
	first.Store(true)
	return context.WithValue(ctx, prepaidKey{}, &first)
}

// isPrepaid reports, once, whether ctx's request was paid for.
func isPrepaid(ctx context.Context) bool {
	v, _ := ctx.Value(prepaidKey{}).(*atomic.Bool)
	return v != nil && v.CompareAndSwap(true, false)
}

// readBatched reads the actions of one listener or rule with the reads
// waiting meanwhile, or on its own when nothing is paced or the read is a
// rollback's.
func (c *Client) readBatched(ctx context.Context, ref Ref) (Actions, error) {
	rule := ref.RuleARN != ""
	arn := ref.ListenerARN
	if rule {
		arn = ref.RuleARN
	}
	if c.Pacer == nil || rollout.IsUrgent(ctx) {
		return c.readOne(ctx, ref)
	}
	bs := c.batches()
	for {
		bs.mu.Lock()
		b := bs.pending[rule]
		if b != nil && !b.sent && len(b.arns) < MaxBatchARNs {
			b.arns = appendNew(b.arns, arn)
			b.ctxs = append(b.ctxs, ctx)
			bs.mu.Unlock()
			select {
			case <-b.done:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			if errors.Is(b.err, errBatchLeft) {
				continue
			}
			return b.result(ctx, c, ref, arn)
		}
		b = &batch{arns: []string{arn}, ctxs: []context.Context{ctx}, done: make(chan struct{})}
		bs.pending[rule] = b
		bs.mu.Unlock()

		_, err := c.Pacer.waitFor(ctx, ClassELBDescribe, func() bool {
			bs.mu.Lock()
			defer bs.mu.Unlock()
			for _, x := range b.ctxs {
				if rollout.IsUrgent(x) {
					return true
				}
			}
			return false
		})
		bs.mu.Lock()
		b.sent = true
		if bs.pending[rule] == b {
			delete(bs.pending, rule)
		}
		arns := b.arns
		bs.mu.Unlock()
		if err != nil {
			b.err = errBatchLeft
			close(b.done)
			return nil, err
		}
		b.actions, b.err = c.describe(prepaid(ctx), rule, arns)
		bs.calls.Add(1)
		bs.reads.Add(int64(len(arns)))
		close(b.done)
		return b.result(ctx, c, ref, arn)
	}
}

// result is one read's part of a batch's answer.
func (b *batch) result(ctx context.Context, c *Client, ref Ref, arn string) (Actions, error) {
	if b.err != nil {
		if len(b.arns) > 1 {
			return c.readOne(ctx, ref) // perhaps another ARN's error
		}
		if isNotFound(b.err) {
			return nil, ErrNotFound
		}
		return nil, b.err
	}
	a, ok := b.actions[arn]
	if !ok {
		return nil, ErrNotFound
	}
	return a, nil
}

// describe reads the actions of listeners' default actions or of rules.
func (c *Client) describe(ctx context.Context, rule bool, arns []string) (map[string][]types.Action, error) {
	out := map[string][]types.Action{}
	if rule {
		got, err := c.ELB.DescribeRules(ctx, &elb.DescribeRulesInput{RuleArns: arns})
		if err != nil {
			return nil, err
		}
		for _, r := range got.Rules {
			out[aws.ToString(r.RuleArn)] = r.Actions
		}
		return out, nil
	}
	got, err := c.ELB.DescribeListeners(ctx, &elb.DescribeListenersInput{ListenerArns: arns})
	if err != nil {
		return nil, err
	}
	for _, l := range got.Listeners {
		out[aws.ToString(l.ListenerArn)] = l.DefaultActions
	}
	return out, nil
}

func appendNew(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}
