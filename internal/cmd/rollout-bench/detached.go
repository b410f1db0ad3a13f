package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/rolloutdev/terraform-provider-rollout/internal/emulator"
	"github.com/rolloutdev/terraform-provider-rollout/internal/orchestrator"
)

// The detached figures of the issue "Detached rollouts", run by the real
// provider and engine, the emulator's Step Functions and the orchestrator
// binary, on the real clock:
//
//	(i) detached apply wall time, 3 and 20 steps    target < 5 s whatever the length
//	(j) orchestrator calls and AWS requests per poll during pauses
//	(k) state transitions per step (Task + Choice per call, Wait when it waits)
//	(l) alarm in ALARM -> rollback write, detached   target <= poll_interval + 1 s
const (
	maxDetachedApply  = 5 * time.Second
	detachedPoll      = time.Second
	maxDetachedRevert = detachedPoll + time.Second
)

type detachedFigures struct {
	apply3, apply20                 time.Duration
	callsPerPoll, requestsPerCall   float64
	transitionsPerStep, callsPerRun float64
	alarmDelay                      time.Duration
}

func detachedBench(engine, providerDir, orchestratorBin, dir string) (detachedFigures, error) {
	var f detachedFigures
	emu, err := emulator.Start("127.0.0.1:0")
	if err != nil {
		return f, err
	}
	defer emu.Close()
	release, err := emu.ServeStates()
	if err != nil {
		return f, err
	}
	defer release()
	b, err := newBenchEnv(emu, "dt", false)
	if err != nil {
		return f, err
	}
	mu, bg, alarm, setAlarm := &b.mu, b.bg, b.alarm, b.setAlarm
	tgs := []string{bg.blue, bg.green}

	if dir, err = filepath.Abs(dir); err != nil {
		return f, err
	}
	_ = os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return f, err
	}
	zipPath := filepath.Join(dir, "orchestrator.zip")
	if err := orchestrator.ZipBootstrap(orchestratorBin, zipPath); err != nil {
		return f, err
	}
	fn := strings.Replace(alarm, "-5xx-", "-orchestrator-", 1)
	orch := exec.Command(orchestratorBin)
	orch.Env = append(os.Environ(), "AWS_LAMBDA_RUNTIME_API="+strings.TrimPrefix(emu.URL, "http://")+"/_runtime/"+fn, "AWS_ENDPOINT_URL="+emu.URL,
		"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=bench", "AWS_SECRET_ACCESS_KEY=bench", "AWS_LAMBDA_FUNCTION_NAME="+fn)
	if err := orch.Start(); err != nil {
		return f, err
	}
	defer func() {
		_ = orch.Process.Kill()
		_ = orch.Wait()
	}()
	abs, _ := filepath.Abs(providerDir)
	rc := filepath.Join(dir, "cli.tfrc")
	if err := os.WriteFile(rc, []byte(fmt.Sprintf("provider_installation {\n  dev_overrides {\n    \"rolloutdev/rollout\" = %q\n  }\n  direct {}\n}\n", abs)), 0o644); err != nil {
		return f, err
	}
	write := func(blue, green int, steps, attempt string) error {
		tf := fmt.Sprintf(`
terraform {
  required_providers {
    rollout = { source = "rolloutdev/rollout" }
  }
}
provider "rollout" {
  region    = "us-east-1"
  endpoints = { elbv2 = %[1]q, cloudwatch = %[1]q, lambda = %[1]q, ssm = %[1]q, stepfunctions = %[1]q }
}
resource "rollout_orchestrator" "o" {
  name              = %[9]q
  function_role_arn = "arn:aws:iam::000000000000:role/fn"
  states_role_arn   = "arn:aws:iam::000000000000:role/sfn"
  timeout           = "10s"
  code              = { file = %[10]q }
}
resource "rollout_traffic_split" "s" {
  listener_arn  = %[2]q
  target_groups = [{ arn = %[3]q, weight = %[5]d }, { arn = %[4]q, weight = %[6]d }]
  rollout = {
    %[7]s
    poll_interval = %[11]q
    attempt       = %[12]q
    gates         = { alarms = [%[8]q] }
    execution     = { mode = "detached", orchestrator = rollout_orchestrator.o.arn }
  }
}
`, emu.URL, bg.listener, tgs[0], tgs[1], blue, green, steps, alarm, fn, zipPath, detachedPoll.String(), attempt)
		return os.WriteFile(filepath.Join(dir, "main.tf"), []byte(tf), 0o644)
	}
	env := append(os.Environ(), "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1", "TF_CLI_CONFIG_FILE="+rc,
		"AWS_ACCESS_KEY_ID=bench", "AWS_SECRET_ACCESS_KEY=bench", "AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE="+os.DevNull, "AWS_SHARED_CREDENTIALS_FILE="+os.DevNull)
	run := func(args ...string) (time.Duration, string, error) {
		cmd := exec.Command(engine, args...)
		cmd.Dir, cmd.Env = dir, env
		start := time.Now()
		out, err := cmd.CombinedOutput()
		if err != nil {
			return 0, "", fmt.Errorf("%s %s: %v\n%s", filepath.Base(engine), strings.Join(args, " "), err, tail(string(out), 30))
		}
		return time.Since(start), string(out), nil
	}
	waitEnded := func() error {
		arn, err := executionInState(dir)
		if err != nil {
			return err
		}
		end := time.Now().Add(2 * time.Minute)
		for time.Now().Before(end) {
			x, err := describeExecution(emu.URL, arn)
			if err == nil && x != "RUNNING" {
				return nil
			}
			time.Sleep(100 * time.Millisecond) // another process: real time
		}
		return fmt.Errorf("the execution %s did not end within 2 minutes", arn)
	}
	canary3 := `strategy = "canary"
    steps    = [{ percent = 10, pause = "2s" }, { percent = 50, pause = "2s" }, { percent = 100 }]`
	linear20 := `strategy = "linear"
    linear   = { step_percent = 5, interval = "1s" }`
	writesOf := func() []time.Time {
		mu.Lock()
		defer mu.Unlock()
		var w []time.Time
		for _, s := range b.log {
			if s.action == "elasticloadbalancing:ModifyListener" {
				w = append(w, s.at)
			}
		}
		return w
	}
	if err := write(100, 0, canary3, "1"); err != nil {
		return f, err
	}
	if _, _, err := run("apply", "-auto-approve", "-input=false"); err != nil {
		return f, err
	}

	// (i), (j), (k): the 3-step canary to green, then a 20-step linear back.
	for _, c := range []struct {
		blue, green int
		steps       string
		into        *time.Duration
		n           int
	}{{0, 100, canary3, &f.apply3, 3}, {100, 0, linear20, &f.apply20, 20}} {
		if err := write(c.blue, c.green, c.steps, "1"); err != nil {
			return f, err
		}
		b.resetLog()
		calls0, waits0 := emu.StatesCalls()
		reqs0 := total(emu.CountsOf("orchestrator"))
		d, _, err := run("apply", "-auto-approve", "-input=false")
		if err != nil {
			return f, err
		}
		*c.into = d
		if err := waitEnded(); err != nil {
			return f, err
		}
		calls, waits := emu.StatesCalls()
		calls, waits = calls-calls0, waits-waits0
		reqs := total(emu.CountsOf("orchestrator")) - reqs0
		if c.n == 3 {
			w := writesOf()
			if len(w) != 3 {
				return f, fmt.Errorf("the detached canary made %d listener writes, want 3", len(w))
			}
			// The pauses' calls: between the first write and the last.
			pauseCalls := 0
			mu.Lock()
			for _, s := range b.log {
				if s.action == "lambda:Invoke" && s.at.After(w[0]) && s.at.Before(w[2]) {
					pauseCalls++
				}
			}
			mu.Unlock()
			// Less the second step's own two calls (its gates, its
			// write): a write starts a call of its own.
			f.callsPerPoll = float64(pauseCalls-2) / float64(2*2*time.Second/detachedPoll)
			f.requestsPerCall = float64(reqs) / float64(calls)
			// Task and Choice each call, Wait when it waited, and the
			// two states that end it.
			f.transitionsPerStep = float64(2*calls+waits+2) / 3
			f.callsPerRun = float64(calls)
		}
	}

	// (l): a canary to green with a long first pause; the alarm fires 1.5 s
	// into it, and the orchestrator rolls back with no engine running.
	if err := write(0, 100, `strategy = "canary"
    steps    = [{ percent = 10, pause = "60s" }, { percent = 100 }]`, "2"); err != nil {
		return f, err
	}
	b.resetLog()
	if _, _, err := run("apply", "-auto-approve", "-input=false"); err != nil {
		return f, err
	}
	time.Sleep(1500 * time.Millisecond) // the orchestrator is another process: real time
	fired := time.Now()
	if err := setAlarm(cwtypes.StateValueAlarm); err != nil {
		return f, err
	}
	end := time.Now().Add(30 * time.Second)
	for time.Now().Before(end) {
		for _, w := range writesOf() {
			if w.After(fired) {
				f.alarmDelay = w.Sub(fired)
				return f, waitEnded()
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	return f, fmt.Errorf("no rollback write within 30 s of the alarm")
}

// executionInState reads the split's execution ARN from the state file.
func executionInState(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, "terraform.tfstate"))
	if err != nil {
		return "", err
	}
	var st struct {
		Resources []struct {
			Type      string
			Instances []struct {
				Attributes struct {
					LastRollout struct {
						Execution string `json:"execution"`
					} `json:"last_rollout"`
				} `json:"attributes"`
			} `json:"instances"`
		} `json:"resources"`
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return "", err
	}
	for _, r := range st.Resources {
		if r.Type == "rollout_traffic_split" && len(r.Instances) > 0 && r.Instances[0].Attributes.LastRollout.Execution != "" {
			return r.Instances[0].Attributes.LastRollout.Execution, nil
		}
	}
	return "", fmt.Errorf("no execution in the state")
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// describeExecution reads an execution's status at the emulator.
func describeExecution(endpoint, arn string) (string, error) {
	c := &http.Client{Timeout: 10 * time.Second}
	body := fmt.Sprintf(`{"executionArn":%q}`, arn)
	req, err := http.NewRequest(http.MethodPost, endpoint+"/", strings.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "AWSStepFunctions.DescribeExecution")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=bench/20260101/us-east-1/states/aws4_request, SignedHeaders=host, Signature=0")
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct{ Status string }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return "", err
	}
	return out.Status, nil
}
