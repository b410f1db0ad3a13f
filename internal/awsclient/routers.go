package awsclient

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/rolloutdev/terraform-provider-rollout/flag"
	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

// The routers: how each kind of subject is read and written, and nothing
// more. The rollout's one write path (rollout.Runner.move) checks before
// each write that the subject serves what the last step left, reads every
// write back, and handles unknown outcomes; a router only says whether AWS
// refused a write (nothing changed) or its outcome is unknown.

// ListenerRouter reads and writes the forward action of a listener or rule.
// A write is built from the actions of the reading it starts from, so an
// action another writer owns (an authenticate action) is kept as read.
type ListenerRouter struct {
	Client     *Client
	Ref        Ref
	Stickiness Stickiness
}

var (
	_ rollout.Router   = (*ListenerRouter)(nil)
	_ rollout.Reserver = (*ListenerRouter)(nil)
	_ rollout.Matcher  = (*ListenerRouter)(nil)
)

// Matches reports whether rd's forward action is want with the router's
// stickiness: a write of stickiness alone is a write too.
func (l *ListenerRouter) Matches(rd rollout.Reading, want weights.Split) bool {
	acts, _ := rd.Base.(Actions)
	f, ok := acts.Forward()
	return ok && f.Matches(Forward{Split: want, Stickiness: l.Stickiness})
}

// Reserve waits for a write's turn in the API budget.
func (l *ListenerRouter) Reserve(ctx context.Context) (context.Context, bool, error) {
	return l.Client.reserve(ctx, ClassELBModify)
}

// Read reads the actions and their forward split.
func (l *ListenerRouter) Read(ctx context.Context) (rollout.Reading, error) {
	acts, err := l.Client.ReadActions(ctx, l.Ref)
	if err != nil {
		return rollout.Reading{}, err
	}
	f, _ := acts.Forward()
	return rollout.Reading{Split: f.Split, Base: acts}, nil
}

// Write replaces the terminal action of the read actions with a forward
// to want.
func (l *ListenerRouter) Write(ctx context.Context, base rollout.Reading, want weights.Split) error {
	acts, _ := base.Base.(Actions)
	err := l.Client.WriteActions(ctx, l.Ref, acts.WithForward(Forward{Split: want, Stickiness: l.Stickiness}))
	if err == nil || refused(err) {
		return err
	}
	return &UnknownWeightsError{Ref: l.Ref, Err: err}
}

// AliasRouter reads and writes a Lambda alias's routing as a split over
// versions (AliasOf): the version a change started from stays primary until
// the last step.
type AliasRouter struct {
	Client *Client
	Ref    AliasRef
}

var (
	_ rollout.Router   = (*AliasRouter)(nil)
	_ rollout.Reserver = (*AliasRouter)(nil)
)

// Reserve waits for a write's turn in the API budget.
func (a *AliasRouter) Reserve(ctx context.Context) (context.Context, bool, error) {
	return a.Client.reserve(ctx, ClassLambda)
}

// Read reads the alias.
func (a *AliasRouter) Read(ctx context.Context) (rollout.Reading, error) {
	al, err := a.Client.ReadAlias(ctx, a.Ref)
	if err != nil {
		return rollout.Reading{}, err
	}
	return rollout.Reading{Split: al.Split(), Base: al}, nil
}

// Write sets the alias's version and routing.
func (a *AliasRouter) Write(ctx context.Context, base rollout.Reading, want weights.Split) error {
	primary := ""
	if al, ok := base.Base.(Alias); ok {
		primary = al.Version
	}
	version, additional, err := AliasOf(want, primary)
	if err != nil {
		return err
	}
	_, err = a.Client.Lambda.UpdateAlias(ctx, &lambda.UpdateAliasInput{
		FunctionName: aws.String(a.Ref.Function), Name: aws.String(a.Ref.Alias), FunctionVersion: aws.String(version),
		RoutingConfig: &lambdatypes.AliasRoutingConfiguration{AdditionalVersionWeights: additional},
	})
	if err == nil || refused(err) || lambdaRefused(err) {
		return err
	}
	return &UnknownWeightsError{Ref: Ref{ListenerARN: a.Ref.ID()}, Err: err}
}

// FlagRouter reads and writes a flag's rollout_percentage as the split
// {on: P, off: 100 - P}. The rest of the document is the Reading's Rest:
// a kill switch or any other edit made during a ramp stops it. Parameter
// Store has no compare-and-swap, so a write checks the version it made is
// the one after the version read; another writer in between is a conflict.
type FlagRouter struct {
	Client *Client
	Name   string
	// Tier is the parameter's tier ("" for AWS's default).
	Tier string
}

var (
	_ rollout.Router     = (*FlagRouter)(nil)
	_ rollout.Normalizer = (*FlagRouter)(nil)
	_ rollout.Reserver   = (*FlagRouter)(nil)
)

// Reserve waits for a write's turn in the API budget.
func (r *FlagRouter) Reserve(ctx context.Context) (context.Context, bool, error) {
	return r.Client.reserve(ctx, ClassSSM)
}

// Normalize is the split a flag serves for s: whole percents.
func (r *FlagRouter) Normalize(s weights.Split) weights.Split { return FlagSplit(PercentageOf(s)) }

// FlagReading is a FlagRouter's Reading.Base.
type FlagReading struct {
	Flag    *flag.Flag
	Version int64
}

// FlagSplit is a percentage as a split.
func FlagSplit(pct int) weights.Split {
	return weights.Split{{ARN: "on", Weight: pct}, {ARN: "off", Weight: 100 - pct}}
}

// FlagRest is what of a flag a ramp must find unchanged: the document
// without its percentage.
func FlagRest(f *flag.Flag) string {
	c := *f
	c.RolloutPercentage = 0
	b, _ := json.Marshal(&c)
	return string(b)
}

// Read reads the flag.
func (r *FlagRouter) Read(ctx context.Context) (rollout.Reading, error) {
	p, err := r.Client.ReadFlagParameter(ctx, r.Name)
	if err != nil {
		return rollout.Reading{}, err
	}
	return rollout.Reading{Split: FlagSplit(p.Flag.RolloutPercentage), Rest: FlagRest(p.Flag), Base: FlagReading{Flag: p.Flag, Version: p.Version}}, nil
}

// Write writes the read document with want's percentage.
func (r *FlagRouter) Write(ctx context.Context, base rollout.Reading, want weights.Split) error {
	b, ok := base.Base.(FlagReading)
	if !ok || b.Flag == nil {
		return errors.New("no reading of the flag to write from")
	}
	f := *b.Flag
	f.RolloutPercentage = PercentageOf(want)
	doc, err := json.Marshal(&f)
	if err != nil {
		return err
	}
	_, err = r.Client.PutFlagOver(ctx, r.Name, string(doc), f.Description, r.Tier, b.Version)
	return err
}

// PercentageOf is a split's share "on", rounded to a whole percent.
func PercentageOf(s weights.Split) int {
	m := s.Map()
	total := m["on"] + m["off"]
	if total == 0 {
		return 0
	}
	return (m["on"]*200 + total) / (2 * total)
}
