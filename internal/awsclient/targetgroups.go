package awsclient

import (
	"context"
	"errors"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// HealthCheck is a target group's health check.
type HealthCheck struct {
	Path               string
	Protocol           string
	Port               string
	HealthyThreshold   int
	UnhealthyThreshold int
	Interval           int
	Timeout            int
	Matcher            string
}

// TargetGroup is what the provider sets on a target group it owns.
type TargetGroup struct {
	ARN, Name           string
	Port                int
	Protocol            string
	VPC                 string
	TargetType          string
	HealthCheck         HealthCheck
	DeregistrationDelay int
	Tags                map[string]string
}

const deregistrationDelayKey = "deregistration_delay.timeout_seconds"

// CreateTargetGroup creates a target group with its tags and attributes and
// returns its ARN.
func (c *Client) CreateTargetGroup(ctx context.Context, tg TargetGroup) (string, error) {
	hc := tg.HealthCheck
	in := &elb.CreateTargetGroupInput{
		Name: aws.String(tg.Name), Port: aws.Int32(int32(tg.Port)), Protocol: elbtypes.ProtocolEnum(tg.Protocol),
		VpcId: aws.String(tg.VPC), TargetType: elbtypes.TargetTypeEnum(tg.TargetType),
		HealthCheckEnabled: aws.Bool(true), HealthCheckPath: aws.String(hc.Path),
		HealthyThresholdCount: aws.Int32(int32(hc.HealthyThreshold)), UnhealthyThresholdCount: aws.Int32(int32(hc.UnhealthyThreshold)),
		HealthCheckIntervalSeconds: aws.Int32(int32(hc.Interval)), HealthCheckTimeoutSeconds: aws.Int32(int32(hc.Timeout)),
		Matcher: &elbtypes.Matcher{HttpCode: aws.String(hc.Matcher)}, Tags: elbTags(tg.Tags),
	}
	if hc.Protocol != "" {
		in.HealthCheckProtocol = elbtypes.ProtocolEnum(hc.Protocol)
	}
	if hc.Port != "" {
		in.HealthCheckPort = aws.String(hc.Port)
	}
	out, err := c.ELB.CreateTargetGroup(ctx, in)
	if err != nil {
		return "", err
	}
	arn := aws.ToString(out.TargetGroups[0].TargetGroupArn)
	if err := c.setDeregistrationDelay(ctx, arn, tg.DeregistrationDelay); err != nil {
		return arn, err
	}
	return arn, nil
}

func (c *Client) setDeregistrationDelay(ctx context.Context, arn string, s int) error {
	_, err := c.ELB.ModifyTargetGroupAttributes(ctx, &elb.ModifyTargetGroupAttributesInput{
		TargetGroupArn: aws.String(arn),
		Attributes:     []elbtypes.TargetGroupAttribute{{Key: aws.String(deregistrationDelayKey), Value: aws.String(strconv.Itoa(s))}},
	})
	return err
}

func elbTags(m map[string]string) []elbtypes.Tag {
	_, keys := tagChanges(nil, m)
	var out []elbtypes.Tag
	for _, k := range keys {
		out = append(out, elbtypes.Tag{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return out
}

// DescribeTargetGroups reads the settings of several target groups in one
// call, without their attributes and tags (ReadTargetGroupDetails adds
// those). A target group that does not exist is absent from the answer. AWS
// fails the whole call when one of the ARNs is unknown; only then are they
// read one by one, to tell which.
func (c *Client) DescribeTargetGroups(ctx context.Context, arns ...string) (map[string]*TargetGroup, error) {
	found := map[string]*TargetGroup{}
	out, err := c.ELB.DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{TargetGroupArns: arns})
	var nf *elbtypes.TargetGroupNotFoundException
	if errors.As(err, &nf) && len(arns) > 1 {
		for _, arn := range arns {
			one, err := c.DescribeTargetGroups(ctx, arn)
			if err != nil {
				return nil, err
			}
			for k, v := range one {
				found[k] = v
			}
		}
		return found, nil
	}
	if errors.As(err, &nf) {
		return found, nil
	}
	if err != nil {
		return nil, err
	}
	for _, g := range out.TargetGroups {
		arn := aws.ToString(g.TargetGroupArn)
		tg := &TargetGroup{
			ARN: arn, Name: aws.ToString(g.TargetGroupName), Port: int(aws.ToInt32(g.Port)), Protocol: string(g.Protocol),
			VPC: aws.ToString(g.VpcId), TargetType: string(g.TargetType),
			HealthCheck: HealthCheck{
				Path: aws.ToString(g.HealthCheckPath), Protocol: string(g.HealthCheckProtocol), Port: aws.ToString(g.HealthCheckPort),
				HealthyThreshold: int(aws.ToInt32(g.HealthyThresholdCount)), UnhealthyThreshold: int(aws.ToInt32(g.UnhealthyThresholdCount)),
				Interval: int(aws.ToInt32(g.HealthCheckIntervalSeconds)), Timeout: int(aws.ToInt32(g.HealthCheckTimeoutSeconds)),
			},
			DeregistrationDelay: 300,
			Tags:                map[string]string{},
		}
		if g.Matcher != nil {
			tg.HealthCheck.Matcher = aws.ToString(g.Matcher.HttpCode)
		}
		found[arn] = tg
	}
	return found, nil
}

// ReadTargetGroupDetails adds a described target group's deregistration
// delay and tags.
func (c *Client) ReadTargetGroupDetails(ctx context.Context, tg *TargetGroup) error {
	attrs, err := c.ELB.DescribeTargetGroupAttributes(ctx, &elb.DescribeTargetGroupAttributesInput{TargetGroupArn: aws.String(tg.ARN)})
	if err != nil {
		return err
	}
	for _, a := range attrs.Attributes {
		if aws.ToString(a.Key) == deregistrationDelayKey {
			if n, err := strconv.Atoi(aws.ToString(a.Value)); err == nil {
				tg.DeregistrationDelay = n
			}
		}
	}
	tags, err := c.ELB.DescribeTags(ctx, &elb.DescribeTagsInput{ResourceArns: []string{tg.ARN}})
	if err != nil {
		return err
	}
	for _, d := range tags.TagDescriptions {
		for _, t := range d.Tags {
			tg.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
	}
	return nil
}

// UpdateTargetGroup changes what AWS changes in place: the health check,
// the deregistration delay and the tags.
func (c *Client) UpdateTargetGroup(ctx context.Context, have, want TargetGroup) error {
	if have.HealthCheck != want.HealthCheck {
		hc := want.HealthCheck
		in := &elb.ModifyTargetGroupInput{
			TargetGroupArn: aws.String(have.ARN), HealthCheckPath: aws.String(hc.Path),
			HealthyThresholdCount: aws.Int32(int32(hc.HealthyThreshold)), UnhealthyThresholdCount: aws.Int32(int32(hc.UnhealthyThreshold)),
			HealthCheckIntervalSeconds: aws.Int32(int32(hc.Interval)), HealthCheckTimeoutSeconds: aws.Int32(int32(hc.Timeout)),
			Matcher: &elbtypes.Matcher{HttpCode: aws.String(hc.Matcher)},
		}
		if hc.Protocol != "" {
			in.HealthCheckProtocol = elbtypes.ProtocolEnum(hc.Protocol)
		}
		if hc.Port != "" {
			in.HealthCheckPort = aws.String(hc.Port)
		}
		if _, err := c.ELB.ModifyTargetGroup(ctx, in); err != nil {
			return err
		}
	}
	if have.DeregistrationDelay != want.DeregistrationDelay {
		if err := c.setDeregistrationDelay(ctx, have.ARN, want.DeregistrationDelay); err != nil {
			return err
		}
	}
	drop, set := tagChanges(have.Tags, want.Tags)
	if len(drop) > 0 {
		if _, err := c.ELB.RemoveTags(ctx, &elb.RemoveTagsInput{ResourceArns: []string{have.ARN}, TagKeys: drop}); err != nil {
			return err
		}
	}
	if len(set) > 0 {
		var add []elbtypes.Tag
		for _, k := range set {
			add = append(add, elbtypes.Tag{Key: aws.String(k), Value: aws.String(want.Tags[k])})
		}
		if _, err := c.ELB.AddTags(ctx, &elb.AddTagsInput{ResourceArns: []string{have.ARN}, Tags: add}); err != nil {
			return err
		}
	}
	return nil
}

// DeleteTargetGroup deletes a target group; one already gone is not an error.
func (c *Client) DeleteTargetGroup(ctx context.Context, arn string) error {
	_, err := c.ELB.DeleteTargetGroup(ctx, &elb.DeleteTargetGroupInput{TargetGroupArn: aws.String(arn)})
	var nf *elbtypes.TargetGroupNotFoundException
	if errors.As(err, &nf) {
		return nil
	}
	return err
}

// TargetHealthCounts counts a target group's targets by state (healthy,
// unhealthy, draining, initial, unused, unavailable).
func (c *Client) TargetHealthCounts(ctx context.Context, tg string) (map[string]int, error) {
	out, err := c.ELB.DescribeTargetHealth(ctx, &elb.DescribeTargetHealthInput{TargetGroupArn: aws.String(tg)})
	if err != nil {
		return nil, err
	}
	m := map[string]int{}
	for _, d := range out.TargetHealthDescriptions {
		st := elbtypes.TargetHealthStateEnumUnavailable
		if d.TargetHealth != nil {
			st = d.TargetHealth.State
		}
		m[string(st)]++
	}
	return m, nil
}
