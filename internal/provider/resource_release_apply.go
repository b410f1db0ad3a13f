package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/rolloutdev/terraform-provider-rollout/internal/awsclient"
	"github.com/rolloutdev/terraform-provider-rollout/internal/graph"
	"github.com/rolloutdev/terraform-provider-rollout/internal/pipeline"
	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

// serviceRun is one service's part of a release apply.
type serviceRun struct {
	name    string
	plan    serviceModel
	old     *serviceModel
	subject listenerSubject
	ch      pipeline.Change
	steps   []rollout.PlannedStep
	lease   pipeline.Lease
	out     pipeline.Outcome
	diags   diag.Diagnostics
	// status and reason, once it ran (unchanged, or a run's outcome).
	status, reason string
	rolledBack     *rollout.Result
	// found is what the read before write found: the form a write that
	// moves no traffic (stickiness) expects besides the plan's.
	found weights.Split
}

// subject is a service's forward action as the traffic pipeline sees it.
func (r *releaseResource) subject(name string, s serviceModel) listenerSubject {
	return listenerSubject{c: r.client, ref: s.ref(), sticky: stickinessFrom(s.Stickiness), attr: svcAt(name).Name("target_groups"),
		goBack: func(from weights.Split) string {
			return fmt.Sprintf("set services[%q].target_groups to the weights from before the rollout started (%s)", name, from.Short())
		}}
}

func (r *releaseResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan releaseModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() || r.client == nil {
		return
	}
	limit, d := plan.Timeouts.Create(ctx, defaultApplyTimeout)
	resp.Diagnostics.Append(d...)
	if got, ok := r.apply(ctx, plan, nil, limit, &resp.Diagnostics); ok {
		resp.Diagnostics.Append(resp.State.Set(ctx, &got)...)
	}
}

func (r *releaseResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state releaseModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() || r.client == nil {
		return
	}
	limit, d := plan.Timeouts.Update(ctx, defaultApplyTimeout)
	resp.Diagnostics.Append(d...)
	if got, ok := r.apply(ctx, plan, &state, limit, &resp.Diagnostics); ok {
		resp.Diagnostics.Append(resp.State.Set(ctx, &got)...)
	}
}

// releaseRun is one apply of a release, phase by phase.
type releaseRun struct {
	r        *releaseResource
	plan     releaseModel
	services map[string]serviceModel
	prior    map[string]serviceModel
	gp       graph.Plan
	runs     map[string]*serviceRun
	outs     map[string]graph.Outcome
	failed   []string
	started  time.Time
	deadline time.Time
	limit    time.Duration
}

// apply runs the release: claim and check every service, give up the
// leases of services that left, run the waves, roll back what it started
// when asked, and record. Every refusal comes before anything moves: a
// refusal in the first phase moves nothing and saves nothing. After it, the
// state records what each service serves and how it ended, whatever the
// outcome.
func (r *releaseResource) apply(ctx context.Context, plan releaseModel, state *releaseModel, limit time.Duration, diags *diag.Diagnostics) (releaseModel, bool) {
	run, ok := r.newReleaseRun(ctx, plan, state, limit, diags)
	if !ok {
		return plan, false
	}
	of := onFailureOf(ctx, plan.OnFailure)
	if !run.claimAndCheck(ctx, of, diags) {
		return plan, false
	}
	run.releaseServicesThatLeft(ctx, diags)
	run.runWaves(ctx, of)
	if len(run.failed) > 0 && of.rollback == rollbackStarted {
		run.rollBackStarted(ctx)
	}
	return run.record(ctx, diags), true
}

func (r *releaseResource) newReleaseRun(ctx context.Context, plan releaseModel, state *releaseModel, limit time.Duration, diags *diag.Diagnostics) (*releaseRun, bool) {
	run := &releaseRun{r: r, plan: plan, started: r.client.Clock.Now(), limit: limit, runs: map[string]*serviceRun{}}
	run.deadline = run.started.Add(limit)
	var d diag.Diagnostics
	run.services, _, d = servicesOf(ctx, plan.Services)
	diags.Append(d...)
	if state != nil {
		run.prior, _, d = servicesOf(ctx, state.Services)
		diags.Append(d...)
	}
	// ValidateConfig reported the graph's problems and warnings already.
	gp, ok := releaseGraph(ctx, run.services, plan.Dependencies, diags, false)
	if !ok {
		addError(diags, pathOf(path.Root("dependencies")), "Cannot Order Release", nil,
			"The services could not be ordered by their dependencies, though the configuration was checked at plan time.", "This is a bug in the provider; please report it.")
	}
	run.gp = gp
	return run, !diags.HasError()
}

// claimAndCheck claims and checks every service before anything moves;
// one refusal gives every lease back as it was.
func (run *releaseRun) claimAndCheck(ctx context.Context, of onFailure, diags *diag.Diagnostics) bool {
	stab := stabilizationOf(ctx, run.plan.Stabilization)
	needs := validated(ctx, run.plan.Dependencies)
	for _, name := range run.gp.Order() {
		s := run.services[name]
		sr := &serviceRun{name: name, plan: s, subject: run.r.subject(name, s)}
		run.runs[name] = sr
		if old, had := run.prior[name]; had && old.ref() == s.ref() {
			sr.old = &old
		}
	}
	// The checks read and tag AWS: they run concurrently (at most
	// maxPrecheck at once), each service with its own diagnostics, merged in
	// order.
	var wg sync.WaitGroup
	sem := make(chan struct{}, maxPrecheck)
	for _, name := range run.gp.Order() {
		sr := run.runs[name]
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			run.r.prepare(ctx, sr, run.plan.Adopt.ValueBool(), of, stab, needs[sr.name])
		}()
	}
	wg.Wait()
	for _, name := range run.gp.Order() {
		diags.Append(run.runs[name].diags...)
		run.runs[name].diags = nil
	}
	if !diags.HasError() {
		return true
	}
	for _, name := range run.gp.Order() {
		pipeline.GiveBack(ctx, run.runs[name].subject, run.runs[name].lease, reportTo(diags))
	}
	return false
}

// releaseServicesThatLeft gives up the leases of services no longer in the
// release (or on another listener); their traffic stays as it is.
func (run *releaseRun) releaseServicesThatLeft(ctx context.Context, diags *diag.Diagnostics) {
	for name, old := range run.prior {
		if sr, ok := run.runs[name]; !ok || sr.old == nil {
			pipeline.ReleaseLease(ctx, listenerSubject{c: run.r.client, ref: old.ref()}, old.OwnerTag.ValueString(), recordOf(old.LastRollout), reportTo(diags))
		}
	}
}

// runWaves runs the services by the strategy, each through the traffic
// pipeline.
func (run *releaseRun) runWaves(ctx context.Context, of onFailure) {
	c := run.r.client
	tflog.Info(ctx, "release starting", map[string]any{"waves": fmt.Sprint(run.gp.Waves), "strategy": run.plan.Strategy.ValueString()})
	opts := graph.Options{Strategy: graph.Strategy(run.plan.Strategy.ValueString()), MaxParallel: int(run.plan.MaxParallel.ValueInt64()), Stop: of.stop}
	run.outs = graph.Run(ctx, run.gp, opts, func(ctx context.Context, name string) (bool, string) {
		sr := run.runs[name]
		if len(sr.steps) == 0 {
			sr.status = statusUnchanged
			run.r.setStickiness(ctx, sr)
			if sr.diags.HasError() {
				return false, firstError(sr.diags)
			}
			return true, ""
		}
		left := run.deadline.Sub(c.Clock.Now())
		if left <= 0 {
			sr.diags.AddAttributeError(path.Root("timeouts"), "Release Timed Out", pipeline.Detail(nil,
				fmt.Sprintf("The release reached its %s timeout before %s could start; nothing of it was moved.", run.limit, name),
				"Raise the timeout in timeouts, or shorten the pauses, then apply again."))
			return false, "the release reached its timeout before it started"
		}
		sr.ch.Limit, sr.ch.ReadFirst = left, pipeline.ReadsFirst
		tflog.Info(ctx, "release service starting", map[string]any{"service": name, "wave": run.gp.WaveOf(name) + 1})
		sr.out = pipeline.Run(ctx, c, sr.subject, sr.ch, reportTo(&sr.diags))
		switch {
		case sr.out.Moved:
			sr.status, sr.reason = string(sr.out.Res.Status), sr.out.Res.Summary()
		case sr.diags.HasError():
			sr.status, sr.reason = string(graph.Failed), firstError(sr.diags)
		}
		if sr.diags.HasError() || sr.out.Moved && sr.out.Res.Status != rollout.Succeeded {
			return false, sr.reason
		}
		return true, sr.reason
	})
	for _, name := range run.gp.Order() {
		if run.outs[name].Status == graph.Failed {
			run.failed = append(run.failed, name)
		}
	}
}

// rollBackStarted rolls back, last finished first, every service this
// apply moved (on_failure.rollback = "started"), on a live context: a
// service someone changed since is left as it is.
func (run *releaseRun) rollBackStarted(ctx context.Context) {
	c := run.r.client
	why := fmt.Sprintf("the release rolled back the services it moved because %s failed (on_failure.rollback = \"started\")", strings.Join(run.failed, ", "))
	for _, name := range graph.Started(run.outs) {
		sr := run.runs[name]
		if !sr.out.Moved {
			continue
		}
		ch := sr.ch
		ch.Limit = max(run.deadline.Sub(c.Clock.Now()), rollout.DefaultRollbackGrace)
		if res, ok := pipeline.RollBackChange(ctx, c, sr.subject, ch, sr.out.Res.Current, len(sr.out.Steps), why, reportTo(&sr.diags)); ok {
			sr.rolledBack = &res
		}
	}
}

// record is the release's new state: each service's real weights,
// last_rollout, status and reason, and last_release; it reports Release
// Failed when a service failed.
func (run *releaseRun) record(ctx context.Context, diags *diag.Diagnostics) releaseModel {
	c, plan, services := run.r.client, run.plan, run.services
	var summary []string
	for _, name := range run.gp.Order() {
		sr, oc := run.runs[name], run.outs[name]
		s := sr.plan
		s.OwnerTag = types.StringValue(sr.lease.Token)
		cur := sr.ch.From
		last := types.ObjectNull(lastRolloutAttrTypes)
		if sr.old != nil {
			last = sr.old.LastRollout
		}
		status, reason := string(oc.Status), oc.Reason
		switch {
		case sr.rolledBack != nil:
			cur, last = sr.rolledBack.Current, recordValue(pipeline.RecordChange(sr.ch, *sr.rolledBack))
			status, reason = statusRolledBack, sr.rolledBack.Summary()
			if sr.rolledBack.Status != rollout.RolledBack {
				status = string(graph.Failed)
			}
		case sr.out.Moved:
			cur, last = sr.out.Res.Current, recordValue(pipeline.RecordChange(sr.ch, sr.out.Res))
			status, reason = sr.status, sr.reason
		case sr.status == statusUnchanged && sr.old != nil && !sr.old.Status.IsNull():
			// Nothing to move: it keeps how it last ended, as the plan said.
			cur, status, reason = sr.ch.To, sr.old.Status.ValueString(), sr.old.Reason.ValueString()
		case sr.status == statusUnchanged:
			cur, status, reason = sr.ch.To, statusUnchanged, ""
		case sr.status != "":
			status, reason = sr.status, sr.reason
		}
		got := cur.OrderedLike(sr.ch.To)
		s.TargetGroups = listFromSplit(got)
		s.Percentages = percentagesValue(got)
		switch {
		case len(sr.steps) > 0:
			s.PlannedSteps = plannedStepsValue(sr.steps)
		case sr.old != nil && !sr.old.PlannedSteps.IsNull():
			s.PlannedSteps = sr.old.PlannedSteps
		default:
			s.PlannedSteps = plannedStepsValue(nil)
		}
		s.LastRollout = last
		s.Status, s.Reason = types.StringValue(status), types.StringValue(reason)
		services[name] = s
		line := name + " " + strings.ReplaceAll(status, "_", " ")
		if reason != "" && status != string(graph.Succeeded) {
			line += " (" + reason + ")"
		}
		summary = append(summary, line)
		diags.Append(sr.diags...)
	}
	v, d := servicesValue(ctx, services)
	diags.Append(d...)
	plan.Services = v
	plan.PlannedWaves = plannedWavesValue(run.gp)
	id, _ := releaseID(services)
	plan.ID = types.StringValue(id)
	st := string(graph.Succeeded)
	if len(run.failed) > 0 {
		st = string(graph.Failed)
	}
	if run.ran() || plan.LastRelease.IsUnknown() {
		plan.LastRelease = types.ObjectValueMust(lastReleaseAttrTypes, map[string]attr.Value{
			"status":      types.StringValue(st),
			"summary":     types.StringValue(strings.Join(summary, "; ")),
			"started_at":  types.StringValue(run.started.UTC().Format(time.RFC3339)),
			"finished_at": types.StringValue(c.Clock.Now().UTC().Format(time.RFC3339)),
		})
	}
	// Otherwise nothing was to move (the plan kept last_release as the
	// state has it): it still says how the last release that moved went.
	if len(run.failed) > 0 {
		diags.AddError("Release Failed", pipeline.Detail(nil,
			fmt.Sprintf("%s failed. What each service did: %s.", strings.Join(run.failed, ", "), strings.Join(summary, "; ")),
			"The state records what each service serves now and why (services[*].status and reason). The next plan shows what is left to do; "+
				"apply refuses a change that did not ship until its rollout.attempt changes, so fix the cause, change that service's rollout.attempt and apply again: "+
				"the services that succeeded stay, the others run."))
	}
	return plan
}

// ran reports whether a service of the release had steps to run: the
// apply was a release, not only a change of settings.
func (run *releaseRun) ran() bool {
	for _, sr := range run.runs {
		if len(sr.steps) > 0 {
			return true
		}
	}
	return false
}

// maxPrecheck bounds the services claimed and checked at once.
const maxPrecheck = 8

// prepare claims and checks one service before anything moves: its lease,
// where it starts from (the state's weights, or a read for a new service),
// and the pipeline's checks up to the first write. Problems go to run.diags.
func (r *releaseResource) prepare(ctx context.Context, run *serviceRun, adopt bool, of onFailure, stab *pipeline.StabilizeSettings, validated bool) {
	c, s, name := r.client, run.plan, run.name
	to, _, _ := splitFromList(ctx, s.TargetGroups)
	settings, d := settingsFrom(ctx, s.Rollout)
	run.diags.Append(d...)
	onNetwork(s.ListenerARN, &settings)
	ch := pipeline.Change{To: to, Settings: settings, Planned: plannedOf(s.PlannedSteps, plannedStepsValue), Last: pipeline.Record{}, Hold: of.rollback == rollbackNone}
	mine := ""
	if run.old != nil {
		ch.From, _, _ = splitFromList(ctx, run.old.TargetGroups)
		ch.Last, ch.ReadFirst = recordOf(run.old.LastRollout), pipeline.ReadsFirst
		mine = run.old.OwnerTag.ValueString()
	} else {
		live, err := pipeline.ReadSplit(ctx, run.subject)
		if err != nil {
			run.subject.ReadError(reportTo(&run.diags), err)
			return
		}
		ch.From = live
	}
	if stab != nil && validated {
		ch.Stabilize = stab
	}
	run.ch = ch
	// The read-only checks first; the lease is the first write.
	steps, read, ok := pipeline.CheckChange(ctx, c, run.subject, ch, reportTo(&run.diags))
	if !ok {
		return
	}
	run.found = pipeline.SplitRead(read)
	if !ch.From.Equal(to) && !pipeline.RefuseWhileForeign(ctx, c, controller(s.ControlledBy), svcAt(name).Name("target_groups"), reportTo(&run.diags)) {
		return
	}
	l, ok := pipeline.Claim(ctx, svcAt(name), run.subject, releaseType, mine, adopt, to, settings.Attempt, reportTo(&run.diags))
	if !ok {
		return
	}
	run.lease, run.steps = l, steps
	run.ch.LeaseToken = l.Token
}

// setStickiness writes a service's stickiness when only it changed.
func (r *releaseResource) setStickiness(ctx context.Context, run *serviceRun) {
	if run.old == nil || run.plan.Stickiness.Equal(run.old.Stickiness) {
		return
	}
	subj := listenerSubject{c: r.client, ref: run.plan.ref(), sticky: stickinessFrom(run.plan.Stickiness)}
	expect := []weights.Split{run.ch.To}
	if run.found != nil {
		expect = append(expect, run.found)
	}
	if err := subj.set(ctx, expect, run.ch.To); err != nil {
		pipeline.AddWriteError(&run.diags, r.client, run.plan.ref(), err)
	}
}

// firstError is the first error's summary and detail, in one line.
func firstError(d diag.Diagnostics) string {
	for _, e := range d.Errors() {
		return rollout.Bound(e.Summary() + ": " + strings.ReplaceAll(e.Detail(), "\n", " "))
	}
	return ""
}

func (r *releaseResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state releaseModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() || r.client == nil {
		return
	}
	services, _, d := servicesOf(ctx, state.Services)
	resp.Diagnostics.Append(d...)
	gone := 0
	for _, name := range sortedNames(services) {
		s := services[name]
		ref := s.ref()
		acts, err := r.client.ReadActions(ctx, ref)
		if errors.Is(err, awsclient.ErrNotFound) {
			gone++
			resp.Diagnostics.AddAttributeWarning(svcPath(name), fmt.Sprintf("%s Not Found", pipeline.Title(ref.Kind())), pipeline.Detail(nil,
				fmt.Sprintf("The %s %s of services[%q] no longer exists.", ref.Kind(), ref.ID(), name),
				"Remove the service from the release, or point it at the listener or rule that replaced it."))
			continue
		}
		if err != nil {
			pipeline.AddReadError(&resp.Diagnostics, r.client, ref, err)
			return
		}
		prior, _, _ := splitFromList(ctx, s.TargetGroups)
		fwd, _ := acts.Forward()
		got := fwd.Split.OrderedLike(prior)
		s.TargetGroups = listFromSplit(got)
		s.Percentages = percentagesValue(got)
		s.Stickiness = stickinessValue(fwd.Stickiness, s.Stickiness)
		services[name] = s
	}
	if gone == len(services) && gone > 0 {
		tflog.Warn(ctx, "every listener or rule of the release is gone; removing it from state", nil)
		resp.State.RemoveResource(ctx)
		return
	}
	v, d := servicesValue(ctx, services)
	resp.Diagnostics.Append(d...)
	state.Services = v
	if state.Strategy.IsNull() {
		state.Strategy = types.StringValue(string(graph.Waves))
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// Delete gives up every service's lease. Traffic never moves on destroy:
// each listener keeps the forward action the release last set.
func (r *releaseResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state releaseModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() || r.client == nil {
		return
	}
	services, _, d := servicesOf(ctx, state.Services)
	resp.Diagnostics.Append(d...)
	for _, name := range sortedNames(services) {
		s := services[name]
		pipeline.ReleaseLease(ctx, listenerSubject{c: r.client, ref: s.ref()}, s.OwnerTag.ValueString(), recordOf(s.LastRollout), reportTo(&resp.Diagnostics))
	}
	tflog.Info(ctx, "release destroyed; every forward action left as it is", map[string]any{"services": len(services)})
}

// ImportState takes name=ARN,… (listener or rule ARNs): the services, their
// weights read from AWS. Their owner tags are not copied: the first apply
// takes leases of its own, refused while another resource owns a service
// unless adopt. Dependencies,
// rollouts and the rest come from the configuration at the next plan, which
// moves nothing when the configured weights are the ones served.
func (r *releaseResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	bad := func(why string) {
		addError(&resp.Diagnostics, nil, "Invalid Import ID", nil, why,
			"Import with the services' names and listener or rule ARNs, comma-separated: api=arn:aws:elasticloadbalancing:…:listener/app/…,web=arn:aws:elasticloadbalancing:…:listener-rule/app/… (the release's id attribute has this form).")
	}
	services := map[string]serviceModel{}
	for _, part := range strings.Split(req.ID, ",") {
		name, id, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || name == "" {
			bad(fmt.Sprintf("%q is not name=ARN.", part))
			return
		}
		if !serviceNameRE.MatchString(name) {
			bad(fmt.Sprintf("%q is not a service name: 1 to 63 lower-case letters, digits, _ and -, starting with a letter.", name))
			return
		}
		if _, dup := services[name]; dup {
			bad(fmt.Sprintf("The service %q is named twice.", name))
			return
		}
		attrName := refAttrOf(id)
		if attrName == "" {
			bad(fmt.Sprintf("%q (service %q) is neither a load balancer listener ARN nor a listener rule ARN.", id, name))
			return
		}
		s := serviceModel{
			ListenerARN: types.StringNull(), RuleARN: types.StringNull(),
			TargetGroups: types.ListNull(targetGroupObjectType), Stickiness: types.ObjectNull(stickinessAttrTypes), Rollout: types.ObjectNull(rolloutObjectType()),
			ControlledBy: types.ObjectNull(controlledByAttr().GetType().(types.ObjectType).AttrTypes),
			Percentages:  types.MapNull(types.Float64Type), PlannedSteps: types.ListNull(plannedStepObjectType), LastRollout: types.ObjectNull(lastRolloutAttrTypes),
			OwnerTag: types.StringNull(), Status: types.StringNull(), Reason: types.StringNull(),
		}
		if attrName == "rule_arn" {
			s.RuleARN = types.StringValue(id)
		} else {
			s.ListenerARN = types.StringValue(id)
		}
		if r.client != nil {
			importOwner(ctx, listenerSubject{c: r.client, ref: s.ref()}, resp)
		}
		services[name] = s
	}
	v, d := servicesValue(ctx, services)
	resp.Diagnostics.Append(d...)
	id, _ := releaseID(services)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), id)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("services"), v)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("strategy"), string(graph.Waves))...)
}
