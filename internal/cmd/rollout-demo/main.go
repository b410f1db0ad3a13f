// Command rollout-demo is `make demo`: it starts the emulator as a process on
// loopback, creates a load balancer, a listener and two target groups in it,
// then has a real engine apply examples/demo.
//
// Act 1 applies 90/10, 50/50 and 0/100, printing after each apply the weights
// read back from the emulator. Act 2 goes back to blue and runs a canary to
// green gated by a CloudWatch alarm; while the canary bakes at 50 %, the demo
// sets the alarm off, and the provider rolls the listener back by itself.
// Act 3 runs the same canary detached: the apply returns once the first
// step is confirmed, the weights move with no engine running (the
// emulator's Step Functions calling the orchestrator binary), the alarm
// fires, the orchestrator rolls back, and a refresh shows rolled_back. Act 4
// holds a canary after its first step; a person promotes it; the notices
// of the whole rollout arrive, in order, on a queue subscribed to SNS. Act 5
// lives beside CodeDeploy: the split observes the listener while a
// CodeDeploy deployment shifts it, refuses to write meanwhile, and takes
// the listener over once the deployment has stopped.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/rolloutdev/terraform-provider-rollout/internal/awsclient"
	"github.com/rolloutdev/terraform-provider-rollout/internal/clock"
	"github.com/rolloutdev/terraform-provider-rollout/internal/orchestrator"
)

type demo struct {
	engine, providerDir, workdir, example string
	url                                   string
	elb                                   *elb.Client
	env                                   []string
}

func main() {
	d := demo{
		engine:      mustEnv("ENGINE"),
		providerDir: mustEnv("PROVIDER_DIR"),
		workdir:     mustEnv("WORKDIR"),
		example:     mustEnv("EXAMPLE"),
	}
	emu := exec.Command(mustEnv("EMULATOR"), "-addr", "127.0.0.1:0", "-states")
	emu.Stderr = os.Stderr
	out, err := emu.StdoutPipe()
	check(err, "starting the emulator")
	check(emu.Start(), "starting the emulator")
	defer func() {
		_ = emu.Process.Signal(os.Interrupt)
		_ = emu.Wait()
	}()
	line, err := bufio.NewReader(out).ReadString('\n')
	check(err, "reading the emulator's address")
	d.url = strings.TrimSpace(line)
	say("kumo AWS emulator listening on %s (pid %d)", d.url, emu.Process.Pid)

	if err := d.run(); err != nil {
		fmt.Fprintf(os.Stderr, "\ndemo failed: %v\n", err)
		_ = emu.Process.Signal(os.Interrupt)
		_ = emu.Wait()
		os.Exit(1)
	}
}

func (d *demo) run() error {
	ctx := context.Background()
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("demo", "demo", "")}
	d.elb = elb.NewFromConfig(cfg, func(o *elb.Options) { o.BaseEndpoint = aws.String(d.url) })

	lb, err := d.elb.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String("demo"), Subnets: []string{"subnet-a", "subnet-b"}, Type: elbtypes.LoadBalancerTypeEnumApplication})
	if err != nil {
		return err
	}
	tg := func(name string) (string, error) {
		out, err := d.elb.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{Name: aws.String(name), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(8080), VpcId: aws.String("vpc-demo"), TargetType: elbtypes.TargetTypeEnumIp})
		if err != nil {
			return "", err
		}
		return aws.ToString(out.TargetGroups[0].TargetGroupArn), nil
	}
	blue, err := tg("blue")
	if err != nil {
		return err
	}
	green, err := tg("green")
	if err != nil {
		return err
	}
	lst, err := d.elb.CreateListener(ctx, &elb.CreateListenerInput{
		LoadBalancerArn: lb.LoadBalancers[0].LoadBalancerArn, Port: aws.Int32(80), Protocol: elbtypes.ProtocolEnumHttp,
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(blue)}},
	})
	if err != nil {
		return err
	}
	listener := aws.ToString(lst.Listeners[0].ListenerArn)
	say("created load balancer %q, target groups \"blue\" and \"green\", and listener :80 forwarding to blue", "demo")
	names := map[string]string{blue: "blue", green: "green"}
	if err := d.show(listener, names); err != nil {
		return err
	}

	if err := d.prepare(); err != nil {
		return err
	}
	vars := []string{"-var", "endpoint=" + d.url, "-var", "listener_arn=" + listener, "-var", "blue_arn=" + blue, "-var", "green_arn=" + green}
	for i, w := range [][2]int{{90, 10}, {50, 50}, {0, 100}} {
		say("step %d/3: apply blue=%d green=%d with %s", i+1, w[0], w[1], filepath.Base(d.engine))
		args := append([]string{"apply", "-auto-approve", "-input=false", "-no-color"}, vars...)
		args = append(args, "-var", fmt.Sprintf("blue_weight=%d", w[0]), "-var", fmt.Sprintf("green_weight=%d", w[1]))
		if err := d.engineRun(args...); err != nil {
			return err
		}
		if err := d.show(listener, names); err != nil {
			return err
		}
	}
	say("act 1 done: every step was applied by a real engine and read back from the emulator")
	return d.act2(ctx, cfg, listener, names, vars)
}

// act2 runs a canary that an alarm stops half way.
func (d *demo) act2(ctx context.Context, cfg aws.Config, listener string, names map[string]string, vars []string) error {
	alarm := "demo-green-5xx"
	setAlarm, err := d.demoAlarm(ctx, cfg, alarm)
	if err != nil {
		return err
	}
	say("act 2: back to blue=100 green=0, then a canary to green (10 %% for 3s, 50 %% for 6s, 100 %%) gated by alarm %q", alarm)
	args := append([]string{"apply", "-auto-approve", "-input=false", "-no-color"}, vars...)
	if err := d.engineRun(append(args, "-var", "blue_weight=100", "-var", "green_weight=0")...); err != nil {
		return err
	}
	if err := d.show(listener, names); err != nil {
		return err
	}
	canary := append(args, "-var", "blue_weight=0", "-var", "green_weight=100", "-var", "canary=true", "-var", "alarm_name="+alarm)
	finish := d.watchCanary(ctx, listener, alarm, setAlarm)
	out, err := d.engineOutput(canary...)
	trail := finish()
	if err == nil || !strings.Contains(out, "Rollout Rolled Back") {
		return fmt.Errorf("the canary was expected to be rolled back by the alarm (err %v)", err)
	}
	say("the apply failed as it should: the provider rolled the listener back")
	fmt.Println("  the listener's weights, as seen at the emulator during the apply:")
	for _, t := range trail {
		fmt.Println("    " + t)
	}
	if err := d.show(listener, names); err != nil {
		return err
	}
	code, _ := d.engineExit(append([]string{"plan", "-detailed-exitcode", "-input=false", "-no-color"}, canary[4:]...)...)
	if code != 2 {
		return fmt.Errorf("the next plan should show the change again (exit code 2), got %d", code)
	}
	say("the next plan shows the change again (plan -detailed-exitcode = 2); fix the cause, then apply")
	if err := d.act3(ctx, listener, names, vars, setAlarm); err != nil {
		return err
	}
	say("done")
	return nil
}

// demoAlarm creates the canary's alarm, OK, and returns how to set its
// state.
func (d *demo) demoAlarm(ctx context.Context, cfg aws.Config, alarm string) (func(cwtypes.StateValue, string) error, error) {
	cw := cloudwatch.NewFromConfig(cfg, func(o *cloudwatch.Options) { o.BaseEndpoint = aws.String(d.url) })
	if _, err := cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String(alarm), Namespace: aws.String("AWS/ApplicationELB"), MetricName: aws.String("HTTPCode_Target_5XX_Count"),
		Statistic: cwtypes.StatisticSum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(10),
		ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold,
	}); err != nil {
		return nil, err
	}
	setAlarm := func(s cwtypes.StateValue, why string) error {
		_, err := cw.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String(alarm), StateValue: s, StateReason: aws.String(why)})
		return err
	}
	return setAlarm, setAlarm(cwtypes.StateValueOk, "demo start")
}

// watchCanary watches the listener while the engine applies and, when
// the canary bakes at 50 %, sets the alarm off. finish stops the watch and
// returns the weights seen, each once, in order.
func (d *demo) watchCanary(ctx context.Context, listener, alarm string, setAlarm func(cwtypes.StateValue, string) error) (finish func() []string) {
	c := &awsclient.Client{ELB: d.elb, Clock: clock.Real{}}
	watchCtx, stop := context.WithCancel(ctx)
	seen := make(chan []string, 1)
	go func() {
		var trail []string
		last, fired := "", false
		for watchCtx.Err() == nil {
			if acts, err := c.ReadActions(watchCtx, awsclient.Ref{ListenerARN: listener}); err == nil {
				f, _ := acts.Forward()
				pct := f.Split.Percentages()
				now := f.Split.Short()
				if now != last {
					trail = append(trail, now)
					last = now
				}
				if !fired && len(f.Split) == 2 && pct[f.Split[1].ARN] == 50 {
					time.Sleep(2 * time.Second)
					say("the canary bakes at 50 %%: setting alarm %q to ALARM", alarm)
					_ = setAlarm(cwtypes.StateValueAlarm, "Threshold Crossed: green answers 5XX")
					fired = true
				}
			}
			time.Sleep(100 * time.Millisecond)
		}
		if acts, err := c.ReadActions(ctx, awsclient.Ref{ListenerARN: listener}); err == nil {
			f, _ := acts.Forward()
			if now := f.Split.Short(); !strings.Contains(last, now) {
				trail = append(trail, now)
			}
		}
		seen <- trail
	}()
	return func() []string {
		stop()
		return <-seen
	}
}

// act3 runs the canary detached: the orchestrator binary answers the
// emulator's Lambda through the Runtime API, called by the emulator's Step
// Functions; the apply returns at once.
func (d *demo) act3(ctx context.Context, listener string, names map[string]string, vars []string, setAlarm func(cwtypes.StateValue, string) error) error {
	const fn = "demo-rollouts"
	// The zip rollout_orchestrator deploys, as the release ships it.
	zip := filepath.Join(d.workdir, "orchestrator.zip")
	if err := orchestrator.ZipBootstrap(mustEnv("ORCHESTRATOR"), zip); err != nil {
		return err
	}
	orch := exec.Command(mustEnv("ORCHESTRATOR"))
	orch.Env = append(os.Environ(), "AWS_LAMBDA_RUNTIME_API="+strings.TrimPrefix(d.url, "http://")+"/_runtime/"+fn, "AWS_ENDPOINT_URL="+d.url,
		"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=demo", "AWS_SECRET_ACCESS_KEY=demo", "AWS_LAMBDA_FUNCTION_NAME="+fn)
	if err := orch.Start(); err != nil {
		return fmt.Errorf("starting the orchestrator: %w", err)
	}
	defer func() {
		_ = orch.Process.Kill()
		_ = orch.Wait()
	}()
	if err := setAlarm(cwtypes.StateValueOk, "act 3"); err != nil {
		return err
	}
	say("act 3: the same canary, detached (rollout.execution.mode = \"detached\"): the schedule runs in the emulator's Step Functions,")
	fmt.Printf("  one call of the orchestrator Lambda (pid %d) per poll; the apply returns once 10 %% is confirmed\n", orch.Process.Pid)
	args := append([]string{"apply", "-auto-approve", "-input=false", "-no-color"}, vars...)
	args = append(args, "-var", "blue_weight=0", "-var", "green_weight=100", "-var", "canary=true", "-var", "alarm_name=demo-green-5xx",
		"-var", "orchestrator_zip="+zip, "-var", "detached=true", "-var", "attempt=2")
	start := time.Now()
	if err := d.engineRun(args...); err != nil {
		return err
	}
	say("the apply returned in %.1f s; no engine runs now. Watching the emulator's listener:", time.Since(start).Seconds())
	c := &awsclient.Client{ELB: d.elb, Clock: clock.Real{}}
	last, fired, end := "", false, time.Now().Add(60*time.Second)
	for time.Now().Before(end) {
		acts, err := c.ReadActions(ctx, awsclient.Ref{ListenerARN: listener})
		if err == nil {
			f, _ := acts.Forward()
			if now := f.Split.Short(); now != last {
				fmt.Printf("    %s  %s\n", time.Now().Format("15:04:05.0"), now)
				last = now
			}
			pct := f.Split.Percentages()
			if !fired && len(f.Split) == 2 && pct[f.Split[1].ARN] == 10 {
				time.Sleep(time.Second)
				say("the canary bakes at 10 %%: setting the alarm to ALARM; the orchestrator, not the engine, will roll back")
				if err := setAlarm(cwtypes.StateValueAlarm, "Threshold Crossed: green answers 5XX"); err != nil {
					return err
				}
				fired = true
			}
			if fired && pct[f.Split[0].ARN] == 100 {
				break
			}
		}
		time.Sleep(100 * time.Millisecond) // watching another process: real time
	}
	if err := d.show(listener, names); err != nil {
		return err
	}
	if err := d.engineRun(append([]string{"apply", "-refresh-only", "-auto-approve", "-input=false", "-no-color"}, args[4:]...)...); err != nil {
		return err
	}
	out, err := exec.Command(d.engine, "-chdir="+d.workdir, "output", "-no-color", "-json", "last_rollout").Output()
	if err != nil || !strings.Contains(strings.ReplaceAll(string(out), " ", ""), `"status":"rolled_back"`) {
		return fmt.Errorf("after a refresh last_rollout should say rolled_back, got %s (%v)", out, err)
	}
	say("a refresh read the execution: last_rollout.status = rolled_back, gate alarms; the execution ended failed (RolloutRolledBack)")
	return d.act4(ctx, listener, names, vars, zip, setAlarm)
}

// act4 holds the canary after its first step for a person, who promotes
// it; every notice goes to an SNS topic, read back from a queue.
func (d *demo) act4(ctx context.Context, listener string, names map[string]string, vars []string, zip string, setAlarm func(cwtypes.StateValue, string) error) error {
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("demo", "demo", "")}
	sq := sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.BaseEndpoint = aws.String(d.url) })
	sn := sns.NewFromConfig(cfg, func(o *sns.Options) { o.BaseEndpoint = aws.String(d.url) })
	topic, err := sn.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("demo-rollouts")})
	if err != nil {
		return err
	}
	q, err := sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("demo-oncall")})
	if err != nil {
		return err
	}
	if _, err := sn.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"),
		Endpoint: aws.String("arn:aws:sqs:us-east-1:000000000000:demo-oncall")}); err != nil {
		return err
	}
	if err := setAlarm(cwtypes.StateValueOk, "act 4"); err != nil {
		return err
	}
	say("act 4: a person in the loop: the canary holds after 10 %% (pause = \"hold\") until rollout.promote changes; its notices go to SNS")
	args := append([]string{"apply", "-auto-approve", "-input=false", "-no-color"}, vars...)
	args = append(args, "-var", "blue_weight=0", "-var", "green_weight=100", "-var", "canary=true", "-var", "alarm_name=demo-green-5xx",
		"-var", "orchestrator_zip="+zip, "-var", "attempt=3", "-var", "hold=true", "-var", "topic_arn="+aws.ToString(topic.TopicArn))
	if err := d.engineRun(append(args, "-var", "promote=0")...); err != nil {
		return err
	}
	if err := d.show(listener, names); err != nil {
		return err
	}
	say("the apply ended held; the next plan shows the steps still to run:")
	if _, err := d.engineOutput(append([]string{"plan", "-input=false", "-no-color"}, append(args[4:], "-var", "promote=0")...)...); err != nil {
		return err
	}
	say("a person looked at the canary: promote = \"approved-by-oncall\"")
	if err := d.engineRun(append(args, "-var", "promote=approved-by-oncall")...); err != nil {
		return err
	}
	if err := d.show(listener, names); err != nil {
		return err
	}
	var kinds []string
	end := time.Now().Add(10 * time.Second)
	for len(kinds) < 6 && time.Now().Before(end) {
		out, err := sq.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, MaxNumberOfMessages: 10})
		if err != nil {
			return err
		}
		for _, m := range out.Messages {
			var env struct{ Message string }
			var n struct {
				Type string `json:"type"`
				Step int    `json:"step"`
			}
			if json.Unmarshal([]byte(aws.ToString(m.Body)), &env) == nil && json.Unmarshal([]byte(env.Message), &n) == nil {
				kinds = append(kinds, fmt.Sprintf("%s@%d", n.Type, n.Step))
			}
			_, _ = sq.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: q.QueueUrl, ReceiptHandle: m.ReceiptHandle})
		}
		time.Sleep(100 * time.Millisecond) // SNS delivers on another goroutine: real time
	}
	if got := strings.Join(kinds, " "); got != "started@0 held@1 promoted@1 step_completed@2 step_completed@3 succeeded@3" {
		return fmt.Errorf("the on-call queue got the notices %q", got)
	}
	say("the on-call queue got every notice, in order: %s", strings.Join(kinds, ", "))
	return d.act5(ctx, listener, names, vars, zip)
}

// act5 lives beside CodeDeploy: the split hands the listener back and
// observes it while a CodeDeploy deployment shifts it (no writes, no diff),
// a write is refused while the deployment runs, and once it is stopped the
// split takes the listener over again.
func (d *demo) act5(ctx context.Context, listener string, names map[string]string, vars []string, zip string) error {
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("demo", "demo", "")}
	cd := codedeploy.NewFromConfig(cfg, func(o *codedeploy.Options) { o.BaseEndpoint = aws.String(d.url) })
	if _, err := cd.CreateApplication(ctx, &codedeploy.CreateApplicationInput{ApplicationName: aws.String("demo"), ComputePlatform: cdtypes.ComputePlatformEcs}); err != nil {
		return err
	}
	if _, err := cd.CreateDeploymentGroup(ctx, &codedeploy.CreateDeploymentGroupInput{ApplicationName: aws.String("demo"), DeploymentGroupName: aws.String("prod"),
		ServiceRoleArn: aws.String("arn:aws:iam::000000000000:role/codedeploy"),
		LoadBalancerInfo: &cdtypes.LoadBalancerInfo{TargetGroupPairInfoList: []cdtypes.TargetGroupPairInfo{{
			TargetGroups: []cdtypes.TargetGroupInfo{{Name: aws.String("blue")}, {Name: aws.String("green")}}, ProdTrafficRoute: &cdtypes.TrafficRoute{ListenerArns: []string{listener}}}}}}); err != nil {
		return err
	}
	group := "arn:aws:codedeploy:us-east-1:000000000000:deploymentgroup:demo/prod"
	dep, err := cd.CreateDeployment(ctx, &codedeploy.CreateDeploymentInput{ApplicationName: aws.String("demo"), DeploymentGroupName: aws.String("prod")})
	if err != nil {
		return err
	}
	say("act 5: beside CodeDeploy: deployment %s of demo/prod starts on the same listener; the split hands the listener back (manage = \"observe\")", aws.ToString(dep.DeploymentId))
	base := append([]string{"-input=false", "-no-color"}, vars...)
	base = append(base, "-var", "orchestrator_zip="+zip, "-var", "codedeploy_group="+group)
	observe := append(append([]string{}, base...), "-var", "blue_weight=0", "-var", "green_weight=100", "-var", "observe=true")
	if err := d.engineRun(append([]string{"apply", "-auto-approve"}, observe...)...); err != nil {
		return err
	}
	blueWeight := func() (int, error) {
		c := &awsclient.Client{ELB: d.elb, Clock: clock.Real{}}
		acts, err := c.ReadActions(ctx, awsclient.Ref{ListenerARN: listener})
		if err != nil {
			return 0, err
		}
		f, _ := acts.Forward()
		return f.Split[0].Weight, nil
	}
	for _, w := range [][2]int{{20, 80}, {100, 0}} {
		say("CodeDeploy shifts the listener to blue=%d green=%d", w[0], w[1])
		if _, err := d.elb.ModifyListener(ctx, &elb.ModifyListenerInput{ListenerArn: aws.String(listener), DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward,
			ForwardConfig: &elbtypes.ForwardActionConfig{TargetGroups: []elbtypes.TargetGroupTuple{
				{TargetGroupArn: aws.String(keyOf(names, "blue")), Weight: aws.Int32(int32(w[0]))}, {TargetGroupArn: aws.String(keyOf(names, "green")), Weight: aws.Int32(int32(w[1]))}}}}}}); err != nil {
			return err
		}
		actions, err := d.planActions(append([]string{"plan", "-out=observe.plan"}, observe...), "rollout_traffic_split.demo")
		if err != nil {
			return err
		}
		if actions != "no-op" {
			return fmt.Errorf("the observing split's plan after CodeDeploy's shift is %q, want no-op", actions)
		}
		say("plan: rollout_traffic_split.demo is %s (the refresh read blue=%d green=%d)", actions, w[0], w[1])
		if err := d.show(listener, names); err != nil {
			return err
		}
	}
	say("a write while CodeDeploy deploys is refused, and nothing moves:")
	write := append(append([]string{}, base...), "-var", "blue_weight=50", "-var", "green_weight=50")
	if out, err := d.engineOutput(append([]string{"apply", "-auto-approve"}, write...)...); err == nil || !strings.Contains(out, "Foreign Deployment In Progress") {
		return fmt.Errorf("the write during CodeDeploy's deployment was not refused: %v", err)
	}
	if b, err := blueWeight(); err != nil || b != 100 {
		return fmt.Errorf("the listener moved during the refused write (blue %d, %v)", b, err)
	}
	if _, err := cd.StopDeployment(ctx, &codedeploy.StopDeploymentInput{DeploymentId: dep.DeploymentId}); err != nil {
		return err
	}
	say("the deployment is stopped; the split takes the listener over again (manage = \"write\") and moves it")
	if err := d.engineRun(append([]string{"apply", "-auto-approve"}, write...)...); err != nil {
		return err
	}
	return d.show(listener, names)
}

// keyOf is the key of a value in m.
func keyOf(m map[string]string, v string) string {
	for k, x := range m {
		if x == v {
			return k
		}
	}
	return ""
}

// prepare writes the example and a CLI configuration whose dev_overrides
// point the engine at the freshly built provider.
func (d *demo) prepare() error {
	if err := os.RemoveAll(d.workdir); err != nil {
		return err
	}
	if err := os.MkdirAll(d.workdir, 0o755); err != nil {
		return err
	}
	src, err := os.ReadFile(filepath.Join(d.example, "main.tf"))
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(d.workdir, "main.tf"), src, 0o644); err != nil {
		return err
	}
	rc := filepath.Join(d.workdir, "cli.tfrc")
	body := fmt.Sprintf("provider_installation {\n  dev_overrides {\n    \"rolloutdev/rollout\" = %q\n  }\n  direct {}\n}\n", d.providerDir)
	if err := os.WriteFile(rc, []byte(body), 0o644); err != nil {
		return err
	}
	d.env = append(os.Environ(),
		"TF_CLI_CONFIG_FILE="+rc, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1",
		"AWS_ACCESS_KEY_ID=demo", "AWS_SECRET_ACCESS_KEY=demo", "AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE="+os.DevNull, "AWS_SHARED_CREDENTIALS_FILE="+os.DevNull)
	return nil
}

func (d *demo) engineRun(args ...string) error {
	_, err := d.engineOutput(args...)
	return err
}

// planActions makes a plan quietly (args write it to observe.plan) and
// returns the actions it has for one resource ("no-op", "update", …).
func (d *demo) planActions(args []string, address string) (string, error) {
	cmd := exec.Command(d.engine, args...)
	cmd.Dir, cmd.Env = d.workdir, d.env
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("%s plan: %w\n%s", filepath.Base(d.engine), err, out)
	}
	cmd = exec.Command(d.engine, "show", "-json", "observe.plan")
	cmd.Dir, cmd.Env = d.workdir, d.env
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s show: %w", filepath.Base(d.engine), err)
	}
	var p struct {
		ResourceChanges []struct {
			Address string `json:"address"`
			Change  struct {
				Actions []string `json:"actions"`
			} `json:"change"`
		} `json:"resource_changes"`
	}
	if err := json.Unmarshal(out, &p); err != nil {
		return "", err
	}
	for _, rc := range p.ResourceChanges {
		if rc.Address == address {
			return strings.Join(rc.Change.Actions, ","), nil
		}
	}
	return "", fmt.Errorf("the plan has no %s", address)
}

// engineExit runs the engine quietly and returns its exit code.
func (d *demo) engineExit(args ...string) (int, error) {
	cmd := exec.Command(d.engine, args...)
	cmd.Dir = d.workdir
	cmd.Env = d.env
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), nil
	}
	return 0, err
}

// engineOutput runs the engine, prints its output indented and returns it.
func (d *demo) engineOutput(args ...string) (string, error) {
	cmd := exec.Command(d.engine, args...)
	cmd.Dir = d.workdir
	cmd.Env = d.env
	out, err := cmd.CombinedOutput()
	for _, l := range strings.Split(string(out), "\n") {
		// The dev_overrides warning is expected here; the rest is the engine's.
		if strings.TrimSpace(l) != "" {
			fmt.Println("    | " + l)
		}
	}
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %w", filepath.Base(d.engine), args[0], err)
	}
	return string(out), nil
}

// show reads the listener at the emulator, not the state.
func (d *demo) show(listener string, names map[string]string) error {
	c := &awsclient.Client{ELB: d.elb, Clock: clock.Real{}}
	acts, err := c.ReadActions(context.Background(), awsclient.Ref{ListenerARN: listener})
	if err != nil {
		return err
	}
	f, _ := acts.Forward()
	pct := f.Split.Percentages()
	fmt.Println("  the emulator's listener now forwards:")
	for _, t := range f.Split {
		bar := strings.Repeat("#", int(pct[t.ARN]/2.5))
		fmt.Printf("    %-6s weight %3d  %6.2f%%  %s\n", names[t.ARN], t.Weight, pct[t.ARN], bar)
	}
	return nil
}

func say(format string, args ...any) {
	fmt.Printf("\n[%s] %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

func mustEnv(k string) string {
	v := os.Getenv(k)
	if v == "" {
		fmt.Fprintf(os.Stderr, "rollout-demo: %s is not set; run it through `make demo`\n", k)
		os.Exit(2)
	}
	return v
}

func check(err error, what string) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "rollout-demo: %s: %v\n", what, err)
		os.Exit(1)
	}
}
