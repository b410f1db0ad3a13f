package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/rolloutdev/terraform-provider-rollout/internal/awsclient"
	"github.com/rolloutdev/terraform-provider-rollout/internal/pipeline"
	"github.com/rolloutdev/terraform-provider-rollout/internal/problem"
	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
	"github.com/rolloutdev/terraform-provider-rollout/internal/subjects"
	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

// flagSubject is a flag's percentage as the traffic pipeline sees it.
type flagSubject struct {
	c    *awsclient.Client
	name string
	tier string
}

func (s flagSubject) Kind() string       { return "flag" }
func (s flagSubject) ID() string         { return s.name }
func (s flagSubject) Attr() problem.Path { return problem.At("rollout_percentage") }

func (s flagSubject) Ref() subjects.Ref {
	return subjects.Ref{Flag: &subjects.FlagRef{Name: s.name, Tier: s.tier}}
}

func (s flagSubject) Router() rollout.Router { return subjects.Router(s.c, s.Ref()) }

// Observers of a flag: alarms and hooks (it has no targets or metrics of
// its own).
func (s flagSubject) Observers() (rollout.Observers, error) { return subjects.Observers(s.c, s.Ref()) }

func (s flagSubject) GoBack(from weights.Split) string {
	return fmt.Sprintf("set rollout_percentage back to %d", percentageOf(from))
}

func (s flagSubject) ReadError(diags pipeline.Report, err error) {
	diags.AddError("Cannot Read Flag", pipeline.Detail(err, fmt.Sprintf("Reading the flag %s failed.", s.name), "Check the ssm:GetParameter permission and the endpoint."))
}

func (s flagSubject) WriteError(diags pipeline.Report, err error) {
	diags.AddAttributeError(problem.At("rollout_percentage"), "Cannot Write Flag", pipeline.Detail(err, fmt.Sprintf("Writing the flag %s failed, or could not be confirmed.", s.name),
		"Check the ssm:PutParameter permission and the endpoint; the next plan shows what the parameter holds."))
}

// pipeline.SwitchOff turns the flag's own kill switch on (rollback = kill_switch).
func (s flagSubject) switchOff(ctx context.Context) (string, error) {
	return pipeline.SwitchFlagsOff(ctx, s.c, []string{s.name}, "rolled back by its own rollout at "+s.c.Clock.Now().UTC().Format(time.RFC3339))
}

func (s flagSubject) Lease() awsclient.LeaseStore { return subjects.Lease(s.c, s.Ref()) }
