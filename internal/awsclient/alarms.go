package awsclient

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/rolloutdev/terraform-provider-rollout/internal/alarms"
	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
)

// AlarmConfig is everything the provider sets on a CloudWatch alarm.
type AlarmConfig struct {
	Name, Description                                string
	Spec                                             alarms.Spec
	AlarmActions, OKActions, InsufficientDataActions []string
}

// Alarm is an alarm as DescribeAlarms reports it.
type Alarm struct {
	AlarmConfig
	ARN, State, StateReason string
}

// PutAlarm creates or replaces an alarm (PutMetricAlarm is both).
func (c *Client) PutAlarm(ctx context.Context, a AlarmConfig) error {
	s := a.Spec
	in := &cloudwatch.PutMetricAlarmInput{
		AlarmName:               aws.String(a.Name),
		ActionsEnabled:          aws.Bool(true),
		AlarmActions:            a.AlarmActions,
		OKActions:               a.OKActions,
		InsufficientDataActions: a.InsufficientDataActions,
		ComparisonOperator:      cwtypes.ComparisonOperator(s.ComparisonOperator),
		EvaluationPeriods:       aws.Int32(int32(s.EvaluationPeriods)),
		DatapointsToAlarm:       aws.Int32(int32(s.DatapointsToAlarm)),
		Threshold:               aws.Float64(s.Threshold),
		TreatMissingData:        aws.String(s.TreatMissingData),
	}
	if a.Description != "" {
		in.AlarmDescription = aws.String(a.Description)
	}
	if len(s.Queries) > 0 {
		for _, q := range s.Queries {
			mq := cwtypes.MetricDataQuery{Id: aws.String(q.ID), ReturnData: aws.Bool(q.ReturnData)}
			if q.Label != "" {
				mq.Label = aws.String(q.Label)
			}
			if q.Expression != "" {
				mq.Expression = aws.String(q.Expression)
			}
			if q.Metric != nil {
				mq.MetricStat = &cwtypes.MetricStat{Metric: cwMetric(q.Metric), Period: aws.Int32(int32(q.Period)), Stat: aws.String(q.Stat)}
			}
			in.Metrics = append(in.Metrics, mq)
		}
	} else {
		m := cwMetric(s.Metric)
		in.Namespace, in.MetricName, in.Dimensions = m.Namespace, m.MetricName, m.Dimensions
		in.Period = aws.Int32(int32(s.Period))
		if s.ExtendedStatistic != "" {
			in.ExtendedStatistic = aws.String(s.ExtendedStatistic)
		} else {
			in.Statistic = cwtypes.Statistic(s.Statistic)
		}
	}
	_, err := c.CloudWatch.PutMetricAlarm(ctx, in)
	return err
}

func cwMetric(m *alarms.Metric) *cwtypes.Metric {
	out := &cwtypes.Metric{Namespace: aws.String(m.Namespace), MetricName: aws.String(m.Name)}
	for _, k := range alarms.SortedKeys(m.Dimensions) {
		out.Dimensions = append(out.Dimensions, cwtypes.Dimension{Name: aws.String(k), Value: aws.String(m.Dimensions[k])})
	}
	return out
}

func fromCWMetric(namespace, name *string, dims []cwtypes.Dimension) *alarms.Metric {
	m := &alarms.Metric{Namespace: aws.ToString(namespace), Name: aws.ToString(name), Dimensions: map[string]string{}}
	for _, d := range dims {
		m.Dimensions[aws.ToString(d.Name)] = aws.ToString(d.Value)
	}
	return m
}

// DescribeAlarm reads one metric alarm by name; ErrNotFound when there is
// none.
func (c *Client) DescribeAlarm(ctx context.Context, name string) (*Alarm, error) {
	out, err := c.CloudWatch.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{name}, AlarmTypes: []cwtypes.AlarmType{cwtypes.AlarmTypeMetricAlarm}})
	if err != nil {
		return nil, err
	}
	for _, a := range out.MetricAlarms {
		if aws.ToString(a.AlarmName) != name {
			continue
		}
		s := alarms.Spec{
			ComparisonOperator: string(a.ComparisonOperator),
			EvaluationPeriods:  int(aws.ToInt32(a.EvaluationPeriods)),
			DatapointsToAlarm:  int(aws.ToInt32(a.DatapointsToAlarm)),
			Threshold:          aws.ToFloat64(a.Threshold),
			TreatMissingData:   aws.ToString(a.TreatMissingData),
			Period:             int(aws.ToInt32(a.Period)),
			Statistic:          string(a.Statistic),
			ExtendedStatistic:  aws.ToString(a.ExtendedStatistic),
		}
		if s.DatapointsToAlarm == 0 { // not set: CloudWatch uses evaluation_periods
			s.DatapointsToAlarm = s.EvaluationPeriods
		}
		if s.TreatMissingData == "" {
			s.TreatMissingData = "missing"
		}
		if len(a.Metrics) > 0 {
			for _, q := range a.Metrics {
				aq := alarms.Query{ID: aws.ToString(q.Id), Expression: aws.ToString(q.Expression), Label: aws.ToString(q.Label), ReturnData: q.ReturnData == nil || *q.ReturnData}
				if ms := q.MetricStat; ms != nil && ms.Metric != nil {
					aq.Metric = fromCWMetric(ms.Metric.Namespace, ms.Metric.MetricName, ms.Metric.Dimensions)
					aq.Stat, aq.Period = aws.ToString(ms.Stat), int(aws.ToInt32(ms.Period))
				}
				s.Queries = append(s.Queries, aq)
			}
		} else {
			s.Metric = fromCWMetric(a.Namespace, a.MetricName, a.Dimensions)
		}
		return &Alarm{
			AlarmConfig: AlarmConfig{
				Name: name, Description: aws.ToString(a.AlarmDescription), Spec: s,
				AlarmActions: a.AlarmActions, OKActions: a.OKActions, InsufficientDataActions: a.InsufficientDataActions,
			},
			ARN: aws.ToString(a.AlarmArn), State: string(a.StateValue), StateReason: aws.ToString(a.StateReason),
		}, nil
	}
	return nil, ErrNotFound
}

// DeleteAlarm deletes an alarm; deleting one that is gone is not an error.
func (c *Client) DeleteAlarm(ctx context.Context, name string) error {
	_, err := c.CloudWatch.DeleteAlarms(ctx, &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{name}})
	return err
}

// Tags returns a CloudWatch resource's tags.
func (c *Client) Tags(ctx context.Context, arn string) (map[string]string, error) {
	out, err := c.CloudWatch.ListTagsForResource(ctx, &cloudwatch.ListTagsForResourceInput{ResourceARN: aws.String(arn)})
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	for _, t := range out.Tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m, nil
}

// SetTags makes a CloudWatch resource's tags exactly want.
func (c *Client) SetTags(ctx context.Context, arn string, want map[string]string) error {
	have, err := c.Tags(ctx, arn)
	if err != nil {
		return err
	}
	drop, set := tagChanges(have, want)
	if len(drop) > 0 {
		if _, err := c.CloudWatch.UntagResource(ctx, &cloudwatch.UntagResourceInput{ResourceARN: aws.String(arn), TagKeys: drop}); err != nil {
			return err
		}
	}
	var add []cwtypes.Tag
	for _, k := range set {
		add = append(add, cwtypes.Tag{Key: aws.String(k), Value: aws.String(want[k])})
	}
	if len(add) > 0 {
		_, err = c.CloudWatch.TagResource(ctx, &cloudwatch.TagResourceInput{ResourceARN: aws.String(arn), Tags: add})
	}
	return err
}

// AlarmStates reads the states of metric and composite alarms by name, 100
// names per request. Names that do not exist are left out.
func (c *Client) AlarmStates(ctx context.Context, names []string) ([]rollout.AlarmState, error) {
	var out []rollout.AlarmState
	for i := 0; i < len(names); i += 100 {
		batch := names[i:min(i+100, len(names))]
		pg := cloudwatch.NewDescribeAlarmsPaginator(c.CloudWatch, &cloudwatch.DescribeAlarmsInput{
			AlarmNames: batch,
			AlarmTypes: []cwtypes.AlarmType{cwtypes.AlarmTypeMetricAlarm, cwtypes.AlarmTypeCompositeAlarm},
			// AWS's largest page (the default is 50): a batch is one request.
			MaxRecords: aws.Int32(100),
		})
		for pg.HasMorePages() {
			page, err := pg.NextPage(ctx)
			if err != nil {
				return nil, err
			}
			for _, a := range page.MetricAlarms {
				out = append(out, rollout.AlarmState{Name: aws.ToString(a.AlarmName), State: string(a.StateValue), Reason: aws.ToString(a.StateReason)})
			}
			for _, a := range page.CompositeAlarms {
				out = append(out, rollout.AlarmState{Name: aws.ToString(a.AlarmName), State: string(a.StateValue), Reason: aws.ToString(a.StateReason)})
			}
		}
	}
	return out, nil
}
