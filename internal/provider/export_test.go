package provider

// The pipeline, exported to the conformance tests (package provider_test),
// which drive it directly on every subject over the emulator.

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/rolloutdev/terraform-provider-rollout/internal/awsclient"
	"github.com/rolloutdev/terraform-provider-rollout/internal/pipeline"
	"github.com/rolloutdev/terraform-provider-rollout/internal/problem"
	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

// Subject is a subject of the traffic pipeline.
type Subject = pipeline.Subject

// ListenerSubject is a listener's or rule's forward action, moved through
// attr (target_groups, active, services["x"].target_groups).
func ListenerSubject(c *awsclient.Client, ref awsclient.Ref, attr path.Path) Subject {
	return listenerSubject{c: c, ref: ref, attr: problemPathOf(attr), goBack: func(from weights.Split) string { return "set it back to " + from.Short() }}
}

// AliasSubject is a Lambda alias.
func AliasSubject(c *awsclient.Client, ref awsclient.AliasRef) Subject {
	return aliasSubject{c: c, ref: ref}
}

// FlagSubject is a flag's percentage.
func FlagSubject(c *awsclient.Client, name string) Subject { return flagSubject{c: c, name: name} }

// FlagSwitchOff is a flag subject's own kill switch (rollback = "kill_switch").
func FlagSwitchOff(c *awsclient.Client, name string) func(context.Context) (string, error) {
	return flagSubject{c: c, name: name}.switchOff
}

// Spec is one change through the pipeline.
type Spec struct {
	From, To  weights.Split
	Steps     []rollout.Step
	Poll      time.Duration
	Alarms    []string
	Policy    rollout.Policy
	Attempt   string
	Flags     []string
	ReadFirst bool
	Hold      bool
	SwitchOff func(context.Context) (string, error)
	// Last is the state's last_rollout: a Result recorded towards LastTo
	// with LastAttempt (nil: none).
	Last        *rollout.Result
	LastTo      weights.Split
	LastAttempt string
	// Owner claims the lease in the pipeline (Mine is the token in state).
	Owner bool
	Mine  string
	Adopt bool
	Limit time.Duration
}

// Outcome is what RunChange did.
type Outcome struct {
	Res   rollout.Result
	Moved bool
	Steps []rollout.PlannedStep
	Token string
	Diags diag.Diagnostics
}

// Settings are a Spec's rollout settings.
func (s Spec) settings() pipeline.Settings {
	st := rollout.Strategy{Kind: rollout.Canary, Steps: s.Steps}
	if len(s.Steps) == 0 {
		st = rollout.Strategy{Kind: rollout.AllAtOnce}
	}
	policy := s.Policy
	if policy == "" {
		policy = rollout.Auto
	}
	return pipeline.Settings{Strategy: st, Settings: rollout.Settings{Gates: rollout.Gates{Alarms: s.Alarms}, PollInterval: s.Poll, Policy: policy, Attempt: s.Attempt, Flags: s.Flags}}
}

// LastRollout is the last_rollout value of a result towards to.
func LastRollout(res rollout.Result, to weights.Split, attempt string) types.Object {
	return recordValue(pipeline.NewRecord(res, to, attempt))
}

// RunChange takes s through the whole apply half of the pipeline.
func RunChange(ctx context.Context, c *awsclient.Client, s Subject, spec Spec) Outcome {
	last := pipeline.Record{}
	if spec.Last != nil {
		last = pipeline.NewRecord(*spec.Last, spec.LastTo, spec.LastAttempt)
	}
	limit := spec.Limit
	if limit == 0 {
		limit = time.Hour
	}
	ch := pipeline.Change{From: spec.From, To: spec.To, Settings: spec.settings(), Last: last,
		ReadFirst: pipeline.FirstRead(spec.ReadFirst), Limit: limit, Hold: spec.Hold, SwitchOff: spec.SwitchOff}
	if spec.Owner {
		ch.Owner = &pipeline.OwnerClaim{Base: s.Attr().Parent(), ResourceType: "conformance", Mine: spec.Mine, Adopt: spec.Adopt}
	}
	var diags diag.Diagnostics
	out := pipeline.Run(ctx, c, s, ch, reportTo(&diags))
	return Outcome{Res: out.Res, Moved: out.Moved, Steps: out.Steps, Token: out.Lease.Token, Diags: diags}
}

// RollBackChange is a release rolling a started subject back.
func RollBackChange(ctx context.Context, c *awsclient.Client, s Subject, spec Spec, current weights.Split, reason string) (rollout.Result, diag.Diagnostics) {
	var diags diag.Diagnostics
	ch := pipeline.Change{From: spec.From, To: spec.To, Settings: spec.settings(), Limit: time.Hour}
	res, _ := pipeline.RollBackChange(ctx, c, s, ch, current, 1, reason, reportTo(&diags))
	return res, diags
}

// Claim takes s's lease as a resource holding mine would.
func Claim(ctx context.Context, s Subject, mine string, adopt bool, to weights.Split, attempt string) (string, diag.Diagnostics) {
	var diags diag.Diagnostics
	l, _ := pipeline.Claim(ctx, s.Attr().Parent(), s, "conformance", mine, adopt, to, attempt, reportTo(&diags))
	return l.Token, diags
}

// ReleaseLease gives s's lease up as destroy does, leaving last's outcome.
func ReleaseLease(ctx context.Context, s Subject, token string, last types.Object) diag.Diagnostics {
	var diags diag.Diagnostics
	pipeline.ReleaseLease(ctx, s, token, recordOf(last), reportTo(&diags))
	return diags
}

// StillOwned is the ownership check of a destroy that would write.
func StillOwned(ctx context.Context, s Subject, token string) (string, bool) {
	var diags diag.Diagnostics
	return pipeline.StillOwned(ctx, s, token, reportTo(&diags))
}

// Restore is on_destroy = "restore" of a subject that recorded `recorded`.
func Restore(ctx context.Context, c *awsclient.Client, s Subject, recorded, back weights.Split) diag.Diagnostics {
	var diags diag.Diagnostics
	pipeline.RestoreSubject(ctx, c, s, recorded, back, reportTo(&diags))
	return diags
}

// Summaries lists the summaries of diagnostics, for messages.
func Summaries(d diag.Diagnostics) string {
	var out []string
	for _, x := range d {
		out = append(out, fmt.Sprintf("%s: %s", x.Severity(), x.Summary()))
	}
	return fmt.Sprint(out)
}

// PublishAndClose sends n notices through a notifier to topic, as a run of
// the pipeline would, then ends the run as the pipeline does
// (pipeline.CloseNotices): its diagnostics, and the notices counted undelivered.
func PublishAndClose(c *awsclient.Client, topic string, n int) (diag.Diagnostics, int) {
	runner := &rollout.Runner{Clock: c.Clock, SubjectID: "listener/x", SubjectKind: "listener"}
	notifier := c.NewNotifier(topic, "")
	pipeline.Notifiers.Store(runner, notifier)
	for i := 0; i < n; i++ {
		_ = notifier.Notify(context.Background(), rollout.Notice{Version: rollout.NoticeVersion, Type: rollout.NoticeStepCompleted, Step: i + 1, Steps: n})
	}
	var diags diag.Diagnostics
	var res rollout.Result
	pipeline.CloseNotices(runner, &res, pipeline.Settings{Settings: rollout.Settings{Topic: topic}}, reportTo(&diags))
	return diags, res.NotifyFailures
}

// problemPathOf is a framework path as the pipeline's (the tests name
// subjects' attributes so).
func problemPathOf(p path.Path) problem.Path {
	var out problem.Path
	for _, st := range p.Steps() {
		switch st := st.(type) {
		case path.PathStepAttributeName:
			out = out.Name(string(st))
		case path.PathStepElementKeyString:
			out = out.Key(string(st))
		case path.PathStepElementKeyInt:
			out = out.Index(int(st))
		}
	}
	return out
}
