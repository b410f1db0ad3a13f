package orchestrator

import (
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
)

// A run tag (awsclient.RunTag) is "<verb> <execution>[ <rest>]": the
// constructors below make every form, and ParseRunTag is the one reader.

// The verbs of a run tag that say where a run is (it runs, is being
// aborted, stopped or promoted, or its promote was refused). Any other
// verb is the status the run ended with (EndedTag).
const (
	verbRunning = "running"
	verbAbort   = "abort"
	verbStop    = "stop"
	verbPromote = "promote"
	verbRefused = "refused"
	// afterWord starts an EndedAfter tag's rest.
	afterWord = "after "
)

// RunTagValue is a run tag's value, read by ParseRunTag and written by
// String.
type RunTagValue struct {
	// Verb is running, abort, stop, promote, refused, or the status the
	// run ended with.
	Verb string
	// Execution is the name of the execution the tag is about.
	Execution string
	// Rest is what follows: a promote's step; a refused promote's step
	// and why; an end's "after <verb>[ <step>]" (EndedAfter); "" for the
	// other forms.
	Rest string
}

// String is the tag value.
func (v RunTagValue) String() string {
	s := v.Verb + " " + v.Execution
	if v.Rest != "" {
		s += " " + v.Rest
	}
	return s
}

// ParseRunTag reads a run tag's value; false when it is not one (no verb
// or no execution).
func ParseRunTag(run string) (RunTagValue, bool) {
	verb, after, _ := strings.Cut(run, " ")
	execution, rest, _ := strings.Cut(after, " ")
	if verb == "" || execution == "" {
		return RunTagValue{}, false
	}
	return RunTagValue{Verb: verb, Execution: execution, Rest: rest}, true
}

// Running says the tag is the one the apply that started its run sets
// (RunningTag): the run is in progress.
func (v RunTagValue) Running() bool { return v.Verb == verbRunning }

// Ended is the status the tag says its run ended with (EndedTag,
// EndedAfter); false when it says the run is in progress.
func (v RunTagValue) Ended() (rollout.Status, bool) {
	switch v.Verb {
	case verbRunning, verbAbort, verbStop, verbPromote, verbRefused:
		return "", false
	}
	return rollout.Status(v.Verb), true
}

// RunningTag is the RunTag the apply that starts the execution sets.
func RunningTag(execution string) string {
	return RunTagValue{Verb: verbRunning, Execution: execution}.String()
}

// AbortTag is the RunTag an apply sets to abort the execution.
func AbortTag(execution string) string {
	return RunTagValue{Verb: verbAbort, Execution: execution}.String()
}

// StopTag is the RunTag a destroy sets to end the execution where it is:
// its resource is gone, so nothing more is written (not even a rollback);
// the run's end notice (failed, gate aborted) and its status say so.
func StopTag(execution string) string {
	return RunTagValue{Verb: verbStop, Execution: execution}.String()
}

// StopReason is the reason of the failure a StopTag ends a run with.
const StopReason = "its resource was destroyed during the rollout: the rollout ended where it was, and wrote nothing more"

// PromoteTag is the RunTag an apply sets to promote the execution held
// after step: a later hold of the same run is promoted by its own.
func PromoteTag(execution string, step int) string {
	return RunTagValue{Verb: verbPromote, Execution: execution, Rest: strconv.Itoa(step)}.String()
}

// RefusedTag is the RunTag the orchestrator sets, in place of its
// PromoteTag, when AWS refused the first write after the hold after step
// (rollout.refusedAfterHold: the run is held again where it was): why is
// the refusal, as a tag value allows (RefusalText). The run waits as any
// hold does (hold_timeout applies) until a new promote.
func RefusedTag(execution string, step int, why string) string {
	rest := strconv.Itoa(step)
	if why != "" {
		rest += " " + why
	}
	return bound(RunTagValue{Verb: verbRefused, Execution: execution, Rest: rest}.String(), maxTagValue)
}

// ParseRefusedTag reads a RefusedTag of execution: the step whose promote
// was refused and why.
func ParseRefusedTag(run, execution string) (step int, why string, ok bool) {
	v, ok := ParseRunTag(run)
	if !ok || v.Verb != verbRefused || v.Execution != execution {
		return 0, "", false
	}
	n, why, _ := strings.Cut(v.Rest, " ")
	step, err := strconv.Atoi(n)
	if err != nil || step < 1 {
		return 0, "", false
	}
	return step, why, true
}

// maxTagValue is the longest tag value AWS takes (ELB, Lambda, SSM).
const maxTagValue = 256

var (
	apiErrorRE     = regexp.MustCompile(`api error ([A-Za-z.]+): `)
	notAuthorizeRE = regexp.MustCompile(`not authorized to perform:? ([A-Za-z0-9-]+:[A-Za-z0-9*]+)`)
	notTagRE       = regexp.MustCompile(`[^\p{L}\p{Z}\p{N}_.:/=+\-@]+`)
)

// RefusalText is what a tag value can say of an AWS error: its code and
// the permission it names ("AccessDenied elasticloadbalancing:ModifyListener"),
// or the error's text with what a tag value cannot hold made spaces.
func RefusalText(text string) string {
	code := ""
	if m := apiErrorRE.FindStringSubmatch(text); m != nil {
		code = m[1]
		text = text[strings.Index(text, m[0])+len(m[0]):]
	}
	if m := notAuthorizeRE.FindStringSubmatch(text); m != nil {
		return strings.TrimSpace(code + " " + m[1])
	}
	return strings.Join(strings.Fields(notTagRE.ReplaceAllString(strings.TrimSpace(code+" "+text), " ")), " ")
}

func bound(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return strings.TrimSpace(s)
}

// EndedTag is the RunTag the orchestrator sets when the run ends.
func EndedTag(status rollout.Status, execution string) string {
	return RunTagValue{Verb: string(status), Execution: execution}.String()
}

// EndedAfter is the RunTag the orchestrator sets when a call that acted on
// the run tag (acted: an AbortTag, a StopTag, a PromoteTag) ends the run:
// its EndedTag, then what it acted on, without the execution's name
// ("changed_during_rollout rollout-… after abort"). Step Functions repeats
// a call whose answer was lost with the same input; the repeat finds this
// tag where its first attempt found the one it acted on, and acts on that
// again (actedOn), so that it ends the run the same way.
func EndedAfter(status rollout.Status, execution, acted string) string {
	a, ok := ParseRunTag(acted)
	if !ok {
		return EndedTag(status, execution)
	}
	after := afterWord + a.Verb
	if a.Rest != "" {
		after += " " + a.Rest
	}
	return RunTagValue{Verb: string(status), Execution: execution, Rest: after}.String()
}

// EndedOf is the status a run tag says execution's run ended with
// (EndedTag, EndedAfter); false when it does not say that run ended (it
// runs, is being aborted, stopped or promoted, or names another run).
func EndedOf(run, execution string) (rollout.Status, bool) {
	v, ok := ParseRunTag(run)
	if !ok || v.Execution != execution {
		return "", false
	}
	return v.Ended()
}

// actedOn is the run tag the call that ended execution's run acted on, as
// its EndedAfter tag (run) says; false when run is not one.
func actedOn(run, execution string) (string, bool) {
	v, ok := ParseRunTag(run)
	if !ok || v.Execution != execution {
		return "", false
	}
	if _, ended := v.Ended(); !ended {
		return "", false
	}
	after, found := strings.CutPrefix(v.Rest, afterWord)
	if !found || after == "" {
		return "", false
	}
	verb, rest, _ := strings.Cut(after, " ")
	return RunTagValue{Verb: verb, Execution: execution, Rest: rest}.String(), true
}
