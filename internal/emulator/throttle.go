package emulator

import (
	"strings"
	"time"
)

// The throttling layer: AWS throttles each account's requests per Region
// with token buckets per action class, and answers Throttling when a
// bucket is empty. The front does the same when Throttle is set, so tests
// and the bench see what AWS would do to many rollouts at once.

// Bucket is an action class's token bucket: Capacity tokens at most,
// Refill a second.
type Bucket struct {
	Capacity float64
	Refill   float64
}

// AWSBuckets are AWS's buckets as documented (ELB's Describe*: 40, refill
// 10 a second; CloudWatch's DescribeAlarms about 9 a second, GetMetricData
// 50; Lambda's control plane 15; Parameter Store's GetParameter 40), and,
// for ELB's writes, whose buckets AWS does not publish, an assumed 20 with
// a refill of 10.
var AWSBuckets = map[string]Bucket{
	"elb_describe":           {Capacity: 40, Refill: 10},
	"elb_modify":             {Capacity: 20, Refill: 10},
	"cloudwatch_describe":    {Capacity: 9, Refill: 9},
	"cloudwatch_metric_data": {Capacity: 50, Refill: 50},
	"lambda":                 {Capacity: 15, Refill: 15},
	"ssm":                    {Capacity: 40, Refill: 40},
}

// ThrottleClass is the bucket of an action, "" for none: the same classes
// as the provider's budget.
func ThrottleClass(action string) string {
	service, op, _ := strings.Cut(action, ":")
	switch service {
	case "elasticloadbalancing":
		if strings.HasPrefix(op, "Describe") {
			return "elb_describe"
		}
		return "elb_modify"
	case "monitoring":
		switch op {
		case "GetMetricData":
			return "cloudwatch_metric_data"
		case "PutMetricData":
			return "" // its own, far larger quota (what the services publish)
		}
		return "cloudwatch_describe"
	case "lambda":
		if op == "Invoke" {
			return ""
		}
		return "lambda"
	case "ssm":
		return "ssm"
	}
	return ""
}

type tokenBucket struct {
	Bucket
	tokens float64
	last   time.Time
}

// Throttle makes the front answer Throttling when a class's bucket is
// empty (buckets by ThrottleClass); nil stops throttling. Refills are on
// the wall clock: throttling is about how fast requests arrive.
func (e *Emulator) Throttle(buckets map[string]Bucket) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.buckets = map[string]*tokenBucket{}
	now := time.Now()
	for class, b := range buckets {
		e.buckets[class] = &tokenBucket{Bucket: b, tokens: b.Capacity, last: now}
	}
}

// Throttled counts the requests answered Throttling, by class.
func (e *Emulator) Throttled() map[string]int {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := map[string]int{}
	for k, v := range e.throttled {
		out[k] = v
	}
	return out
}

// throttle takes a token for action; false when its bucket is empty.
// Called with e.mu held.
func (e *Emulator) throttle(action string) bool {
	class := ThrottleClass(action)
	b := e.buckets[class]
	if b == nil {
		return true
	}
	now := time.Now()
	b.tokens = min(b.Capacity, b.tokens+now.Sub(b.last).Seconds()*b.Refill)
	b.last = now
	if b.tokens < 1 {
		e.throttled[class]++
		return false
	}
	b.tokens--
	return true
}
