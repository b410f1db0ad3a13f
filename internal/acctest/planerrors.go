package acctest

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
)

// Bad input is refused at plan time, and a plan reports every resource's
// problems at once: many bad-input cases share one plan (PlanErrors), so the
// suite runs tens of plans, not hundreds.

// errCaptured stops resource.Test once the engine's error is captured.
var errCaptured = errors.New("captured")

// capture is the testing.T resource.Test runs with: it passes everything to
// the test but keeps the step's failure, the engine's error text, instead of
// failing the test with it.
type capture struct {
	*testing.T
	msg string
}

func (c *capture) Fatalf(format string, args ...any) {
	c.msg = fmt.Sprintf(format, args...)
	panic(errCaptured)
}

func (c *capture) Fatal(args ...any) {
	c.msg = fmt.Sprint(args...)
	panic(errCaptured)
}

func (c *capture) Errorf(format string, args ...any) { c.msg += fmt.Sprintf(format, args...) }
func (c *capture) Error(args ...any)                 { c.msg += fmt.Sprint(args...) }

// neverMatches is an ExpectError no engine output matches, so that
// resource.Test hands the whole error text over.
var neverMatches = regexp.MustCompile(`\A\x00never\x00\z`)

// PlanErrors plans config on the engine under test (as resource.Test does:
// init, then plan) and returns the engine's error output. It fails the test
// when the plan succeeds.
func (e *Env) PlanErrors(t *testing.T, config string) (out string) {
	t.Helper()
	c := &capture{T: t}
	func() {
		defer func() {
			if r := recover(); r != nil && r != errCaptured {
				panic(r)
			}
		}()
		resource.Test(c, resource.TestCase{
			ProtoV6ProviderFactories: e.Factories(),
			Steps:                    []resource.TestStep{{Config: config, PlanOnly: true, ExpectError: neverMatches}},
		})
	}()
	if strings.Contains(c.msg, "expected an error but got none") || c.msg == "" {
		t.Fatalf("the plan succeeded; want errors:\n%s", c.msg)
	}
	return c.msg
}

// Diagnostic is one error the engine printed: its summary and the rest of
// its text (the resource it is attributed to, the detail).
type Diagnostic struct {
	Summary, Text string
}

// Diagnostics splits an engine's error output into its errors. Engines wrap
// long lines: runs of white space are folded into one space.
func Diagnostics(out string) []Diagnostic {
	var ds []Diagnostic
	for _, part := range regexp.MustCompile(`(?m)^\s*(│\s*)?Error: `).Split(out, -1)[1:] {
		text := strings.Join(strings.Fields(strings.ReplaceAll(part, "│", " ")), " ")
		summary, _, _ := strings.Cut(strings.TrimSpace(strings.SplitN(part, "\n", 2)[0]), "\n")
		ds = append(ds, Diagnostic{Summary: strings.TrimSpace(summary), Text: text})
	}
	return ds
}
