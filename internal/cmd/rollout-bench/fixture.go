package main

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
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
