package awsclient

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/rolloutdev/terraform-provider-rollout/flag"
	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
)

// ErrExists means a parameter that was to be created already exists.
var ErrExists = errors.New("already exists")

// errConflict is rollout.ErrConflict: another writer between a read and a
// write.
var errConflict = rollout.ErrConflict

// FlagParameter is the SSM parameter name of a flag: prefix + key.
func FlagParameter(prefix, key string) string { return prefix + key }

// FlagParam is a flag's parameter as read: the document as stored, the
// flag, and the parameter's version.
type FlagParam struct {
	Doc     string
	Flag    *flag.Flag
	Version int64
	Tier    string
}

// ReadFlagParameter reads a flag's parameter, or ErrNotFound. A parameter
// that holds no flag document is an error.
func (c *Client) ReadFlagParameter(ctx context.Context, name string) (FlagParam, error) {
	out, err := c.SSM.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name)})
	var nf *ssmtypes.ParameterNotFound
	if errors.As(err, &nf) {
		return FlagParam{}, ErrNotFound
	}
	if err != nil {
		return FlagParam{}, err
	}
	p := FlagParam{Doc: aws.ToString(out.Parameter.Value), Version: out.Parameter.Version}
	p.Flag, err = flag.Parse([]byte(p.Doc))
	return p, err
}

// ReadFlag reads a flag document from SSM: its text as stored and the flag,
// or ErrNotFound.
func (c *Client) ReadFlag(ctx context.Context, name string) (string, *flag.Flag, error) {
	p, err := c.ReadFlagParameter(ctx, name)
	return p.Doc, p.Flag, err
}

// Parameter Store tiers and the size of a value each allows.
const (
	TierStandard     = "Standard"
	TierAdvanced     = "Advanced"
	StandardMaxBytes = 4096
	AdvancedMaxBytes = 8192
)

// CreateFlag creates a flag's parameter, tagged with its owner in the same
// request, and returns its version (1). An existing parameter is ErrExists;
// a write whose answer was lost is an *UnknownWeightsError: the caller
// tells its own parameter from another's by the owner tag.
func (c *Client) CreateFlag(ctx context.Context, name, doc, description, tier, owner string) (int64, error) {
	in := flagInput(name, doc, description, tier)
	in.Tags = []ssmtypes.Tag{{Key: aws.String(OwnerTag), Value: aws.String(owner)}}
	return c.putFlag(ctx, in)
}

// flagInput is the PutParameter request of a flag's document.
func flagInput(name, doc, description, tier string) *ssm.PutParameterInput {
	in := &ssm.PutParameterInput{Name: aws.String(name), Value: aws.String(doc), Type: ssmtypes.ParameterTypeString}
	if description != "" {
		in.Description = aws.String(description)
	}
	if tier != "" {
		in.Tier = ssmtypes.ParameterTier(tier)
	}
	return in
}

// putFlag makes one PutParameter request and sorts its outcome: the
// version made, ErrExists, refused (nothing changed), or unknown.
func (c *Client) putFlag(ctx context.Context, in *ssm.PutParameterInput, opts ...func(*ssm.Options)) (int64, error) {
	out, err := c.SSM.PutParameter(ctx, in, opts...)
	var exists *ssmtypes.ParameterAlreadyExists
	switch {
	case errors.As(err, &exists):
		return 0, ErrExists
	case err != nil && Refused(err):
		return 0, err
	case err != nil:
		return 0, &UnknownWeightsError{Ref: Ref{ListenerARN: aws.ToString(in.Name)}, Err: err}
	}
	return out.Version, nil
}

// PutFlagOver writes doc over version base of a flag's parameter and
// returns the version it made (base + 1). Parameter Store has no
// compare-and-swap, so versions tell the writers apart: the SDK's own
// retries are off for this call (a retried write whose answer was lost
// would make a version of its own and pass for another writer), and it
// tries up to three times itself, reading after each failure whose outcome
// is unknown. The write landed when the parameter holds doc at base + 1;
// nothing landed while it is still at base; any other version is another
// writer (rollout.ErrConflict, wrapped). A refused write changed nothing;
// one whose outcome cannot be read is an *UnknownWeightsError.
func (c *Client) PutFlagOver(ctx context.Context, name, doc, description, tier string, base int64) (int64, error) {
	in := flagInput(name, doc, description, tier)
	in.Overwrite = aws.Bool(true)
	var last error
	for try := 1; try <= 3; try++ {
		out, err := c.SSM.PutParameter(ctx, in, func(o *ssm.Options) { o.RetryMaxAttempts = 1 })
		if err == nil {
			if out.Version != base+1 {
				return out.Version, fmt.Errorf("the write made version %d of %s, but version %d was read: %w", out.Version, name, base, errConflict)
			}
			return out.Version, nil
		}
		if Refused(err) {
			return 0, err
		}
		last = err
		p, rerr := c.ReadFlagParameter(ctx, name)
		switch {
		case rerr != nil:
			return 0, &UnknownWeightsError{Ref: Ref{ListenerARN: name}, Err: fmt.Errorf("%w; reading it after: %w", err, rerr)}
		case p.Version == base+1 && p.Doc == doc:
			return p.Version, nil // it landed; only the answer was lost
		case p.Version != base:
			return p.Version, fmt.Errorf("version %d of %s is there after a write over version %d whose answer was lost: %w", p.Version, name, base, errConflict)
		}
		if ctx.Err() != nil {
			break
		}
	}
	return 0, &UnknownWeightsError{Ref: Ref{ListenerARN: name}, Err: last}
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
