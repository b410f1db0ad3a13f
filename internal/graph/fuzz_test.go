package graph

import (
	"context"
	"fmt"
	"sync"
	"testing"
)

// decode turns fuzz bytes into up to 8 services and their edges: each
// pair of bytes is an edge (service, dependency and kind from the bits).
func decode(data []byte) ([]string, []Edge) {
	if len(data) == 0 {
		return nil, nil
	}
	n := int(data[0])%8 + 1
	var names []string
	for i := 0; i < n; i++ {
		names = append(names, fmt.Sprintf("s%d", i))
	}
	var edges []Edge
	seen := map[[2]int]bool{}
	for i := 1; i+1 < len(data) && len(edges) < 24; i += 2 {
		a, b := int(data[i])%n, int(data[i+1])%n
		if a == b || seen[[2]int{a, b}] {
			continue
		}
		seen[[2]int{a, b}] = true
		edges = append(edges, Edge{names[a], names[b], []Kind{Hard, Soft, OrderOnly}[int(data[i]/8+data[i+1]/8)%3]})
	}
	return names, edges
}

// strictCycle reports, by transitive closure, whether the hard and
// order-only edges have a cycle.
func strictCycle(names []string, edges []Edge) bool {
	idx := map[string]int{}
	for i, n := range names {
		idx[n] = i
	}
	n := len(names)
	r := make([][]bool, n)
	for i := range r {
		r[i] = make([]bool, n)
	}
	for _, e := range edges {
		if e.Kind != Soft {
			r[idx[e.DependsOn]][idx[e.Service]] = true
		}
	}
	for k := 0; k < n; k++ {
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				r[i][j] = r[i][j] || r[i][k] && r[k][j]
			}
		}
	}
	for i := 0; i < n; i++ {
		if r[i][i] {
			return true
		}
	}
	return false
}

func FuzzBuild(f *testing.F) {
	f.Add([]byte{3, 0, 1, 1, 2})
	f.Add([]byte{3, 0, 1, 1, 2, 2, 0})
	f.Add([]byte{5, 0, 9, 17, 2, 3, 4, 12, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		names, edges := decode(data)
		p, probs, cyc := Build(names, edges)
		if len(probs) > 0 {
			t.Fatalf("problems with a valid input: %v", probs)
		}
		if want := strictCycle(names, edges); (cyc != nil) != want {
			t.Fatalf("cycle found = %v, exists = %v (edges %v)", cyc, want, edges)
		}
		if cyc != nil {
			// The cycle is made of the input's strict edges, in order.
			if len(cyc.Path) != len(cyc.Edges)+1 || cyc.Path[0] != cyc.Path[len(cyc.Path)-1] {
				t.Fatalf("cycle %v with edges %v is not closed", cyc.Path, cyc.Edges)
			}
			for i, ix := range cyc.Edges {
				e := edges[ix]
				if e.Kind == Soft || e.Service != cyc.Path[i] || e.DependsOn != cyc.Path[i+1] {
					t.Fatalf("cycle %v: edge %d is %v", cyc.Path, ix, e)
				}
			}
			return
		}
		// Every service in exactly one wave.
		count := map[string]int{}
		for _, w := range p.Waves {
			for _, s := range w {
				count[s]++
			}
		}
		for _, s := range names {
			if count[s] != 1 {
				t.Fatalf("%s is in %d waves: %v", s, count[s], p.Waves)
			}
		}
		// Every strict edge is kept and respected; soft edges are kept and
		// respected, or dropped because they close a cycle.
		dropped := map[int]bool{}
		for _, i := range p.Dropped {
			dropped[i] = true
			if edges[i].Kind != Soft {
				t.Fatalf("strict edge %v dropped", edges[i])
			}
		}
		kept := 0
		for i, e := range edges {
			if dropped[i] {
				continue
			}
			kept++
			if p.WaveOf(e.DependsOn) >= p.WaveOf(e.Service) {
				t.Fatalf("edge %v not respected: waves %v", e, p.Waves)
			}
		}
		if kept != len(p.Kept) {
			t.Fatalf("%d kept edges, %d in the plan", kept, len(p.Kept))
		}
		for i := range dropped {
			// Dropping was needed: with the edge, the kept ones cycle.
			if !strictCycle(names, append(asStrict(p.Kept), Edge{edges[i].Service, edges[i].DependsOn, Hard})) {
				t.Fatalf("soft edge %v dropped though it closes no cycle", edges[i])
			}
		}
		// Waves are as early as possible: each service past wave 0 has a kept
		// dependency in the wave just before.
		for _, s := range names {
			w := p.WaveOf(s)
			if w == 0 {
				continue
			}
			found := false
			for _, e := range p.DependsOn(s) {
				found = found || p.WaveOf(e.DependsOn) == w-1
			}
			if !found {
				t.Fatalf("%s is in wave %d with no dependency in wave %d: %v", s, w, w-1, p.Waves)
			}
		}
	})
}

func asStrict(edges []Edge) []Edge {
	out := make([]Edge, len(edges))
	for i, e := range edges {
		out[i] = Edge{e.Service, e.DependsOn, Hard}
	}
	return out
}

func FuzzRun(f *testing.F) {
	f.Add([]byte{3, 0, 1, 1, 2}, uint8(1), uint8(0), uint8(2))
	f.Add([]byte{6, 0, 1, 2, 1, 3, 1, 4, 3}, uint8(2), uint8(5), uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, strategy, failMask, maxPar uint8) {
		names, edges := decode(data)
		p, _, cyc := Build(names, edges)
		if cyc != nil || len(names) == 0 {
			return
		}
		o := Options{Strategy: []Strategy{Sequential, Waves, Parallel}[strategy%3], MaxParallel: int(maxPar % 4), Stop: strategy&4 != 0}
		var mu sync.Mutex
		seq := 0
		start, end := map[string]int{}, map[string]int{}
		cur, peak := 0, 0
		out := Run(context.Background(), p, o, func(_ context.Context, n string) (bool, string) {
			mu.Lock()
			seq++
			start[n] = seq
			cur++
			peak = max(peak, cur)
			mu.Unlock()
			mu.Lock()
			seq++
			end[n] = seq
			cur--
			mu.Unlock()
			var i int
			if _, err := fmt.Sscanf(n, "s%d", &i); err != nil {
				t.Errorf("service %q: %v", n, err)
			}
			return failMask&(1<<i) == 0, "scripted"
		})
		if len(out) != len(names) {
			t.Fatalf("%d outcomes for %d services", len(out), len(names))
		}
		if o.MaxParallel > 0 && peak > o.MaxParallel || o.Strategy == Sequential && peak > 1 {
			t.Fatalf("%d ran at once with %+v", peak, o)
		}
		anyFailed := false
		for _, e := range p.Kept {
			if _, ran := start[e.Service]; ran {
				if _, depRan := end[e.DependsOn]; depRan && end[e.DependsOn] > start[e.Service] {
					t.Fatalf("%s started before its dependency %s finished", e.Service, e.DependsOn)
				}
				if e.Kind == Hard && out[e.DependsOn].Status != Succeeded {
					t.Fatalf("%s ran though its hard dependency %s is %s", e.Service, e.DependsOn, out[e.DependsOn].Status)
				}
			}
			if e.Kind == Hard && out[e.DependsOn].Status != Succeeded && out[e.Service].Status != Skipped {
				t.Fatalf("%s not skipped though its hard dependency %s is %s", e.Service, e.DependsOn, out[e.DependsOn].Status)
			}
		}
		for n, oc := range out {
			_, ran := start[n]
			if ran != (oc.Status != Skipped) {
				t.Fatalf("%s ran = %v, status %s", n, ran, oc.Status)
			}
			anyFailed = anyFailed || oc.Status == Failed
		}
		// Without stop, a service is skipped only for a hard dependency.
		if !o.Stop || !anyFailed {
			for n, oc := range out {
				if oc.Status == Skipped && hardBlocked(p, n, out) == "" {
					t.Fatalf("%s skipped (%s) with no hard dependency that failed", n, oc.Reason)
				}
			}
		}
	})
}
