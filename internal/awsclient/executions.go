package awsclient

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// Execution is what Step Functions says of a detached rollout's execution.
type Execution struct {
	ARN    string
	Status string // RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED
	Input  string
	Output string
	Error  string
	Cause  string
}

// ExecutionARN is the ARN of the execution name of a state machine.
func ExecutionARN(stateMachineARN, name string) string {
	return strings.Replace(stateMachineARN, ":stateMachine:", ":execution:", 1) + ":" + name
}

// StartExecution starts the execution name with input. A repeat with the
// same name and input is the same execution: AWS answers it with the
// execution, kumo with ExecutionAlreadyExists, and both are taken as the
// execution already started. The same name with another input is an
// error.
func (c *Client) StartExecution(ctx context.Context, stateMachineARN, name, input string) (string, error) {
	out, err := c.States.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(stateMachineARN), Name: aws.String(name), Input: aws.String(input)})
	if err == nil {
		return aws.ToString(out.ExecutionArn), nil
	}
	var exists *sfntypes.ExecutionAlreadyExists
	if !errors.As(err, &exists) && errCode(err) != "ExecutionAlreadyExists" {
		return "", err
	}
	arn := ExecutionARN(stateMachineARN, name)
	x, derr := c.DescribeExecution(ctx, arn)
	if derr != nil {
		return "", errors.Join(err, derr)
	}
	if x.Input != input {
		return "", fmt.Errorf("an execution named %s exists with another input: %w", name, err)
	}
	return arn, nil
}

// DescribeExecution reads an execution, or ErrNotFound.
func (c *Client) DescribeExecution(ctx context.Context, arn string) (Execution, error) {
	out, err := c.States.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
	var nf *sfntypes.ExecutionDoesNotExist
	if errors.As(err, &nf) || errCode(err) == "ExecutionDoesNotExist" {
		return Execution{}, ErrNotFound
	}
	if err != nil {
		return Execution{}, err
	}
	return Execution{ARN: arn, Status: string(out.Status), Input: aws.ToString(out.Input), Output: aws.ToString(out.Output),
		Error: aws.ToString(out.Error), Cause: aws.ToString(out.Cause)}, nil
}

// StopExecution stops an execution (its Catch does not run: the subject is
// left where it is).
func (c *Client) StopExecution(ctx context.Context, arn, cause string) error {
	_, err := c.States.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: aws.String(arn), Error: aws.String("StoppedByTerraform"), Cause: aws.String(cause)})
	if errCode(err) == "ExecutionDoesNotExist" {
		return nil
	}
	return err
}
