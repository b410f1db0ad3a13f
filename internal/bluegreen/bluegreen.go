// Package bluegreen decides what a blue/green deployment does on an apply:
// which color goes live, which target group may be replaced, and what must
// wait for another apply. It has no AWS or Terraform imports.
package bluegreen

import (
	"fmt"
	"strings"
	"time"

	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

// Color is blue or green.
type Color string

// Colors.
const (
	Blue  Color = "blue"
	Green Color = "green"
)

// Other returns the other color.
func (c Color) Other() Color {
	if c == Blue {
		return Green
	}
	return Blue
}

// Colors lists both, blue first.
var Colors = []Color{Blue, Green}

// Settings are the target group settings AWS cannot change in place.
type Settings struct {
	Port       int
	Protocol   string
	VPC        string
	TargetType string
}

// Fingerprint is the settings as one string, kept in state per color.
func (s Settings) Fingerprint() string {
	return fmt.Sprintf("%s:%d:%s:%s", s.Protocol, s.Port, s.VPC, s.TargetType)
}

// Missing is the fingerprint of a target group that no longer exists.
const Missing = "missing"

// State is what the deployment has now.
type State struct {
	Active Color
	// Weights per color, as the listener serves them.
	Weights map[Color]int
	// Fingerprints of each color's target group.
	Fingerprints map[Color]string
}

// Decision is what an apply will do.
type Decision struct {
	// Flip is true when traffic moves to another color.
	Flip bool
	// Replace is the idle color whose target group is replaced (before any
	// traffic moves), or "".
	Replace Color
	// Later names a color whose target group is out of date but carries
	// traffic (or just did): it is replaced by a later apply, once idle.
	Later Color
	// Refused says why the change cannot be applied as asked; the plan
	// fails with it.
	Refused string
}

// Decide returns what an apply from st to the wanted active color and
// settings does.
func Decide(st State, active Color, want Settings) Decision {
	fp := want.Fingerprint()
	outdated := func(c Color) bool { return st.Fingerprints[c] != fp }
	d := Decision{Flip: active != st.Active}
	idle := st.Active.Other()
	switch {
	case d.Flip && outdated(active):
		what := "its settings changed"
		if st.Fingerprints[active] == Missing {
			what = "it no longer exists"
		}
		d.Refused = fmt.Sprintf("%s's target group must be replaced (%s) before it can take traffic, and a new target group has no registered targets yet. "+
			"Apply in two steps: first keep active = %q, so the idle %s target group is replaced without traffic, and register its targets; then set active = %q and apply again",
			active, what, st.Active, active, active)
	case outdated(idle) && st.Weights[idle] > 0:
		d.Refused = fmt.Sprintf("%s's target group must be replaced but still serves traffic (weight %d): the last rollout stopped part way. Apply with active = %q first so it carries none", idle, st.Weights[idle], st.Active)
	case !d.Flip && outdated(idle):
		d.Replace = idle
	}
	switch {
	case d.Flip && outdated(st.Active):
		d.Later = st.Active // keep it for an instant rollback until the next apply
	case !d.Flip && outdated(st.Active):
		d.Later = st.Active
	}
	return d
}

// LaterAdvice says how a live target group with old settings gets the new
// ones.
func LaterAdvice(c Color) string {
	return fmt.Sprintf("The %s target group keeps its old port, protocol, VPC or target type while it is live or was live until this apply (it is kept for an instant rollback). "+
		"Flip active to %q, then apply again: once %s is idle it is replaced", c, c.Other(), c)
}

// Name is a target group name: PREFIX-COLOR-SUFFIX, at most 32 characters.
func Name(prefix string, c Color, suffix string) string {
	return fmt.Sprintf("%s-%s-%s", prefix, c, suffix)
}

// PrefixOf returns the name prefix of a target group name made by Name, or
// the name itself.
func PrefixOf(name string) string {
	for _, c := range Colors {
		if i := strings.LastIndex(name, "-"+string(c)+"-"); i > 0 {
			return name[:i]
		}
	}
	return name
}

// ColorOfName returns the color a target group name says, or "".
func ColorOfName(name string) Color {
	for _, c := range Colors {
		if strings.Contains(name, "-"+string(c)+"-") {
			return c
		}
	}
	return ""
}

// MaxPrefix is the longest name prefix: 32 characters for the name, less
// "-green-" and a 4-character suffix.
const MaxPrefix = 32 - len("-green-") - 4

// Flip is one entry of the history.
type Flip struct {
	From, To          Color
	Status            string
	Started, Finished time.Time
}

// MaxHistory is how many flips are kept.
const MaxHistory = 10

// Record appends a flip, keeping the last MaxHistory.
func Record(h []Flip, f Flip) []Flip {
	h = append(append([]Flip(nil), h...), f)
	if len(h) > MaxHistory {
		h = h[len(h)-MaxHistory:]
	}
	return h
}

// LiveOf returns the color with the larger weight; prior on a tie.
func LiveOf(w map[Color]int, prior Color) Color {
	switch {
	case w[Blue] > w[Green]:
		return Blue
	case w[Green] > w[Blue]:
		return Green
	}
	return prior
}

// NeedsRelease reports whether destroy must point a listener away before
// deleting the owned target groups: it forwards to one of them. A listener
// that does not forward at all is released too (its forward was this
// resource's to restore).
func NeedsRelease(live weights.Split, forwards bool, owned map[string]bool) bool {
	if !forwards {
		return true
	}
	for _, t := range live {
		if owned[t.ARN] {
			return true
		}
	}
	return false
}

// CanRestore reports whether the action recorded at create can be put back
// on destroy: it was recorded (valid), and if it forwards, to target groups
// that are not this resource's and still exist (exists; nil when nothing
// was checked). Otherwise destroy answers 503, so nothing ever forwards to
// a deleted target group.
func CanRestore(valid bool, recorded weights.Split, forwards bool, owned map[string]bool, exists map[string]bool) bool {
	if !valid {
		return false
	}
	if !forwards {
		return true
	}
	for _, t := range recorded {
		if owned[t.ARN] || !exists[t.ARN] {
			return false
		}
	}
	return true
}
