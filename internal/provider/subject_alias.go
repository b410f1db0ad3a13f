package provider

import (
	"errors"
	"fmt"

	"github.com/rolloutdev/terraform-provider-rollout/internal/awsclient"
	"github.com/rolloutdev/terraform-provider-rollout/internal/pipeline"
	"github.com/rolloutdev/terraform-provider-rollout/internal/problem"
	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
	"github.com/rolloutdev/terraform-provider-rollout/internal/subjects"
	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

// aliasSubject is a Lambda alias as the traffic pipeline sees it: a split
// over versions.
type aliasSubject struct {
	c   *awsclient.Client
	ref awsclient.AliasRef
}

func (a aliasSubject) Kind() string       { return "alias" }
func (a aliasSubject) ID() string         { return a.ref.ID() }
func (a aliasSubject) Attr() problem.Path { return problem.At("version") }

func (a aliasSubject) Ref() subjects.Ref {
	ref := a.ref
	return subjects.Ref{Alias: &ref}
}

func (a aliasSubject) Router() rollout.Router { return subjects.Router(a.c, a.Ref()) }

func (a aliasSubject) Observers() (rollout.Observers, error) { return subjects.Observers(a.c, a.Ref()) }

func (a aliasSubject) GoBack(from weights.Split) string {
	best, most := "", -1
	for _, t := range from {
		if t.Weight > most {
			best, most = t.ARN, t.Weight
		}
	}
	return fmt.Sprintf("set version back to %q", best)
}

func (a aliasSubject) ReadError(diags pipeline.Report, err error) {
	if errors.Is(err, awsclient.ErrNotFound) {
		diags.AddError("Alias Not Found", pipeline.Detail(nil, fmt.Sprintf("The alias %s does not exist in region %s.", a.ref.ID(), a.c.Region),
			"Check function_name, alias_name and the provider's region."))
		return
	}
	if awsclient.NoCredentials(err) {
		diags.AddError("No AWS Credentials Found", pipeline.Detail(err, fmt.Sprintf("The provider found no AWS credentials to read %s with. It looked in %s.", a.ref.ID(), awsclient.CredentialChain),
			"Export credentials, log in with aws sso login, or set profile or assume_role in the provider block."))
		return
	}
	diags.AddError("Cannot Read Alias", pipeline.Detail(err, fmt.Sprintf("Reading the alias %s failed.", a.ref.ID()),
		"Check the credentials' lambda:GetAlias permission and the endpoint."))
}

func (a aliasSubject) WriteError(diags pipeline.Report, err error) {
	diags.AddAttributeError(problem.At("version"), "Cannot Update Alias", pipeline.Detail(err,
		fmt.Sprintf("AWS refused the routing of %s, or whether it took effect is not known.", a.ref.ID()),
		"Check that the version is published (aws lambda list-versions-by-function), that the credentials allow lambda:UpdateAlias and lambda:CreateAlias, and run plan to see what the alias serves."))
}

func (a aliasSubject) Lease() awsclient.LeaseStore { return subjects.Lease(a.c, a.Ref()) }
