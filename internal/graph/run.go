package graph

import (
	"context"
	"fmt"
	"strings"
)

// Strategy is how a release runs its services.
type Strategy string

// Strategies of a release.
//
//	sequential  one service at a time, wave by wave (names sorted in a wave)
//	waves       wave by wave: the services of a wave run concurrently (at
//	            most MaxParallel), and a wave starts when the one before it
//	            has finished
//	parallel    every service starts as soon as its own dependencies have
//	            finished (at most MaxParallel at once), with no barrier
//	            between waves
const (
	Sequential Strategy = "sequential"
	Waves      Strategy = "waves"
	Parallel   Strategy = "parallel"
)

// Strategies are the strategies a release may have.
var Strategies = []string{string(Sequential), string(Parallel), string(Waves)}

// Status is how a service ended in a release.
type Status string

// Statuses of a service in a release. A service runs to Succeeded or
// Failed; one that never started is Skipped, with the reason.
const (
	Succeeded Status = "succeeded"
	Failed    Status = "failed"
	Skipped   Status = "skipped"
)

// Options say how Run goes.
type Options struct {
	Strategy Strategy
	// MaxParallel bounds the services running at once; 0 is no bound.
	// Sequential always runs one.
	MaxParallel int
	// Stop starts no service after one has failed (those running finish).
	Stop bool
}

// Outcome is how one service ended.
type Outcome struct {
	Status Status
	Reason string
	// Finished is the order (from 1) in which the service finished; 0 when
	// it did not run.
	Finished int
}

// Func runs one service and says whether it succeeded, and if not why.
type Func func(ctx context.Context, name string) (ok bool, why string)

// Run runs the services of p through fn as the options say, and returns
// each service's outcome. A service whose hard dependency did not succeed
// is skipped; after a failure with Stop, every service not started is
// skipped. Services run in goroutines; fn must be safe for that.
func Run(ctx context.Context, p Plan, o Options, fn Func) map[string]Outcome {
	order := p.Order()
	out := make(map[string]Outcome, len(order))
	limit := o.MaxParallel
	if o.Strategy == Sequential {
		limit = 1
	}
	type done struct {
		name string
		ok   bool
		why  string
	}
	finished := make(chan done)
	running, finishedN := 0, 0
	var failed []string
	isDone := func(n string) bool { _, ok := out[n]; return ok }
	started := map[string]bool{}
	ready := func(n string) bool {
		switch o.Strategy {
		case Waves:
			w := p.WaveOf(n)
			for _, m := range order {
				if p.WaveOf(m) < w && !isDone(m) {
					return false
				}
			}
			return true
		default:
			for _, e := range p.DependsOn(n) {
				if !isDone(e.DependsOn) {
					return false
				}
			}
			return true
		}
	}
	for len(out) < len(order) {
		progressed := false
		for _, n := range order {
			if isDone(n) || started[n] {
				continue
			}
			if o.Stop && len(failed) > 0 {
				out[n] = Outcome{Status: Skipped, Reason: fmt.Sprintf("the release stopped after %s failed (on_failure.stop)", strings.Join(failed, ", "))}
				progressed = true
				continue
			}
			if ctx.Err() != nil {
				// Interrupted (Ctrl-C, the deadline): what has not started
				// never will; it did not fail.
				out[n] = Outcome{Status: Skipped, Reason: "the apply was interrupted before it started"}
				progressed = true
				continue
			}
			if !ready(n) {
				if o.Strategy == Sequential {
					break
				}
				continue
			}
			if why := hardBlocked(p, n, out); why != "" {
				out[n] = Outcome{Status: Skipped, Reason: why}
				progressed = true
				continue
			}
			if limit > 0 && running >= limit {
				break
			}
			started[n] = true
			running++
			progressed = true
			go func(n string) {
				ok, why := fn(ctx, n)
				finished <- done{n, ok, why}
			}(n)
			if o.Strategy == Sequential {
				break
			}
		}
		if progressed {
			continue
		}
		if running == 0 {
			// Cannot happen with a Plan from Build; do not hang if it does.
			for _, n := range order {
				if !isDone(n) {
					out[n] = Outcome{Status: Skipped, Reason: "its dependencies never finished"}
				}
			}
			break
		}
		d := <-finished
		running--
		finishedN++
		st := Succeeded
		if !d.ok {
			st = Failed
			failed = append(failed, d.name)
		}
		out[d.name] = Outcome{Status: st, Reason: d.why, Finished: finishedN}
	}
	return out
}

// hardBlocked says why n cannot start: a hard dependency that did not
// succeed. "" when none.
func hardBlocked(p Plan, n string, out map[string]Outcome) string {
	for _, e := range p.DependsOn(n) {
		if e.Kind != Hard {
			continue
		}
		switch d := out[e.DependsOn]; d.Status {
		case Failed:
			return fmt.Sprintf("its hard dependency %s failed", e.DependsOn)
		case Skipped:
			return fmt.Sprintf("its hard dependency %s was skipped", e.DependsOn)
		}
	}
	return ""
}

// Started are the services that ran and succeeded, last finished first:
// the order in which a release rolls back the services it moved
// (dependents before what they depend on).
func Started(out map[string]Outcome) []string {
	var names []string
	for n, o := range out {
		if o.Status == Succeeded {
			names = append(names, n)
		}
	}
	// Insertion sort by Finished, descending.
	for i := 1; i < len(names); i++ {
		for j := i; j > 0 && out[names[j]].Finished > out[names[j-1]].Finished; j-- {
			names[j], names[j-1] = names[j-1], names[j]
		}
	}
	return names
}
