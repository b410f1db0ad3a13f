package awsclient

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"

	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

// AliasRef names a Lambda alias: the function (name or ARN) and the alias.
type AliasRef struct {
	Function string `json:"function"`
	Alias    string `json:"alias"`
}

// ID is "FUNCTION:ALIAS", the import id.
func (a AliasRef) ID() string { return a.Function + ":" + a.Alias }

// Alias is what an alias serves: its version and at most one additional
// version with a weight from 0 to 1.
type Alias struct {
	ARN         string
	Version     string
	Description string
	Additional  map[string]float64
}

// AliasScale is the weight scale of an alias as a split: a weight w of the
// additional version is round(w * 1000) of 1000, so shares are kept to
// 0.1 %, as the split's schedules write them.
const AliasScale = 1000

// Split is the alias as a split over versions (the ARN field holds the
// version): the primary version has the rest of AliasScale.
func (a Alias) Split() weights.Split {
	rest := AliasScale
	var out weights.Split
	for v, w := range a.Additional {
		n := int(math.Round(w * AliasScale))
		if n <= 0 {
			continue
		}
		out = append(out, weights.Target{ARN: v, Weight: n})
		rest -= n
	}
	if len(out) == 0 {
		return weights.Split{{ARN: a.Version, Weight: 1}}
	}
	return append(weights.Split{{ARN: a.Version, Weight: rest}}, out...)
}

// AliasOf is the alias that serves s: its primary version is primary when
// it serves part of s (so a rollout keeps the version it started from as
// primary until the last step), else the version with the most weight.
func AliasOf(s weights.Split, primary string) (version string, additional map[string]float64, err error) {
	var serving weights.Split
	for _, t := range s {
		if t.Weight > 0 {
			serving = append(serving, t)
		}
	}
	switch len(serving) {
	case 1:
		return serving[0].ARN, map[string]float64{}, nil
	case 2:
	default:
		return "", nil, fmt.Errorf("an alias serves one version, or two with routing; %s has %d", s.Short(), len(serving))
	}
	p, o := serving[0], serving[1]
	if o.ARN == primary || (p.ARN != primary && o.Weight > p.Weight) {
		p, o = o, p
	}
	total := p.Weight + o.Weight
	return p.ARN, map[string]float64{o.ARN: math.Round(float64(o.Weight)*1000/float64(total)) / 1000}, nil
}

// ReadAlias reads an alias, or ErrNotFound.
func (c *Client) ReadAlias(ctx context.Context, ref AliasRef) (Alias, error) {
	out, err := c.Lambda.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: aws.String(ref.Function), Name: aws.String(ref.Alias)})
	if lambdaNotFound(err) {
		return Alias{}, ErrNotFound
	}
	if err != nil {
		return Alias{}, err
	}
	a := Alias{ARN: aws.ToString(out.AliasArn), Version: aws.ToString(out.FunctionVersion), Description: aws.ToString(out.Description), Additional: map[string]float64{}}
	if out.RoutingConfig != nil {
		for v, w := range out.RoutingConfig.AdditionalVersionWeights {
			a.Additional[v] = w
		}
	}
	return a, nil
}

// CreateAlias creates an alias serving version alone.
func (c *Client) CreateAlias(ctx context.Context, ref AliasRef, version, description string) (Alias, error) {
	in := &lambda.CreateAliasInput{FunctionName: aws.String(ref.Function), Name: aws.String(ref.Alias), FunctionVersion: aws.String(version)}
	if description != "" {
		in.Description = aws.String(description)
	}
	out, err := c.Lambda.CreateAlias(ctx, in)
	if err != nil {
		return Alias{}, err
	}
	return Alias{ARN: aws.ToString(out.AliasArn), Version: version, Description: description, Additional: map[string]float64{}}, nil
}

// SetAliasDescription changes only the alias's description.
func (c *Client) SetAliasDescription(ctx context.Context, ref AliasRef, description string) error {
	_, err := c.Lambda.UpdateAlias(ctx, &lambda.UpdateAliasInput{FunctionName: aws.String(ref.Function), Name: aws.String(ref.Alias), Description: aws.String(description)})
	return err
}

// DeleteAlias deletes an alias; one already gone is not an error.
func (c *Client) DeleteAlias(ctx context.Context, ref AliasRef) error {
	_, err := c.Lambda.DeleteAlias(ctx, &lambda.DeleteAliasInput{FunctionName: aws.String(ref.Function), Name: aws.String(ref.Alias)})
	if lambdaNotFound(err) {
		return nil
	}
	return err
}

// LostAnswer reports an error after which a request may have taken effect:
// a throttle, a server error, a reset or lost connection, a timeout.
func LostAnswer(err error) bool { return err != nil && !Refused(err) && !LambdaRefused(err) }

// AlreadyExists reports a Lambda ResourceConflictException (an alias that
// exists).
func AlreadyExists(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "ResourceConflictException"
}

func lambdaNotFound(err error) bool {
	var nf *lambdatypes.ResourceNotFoundException
	if errors.As(err, &nf) {
		return true
	}
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "ResourceNotFoundException"
}

// LambdaRefused reports whether Lambda answered with an error of the
// caller's: nothing changed.
func LambdaRefused(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.ErrorCode() {
	case "InvalidParameterValueException", "ResourceNotFoundException", "ResourceConflictException", "AccessDeniedException":
		return true
	}
	return false
}
