package awsclient

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/rolloutdev/terraform-provider-rollout/flag"
)

// ErrExists means a parameter that was to be created already exists.
var ErrExists = errors.New("already exists")

// FlagParameter is the SSM parameter name of a flag: prefix + key.
func FlagParameter(prefix, key string) string { return prefix + key }

// ReadFlag reads a flag document from SSM: its text as stored and the flag,
// or ErrNotFound.
func (c *Client) ReadFlag(ctx context.Context, name string) (string, *flag.Flag, error) {
	out, err := c.SSM.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name)})
	var nf *ssmtypes.ParameterNotFound
	if errors.As(err, &nf) {
		return "", nil, ErrNotFound
	}
	if err != nil {
		return "", nil, err
	}
	doc := aws.ToString(out.Parameter.Value)
	f, err := flag.Parse([]byte(doc))
	return doc, f, err
}

// WriteFlag writes a flag document to SSM and reads it back to confirm it.
// With create, an existing parameter is not overwritten (ErrExists).
func (c *Client) WriteFlag(ctx context.Context, name, doc, description string, create bool) error {
	in := &ssm.PutParameterInput{Name: aws.String(name), Value: aws.String(doc), Type: ssmtypes.ParameterTypeString, Overwrite: aws.Bool(!create)}
	if description != "" {
		in.Description = aws.String(description)
	}
	_, err := c.SSM.PutParameter(ctx, in)
	var exists *ssmtypes.ParameterAlreadyExists
	if errors.As(err, &exists) {
		return ErrExists
	}
	if err != nil {
		return err
	}
	got, _, err := c.ReadFlag(ctx, name)
	if err != nil {
		return &UnknownWeightsError{Ref: Ref{ListenerARN: name}, Err: fmt.Errorf("reading the flag back: %w", err)}
	}
	if got != doc {
		return fmt.Errorf("the flag %s reads back as %s, not as written: another writer changed it", name, got)
	}
	return nil
}

// DeleteFlag deletes a flag's parameter; one already gone is not an error.
func (c *Client) DeleteFlag(ctx context.Context, name string) error {
	_, err := c.SSM.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String(name)})
	var nf *ssmtypes.ParameterNotFound
	if errors.As(err, &nf) {
		return nil
	}
	return err
}
