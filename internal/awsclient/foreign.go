package awsclient

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"

	"github.com/rolloutdev/terraform-provider-rollout/internal/arn"
)

// ECSAPI names the ECS calls the provider makes: it reads the deployments
// of a service that shifts a listener's weights (controlled_by).
type ECSAPI interface {
	DescribeServices(ctx context.Context, in *ecs.DescribeServicesInput, optFns ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error)
	ListServiceDeployments(ctx context.Context, in *ecs.ListServiceDeploymentsInput, optFns ...func(*ecs.Options)) (*ecs.ListServiceDeploymentsOutput, error)
	DescribeServiceDeployments(ctx context.Context, in *ecs.DescribeServiceDeploymentsInput, optFns ...func(*ecs.Options)) (*ecs.DescribeServiceDeploymentsOutput, error)
}

// CodeDeployAPI names the CodeDeploy calls the provider makes.
type CodeDeployAPI interface {
	BatchGetDeploymentGroups(ctx context.Context, in *codedeploy.BatchGetDeploymentGroupsInput, optFns ...func(*codedeploy.Options)) (*codedeploy.BatchGetDeploymentGroupsOutput, error)
	ListDeployments(ctx context.Context, in *codedeploy.ListDeploymentsInput, optFns ...func(*codedeploy.Options)) (*codedeploy.ListDeploymentsOutput, error)
	GetDeployment(ctx context.Context, in *codedeploy.GetDeploymentInput, optFns ...func(*codedeploy.Options)) (*codedeploy.GetDeploymentOutput, error)
}

// Controller is the other system that shifts a listener's weights: an ECS
// service (its blue/green or canary deployments) or a CodeDeploy
// deployment group, by ARN. One of the two is set.
type Controller struct {
	ECSService      string
	CodeDeployGroup string
}

// Name says which system it is, for messages.
func (c Controller) Name() string {
	if c.ECSService != "" {
		return "the ECS service " + c.ECSService
	}
	return "the CodeDeploy deployment group " + c.CodeDeployGroup
}

// ForeignDeployment is a deployment of a Controller that has not ended.
type ForeignDeployment struct {
	// System is "ECS" or "CodeDeploy".
	System string
	ID     string
	// Status is the system's (IN_PROGRESS, ROLLBACK_IN_PROGRESS; InProgress,
	// Baking, Ready, …); Stage is ECS's lifecycle stage (TEST_TRAFFIC_SHIFT,
	// PRODUCTION_TRAFFIC_SHIFT, BAKE_TIME, …), empty for CodeDeploy.
	Status, Stage string
	Started       time.Time
}

// String says what runs, for messages and the plan.
func (f ForeignDeployment) String() string {
	s := fmt.Sprintf("%s deployment %s is %s", f.System, f.ID, f.Status)
	if f.Stage != "" {
		s += " (stage " + f.Stage + ")"
	}
	if !f.Started.IsZero() {
		s += ", started " + f.Started.UTC().Format(time.RFC3339)
	}
	return s
}

// ecsActive are the statuses of an ECS service deployment that has not
// ended; codeDeployActive CodeDeploy's.
var (
	ecsActive = []ecstypes.ServiceDeploymentStatus{ecstypes.ServiceDeploymentStatusPending, ecstypes.ServiceDeploymentStatusInProgress,
		ecstypes.ServiceDeploymentStatusStopRequested, ecstypes.ServiceDeploymentStatusRollbackRequested, ecstypes.ServiceDeploymentStatusRollbackInProgress}
	codeDeployActive = []cdtypes.DeploymentStatus{cdtypes.DeploymentStatusCreated, cdtypes.DeploymentStatusQueued, cdtypes.DeploymentStatusInProgress,
		cdtypes.DeploymentStatusBaking, cdtypes.DeploymentStatusReady}
)

// ForeignDeployment reads the deployment of ctl that has not ended, nil
// when none runs: two requests when one runs, one when none does. One
// that ends between the two reads has ended: it is not reported.
func (c *Client) ForeignDeployment(ctx context.Context, ctl Controller) (*ForeignDeployment, error) {
	if ctl.ECSService != "" {
		cluster, service, err := arn.ECSServiceParts(ctl.ECSService)
		if err != nil {
			return nil, err
		}
		out, err := c.ECS.ListServiceDeployments(ctx, &ecs.ListServiceDeploymentsInput{Cluster: aws.String(cluster), Service: aws.String(service), Status: ecsActive})
		if err != nil {
			return nil, fmt.Errorf("listing the deployments of %s: %w", ctl.ECSService, err)
		}
		return c.describeECSDeployments(ctx, out.ServiceDeployments)
	}
	app, group, err := arn.CodeDeployGroupParts(ctl.CodeDeployGroup)
	if err != nil {
		return nil, err
	}
	out, err := c.CodeDeploy.ListDeployments(ctx, &codedeploy.ListDeploymentsInput{ApplicationName: aws.String(app), DeploymentGroupName: aws.String(group), IncludeOnlyStatuses: codeDeployActive})
	if err != nil {
		return nil, fmt.Errorf("listing the deployments of %s: %w", ctl.CodeDeployGroup, err)
	}
	if len(out.Deployments) == 0 {
		return nil, nil
	}
	d, err := c.CodeDeploy.GetDeployment(ctx, &codedeploy.GetDeploymentInput{DeploymentId: aws.String(out.Deployments[0])})
	if err != nil {
		return nil, fmt.Errorf("reading the deployment %s: %w", out.Deployments[0], err)
	}
	f := &ForeignDeployment{System: "CodeDeploy", ID: out.Deployments[0]}
	if i := d.DeploymentInfo; i != nil {
		f.Status, f.Started = string(i.Status), aws.ToTime(i.CreateTime)
	}
	if !strings.Contains(strings.Join(statusStrings(codeDeployActive), ","), f.Status) {
		return nil, nil // it ended between the two reads
	}
	return f, nil
}

// describeECSDeployments reads the lifecycle stage of the listed
// deployments and returns the first that still runs. A deployment may end
// between the list and the describe: described with a status that is not
// active, or not described at all (a failure, reason MISSING), it has
// ended, and the next one listed is looked at. One describe for up to 20
// listed (ECS's limit), so one request when one runs.
func (c *Client) describeECSDeployments(ctx context.Context, listed []ecstypes.ServiceDeploymentBrief) (*ForeignDeployment, error) {
	const perDescribe = 20
	for len(listed) > 0 {
		batch := listed[:min(perDescribe, len(listed))]
		listed = listed[len(batch):]
		arns := make([]string, len(batch))
		for i, b := range batch {
			arns[i] = aws.ToString(b.ServiceDeploymentArn)
		}
		desc, err := c.ECS.DescribeServiceDeployments(ctx, &ecs.DescribeServiceDeploymentsInput{ServiceDeploymentArns: arns})
		if err != nil {
			return nil, fmt.Errorf("describing %s: %w", strings.Join(arns, ", "), err)
		}
		described := map[string]ecstypes.ServiceDeployment{}
		for _, d := range desc.ServiceDeployments {
			described[aws.ToString(d.ServiceDeploymentArn)] = d
		}
		for _, b := range batch {
			d, ok := described[aws.ToString(b.ServiceDeploymentArn)]
			if !ok || !slices.Contains(ecsActive, d.Status) {
				continue // it ended after it was listed
			}
			started := aws.ToTime(d.StartedAt)
			if started.IsZero() {
				started = aws.ToTime(b.StartedAt)
			}
			return &ForeignDeployment{System: "ECS", ID: aws.ToString(d.ServiceDeploymentArn), Status: string(d.Status), Stage: string(d.LifecycleStage), Started: started}, nil
		}
	}
	return nil, nil
}

func statusStrings(s []cdtypes.DeploymentStatus) []string {
	var out []string
	for _, v := range s {
		out = append(out, string(v))
	}
	return out
}

// ErrControllerNotFound is a controlled_by that names no ECS service or
// CodeDeploy deployment group.
var ErrControllerNotFound = errors.New("not found")

// ControllerReach says whether ctl shifts the listener: an ECS service
// whose load balancers forward to one of its target groups (tgs), or a
// CodeDeploy deployment group whose production traffic route is the
// listener. what says what ctl shifts, for a message when it does not.
func (c *Client) ControllerReach(ctx context.Context, ctl Controller, listener string, tgs []string) (reaches bool, what string, err error) {
	if ctl.ECSService != "" {
		cluster, service, err := arn.ECSServiceParts(ctl.ECSService)
		if err != nil {
			return false, "", err
		}
		out, err := c.ECS.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: []string{service}})
		if err != nil {
			return false, "", fmt.Errorf("describing %s: %w", ctl.ECSService, err)
		}
		if len(out.Services) == 0 {
			return false, "", fmt.Errorf("%s: %w", ctl.ECSService, ErrControllerNotFound)
		}
		var its []string
		for _, lb := range out.Services[0].LoadBalancers {
			its = append(its, aws.ToString(lb.TargetGroupArn))
			if a := lb.AdvancedConfiguration; a != nil {
				its = append(its, aws.ToString(a.AlternateTargetGroupArn))
			}
		}
		for _, t := range its {
			for _, mine := range tgs {
				if t != "" && t == mine {
					return true, "", nil
				}
			}
		}
		if len(its) == 0 {
			return false, "no load balancer target group", nil
		}
		return false, "the target groups " + strings.Join(its, ", "), nil
	}
	app, group, err := arn.CodeDeployGroupParts(ctl.CodeDeployGroup)
	if err != nil {
		return false, "", err
	}
	out, err := c.CodeDeploy.BatchGetDeploymentGroups(ctx, &codedeploy.BatchGetDeploymentGroupsInput{ApplicationName: aws.String(app), DeploymentGroupNames: []string{group}})
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() == "ApplicationDoesNotExistException" {
		return false, "", fmt.Errorf("%s: %w", ctl.CodeDeployGroup, ErrControllerNotFound)
	}
	if err != nil {
		return false, "", fmt.Errorf("describing %s: %w", ctl.CodeDeployGroup, err)
	}
	if len(out.DeploymentGroupsInfo) == 0 {
		return false, "", fmt.Errorf("%s: %w", ctl.CodeDeployGroup, ErrControllerNotFound)
	}
	var listeners []string
	if lbi := out.DeploymentGroupsInfo[0].LoadBalancerInfo; lbi != nil {
		for _, p := range lbi.TargetGroupPairInfoList {
			if p.ProdTrafficRoute != nil {
				listeners = append(listeners, p.ProdTrafficRoute.ListenerArns...)
			}
		}
	}
	for _, l := range listeners {
		if l == listener {
			return true, "", nil
		}
	}
	if len(listeners) == 0 {
		return false, "no production traffic route", nil
	}
	return false, "the listeners " + strings.Join(listeners, ", "), nil
}
