package provider

// Reading and destroying rollout_deployment_bluegreen: refresh from the
// listener and target groups, and release the listeners before deleting.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/rolloutdev/terraform-provider-rollout/internal/awsclient"
	"github.com/rolloutdev/terraform-provider-rollout/internal/bluegreen"
	"github.com/rolloutdev/terraform-provider-rollout/internal/pipeline"
)

func (r *blueGreenResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var m blueGreenModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || r.client == nil {
		return
	}
	ref := m.ref()
	acts, ok := readForRefresh(ctx, r.client, ref, resp)
	if !ok {
		return
	}
	fwd, _ := acts.Forward()
	w := weightsOf(m, fwd.Split)
	prior := bluegreen.Color(m.Active.ValueString())
	if prior == "" {
		prior = bluegreen.Blue
	}
	wasRunning := recordOf(m.LastRollout).Status == pipeline.StatusRunning
	last, running := pipeline.RefreshDetached(ctx, r.client, r.subject(m, prior.Other()), recordOf(m.LastRollout), reportTo(&resp.Diagnostics))
	m.LastRollout = recordValue(last)
	markLooked(ctx, r.client, last, resp.Private, &resp.Diagnostics)
	if wasRunning && !running {
		// The detached flip ended: its history entry says how.
		hist := historyFrom(ctx, m.History, &resp.Diagnostics)
		for i := range hist {
			if hist[i].Status == pipeline.StatusRunning {
				hist[i].Status = last.Status
				hist[i].Finished, _ = time.Parse(time.RFC3339, last.FinishedAt)
			}
		}
		m.History = historyValue(hist)
	}
	live := prior
	if !running {
		// While a detached flip runs, its steps are the rollout's
		// (last_rollout.serving): the state keeps where it goes.
		m.Traffic = trafficValue(w)
		live = bluegreen.LiveOf(w, prior)
	}
	m.Active = types.StringValue(string(live))
	m.ID = types.StringValue(ref.ID())
	// One DescribeTargetGroups for both colors; attributes and tags only for
	// the live one, whose settings the state reports.
	found, err := r.client.DescribeTargetGroups(ctx, m.arnOf(bluegreen.Blue), m.arnOf(bluegreen.Green))
	if err != nil {
		resp.Diagnostics.AddError("Cannot Read Target Groups", pipeline.Detail(err, fmt.Sprintf("Reading the blue and green target groups %s and %s failed.", m.arnOf(bluegreen.Blue), m.arnOf(bluegreen.Green)), "Check the elasticloadbalancing:Describe* permissions."))
		return
	}
	fps := map[string]string{}
	for _, c := range bluegreen.Colors {
		tg, ok := found[m.arnOf(c)]
		if !ok {
			fps[string(c)] = bluegreen.Missing
			continue
		}
		fps[string(c)] = bluegreen.Settings{Port: tg.Port, Protocol: tg.Protocol, VPC: tg.VPC, TargetType: tg.TargetType}.Fingerprint()
		if m.NamePrefix.IsNull() { // imported
			m.NamePrefix = types.StringValue(bluegreen.PrefixOf(tg.Name))
			m.Port, m.Protocol = types.Int64Value(int64(tg.Port)), types.StringValue(tg.Protocol)
			m.VPCID, m.TargetType = types.StringValue(tg.VPC), types.StringValue(tg.TargetType)
		}
		if c == live {
			if err := r.client.ReadTargetGroupDetails(ctx, tg); err != nil {
				resp.Diagnostics.AddError("Cannot Read Target Group", pipeline.Detail(err, fmt.Sprintf("Reading the attributes and tags of the %s target group %s failed.", c, tg.ARN), "Check the elasticloadbalancing:Describe* permissions."))
				return
			}
			m.HealthCheck = healthCheckValue(tg.HealthCheck)
			m.DeregistrationDelay = types.Int64Value(int64(tg.DeregistrationDelay))
			delete(tg.Tags, colorTag)
			m.Tags = stringMapValue(ctx, m.Tags, tg.Tags, &resp.Diagnostics)
		}
	}
	m.Settings = settingsValue(fps)
	m.LiveARN, m.IdleARN = types.StringValue(m.arnOf(live)), types.StringValue(m.arnOf(live.Other()))
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *blueGreenResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var m blueGreenModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || r.client == nil {
		return
	}
	if pipeline.EndOnDestroy(ctx, r.client, r.subject(m, bluegreen.Color(m.Active.ValueString())), recordOf(m.LastRollout), settingsOf(ctx, m.Rollout), m.OwnerTag.ValueString(), reportTo(&resp.Diagnostics)); resp.Diagnostics.HasError() {
		return
	}
	var rec replacedActions
	_ = json.Unmarshal([]byte(m.ReplacedActions.ValueString()), &rec)
	owned := map[string]bool{m.BlueARN.ValueString(): true, m.GreenARN.ValueString(): true}
	subj := r.subject(m, bluegreen.Color(m.Active.ValueString()))
	// A listener another resource adopted is its owner's: it is not
	// written, and a target group it still forwards to is not deleted.
	if owner, mine := pipeline.StillOwned(ctx, subj, m.OwnerTag.ValueString(), reportTo(&resp.Diagnostics)); !mine && owner != "" {
		inUse := r.forwardedTo(ctx, m.ref(), owned, &resp.Diagnostics)
		notOwnedOnDestroy(&resp.Diagnostics, subj, owner, "point the listener away from its target groups")
		for _, c := range bluegreen.Colors {
			if inUse[m.arnOf(c)] {
				resp.Diagnostics.AddWarning("Target Group Kept", pipeline.Detail(nil, fmt.Sprintf("The %s target group %s was not deleted: %s, owned by another resource, still forwards to it.", c, m.arnOf(c), m.ref().ID()),
					"Delete it yourself once nothing forwards to it."))
				delete(owned, m.arnOf(c))
			}
		}
		r.deleteColors(ctx, m, owned, &resp.Diagnostics)
		return
	}
	pipeline.ReleaseLease(ctx, subj, m.OwnerTag.ValueString(), recordOf(m.LastRollout), reportTo(&resp.Diagnostics))
	// Nothing may forward to the target groups once they are gone: put back
	// what the listeners had, or answer 503 when that is not possible.
	r.pointAway(ctx, m.ref(), rec.Listener, owned, &resp.Diagnostics)
	if tl := m.TestListenerARN.ValueString(); tl != "" {
		r.pointAway(ctx, awsclient.Ref{ListenerARN: tl}, rec.TestListener, owned, &resp.Diagnostics)
	}
	if resp.Diagnostics.HasError() {
		return
	}
	r.deleteColors(ctx, m, owned, &resp.Diagnostics)
}

// forwardedTo lists which of the owned target groups a listener forwards to.
func (r *blueGreenResource) forwardedTo(ctx context.Context, ref awsclient.Ref, owned map[string]bool, diags *diag.Diagnostics) map[string]bool {
	acts, err := r.client.ReadActions(ctx, ref)
	if err != nil {
		if !errors.Is(err, awsclient.ErrNotFound) {
			pipeline.AddReadError(diags, r.client, ref, err)
		}
		return map[string]bool{}
	}
	out := map[string]bool{}
	f, _ := acts.Forward()
	for _, t := range f.Split {
		if owned[t.ARN] {
			out[t.ARN] = true
		}
	}
	return out
}

// deleteColors deletes the target groups in owned.
func (r *blueGreenResource) deleteColors(ctx context.Context, m blueGreenModel, owned map[string]bool, diags *diag.Diagnostics) {
	for _, c := range bluegreen.Colors {
		if !owned[m.arnOf(c)] {
			continue
		}
		if err := r.client.DeleteTargetGroup(ctx, m.arnOf(c)); err != nil {
			diags.AddError("Cannot Delete Target Group", pipeline.Detail(err, fmt.Sprintf("Deleting the %s target group %s failed; the listener no longer forwards to it.", c, m.arnOf(c)),
				"Check the elasticloadbalancing:DeleteTargetGroup permission, then destroy again."))
			return
		}
	}
}

// pointAway points a listener away from the owned target groups: back to the
// recorded actions when every target group in them still exists, else to a
// fixed 503 answer.
func (r *blueGreenResource) pointAway(ctx context.Context, ref awsclient.Ref, recorded json.RawMessage, owned map[string]bool, diags *diag.Diagnostics) {
	acts, err := r.client.ReadActions(ctx, ref)
	if errors.Is(err, awsclient.ErrNotFound) {
		return
	}
	if err != nil {
		pipeline.AddReadError(diags, r.client, ref, err)
		return
	}
	live, forwards := acts.Forward()
	if !bluegreen.NeedsRelease(live.Split, forwards, owned) {
		return
	}
	restore, err := awsclient.DecodeActions(string(recorded))
	valid := err == nil && len(restore) > 0
	rec, recForwards := restore.Forward()
	var exists map[string]bool
	if valid && recForwards && len(rec.Split) > 0 {
		var arns []string
		for _, t := range rec.Split {
			arns = append(arns, t.ARN)
		}
		if found, err := r.client.DescribeTargetGroups(ctx, arns...); err == nil {
			exists = map[string]bool{}
			for a, tg := range found {
				exists[a] = tg != nil
			}
		}
	}
	usable := bluegreen.CanRestore(valid, rec.Split, recForwards, owned, exists)
	if !usable {
		restore = acts.WithFixedResponse(503, "Service unavailable: its blue/green deployment was destroyed.")
		diags.AddWarning("Listener Answers 503", pipeline.Detail(nil,
			fmt.Sprintf("%s forwarded to the target groups being destroyed, and the action it had before this resource cannot be put back (its target groups are gone).", ref.ID()),
			"It now answers 503 with a fixed response. Point it at a target group of your own."))
	}
	tflog.Info(ctx, "releasing listener before deleting target groups", map[string]any{"id": ref.ID()})
	if err := r.client.WriteActions(ctx, ref, restore); err != nil {
		diags.AddError("Cannot Release Listener", pipeline.Detail(err, fmt.Sprintf("%s still forwards to the target groups of this deployment; they were not deleted.", ref.ID()),
			"Check the elasticloadbalancing:ModifyListener permission, then destroy again."))
	}
}
