package graph

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
)

func TestBuildWaves(t *testing.T) {
	for _, c := range []struct {
		name     string
		services []string
		edges    []Edge
		waves    [][]string
		dropped  []int
	}{
		{"no edges: one wave, sorted", []string{"web", "api", "db"}, nil, [][]string{{"api", "db", "web"}}, nil},
		{"chain", []string{"a", "b", "c"}, []Edge{{"c", "b", Hard}, {"b", "a", OrderOnly}}, [][]string{{"a"}, {"b"}, {"c"}}, nil},
		{"diamond: a wave is after the latest dependency", []string{"api", "auth", "web", "pay"},
			[]Edge{{"web", "api", Hard}, {"pay", "web", Soft}, {"pay", "auth", Hard}, {"api", "auth", Hard}},
			[][]string{{"auth"}, {"api"}, {"web"}, {"pay"}}, nil},
		{"soft edge closing a cycle is dropped", []string{"a", "b"}, []Edge{{"a", "b", Hard}, {"b", "a", Soft}}, [][]string{{"b"}, {"a"}}, []int{1}},
		{"first soft edge wins", []string{"a", "b"}, []Edge{{"b", "a", Soft}, {"a", "b", Soft}}, [][]string{{"a"}, {"b"}}, []int{1}},
		{"four services in three waves", []string{"api", "auth", "web", "worker"},
			[]Edge{{"api", "auth", Hard}, {"web", "api", Hard}, {"worker", "api", Soft}},
			[][]string{{"auth"}, {"api"}, {"web", "worker"}}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, probs, cyc := Build(c.services, c.edges)
			if len(probs) > 0 || cyc != nil {
				t.Fatalf("Build: problems %v, cycle %v", probs, cyc)
			}
			if !reflect.DeepEqual(p.Waves, c.waves) {
				t.Errorf("waves = %v, want %v", p.Waves, c.waves)
			}
			if !reflect.DeepEqual(p.Dropped, c.dropped) {
				t.Errorf("dropped = %v, want %v", p.Dropped, c.dropped)
			}
		})
	}
}

func TestBuildCycleNamed(t *testing.T) {
	for _, c := range []struct {
		name  string
		edges []Edge
		want  string
		idx   []int
	}{
		{"three", []Edge{{"b", "c", Hard}, {"a", "b", Hard}, {"c", "a", OrderOnly}}, "dependency cycle a → b → c → a", []int{1, 0, 2}},
		{"two", []Edge{{"web", "api", Hard}, {"api", "web", Hard}}, "dependency cycle api → web → api", []int{1, 0}},
		{"soft edges do not make a cycle but strict ones do, whatever the soft ones", []Edge{{"a", "b", Soft}, {"b", "c", Hard}, {"c", "b", OrderOnly}}, "dependency cycle b → c → b", []int{1, 2}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, probs, cyc := Build([]string{"a", "b", "c", "api", "web"}, c.edges)
			if len(probs) > 0 || cyc == nil {
				t.Fatalf("want a cycle, got problems %v, cycle %v", probs, cyc)
			}
			if cyc.Error() != c.want || !reflect.DeepEqual(cyc.Edges, c.idx) {
				t.Errorf("cycle = %q %v, want %q %v", cyc.Error(), cyc.Edges, c.want, c.idx)
			}
		})
	}
}

func TestBuildProblems(t *testing.T) {
	services := []string{"api", "web"}
	for _, c := range []struct {
		name  string
		edges []Edge
		want  []string
	}{
		{"unknown service", []Edge{{"wbe", "api", Hard}}, []string{`[0].service: "wbe" is not a service of this release (the services are api, web)`}},
		{"unknown dependency", []Edge{{"web", "db", Hard}}, []string{`[0].depends_on: "db" is not a service`}},
		{"bad kind", []Edge{{"web", "api", "weak"}}, []string{`[0].type: "weak" is not a dependency type; it must be one of hard, soft, order_only`}},
		{"itself", []Edge{{"web", "web", Soft}}, []string{`[0].depends_on: "web" depends on itself`}},
		{"duplicate pair", []Edge{{"web", "api", Hard}, {"web", "api", Soft}}, []string{`[1]: web depends on api already at dependencies[0]`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, probs, _ := Build(services, c.edges)
			if len(probs) != len(c.want) {
				t.Fatalf("problems = %v, want %d", probs, len(c.want))
			}
			for i, w := range c.want {
				if !strings.HasPrefix(probs[i].Error(), w) {
					t.Errorf("problem %d = %q, want prefix %q", i, probs[i].Error(), w)
				}
			}
		})
	}
}

// recorder runs fake services and records when each started and finished.
type recorder struct {
	mu      sync.Mutex
	events  []string
	running int
	maxSeen int
	fail    map[string]bool
}

func (r *recorder) run(_ context.Context, n string) (bool, string) {
	r.mu.Lock()
	r.events = append(r.events, "start "+n)
	r.running++
	r.maxSeen = max(r.maxSeen, r.running)
	r.mu.Unlock()
	r.mu.Lock()
	r.events = append(r.events, "end "+n)
	r.running--
	r.mu.Unlock()
	if r.fail[n] {
		return false, n + " failed its gate"
	}
	return true, ""
}

func (r *recorder) index(ev string) int {
	for i, e := range r.events {
		if e == ev {
			return i
		}
	}
	return -1
}

func TestRunSkipsHardDependentsAndRunsSoftOnes(t *testing.T) {
	p, _, _ := Build([]string{"auth", "api", "web", "worker", "search"}, []Edge{
		{"api", "auth", Hard}, {"web", "api", Hard}, {"worker", "api", Soft}, {"search", "api", OrderOnly},
	})
	for _, st := range []Strategy{Sequential, Waves, Parallel} {
		t.Run(string(st), func(t *testing.T) {
			r := &recorder{fail: map[string]bool{"api": true}}
			out := Run(context.Background(), p, Options{Strategy: st}, r.run)
			want := map[string]Status{"auth": Succeeded, "api": Failed, "web": Skipped, "worker": Succeeded, "search": Succeeded}
			for n, s := range want {
				if out[n].Status != s {
					t.Errorf("%s: %s (%s), want %s", n, out[n].Status, out[n].Reason, s)
				}
			}
			if got := out["web"].Reason; got != "its hard dependency api failed" {
				t.Errorf("web's reason = %q", got)
			}
			if out["api"].Reason != "api failed its gate" {
				t.Errorf("api's reason = %q", out["api"].Reason)
			}
		})
	}
}

func TestRunStopSkipsEverythingNotStarted(t *testing.T) {
	p, _, _ := Build([]string{"auth", "api", "web", "worker"}, []Edge{{"api", "auth", Hard}, {"web", "api", Hard}, {"worker", "api", Soft}})
	r := &recorder{fail: map[string]bool{"api": true}}
	out := Run(context.Background(), p, Options{Strategy: Waves, Stop: true}, r.run)
	if out["worker"].Status != Skipped || !strings.Contains(out["worker"].Reason, "the release stopped after api failed") {
		t.Errorf("worker = %+v, want skipped as the release stopped", out["worker"])
	}
	if out["web"].Status != Skipped {
		t.Errorf("web = %+v", out["web"])
	}
	if r.index("start worker") >= 0 || r.index("start web") >= 0 {
		t.Errorf("a service started after the stop: %v", r.events)
	}
}

func TestRunSequentialOneAtATime(t *testing.T) {
	p, _, _ := Build([]string{"a", "b", "c", "d"}, nil)
	r := &recorder{}
	out := Run(context.Background(), p, Options{Strategy: Sequential, MaxParallel: 4}, r.run)
	if r.maxSeen != 1 {
		t.Errorf("%d services ran at once in a sequential release", r.maxSeen)
	}
	want := []string{"start a", "end a", "start b", "end b", "start c", "end c", "start d", "end d"}
	if !reflect.DeepEqual(r.events, want) {
		t.Errorf("events = %v, want %v", r.events, want)
	}
	if got := Started(out); !reflect.DeepEqual(got, []string{"d", "c", "b", "a"}) {
		t.Errorf("Started = %v", got)
	}
}

// TestRunWaveServicesOverlap proves the services of a wave run at the same
// time: each waits until all its wave-mates have started.
func TestRunWaveServicesOverlap(t *testing.T) {
	p, _, _ := Build([]string{"a", "b", "c", "x"}, []Edge{{"a", "x", Hard}, {"b", "x", Hard}, {"c", "x", Hard}})
	var wg sync.WaitGroup
	wg.Add(3)
	var mu sync.Mutex
	var events []string
	out := Run(context.Background(), p, Options{Strategy: Waves}, func(_ context.Context, n string) (bool, string) {
		mu.Lock()
		events = append(events, n)
		mu.Unlock()
		if n != "x" {
			wg.Done()
			wg.Wait() // a sequential runner would never get past this
		}
		return true, ""
	})
	if events[0] != "x" {
		t.Errorf("x is not first: %v", events)
	}
	for _, n := range []string{"a", "b", "c", "x"} {
		if out[n].Status != Succeeded {
			t.Errorf("%s: %+v", n, out[n])
		}
	}
}

func TestRunMaxParallel(t *testing.T) {
	var names []string
	for i := 0; i < 9; i++ {
		names = append(names, fmt.Sprintf("s%d", i))
	}
	p, _, _ := Build(names, nil)
	for _, st := range []Strategy{Waves, Parallel} {
		var mu sync.Mutex
		cur, peak := 0, 0
		Run(context.Background(), p, Options{Strategy: st, MaxParallel: 3}, func(_ context.Context, n string) (bool, string) {
			mu.Lock()
			cur++
			peak = max(peak, cur)
			mu.Unlock()
			for i := 0; i < 1000; i++ {
				_ = fmt.Sprint(i) // give the scheduler a chance to start more
			}
			mu.Lock()
			cur--
			mu.Unlock()
			return true, ""
		})
		if peak > 3 {
			t.Errorf("%s: %d ran at once with max_parallel 3", st, peak)
		}
	}
}

// TestRunParallelHasNoWaveBarrier: under parallel, c (which depends only on
// a) starts while b, of the first wave, is still running.
func TestRunParallelHasNoWaveBarrier(t *testing.T) {
	p, _, _ := Build([]string{"a", "b", "c"}, []Edge{{"c", "a", Hard}})
	cStarted := make(chan struct{})
	out := Run(context.Background(), p, Options{Strategy: Parallel}, func(_ context.Context, n string) (bool, string) {
		switch n {
		case "b":
			<-cStarted // under waves this would never return
		case "c":
			close(cStarted)
		}
		return true, ""
	})
	if out["b"].Finished < out["c"].Finished {
		t.Errorf("b finished before c started: %+v", out)
	}
}

// Ctrl-C after the first wave: the services that never started are
// skipped (interrupted), not failed.
func TestRunInterruptedSkipsWhatNeverStarted(t *testing.T) {
	p, _, _ := Build([]string{"auth", "api", "web"}, []Edge{{"api", "auth", Hard}, {"web", "api", OrderOnly}})
	ctx, cancel := context.WithCancel(context.Background())
	out := Run(ctx, p, Options{Strategy: Waves}, func(ctx context.Context, name string) (bool, string) {
		if name == "auth" {
			cancel()
			return true, ""
		}
		if ctx.Err() != nil {
			return false, "context canceled"
		}
		return true, ""
	})
	if out["auth"].Status != Succeeded {
		t.Fatalf("auth = %+v", out["auth"])
	}
	for _, n := range []string{"api", "web"} {
		if out[n].Status != Skipped || !strings.Contains(out[n].Reason, "interrupted") {
			t.Errorf("%s = %+v, want skipped: interrupted", n, out[n])
		}
	}
}
