package subjects

import (
	"reflect"
	"testing"
	"time"

	"github.com/rolloutdev/terraform-provider-rollout/internal/awsclient"
	"github.com/rolloutdev/terraform-provider-rollout/internal/clock"
	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
	"github.com/rolloutdev/terraform-provider-rollout/internal/subjects/alias"
	"github.com/rolloutdev/terraform-provider-rollout/internal/subjects/featureflag"
	"github.com/rolloutdev/terraform-provider-rollout/internal/subjects/listener"
)

// Each kind of reference is given its own folder's router and gate
// readers, and a lease; a reference to nothing, or to two subjects, is
// refused rather than given a router of the wrong kind.
func TestEachRefPicksItsOwnParts(t *testing.T) {
	const listenerARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2"
	c := &awsclient.Client{}
	for _, tc := range []struct {
		ref     Ref
		kind    string
		router  rollout.Router
		health  bool
		metrics bool
	}{
		{Ref{Listener: &awsclient.Ref{ListenerARN: listenerARN}}, "listener", &listener.Router{}, true, true},
		{Ref{Alias: &awsclient.AliasRef{Function: "arn:aws:lambda:us-east-1:123456789012:function:api", Alias: "live"}}, "alias", &alias.Router{}, false, true},
		{Ref{Flag: &FlagRef{Name: "/rollout/flags/checkout"}}, "flag", &featureflag.Router{}, false, false},
	} {
		if err := tc.ref.Check(); err != nil {
			t.Fatalf("%s: %v", tc.kind, err)
		}
		if tc.ref.Kind() != tc.kind {
			t.Errorf("Kind() = %q, want %q", tc.ref.Kind(), tc.kind)
		}
		if got := reflect.TypeOf(Router(c, tc.ref)); got != reflect.TypeOf(tc.router) {
			t.Errorf("%s: router %v, want %v", tc.kind, got, reflect.TypeOf(tc.router))
		}
		obs, err := Observers(c, tc.ref)
		if err != nil {
			t.Fatalf("%s: observers: %v", tc.kind, err)
		}
		if (obs.Health != nil) != tc.health || (obs.Metrics != nil) != tc.metrics || obs.Alarms == nil || obs.Hooks == nil {
			t.Errorf("%s: observers %+v, want health %v, metrics %v, alarms and hooks", tc.kind, obs, tc.health, tc.metrics)
		}
		if Lease(c, tc.ref) == nil {
			t.Errorf("%s: no lease", tc.kind)
		}
		r, err := NewRunner(c, tc.ref, rollout.Settings{PollInterval: time.Second}, clock.NewFake(time.Unix(0, 0)))
		if err != nil || r.SubjectKind != tc.kind || r.SubjectID != tc.ref.ID() || r.PollInterval != time.Second {
			t.Errorf("%s: runner %+v, %v", tc.kind, r, err)
		}
	}
	two := Ref{Listener: &awsclient.Ref{ListenerARN: listenerARN}, Flag: &FlagRef{Name: "f"}}
	for _, bad := range []Ref{{}, two} {
		if bad.Check() == nil {
			t.Errorf("%+v: Check passed", bad)
		}
	}
	if _, err := NewRunner(c, Ref{}, rollout.Settings{}, clock.NewFake(time.Unix(0, 0))); err == nil {
		t.Error("a runner was built for no subject")
	}
	if Router(c, Ref{}) != nil || Lease(c, Ref{}) != nil {
		t.Error("parts were picked for no subject")
	}
}

// A listener or rule's load balancer is its metrics' dimension; a rule's
// listener is found from its ARN.
func TestListenerGatesFindTheLoadBalancer(t *testing.T) {
	rule := "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/edge/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee"
	g, err := listener.NewGates(&awsclient.Client{}, awsclient.Ref{RuleARN: rule})
	if err != nil || g.LoadBalancer != "app/edge/50dc6c495c0c9188" {
		t.Fatalf("gates %+v, %v", g, err)
	}
	if _, err := listener.NewGates(&awsclient.Client{}, awsclient.Ref{ListenerARN: "not-an-arn"}); err == nil {
		t.Fatal("gates built for a listener ARN that names no load balancer")
	}
}
