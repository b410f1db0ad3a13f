package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/rolloutdev/terraform-provider-rollout/internal/emulator"
)

// blueGreen is a listener forwarding to blue, with a green target group
// beside it, made in the emulator for a bench.
type blueGreen struct {
	listener, blue, green string
}

// newBlueGreen makes a blueGreen on load balancer lb; names carry name.
// With targets, each target group has two registered targets.
func newBlueGreen(ctx context.Context, c *elb.Client, lb, name string, targets bool) (blueGreen, error) {
	var tgs []string
	for _, color := range []string{"blue", "green"} {
		out, err := c.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{Name: aws.String(fmt.Sprintf("%s-%s", name, color)), Protocol: elbtypes.ProtocolEnumHttp,
			Port: aws.Int32(80), VpcId: aws.String("vpc-bench"), TargetType: elbtypes.TargetTypeEnumIp})
		if err != nil {
			return blueGreen{}, err
		}
		tg := aws.ToString(out.TargetGroups[0].TargetGroupArn)
		if targets {
			if _, err := c.RegisterTargets(ctx, &elb.RegisterTargetsInput{TargetGroupArn: aws.String(tg), Targets: []elbtypes.TargetDescription{{Id: aws.String("10.0.0.1")}, {Id: aws.String("10.0.0.2")}}}); err != nil {
				return blueGreen{}, err
			}
		}
		tgs = append(tgs, tg)
	}
	l, err := c.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: aws.String(lb), Port: aws.Int32(80), Protocol: elbtypes.ProtocolEnumHttp,
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(tgs[0])}}})
	if err != nil {
		return blueGreen{}, err
	}
	return blueGreen{listener: aws.ToString(l.Listeners[0].ListenerArn), blue: tgs[0], green: tgs[1]}, nil
}

// newAlarm makes an alarm in OK and returns a function that sets its state.
func newAlarm(ctx context.Context, cw *cloudwatch.Client, name string) (func(cwtypes.StateValue) error, error) {
	if _, err := cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String(name), Namespace: aws.String("AWS/ApplicationELB"), MetricName: aws.String("HTTPCode_Target_5XX_Count"),
		Statistic: cwtypes.StatisticSum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(10), ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold}); err != nil {
		return nil, err
	}
	set := func(s cwtypes.StateValue) error {
		_, err := cw.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String(name), StateValue: s, StateReason: aws.String("bench")})
		return err
	}
	return set, set(cwtypes.StateValueOk)
}

// benchEnv is what the rollout and detached figures share: the emulator's
// requests, stamped as they arrive, and a blue/green listener with an
// alarm in OK.
type benchEnv struct {
	mu       sync.Mutex
	log      []stamp
	bg       blueGreen
	alarm    string
	setAlarm func(cwtypes.StateValue) error
}

func newBenchEnv(emu *emulator.Emulator, prefix string, targets bool) (*benchEnv, error) {
	b := &benchEnv{}
	emu.OnRequest(func(action string, _ url.Values) {
		b.mu.Lock()
		b.log = append(b.log, stamp{time.Now(), action})
		b.mu.Unlock()
	})
	ctx := context.Background()
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("bench", "bench", "")}
	c := elb.NewFromConfig(cfg, func(o *elb.Options) { o.BaseEndpoint = aws.String(emu.URL) })
	cw := cloudwatch.NewFromConfig(cfg, func(o *cloudwatch.Options) { o.BaseEndpoint = aws.String(emu.URL) })
	suffix := time.Now().UnixNano() % 1e6
	lb, err := c.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String(fmt.Sprintf("%s-%d", prefix, suffix)), Subnets: []string{"subnet-a", "subnet-b"}})
	if err != nil {
		return nil, err
	}
	if b.bg, err = newBlueGreen(ctx, c, aws.ToString(lb.LoadBalancers[0].LoadBalancerArn), fmt.Sprintf("%s-%d", prefix, suffix), targets); err != nil {
		return nil, err
	}
	b.alarm = fmt.Sprintf("%s-5xx-%d", prefix, suffix)
	b.setAlarm, err = newAlarm(ctx, cw, b.alarm)
	return b, err
}

// resetLog forgets the requests seen so far.
func (b *benchEnv) resetLog() {
	b.mu.Lock()
	b.log = nil
	b.mu.Unlock()
}

// workspace empties dir for one figure's configuration and points the
// engine at the provider built in providerDir (a dev override, so nothing
// is downloaded). It returns dir made absolute and the engine's
// environment: no checkpoint, no credentials but the emulator's.
func workspace(dir, providerDir string) (string, []string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", nil, err
	}
	_ = os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", nil, err
	}
	abs, err := filepath.Abs(providerDir)
	if err != nil {
		return "", nil, err
	}
	rc := filepath.Join(dir, "cli.tfrc")
	if err := os.WriteFile(rc, []byte(fmt.Sprintf("provider_installation {\n  dev_overrides {\n    \"rolloutdev/rollout\" = %q\n  }\n  direct {}\n}\n", abs)), 0o644); err != nil {
		return "", nil, err
	}
	return dir, append(os.Environ(), "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1", "TF_CLI_CONFIG_FILE="+rc,
		"AWS_ACCESS_KEY_ID=bench", "AWS_SECRET_ACCESS_KEY=bench", "AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE="+os.DevNull, "AWS_SHARED_CREDENTIALS_FILE="+os.DevNull), nil
}
