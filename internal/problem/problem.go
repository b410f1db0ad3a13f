// Package problem is how the pure packages (weights, rollout schedules,
// alarms) say what is wrong with an input: the path of the attribute at
// fault, as steps, a code for the kind of problem, and why. The provider
// turns a Path into the framework's attribute path in one place, so there
// is one format and one translation, not one per package.
package problem

import (
	"fmt"
	"strings"
)

// Step is one step of a path: an attribute name, a map key (Keyed), or a
// list index (Name empty, not Keyed).
type Step struct {
	Name  string
	Index int
	// Key is a map's key (a release's services) when Keyed.
	Key   string
	Keyed bool
}

// Path is where a problem is, from the block its package checks (the
// resource, or its rollout block). An empty Path is the block itself.
type Path []Step

// At starts a path at an attribute.
func At(name string) Path { return Path{{Name: name}} }

// Name goes to a nested attribute.
func (p Path) Name(n string) Path { return append(append(Path(nil), p...), Step{Name: n}) }

// Index goes to an element of a list.
func (p Path) Index(i int) Path { return append(append(Path(nil), p...), Step{Index: i}) }

// Key goes to an element of a map.
func (p Path) Key(k string) Path { return append(append(Path(nil), p...), Step{Key: k, Keyed: true}) }

// Parent is the path one step up; the block itself has none (empty).
func (p Path) Parent() Path {
	if len(p) == 0 {
		return nil
	}
	return append(Path(nil), p[:len(p)-1]...)
}

// String writes the path as the configuration names it: steps[2].percent.
func (p Path) String() string {
	var b strings.Builder
	for _, s := range p {
		if s.Keyed {
			fmt.Fprintf(&b, "[%q]", s.Key)
			continue
		}
		if s.Name == "" {
			fmt.Fprintf(&b, "[%d]", s.Index)
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s.Name)
	}
	return b.String()
}

// Problem is one reason an input cannot be used.
type Problem struct {
	Path Path
	// Code names the kind of problem for callers that word it (for
	// example "weight" or "duplicate"); it may be empty.
	Code   string
	Reason string
}

// Error is "path: reason", or the reason alone for the block itself.
func (p Problem) Error() string {
	if len(p.Path) == 0 {
		return p.Reason
	}
	return p.Path.String() + ": " + p.Reason
}

// New is a problem at path with a formatted reason.
func New(at Path, code, format string, a ...any) Problem {
	return Problem{Path: at, Code: code, Reason: fmt.Sprintf(format, a...)}
}
