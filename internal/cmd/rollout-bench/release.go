package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/rolloutdev/terraform-provider-rollout/internal/emulator"
)

// The release figure of the issue "Multi-service releases": a release of
// releaseServices services in releaseWaves waves (each service depends hard on
// one of the wave before), no pauses, every service moving blue to green, run
// by the real provider and engine on the emulator. Each Elastic Load
// Balancing request is held releaseLatency at the emulator, as AWS answers in
// tens of milliseconds; without it the emulator answers in about a
// millisecond and scheduling noise is all there is to measure.
//
//	(h) the release's run (from the first service's read before write to the
//	    last service's last answer) under strategy = "waves", against the same
//	    release under "sequential": the sum of its services applied one by
//	    one. Target: at most the sum over the waves of each wave's slowest
//	    service (as timed one by one), i.e. the waves really run in parallel.
const (
	releaseServices = 20
	releaseWaves    = 4
	releaseLatency  = 40 * time.Millisecond
	// releaseRuns: each figure is the median of this many runs.
	releaseRuns = 3
)

// fixedLatencyFront serves backend's API, each answer sent latency after its
// request arrived (or when the backend answered, if later).
func fixedLatencyFront(backend string, latency time.Duration) (*httptest.Server, error) {
	target, err := url.Parse(backend)
	if err != nil {
		return nil, err
	}
	client := &http.Client{}
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived := time.Now()
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		req, err := http.NewRequestWithContext(r.Context(), r.Method, target.ResolveReference(&url.URL{Path: r.URL.Path, RawQuery: r.URL.RawQuery}).String(), bytes.NewReader(body))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		req.Header = r.Header.Clone()
		resp, err := client.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		out, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		time.Sleep(time.Until(arrived.Add(latency))) // a bench, not a test: AWS's answer time
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = w.Write(out)
	})), nil
}

type releaseFigures struct {
	waves, sequential, bound time.Duration
	// alone and together are a service's mean time from its read before
	// write to its last answer, one by one and among its wave.
	alone, together time.Duration
	// spread is half the range of the bound over the runs: how finely two
	// wall times of this bench can be told apart.
	spread time.Duration
}

// served is one request the emulator received for a listener: when it
// arrived, and what.
type served struct {
	at       time.Time
	action   string
	listener string
}

func releaseBench(engine, providerDir, dir string) (releaseFigures, error) {
	var f releaseFigures
	emu, err := emulator.Start("127.0.0.1:0")
	if err != nil {
		return f, err
	}
	defer emu.Close()
	var mu sync.Mutex
	var log []served
	emu.OnRequest(func(action string, form url.Values) {
		if !strings.HasPrefix(action, "elasticloadbalancing:") {
			return
		}
		l := form.Get("ListenerArn")
		if l == "" {
			l = form.Get("ListenerArns.member.1")
		}
		if l == "" {
			l = form.Get("ResourceArns.member.1")
		}
		mu.Lock()
		log = append(log, served{time.Now(), action, l})
		mu.Unlock()
	})
	// The provider talks to the emulator through a front that answers each
	// Elastic Load Balancing request releaseLatency after it arrived,
	// whatever the emulator's own time (up to that): AWS's answer time does
	// not depend on the client's CPU, and the emulator's work would otherwise
	// compete with the provider and the engine for this machine's cores.
	front, err := fixedLatencyFront(emu.URL, releaseLatency)
	if err != nil {
		return f, err
	}
	defer front.Close()
	ctx := context.Background()
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("bench", "bench", "")}
	c := elb.NewFromConfig(cfg, func(o *elb.Options) { o.BaseEndpoint = aws.String(emu.URL) })
	suffix := time.Now().UnixNano() % 1e6
	type svc struct{ name, listener, blue, green string }
	var svcs []svc
	for i := 0; i < releaseServices; i++ {
		s := svc{name: fmt.Sprintf("s%02d", i)}
		lb, err := c.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String(fmt.Sprintf("rr-%d-%d", suffix, i)), Subnets: []string{"subnet-a", "subnet-b"}})
		if err != nil {
			return f, err
		}
		bg, err := newBlueGreen(ctx, c, aws.ToString(lb.LoadBalancers[0].LoadBalancerArn), fmt.Sprintf("rr-%d-%d", suffix, i), false)
		if err != nil {
			return f, err
		}
		s.listener, s.blue, s.green = bg.listener, bg.blue, bg.green
		svcs = append(svcs, s)
	}
	per := releaseServices / releaseWaves
	waveOf := func(i int) int { return i / per }

	var env []string
	if dir, env, err = workspace(dir, providerDir); err != nil {
		return f, err
	}
	write := func(green bool, strategy string) error {
		var b strings.Builder
		fmt.Fprintf(&b, "terraform {\n  required_providers {\n    rollout = { source = \"rolloutdev/rollout\" }\n  }\n}\n")
		// Unpaced: (h) measures the waves, not the API budget ((n) does).
		fmt.Fprintf(&b, "provider \"rollout\" {\n  region    = \"us-east-1\"\n  endpoints = { elbv2 = %q, cloudwatch = %q }\n  api_budget = { enabled = false }\n}\n", front.URL, emu.URL)
		fmt.Fprintf(&b, "resource \"rollout_release\" \"r\" {\n  strategy = %q\n  services = {\n", strategy)
		for _, s := range svcs {
			bw, gw := 100, 0
			if green {
				bw, gw = 0, 100
			}
			fmt.Fprintf(&b, "    %s = { listener_arn = %q, target_groups = [{ arn = %q, weight = %d }, { arn = %q, weight = %d }] }\n", s.name, s.listener, s.blue, bw, s.green, gw)
		}
		b.WriteString("  }\n  dependencies = [\n")
		for i, s := range svcs {
			if w := waveOf(i); w > 0 {
				fmt.Fprintf(&b, "    { service = %q, depends_on = %q },\n", s.name, svcs[i-per].name)
			}
		}
		b.WriteString("  ]\n}\n")
		return os.WriteFile(filepath.Join(dir, "main.tf"), []byte(b.String()), 0o644)
	}
	apply := func() error {
		cmd := exec.Command(engine, "apply", "-auto-approve", "-input=false")
		cmd.Dir, cmd.Env = dir, env
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("%s apply: %v\n%s", filepath.Base(engine), err, tail(string(out), 30))
		}
		return nil
	}
	// windows times each service's run in the log since mark: from its read
	// before write to the answer of its last request.
	windows := func(mark int) (map[string][2]time.Time, error) {
		mu.Lock()
		defer mu.Unlock()
		out := map[string][2]time.Time{}
		for _, s := range svcs {
			var reqs []served
			for _, r := range log[mark:] {
				// The status tag a run keeps on its listener (AddTags) is
				// not its traffic: the read and the write are.
				if r.listener == s.listener && r.action != "elasticloadbalancing:AddTags" {
					reqs = append(reqs, r)
				}
			}
			first := -1
			for i, r := range reqs {
				if r.action == "elasticloadbalancing:ModifyListener" {
					first = i
					break
				}
			}
			// Right before its first write a service reads its listener
			// (the pipeline's read before write, whose actions the write
			// starts from).
			if first < 1 || reqs[first-1].action != "elasticloadbalancing:DescribeListeners" {
				return nil, fmt.Errorf("service %s: no write right after a read in %d requests", s.name, len(reqs))
			}
			out[s.name] = [2]time.Time{reqs[first-1].at, reqs[len(reqs)-1].at.Add(releaseLatency)}
		}
		return out, nil
	}
	span := func(w map[string][2]time.Time) time.Duration {
		var lo, hi time.Time
		for _, x := range w {
			if lo.IsZero() || x[0].Before(lo) {
				lo = x[0]
			}
			if x[1].After(hi) {
				hi = x[1]
			}
		}
		return hi.Sub(lo)
	}
	mark := func() int { mu.Lock(); defer mu.Unlock(); return len(log) }

	// Create at blue (takes each listener over); then, releaseRuns times,
	// green one by one and green in waves, each from blue.
	if err := write(false, "waves"); err != nil {
		return f, err
	}
	if err := apply(); err != nil {
		return f, err
	}
	timed := func(strategy string) (map[string][2]time.Time, error) {
		m := mark()
		if err := write(true, strategy); err != nil {
			return nil, err
		}
		if err := apply(); err != nil {
			return nil, err
		}
		w, err := windows(m)
		if err != nil {
			return nil, err
		}
		if err := write(false, "sequential"); err != nil {
			return nil, err
		}
		return w, apply()
	}
	var seqs, waves, bounds []time.Duration
	var alone, together time.Duration
	for run := 0; run < releaseRuns; run++ {
		seq, err := timed("sequential")
		if err != nil {
			return f, err
		}
		seqs = append(seqs, span(seq))
		// A service applied one by one takes from its read before write to
		// the next service's (the provider's own handling between them
		// included); the last, to its last answer.
		order := make([]string, 0, len(svcs))
		for _, s := range svcs {
			order = append(order, s.name)
		}
		sort.Slice(order, func(i, j int) bool { return seq[order[i]][0].Before(seq[order[j]][0]) })
		took := map[string]time.Duration{}
		for i, n := range order {
			if i+1 < len(order) {
				took[n] = seq[order[i+1]][0].Sub(seq[n][0])
			} else {
				took[n] = seq[n][1].Sub(seq[n][0])
			}
		}
		slowest := make([]time.Duration, releaseWaves)
		for i, s := range svcs {
			slowest[waveOf(i)] = max(slowest[waveOf(i)], took[s.name])
		}
		var bound time.Duration
		for _, d := range slowest {
			bound += d
		}
		bounds = append(bounds, bound)
		wv, err := timed("waves")
		if err != nil {
			return f, err
		}
		waves = append(waves, span(wv))
		for _, s := range svcs {
			alone += seq[s.name][1].Sub(seq[s.name][0])
			together += wv[s.name][1].Sub(wv[s.name][0])
		}
		// Every wave started after the one before it had finished.
		starts := map[int][]time.Time{}
		ends := map[int][]time.Time{}
		for i, s := range svcs {
			starts[waveOf(i)] = append(starts[waveOf(i)], wv[s.name][0])
			ends[waveOf(i)] = append(ends[waveOf(i)], wv[s.name][1])
		}
		for w := 1; w < releaseWaves; w++ {
			sort.Slice(starts[w], func(i, j int) bool { return starts[w][i].Before(starts[w][j]) })
			for _, e := range ends[w-1] {
				if e.After(starts[w][0].Add(releaseLatency)) {
					return f, fmt.Errorf("wave %d started before wave %d finished", w+1, w)
				}
			}
		}
	}
	n := time.Duration(releaseRuns * len(svcs))
	f.sequential, f.waves, f.bound = median(seqs), median(waves), median(bounds)
	lo, hi := bounds[0], bounds[0]
	for _, b := range bounds {
		lo, hi = min(lo, b), max(hi, b)
	}
	f.spread = (hi - lo) / 2
	f.alone, f.together = alone/n, together/n
	return f, nil
}

func median(d []time.Duration) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}
