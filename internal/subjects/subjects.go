// Package subjects is the one place that picks a subject's parts. A
// subject is anything a rollout moves: a listener or rule
// (subjects/listener), a Lambda alias (subjects/alias) or a feature flag
// (subjects/featureflag). Each folder says only how its subject is read and
// written (a rollout.Router), which gates read it (rollout.Observers) and
// where its lease lives; the pipeline and the engine (internal/rollout)
// own every promise, the same for all. A new subject is a new folder and a
// case in each switch below.
package subjects

import (
	"encoding/json"
	"fmt"

	"github.com/rolloutdev/terraform-provider-rollout/internal/awsclient"
	"github.com/rolloutdev/terraform-provider-rollout/internal/clock"
	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
	"github.com/rolloutdev/terraform-provider-rollout/internal/subjects/alias"
	"github.com/rolloutdev/terraform-provider-rollout/internal/subjects/featureflag"
	"github.com/rolloutdev/terraform-provider-rollout/internal/subjects/listener"
)

// Ref names a subject in a form that another process can carry: the
// orchestrator of a detached rollout is given one in its job, and builds
// from it the same router, observers and lease as the provider. Exactly
// one of Listener, Alias and Flag is set.
type Ref struct {
	Listener   *awsclient.Ref        `json:"listener,omitempty"`
	Stickiness *awsclient.Stickiness `json:"stickiness,omitempty"`
	Alias      *awsclient.AliasRef   `json:"alias,omitempty"`
	Flag       *FlagRef              `json:"flag,omitempty"`
}

// FlagRef is a flag's parameter and the tier it is written with ("" for
// AWS's default).
type FlagRef struct {
	Name string `json:"name"`
	Tier string `json:"tier,omitempty"`
}

// Kind is "listener", "rule", "alias" or "flag".
func (s Ref) Kind() string {
	switch {
	case s.Listener != nil:
		return s.Listener.Kind()
	case s.Alias != nil:
		return "alias"
	case s.Flag != nil:
		return "flag"
	}
	return ""
}

// ID is the subject's ARN, FUNCTION:ALIAS or parameter name.
func (s Ref) ID() string {
	switch {
	case s.Listener != nil:
		return s.Listener.ID()
	case s.Alias != nil:
		return s.Alias.ID()
	case s.Flag != nil:
		return s.Flag.Name
	}
	return ""
}

// Check reports a reference that names no subject or more than one.
func (s Ref) Check() error {
	n := 0
	for _, set := range []bool{s.Listener != nil, s.Alias != nil, s.Flag != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		b, _ := json.Marshal(s)
		return fmt.Errorf("a subject must be exactly one of a listener or rule, an alias and a flag: %s", b)
	}
	return nil
}

// Router is how the subject is read and written.
func Router(c *awsclient.Client, s Ref) rollout.Router {
	switch {
	case s.Listener != nil:
		st := awsclient.Stickiness{}
		if s.Stickiness != nil {
			st = *s.Stickiness
		}
		return &listener.Router{Client: c, Ref: *s.Listener, Stickiness: st}
	case s.Alias != nil:
		return &alias.Router{Client: c, Ref: *s.Alias}
	case s.Flag != nil:
		return &featureflag.Router{Client: c, Name: s.Flag.Name, Tier: s.Flag.Tier}
	}
	return nil
}

// Observers are the gate readers the subject has: a listener's or rule's
// target groups, an alias's versions, a flag's alarms and hooks only.
func Observers(c *awsclient.Client, s Ref) (rollout.Observers, error) {
	switch {
	case s.Listener != nil:
		g, err := listener.NewGates(c, *s.Listener)
		if err != nil {
			return rollout.Observers{}, err
		}
		return g.Observers(), nil
	case s.Alias != nil:
		return alias.NewGates(c, *s.Alias).Observers(), nil
	case s.Flag != nil:
		return featureflag.Observers(c), nil
	}
	return rollout.Observers{}, s.Check()
}

// Lease is where the subject's lease is kept.
func Lease(c *awsclient.Client, s Ref) awsclient.LeaseStore {
	switch {
	case s.Listener != nil:
		return listener.Lease(c, *s.Listener)
	case s.Alias != nil:
		return alias.Lease(c, *s.Alias)
	case s.Flag != nil:
		return featureflag.Lease(c, s.Flag.Name)
	}
	return nil
}

// NewRunner is the engine of a rollout of s under settings, the same for
// both drivers (the apply's and the orchestrator's): the subject's router
// and gate readers, the settings, and clk. Each driver adds what is its
// own: the deadline, the log, hooks, notices, the lease and how flags are
// switched off (awsclient.Client.SwitchOff).
func NewRunner(c *awsclient.Client, s Ref, settings rollout.Settings, clk clock.Clock) (*rollout.Runner, error) {
	obs, err := Observers(c, s)
	if err != nil {
		return nil, err
	}
	return &rollout.Runner{Router: Router(c, s), Observe: obs, Clock: clk, Settings: settings, SubjectID: s.ID(), SubjectKind: s.Kind()}, nil
}
