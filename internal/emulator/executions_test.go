package emulator

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// The front answers the executions of a held state machine from the API
// reference: a start with the same name and input while it runs is the
// same execution, any other start of the name is refused; Describe says
// how it stands (its output, error and cause once the test ends it);
// Stop aborts it; an unknown execution does not exist. The machine need
// not exist in kumo.
func TestHeldExecutions(t *testing.T) {
	e, err := Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	sm := "arn:aws:states:us-east-1:000000000000:stateMachine:held"
	e.HoldExecutions(sm, func() time.Time { return now })
	c := statesClient(e)
	ctx := context.Background()
	start := func(name, input string) (string, error) {
		out, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(sm), Name: aws.String(name), Input: aws.String(input)})
		if err != nil {
			return "", err
		}
		return aws.ToString(out.ExecutionArn), nil
	}
	arn, err := start("run-1", `{"a":1}`)
	if err != nil || arn != "arn:aws:states:us-east-1:000000000000:execution:held:run-1" {
		t.Fatalf("start: %q %v", arn, err)
	}
	if again, err := start("run-1", `{"a":1}`); err != nil || again != arn {
		t.Fatalf("the same start again is the same execution: %q %v", again, err)
	}
	var exists *sfntypes.ExecutionAlreadyExists
	if _, err := start("run-1", `{"a":2}`); !errors.As(err, &exists) {
		t.Fatalf("another input under a running name: %v, want ExecutionAlreadyExists", err)
	}
	if got := e.RunningExecutions(); len(got) != 1 || got[0] != arn {
		t.Fatalf("running: %v", got)
	}
	d, err := c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
	if err != nil || d.Status != sfntypes.ExecutionStatusRunning || aws.ToString(d.Input) != `{"a":1}` || !d.StartDate.Equal(now) {
		t.Fatalf("describe: %+v %v", d, err)
	}
	now = now.Add(time.Minute)
	e.SetExecution(arn, func(x *Execution) {
		x.Status, x.Error, x.Cause, x.Stop = "FAILED", "RolloutRolledBack", `{"errorMessage":"x"}`, now
	})
	d, err = c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
	if err != nil || d.Status != sfntypes.ExecutionStatusFailed || aws.ToString(d.Error) != "RolloutRolledBack" || aws.ToString(d.Cause) != `{"errorMessage":"x"}` || !d.StopDate.Equal(now) {
		t.Fatalf("describe after the end: %+v %v", d, err)
	}
	if _, err := start("run-1", `{"a":1}`); !errors.As(err, &exists) {
		t.Fatalf("a start of an ended execution's name: %v, want ExecutionAlreadyExists", err)
	}
	arn2, _ := start("run-2", `{}`)
	if _, err := c.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: aws.String(arn2), Error: aws.String("E"), Cause: aws.String("C")}); err != nil {
		t.Fatal(err)
	}
	if x := e.Executions(); len(x) != 2 || x[1].Status != "ABORTED" || x[1].Error != "E" || x[1].Cause != "C" {
		t.Fatalf("stopped: %+v", x)
	}
	var missing *sfntypes.ExecutionDoesNotExist
	if _, err := c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn + "-not")}); !errors.As(err, &missing) {
		t.Fatalf("an unknown execution: %v, want ExecutionDoesNotExist", err)
	}
}
