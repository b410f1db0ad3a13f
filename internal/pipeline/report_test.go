package pipeline

import (
	"reflect"
	"testing"

	"github.com/rolloutdev/terraform-provider-rollout/internal/problem"
)

func TestProblemsKeepAndReplay(t *testing.T) {
	var p Problems
	at := problem.At("services").Key("web").Name("target_groups")
	p.AddWarning("W", "w")
	if p.HasError() {
		t.Fatal("a warning is no error")
	}
	p.AddAttributeWarning(at, "AW", "aw")
	p.AddAttributeError(nil, "AE", "ae")
	p.AddError("E", "e")
	if !p.HasError() {
		t.Fatal("an error was reported")
	}
	var again Problems
	p.AddTo(&again)
	if !reflect.DeepEqual(p, again) {
		t.Fatalf("replayed\n%+v\nwant\n%+v", again, p)
	}
	if again[2].At != nil || !again[2].OnAttr || again[0].OnAttr {
		t.Fatalf("the resource itself and no attribute are kept apart: %+v", again)
	}
}
