package acctest_test

import (
	"testing"
	"time"

	"github.com/rolloutdev/terraform-provider-rollout/internal/acctest"
	"github.com/rolloutdev/terraform-provider-rollout/internal/awsclient"
	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

func splitConfig(f acctest.Fixture, blue, green int, ro map[string]any) map[string]any {
	cfg := map[string]any{
		"listener_arn": f.Listener,
		"target_groups": []any{
			map[string]any{"arn": f.TGs[0], "weight": blue},
			map[string]any{"arn": f.TGs[1], "weight": green},
		},
	}
	if ro != nil {
		cfg["rollout"] = ro
	}
	return cfg
}

// The engine runs the real resource code: a create and a canary, the
// emulator holding each step, and a plan of the same configuration empty.
func TestEngineRunsACanary(t *testing.T) {
	e := acctest.NewEnv(t)
	f := e.NewFixture(2)
	e.SetWeights(awsclient.Ref{ListenerARN: f.Listener}, weights.Split{{ARN: f.TGs[0], Weight: 100}, {ARN: f.TGs[1], Weight: 0}})
	splits := e.RecordSplitsOf(f.Listener)
	eng := e.NewEngine(nil)
	r := eng.Resource("rollout_traffic_split")
	if d := r.PlanApply(splitConfig(f, 100, 0, nil)); d.HasError("") {
		t.Fatal(d)
	}
	ro := map[string]any{"strategy": "canary", "poll_interval": "1m",
		"steps": []any{map[string]any{"percent": 10, "pause": "2m"}, map[string]any{"percent": 100}}}
	start := e.Clock.Now()
	if d := r.PlanApply(splitConfig(f, 0, 100, ro)); d.HasError("") {
		t.Fatal(d)
	}
	if got := r.String("last_rollout.status"); got != "succeeded" {
		t.Fatalf("last_rollout.status = %q", got)
	}
	if e.Clock.Elapsed(start) < 2*time.Minute {
		t.Fatalf("the canary took %s on the fake clock", e.Clock.Elapsed(start))
	}
	got := splits()
	if len(got) != 2 || !got[1].Equal(weights.Split{{ARN: f.TGs[0], Weight: 0}, {ARN: f.TGs[1], Weight: 100}}) {
		t.Fatalf("the listener was written %v, want step 1 and the target (the create found it serving 100/0)", got)
	}
	if p := r.Plan(splitConfig(f, 0, 100, ro)); p.Changes() || p.Diags.HasError("") {
		t.Fatalf("a plan of the same configuration: changes %v, unknown %v, %s", p.Changes(), p.Unknown(), p.Diags)
	}
}
