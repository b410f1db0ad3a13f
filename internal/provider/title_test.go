package provider

import (
	"testing"

	"github.com/rolloutdev/terraform-provider-rollout/internal/pipeline"
)

// Every subject of the pipeline is named in its own words in diagnostic
// summaries ("Flag Changed Since Plan", not "Listener …").
func TestSubjectTitles(t *testing.T) {
	for kind, want := range map[string]string{"listener": "Listener", "rule": "Listener Rule", "alias": "Alias", "flag": "Flag"} {
		if got := pipeline.Title(kind); got != want {
			t.Errorf("title(%q) = %q, want %q", kind, got, want)
		}
	}
	for _, s := range []pipeline.Subject{listenerSubject{}, aliasSubject{}, flagSubject{}} {
		if pipeline.Title(s.Kind()) == "Listener" && s.Kind() != "listener" {
			t.Errorf("subject kind %q is titled Listener", s.Kind())
		}
	}
}
