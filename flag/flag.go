// Package flag is the feature-flag model of terraform-provider-rollout: the
// flag document the provider writes (to SSM Parameter Store, one parameter
// per flag) and the evaluator that apps use to decide whether a flag is on
// for a user. It imports only the standard library, so an app can use it
// without compiling the Terraform plugin framework.
//
// Evaluation of a flag for a context (user id, environment, attributes), in
// this order:
//
//  1. kill_switch on                        → off (KILL_SWITCH)
//  2. enabled false                         → off (DISABLED)
//  3. environments set, context's not in it → off (ENVIRONMENT)
//  4. user in included_users                → on  (INCLUDED)
//  5. user in excluded_users                → off (EXCLUDED)
//  6. segment_rules set                     → on exactly when all match (SEGMENT_MATCH, SEGMENT_MISS)
//  7. rollout_percentage 100                → on  (FULL_ROLLOUT)
//  8. no user id                            → off (NO_USER)
//  9. bucket < rollout_percentage           → on, else off (PERCENTAGE_IN, PERCENTAGE_OUT)
//
// bucket = the first 8 hex digits of md5("<key>:<user_id>") as an unsigned
// 32-bit integer, mod 100. Then, when the flag is on and names
// dependencies, each must be on for the same context, or the flag is off
// (DEPENDENCY_OFF). Any error (a malformed document, a missing flag, a
// dependency that cannot be evaluated, a cycle) is off (ERROR): fail safe.
//
// Two deliberate fixes to the brief's model: enabled = false is off for
// everyone whatever the percentage (the brief's order let a disabled flag at
// 50 % serve half the users), and every error is off.
package flag

import (
	"crypto/md5"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SchemaVersion is the version of the flag document this package reads and
// writes.
const SchemaVersion = 1

// Flag is one flag document.
type Flag struct {
	SchemaVersion     int       `json:"schema_version"`
	Key               string    `json:"key"`
	Enabled           bool      `json:"enabled"`
	RolloutPercentage int       `json:"rollout_percentage"`
	Targeting         Targeting `json:"targeting"`
	Environments      []string  `json:"environments,omitempty"`
	KillSwitch        bool      `json:"kill_switch"`
	// KillSwitchReason says who turned the kill switch on when a rollout's
	// rollback did; evaluators ignore it.
	KillSwitchReason string   `json:"kill_switch_reason,omitempty"`
	Description      string   `json:"description,omitempty"`
	Owner            string   `json:"owner,omitempty"`
	Ticket           string   `json:"ticket,omitempty"`
	ExpiresAt        string   `json:"expires_at,omitempty"`
	Dependencies     []string `json:"dependencies,omitempty"`
}

// Targeting picks users by id and by attributes.
type Targeting struct {
	IncludedUsers []string `json:"included_users,omitempty"`
	ExcludedUsers []string `json:"excluded_users,omitempty"`
	SegmentRules  []Rule   `json:"segment_rules,omitempty"`
}

// Rule is one segment rule: the context's attribute compared with value.
//
//	equals       the attribute equals value
//	contains     the attribute contains value
//	starts_with  the attribute starts with value
//	in           the attribute is one of value's comma-separated items (spaces around items ignored)
//	gt, lt       both are numbers and the attribute is greater (less) than value
//
// A missing attribute, or a non-number for gt and lt, does not match.
type Rule struct {
	Attribute string `json:"attribute"`
	Operator  string `json:"operator"`
	Value     string `json:"value"`
}

// Operators are the rule operators.
var Operators = []string{"equals", "contains", "starts_with", "in", "gt", "lt"}

// Context is who asks: the user, the environment the app runs in, and the
// user's attributes for segment rules.
type Context struct {
	UserID      string
	Environment string
	Attributes  map[string]string
}

// Reason says why an evaluation came out as it did.
type Reason string

// Reasons.
const (
	KillSwitch    Reason = "KILL_SWITCH"
	Disabled      Reason = "DISABLED"
	Environment   Reason = "ENVIRONMENT"
	Included      Reason = "INCLUDED"
	Excluded      Reason = "EXCLUDED"
	SegmentMatch  Reason = "SEGMENT_MATCH"
	SegmentMiss   Reason = "SEGMENT_MISS"
	FullRollout   Reason = "FULL_ROLLOUT"
	NoUser        Reason = "NO_USER"
	PercentageIn  Reason = "PERCENTAGE_IN"
	PercentageOut Reason = "PERCENTAGE_OUT"
	DependencyOff Reason = "DEPENDENCY_OFF"
	Error         Reason = "ERROR"
)

// Result is an evaluation's outcome.
type Result struct {
	On     bool
	Reason Reason
	// Err is set when Reason is Error.
	Err error
}

// Bucket is the user's bucket for a flag, from 0 to 99: the first 8 hex
// digits of md5("<key>:<user_id>") as an unsigned integer, mod 100. It does
// not allocate for keys and user ids up to 256 bytes together.
func Bucket(key, userID string) int {
	var buf [256]byte
	var b []byte
	if n := len(key) + 1 + len(userID); n <= len(buf) {
		b = buf[:0]
	} else {
		b = make([]byte, 0, n)
	}
	b = append(b, key...)
	b = append(b, ':')
	b = append(b, userID...)
	sum := md5.Sum(b)
	return int(binary.BigEndian.Uint32(sum[:4]) % 100)
}

// Lookup finds another flag by key (for dependencies); ok is false when
// there is none.
type Lookup func(key string) (f *Flag, ok bool)

// Evaluate decides whether f is on for c. lookup resolves dependencies; nil
// when there are none to resolve (a flag with dependencies is then off,
// ERROR).
func Evaluate(f *Flag, c Context, lookup Lookup) Result {
	return evaluate(f, c, lookup, nil, nil)
}

// evaluate is Evaluate with the path of flags being evaluated (seen, for
// cycles) and the results of dependencies already evaluated (done), so a
// dependency shared by several flags (a diamond) is looked up and evaluated
// once.
func evaluate(f *Flag, c Context, lookup Lookup, seen []string, done map[string]Result) Result {
	if f == nil {
		return Result{Reason: Error, Err: fmt.Errorf("no flag")}
	}
	r := own(f, c)
	if !r.On || len(f.Dependencies) == 0 {
		return r
	}
	seen = append(seen, f.Key)
	for _, d := range f.Dependencies {
		for _, s := range seen {
			if s == d {
				return Result{Reason: Error, Err: fmt.Errorf("dependency cycle: %s → %s", strings.Join(seen, " → "), d)}
			}
		}
		if lookup == nil {
			return Result{Reason: Error, Err: fmt.Errorf("flag %q depends on %q, which cannot be looked up here", f.Key, d)}
		}
		dr, ok := done[d]
		if !ok {
			df, found := lookup(d)
			if !found {
				return Result{Reason: Error, Err: fmt.Errorf("flag %q depends on %q, which does not exist", f.Key, d)}
			}
			if done == nil {
				done = map[string]Result{}
			}
			dr = evaluate(df, c, lookup, seen, done)
			done[d] = dr
		}
		if dr.Reason == Error {
			return dr
		}
		if !dr.On {
			return Result{Reason: DependencyOff}
		}
	}
	return r
}

// own is the flag's evaluation without its dependencies, steps 1 to 9.
func own(f *Flag, c Context) Result {
	switch {
	case f.KillSwitch:
		return Result{Reason: KillSwitch}
	case !f.Enabled:
		return Result{Reason: Disabled}
	case len(f.Environments) > 0 && !contains(f.Environments, c.Environment):
		return Result{Reason: Environment}
	case c.UserID != "" && contains(f.Targeting.IncludedUsers, c.UserID):
		return Result{On: true, Reason: Included}
	case c.UserID != "" && contains(f.Targeting.ExcludedUsers, c.UserID):
		return Result{Reason: Excluded}
	case len(f.Targeting.SegmentRules) > 0:
		for _, r := range f.Targeting.SegmentRules {
			if !r.Matches(c.Attributes) {
				return Result{Reason: SegmentMiss}
			}
		}
		return Result{On: true, Reason: SegmentMatch}
	case f.RolloutPercentage >= 100:
		return Result{On: true, Reason: FullRollout}
	case c.UserID == "":
		return Result{Reason: NoUser}
	case Bucket(f.Key, c.UserID) < f.RolloutPercentage:
		return Result{On: true, Reason: PercentageIn}
	}
	return Result{Reason: PercentageOut}
}

// Matches reports whether the attributes satisfy the rule.
func (r Rule) Matches(attrs map[string]string) bool {
	v, ok := attrs[r.Attribute]
	if !ok {
		return false
	}
	switch r.Operator {
	case "equals":
		return v == r.Value
	case "contains":
		return strings.Contains(v, r.Value)
	case "starts_with":
		return strings.HasPrefix(v, r.Value)
	case "in":
		for _, item := range strings.Split(r.Value, ",") {
			if strings.TrimSpace(item) == v {
				return true
			}
		}
		return false
	case "gt", "lt":
		a, ok1 := Number(v)
		b, ok2 := Number(r.Value)
		if !ok1 || !ok2 {
			return false
		}
		if r.Operator == "gt" {
			return a > b
		}
		return a < b
	}
	return false
}

// Number reads a segment rule's number with the one number grammar of gt
// and lt, the JavaScript evaluator's too: optional spaces or tabs around an
// optional sign and decimal digits, with an optional fraction and exponent
// (numberGrammar). Nothing else is one: no Infinity, inf, NaN, hex or digit
// separators. A value too large for a double is infinite and one too small
// is zero, as JavaScript reads them.
func Number(s string) (float64, bool) {
	t := strings.Trim(s, " \t")
	if !isDecimal(t) {
		return 0, false
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, false
	}
	return f, true
}

// numberGrammar is Number's grammar as a regular expression (the JavaScript
// evaluator's); isDecimal implements it without one, for speed, and a fuzz
// test holds the two together.
const numberGrammar = `^[ \t]*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?[ \t]*$`

// isDecimal reports whether t (trimmed) is [-+]?(digits.?digits*|.digits)
// with an optional exponent.
func isDecimal(t string) bool {
	i, n := 0, len(t)
	if i < n && (t[i] == '+' || t[i] == '-') {
		i++
	}
	digits := func() int {
		j := i
		for i < n && t[i] >= '0' && t[i] <= '9' {
			i++
		}
		return i - j
	}
	intPart := digits()
	if i < n && t[i] == '.' {
		i++
		if frac := digits(); intPart == 0 && frac == 0 {
			return false
		}
	} else if intPart == 0 {
		return false
	}
	if i < n && (t[i] == 'e' || t[i] == 'E') {
		i++
		if i < n && (t[i] == '+' || t[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == n
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Parse reads a flag document. A document of another schema version, or
// one whose values are out of range, is an error.
func Parse(doc []byte) (*Flag, error) {
	var f Flag
	if err := json.Unmarshal(doc, &f); err != nil {
		return nil, fmt.Errorf("the flag document is not valid JSON: %w", err)
	}
	if f.SchemaVersion != SchemaVersion {
		return nil, fmt.Errorf("the flag document has schema_version %d; this evaluator reads %d", f.SchemaVersion, SchemaVersion)
	}
	if ps := f.Problems(); len(ps) > 0 {
		return nil, fmt.Errorf("the flag document is not valid: %s", ps[0])
	}
	return &f, nil
}

// EvaluateDocument parses doc and evaluates it, failing safe: a document
// that cannot be read is off, with reason ERROR.
func EvaluateDocument(doc []byte, c Context, lookup Lookup) Result {
	f, err := Parse(doc)
	if err != nil {
		return Result{Reason: Error, Err: err}
	}
	return Evaluate(f, c, lookup)
}

// Problems lists what is wrong with a flag, as "attribute: reason".
func (f *Flag) Problems() []string {
	var out []string
	if !KeyRE(f.Key) {
		out = append(out, fmt.Sprintf("key: %q is not 1 to 128 of a-z 0-9 . _ - starting with a letter", f.Key))
	}
	if f.RolloutPercentage < 0 || f.RolloutPercentage > 100 {
		out = append(out, fmt.Sprintf("rollout_percentage: %d is outside 0 to 100", f.RolloutPercentage))
	}
	for i, r := range f.Targeting.SegmentRules {
		if r.Attribute == "" {
			out = append(out, fmt.Sprintf("targeting.segment_rules[%d].attribute: empty", i))
		}
		if !contains(Operators, r.Operator) {
			out = append(out, fmt.Sprintf("targeting.segment_rules[%d].operator: %q is not one of %s", i, r.Operator, strings.Join(Operators, ", ")))
		}
	}
	if f.ExpiresAt != "" {
		if _, err := time.Parse(time.RFC3339, f.ExpiresAt); err != nil {
			out = append(out, fmt.Sprintf("expires_at: %q is not an RFC 3339 time", f.ExpiresAt))
		}
	}
	for i, d := range f.Dependencies {
		if d == f.Key {
			out = append(out, fmt.Sprintf("dependencies[%d]: the flag depends on itself", i))
		}
	}
	return out
}

// KeyRE reports whether s is a valid flag key: 1 to 128 of a-z 0-9 . _ -,
// starting with a letter.
func KeyRE(s string) bool {
	if len(s) == 0 || len(s) > 128 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch >= 'a' && ch <= 'z', ch >= '0' && ch <= '9', ch == '.', ch == '_', ch == '-':
		default:
			return false
		}
	}
	return true
}
