package pipeline

import "github.com/rolloutdev/terraform-provider-rollout/internal/problem"

// Report is where the pipeline says what went wrong, or what a person
// should know: a summary and a detail, on the attribute at fault when
// there is one (a path from the resource, problem.Path). The provider
// turns each into a diagnostic as it is added, in one place; Problems
// keeps them.
type Report interface {
	AddError(summary, detail string)
	AddWarning(summary, detail string)
	AddAttributeError(at problem.Path, summary, detail string)
	AddAttributeWarning(at problem.Path, summary, detail string)
	// HasError says whether an error was reported.
	HasError() bool
}

// Severity is an error or a warning.
type Severity uint8

const (
	Error Severity = iota
	Warning
)

// Problem is one thing a Report was told.
type Problem struct {
	Severity        Severity
	Summary, Detail string
	// At is the attribute at fault when OnAttr (an empty At is the
	// resource itself).
	At     problem.Path
	OnAttr bool
}

// Problems is a Report that keeps what it is told, in order.
type Problems []Problem

func (p *Problems) AddError(summary, detail string) {
	*p = append(*p, Problem{Severity: Error, Summary: summary, Detail: detail})
}

func (p *Problems) AddWarning(summary, detail string) {
	*p = append(*p, Problem{Severity: Warning, Summary: summary, Detail: detail})
}

func (p *Problems) AddAttributeError(at problem.Path, summary, detail string) {
	*p = append(*p, Problem{Severity: Error, Summary: summary, Detail: detail, At: at, OnAttr: true})
}

func (p *Problems) AddAttributeWarning(at problem.Path, summary, detail string) {
	*p = append(*p, Problem{Severity: Warning, Summary: summary, Detail: detail, At: at, OnAttr: true})
}

func (p *Problems) HasError() bool {
	for _, x := range *p {
		if x.Severity == Error {
			return true
		}
	}
	return false
}

// AddTo adds every problem kept to r, in order.
func (p Problems) AddTo(r Report) {
	for _, x := range p {
		switch {
		case x.Severity == Error && x.OnAttr:
			r.AddAttributeError(x.At, x.Summary, x.Detail)
		case x.Severity == Error:
			r.AddError(x.Summary, x.Detail)
		case x.OnAttr:
			r.AddAttributeWarning(x.At, x.Summary, x.Detail)
		default:
			r.AddWarning(x.Summary, x.Detail)
		}
	}
}
