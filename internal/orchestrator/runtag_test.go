package orchestrator

import (
	"strings"
	"testing"

	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
)

// Every form the constructors make reads back through the one parser
// (ParseRunTag) as what it was made of, and the readers over it (EndedOf,
// actedOn, ParseRefusedTag) say what each form means; what no constructor
// makes is not read as a run's tag.
func TestParseRunTag(t *testing.T) {
	const exec = "rollout-0123456789abcdef01234567"
	for _, c := range []struct {
		tag   string
		want  RunTagValue
		ended rollout.Status // "" when the tag says the run is in progress
		acted string         // what an EndedAfter tag acted on
	}{
		{tag: RunningTag(exec), want: RunTagValue{"running", exec, ""}},
		{tag: AbortTag(exec), want: RunTagValue{"abort", exec, ""}},
		{tag: StopTag(exec), want: RunTagValue{"stop", exec, ""}},
		{tag: PromoteTag(exec, 3), want: RunTagValue{"promote", exec, "3"}},
		{tag: RefusedTag(exec, 2, ""), want: RunTagValue{"refused", exec, "2"}},
		{tag: RefusedTag(exec, 2, "AccessDenied elasticloadbalancing:ModifyListener"), want: RunTagValue{"refused", exec, "2 AccessDenied elasticloadbalancing:ModifyListener"}},
		{tag: EndedTag(rollout.Succeeded, exec), want: RunTagValue{"succeeded", exec, ""}, ended: rollout.Succeeded},
		{tag: EndedTag(rollout.RolledBack, exec), want: RunTagValue{"rolled_back", exec, ""}, ended: rollout.RolledBack},
		{tag: EndedAfter(rollout.Failed, exec, ""), want: RunTagValue{"failed", exec, ""}, ended: rollout.Failed},
		{tag: EndedAfter(rollout.RolledBack, exec, AbortTag(exec)), want: RunTagValue{"rolled_back", exec, "after abort"}, ended: rollout.RolledBack, acted: AbortTag(exec)},
		{tag: EndedAfter(rollout.Failed, exec, StopTag(exec)), want: RunTagValue{"failed", exec, "after stop"}, ended: rollout.Failed, acted: StopTag(exec)},
		{tag: EndedAfter(rollout.Succeeded, exec, PromoteTag(exec, 12)), want: RunTagValue{"succeeded", exec, "after promote 12"}, ended: rollout.Succeeded, acted: PromoteTag(exec, 12)},
	} {
		got, ok := ParseRunTag(c.tag)
		if !ok || got != c.want {
			t.Errorf("ParseRunTag(%q) = %+v %v, want %+v", c.tag, got, ok, c.want)
			continue
		}
		if got.String() != c.tag {
			t.Errorf("%q written again is %q", c.tag, got.String())
		}
		if got.Running() != (c.want.Verb == "running") {
			t.Errorf("%q: Running = %v", c.tag, got.Running())
		}
		if st, ok := EndedOf(c.tag, exec); st != c.ended || ok != (c.ended != "") {
			t.Errorf("EndedOf(%q) = %q %v, want %q", c.tag, st, ok, c.ended)
		}
		if _, ok := EndedOf(c.tag, "rollout-other"); ok {
			t.Errorf("EndedOf(%q) of another execution says it ended", c.tag)
		}
		if a, ok := actedOn(c.tag, exec); a != c.acted || ok != (c.acted != "") {
			t.Errorf("actedOn(%q) = %q %v, want %q", c.tag, a, ok, c.acted)
		}
		if _, ok := actedOn(c.tag, "rollout-other"); ok {
			t.Errorf("actedOn(%q) of another execution acted", c.tag)
		}
		step, why, ok := ParseRefusedTag(c.tag, exec)
		_, wantWhy, _ := strings.Cut(c.want.Rest, " ")
		if wantOK := c.want.Verb == "refused"; ok != wantOK || ok && (step != 2 || why != wantWhy) {
			t.Errorf("ParseRefusedTag(%q) = %d %q %v", c.tag, step, why, ok)
		}
	}
	for _, bad := range []string{"", "running", "running ", " " + exec, "promote", "failed  " + exec} {
		if v, ok := ParseRunTag(bad); ok {
			t.Errorf("ParseRunTag(%q) = %+v, a run tag", bad, v)
		}
		if st, ok := EndedOf(bad, exec); ok {
			t.Errorf("EndedOf(%q) = %q", bad, st)
		}
	}
	for _, bad := range []string{
		"failed " + exec + " after",          // acted on nothing
		"failed " + exec + " afterwards",     // not an after form
		"abort " + exec + " after stop",      // not an end
		"failed " + exec + "x after abort",   // another execution
		"refused " + exec + " after promote", // not an end
	} {
		if a, ok := actedOn(bad, exec); ok {
			t.Errorf("actedOn(%q) = %q", bad, a)
		}
	}
	for _, bad := range []string{"refused " + exec, "refused " + exec + " 0 x", "refused " + exec + " two", "refused " + exec + " 2x why", "refused " + exec + "x 2"} {
		if step, why, ok := ParseRefusedTag(bad, exec); ok {
			t.Errorf("ParseRefusedTag(%q) = %d %q", bad, step, why)
		}
	}
}
