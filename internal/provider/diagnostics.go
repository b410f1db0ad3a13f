package provider

import (
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"

	"github.com/rolloutdev/terraform-provider-rollout/internal/awsclient"
	"github.com/rolloutdev/terraform-provider-rollout/internal/pipeline"
	"github.com/rolloutdev/terraform-provider-rollout/internal/problem"
)

// addError adds an error diagnostic; at is optional.
func addError(diags *diag.Diagnostics, at *path.Path, summary string, err error, sentences ...string) {
	if at != nil {
		diags.AddAttributeError(*at, summary, pipeline.Detail(err, sentences...))
		return
	}
	diags.AddError(summary, pipeline.Detail(err, sentences...))
}

func pathOf(p path.Path) *path.Path { return &p }

// attrPathOf is the one translation of a pure package's problem path into
// the framework's attribute path, under base (the block the package
// checked: the resource, its rollout block, a list of target groups).
func attrPathOf(base path.Path, p problem.Path) path.Path {
	out := base
	for _, s := range p {
		switch {
		case s.Keyed:
			out = out.AtMapKey(s.Key)
		case s.Name == "":
			out = out.AtListIndex(s.Index)
		default:
			out = out.AtName(s.Name)
		}
	}
	return out
}

// notOwnedOnDestroy warns that destroy left s as it is because another
// resource owns it now.
func notOwnedOnDestroy(diags *diag.Diagnostics, s pipeline.Owned, owner, what string) {
	diags.AddWarning(fmt.Sprintf("%s Owned By Another Resource", pipeline.Title(s.Kind())), pipeline.Detail(nil,
		fmt.Sprintf("on_destroy asks to %s, but the %s %s is owned by another rollout resource now (tag %s = %q): it took it over after this one.", what, s.Kind(), s.ID(), awsclient.OwnerTag, owner),
		"It was left as it is: its owner decides what it serves. Nothing else was changed."))
}

// reportTo is diags as the pipeline's report: the one translation of
// what the pipeline says into diagnostics, each as it is said (so that
// their order, and HasError, are the diagnostics' own).
func reportTo(diags *diag.Diagnostics) pipeline.Report { return diagReport{diags} }

type diagReport struct{ d *diag.Diagnostics }

func (r diagReport) AddError(summary, detail string)   { r.d.AddError(summary, detail) }
func (r diagReport) AddWarning(summary, detail string) { r.d.AddWarning(summary, detail) }
func (r diagReport) HasError() bool                    { return r.d.HasError() }

func (r diagReport) AddAttributeError(at problem.Path, summary, detail string) {
	r.d.AddAttributeError(attrPathOf(path.Empty(), at), summary, detail)
}

func (r diagReport) AddAttributeWarning(at problem.Path, summary, detail string) {
	r.d.AddAttributeWarning(attrPathOf(path.Empty(), at), summary, detail)
}
