package emulator

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/rolloutdev/terraform-provider-rollout/internal/arn"
)

// MetricPutter is the CloudWatch call PutSteadyTraffic makes.
type MetricPutter interface {
	PutMetricData(ctx context.Context, in *cloudwatch.PutMetricDataInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.PutMetricDataOutput, error)
}

// PutSteadyTraffic puts a steady, healthy load on a target group behind
// the listener's load balancer, for the tests and the bench: 100 requests
// and no 5XX every second from `from` for span (datapoints ahead of time:
// the front keeps them as given), at most 1,000 datums a request.
func PutSteadyTraffic(ctx context.Context, cw MetricPutter, listener, tg string, from time.Time, span time.Duration) error {
	lb, err := arn.LoadBalancerOfListener(listener)
	if err != nil {
		return err
	}
	tgDim, err := arn.TargetGroupDimension(tg)
	if err != nil {
		return err
	}
	dims := []cwtypes.Dimension{{Name: aws.String("TargetGroup"), Value: aws.String(tgDim)}, {Name: aws.String("LoadBalancer"), Value: aws.String(lb)}}
	var data []cwtypes.MetricDatum
	flush := func() error {
		if len(data) == 0 {
			return nil
		}
		_, err := cw.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("AWS/ApplicationELB"), MetricData: data})
		data = nil
		return err
	}
	for at := from; at.Before(from.Add(span)); at = at.Add(time.Second) {
		data = append(data,
			cwtypes.MetricDatum{MetricName: aws.String("RequestCount"), Value: aws.Float64(100), Timestamp: aws.Time(at), Dimensions: dims},
			cwtypes.MetricDatum{MetricName: aws.String("HTTPCode_Target_5XX_Count"), Value: aws.Float64(0), Timestamp: aws.Time(at), Dimensions: dims})
		if len(data) >= 1000 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}
