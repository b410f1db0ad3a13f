package provider

import (
	"context"

	"github.com/rolloutdev/terraform-provider-rollout/internal/awsclient"
	"github.com/rolloutdev/terraform-provider-rollout/internal/pipeline"
	"github.com/rolloutdev/terraform-provider-rollout/internal/problem"
	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
	"github.com/rolloutdev/terraform-provider-rollout/internal/subjects"
	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

// listenerSubject is a listener's default forward action or a rule's: the
// subject of rollout_traffic_split, rollout_deployment_bluegreen and each
// service of rollout_release. It reads, writes and observes; the pipeline
// does the rest.
type listenerSubject struct {
	c      *awsclient.Client
	ref    awsclient.Ref
	sticky awsclient.Stickiness
	attr   problem.Path
	goBack func(from weights.Split) string
}

func (l listenerSubject) Kind() string       { return l.ref.Kind() }
func (l listenerSubject) ID() string         { return l.ref.ID() }
func (l listenerSubject) Attr() problem.Path { return l.attr }

func (l listenerSubject) Ref() subjects.Ref {
	ref, sticky := l.ref, l.sticky
	return subjects.Ref{Listener: &ref, Stickiness: &sticky}
}

func (l listenerSubject) Router() rollout.Router { return subjects.Router(l.c, l.Ref()) }

func (l listenerSubject) Observers() (rollout.Observers, error) {
	return subjects.Observers(l.c, l.Ref())
}

func (l listenerSubject) GoBack(from weights.Split) string { return l.goBack(from) }

func (l listenerSubject) ReadError(diags pipeline.Report, err error) {
	pipeline.AddReadError(diags, l.c, l.ref, err)
}

func (l listenerSubject) WriteError(diags pipeline.Report, err error) {
	pipeline.AddWriteError(diags, l.c, l.ref, err)
}

func (l listenerSubject) Lease() awsclient.LeaseStore { return subjects.Lease(l.c, l.Ref()) }

// set makes the subject serve want outside a schedule, through the one
// write path (rollout.Runner.Set: the guard's read, the write, its
// read-back): a change that moves no traffic (stickiness alone, a new
// target group in place of one that serves nothing). The subject must
// serve one of expect; nil takes it as it is found.
func (l listenerSubject) set(ctx context.Context, expect []weights.Split, want weights.Split) error {
	r, err := subjects.NewRunner(l.c, l.Ref(), rollout.Settings{}, l.c.Clock)
	if err == nil {
		_, err = r.Set(ctx, expect, want)
	}
	return err
}
