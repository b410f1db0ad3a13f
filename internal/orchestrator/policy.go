package orchestrator

import (
	"encoding/json"
	"fmt"
)

// Scope is what an orchestrator's policies are limited to. An empty list
// is every resource of its kind.
type Scope struct {
	Name string
	// Listeners are the listeners and rules detached rollouts move
	// (splits, blue/green flips).
	Listeners []string
	// Functions are the functions whose aliases they move, and the hook
	// functions they invoke.
	Functions []string
	// Parameters are the flag parameters they ramp or switch off.
	Parameters []string
	// Topics and Buses are where their notices go
	// (rollout.notifications): SNS topics and EventBridge buses.
	Topics, Buses []string
	// FunctionRole and StatesRole are the roles the provider passes.
	FunctionRole, StatesRole string
}

// Policies are the IAM documents of an orchestrator, as JSON.
type Policies struct {
	// Function is the function role's permissions: move the subjects,
	// read the gates, invoke the hooks, write its logs.
	Function string
	// States is the state machine role's: invoke the function.
	States string
	// FunctionTrust and StatesTrust let Lambda and Step Functions assume
	// the roles.
	FunctionTrust, StatesTrust string
	// Provider is what the credentials Terraform runs with need for the
	// orchestrator and detached rollouts (besides the resources' own).
	Provider string
}

type statement struct {
	Sid       string            `json:"Sid"`
	Effect    string            `json:"Effect"`
	Principal map[string]string `json:"Principal,omitempty"`
	Action    []string          `json:"Action"`
	Resource  any               `json:"Resource,omitempty"`
	Condition map[string]any    `json:"Condition,omitempty"`
}

type document struct {
	Version   string      `json:"Version"`
	Statement []statement `json:"Statement"`
}

func render(st ...statement) string {
	b, _ := json.MarshalIndent(document{Version: "2012-10-17", Statement: st}, "", "  ")
	return string(b)
}

func orAll(arns []string, all string) []string {
	if len(arns) == 0 {
		return []string{all}
	}
	return arns
}

// FunctionARNPattern, StateMachineARNPattern and ExecutionARNPattern match
// an orchestrator's resources in any region and account.
func FunctionARNPattern(name string) string { return "arn:aws:lambda:*:*:function:" + name }
func StateMachineARNPattern(name string) string {
	return "arn:aws:states:*:*:stateMachine:" + name
}
func ExecutionARNPattern(name string) string { return "arn:aws:states:*:*:execution:" + name + ":*" }

// PoliciesOf renders the policies of an orchestrator limited to s.
func PoliciesOf(s Scope) Policies {
	fns := orAll(s.Functions, "arn:aws:lambda:*:*:function:*")
	qualified := make([]string, 0, 2*len(fns))
	for _, f := range fns {
		qualified = append(qualified, f, f+":*")
	}
	trust := func(service string) string {
		return render(statement{Sid: "Assume", Effect: "Allow", Principal: map[string]string{"Service": service}, Action: []string{"sts:AssumeRole"}})
	}
	roles := []string{}
	for _, r := range []string{s.FunctionRole, s.StatesRole} {
		if r != "" {
			roles = append(roles, r)
		}
	}
	pass := statement{Sid: "PassTheOrchestratorRoles", Effect: "Allow", Action: []string{"iam:PassRole"}, Resource: orAll(roles, "*"),
		Condition: map[string]any{"StringEquals": map[string]any{"iam:PassedToService": []string{"lambda.amazonaws.com", "states.amazonaws.com"}}}}
	return Policies{
		Function: render(
			statement{Sid: "ReadSubjectsAndGates", Effect: "Allow", Resource: "*", Action: []string{
				"elasticloadbalancing:DescribeListeners", "elasticloadbalancing:DescribeRules", "elasticloadbalancing:DescribeTags",
				"elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:DescribeTargetHealth",
				"cloudwatch:DescribeAlarms", "cloudwatch:GetMetricData"}},
			statement{Sid: "MoveListenersAndRules", Effect: "Allow", Resource: orAll(s.Listeners, "*"), Action: []string{
				"elasticloadbalancing:ModifyListener", "elasticloadbalancing:ModifyRule", "elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"}},
			statement{Sid: "MoveAliasesAndInvokeHooks", Effect: "Allow", Resource: qualified, Action: []string{
				"lambda:GetAlias", "lambda:UpdateAlias", "lambda:GetFunction", "lambda:ListTags", "lambda:TagResource", "lambda:UntagResource", "lambda:InvokeFunction"}},
			statement{Sid: "RampAndSwitchFlags", Effect: "Allow", Resource: orAll(s.Parameters, "arn:aws:ssm:*:*:parameter/rollout/flags/*"), Action: []string{
				"ssm:GetParameter", "ssm:PutParameter", "ssm:ListTagsForResource", "ssm:AddTagsToResource", "ssm:RemoveTagsFromResource"}},
			statement{Sid: "PublishNotices", Effect: "Allow", Resource: orAll(s.Topics, "arn:aws:sns:*:*:*"), Action: []string{"sns:Publish"}},
			statement{Sid: "PutNoticeEvents", Effect: "Allow", Resource: orAll(s.Buses, "arn:aws:events:*:*:event-bus/*"), Action: []string{"events:PutEvents"}},
			statement{Sid: "WriteItsLogs", Effect: "Allow", Resource: fmt.Sprintf("arn:aws:logs:*:*:log-group:/aws/lambda/%s:*", s.Name), Action: []string{
				"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"}},
		),
		States: render(statement{Sid: "CallTheOrchestrator", Effect: "Allow", Action: []string{"lambda:InvokeFunction"},
			Resource: []string{FunctionARNPattern(s.Name), FunctionARNPattern(s.Name) + ":*"}}),
		FunctionTrust: trust("lambda.amazonaws.com"),
		StatesTrust:   trust("states.amazonaws.com"),
		Provider: render(
			statement{Sid: "ManageTheOrchestrator", Effect: "Allow", Resource: []string{FunctionARNPattern(s.Name), StateMachineARNPattern(s.Name)}, Action: []string{
				"lambda:CreateFunction", "lambda:GetFunction", "lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration", "lambda:DeleteFunction",
				"states:CreateStateMachine", "states:DescribeStateMachine", "states:UpdateStateMachine", "states:DeleteStateMachine", "states:StartExecution"}},
			statement{Sid: "FollowDetachedRollouts", Effect: "Allow", Resource: ExecutionARNPattern(s.Name), Action: []string{
				"states:DescribeExecution", "states:StopExecution"}},
			pass,
		),
	}
}
