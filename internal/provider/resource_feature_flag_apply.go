package provider

// Applying rollout_feature_flag: create (tagged with its owner in the same
// request), update (every refusal first, then the document at the flag's
// percentage, then the percentage through the traffic pipeline), destroy
// (only a flag this resource still owns), import.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/rolloutdev/terraform-provider-rollout/flag"
	"github.com/rolloutdev/terraform-provider-rollout/internal/awsclient"
	"github.com/rolloutdev/terraform-provider-rollout/internal/pipeline"
	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

// flagType is the resource type in owner tags.
const flagType = "rollout_feature_flag"

// flagDependencyWrites serializes, within one provider process (one apply),
// the check and write of flags with dependencies: two flags updated in the
// same apply cannot each pass the cycle check against the other's old
// document. Writers in other processes are caught by the check after the
// write.
var flagDependencyWrites sync.Mutex

func (r *featureFlagResource) subject(m featureFlagModel) flagSubject {
	return flagSubject{c: r.client, name: awsclient.FlagParameter(m.PathPrefix.ValueString(), m.Key.ValueString()), tier: m.Tier.ValueString()}
}

func (r *featureFlagResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan featureFlagModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() || r.client == nil {
		return
	}
	f, ok := flagOf(ctx, plan)
	if !ok {
		resp.Diagnostics.AddError("Flag Not Known", "The flag's inputs are not all known at apply time. This is a bug in the provider; please report it.")
		return
	}
	subj := r.subject(plan)
	name, doc := subj.name, documentOf(f)
	if len(f.Dependencies) > 0 {
		flagDependencyWrites.Lock()
		defer flagDependencyWrites.Unlock()
		if r.checkDependencies(ctx, plan.PathPrefix.ValueString(), f, true, &resp.Diagnostics); resp.Diagnostics.HasError() {
			return
		}
	}
	token := awsclient.NewOwnerToken(flagType)
	_, err := r.client.CreateFlag(ctx, name, doc, f.Description, plan.Tier.ValueString(), token)
	if err != nil && !r.createdAnyway(ctx, subj, token, err, &resp.Diagnostics) {
		if errors.Is(err, rollout.ErrUnknownWeights) && resp.Diagnostics.HasError() {
			// Whether the flag exists is not known: the state keeps it, so
			// the next plan refreshes it (and destroy finds it).
			plan.ID, plan.ParameterName, plan.Document, plan.OwnerTag = types.StringValue(name), types.StringValue(name), types.StringValue(doc), types.StringValue(token)
			plan.PlannedSteps, plan.LastRollout, plan.KillSwitchReason = flagStepsValue(nil), types.ObjectNull(lastRolloutAttrTypes), types.StringValue("")
			resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
		}
		return
	}
	// A new flag is written at its percentage at once: there are no users
	// of it to ramp yet.
	got, _, err := r.client.ReadFlag(ctx, name)
	if err != nil {
		got = doc
	}
	plan.ID, plan.ParameterName, plan.Document, plan.OwnerTag = types.StringValue(name), types.StringValue(name), types.StringValue(got), types.StringValue(token)
	plan.PlannedSteps = flagStepsValue(nil)
	if plan.LastRollout.IsUnknown() {
		plan.LastRollout = types.ObjectNull(lastRolloutAttrTypes)
	}
	plan.KillSwitchReason = types.StringValue("")
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// createdAnyway tells, after a create that failed with err, whether the
// parameter is this create's after all: the SDK retries a write whose
// answer was lost, and the retry finds the parameter the first try made.
// The owner tag, written in the same request, says whose it is. It reports
// the error otherwise.
func (r *featureFlagResource) createdAnyway(ctx context.Context, s flagSubject, token string, err error, diags *diag.Diagnostics) bool {
	exists, lost := errors.Is(err, awsclient.ErrExists), errors.Is(err, rollout.ErrUnknownWeights)
	if !exists && !lost {
		diags.AddAttributeError(path.Root("key"), "Cannot Write Flag", pipeline.Detail(err, fmt.Sprintf("Creating the flag %s in SSM Parameter Store was refused; nothing was written.", s.name),
			"Check the credentials' ssm:PutParameter and ssm:AddTagsToResource permissions and the endpoint, then apply again."))
		return false
	}
	l, lerr := s.Lease().ReadLease(ctx)
	switch {
	case lerr == nil && l.Owner == token:
		return true
	case exists:
		diags.AddAttributeError(path.Root("key"), "Flag Already Exists", pipeline.Detail(nil,
			fmt.Sprintf("The parameter %s already exists. Creating this resource would take that flag over, and destroy would delete it.", s.name),
			fmt.Sprintf("Nothing was changed. To manage it, import it (terraform import ADDRESS %s, then adopt = true if another resource owns it); otherwise choose another key or path_prefix.", s.name)))
	case errors.Is(lerr, awsclient.ErrNotFound):
		diags.AddAttributeError(path.Root("key"), "Cannot Write Flag", pipeline.Detail(err, fmt.Sprintf("Creating the flag %s got no answer, and the parameter does not exist: nothing was written.", s.name),
			"Check the endpoint and network, then apply again."))
	default:
		diags.AddAttributeError(path.Root("key"), "Flag Write Unknown", pipeline.Detail(err,
			fmt.Sprintf("Creating the flag %s got no answer, and whether the parameter exists could not be read either (%v). Apps may already evaluate it.", s.name, lerr),
			"The state keeps the flag so the next plan reads what Parameter Store holds. Check the endpoint and network, then run plan and apply."))
	}
	return false
}

func (r *featureFlagResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state featureFlagModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() || r.client == nil {
		return
	}
	diags := &resp.Diagnostics
	save := func() { resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...) }
	if recordOf(state.LastRollout).Status == pipeline.StatusRunning {
		r.whileRunning(ctx, &plan, state, diags)
		if !diags.HasError() {
			save()
		}
		return
	}
	if h, held := pipeline.HeldOf(recordOf(state.LastRollout)); held {
		if r.whileHeld(ctx, &plan, state, h, diags) {
			save()
		}
		return
	}
	u, ok := r.checkUpdate(ctx, plan, state, diags)
	if !ok {
		return
	}
	subj := r.subject(plan)
	l, ok := pipeline.Claim(ctx, nil, subj, flagType, state.OwnerTag.ValueString(), plan.Adopt.ValueBool(), nil, "", reportTo(diags))
	if !ok {
		return
	}
	plan.OwnerTag = types.StringValue(l.Token)
	if !r.writeAllButPercentage(ctx, &plan, state, u, diags) {
		pipeline.GiveBack(ctx, subj, l, reportTo(diags))
		return
	}
	if u.ramp && len(u.steps) > 0 {
		u.ch.LeaseToken = l.Token
		r.ramp(ctx, &plan, u, diags)
	}
	save()
}

// flagUpdate is an update of a flag, checked before anything is written.
type flagUpdate struct {
	// read is the parameter as read before write.
	read awsclient.FlagParam
	// ch moves the percentage, in steps when ramp is true.
	ch    pipeline.Change
	ramp  bool
	steps []rollout.PlannedStep
	// to is the percentage planned.
	to int
}

// checkUpdate makes every refusal of an update, before anything is
// written: a kill switch turned off too early, a flag changed since the
// plan, a ramp the pipeline refuses.
func (r *featureFlagResource) checkUpdate(ctx context.Context, plan, state featureFlagModel, diags *diag.Diagnostics) (flagUpdate, bool) {
	var u flagUpdate
	if refuseReenable(ctx, state, plan, diags, false) {
		return u, false
	}
	read, ok := r.readBeforeWrite(ctx, state, diags)
	if !ok {
		return u, false
	}
	u.read = read
	settings, ramp, d := flagSettings(ctx, plan.Rollout)
	diags.Append(d...)
	from, to := int(state.RolloutPercentage.ValueInt64()), int(plan.RolloutPercentage.ValueInt64())
	u.ramp, u.to = ramp && from != to, to
	limit, d := plan.Timeouts.Update(ctx, defaultApplyTimeout)
	diags.Append(d...)
	u.ch = pipeline.Change{From: flagSplit(from), To: flagSplit(to), Settings: settings, Planned: plannedOf(plan.PlannedSteps, flagStepsValue), Last: recordOf(state.LastRollout), Limit: limit}
	subj := r.subject(plan)
	if settings.Policy == rollout.KillSwitch {
		u.ch.SwitchOff = subj.switchOff
	}
	if u.ramp {
		if u.steps, _, ok = pipeline.CheckChange(ctx, r.client, subj, u.ch, reportTo(diags)); !ok {
			return u, false
		}
	}
	return u, true
}

// writeAllButPercentage writes everything but the percentage, at the
// percentage the flag has when it ramps; the pipeline moves the percentage
// after it.
func (r *featureFlagResource) writeAllButPercentage(ctx context.Context, plan *featureFlagModel, state featureFlagModel, u flagUpdate, diags *diag.Diagnostics) bool {
	if u.ramp {
		plan.RolloutPercentage = state.RolloutPercentage
	}
	if !r.write(ctx, plan, u.read, state.Tier.ValueString(), diags) {
		return false
	}
	if plan.PlannedSteps.IsUnknown() {
		plan.PlannedSteps = flagStepsValue(nil)
	}
	if plan.LastRollout.IsUnknown() {
		plan.LastRollout = state.LastRollout
	}
	return true
}

// ramp moves the percentage through the pipeline and records in plan what
// the flag holds after it.
func (r *featureFlagResource) ramp(ctx context.Context, plan *featureFlagModel, u flagUpdate, diags *diag.Diagnostics) {
	subj := r.subject(*plan)
	out := pipeline.MoveChange(ctx, r.client, subj, u.ch, u.steps, nil, reportTo(diags))
	if !out.Moved {
		return
	}
	doc, f, err := r.client.ReadFlag(ctx, subj.name)
	if err != nil {
		subj.ReadError(reportTo(diags), err)
		plan.RolloutPercentage = types.Int64Value(int64(percentageOf(out.Res.Current)))
	} else {
		plan.RolloutPercentage, plan.KillSwitch, plan.Document = types.Int64Value(int64(f.RolloutPercentage)), types.BoolValue(f.KillSwitch), types.StringValue(doc)
		plan.KillSwitchReason = types.StringValue(f.KillSwitchReason)
	}
	plan.PlannedSteps = flagStepsValue(out.Steps)
	plan.LastRollout = recordValue(pipeline.RecordOutcome(u.ch, out))
	if (pipeline.KeepsTarget(recordOf(plan.LastRollout)) || out.Res.Status == rollout.Succeeded) && f != nil {
		// (a ramp that succeeded reached its percentage: a change made
		// since, by hand, is drift for the next plan)
		target := *f
		target.RolloutPercentage = u.to
		plan.RolloutPercentage, plan.Document = types.Int64Value(int64(u.to)), types.StringValue(documentOf(&target))
	}
}

// whileRunning is an update planned while a detached ramp runs: back to
// the percentage it started from aborts it (the orchestrator rolls back);
// anything else was refused at plan, and is again.
func (r *featureFlagResource) whileRunning(ctx context.Context, plan *featureFlagModel, state featureFlagModel, diags *diag.Diagnostics) {
	settings, _, d := flagSettings(ctx, plan.Rollout)
	diags.Append(d...)
	limit, d := plan.Timeouts.Update(ctx, defaultApplyTimeout)
	diags.Append(d...)
	from := recordOf(state.LastRollout).Target
	ch := pipeline.Change{From: nil, To: flagSplit(int(plan.RolloutPercentage.ValueInt64())), Settings: settings, Last: recordOf(state.LastRollout), Limit: limit}
	if ts, err := weights.ParseCanonical(from); err == nil {
		ch.From = ts
	}
	out := pipeline.RunningChange(ctx, r.client, r.subject(*plan), ch, reportTo(diags))
	if !out.Moved {
		return
	}
	plan.OwnerTag = state.OwnerTag
	if out.Record.Status == pipeline.StatusRunning {
		// Promoted, or nothing for the ramp: it goes on, and the state
		// keeps where it goes and its steps, as planned.
		plan.PlannedSteps, plan.LastRollout = flagStepsValue(out.Steps), recordValue(*out.Record)
		return
	}
	doc, f, err := r.client.ReadFlag(ctx, plan.ID.ValueString())
	if err != nil {
		r.subject(*plan).ReadError(reportTo(diags), err)
		return
	}
	setFromFlag(plan, f, doc)
	plan.OwnerTag, plan.PlannedSteps = state.OwnerTag, flagStepsValue(nil)
	plan.LastRollout = recordValue(pipeline.RecordOutcome(ch, out))
}

// whileHeld is an update while a ramp is held: promote it, let its
// timeout act, or take it back (heldChange). The rest of the flag does not
// change meanwhile (refused at plan). It returns whether to save plan:
// the run moved the flag (even if it then failed), or nothing was wrong.
func (r *featureFlagResource) whileHeld(ctx context.Context, plan *featureFlagModel, state featureFlagModel, h pipeline.HeldRun, diags *diag.Diagnostics) bool {
	settings, _, d := flagSettings(ctx, plan.Rollout)
	diags.Append(d...)
	limit, d := plan.Timeouts.Update(ctx, defaultApplyTimeout)
	diags.Append(d...)
	if diags.HasError() {
		return false
	}
	subj := r.subject(*plan)
	to := int(plan.RolloutPercentage.ValueInt64())
	ch := pipeline.Change{From: h.From, To: flagSplit(to), Settings: settings, Planned: plannedOf(plan.PlannedSteps, flagStepsValue), Last: recordOf(state.LastRollout), Limit: limit, Acts: plan.LastRollout.IsUnknown(),
		Owner: &pipeline.OwnerClaim{Base: nil, ResourceType: flagType, Mine: state.OwnerTag.ValueString(), Adopt: plan.Adopt.ValueBool()}}
	if settings.Policy == rollout.KillSwitch {
		ch.SwitchOff = subj.switchOff
	}
	out := pipeline.Run(ctx, r.client, subj, ch, reportTo(diags))
	plan.OwnerTag = types.StringValue(out.Lease.Token)
	if !out.Moved {
		return false
	}
	doc, f, err := r.client.ReadFlag(ctx, subj.name)
	if err != nil {
		subj.ReadError(reportTo(diags), err)
		plan.RolloutPercentage = types.Int64Value(int64(percentageOf(out.Res.Current)))
		plan.PlannedSteps, plan.LastRollout = flagStepsValue(out.Steps), recordValue(pipeline.RecordOutcome(ch, out))
		return true
	}
	plan.PlannedSteps = flagStepsValue(out.Steps)
	plan.LastRollout = recordValue(pipeline.RecordOutcome(ch, out))
	if pipeline.KeepsTarget(recordOf(plan.LastRollout)) || out.Res.Status == rollout.Succeeded {
		target := *f
		target.RolloutPercentage = to
		f, doc = &target, documentOf(&target)
	}
	setFromFlag(plan, f, doc)
	return true
}

// write writes the model's document over read (the parameter as this
// apply read it): nothing when it already holds it. The version written
// must follow the one read; another writer in between is reported (it was
// overwritten: Parameter Store has no compare-and-swap) and nothing more is
// written. Dependencies are checked before the write and again after it.
// tier is the parameter's tier (the state's): a new one is written with
// the document, even when the document is the same.
func (r *featureFlagResource) write(ctx context.Context, m *featureFlagModel, read awsclient.FlagParam, tier string, diags *diag.Diagnostics) bool {
	f, ok := flagOf(ctx, *m)
	if !ok {
		diags.AddError("Flag Not Known", "The flag's inputs are not all known at apply time. This is a bug in the provider; please report it.")
		return false
	}
	name, prefix := awsclient.FlagParameter(m.PathPrefix.ValueString(), f.Key), m.PathPrefix.ValueString()
	doc := documentOf(f)
	m.ID, m.ParameterName = types.StringValue(name), types.StringValue(name)
	if doc == read.Doc && m.Tier.ValueString() == tier {
		m.Document = types.StringValue(doc)
		return true
	}
	if len(f.Dependencies) > 0 {
		flagDependencyWrites.Lock()
		defer flagDependencyWrites.Unlock()
		if r.checkDependencies(ctx, prefix, f, true, diags); diags.HasError() {
			return false
		}
	}
	v, err := r.client.PutFlagOver(ctx, name, doc, f.Description, m.Tier.ValueString(), read.Version)
	switch {
	case errors.Is(err, rollout.ErrConflict):
		diags.AddAttributeError(path.Root("document"), "Flag Changed During Apply", pipeline.Detail(nil,
			fmt.Sprintf("Another writer changed %s between this apply's read (version %d) and its write (the parameter is at version %d now): Parameter Store has no compare-and-swap, so that change may have been overwritten.", name, read.Version, v),
			"Nothing more was written. Find the other writer (a person, a rollback of another rollout) and put its change back if it must stand, then run plan and apply."))
		m.Document = types.StringValue(doc)
		return false
	case errors.Is(err, rollout.ErrUnknownWeights):
		diags.AddError("Flag Write Unknown", pipeline.Detail(err, fmt.Sprintf("The new document of %s was sent, but whether Parameter Store holds it could not be confirmed.", name),
			"The state keeps what the flag held before; the next plan reads what it holds now. Check the endpoint and network, then run plan and apply."))
		return false
	case err != nil:
		diags.AddError("Cannot Write Flag", pipeline.Detail(err, fmt.Sprintf("Writing the flag %s to SSM Parameter Store failed, or could not be confirmed.", name),
			"Check the credentials' ssm:PutParameter and ssm:GetParameter permissions and the endpoint, then apply again; the next plan shows what the parameter holds."))
		return false
	}
	if len(f.Dependencies) > 0 {
		// Another process may have written the other half of a cycle at the
		// same time: check again, and take this write back if so.
		var after diag.Diagnostics
		if r.checkDependencies(ctx, prefix, f, false, &after); after.HasError() {
			if _, err := r.client.PutFlagOver(ctx, name, read.Doc, read.Flag.Description, m.Tier.ValueString(), v); err != nil {
				diags.AddError("Cannot Undo Flag Write", pipeline.Detail(err, fmt.Sprintf("Writing %s made a dependency cycle with a flag written at the same time, and putting its previous document back failed.", name),
					"Remove one dependency of the cycle and apply again."))
			}
			diags.Append(after...)
			return false
		}
	}
	m.Document = types.StringValue(doc)
	return true
}

// pipeline.ReadBeforeWrite refuses, with nothing written, when the flag's parameter
// no longer holds the document the plan was made from (the refreshed
// state's): a hand edit, or a traffic rollout's feature_flag rollback,
// between plan and apply. It returns what it read.
func (r *featureFlagResource) readBeforeWrite(ctx context.Context, state featureFlagModel, diags *diag.Diagnostics) (awsclient.FlagParam, bool) {
	name := state.ID.ValueString()
	p, err := r.client.ReadFlagParameter(ctx, name)
	if err != nil && !errors.Is(err, awsclient.ErrNotFound) {
		flagSubject{c: r.client, name: name}.ReadError(reportTo(diags), err)
		return p, false
	}
	if err == nil && p.Doc == state.Document.ValueString() {
		return p, true
	}
	now := p.Doc
	if errors.Is(err, awsclient.ErrNotFound) {
		now = "nothing (the parameter was deleted)"
	}
	diags.AddAttributeError(path.Root("document"), "Flag Changed Since Plan", pipeline.Detail(nil,
		fmt.Sprintf("The plan was made when %s held %s; it holds %s now. Someone or something changed it between plan and apply (a hand edit, or a traffic rollout's feature_flag rollback).", name, state.Document.ValueString(), now),
		"Nothing was written: applying the saved plan would have overwritten that change. Run plan again to see the change from what the flag holds now, then apply."))
	return p, false
}

func (r *featureFlagResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state featureFlagModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() || r.client == nil {
		return
	}
	subj := flagSubject{c: r.client, name: state.ID.ValueString()}
	if pipeline.EndOnDestroy(ctx, r.client, subj, recordOf(state.LastRollout), settingsOf(ctx, state.Rollout), state.OwnerTag.ValueString(), reportTo(&resp.Diagnostics)); resp.Diagnostics.HasError() {
		return
	}
	// A flag another resource took over is its owner's: not deleted.
	if owner, ok := pipeline.StillOwned(ctx, subj, state.OwnerTag.ValueString(), reportTo(&resp.Diagnostics)); !ok {
		if owner != "" {
			notOwnedOnDestroy(&resp.Diagnostics, subj, owner, "delete the flag")
		}
		return
	}
	if err := r.client.DeleteFlag(ctx, state.ID.ValueString()); err != nil {
		resp.Diagnostics.AddError("Cannot Delete Flag", pipeline.Detail(err, fmt.Sprintf("Deleting the parameter %s failed.", state.ID.ValueString()), "Check the ssm:DeleteParameter permission, then destroy again."))
	}
}

// ImportState takes a key (under the default prefix) or a full parameter
// name. Another resource's lease is not copied (importOwner).
func (r *featureFlagResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	name := req.ID
	if !strings.HasPrefix(name, "/") {
		name = DefaultFlagPrefix + name
	}
	i := strings.LastIndex(name, "/")
	prefix, key := name[:i+1], name[i+1:]
	if !flagKeyRE.MatchString(key) || !flagPrefixRE.MatchString(prefix) {
		resp.Diagnostics.AddError("Invalid Import ID", pipeline.Detail(nil, fmt.Sprintf("%q is neither a flag key nor a parameter name PREFIX/KEY.", req.ID),
			"Import with the key (checkout, under "+DefaultFlagPrefix+") or the parameter name (/rollout/flags/checkout)."))
		return
	}
	for k, v := range map[string]string{"id": name, "key": key, "path_prefix": prefix, "parameter_name": name, "tier": awsclient.TierStandard} {
		resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root(k), v)...)
	}
	if r.client != nil {
		importOwner(ctx, flagSubject{c: r.client, name: name}, resp)
	}
}

// checkFlagSize refuses a document that would not fit the tier once a
// rollback adds its kill switch and reason.
func checkFlagSize(f *flag.Flag, tier string, diags *diag.Diagnostics) {
	limit := awsclient.StandardMaxBytes
	if tier == awsclient.TierAdvanced {
		limit = awsclient.AdvancedMaxBytes
	}
	n := len(documentOf(f))
	if n+pipeline.FlagValueRoom <= limit {
		return
	}
	at := path.Root("targeting")
	if len(f.Targeting.IncludedUsers)+len(f.Targeting.ExcludedUsers)+len(f.Targeting.SegmentRules) == 0 {
		at = path.Root("description")
	}
	how := "Set tier = \"Advanced\" (up to 8 KB, charged per parameter), or move long user lists into segment rules on an attribute the app knows."
	if tier == awsclient.TierAdvanced {
		how = "Move long user lists into segment rules on an attribute the app knows (a plan, a cohort), or split the flag."
	}
	diags.AddAttributeError(at, "Flag Document Too Large", pipeline.Detail(nil,
		fmt.Sprintf("The flag's document is %d bytes; with the %d bytes a rollback may add (kill_switch and kill_switch_reason) it would exceed the %s tier's limit of %d bytes, and Parameter Store would refuse the write.", n, pipeline.FlagValueRoom, tierName(tier), limit),
		how))
}

func tierName(t string) string {
	if t == "" {
		return awsclient.TierStandard
	}
	return t
}
