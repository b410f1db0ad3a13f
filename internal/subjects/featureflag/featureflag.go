// Package featureflag is the subject of a rollout on a feature flag kept
// in Parameter Store: how its rollout_percentage is read and written as a
// split (Router), its gates (alarms and hooks: a flag has no targets or
// metrics of its own) and where its lease lives (Lease).
package featureflag

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/rolloutdev/terraform-provider-rollout/flag"
	"github.com/rolloutdev/terraform-provider-rollout/internal/awsclient"
	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

// Router reads and writes a flag's rollout_percentage as the split
// {on: P, off: 100 - P}. The rest of the document is the Reading's Rest:
// a kill switch or any other edit made during a ramp stops it. Parameter
// Store has no compare-and-swap, so a write checks the version it made is
// the one after the version read; another writer in between is a conflict.
type Router struct {
	Client *awsclient.Client
	Name   string
	// Tier is the parameter's tier ("" for AWS's default).
	Tier string
}

var (
	_ rollout.Router     = (*Router)(nil)
	_ rollout.Normalizer = (*Router)(nil)
	_ rollout.Reserver   = (*Router)(nil)
)

// Reserve waits for a write's turn in the API budget.
func (r *Router) Reserve(ctx context.Context) (context.Context, bool, error) {
	return r.Client.Reserve(ctx, awsclient.ClassSSM)
}

// Normalize is the split a flag serves for s: whole percents.
func (r *Router) Normalize(s weights.Split) weights.Split { return Split(PercentageOf(s)) }

// Reading is a Router's Reading.Base.
type Reading struct {
	Flag    *flag.Flag
	Version int64
}

// Split is a percentage as a split.
func Split(pct int) weights.Split {
	return weights.Split{{ARN: "on", Weight: pct}, {ARN: "off", Weight: 100 - pct}}
}

// Rest is what of a flag a ramp must find unchanged: the document without
// its percentage.
func Rest(f *flag.Flag) string {
	c := *f
	c.RolloutPercentage = 0
	b, _ := json.Marshal(&c)
	return string(b)
}

// Read reads the flag.
func (r *Router) Read(ctx context.Context) (rollout.Reading, error) {
	p, err := r.Client.ReadFlagParameter(ctx, r.Name)
	if err != nil {
		return rollout.Reading{}, err
	}
	return rollout.Reading{Split: Split(p.Flag.RolloutPercentage), Rest: Rest(p.Flag), Base: Reading{Flag: p.Flag, Version: p.Version}}, nil
}

// Write writes the read document with want's percentage.
func (r *Router) Write(ctx context.Context, base rollout.Reading, want weights.Split) error {
	b, ok := base.Base.(Reading)
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

// Observers are a flag's gate readers: alarms and hooks.
func Observers(c *awsclient.Client) rollout.Observers {
	return rollout.Observers{Alarms: awsclient.SharedAlarms{Client: c}, Hooks: awsclient.HookInvoker{Client: c}}
}

// Lease is where a flag's lease lives: its parameter's tags.
func Lease(c *awsclient.Client, name string) awsclient.LeaseStore {
	return awsclient.FlagLease(c, name)
}
