package pipeline

import "github.com/rolloutdev/terraform-provider-rollout/internal/problem"

// Report is where the pipeline says what went wrong, or what a person
// should know: a summary and a detail, on the attribute at fault when
// there is one (a path from the resource, problem.Path). The provider
// turns each into a diagnostic as it is added, in one place.
type Report interface {
	AddError(summary, detail string)
	AddWarning(summary, detail string)
	AddAttributeError(at problem.Path, summary, detail string)
	AddAttributeWarning(at problem.Path, summary, detail string)
	// HasError says whether an error was reported.
	HasError() bool
}
