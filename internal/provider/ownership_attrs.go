package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/rolloutdev/terraform-provider-rollout/internal/awsclient"
	"github.com/rolloutdev/terraform-provider-rollout/internal/pipeline"
)

// Ownership as Terraform sees it: the adopt and owner_tag attributes, the
// plan modifier that keeps the lease token, and the import's check.

func adoptAttr() schema.BoolAttribute {
	return schema.BoolAttribute{
		Optional: true,
		MarkdownDescription: "Take the subject over even when another rollout resource owns it. Each owner keeps a `" + awsclient.OwnerTag + "` tag on what it owns " +
			"(a listener or rule; an alias's function, under a key naming the alias; a flag's parameter); create, import and the first apply after an import " +
			"refuse a subject tagged by another owner, and the old owner's next apply is refused, so two owners never overwrite each other unseen. Default false.",
	}
}

func ownerAttr() schema.StringAttribute {
	return schema.StringAttribute{
		Computed: true,
		MarkdownDescription: "The value of the `" + awsclient.OwnerTag + "` tag this resource keeps on what it owns. An import takes no lease: it is unknown in the plan after an import, " +
			"and the first apply takes a new lease (refused while another resource owns the subject, unless `adopt = true`).",
		PlanModifiers: []planmodifier.String{keepLease{}},
	}
}

// keepLease keeps the lease token in state across plans; a resource that
// holds none (imported) plans to take one.
type keepLease struct{}

func (keepLease) Description(context.Context) string {
	return "keeps the lease token; an imported resource takes a new one at its first apply"
}

func (k keepLease) MarkdownDescription(ctx context.Context) string { return k.Description(ctx) }

func (keepLease) PlanModifyString(_ context.Context, req planmodifier.StringRequest, resp *planmodifier.StringResponse) {
	if req.State.Raw.IsNull() || req.StateValue.IsNull() || req.StateValue.ValueString() == "" || !req.PlanValue.IsUnknown() {
		return
	}
	resp.PlanValue = req.StateValue
}

// attrRef is the listener or rule an imported ARN names.
func attrRef(attr, id string) awsclient.Ref {
	if attr == "rule_arn" {
		return awsclient.Ref{RuleARN: id}
	}
	return awsclient.Ref{ListenerARN: id}
}

// importOwner checks the lease of an imported subject. An import never
// copies another resource's token: the imported resource holds no lease
// (owner_tag null) until its first apply, which takes a new one, and that
// apply is refused, like a create, while another resource owns the subject
// and adopt is not set. It warns when that will happen.
func importOwner(ctx context.Context, s pipeline.Owned, resp *resource.ImportStateResponse) {
	l, err := s.Lease().ReadLease(ctx)
	if err != nil {
		pipeline.AddLeaseReadError(reportTo(&resp.Diagnostics), s, err)
		return
	}
	if l.Owner != "" {
		resp.Diagnostics.AddWarning(fmt.Sprintf("Imported %s Has Another Owner", pipeline.Title(s.Kind())), pipeline.Detail(nil,
			fmt.Sprintf("The %s %s is owned by another rollout resource (tag %s = %q). The import did not take its lease.", s.Kind(), s.ID(), awsclient.OwnerTag, l.Owner),
			"The first apply that changes it is refused while that resource owns it. Remove the other resource from its state, or set adopt = true on this one to take it over."))
	}
}
