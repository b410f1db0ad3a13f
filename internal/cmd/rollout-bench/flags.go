package main

import (
	"runtime"
	"testing"

	"github.com/rolloutdev/terraform-provider-rollout/flag"
)

type flagFigures struct {
	segmentsPerSec float64
	percentAllocs  int64
}

// flagEvaluations measures the public flag evaluator on one core: a flag
// with 3 segment rules, and the allocations of the percentage path.
func flagEvaluations() flagFigures {
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	seg := &flag.Flag{SchemaVersion: 1, Key: "checkout", Enabled: true, RolloutPercentage: 50, Targeting: flag.Targeting{SegmentRules: []flag.Rule{
		{Attribute: "plan", Operator: "equals", Value: "pro"}, {Attribute: "country", Operator: "in", Value: "FR,DE,ES"}, {Attribute: "age", Operator: "gt", Value: "18"},
	}}}
	segCtx := flag.Context{UserID: "alice", Environment: "prod", Attributes: map[string]string{"plan": "pro", "country": "DE", "age": "42"}}
	r := testing.Benchmark(func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			flag.Evaluate(seg, segCtx, nil)
		}
	})
	pct := &flag.Flag{SchemaVersion: 1, Key: "checkout", Enabled: true, RolloutPercentage: 50}
	pctCtx := flag.Context{UserID: "user-12345", Environment: "prod"}
	p := testing.Benchmark(func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			flag.Evaluate(pct, pctCtx, nil)
		}
	})
	return flagFigures{segmentsPerSec: float64(r.N) / r.T.Seconds(), percentAllocs: p.AllocsPerOp()}
}
