package provider

import (
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"

	"github.com/rolloutdev/terraform-provider-rollout/internal/problem"
	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

// detail joins what happened, what is allowed and what to do next into a
// diagnostic detail, ending with the original error when there is one.
func detail(err error, sentences ...string) string {
	var b strings.Builder
	for i, s := range sentences {
		if s == "" {
			continue
		}
		if i > 0 && b.Len() > 0 {
			b.WriteString("\n\n")
		}
		b.WriteString(s)
	}
	if err != nil {
		fmt.Fprintf(&b, "\n\nOriginal Error: %s", err)
	}
	return b.String()
}

// addError adds an error diagnostic; at is optional.
func addError(diags *diag.Diagnostics, at *path.Path, summary string, err error, sentences ...string) {
	if at != nil {
		diags.AddAttributeError(*at, summary, detail(err, sentences...))
		return
	}
	diags.AddError(summary, detail(err, sentences...))
}

func pathOf(p path.Path) *path.Path { return &p }

// attrPathOf is the one translation of a pure package's problem path into
// the framework's attribute path, under base (the block the package
// checked: the resource, its rollout block, a list of target groups).
func attrPathOf(base path.Path, p problem.Path) path.Path {
	out := base
	for _, s := range p {
		if s.Name == "" {
			out = out.AtListIndex(s.Index)
		} else {
			out = out.AtName(s.Name)
		}
	}
	return out
}

// notRestored warns that destroy left a subject as it is because it no
// longer serves what its resource last left.
func notRestored(diags *diag.Diagnostics, s subject, recorded, live weights.Split) {
	diags.AddWarning(fmt.Sprintf("%s Not Restored", title(s.Kind())), detail(nil,
		fmt.Sprintf("on_destroy is \"restore\", but the %s %s serves %s, not the %s this resource last left: someone or something changed it since.", s.Kind(), s.ID(), live.Short(), recorded.Short()),
		"It was left as it is, so that change stands. Set it yourself if it must change."))
}
