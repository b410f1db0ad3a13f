package awsclient

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// OrchestratorSpec is what rollout_orchestrator makes: a function and the
// state machine that calls it.
type OrchestratorSpec struct {
	Name         string
	FunctionRole string
	StatesRole   string
	Architecture string // "arm64" or "x86_64"
	Timeout      time.Duration
	MemoryMB     int32
	// Code: a zip's bytes, or an S3 object.
	Zip                  []byte
	S3Bucket, S3Key, S3V string
	// Definition renders the state machine for the function's ARN.
	Definition func(functionARN string) string
}

// Orchestrator is what AWS holds of one.
type Orchestrator struct {
	FunctionARN, StateMachineARN string
	FunctionRole, StatesRole     string
	Architecture                 string
	Timeout                      time.Duration
	MemoryMB                     int32
	CodeSHA256                   string
	Definition                   string
}

// CodeSHA256 is Lambda's CodeSha256 of a zip (base64 of its SHA-256).
func CodeSHA256(zip []byte) string {
	h := sha256.Sum256(zip)
	return base64.StdEncoding.EncodeToString(h[:])
}

func (s OrchestratorSpec) code() *lambdatypes.FunctionCode {
	if len(s.Zip) > 0 {
		return &lambdatypes.FunctionCode{ZipFile: s.Zip}
	}
	c := &lambdatypes.FunctionCode{S3Bucket: aws.String(s.S3Bucket), S3Key: aws.String(s.S3Key)}
	if s.S3V != "" {
		c.S3ObjectVersion = aws.String(s.S3V)
	}
	return c
}

// CreateOrchestrator creates the function, then the state machine. When
// the state machine cannot be created, the function is deleted again:
// nothing is left half made.
func (c *Client) CreateOrchestrator(ctx context.Context, s OrchestratorSpec) (Orchestrator, error) {
	fn, err := c.Lambda.CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName: aws.String(s.Name), Role: aws.String(s.FunctionRole), Runtime: lambdatypes.RuntimeProvidedal2023,
		Handler: aws.String("bootstrap"), Architectures: []lambdatypes.Architecture{lambdatypes.Architecture(s.Architecture)},
		Timeout: aws.Int32(int32(s.Timeout / time.Second)), MemorySize: aws.Int32(s.MemoryMB), Code: s.code(),
		Description: aws.String("Orchestrator of detached rollouts (terraform-provider-rollout): one call per poll from its state machine."),
	})
	if err != nil {
		return Orchestrator{}, fmt.Errorf("creating the function %s: %w", s.Name, err)
	}
	fa := aws.ToString(fn.FunctionArn)
	if err := c.waitFunction(ctx, s.Name); err != nil {
		return Orchestrator{}, err
	}
	sm, err := c.States.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
		Name: aws.String(s.Name), Definition: aws.String(s.Definition(fa)), RoleArn: aws.String(s.StatesRole), Type: sfntypes.StateMachineTypeStandard,
	})
	if err != nil {
		_, derr := c.Lambda.DeleteFunction(context.WithoutCancel(ctx), &lambda.DeleteFunctionInput{FunctionName: aws.String(s.Name)})
		return Orchestrator{}, errors.Join(fmt.Errorf("creating the state machine %s: %w", s.Name, err), derr)
	}
	return c.ReadOrchestrator(ctx, s.Name, aws.ToString(sm.StateMachineArn))
}

// waitFunction waits until the function is ready for another change
// (Lambda refuses one while the last is in progress).
func (c *Client) waitFunction(ctx context.Context, name string) error {
	end := c.Clock.Now().Add(5 * time.Minute)
	for {
		out, err := c.Lambda.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(name)})
		if err != nil {
			return fmt.Errorf("reading the function %s: %w", name, err)
		}
		cfg := out.Configuration
		if cfg == nil || (cfg.State != lambdatypes.StatePending && cfg.LastUpdateStatus != lambdatypes.LastUpdateStatusInProgress) {
			if cfg != nil && (cfg.State == lambdatypes.StateFailed || cfg.LastUpdateStatus == lambdatypes.LastUpdateStatusFailed) {
				return fmt.Errorf("the function %s is %s: %s", name, cfg.State, aws.ToString(cfg.StateReason)+aws.ToString(cfg.LastUpdateStatusReason))
			}
			return nil
		}
		if c.Clock.Now().After(end) {
			return fmt.Errorf("the function %s was still being updated after 5 minutes", name)
		}
		if err := c.Clock.Sleep(ctx, time.Second); err != nil {
			return err
		}
	}
}

// ReadOrchestrator reads the function and the state machine, or
// ErrNotFound when either is gone.
func (c *Client) ReadOrchestrator(ctx context.Context, name, stateMachineARN string) (Orchestrator, error) {
	fn, err := c.Lambda.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(name)})
	if lambdaNotFound(err) {
		return Orchestrator{}, ErrNotFound
	}
	if err != nil {
		return Orchestrator{}, fmt.Errorf("reading the function %s: %w", name, err)
	}
	cfg := fn.Configuration
	o := Orchestrator{FunctionARN: aws.ToString(cfg.FunctionArn), FunctionRole: aws.ToString(cfg.Role), CodeSHA256: aws.ToString(cfg.CodeSha256),
		Timeout: time.Duration(aws.ToInt32(cfg.Timeout)) * time.Second, MemoryMB: aws.ToInt32(cfg.MemorySize), Architecture: "x86_64"}
	if len(cfg.Architectures) > 0 {
		o.Architecture = string(cfg.Architectures[0])
	}
	if stateMachineARN == "" {
		stateMachineARN = StateMachineARN(o.FunctionARN, name)
	}
	sm, err := c.States.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(stateMachineARN)})
	var nf *sfntypes.StateMachineDoesNotExist
	if errors.As(err, &nf) || errCode(err) == "StateMachineDoesNotExist" {
		return Orchestrator{}, ErrNotFound
	}
	if err != nil {
		return Orchestrator{}, fmt.Errorf("reading the state machine %s: %w", stateMachineARN, err)
	}
	o.StateMachineARN, o.StatesRole, o.Definition = aws.ToString(sm.StateMachineArn), aws.ToString(sm.RoleArn), aws.ToString(sm.Definition)
	return o, nil
}

// StateMachineARN is the ARN of the state machine name in the function's
// region and account.
func StateMachineARN(functionARN, name string) string {
	p := strings.Split(functionARN, ":")
	if len(p) < 5 {
		return ""
	}
	return fmt.Sprintf("arn:%s:states:%s:%s:stateMachine:%s", p[1], p[3], p[4], name)
}

// UpdateOrchestrator brings both to s, each call only when something of it
// changed.
func (c *Client) UpdateOrchestrator(ctx context.Context, had Orchestrator, s OrchestratorSpec, codeChanged bool) (Orchestrator, error) {
	if codeChanged || had.Architecture != s.Architecture {
		in := &lambda.UpdateFunctionCodeInput{FunctionName: aws.String(s.Name), Architectures: []lambdatypes.Architecture{lambdatypes.Architecture(s.Architecture)}}
		code := s.code()
		in.ZipFile, in.S3Bucket, in.S3Key, in.S3ObjectVersion = code.ZipFile, code.S3Bucket, code.S3Key, code.S3ObjectVersion
		if _, err := c.Lambda.UpdateFunctionCode(ctx, in); err != nil {
			return had, fmt.Errorf("updating the function's code: %w", err)
		}
		if err := c.waitFunction(ctx, s.Name); err != nil {
			return had, err
		}
	}
	if had.FunctionRole != s.FunctionRole || had.Timeout != s.Timeout || had.MemoryMB != s.MemoryMB {
		if _, err := c.Lambda.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String(s.Name),
			Role: aws.String(s.FunctionRole), Timeout: aws.Int32(int32(s.Timeout / time.Second)), MemorySize: aws.Int32(s.MemoryMB)}); err != nil {
			return had, fmt.Errorf("updating the function's configuration: %w", err)
		}
		if err := c.waitFunction(ctx, s.Name); err != nil {
			return had, err
		}
	}
	if def := s.Definition(had.FunctionARN); had.Definition != def || had.StatesRole != s.StatesRole {
		if _, err := c.States.UpdateStateMachine(ctx, &sfn.UpdateStateMachineInput{StateMachineArn: aws.String(had.StateMachineARN),
			Definition: aws.String(def), RoleArn: aws.String(s.StatesRole)}); err != nil {
			return had, fmt.Errorf("updating the state machine: %w", err)
		}
	}
	return c.ReadOrchestrator(ctx, s.Name, had.StateMachineARN)
}

// DeleteOrchestrator deletes the state machine, then the function.
func (c *Client) DeleteOrchestrator(ctx context.Context, name, stateMachineARN string) error {
	_, err := c.States.DeleteStateMachine(ctx, &sfn.DeleteStateMachineInput{StateMachineArn: aws.String(stateMachineARN)})
	if err != nil && errCode(err) != "StateMachineDoesNotExist" {
		return fmt.Errorf("deleting the state machine: %w", err)
	}
	_, err = c.Lambda.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String(name)})
	if err != nil && !lambdaNotFound(err) {
		return fmt.Errorf("deleting the function: %w", err)
	}
	return nil
}

// errCode is the AWS error code of err, or "".
func errCode(err error) string {
	var ae interface{ ErrorCode() string }
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}
