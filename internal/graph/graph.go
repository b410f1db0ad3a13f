// Package graph orders the services of a release by their dependencies. It
// has no AWS or framework import: the provider gives it names and edges, and
// it returns waves, or the problem with the input (an unknown service, a
// cycle named by its path).
//
// The three kinds of dependency, and what each means:
//
//	hard        the dependent starts after its dependency finished, and only
//	            when it succeeded; otherwise the dependent is skipped
//	order_only  the dependent starts after its dependency finished, whatever
//	            its outcome
//	soft        ordering when possible: the edge orders like order_only,
//	            unless keeping it would close a cycle, in which case it is
//	            dropped (and reported); the dependent goes whatever the
//	            dependency's outcome
//
// Hard and order-only edges must not form a cycle: that is an error naming
// the cycle (a → b → c → a). Soft edges are then added in the order given,
// each kept unless it would close a cycle with the edges kept before it.
package graph

import (
	"fmt"
	"sort"
	"strings"

	"github.com/rolloutdev/terraform-provider-rollout/internal/problem"
)

// Kind is a dependency's type.
type Kind string

// Kinds of dependency.
const (
	Hard      Kind = "hard"
	Soft      Kind = "soft"
	OrderOnly Kind = "order_only"
)

// Kinds are the kinds a dependency may have, in the order documented.
var Kinds = []string{string(Hard), string(Soft), string(OrderOnly)}

// Edge says that Service depends on DependsOn.
type Edge struct {
	Service   string
	DependsOn string
	Kind      Kind
}

func (e Edge) String() string { return fmt.Sprintf("%s → %s (%s)", e.Service, e.DependsOn, e.Kind) }

// Plan is the order of a release.
type Plan struct {
	// Waves are the services in dependency order: a service is in the wave
	// after the last of its kept dependencies. Names are sorted within a
	// wave, so the plan is the same for the same input.
	Waves [][]string
	// Kept are the edges that order the release, in input order.
	Kept []Edge
	// Dropped are the soft edges dropped because they would close a cycle,
	// with their index in the input.
	Dropped []int
	wave    map[string]int
}

// WaveOf is the wave (from 0) a service is in.
func (p Plan) WaveOf(name string) int { return p.wave[name] }

// Order is the services wave by wave: the order of a sequential release.
func (p Plan) Order() []string {
	var out []string
	for _, w := range p.Waves {
		out = append(out, w...)
	}
	return out
}

// DependsOn returns the kept edges whose dependent is name, in input order.
func (p Plan) DependsOn(name string) []Edge {
	var out []Edge
	for _, e := range p.Kept {
		if e.Service == name {
			out = append(out, e)
		}
	}
	return out
}

// Dependents returns the kept edges whose dependency is name, in input order.
func (p Plan) Dependents(name string) []Edge {
	var out []Edge
	for _, e := range p.Kept {
		if e.DependsOn == name {
			out = append(out, e)
		}
	}
	return out
}

// CycleError is a cycle of hard and order-only dependencies.
type CycleError struct {
	// Path is the cycle, its first service repeated at the end.
	Path []string
	// Edges are the indexes of the cycle's edges in the input, in the
	// order of Path.
	Edges []int
}

func (e *CycleError) Error() string {
	return "dependency cycle " + strings.Join(e.Path, " → ")
}

// Build orders services by edges. A problem with an edge (an unknown
// service, a kind that is not one of Kinds, a service depending on itself, two
// edges between the same services) is returned with its path
// ([index].service, [index].depends_on, [index].type); a cycle of hard and
// order-only edges is returned as a *CycleError.
func Build(services []string, edges []Edge) (Plan, []problem.Problem, *CycleError) {
	known := make(map[string]bool, len(services))
	for _, s := range services {
		known[s] = true
	}
	var probs []problem.Problem
	seen := map[[2]string]int{}
	for i, e := range edges {
		at := problem.Path{{Index: i}}
		if !known[e.Service] {
			probs = append(probs, problem.New(at.Name("service"), "unknown", "%q is not a service of this release (the services are %s)", e.Service, list(services)))
		}
		if !known[e.DependsOn] {
			probs = append(probs, problem.New(at.Name("depends_on"), "unknown", "%q is not a service of this release (the services are %s)", e.DependsOn, list(services)))
		}
		switch e.Kind {
		case Hard, Soft, OrderOnly:
		default:
			probs = append(probs, problem.New(at.Name("type"), "kind", "%q is not a dependency type; it must be one of %s", e.Kind, strings.Join(Kinds, ", ")))
		}
		if e.Service == e.DependsOn && known[e.Service] {
			probs = append(probs, problem.New(at.Name("depends_on"), "self", "%q depends on itself", e.Service))
			continue
		}
		k := [2]string{e.Service, e.DependsOn}
		if j, ok := seen[k]; ok {
			probs = append(probs, problem.New(at, "duplicate", "%s depends on %s already at dependencies[%d]; give each pair of services one dependency", e.Service, e.DependsOn, j))
		}
		seen[k] = i
	}
	if len(probs) > 0 {
		return Plan{}, probs, nil
	}

	// The strict edges (hard, order_only) must be acyclic.
	g := newDigraph(services)
	for i, e := range edges {
		if e.Kind != Soft {
			g.add(e.DependsOn, e.Service, i)
		}
	}
	if c := g.cycle(); c != nil {
		return Plan{}, nil, c
	}
	// Soft edges are kept when they close no cycle.
	var p Plan
	for i, e := range edges {
		if e.Kind != Soft {
			continue
		}
		if g.reaches(e.Service, e.DependsOn) {
			p.Dropped = append(p.Dropped, i)
			continue
		}
		g.add(e.DependsOn, e.Service, i)
	}
	for i, e := range edges {
		if g.has(i) {
			p.Kept = append(p.Kept, e)
		}
	}
	p.wave = g.levels()
	for _, s := range sortedCopy(services) {
		w := p.wave[s]
		for len(p.Waves) <= w {
			p.Waves = append(p.Waves, nil)
		}
		p.Waves[w] = append(p.Waves[w], s)
	}
	return p, nil, nil
}

func list(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(sortedCopy(s), ", ")
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

// digraph is a directed graph from dependency to dependent, with each
// edge's index in the input.
type digraph struct {
	nodes []string
	out   map[string][]arc
	edges map[int]bool
}

type arc struct {
	to    string
	index int
}

func newDigraph(nodes []string) *digraph {
	return &digraph{nodes: sortedCopy(nodes), out: map[string][]arc{}, edges: map[int]bool{}}
}

func (g *digraph) add(from, to string, index int) {
	g.out[from] = append(g.out[from], arc{to, index})
	g.edges[index] = true
}

func (g *digraph) has(index int) bool { return g.edges[index] }

// reaches reports whether there is a path from a to b.
func (g *digraph) reaches(a, b string) bool {
	seen := map[string]bool{a: true}
	stack := []string{a}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if n == b {
			return true
		}
		for _, x := range g.out[n] {
			if !seen[x.to] {
				seen[x.to] = true
				stack = append(stack, x.to)
			}
		}
	}
	return false
}

// cycle finds a cycle, deterministically (nodes and arcs in sorted order),
// and returns it in dependent → dependency terms, as users write edges: in
// a → b → c → a, a depends on b.
func (g *digraph) cycle() *CycleError {
	const (
		white = iota
		grey
		black
	)
	color := map[string]int{}
	var stack []string
	var arcs []int
	var found *CycleError
	var visit func(n string)
	visit = func(n string) {
		color[n] = grey
		stack = append(stack, n)
		out := append([]arc(nil), g.out[n]...)
		sort.Slice(out, func(i, j int) bool {
			return out[i].to < out[j].to || out[i].to == out[j].to && out[i].index < out[j].index
		})
		for _, a := range out {
			if found != nil {
				return
			}
			switch color[a.to] {
			case grey:
				// stack from a.to to n, then a.to again: dependency order.
				start := 0
				for i, s := range stack {
					if s == a.to {
						start = i
					}
				}
				path := append(append([]string(nil), stack[start:]...), a.to)
				idx := append(append([]int(nil), arcs[start:]...), a.index)
				// Reverse into "depends on" order.
				for i, j := 0, len(path)-1; i < j; i, j = i+1, j-1 {
					path[i], path[j] = path[j], path[i]
				}
				for i, j := 0, len(idx)-1; i < j; i, j = i+1, j-1 {
					idx[i], idx[j] = idx[j], idx[i]
				}
				found = &CycleError{Path: rotate(path), Edges: rotateIdx(path, idx)}
				return
			case white:
				arcs = append(arcs, a.index)
				visit(a.to)
				arcs = arcs[:len(arcs)-1]
			}
		}
		stack = stack[:len(stack)-1]
		color[n] = black
	}
	for _, n := range g.nodes {
		if color[n] == white && found == nil {
			visit(n)
		}
	}
	return found
}

// rotate starts a cycle (first repeated last) at its smallest name, so the
// same cycle is always named the same way.
func rotate(path []string) []string {
	n := len(path) - 1
	best := 0
	for i := 1; i < n; i++ {
		if path[i] < path[best] {
			best = i
		}
	}
	out := make([]string, 0, n+1)
	for i := 0; i < n; i++ {
		out = append(out, path[(best+i)%n])
	}
	return append(out, out[0])
}

func rotateIdx(path []string, idx []int) []int {
	n := len(path) - 1
	best := 0
	for i := 1; i < n; i++ {
		if path[i] < path[best] {
			best = i
		}
	}
	out := make([]int, 0, n)
	for i := 0; i < n; i++ {
		out = append(out, idx[(best+i)%n])
	}
	return out
}

// levels is each node's wave: 0 without dependencies, otherwise one after
// its latest dependency. The graph is acyclic.
func (g *digraph) levels() map[string]int {
	in := map[string]int{}
	for _, n := range g.nodes {
		for _, a := range g.out[n] {
			in[a.to]++
		}
	}
	level := map[string]int{}
	var queue []string
	for _, n := range g.nodes {
		if in[n] == 0 {
			queue = append(queue, n)
		}
	}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		for _, a := range g.out[n] {
			if level[n]+1 > level[a.to] {
				level[a.to] = level[n] + 1
			}
			in[a.to]--
			if in[a.to] == 0 {
				queue = append(queue, a.to)
			}
		}
	}
	return level
}
