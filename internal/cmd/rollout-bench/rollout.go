package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/rolloutdev/terraform-provider-rollout/internal/emulator"
)

// The rollout figures of the issue "No surprise traffic moves", for a
// 3-step canary (pauses of 2s, 2s) with a health and an alarm gate, polled
// every second, run by the real provider and engine on the emulator with
// the real clock:
//
//	(d) apply wall time minus the sum of pauses   target < 1s + 0.2s per step
//	(e) alarm in ALARM -> the rollback write      target <= poll_interval + 1s
//	(f) AWS requests per poll during pauses       target 1 per gate kind (2)
//	(m) the alarm's reading -> the rollback write, with notices to an SNS
//	    topic answering every Publish with an error, against no notices
//	                                                target: under 0.2s more
const (
	rolloutSteps  = 3
	rolloutPause  = 2 * time.Second
	rolloutPoll   = time.Second
	gateKinds     = 2
	maxOverhead   = time.Second + rolloutSteps*200*time.Millisecond
	maxAlarmDelay = rolloutPoll + time.Second
	maxNoticeCost = 200 * time.Millisecond
)

type stamp struct {
	at     time.Time
	action string
}

type rolloutFigures struct {
	apply, overhead, rolloutOverhead, alarmDelay time.Duration
	perPoll                                      float64
	// decide is the alarm's reading to the rollback write: without
	// notices, with notices SNS delivers, with SNS failing every Publish.
	decide [3]time.Duration
}

// noticeVariants are (m)'s: no notices, SNS delivering, SNS failing.
var noticeVariants = []string{"none", "sns", "sns failing"}

func rolloutBench(engine, providerDir, dir string) (rolloutFigures, error) {
	var f rolloutFigures
	emu, err := emulator.Start("127.0.0.1:0")
	if err != nil {
		return f, err
	}
	defer emu.Close()
	b, err := newBenchEnv(emu, "ro", true)
	if err != nil {
		return f, err
	}
	mu, bg, alarm := &b.mu, b.bg, b.alarm
	tgs := []string{bg.blue, bg.green}

	var env []string
	if dir, env, err = workspace(dir, providerDir); err != nil {
		return f, err
	}
	topic, err := snsTopic(emu.URL, "rollout-bench")
	if err != nil {
		return f, err
	}
	notify := ""
	write := func(blue, green int, attempt string) error {
		tf := fmt.Sprintf(`
terraform {
  required_providers {
    rollout = { source = "rolloutdev/rollout" }
  }
}
provider "rollout" {
  region    = "us-east-1"
  endpoints = { elbv2 = %[1]q, cloudwatch = %[1]q, sns = %[1]q }
}
resource "rollout_traffic_split" "s" {
  listener_arn  = %[2]q
  target_groups = [{ arn = %[3]q, weight = %[5]d }, { arn = %[4]q, weight = %[6]d }]
  rollout = {
    strategy      = "canary"
    steps         = [{ percent = 10, pause = %[7]q }, { percent = 50, pause = %[7]q }, { percent = 100 }]
    poll_interval = %[8]q
    attempt       = %[10]q
    gates         = { health = { timeout = "10s" }, alarms = [%[9]q] }
    %[11]s
  }
}
`, emu.URL, bg.listener, tgs[0], tgs[1], blue, green, rolloutPause.String(), rolloutPoll.String(), alarm, attempt, notify)
		return os.WriteFile(filepath.Join(dir, "main.tf"), []byte(tf), 0o644)
	}
	run := func(wantErr bool, args ...string) (time.Duration, error) {
		cmd := exec.Command(engine, args...)
		cmd.Dir, cmd.Env = dir, env
		start := time.Now()
		out, err := cmd.CombinedOutput()
		if (err != nil) != wantErr {
			return 0, fmt.Errorf("%s %s: %v\n%s", filepath.Base(engine), strings.Join(args, " "), err, tail(string(out), 30))
		}
		return time.Since(start), nil
	}
	if err := write(100, 0, "1"); err != nil {
		return f, err
	}
	if _, err := run(false, "apply", "-auto-approve", "-input=false"); err != nil {
		return f, err
	}

	// (d) and (f): the canary to green.
	if err := write(0, 100, "1"); err != nil {
		return f, err
	}
	b.resetLog()
	if f.apply, err = run(false, "apply", "-auto-approve", "-input=false"); err != nil {
		return f, err
	}
	pauses := time.Duration(rolloutSteps-1) * rolloutPause
	f.overhead = f.apply - pauses
	mu.Lock()
	var writes []time.Time
	for _, s := range b.log {
		if s.action == "elasticloadbalancing:ModifyListener" {
			writes = append(writes, s.at)
		}
	}
	if len(writes) != rolloutSteps {
		mu.Unlock()
		return f, fmt.Errorf("the canary made %d listener writes, want %d", len(writes), rolloutSteps)
	}
	f.rolloutOverhead = writes[len(writes)-1].Sub(writes[0]) - pauses
	reads, polls := 0, 0
	for i := 0; i+1 < len(writes); i++ {
		// A pause's polls: the gate reads between a step's write and the
		// next step's gates (the next step's own reads come last).
		n := 0
		for _, s := range b.log {
			if s.at.After(writes[i]) && s.at.Before(writes[i+1]) && (s.action == "elasticloadbalancing:DescribeTargetHealth" || s.action == "monitoring:DescribeAlarms") {
				n++
			}
		}
		n -= gateKinds // the next step's before-shift gates
		reads += n
		polls += int(rolloutPause / rolloutPoll)
	}
	mu.Unlock()
	f.perPoll = float64(reads) / float64(polls)

	// (e): back to blue, with the alarm set 1.5s into the second pause;
	// (m): the same three times, as noticeVariants say.
	if f.alarmDelay, f.decide[0], err = alarmRollback(b, write, run, "1"); err != nil {
		return f, err
	}
	for i, v := range noticeVariants[1:] {
		notify = fmt.Sprintf("notifications = { sns_topic_arn = %q }", topic)
		if v == "sns failing" {
			emu.InjectFaults("sns", emulator.Faults{Rate: 1, Kinds: []emulator.Fault{emulator.ServerError}})
		}
		if err := b.setAlarm(cwtypes.StateValueOk); err != nil {
			return f, err
		}
		if _, f.decide[i+1], err = alarmRollback(b, write, run, fmt.Sprint(i+2)); err != nil {
			return f, err
		}
		emu.InjectFaults("sns", emulator.Faults{})
	}
	return f, nil
}

// alarmRollback applies back to blue, sets the alarm 1.5s into the second
// pause, and returns the alarm to the rollback write, and the reading that
// saw it (the last DescribeAlarms before the write) to the write.
func alarmRollback(b *benchEnv, write func(int, int, string) error, run func(bool, ...string) (time.Duration, error), attempt string) (time.Duration, time.Duration, error) {
	mu, setAlarm := &b.mu, b.setAlarm
	if err := write(100, 0, attempt); err != nil {
		return 0, 0, err
	}
	b.resetLog()
	var fired time.Time
	done := make(chan error, 1)
	go func() {
		for {
			mu.Lock()
			n := 0
			for _, s := range b.log {
				if s.action == "elasticloadbalancing:ModifyListener" {
					n++
				}
			}
			mu.Unlock()
			if n == 2 {
				time.Sleep(1500 * time.Millisecond) // a real process: the engine's apply runs on the wall clock
				fired = time.Now()
				done <- setAlarm(cwtypes.StateValueAlarm)
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	if _, err := run(true, "apply", "-auto-approve", "-input=false"); err != nil {
		return 0, 0, err
	}
	if err := <-done; err != nil {
		return 0, 0, err
	}
	mu.Lock()
	defer mu.Unlock()
	var read time.Time
	for _, s := range b.log {
		if s.action == "monitoring:DescribeAlarms" && s.at.After(fired) && read.IsZero() {
			read = s.at
		}
		if s.action == "elasticloadbalancing:ModifyListener" && s.at.After(fired) {
			return s.at.Sub(fired), s.at.Sub(read), nil
		}
	}
	return 0, 0, fmt.Errorf("no rollback write after the alarm fired")
}

// snsTopic makes a topic in the emulator.
func snsTopic(endpoint, name string) (string, error) {
	c := sns.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("bench", "bench", "")},
		func(o *sns.Options) { o.BaseEndpoint = aws.String(endpoint) })
	out, err := c.CreateTopic(context.Background(), &sns.CreateTopicInput{Name: aws.String(name)})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.TopicArn), nil
}
