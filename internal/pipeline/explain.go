package pipeline

import (
	"errors"
	"fmt"
	"strings"

	"github.com/rolloutdev/terraform-provider-rollout/internal/awsclient"
	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

// The words every subject shares: a diagnostic's detail, a subject kind's
// title, and what a failed read, write or lease of one says.

// Detail joins what happened, what is allowed and what to do next into a
// diagnostic detail, ending with the original error when there is one.
func Detail(err error, sentences ...string) string {
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

// AddWriteError explains a refused or unconfirmed forward-action write.
func AddWriteError(diags interface{ AddError(string, string) }, c *awsclient.Client, ref awsclient.Ref, err error) {
	var rnc *rollout.NotConfirmedError
	var ce *rollout.ChangedError
	switch {
	case errors.As(err, &rnc):
		diags.AddError("Weights Not Confirmed", Detail(nil, fmt.Sprintf("The %s %s: %s.", ref.Kind(), ref.ID(), rnc.Error()),
			"Something else is changing this listener at the same time (another stack, a controller, a pipeline). Stop the other writer, then run apply again; the next plan shows the weights the listener really has."))
	case errors.As(err, &ce):
		what := fmt.Sprintf("The %s %s %s; when this apply read it before writing, it %s. Someone else changed it meanwhile, and their change wins: nothing was written over it.", ref.Kind(), ref.ID(), forwards(ce.Found, false), forwards(ce.Expected, true))
		if ce.AfterWrite {
			what = fmt.Sprintf("The %s %s %s right after this apply wrote it to forward %s: someone else changed it meanwhile, and their change wins: nothing more was written.", ref.Kind(), ref.ID(), forwards(ce.Found, false), ce.Expected.Short())
		}
		diags.AddError(fmt.Sprintf("%s Changed During Apply", Title(ref.Kind())), Detail(nil, what,
			fmt.Sprintf("Find who changed it (CloudTrail: elasticloadbalancing:ModifyListener, ModifyRule), then run plan again: it shows what the %s forwards now.", ref.Kind())))
	case errors.Is(err, awsclient.ErrNotFound):
		AddReadError(diags, c, ref, err)
	default:
		diags.AddError(fmt.Sprintf("Cannot Modify %s", Title(ref.Kind())), Detail(err,
			fmt.Sprintf("AWS refused the new forward action of %s; the listener keeps its previous weights.", ref.ID()),
			"Check that every target group exists, is of target type instance, ip or lambda as the load balancer allows, belongs to the load balancer's VPC, and that the credentials allow elasticloadbalancing:ModifyListener and ModifyRule."))
	}
}

// forwards says what a forward action serves, or that there is none (a
// fixed response, a redirect); then in the past tense.
func forwards(s weights.Split, then bool) string {
	switch {
	case len(s) == 0 && then:
		return "had no forward action"
	case len(s) == 0:
		return "has no forward action"
	case then:
		return "forwarded " + s.Short()
	}
	return "forwards " + s.Short()
}

// AddReadError explains a failed read of a listener or rule.
func AddReadError(diags interface{ AddError(string, string) }, client *awsclient.Client, ref awsclient.Ref, err error) {
	if errors.Is(err, awsclient.ErrNotFound) {
		diags.AddError(fmt.Sprintf("%s Not Found", Title(ref.Kind())), Detail(nil,
			fmt.Sprintf("The %s %s does not exist in region %s.", ref.Kind(), ref.ID(), client.Region),
			fmt.Sprintf("Check the ARN and the provider's region, and that the %s is created before this resource (reference its arn attribute).", ref.Kind())))
		return
	}
	if awsclient.NoCredentials(err) {
		diags.AddError("No AWS Credentials Found", Detail(err,
			fmt.Sprintf("The provider found no AWS credentials to read %s with. It looked in %s, and none had any.", ref.ID(), awsclient.CredentialChain),
			"Export credentials (for example AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), log in with aws sso login, or set profile or assume_role in the provider block."))
		return
	}
	diags.AddError(fmt.Sprintf("Cannot Read %s", Title(ref.Kind())), Detail(err,
		fmt.Sprintf("Reading the actions of %s failed.", ref.ID()),
		"Check the credentials' elasticloadbalancing:Describe* permissions and the endpoint."))
}

// Title is a subject kind as a diagnostic summary names it.
func Title(kind string) string {
	switch kind {
	case "rule":
		return "Listener Rule"
	case "alias":
		return "Alias"
	case "flag":
		return "Flag"
	}
	return "Listener"
}

// LeasePermissions names the permissions a subject's lease needs.
func LeasePermissions(kind string) string {
	switch kind {
	case "alias":
		return "Check the credentials' lambda:GetFunction, lambda:ListTags, lambda:TagResource and lambda:UntagResource permissions."
	case "flag":
		return "Check the credentials' ssm:ListTagsForResource, ssm:AddTagsToResource and ssm:RemoveTagsFromResource permissions."
	}
	return "Check the credentials' elasticloadbalancing:DescribeTags, AddTags and RemoveTags permissions."
}
