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
	s := newRun(p, o)
	for len(s.out) < len(s.order) {
		if s.startReady(ctx, fn) {
			continue
		}
		if s.running == 0 {
			// Cannot happen with a Plan from Build; do not hang if it does.
			s.skipUnfinished()
			break
		}
		s.collect()
	}
	return s.out
}

// run is one Run: what has started, what has finished and how.
type run struct {
	p     Plan
	o     Options
	order []string
	limit int
	out   map[string]Outcome
	// started are the services started; running how many of them have not
	// finished, finishedN how many have.
	started            map[string]bool
	running, finishedN int
	failed             []string
	finished           chan finishedRun
}

// finishedRun is how a service's Func returned.
type finishedRun struct {
	name string
	ok   bool
	why  string
}

func newRun(p Plan, o Options) *run {
	order := p.Order()
	s := &run{p: p, o: o, order: order, limit: o.MaxParallel, out: make(map[string]Outcome, len(order)), started: map[string]bool{}, finished: make(chan finishedRun)}
	if o.Strategy == Sequential {
		s.limit = 1
	}
	return s
}

func (s *run) isDone(n string) bool { _, ok := s.out[n]; return ok }

// ready reports whether n may start: the waves before its own have
// finished (waves), or its dependencies have (sequential, parallel).
func (s *run) ready(n string) bool {
	switch s.o.Strategy {
	case Waves:
		w := s.p.WaveOf(n)
		for _, m := range s.order {
			if s.p.WaveOf(m) < w && !s.isDone(m) {
				return false
			}
		}
		return true
	default:
		for _, e := range s.p.DependsOn(n) {
			if !s.isDone(e.DependsOn) {
				return false
			}
		}
		return true
	}
}

// startReady starts, in order, the services that may start, and skips
// those that never will. It reports whether anything started or was
// skipped.
func (s *run) startReady(ctx context.Context, fn Func) bool {
	progressed := false
	for _, n := range s.order {
		if s.isDone(n) || s.started[n] {
			continue
		}
		if s.o.Stop && len(s.failed) > 0 {
			s.out[n] = Outcome{Status: Skipped, Reason: fmt.Sprintf("the release stopped after %s failed (on_failure.stop)", strings.Join(s.failed, ", "))}
			progressed = true
			continue
		}
		if ctx.Err() != nil {
			// Interrupted (Ctrl-C, the deadline): what has not started
			// never will; it did not fail.
			s.out[n] = Outcome{Status: Skipped, Reason: "the apply was interrupted before it started"}
			progressed = true
			continue
		}
		if !s.ready(n) {
			if s.o.Strategy == Sequential {
				return progressed
			}
			continue
		}
		if why := hardBlocked(s.p, n, s.out); why != "" {
			s.out[n] = Outcome{Status: Skipped, Reason: why}
			progressed = true
			continue
		}
		if s.limit > 0 && s.running >= s.limit {
			return progressed
		}
		s.started[n] = true
		s.running++
		progressed = true
		go func(n string) {
			ok, why := fn(ctx, n)
			s.finished <- finishedRun{n, ok, why}
		}(n)
		if s.o.Strategy == Sequential {
			return progressed
		}
	}
	return progressed
}

// collect waits for a service running to finish and records how.
func (s *run) collect() {
	d := <-s.finished
	s.running--
	s.finishedN++
	st := Succeeded
	if !d.ok {
		st = Failed
		s.failed = append(s.failed, d.name)
	}
	s.out[d.name] = Outcome{Status: st, Reason: d.why, Finished: s.finishedN}
}

// skipUnfinished skips every service not finished.
func (s *run) skipUnfinished() {
	for _, n := range s.order {
		if !s.isDone(n) {
			s.out[n] = Outcome{Status: Skipped, Reason: "its dependencies never finished"}
		}
	}
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
