package awsclient

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

// ELBAPI names the Elastic Load Balancing calls the provider makes.
type ELBAPI interface {
	DescribeListeners(ctx context.Context, in *elb.DescribeListenersInput, optFns ...func(*elb.Options)) (*elb.DescribeListenersOutput, error)
	ModifyListener(ctx context.Context, in *elb.ModifyListenerInput, optFns ...func(*elb.Options)) (*elb.ModifyListenerOutput, error)
	DescribeRules(ctx context.Context, in *elb.DescribeRulesInput, optFns ...func(*elb.Options)) (*elb.DescribeRulesOutput, error)
	ModifyRule(ctx context.Context, in *elb.ModifyRuleInput, optFns ...func(*elb.Options)) (*elb.ModifyRuleOutput, error)
	DescribeTargetHealth(ctx context.Context, in *elb.DescribeTargetHealthInput, optFns ...func(*elb.Options)) (*elb.DescribeTargetHealthOutput, error)
	CreateTargetGroup(ctx context.Context, in *elb.CreateTargetGroupInput, optFns ...func(*elb.Options)) (*elb.CreateTargetGroupOutput, error)
	DescribeTargetGroups(ctx context.Context, in *elb.DescribeTargetGroupsInput, optFns ...func(*elb.Options)) (*elb.DescribeTargetGroupsOutput, error)
	ModifyTargetGroup(ctx context.Context, in *elb.ModifyTargetGroupInput, optFns ...func(*elb.Options)) (*elb.ModifyTargetGroupOutput, error)
	DeleteTargetGroup(ctx context.Context, in *elb.DeleteTargetGroupInput, optFns ...func(*elb.Options)) (*elb.DeleteTargetGroupOutput, error)
	DescribeTargetGroupAttributes(ctx context.Context, in *elb.DescribeTargetGroupAttributesInput, optFns ...func(*elb.Options)) (*elb.DescribeTargetGroupAttributesOutput, error)
	ModifyTargetGroupAttributes(ctx context.Context, in *elb.ModifyTargetGroupAttributesInput, optFns ...func(*elb.Options)) (*elb.ModifyTargetGroupAttributesOutput, error)
	DescribeTags(ctx context.Context, in *elb.DescribeTagsInput, optFns ...func(*elb.Options)) (*elb.DescribeTagsOutput, error)
	AddTags(ctx context.Context, in *elb.AddTagsInput, optFns ...func(*elb.Options)) (*elb.AddTagsOutput, error)
	RemoveTags(ctx context.Context, in *elb.RemoveTagsInput, optFns ...func(*elb.Options)) (*elb.RemoveTagsOutput, error)
}

// CloudWatchAPI names the CloudWatch calls the provider makes.
type CloudWatchAPI interface {
	DescribeAlarms(ctx context.Context, in *cloudwatch.DescribeAlarmsInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error)
	GetMetricData(ctx context.Context, in *cloudwatch.GetMetricDataInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error)
	PutMetricAlarm(ctx context.Context, in *cloudwatch.PutMetricAlarmInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.PutMetricAlarmOutput, error)
	DeleteAlarms(ctx context.Context, in *cloudwatch.DeleteAlarmsInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.DeleteAlarmsOutput, error)
	ListTagsForResource(ctx context.Context, in *cloudwatch.ListTagsForResourceInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.ListTagsForResourceOutput, error)
	TagResource(ctx context.Context, in *cloudwatch.TagResourceInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.TagResourceOutput, error)
	UntagResource(ctx context.Context, in *cloudwatch.UntagResourceInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.UntagResourceOutput, error)
}

// LambdaAPI names the Lambda calls the provider makes.
type LambdaAPI interface {
	Invoke(ctx context.Context, in *lambda.InvokeInput, optFns ...func(*lambda.Options)) (*lambda.InvokeOutput, error)
	GetAlias(ctx context.Context, in *lambda.GetAliasInput, optFns ...func(*lambda.Options)) (*lambda.GetAliasOutput, error)
	CreateAlias(ctx context.Context, in *lambda.CreateAliasInput, optFns ...func(*lambda.Options)) (*lambda.CreateAliasOutput, error)
	UpdateAlias(ctx context.Context, in *lambda.UpdateAliasInput, optFns ...func(*lambda.Options)) (*lambda.UpdateAliasOutput, error)
	DeleteAlias(ctx context.Context, in *lambda.DeleteAliasInput, optFns ...func(*lambda.Options)) (*lambda.DeleteAliasOutput, error)
	GetFunction(ctx context.Context, in *lambda.GetFunctionInput, optFns ...func(*lambda.Options)) (*lambda.GetFunctionOutput, error)
	ListTags(ctx context.Context, in *lambda.ListTagsInput, optFns ...func(*lambda.Options)) (*lambda.ListTagsOutput, error)
	TagResource(ctx context.Context, in *lambda.TagResourceInput, optFns ...func(*lambda.Options)) (*lambda.TagResourceOutput, error)
	UntagResource(ctx context.Context, in *lambda.UntagResourceInput, optFns ...func(*lambda.Options)) (*lambda.UntagResourceOutput, error)
	// The orchestrator's function (rollout_orchestrator).
	CreateFunction(ctx context.Context, in *lambda.CreateFunctionInput, optFns ...func(*lambda.Options)) (*lambda.CreateFunctionOutput, error)
	UpdateFunctionCode(ctx context.Context, in *lambda.UpdateFunctionCodeInput, optFns ...func(*lambda.Options)) (*lambda.UpdateFunctionCodeOutput, error)
	UpdateFunctionConfiguration(ctx context.Context, in *lambda.UpdateFunctionConfigurationInput, optFns ...func(*lambda.Options)) (*lambda.UpdateFunctionConfigurationOutput, error)
	DeleteFunction(ctx context.Context, in *lambda.DeleteFunctionInput, optFns ...func(*lambda.Options)) (*lambda.DeleteFunctionOutput, error)
}

// StatesAPI names the Step Functions calls the provider makes (detached
// rollouts).
type StatesAPI interface {
	CreateStateMachine(ctx context.Context, in *sfn.CreateStateMachineInput, optFns ...func(*sfn.Options)) (*sfn.CreateStateMachineOutput, error)
	DescribeStateMachine(ctx context.Context, in *sfn.DescribeStateMachineInput, optFns ...func(*sfn.Options)) (*sfn.DescribeStateMachineOutput, error)
	UpdateStateMachine(ctx context.Context, in *sfn.UpdateStateMachineInput, optFns ...func(*sfn.Options)) (*sfn.UpdateStateMachineOutput, error)
	DeleteStateMachine(ctx context.Context, in *sfn.DeleteStateMachineInput, optFns ...func(*sfn.Options)) (*sfn.DeleteStateMachineOutput, error)
	StartExecution(ctx context.Context, in *sfn.StartExecutionInput, optFns ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error)
	DescribeExecution(ctx context.Context, in *sfn.DescribeExecutionInput, optFns ...func(*sfn.Options)) (*sfn.DescribeExecutionOutput, error)
	StopExecution(ctx context.Context, in *sfn.StopExecutionInput, optFns ...func(*sfn.Options)) (*sfn.StopExecutionOutput, error)
}

// SSMAPI names the Systems Manager Parameter Store calls the provider makes
// (feature flags).
type SSMAPI interface {
	PutParameter(ctx context.Context, in *ssm.PutParameterInput, optFns ...func(*ssm.Options)) (*ssm.PutParameterOutput, error)
	GetParameter(ctx context.Context, in *ssm.GetParameterInput, optFns ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)
	DeleteParameter(ctx context.Context, in *ssm.DeleteParameterInput, optFns ...func(*ssm.Options)) (*ssm.DeleteParameterOutput, error)
	ListTagsForResource(ctx context.Context, in *ssm.ListTagsForResourceInput, optFns ...func(*ssm.Options)) (*ssm.ListTagsForResourceOutput, error)
	AddTagsToResource(ctx context.Context, in *ssm.AddTagsToResourceInput, optFns ...func(*ssm.Options)) (*ssm.AddTagsToResourceOutput, error)
	RemoveTagsFromResource(ctx context.Context, in *ssm.RemoveTagsFromResourceInput, optFns ...func(*ssm.Options)) (*ssm.RemoveTagsFromResourceOutput, error)
}

// SNSAPI and EventsAPI are the calls that publish a rollout's notices.
type SNSAPI interface {
	Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// EventsAPI is EventBridge's PutEvents.
type EventsAPI interface {
	PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, optFns ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}
