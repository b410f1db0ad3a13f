package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/rolloutdev/terraform-provider-rollout/internal/emulator"
)

// The API budget figure (n), the issue "A hundred rollouts in one apply":
// budgetRollouts splits, each a 3-step canary (pauses of budgetPause) with
// a health, an alarm and a metrics gate of its own, in one apply with -parallelism
// equal to their number, against the front throttling as AWS does
// (emulator.AWSBuckets), paced (the provider's default api_budget) and
// not (api_budget.enabled = false), side by side.
const (
	budgetRollouts = 100
	budgetPause    = 3 * time.Second
	budgetPoll     = time.Second
)

type budgetFigures struct {
	failed         bool
	failure        string
	rollbackDelay  time.Duration
	wall, schedule time.Duration
	throttled      int
	alarmsPerPoll  float64
	cwPerPoll      float64 // DescribeAlarms and GetMetricData
	metricData     int
	listenerReads  int // DescribeListeners
	actions        map[string]int
	elbPeak        int
	elbMean        float64
	describes      int
	peakRSS        int64 // KiB, the engine's or the provider's, the larger
	providerRSS    int64 // KiB, the provider's alone (sampled every 200 ms)
}

func budgetBench(engine, providerDir, dir string, n int, paced bool) (budgetFigures, error) {
	var f budgetFigures
	emu, err := emulator.Start("127.0.0.1:0")
	if err != nil {
		return f, err
	}
	defer emu.Close()
	var mu sync.Mutex
	var log []stamp
	// the watched rollout's listener writes, for the rollback under load
	var watched string
	var watchedWrites []time.Time
	emu.OnRequest(func(action string, form url.Values) {
		mu.Lock()
		log = append(log, stamp{time.Now(), action})
		if action == "elasticloadbalancing:ModifyListener" && watched != "" && form.Get("ListenerArn") == watched {
			watchedWrites = append(watchedWrites, time.Now())
		}
		mu.Unlock()
	})
	ctx := context.Background()
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("bench", "bench", "")}
	c := elb.NewFromConfig(cfg, func(o *elb.Options) { o.BaseEndpoint = aws.String(emu.URL) })
	cw := cloudwatch.NewFromConfig(cfg, func(o *cloudwatch.Options) { o.BaseEndpoint = aws.String(emu.URL) })
	// kumo's storage is the process's: every run names its own.
	suffix := time.Now().UnixNano() % 1e6
	lb, err := c.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String(fmt.Sprintf("budget-%d", suffix)), Subnets: []string{"subnet-a", "subnet-b"}})
	if err != nil {
		return f, err
	}
	type svc struct{ bg blueGreen }
	var svcs []svc
	for i := 0; i < n; i++ {
		bg, err := newBlueGreenOnPort(ctx, c, aws.ToString(lb.LoadBalancers[0].LoadBalancerArn), fmt.Sprintf("b%03d-%d", i, suffix), int32(8000+i))
		if err != nil {
			return f, err
		}
		if _, err := newAlarm(ctx, cw, fmt.Sprintf("b%03d-%d-5xx", i, suffix)); err != nil {
			return f, err
		}
		svcs = append(svcs, svc{bg})
	}
	var env []string
	if dir, env, err = workspace(dir, providerDir); err != nil {
		return f, err
	}
	budget := ""
	if !paced {
		budget = "api_budget = { enabled = false }"
	}
	write := func(green int) error {
		var b strings.Builder
		fmt.Fprintf(&b, `terraform {
  required_providers {
    rollout = { source = "rolloutdev/rollout" }
  }
}
provider "rollout" {
  region    = "us-east-1"
  endpoints = { elbv2 = %[1]q, cloudwatch = %[1]q }
  %[2]s
}
`, emu.URL, budget)
		for i, s := range svcs {
			fmt.Fprintf(&b, `
resource "rollout_traffic_split" "s%03[1]d" {
  listener_arn  = %[2]q
  target_groups = [{ arn = %[3]q, weight = %[5]d }, { arn = %[4]q, weight = %[6]d }]
  rollout = {
    strategy      = "canary"
    steps         = [{ percent = 10, pause = %[7]q }, { percent = 50, pause = %[7]q }, { percent = 100 }]
    poll_interval = %[8]q
    gates         = { health = { min_healthy_targets = 1, timeout = "5m" }, alarms = ["b%03[1]d-%[9]d-5xx"],
                      metrics = { max_error_rate_percent = 5, delay = "1s" } }
  }
  timeouts = { update = "30m" }
}
`, i, s.bg.listener, s.bg.blue, s.bg.green, 100-green, green, budgetPause.String(), budgetPoll.String(), suffix)
		}
		return os.WriteFile(filepath.Join(dir, "main.tf"), []byte(b.String()), 0o644)
	}
	var output string
	apply := func() (*exec.Cmd, error) {
		cmd := exec.Command(engine, "apply", "-auto-approve", "-input=false", "-no-color", fmt.Sprintf("-parallelism=%d", n))
		cmd.Dir, cmd.Env = dir, env
		out, err := cmd.CombinedOutput()
		output = string(out)
		if err != nil && !strings.Contains(output, "Error:") {
			return cmd, fmt.Errorf("%s apply: %v\n%s", filepath.Base(engine), err, tail(output, 30))
		}
		if err != nil {
			return cmd, errApplyFailed
		}
		return cmd, nil
	}
	if err := write(0); err != nil {
		return f, err
	}
	if _, err := apply(); err != nil {
		return f, fmt.Errorf("creating the splits: %w\n%s", err, tail(output, 40))
	}
	if err := write(100); err != nil {
		return f, err
	}
	// Each green target group serves a steady, healthy load (its metrics
	// gate reads it), published ahead for the run's span.
	for _, s := range svcs {
		if err := emulator.PutSteadyTraffic(ctx, cw, s.bg.listener, s.bg.green, time.Now().Add(-time.Minute), 15*time.Minute); err != nil {
			return f, err
		}
	}
	emu.Throttle(emulator.AWSBuckets)
	mid := svcs[n/2]
	mu.Lock()
	log, watched = nil, mid.bg.listener
	mu.Unlock()
	// The rollback under load: the middle rollout's alarm fires 1.5 s
	// into its first pause, while the others poll.
	var fired time.Time
	go func() {
		for {
			mu.Lock()
			k := len(watchedWrites)
			mu.Unlock()
			if k >= 1 {
				break
			}
			time.Sleep(10 * time.Millisecond) // watching another process: real time
		}
		time.Sleep(1500 * time.Millisecond)
		_, _ = cw.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String(fmt.Sprintf("b%03d-%d-5xx", n/2, suffix)), StateValue: "ALARM", StateReason: aws.String("bench")})
		mu.Lock()
		fired = time.Now()
		mu.Unlock()
	}()
	start := time.Now()
	sampled := make(chan struct{})
	stop := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			select {
			case <-stop:
				return
			case <-time.After(200 * time.Millisecond): // sampling another process: real time
			}
			f.providerRSS = max(f.providerRSS, rssOf("terraform-provi"))
		}
	}()
	cmd, err := apply()
	close(stop)
	<-sampled
	f.wall = time.Since(start)
	mu.Lock()
	for _, w := range watchedWrites {
		if !fired.IsZero() && w.After(fired) {
			f.rollbackDelay = w.Sub(fired)
			break
		}
	}
	mu.Unlock()
	switch {
	case err == errApplyFailed:
		// The watched rollout rolls back: the apply fails for it alone.
		f.failed = strings.Count(output, "Error: ") > 1 || !strings.Contains(output, "Rollout Rolled Back")
		f.failure = firstError(output)
		if f.failed {
			_ = os.WriteFile(filepath.Join(dir, "apply.log"), []byte(output), 0o644)
			f.failure += fmt.Sprintf("; %d errors in all, the output in %s", strings.Count(output, "Error: "), filepath.Join(dir, "apply.log"))
		}
	case err != nil:
		return f, err
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		f.peakRSS = ru.Maxrss
	}
	f.schedule = 2 * budgetPause
	for _, v := range emu.Throttled() {
		f.throttled += v
	}
	mu.Lock()
	defer mu.Unlock()
	alarms := 0
	perSecond := map[int64]int{}
	f.actions = map[string]int{}
	for _, s := range log {
		f.actions[s.action]++
		switch {
		case s.action == "monitoring:DescribeAlarms":
			alarms++
		case s.action == "monitoring:GetMetricData":
			f.metricData++
		case strings.HasPrefix(s.action, "elasticloadbalancing:"):
			perSecond[s.at.Unix()]++
			if strings.HasPrefix(s.action, "elasticloadbalancing:Describe") {
				f.describes++
			}
			if s.action == "elasticloadbalancing:DescribeListeners" {
				f.listenerReads++
			}
		}
	}
	f.alarmsPerPoll = float64(alarms) / (f.wall.Seconds() / budgetPoll.Seconds())
	f.cwPerPoll = float64(alarms+f.metricData) / (f.wall.Seconds() / budgetPoll.Seconds())
	total := 0
	for _, v := range perSecond {
		total += v
		f.elbPeak = max(f.elbPeak, v)
	}
	if len(perSecond) > 0 {
		f.elbMean = float64(total) / f.wall.Seconds()
	}
	return f, nil
}

var errApplyFailed = fmt.Errorf("the apply failed")

// rssOf is the largest resident set (KiB) of the processes whose command
// name (as /proc gives it, 15 characters at most) is comm; 0 off Linux.
func rssOf(comm string) int64 {
	dirs, _ := os.ReadDir("/proc")
	var most int64
	for _, d := range dirs {
		name, err := os.ReadFile(filepath.Join("/proc", d.Name(), "comm"))
		if err != nil || strings.TrimSpace(string(name)) != comm {
			continue
		}
		status, err := os.ReadFile(filepath.Join("/proc", d.Name(), "status"))
		if err != nil {
			continue
		}
		for _, l := range strings.Split(string(status), "\n") {
			if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
				var kb int64
				if _, err := fmt.Sscanf(strings.TrimSpace(v), "%d", &kb); err == nil {
					most = max(most, kb)
				}
			}
		}
	}
	return most
}

// newBlueGreenOnPort is newBlueGreen with the listener on port, and one
// registered target in green (its health gate).
func newBlueGreenOnPort(ctx context.Context, c *elb.Client, lb, name string, port int32) (blueGreen, error) {
	var tgs []string
	for _, color := range []string{"blue", "green"} {
		out, err := c.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{Name: aws.String(name + "-" + color), Protocol: elbtypes.ProtocolEnumHttp,
			Port: aws.Int32(80), VpcId: aws.String("vpc-bench"), TargetType: elbtypes.TargetTypeEnumIp})
		if err != nil {
			return blueGreen{}, err
		}
		tgs = append(tgs, aws.ToString(out.TargetGroups[0].TargetGroupArn))
	}
	if _, err := c.RegisterTargets(ctx, &elb.RegisterTargetsInput{TargetGroupArn: aws.String(tgs[1]), Targets: []elbtypes.TargetDescription{{Id: aws.String("10.0.0.1")}}}); err != nil {
		return blueGreen{}, err
	}
	l, err := c.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: aws.String(lb), Port: aws.Int32(port), Protocol: elbtypes.ProtocolEnumHttp,
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(tgs[0])}}})
	if err != nil {
		return blueGreen{}, err
	}
	return blueGreen{listener: aws.ToString(l.Listeners[0].ListenerArn), blue: tgs[0], green: tgs[1]}, nil
}

// firstError is the first error an engine printed, on one line.
func firstError(out string) string {
	i := strings.Index(out, "Error: ")
	if i < 0 {
		return ""
	}
	line := out[i:]
	if j := strings.Index(line, "\n"); j > 0 {
		line = line[:j]
	}
	return line
}
