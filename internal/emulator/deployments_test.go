package emulator

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"
)

// The front answers ECS's service deployments and CodeDeploy's
// deployments through the SDK as the API references describe them: a
// deployment in progress is listed with its status filter and described
// with its lifecycle stage, and one that ended is not listed.
func TestForeignDeploymentsThroughTheSDK(t *testing.T) {
	e, err := Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("a", "b", ""), RetryMaxAttempts: 1}
	ctx := context.Background()
	ec := ecs.NewFromConfig(cfg, func(o *ecs.Options) { o.BaseEndpoint = aws.String(e.URL) })
	cd := codedeploy.NewFromConfig(cfg, func(o *codedeploy.Options) { o.BaseEndpoint = aws.String(e.URL) })
	code := func(err error) string {
		var ae smithy.APIError
		if errors.As(err, &ae) {
			return ae.ErrorCode()
		}
		return ""
	}

	svc := e.ECSService("prod", "web", "ECS", "tg-blue", "tg-green")
	out, err := ec.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: []string{"web", "gone"}})
	if err != nil || len(out.Services) != 1 || aws.ToString(out.Services[0].ServiceArn) != svc || len(out.Failures) != 1 || aws.ToString(out.Failures[0].Reason) != "MISSING" ||
		out.Services[0].DeploymentController.Type != ecstypes.DeploymentControllerTypeEcs {
		t.Fatalf("DescribeServices: %+v, %v", out, err)
	}
	dep := e.SetECSDeployment(svc, "", "IN_PROGRESS", "TEST_TRAFFIC_SHIFT")
	active := []ecstypes.ServiceDeploymentStatus{ecstypes.ServiceDeploymentStatusPending, ecstypes.ServiceDeploymentStatusInProgress}
	list, err := ec.ListServiceDeployments(ctx, &ecs.ListServiceDeploymentsInput{Cluster: aws.String("prod"), Service: aws.String("web"), Status: active})
	if err != nil || len(list.ServiceDeployments) != 1 || aws.ToString(list.ServiceDeployments[0].ServiceDeploymentArn) != dep {
		t.Fatalf("ListServiceDeployments: %+v, %v", list, err)
	}
	desc, err := ec.DescribeServiceDeployments(ctx, &ecs.DescribeServiceDeploymentsInput{ServiceDeploymentArns: []string{dep}})
	if err != nil || len(desc.ServiceDeployments) != 1 || desc.ServiceDeployments[0].LifecycleStage != ecstypes.ServiceDeploymentLifecycleStageTestTrafficShift ||
		desc.ServiceDeployments[0].StartedAt == nil {
		t.Fatalf("DescribeServiceDeployments: %+v, %v", desc, err)
	}
	e.SetECSDeployment(svc, dep, "SUCCESSFUL", "CLEAN_UP")
	if list, _ := ec.ListServiceDeployments(ctx, &ecs.ListServiceDeploymentsInput{Cluster: aws.String("prod"), Service: aws.String("web"), Status: active}); len(list.ServiceDeployments) != 0 {
		t.Fatalf("an ended deployment is listed as active: %+v", list.ServiceDeployments)
	}
	if _, err := ec.ListServiceDeployments(ctx, &ecs.ListServiceDeploymentsInput{Cluster: aws.String("prod"), Service: aws.String("nope")}); code(err) != "ServiceNotFoundException" {
		t.Fatalf("a missing service answered %v", err)
	}

	if _, err := cd.CreateApplication(ctx, &codedeploy.CreateApplicationInput{ApplicationName: aws.String("web"), ComputePlatform: cdtypes.ComputePlatformEcs}); err != nil {
		t.Fatal(err)
	}
	listener := "arn:aws:elasticloadbalancing:us-east-1:000000000000:listener/app/web/1/2"
	if _, err := cd.CreateDeploymentGroup(ctx, &codedeploy.CreateDeploymentGroupInput{ApplicationName: aws.String("web"), DeploymentGroupName: aws.String("prod"),
		ServiceRoleArn: aws.String("arn:aws:iam::000000000000:role/cd"),
		LoadBalancerInfo: &cdtypes.LoadBalancerInfo{TargetGroupPairInfoList: []cdtypes.TargetGroupPairInfo{{
			TargetGroups: []cdtypes.TargetGroupInfo{{Name: aws.String("blue")}, {Name: aws.String("green")}}, ProdTrafficRoute: &cdtypes.TrafficRoute{ListenerArns: []string{listener}}}}}}); err != nil {
		t.Fatal(err)
	}
	groups, err := cd.BatchGetDeploymentGroups(ctx, &codedeploy.BatchGetDeploymentGroupsInput{ApplicationName: aws.String("web"), DeploymentGroupNames: []string{"prod", "other"}})
	if err != nil || len(groups.DeploymentGroupsInfo) != 1 || aws.ToString(groups.ErrorMessage) == "" ||
		groups.DeploymentGroupsInfo[0].LoadBalancerInfo.TargetGroupPairInfoList[0].ProdTrafficRoute.ListenerArns[0] != listener {
		t.Fatalf("BatchGetDeploymentGroups: %+v, %v", groups, err)
	}
	created, err := cd.CreateDeployment(ctx, &codedeploy.CreateDeploymentInput{ApplicationName: aws.String("web"), DeploymentGroupName: aws.String("prod")})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(created.DeploymentId)
	running := []cdtypes.DeploymentStatus{cdtypes.DeploymentStatusInProgress, cdtypes.DeploymentStatusBaking}
	ids, err := cd.ListDeployments(ctx, &codedeploy.ListDeploymentsInput{ApplicationName: aws.String("web"), DeploymentGroupName: aws.String("prod"), IncludeOnlyStatuses: running})
	if err != nil || len(ids.Deployments) != 0 {
		t.Fatalf("a Created deployment is listed as running: %v, %v", ids, err)
	}
	e.SetCodeDeployStatus("web", "prod", id, "InProgress")
	ids, _ = cd.ListDeployments(ctx, &codedeploy.ListDeploymentsInput{ApplicationName: aws.String("web"), DeploymentGroupName: aws.String("prod"), IncludeOnlyStatuses: running})
	got, err := cd.GetDeployment(ctx, &codedeploy.GetDeploymentInput{DeploymentId: aws.String(id)})
	if len(ids.Deployments) != 1 || err != nil || got.DeploymentInfo.Status != cdtypes.DeploymentStatusInProgress || got.DeploymentInfo.CreateTime == nil {
		t.Fatalf("the deployment in progress: listed %v, got %+v, %v", ids.Deployments, got, err)
	}
	if _, err := cd.GetDeployment(ctx, &codedeploy.GetDeploymentInput{DeploymentId: aws.String("d-NOPE")}); code(err) != "DeploymentDoesNotExistException" {
		t.Fatalf("an unknown deployment answered %v", err)
	}
}
