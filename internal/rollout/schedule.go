// Package rollout computes traffic schedules and rollback decisions. It has
// no AWS or Terraform imports: it turns current weights, desired weights and
// a strategy into the list of forward actions to apply, in order.
package rollout

import (
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"

	"github.com/rolloutdev/terraform-provider-rollout/internal/problem"
)

// Kind names a strategy.
type Kind string

// Strategies.
const (
	AllAtOnce Kind = "all_at_once"
	Canary    Kind = "canary"
	Linear    Kind = "linear"
)

// Step of a canary: how far along the shift to go, in percent, and how long
// to bake there.
type Step struct {
	Percent int
	Pause   time.Duration
	// Hold stops the rollout after the step until it is promoted.
	Hold bool
}

// Strategy says how to move from one split to another.
type Strategy struct {
	Kind        Kind
	Steps       []Step        // canary
	StepPercent int           // linear
	Interval    time.Duration // linear
}

// PlannedStep is one forward action of a schedule.
type PlannedStep struct {
	// Percent is how far along the shift this step is: 0 is where the
	// listener started, 100 is the desired split.
	Percent int           `json:"percent"`
	Weights weights.Split `json:"weights"`
	// Pause is the bake time after this step is applied.
	Pause time.Duration `json:"pause,omitempty"`
	// Hold stops the rollout after this step until it is promoted.
	Hold bool `json:"hold,omitempty"`
}

// scale is the sum of the weights of intermediate steps: shares are kept to
// a tenth of a percent, and no single weight exceeds weights.MaxWeight.
const scale = 1000

// Problems lists what is wrong with a strategy, each at the attribute at
// fault relative to the rollout block.
func (s Strategy) Problems() []problem.Problem {
	var out []problem.Problem
	add := func(at problem.Path, f string, a ...any) { out = append(out, problem.New(at, "", f, a...)) }
	switch s.Kind {
	case AllAtOnce, "":
	case Canary:
		if len(s.Steps) == 0 {
			add(problem.At("steps"), "a canary needs at least one step")
		}
		prev := 0
		for i, st := range s.Steps {
			step := problem.At("steps").Index(i)
			if st.Percent < 1 || st.Percent > 100 {
				add(step.Name("percent"), "%d is outside 1 to 100", st.Percent)
			} else if st.Percent <= prev {
				add(step.Name("percent"), "%d does not increase on the step before (%d); each step goes further than the last", st.Percent, prev)
			}
			if st.Pause < 0 {
				add(step.Name("pause"), "negative")
			}
			if st.Hold && i == len(s.Steps)-1 {
				add(step.Name("pause"), "the last step cannot be a hold: it is where the rollout ends")
			}
			if st.Percent > prev {
				prev = st.Percent
			}
		}
		if n := len(s.Steps); n > 0 && s.Steps[n-1].Percent != 100 {
			add(problem.At("steps").Index(n-1).Name("percent"), "the last step is %d; it must be 100 so the rollout ends at the desired weights", s.Steps[n-1].Percent)
		}
	case Linear:
		if s.StepPercent < 1 || s.StepPercent > 100 {
			add(problem.At("linear").Name("step_percent"), "%d is outside 1 to 100", s.StepPercent)
		}
		if s.Interval < 0 {
			add(problem.At("linear").Name("interval"), "negative")
		}
	default:
		add(problem.At("strategy"), "%q is not one of all_at_once, canary, linear", s.Kind)
	}
	return out
}

// percents returns the progress points and pauses of the strategy.
func (s Strategy) percents() []Step {
	switch s.Kind {
	case Canary:
		return s.Steps
	case Linear:
		var out []Step
		for p := s.StepPercent; p < 100; p += s.StepPercent {
			out = append(out, Step{Percent: p, Pause: s.Interval})
		}
		return append(out, Step{Percent: 100})
	default:
		return []Step{{Percent: 100}}
	}
}

// Plan returns the forward actions that take the listener from `from` to
// `to` by strategy s. Every step is valid for AWS; the last equals `to`
// exactly; steps that would not change the weights are left out. An empty
// schedule means there is nothing to do.
func Plan(from, to weights.Split, s Strategy) ([]PlannedStep, error) {
	if ps := s.Problems(); len(ps) > 0 {
		return nil, fmt.Errorf("invalid strategy: %s", ps[0])
	}
	if len(to.Problems()) > 0 {
		return nil, fmt.Errorf("the desired split is not valid: %s", to.Problems()[0].Error())
	}
	if from.Equal(to) {
		return nil, nil
	}
	pts := s.percents()
	union := unionOf(to, from)
	if len(pts) > 1 && len(union) > weights.MaxTargetGroups && from.Total() > 0 {
		return nil, fmt.Errorf("the listener forwards to %d target groups between the current and the desired split; a stepped shift can name at most %d at once: shift all at once, or in two applies", len(union), weights.MaxTargetGroups)
	}
	fs, ts := shares(from, union), shares(to, union)
	var out []PlannedStep
	prev := from
	for _, pt := range pts {
		var w weights.Split
		if pt.Percent >= 100 {
			w = append(weights.Split(nil), to...)
		} else {
			w = blend(union, fs, ts, pt.Percent)
		}
		if w.Equal(prev) || (pt.Percent < 100 && equalShares(w, prev)) {
			continue
		}
		out = append(out, PlannedStep{Percent: pt.Percent, Weights: w, Pause: pt.Pause, Hold: pt.Hold && pt.Percent < 100})
		prev = w
	}
	if len(out) == 0 || !out[len(out)-1].Weights.Equal(to) {
		// The last intermediate step already had to's shares but not its
		// weights: finish on the exact weights.
		out = append(out, PlannedStep{Percent: 100, Weights: append(weights.Split(nil), to...)})
	}
	return out, nil
}

// unionOf lists the target groups of a then those only in b, in order.
func unionOf(a, b weights.Split) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range []weights.Split{a, b} {
		for _, t := range s {
			if !seen[t.ARN] {
				seen[t.ARN] = true
				out = append(out, t.ARN)
			}
		}
	}
	return out
}

// shares returns each target group's share of s, from 0 to 1, in union order.
func shares(s weights.Split, union []string) []float64 {
	total := float64(s.Total())
	m := map[string]int{}
	for _, t := range s {
		m[t.ARN] = t.Weight
	}
	out := make([]float64, len(union))
	for i, arn := range union {
		if total > 0 {
			out[i] = float64(m[arn]) / total
		}
	}
	return out
}

// blend is the split p percent of the way from shares fs to ts, in weights
// that sum to exactly scale (largest-remainder rounding, so each share is
// within 0.1 % of the exact one). Target groups at 0 on both sides are left
// out.
func blend(union []string, fs, ts []float64, p int) weights.Split {
	x := float64(p) / 100
	type part struct {
		arn  string
		w    int
		frac float64
	}
	var parts []part
	sum := 0
	for i, arn := range union {
		if fs[i] == 0 && ts[i] == 0 {
			continue
		}
		q := (fs[i]*(1-x) + ts[i]*x) * scale
		w := int(math.Floor(q))
		parts = append(parts, part{arn, w, q - float64(w)})
		sum += w
	}
	for left := scale - sum; left > 0; left-- {
		best := -1
		for i := range parts {
			if best < 0 || parts[i].frac > parts[best].frac {
				best = i
			}
		}
		parts[best].w++
		parts[best].frac = -1
	}
	out := make(weights.Split, 0, len(parts))
	for _, pt := range parts {
		if pt.w > weights.MaxWeight { // one group holds everything: same share
			pt.w = weights.MaxWeight
		}
		out = append(out, weights.Target{ARN: pt.arn, Weight: pt.w})
	}
	return out
}

func equalShares(a, b weights.Split) bool {
	pa, pb := a.Percentages(), b.Percentages()
	if len(pa) != len(pb) {
		return false
	}
	for k, v := range pa {
		if w, ok := pb[k]; !ok || math.Abs(w-v) > 0.05 {
			return false
		}
	}
	return true
}

// Presets are CodeDeploy's predefined deployment configurations for Lambda
// (and, with the same shapes, for ECS), by the name a rollout block gives
// them, so a migration from CodeDeploy is a one-line change:
//
//	canary_10_percent_N_minutes       LambdaCanary10PercentNMinutes (N = 5, 10, 15, 30)
//	linear_10_percent_every_N_minutes LambdaLinear10PercentEveryNMinute(s) (N = 1, 2, 3, 10)
//	all_at_once                       LambdaAllAtOnce
//
// and flag_ramp, the default ramp of a feature flag's rollout: 1, 5, 25, 50
// and 100 % of the way, pausing 5, 10, 15 and 20 minutes.
var Presets = map[string]Strategy{
	"all_at_once": {Kind: AllAtOnce},
	"flag_ramp": {Kind: Canary, Steps: []Step{{Percent: 1, Pause: 5 * time.Minute}, {Percent: 5, Pause: 10 * time.Minute},
		{Percent: 25, Pause: 15 * time.Minute}, {Percent: 50, Pause: 20 * time.Minute}, {Percent: 100}}},
}

func init() {
	for _, n := range []int{5, 10, 15, 30} {
		Presets[fmt.Sprintf("canary_10_percent_%d_minutes", n)] = Strategy{Kind: Canary, Steps: []Step{{Percent: 10, Pause: time.Duration(n) * time.Minute}, {Percent: 100}}}
	}
	for _, n := range []int{1, 2, 3, 10} {
		name := fmt.Sprintf("linear_10_percent_every_%d_minutes", n)
		if n == 1 {
			name = "linear_10_percent_every_1_minute"
		}
		Presets[name] = Strategy{Kind: Linear, StepPercent: 10, Interval: time.Duration(n) * time.Minute}
	}
}

// PresetNames lists the presets in order.
func PresetNames() []string {
	names := make([]string, 0, len(Presets))
	for n := range Presets {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
