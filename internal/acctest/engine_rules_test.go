package acctest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// A schema like a split's: a required list, a computed record, an
// optional+computed nested object.
var ruleSchema = &tfprotov6.SchemaBlock{Attributes: []*tfprotov6.SchemaAttribute{
	{Name: "weights", Type: tftypes.List{ElementType: tftypes.Number}, Required: true},
	{Name: "status", Type: tftypes.String, Computed: true},
	{Name: "mode", Type: tftypes.String, Optional: true, Computed: true},
	{Name: "rollout", Optional: true, Computed: true, NestedType: &tfprotov6.SchemaObject{Nesting: tfprotov6.SchemaObjectNestingModeSingle,
		Attributes: []*tfprotov6.SchemaAttribute{
			{Name: "promote", Type: tftypes.String, Optional: true},
			{Name: "poll", Type: tftypes.String, Optional: true, Computed: true},
		}}},
}}

func ruleType() tftypes.Type { return (&tfprotov6.Schema{Block: ruleSchema}).ValueType() }

func ruleValue(t *testing.T, v map[string]any) tftypes.Value {
	t.Helper()
	x, err := FromGo(ruleType(), v)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// Core's proposed new state keeps a computed attribute the configuration
// leaves null, inside nested attributes too, and takes what it sets.
func TestProposedNew(t *testing.T) {
	prior := ruleValue(t, map[string]any{"weights": []any{1, 0}, "status": "held", "mode": "write",
		"rollout": map[string]any{"promote": "a", "poll": "1m"}})
	config := ruleValue(t, map[string]any{"weights": []any{0, 1}, "rollout": map[string]any{"promote": "b"}})
	got := ToGo(proposedNew(ruleSchema, prior, config))
	want := "map[mode:write rollout:map[poll:1m promote:b] status:held weights:[0 1]]"
	if s := fmt.Sprint(got); s != want {
		t.Fatalf("proposed %s, want %s", s, want)
	}
}

// A known planned value must be the applied value; an unknown one may be
// anything; problems are named by path.
func TestCompatible(t *testing.T) {
	planned := ruleValue(t, map[string]any{"weights": []any{0, 1}, "status": Unknown, "mode": "write",
		"rollout": map[string]any{"promote": "b", "poll": "1m"}})
	ok := ruleValue(t, map[string]any{"weights": []any{0, 1}, "status": "succeeded", "mode": "write",
		"rollout": map[string]any{"promote": "b", "poll": "1m"}})
	if p := compatible(ruleSchema, planned, ok, ""); len(p) != 0 {
		t.Fatalf("compatible values reported: %v", p)
	}
	bad := ruleValue(t, map[string]any{"weights": []any{1, 0}, "status": "succeeded", "mode": "observe",
		"rollout": map[string]any{"promote": "b", "poll": "2m"}})
	got := strings.Join(compatible(ruleSchema, planned, bad, ""), "; ")
	for _, want := range []string{"weights.0: planned 0, got 1", "mode: planned write, got observe", "rollout.poll: planned 1m, got 2m"} {
		if !strings.Contains(got, want) {
			t.Errorf("problems %q do not name %q", got, want)
		}
	}
	// A planned known value that the final plan leaves unknown breaks the
	// saved plan too.
	if p := compatible(ruleSchema, ok, planned, ""); len(p) != 1 || !strings.Contains(p[0], "status: planned succeeded, got (known after apply)") {
		t.Fatalf("an unknown final value for a known planned one: %v", p)
	}
}

// A plan must keep what the configuration sets.
func TestPlanValid(t *testing.T) {
	config := ruleValue(t, map[string]any{"weights": []any{0, 1}, "mode": "write"})
	good := ruleValue(t, map[string]any{"weights": []any{0, 1}, "status": Unknown, "mode": "write"})
	if p := planValid(ruleSchema, good, config, good); len(p) != 0 {
		t.Fatalf("a valid plan reported: %v", p)
	}
	bad := ruleValue(t, map[string]any{"weights": []any{1, 0}, "status": "x", "mode": "observe"})
	if p := planValid(ruleSchema, good, config, bad); len(p) != 2 {
		t.Fatalf("an invalid plan: %v", p)
	}
}
