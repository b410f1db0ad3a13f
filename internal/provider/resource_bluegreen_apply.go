package provider

// Applying rollout_deployment_bluegreen: create, update (settings in place,
// the idle color replaced, a flip through the traffic pipeline).

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/rolloutdev/terraform-provider-rollout/internal/awsclient"
	"github.com/rolloutdev/terraform-provider-rollout/internal/bluegreen"
	"github.com/rolloutdev/terraform-provider-rollout/internal/pipeline"
	"github.com/rolloutdev/terraform-provider-rollout/internal/problem"
	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

func (r *blueGreenResource) targetGroup(ctx context.Context, m blueGreenModel, c bluegreen.Color, diags *diag.Diagnostics) awsclient.TargetGroup {
	var h healthCheckModel
	diags.Append(m.HealthCheck.As(ctx, &h, basetypes.ObjectAsOptions{})...)
	tags := stringMap(ctx, m.Tags, diags)
	tags[colorTag] = string(c)
	return awsclient.TargetGroup{
		Port: int(m.Port.ValueInt64()), Protocol: m.Protocol.ValueString(), VPC: m.VPCID.ValueString(), TargetType: m.TargetType.ValueString(),
		HealthCheck: awsclient.HealthCheck{
			Path: h.Path.ValueString(), HealthyThreshold: int(h.HealthyThreshold.ValueInt64()), UnhealthyThreshold: int(h.UnhealthyThreshold.ValueInt64()),
			Interval: int(h.Interval.ValueInt64()), Timeout: int(h.Timeout.ValueInt64()), Matcher: h.Matcher.ValueString(),
		},
		DeregistrationDelay: int(m.DeregistrationDelay.ValueInt64()), Tags: tags,
	}
}

func randomSuffix() string {
	b := make([]byte, 2)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (r *blueGreenResource) createColor(ctx context.Context, m blueGreenModel, c bluegreen.Color, diags *diag.Diagnostics) string {
	tg := r.targetGroup(ctx, m, c, diags)
	tg.Name = bluegreen.Name(m.NamePrefix.ValueString(), c, randomSuffix())
	a, err := r.client.CreateTargetGroup(ctx, tg)
	if err != nil {
		if a != "" {
			_ = r.client.DeleteTargetGroup(ctx, a)
		}
		diags.AddError("Cannot Create Target Group", pipeline.Detail(err, fmt.Sprintf("Creating the %s target group %s failed.", c, tg.Name),
			"Check the VPC id, the port and protocol, and the credentials' elasticloadbalancing:CreateTargetGroup and ModifyTargetGroupAttributes permissions."))
		return ""
	}
	tflog.Info(ctx, "created target group", map[string]any{"color": string(c), "arn": a})
	return a
}

type replacedActions struct {
	Listener     json.RawMessage `json:"listener"`
	TestListener json.RawMessage `json:"test_listener,omitempty"`
}

func (r *blueGreenResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan blueGreenModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() || r.client == nil {
		return
	}
	if !pipeline.RefuseWhileForeign(ctx, r.client, controller(plan.ControlledBy), problem.At("active"), reportTo(&resp.Diagnostics)) {
		return
	}
	found, ok := r.readReplaced(ctx, plan, &resp.Diagnostics)
	if !ok {
		return
	}
	subj := r.subject(plan, bluegreen.Color(plan.Active.ValueString()))
	l, ok := pipeline.Claim(ctx, nil, subj, blueGreenType, "", plan.Adopt.ValueBool(), nil, "", reportTo(&resp.Diagnostics))
	if !ok {
		return
	}
	plan.OwnerTag = types.StringValue(l.Token)
	if !r.createColors(ctx, &plan, &resp.Diagnostics) {
		pipeline.GiveBack(ctx, subj, l, reportTo(&resp.Diagnostics))
		return
	}
	if !r.takeOver(ctx, &plan, subj, l, found, &resp.Diagnostics) {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// replaced is what the listener and the test listener forward to before a
// create.
type replaced struct {
	listener, testListener awsclient.Actions
	rec                    replacedActions
}

// readReplaced reads what the listener and the test listener forward to
// before a create: destroy puts it back.
func (r *blueGreenResource) readReplaced(ctx context.Context, plan blueGreenModel, diags *diag.Diagnostics) (replaced, bool) {
	var found replaced
	ref := plan.ref()
	current, err := r.client.ReadActions(ctx, ref)
	if err != nil {
		pipeline.AddReadError(diags, r.client, ref, err)
		return found, false
	}
	found.listener = current
	enc, _ := current.Encode()
	found.rec.Listener = json.RawMessage(enc)
	if tl := plan.TestListenerARN.ValueString(); tl != "" {
		if found.testListener, err = r.client.ReadActions(ctx, awsclient.Ref{ListenerARN: tl}); err != nil {
			pipeline.AddReadError(diags, r.client, awsclient.Ref{ListenerARN: tl}, err)
			return found, false
		}
		enc, _ := found.testListener.Encode()
		found.rec.TestListener = json.RawMessage(enc)
	}
	return found, true
}

// createColors creates both target groups, or neither.
func (r *blueGreenResource) createColors(ctx context.Context, plan *blueGreenModel, diags *diag.Diagnostics) bool {
	blue := r.createColor(ctx, *plan, bluegreen.Blue, diags)
	if blue == "" {
		return false
	}
	green := r.createColor(ctx, *plan, bluegreen.Green, diags)
	if green == "" {
		_ = r.client.DeleteTargetGroup(ctx, blue)
		return false
	}
	plan.BlueARN, plan.GreenARN = types.StringValue(blue), types.StringValue(green)
	return true
}

// takeOver points the listener, then the test listener, at the new target
// groups and records it in plan. It returns whether to save plan: after a
// write whose outcome is unknown the target groups stay, and the state that
// names them, so destroy releases it first; after any other failure they go
// and the lease is given back.
func (r *blueGreenResource) takeOver(ctx context.Context, plan *blueGreenModel, subj listenerSubject, l pipeline.Lease, found replaced, diags *diag.Diagnostics) bool {
	active := bluegreen.Color(plan.Active.ValueString())
	w := wantWeights(active)
	fwd := awsclient.Forward{Split: splitOf(*plan, w)}
	was, _ := found.listener.Forward()
	if err := subj.set(ctx, []weights.Split{was.Split}, fwd.Split); err != nil {
		pipeline.AddWriteError(diags, r.client, plan.ref(), err)
		if errors.Is(err, rollout.ErrUnknownWeights) {
			recordCreated(plan, found.rec, map[bluegreen.Color]int{bluegreen.Blue: 0, bluegreen.Green: 0}, plannedStepsValue(nil), types.ObjectNull(lastRolloutAttrTypes))
			return true
		}
		_ = r.client.DeleteTargetGroup(ctx, plan.BlueARN.ValueString())
		_ = r.client.DeleteTargetGroup(ctx, plan.GreenARN.ValueString())
		pipeline.GiveBack(ctx, subj, l, reportTo(diags))
		return false
	}
	r.pointTestListener(ctx, plan.TestListenerARN, found.testListener, plan.arnOf(active.Other()), diags)
	now := r.client.Clock.Now()
	recordCreated(plan, found.rec, w, plannedStepsValue([]rollout.PlannedStep{{Percent: 100, Weights: fwd.Split}}),
		recordValue(pipeline.NewRecord(rollout.Result{Status: rollout.Succeeded, StepReached: 1, Steps: 1, Current: fwd.Split, Started: now, Finished: now}, fwd.Split, attemptOf(ctx, plan.Rollout))))
	return true
}

// recordCreated records a create in plan: what the listener forwarded to
// before (rec), both target groups made from the plan's settings, the
// weights w the listener serves, and the steps and the record of the write.
func recordCreated(plan *blueGreenModel, rec replacedActions, w map[bluegreen.Color]int, steps types.List, last types.Object) {
	active := bluegreen.Color(plan.Active.ValueString())
	b, _ := json.Marshal(rec)
	plan.ID, plan.ReplacedActions = types.StringValue(plan.ref().ID()), types.StringValue(string(b))
	plan.Traffic = trafficValue(w)
	fp := plan.settings().Fingerprint()
	plan.Settings = settingsValue(map[string]string{"blue": fp, "green": fp})
	plan.LiveARN, plan.IdleARN = types.StringValue(plan.arnOf(active)), types.StringValue(plan.arnOf(active.Other()))
	plan.PreviousActive, plan.History = types.StringNull(), types.ListValueMust(historyObjectType, nil)
	plan.PlannedSteps = steps
	plan.LastRollout = last
}

func (r *blueGreenResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state blueGreenModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() || r.client == nil {
		return
	}
	st := r.stateOf(ctx, state, &resp.Diagnostics)
	active := bluegreen.Color(plan.Active.ValueString())
	d := bluegreen.Decide(st, active, plan.settings())
	if d.Refused != "" {
		resp.Diagnostics.AddAttributeError(path.Root("active"), "Change Needs Two Applies", pipeline.Detail(nil, d.Refused+"."))
		return
	}
	acts := carryState(&plan, state)
	save := func() { resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...) }
	if h, held := pipeline.HeldOf(recordOf(state.LastRollout)); held {
		// A held flip: promote it, let its timeout act, or take it back.
		if r.whileHeld(ctx, &plan, state, active, h, acts, &resp.Diagnostics) {
			save()
		}
		return
	}
	if recordOf(state.LastRollout).Status == pipeline.StatusRunning {
		// A detached flip runs: back to the color it started from aborts
		// it; anything else was refused at plan, and is again.
		if r.whileRunning(ctx, &plan, state, st, active, &resp.Diagnostics) {
			save()
		}
		return
	}
	// 0. Read before write, then the lease.
	flipping := !serves(st.Weights, wantWeights(active))
	found, ok := r.checkAndClaim(ctx, &plan, state, st, active, flipping, &resp.Diagnostics)
	if !ok {
		return
	}
	// 1. Settings AWS changes in place, on each target group kept.
	if !r.updateInPlace(ctx, plan, state, st, d, &resp.Diagnostics) {
		return
	}
	// 2. Replace the idle target group: create the new one, point every
	// forward action at it, then delete the old one.
	if c := d.Replace; c != "" {
		if !r.replaceIdle(ctx, &plan, state, st, c, found, &resp.Diagnostics) {
			save()
			return
		}
		found = splitOf(plan, st.Weights)
	}
	// 3. Move traffic if it is not where it should be.
	if flipping {
		r.flip(ctx, &plan, state, st, active, found, &resp.Diagnostics)
	} else {
		plan.Active = types.StringValue(string(active))
	}
	live := bluegreen.LiveOf(r.stateOf(ctx, plan, &resp.Diagnostics).Weights, bluegreen.Color(plan.Active.ValueString()))
	plan.LiveARN, plan.IdleARN = types.StringValue(plan.arnOf(live)), types.StringValue(plan.arnOf(live.Other()))
	save()
}

// carryState carries the state's facts into plan; the steps of an update
// change them as they happen. It returns whether the plan showed the apply
// acting (heldChange).
func carryState(plan *blueGreenModel, state blueGreenModel) bool {
	plan.ID, plan.ReplacedActions = state.ID, state.ReplacedActions
	plan.BlueARN, plan.GreenARN = state.BlueARN, state.GreenARN
	plan.Traffic, plan.Settings, plan.History, plan.PreviousActive = state.Traffic, state.Settings, state.History, state.PreviousActive
	acts := plan.LastRollout.IsUnknown()
	if plan.LastRollout.IsUnknown() {
		plan.LastRollout = state.LastRollout
	}
	plan.Active = state.Active
	return acts
}

// checkAndClaim reads before write: this resource still owns the listener,
// which serves what the plan was made from; a flip to the color last rolled
// back needs a new attempt. Every refusal writes nothing; then it claims the
// lease, the first write. It returns what the listener serves, maybe in
// another form than the state's (the single target group form): the next
// write expects it, and writes both colors again.
func (r *blueGreenResource) checkAndClaim(ctx context.Context, plan *blueGreenModel, state blueGreenModel, st bluegreen.State, active bluegreen.Color, flipping bool, diags *diag.Diagnostics) (weights.Split, bool) {
	if flipping {
		to := splitOf(state, wantWeights(active))
		if pipeline.RefuseRetry(nil, recordOf(state.LastRollout), to, attemptOf(ctx, plan.Rollout), reportTo(diags), pipeline.AtApply) {
			return nil, false
		}
		if !pipeline.RefuseWhileForeign(ctx, r.client, controller(plan.ControlledBy), problem.At("active"), reportTo(diags)) {
			return nil, false
		}
	}
	read, ok := pipeline.ReadBeforeWrite(ctx, r.client, r.subject(state, st.Active), splitOf(state, st.Weights), reportTo(diags))
	if !ok {
		return nil, false
	}
	l, ok := pipeline.Claim(ctx, nil, r.subject(state, st.Active), blueGreenType, state.OwnerTag.ValueString(), plan.Adopt.ValueBool(), nil, "", reportTo(diags))
	if !ok {
		return nil, false
	}
	plan.OwnerTag = types.StringValue(l.Token)
	return read.Split, true
}

// updateInPlace changes the settings AWS changes in place on each target
// group kept (not the one d replaces).
func (r *blueGreenResource) updateInPlace(ctx context.Context, plan, state blueGreenModel, st bluegreen.State, d bluegreen.Decision, diags *diag.Diagnostics) bool {
	for _, c := range bluegreen.Colors {
		if c == d.Replace || st.Fingerprints[c] == bluegreen.Missing {
			continue
		}
		have := r.targetGroup(ctx, state, c, diags)
		want := r.targetGroup(ctx, plan, c, diags)
		have.ARN = state.arnOf(c)
		if err := r.client.UpdateTargetGroup(ctx, have, want); err != nil {
			diags.AddError("Cannot Update Target Group", pipeline.Detail(err, fmt.Sprintf("Changing the %s target group %s failed.", c, have.ARN),
				"Check the credentials' elasticloadbalancing:ModifyTargetGroup, ModifyTargetGroupAttributes, AddTags and RemoveTags permissions."))
			return false
		}
	}
	return true
}

// replaceIdle replaces the idle color c's target group; the listener
// serves found (the state's weights, maybe in another form).
func (r *blueGreenResource) replaceIdle(ctx context.Context, plan *blueGreenModel, state blueGreenModel, st bluegreen.State, c bluegreen.Color, found weights.Split, diags *diag.Diagnostics) bool {
	old := state.arnOf(c)
	neu := r.createColor(ctx, *plan, c, diags)
	if neu == "" {
		return false
	}
	plan.setARN(c, types.StringValue(neu))
	subj := listenerSubject{c: r.client, ref: state.ref()}
	if err := subj.set(ctx, []weights.Split{found}, splitOf(*plan, st.Weights)); err != nil {
		_ = r.client.DeleteTargetGroup(ctx, neu)
		plan.setARN(c, state.arnAttr(c))
		pipeline.AddWriteError(diags, r.client, state.ref(), err)
		return false
	}
	if c == st.Active.Other() && !r.pointTestListener(ctx, state.TestListenerARN, nil, neu, diags) {
		return false
	}
	fps := stringMap(ctx, plan.Settings, diags)
	fps[string(c)] = plan.settings().Fingerprint()
	plan.Settings = settingsValue(fps)
	if old != "" {
		if err := r.client.DeleteTargetGroup(ctx, old); err != nil {
			diags.AddWarning("Old Target Group Not Deleted", pipeline.Detail(err, fmt.Sprintf("The %s target group was replaced by %s, but deleting the old one %s failed; nothing forwards to it any more.", c, neu, old),
				"Delete it by hand, or check the elasticloadbalancing:DeleteTargetGroup permission."))
		}
	}
	tflog.Info(ctx, "replaced idle target group", map[string]any{"color": string(c), "old": old, "new": neu})
	return true
}

// flip moves traffic to active through the pipeline; the listener serves
// found (the state's weights, maybe in another form), read before write.
func (r *blueGreenResource) flip(ctx context.Context, plan *blueGreenModel, state blueGreenModel, st bluegreen.State, active bluegreen.Color, found weights.Split, diags *diag.Diagnostics) {
	from := splitOf(*plan, st.Weights)
	to := splitOf(*plan, wantWeights(active))
	settings, d := settingsFrom(ctx, plan.Rollout)
	diags.Append(d...)
	limit, ds := plan.Timeouts.Update(ctx, defaultApplyTimeout)
	diags.Append(ds...)
	if diags.HasError() {
		return
	}
	prev := st.Active
	// The flip this apply completes started from origin: prev, or, when a
	// flip to active was stopped past half way (the state already says
	// active), the color before it.
	origin := flipOrigin(state, active)
	was := bluegreen.Color(origin.ValueString())
	if was == "" {
		was = prev
	}
	tflog.Info(ctx, "flipping", map[string]any{"from": string(was), "to": string(active)})
	// Read before write and the retry rule were checked before any write
	// of this update. The last flip's record names a detached run's
	// execution: the same flip made again is a new execution.
	ch := pipeline.Change{From: from, Found: found, To: to, Settings: settings, Planned: plannedOf(plan.PlannedSteps, plannedStepsValue), Last: recordOf(state.LastRollout), Limit: limit, LeaseToken: plan.OwnerTag.ValueString()}
	out := pipeline.Run(ctx, r.client, r.subject(state, prev), ch, reportTo(diags))
	if !out.Moved {
		return
	}
	if out.Record != nil && out.Record.Status == pipeline.StatusRunning {
		// Detached: the state says where the flip goes; last_rollout
		// where it is.
		plan.PlannedSteps = plannedStepsValue(out.Steps)
		plan.Traffic = trafficValue(wantWeights(active))
		plan.LastRollout = recordValue(*out.Record)
		plan.Active, plan.PreviousActive = types.StringValue(string(active)), origin
		hist := bluegreen.Record(historyFrom(ctx, plan.History, diags), bluegreen.Flip{From: was, To: active, Status: pipeline.StatusRunning, Started: out.Res.Started})
		plan.History = historyValue(hist)
		return
	}
	res := out.Res
	plan.PlannedSteps = plannedStepsValue(out.Steps)
	w := weightsOf(*plan, res.Current)
	plan.Traffic = trafficValue(w)
	plan.LastRollout = recordValue(pipeline.RecordOutcome(ch, out))
	now := bluegreen.LiveOf(w, prev)
	plan.Active = types.StringValue(string(now))
	if now != prev {
		plan.PreviousActive = types.StringValue(string(prev))
	}
	hist := bluegreen.Record(historyFrom(ctx, plan.History, diags), bluegreen.Flip{From: was, To: active, Status: string(res.Status), Started: res.Started, Finished: res.Finished})
	plan.History = historyValue(hist)
	if res.Status == rollout.Succeeded {
		r.pointTestListener(ctx, plan.TestListenerARN, nil, plan.arnOf(active.Other()), diags)
	}
}

// flipOrigin is previous_active after a flip to active: the color active
// before it. A flip to active stopped past half way left the state at
// active already (its weights short of it); completing it keeps the color
// before that flip.
func flipOrigin(state blueGreenModel, active bluegreen.Color) types.String {
	if bluegreen.Color(state.Active.ValueString()) == active {
		return state.PreviousActive
	}
	return state.Active
}

// subject is the deployment's forward action as the traffic pipeline sees
// it; prev is the color live before this apply.
func (r *blueGreenResource) subject(m blueGreenModel, prev bluegreen.Color) listenerSubject {
	return listenerSubject{c: r.client, ref: m.ref(), attr: problem.At("active"),
		goBack: func(weights.Split) string { return fmt.Sprintf("set active back to %q", prev) }}
}

// pointTestListener makes the test listener, when there is one, forward
// everything to the idle target group. It returns false after an error.
func (r *blueGreenResource) pointTestListener(ctx context.Context, listener types.String, current awsclient.Actions, idle string, diags *diag.Diagnostics) bool {
	tl := listener.ValueString()
	if tl == "" {
		return true
	}
	ref := awsclient.Ref{ListenerARN: tl}
	var expect []weights.Split // as it is found, when not read before
	if current != nil {
		was, _ := current.Forward()
		expect = []weights.Split{was.Split}
	}
	if err := (listenerSubject{c: r.client, ref: ref}).set(ctx, expect, weights.Split{{ARN: idle, Weight: 1}}); err != nil {
		pipeline.AddWriteError(diags, r.client, ref, err)
		return false
	}
	return true
}

func historyFrom(ctx context.Context, l types.List, diags *diag.Diagnostics) []bluegreen.Flip {
	if l.IsNull() || l.IsUnknown() {
		return nil
	}
	var raw []struct {
		From       types.String `tfsdk:"from"`
		To         types.String `tfsdk:"to"`
		Status     types.String `tfsdk:"status"`
		StartedAt  types.String `tfsdk:"started_at"`
		FinishedAt types.String `tfsdk:"finished_at"`
	}
	diags.Append(l.ElementsAs(ctx, &raw, false)...)
	var out []bluegreen.Flip
	for _, h := range raw {
		s, _ := time.Parse(time.RFC3339, h.StartedAt.ValueString())
		f, _ := time.Parse(time.RFC3339, h.FinishedAt.ValueString())
		out = append(out, bluegreen.Flip{From: bluegreen.Color(h.From.ValueString()), To: bluegreen.Color(h.To.ValueString()), Status: h.Status.ValueString(), Started: s, Finished: f})
	}
	return out
}

func historyValue(h []bluegreen.Flip) types.List {
	elems := make([]attr.Value, 0, len(h))
	for _, f := range h {
		elems = append(elems, types.ObjectValueMust(historyAttrTypes, map[string]attr.Value{
			"from": types.StringValue(string(f.From)), "to": types.StringValue(string(f.To)), "status": types.StringValue(f.Status),
			"started_at": types.StringValue(f.Started.UTC().Format(time.RFC3339)), "finished_at": types.StringValue(f.Finished.UTC().Format(time.RFC3339)),
		}))
	}
	return types.ListValueMust(historyObjectType, elems)
}

// whileRunning aborts a running detached flip when the plan goes back to
// the color it started from, and records how it ended. It returns false
// when nothing is to be saved.
func (r *blueGreenResource) whileRunning(ctx context.Context, plan *blueGreenModel, state blueGreenModel, st bluegreen.State, active bluegreen.Color, diags *diag.Diagnostics) bool {
	settings, d := settingsFrom(ctx, plan.Rollout)
	diags.Append(d...)
	limit, d := plan.Timeouts.Update(ctx, defaultApplyTimeout)
	diags.Append(d...)
	ch := pipeline.Change{From: splitOf(state, st.Weights), To: splitOf(state, wantWeights(active)), Settings: settings, Last: recordOf(state.LastRollout), Limit: limit}
	out := pipeline.RunningChange(ctx, r.client, r.subject(state, st.Active), ch, reportTo(diags))
	if !out.Moved {
		return false
	}
	if out.Record.Status == pipeline.StatusRunning {
		// Promoted, or nothing for the flip: it goes on, and the state
		// keeps its color, steps and history, as planned; the settings
		// AWS changes in place are written (they move no traffic).
		plan.LastRollout, plan.PlannedSteps = recordValue(*out.Record), state.PlannedSteps
		return r.updateInPlace(ctx, *plan, state, st, bluegreen.Decide(st, active, plan.settings()), diags)
	}
	w := weightsOf(*plan, out.Res.Current)
	plan.Traffic = trafficValue(w)
	plan.LastRollout = recordValue(pipeline.RecordOutcome(ch, out))
	plan.PlannedSteps = plannedStepsValue(nil)
	now := bluegreen.LiveOf(w, st.Active.Other())
	plan.Active, plan.PreviousActive = types.StringValue(string(now)), types.StringValue(string(st.Active))
	hist := bluegreen.Record(historyFrom(ctx, plan.History, diags), bluegreen.Flip{From: st.Active, To: now, Status: string(out.Res.Status), Started: out.Res.Started, Finished: out.Res.Finished})
	plan.History = historyValue(hist)
	return true
}

// whileHeld is an update while a flip is held after a step: promoted, timed
// out or set back (heldChange). It returns whether to save plan.
func (r *blueGreenResource) whileHeld(ctx context.Context, plan *blueGreenModel, state blueGreenModel, active bluegreen.Color, h pipeline.HeldRun, acts bool, diags *diag.Diagnostics) bool {
	settings, d := settingsFrom(ctx, plan.Rollout)
	diags.Append(d...)
	limit, d := plan.Timeouts.Update(ctx, defaultApplyTimeout)
	diags.Append(d...)
	if diags.HasError() {
		return false
	}
	prev := bluegreen.Color(state.PreviousActive.ValueString())
	if prev == "" {
		prev = bluegreen.Color(state.Active.ValueString()).Other()
	}
	ch := pipeline.Change{From: h.From, To: splitOf(state, wantWeights(active)), Settings: settings, Planned: plannedOf(plan.PlannedSteps, plannedStepsValue), Last: recordOf(state.LastRollout), Limit: limit, Acts: acts,
		Owner: &pipeline.OwnerClaim{Base: nil, ResourceType: blueGreenType, Mine: state.OwnerTag.ValueString(), Adopt: plan.Adopt.ValueBool()}}
	out := pipeline.Run(ctx, r.client, r.subject(state, prev), ch, reportTo(diags))
	plan.OwnerTag = types.StringValue(out.Lease.Token)
	// The settings AWS changes in place are written whatever the held
	// flip does (they move no traffic), as when nothing is held.
	inPlace := func() {
		if !diags.HasError() {
			st := r.stateOf(ctx, state, diags)
			r.updateInPlace(ctx, *plan, state, st, bluegreen.Decide(st, active, plan.settings()), diags)
		}
	}
	if !out.Moved {
		inPlace()
		return false
	}
	defer inPlace()
	w := weightsOf(*plan, out.Res.Current)
	plan.Traffic = trafficValue(w)
	plan.LastRollout = recordValue(pipeline.RecordOutcome(ch, out))
	plan.PlannedSteps = plannedStepsValue(out.Steps)
	// The state keeps the color the held flip goes to as active.
	was := bluegreen.Color(state.Active.ValueString())
	now := bluegreen.LiveOf(w, prev)
	plan.Active, plan.PreviousActive = types.StringValue(string(now)), state.PreviousActive
	if now != was {
		// Taken back: a flip from the active color, as the plan said.
		plan.PreviousActive = state.Active
	}
	// Still held (nothing was written), the held flip's history entry
	// stays as it is; otherwise it says how the flip ended.
	if stillHeld := out.Record != nil && out.Record.Status == string(rollout.Held); !stillHeld {
		hist := historyFrom(ctx, plan.History, diags)
		if n := len(hist); n > 0 && hist[n-1].Status == string(rollout.Held) {
			hist = hist[:n-1]
		}
		plan.History = historyValue(bluegreen.Record(hist, bluegreen.Flip{From: prev, To: was, Status: string(out.Res.Status), Started: out.Res.Started, Finished: out.Res.Finished}))
	}
	plan.LiveARN, plan.IdleARN = types.StringValue(plan.arnOf(now)), types.StringValue(plan.arnOf(now.Other()))
	if out.Res.Status == rollout.Succeeded {
		r.pointTestListener(ctx, plan.TestListenerARN, nil, plan.arnOf(active.Other()), diags)
	}
	return true
}
