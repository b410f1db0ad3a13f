package awsclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/rolloutdev/terraform-provider-rollout/internal/clock"
	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
)

// SubjectRef names a subject of the traffic pipeline in a form that another
// process can carry: the orchestrator of a detached rollout is given one in
// its job, and builds from it the same router, observers and lease as the
// provider. Exactly one of Listener, Alias and Flag is set.
type SubjectRef struct {
	Listener   *Ref        `json:"listener,omitempty"`
	Stickiness *Stickiness `json:"stickiness,omitempty"`
	Alias      *AliasRef   `json:"alias,omitempty"`
	Flag       *FlagRef    `json:"flag,omitempty"`
}

// FlagRef is a flag's parameter and the tier it is written with ("" for
// AWS's default).
type FlagRef struct {
	Name string `json:"name"`
	Tier string `json:"tier,omitempty"`
}

// Kind is "listener", "rule", "alias" or "flag".
func (s SubjectRef) Kind() string {
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
func (s SubjectRef) ID() string {
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
func (s SubjectRef) Check() error {
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

// RouterOf is how the subject is read and written.
func (c *Client) RouterOf(s SubjectRef) rollout.Router {
	switch {
	case s.Listener != nil:
		st := Stickiness{}
		if s.Stickiness != nil {
			st = *s.Stickiness
		}
		return &ListenerRouter{Client: c, Ref: *s.Listener, Stickiness: st}
	case s.Alias != nil:
		return &AliasRouter{Client: c, Ref: *s.Alias}
	case s.Flag != nil:
		return &FlagRouter{Client: c, Name: s.Flag.Name, Tier: s.Flag.Tier}
	}
	return nil
}

// NewRunner is the engine of a rollout of s under settings, the same for
// both drivers (the apply's and the orchestrator's): the subject's router
// and gate readers, the settings, and clk. Each driver adds what is its
// own: the deadline, the log, hooks, notices, the lease and how flags are
// switched off (SwitchOff).
func (c *Client) NewRunner(s SubjectRef, settings rollout.Settings, clk clock.Clock) (*rollout.Runner, error) {
	obs, err := c.ObserversOf(s)
	if err != nil {
		return nil, err
	}
	return &rollout.Runner{Router: c.RouterOf(s), Observe: obs, Clock: clk, Settings: settings, SubjectID: s.ID(), SubjectKind: s.Kind()}, nil
}

// SwitchOff switches flags off for a feature_flag rollback, with the
// reason why() gives at that moment: a Runner's SwitchOff.
func (c *Client) SwitchOff(flags []string, why func() string) func(ctx context.Context) (string, error) {
	return func(ctx context.Context) (string, error) { return c.SwitchFlagsOff(ctx, flags, why()) }
}

// ObserversOf are the gate readers the subject has: a listener's or rule's
// target groups, an alias's versions, a flag's alarms and hooks only.
func (c *Client) ObserversOf(s SubjectRef) (rollout.Observers, error) {
	switch {
	case s.Listener != nil:
		g, err := NewListenerGates(c, *s.Listener)
		if err != nil {
			return rollout.Observers{}, err
		}
		return g.Observers(), nil
	case s.Alias != nil:
		name := s.Alias.Function
		if i := strings.Index(name, "function:"); i >= 0 {
			name = name[i+len("function:"):]
		}
		g := &AliasGates{Client: c, Ref: *s.Alias, FunctionName: name}
		return g.Observers(), nil
	case s.Flag != nil:
		return AlarmAndHookObservers(c), nil
	}
	return rollout.Observers{}, s.Check()
}

// LeaseOf is where the subject's lease is kept.
func (c *Client) LeaseOf(s SubjectRef) LeaseStore {
	switch {
	case s.Listener != nil:
		return ListenerLease(c, *s.Listener)
	case s.Alias != nil:
		return AliasLease(c, *s.Alias)
	case s.Flag != nil:
		return FlagLease(c, s.Flag.Name)
	}
	return nil
}

// DefaultFlagPrefix is where flags named by key live in Parameter Store.
const DefaultFlagPrefix = "/rollout/flags/"

// MaxKillSwitchReason is the longest kill_switch_reason a flag holds.
const MaxKillSwitchReason = 256

// FlagName is the parameter of a flag named in rollout.flags: a key under
// DefaultFlagPrefix, or a parameter name.
func FlagName(k string) string {
	if strings.HasPrefix(k, "/") {
		return k
	}
	return FlagParameter(DefaultFlagPrefix, k)
}

// SwitchFlagsOff turns the kill switch of each flag on, for the
// feature_flag rollback; keys are under DefaultFlagPrefix unless given as
// parameter names. Each write must follow the version it read: another
// writer in between means reading again (a kill switch someone else turned
// on counts). A flag whose tier is not known is written as
// Intelligent-Tiering, which keeps an Advanced parameter Advanced. It
// returns the keys switched off (or found off).
func (c *Client) SwitchFlagsOff(ctx context.Context, flags []string, reason string) (string, error) {
	reason = rollout.Bound(reason)
	if len(reason) > MaxKillSwitchReason {
		reason = reason[:MaxKillSwitchReason]
	}
	var done []string
	for _, k := range flags {
		name, key := FlagName(k), k
		for try := 1; ; try++ {
			p, err := c.ReadFlagParameter(ctx, name)
			if err != nil {
				return strings.Join(done, ", "), fmt.Errorf("reading the flag %s: %w", name, err)
			}
			key = p.Flag.Key
			if p.Flag.KillSwitch {
				break
			}
			f := *p.Flag
			f.KillSwitch, f.KillSwitchReason = true, reason
			doc, err := json.Marshal(&f)
			if err != nil {
				return strings.Join(done, ", "), err
			}
			_, err = c.PutFlagOver(ctx, name, string(doc), f.Description, "Intelligent-Tiering", p.Version)
			if errors.Is(err, rollout.ErrConflict) && try < 3 {
				continue // another writer: read again
			}
			if err != nil {
				return strings.Join(done, ", "), fmt.Errorf("switching the flag %s off: %w", name, err)
			}
			break
		}
		done = append(done, key)
	}
	return strings.Join(done, ", "), nil
}
