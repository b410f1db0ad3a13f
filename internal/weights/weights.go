// Package weights models the weighted target groups of an Application Load
// Balancer forward action: the limits AWS enforces, the share of traffic each
// target group receives, and comparisons between two splits.
//
// It has no AWS or Terraform imports so that it can be tested exhaustively.
package weights

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/rolloutdev/terraform-provider-rollout/internal/problem"
)

// Limits of an ALB forward action, from the Elastic Load Balancing API reference
// (TargetGroupTuple.Weight and ForwardActionConfig.TargetGroups).
const (
	MinWeight       = 0
	MaxWeight       = 999
	MinTargetGroups = 1
	MaxTargetGroups = 5
)

// Target is one target group of a forward action and its weight.
type Target struct {
	ARN    string
	Weight int
}

// Split is the ordered list of target groups of one forward action.
type Split []Target

// Problem is one reason a split is not valid for AWS, at target_groups[i].weight
// or target_groups[i].arn for one entry, or target_groups for the list as a
// whole. Codes: CodeCount, CodeWeight, CodeDuplicate,
// CodeNoTraffic.
type Problem = problem.Problem

// Problem codes of a split.
const (
	CodeCount     = "count"
	CodeWeight    = "weight"
	CodeDuplicate = "duplicate"
	CodeNoTraffic = "no_traffic"
)

// Problems lists every reason s cannot be sent to AWS. An empty result means s
// is valid. ARNs that are empty are treated as unknown and not compared.
func (s Split) Problems() []Problem {
	var out []Problem
	if len(s) < MinTargetGroups || len(s) > MaxTargetGroups {
		out = append(out, problem.New(problem.At("target_groups"), CodeCount, "a forward action has %d to %d target groups, this one has %d", MinTargetGroups, MaxTargetGroups, len(s)))
	}
	seen := map[string]int{}
	positive := false
	for i, t := range s {
		if t.Weight < MinWeight || t.Weight > MaxWeight {
			out = append(out, problem.New(problem.At("target_groups").Index(i).Name("weight"), CodeWeight, "weight %d is outside %d to %d", t.Weight, MinWeight, MaxWeight))
		}
		if t.Weight > 0 {
			positive = true
		}
		if t.ARN == "" {
			continue
		}
		if j, dup := seen[t.ARN]; dup {
			out = append(out, problem.New(problem.At("target_groups").Index(i).Name("arn"), CodeDuplicate, "the target group %s is already listed at target_groups[%d]; each target group may appear once", t.ARN, j))
			continue
		}
		seen[t.ARN] = i
	}
	if len(s) > 0 && !positive {
		out = append(out, problem.New(problem.At("target_groups"), CodeNoTraffic, "every weight is 0; at least one target group needs a weight above 0 or the listener would serve no traffic"))
	}
	return out
}

// Total is the sum of the weights.
func (s Split) Total() int {
	n := 0
	for _, t := range s {
		n += t.Weight
	}
	return n
}

// Percentages returns each target group's share of traffic in percent,
// rounded to two decimals. An all-zero split gives zero for every target
// group.
func (s Split) Percentages() map[string]float64 {
	out := make(map[string]float64, len(s))
	total := s.Total()
	for _, t := range s {
		if total == 0 {
			out[t.ARN] = 0
			continue
		}
		out[t.ARN] = math.Round(float64(t.Weight)*10000/float64(total)) / 100
	}
	return out
}

// Equal reports whether s and o give the same weight to the same target
// groups, in any order.
func (s Split) Equal(o Split) bool {
	if len(s) != len(o) {
		return false
	}
	m := make(map[string]int, len(s))
	for _, t := range s {
		m[t.ARN] = t.Weight
	}
	for _, t := range o {
		w, ok := m[t.ARN]
		if !ok || w != t.Weight {
			return false
		}
	}
	return true
}

// OrderedLike returns s with the target groups that ref also lists in ref's
// order, followed by the others in their order in s. It keeps a list the user
// wrote from showing a difference when AWS returns it in another order.
func (s Split) OrderedLike(ref Split) Split {
	pos := make(map[string]int, len(ref))
	for i, t := range ref {
		pos[t.ARN] = i
	}
	out := append(Split(nil), s...)
	sort.SliceStable(out, func(i, j int) bool {
		pi, iok := pos[out[i].ARN]
		pj, jok := pos[out[j].ARN]
		switch {
		case iok && jok:
			return pi < pj
		case iok:
			return true
		default:
			return false
		}
	})
	return out
}

// String lists the target groups and weights, for logs and errors.
func (s Split) String() string {
	out := "["
	for i, t := range s {
		if i > 0 {
			out += ", "
		}
		out += fmt.Sprintf("%s=%d", t.ARN, t.Weight)
	}
	return out + "]"
}

// SameWithin reports whether two splits serve the same traffic: each
// target group receives the same share of the total in both, to within
// tolerance percentage points, whatever their scale and order (1 and
// 100/0 alike; 1/1 and 500/500 alike). A target group one lists at weight
// 0 and the other does not list receives nothing in either: the forms a
// person or AWS writes for the same traffic (the single target group form,
// a zero-weight entry dropped) are the same. Two splits of which one
// serves nothing are the same only when Equal. Tolerance 0 is exact (the
// shares are compared as fractions, not rounded); a larger tolerance
// accepts everything a smaller one does.
func SameWithin(a, b Split, tolerance float64) bool {
	ta, tb := a.Total(), b.Total()
	if ta <= 0 || tb <= 0 {
		return a.Equal(b)
	}
	// |wa/ta - wb/tb| * 100 <= tolerance, in integers where it can be.
	limit := tolerance * float64(ta) * float64(tb) / 100
	within := func(wa, wb int) bool {
		d := wa*tb - wb*ta
		return d == 0 || math.Abs(float64(d)) <= limit
	}
	ma, mb := a.Map(), b.Map()
	for k, w := range ma {
		if !within(w, mb[k]) {
			return false
		}
	}
	for k, w := range mb {
		if !within(ma[k], w) {
			return false
		}
	}
	return true
}

// SharesTolerance is the tolerance of SameShares, in percentage points:
// half of the 0.1 % a schedule writes.
const SharesTolerance = 0.05

// SameTraffic reports whether two splits serve the same traffic, exactly
// (SameWithin, tolerance 0): what the read before write compares.
func SameTraffic(a, b Split) bool { return SameWithin(a, b, 0) }

// SameShares reports whether two splits send the same share of traffic
// to each target group to within SharesTolerance (SameWithin): a step of
// a schedule and what a subject serves after it.
func SameShares(a, b Split) bool { return SameWithin(a, b, SharesTolerance) }

// Canonical is the split written in ARN order ("arn=weight, …"), the same
// for two splits that are Equal whatever their order.
func (s Split) Canonical() string {
	c := append(Split(nil), s...)
	sort.Slice(c, func(i, j int) bool { return c[i].ARN < c[j].ARN })
	parts := make([]string, len(c))
	for i, t := range c {
		parts[i] = fmt.Sprintf("%s=%d", t.ARN, t.Weight)
	}
	return strings.Join(parts, ", ")
}

// ParseCanonical reads a split written by Canonical.
func ParseCanonical(s string) (Split, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out Split
	for _, part := range strings.Split(s, ", ") {
		i := strings.LastIndex(part, "=")
		if i <= 0 {
			return nil, fmt.Errorf("%q is not ARN=weight", part)
		}
		w, err := strconv.Atoi(part[i+1:])
		if err != nil {
			return nil, fmt.Errorf("%q has no whole weight", part)
		}
		out = append(out, Target{ARN: part[:i], Weight: w})
	}
	return out, nil
}

// Map returns each target group's weight by ARN.
func (s Split) Map() map[string]int {
	m := make(map[string]int, len(s))
	for _, t := range s {
		m[t.ARN] = t.Weight
	}
	return m
}

// Short lists the target groups by name (the NAME of an ARN ending in
// targetgroup/NAME/ID, target group names being unique per account and
// region) with their weights, for messages people read: "blue=90, green=10".
func (s Split) Short() string {
	parts := make([]string, 0, len(s))
	for _, t := range s {
		name := t.ARN
		if i := strings.Index(name, "targetgroup/"); i >= 0 {
			name = name[i+len("targetgroup/"):]
			if j := strings.IndexByte(name, '/'); j >= 0 {
				name = name[:j]
			}
		}
		parts = append(parts, fmt.Sprintf("%s=%d", name, t.Weight))
	}
	return strings.Join(parts, ", ")
}
