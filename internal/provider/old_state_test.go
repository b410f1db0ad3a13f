package provider_test

import (
	"strings"
	"testing"
)

// withNullStaggered is the resource's state with last_rollout.staggered
// null, as a release before the attribute existed wrote it (there is no
// schema version: core reads the missing attribute as null).
func withNullStaggered(d *dRig) {
	at := d.s.lastAt
	if at == "" {
		at = "last_rollout"
	}
	m := d.r.State()
	obj := m
	for _, k := range strings.Split(at, ".") {
		obj = obj[k].(map[string]any)
	}
	obj["staggered"] = nil
	d.r.SetState(m)
}

// A state whose last_rollout has a null attribute (written before the
// attribute existed), planned with the same configuration and no refresh
// (-refresh=false), shows no change; a change that keeps a held rollout
// held applies as planned (the engine fails the test on an inconsistent
// result). Found by an adversarial review: the record's converters turned
// the null into "", so the plan showed null → "" and the apply of a held
// rollout's "Still Held" answered "" where the plan kept null.
func TestOldStateNullRecordField(t *testing.T) {
	for _, kit := range []mKit{mSplitKit("split on a listener", false), mAliasKit(), mFlagKit(), mBlueGreenKit(), mReleaseKit()} {
		t.Run(kit.name+"/unchanged", func(t *testing.T) {
			d := newDRigOf(t, kit, false)
			if d.s.colors != nil {
				d.s.colors()
			}
			cfg := d.config(d.s.to, false, "")
			if diags := d.apply(cfg); diags.HasError("") {
				t.Fatal(diags)
			}
			withNullStaggered(d)
			p := d.r.Plan(cfg)
			if p.Diags.HasError("") || p.Changes() {
				t.Errorf("the same configuration, planned without refresh from a state with a null last_rollout attribute: changes %v, %s", p.Changes(), p.Diags)
			}
		})
		if kit.name == "release service" {
			continue
		}
		t.Run(kit.name+"/held", func(t *testing.T) {
			d := newDRigOf(t, kit, false)
			if d.s.colors != nil {
				d.s.colors()
			}
			if diags := d.apply(d.config(d.s.to, true, "")); diags.HasError("") {
				t.Fatal(diags)
			}
			if got := d.r.String("last_rollout.status"); got != "held" {
				t.Fatalf("status %q, want held", got)
			}
			withNullStaggered(d)
			cfg := d.config(d.s.to, true, "")
			cfg["timeouts"] = map[string]any{"update": "97m"}
			p := d.r.Plan(cfg)
			if p.Diags.HasError("") {
				t.Fatalf("plan: %s", p.Diags)
			}
			if diags := p.Apply(); diags.HasError("") {
				t.Errorf("apply: %s", diags)
			}
			if got, _ := d.r.Get("last_rollout.staggered"); got != nil {
				t.Errorf("last_rollout.staggered %#v after the apply that kept the hold, want the state's null", got)
			}
		})
	}
}
