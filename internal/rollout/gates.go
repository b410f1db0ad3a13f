package rollout

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"
)

// The gate readers a subject offers the Runner. A subject without one of
// them (a flag has no targets, so no HealthReader) leaves it nil; the plan
// refuses a gate whose reader the subject does not have, and a run that
// meets one anyway fails that gate rather than guess.

// HealthReader counts a target group's healthy and serving targets.
type HealthReader interface {
	TargetHealth(ctx context.Context, targetGroup string) (Health, error)
}

// AlarmReader reads CloudWatch alarms' states by name.
type AlarmReader interface {
	AlarmStates(ctx context.Context, names []string) ([]AlarmState, error)
}

// AlarmWatcher is an AlarmReader that can watch alarms while another of
// the run's reads waits for its turn in the API budget: every interval it
// reads names (a shared reading) and calls fire once when one of them is
// in ALARM. The returned func ends the watch; after it returns, fire is
// not called.
type AlarmWatcher interface {
	WatchAlarms(ctx context.Context, names []string, interval time.Duration, fire func()) (end func())
}

// MetricsReader reads the metrics of a part of the subject gaining traffic
// (a target group, a version) over a window.
type MetricsReader interface {
	Metrics(ctx context.Context, part string, start, end time.Time) (Metrics, error)
}

// HookInvoker calls a validation hook.
type HookInvoker interface {
	Invoke(ctx context.Context, function string, p HookPayload) (HookResult, error)
}

// Observers are the gate readers of a subject.
type Observers struct {
	Health  HealthReader
	Alarms  AlarmReader
	Metrics MetricsReader
	Hooks   HookInvoker
}

// errNoReader is the read error of a gate the subject cannot be observed
// by: the gate fails at once, without the retries a failed read gets.
var errNoReader = errors.New("the subject cannot be observed by this gate")

func (r *Runner) noReader(gate Gate) error {
	return fmt.Errorf("%w: a %s has no %s gate", errNoReader, r.SubjectKind, gate)
}

func (r *Runner) targetHealth(ctx context.Context, tg string) (Health, error) {
	if r.Observe.Health == nil {
		return Health{}, r.noReader(GateHealth)
	}
	return r.Observe.Health.TargetHealth(ctx, tg)
}

func (r *Runner) alarmStates(ctx context.Context, names []string) ([]AlarmState, error) {
	if r.Observe.Alarms == nil {
		return nil, r.noReader(GateAlarm)
	}
	return r.Observe.Alarms.AlarmStates(ctx, names)
}

func (r *Runner) metrics(ctx context.Context, part string, start, end time.Time) (Metrics, error) {
	if r.Observe.Metrics == nil {
		return Metrics{}, r.noReader(GateMetrics)
	}
	return r.Observe.Metrics.Metrics(ctx, part, start, end)
}

func (r *Runner) invoke(ctx context.Context, fn string, p HookPayload) (HookResult, error) {
	if r.Observe.Hooks == nil {
		return HookResult{}, r.noReader(GateHook)
	}
	return r.Observe.Hooks.Invoke(ctx, fn, p)
}

// Health is a target group's registered and healthy targets.
type Health struct{ Healthy, Total int }

// AlarmState is one CloudWatch alarm's state.
type AlarmState struct {
	Name, State, Reason string
}

// Alarm states as CloudWatch names them.
const (
	StateOK               = "OK"
	StateAlarm            = "ALARM"
	StateInsufficientData = "INSUFFICIENT_DATA"
	PhaseBeforeShift      = "before_shift"
	PhaseAfterPause       = "after_pause"
	HookStatusSucceeded   = "Succeeded"
	defaultPollInterval   = 15 * time.Second
	defaultHealthTimeout  = 5 * time.Minute
	defaultMinHealthyTgts = 1
	defaultMinHealthyPct  = 100.0
)

// Metrics are a target group's load balancer metrics over a window.
type Metrics struct {
	Requests  float64
	Errors5xx float64
	// P99Ms is the 99th percentile of the target response time in
	// milliseconds; HasP99 is false when there was no data.
	P99Ms  float64
	HasP99 bool
}

// HookPayload is the JSON a validation hook receives.
type HookPayload struct {
	// SubjectID is what moves: a listener or rule ARN (later an alias, a
	// flag); SubjectKind says which ("listener", "rule").
	SubjectID   string `json:"subject_id"`
	SubjectKind string `json:"subject_kind"`
	// SplitID is SubjectID under its first name, kept for hooks written
	// against it.
	SplitID string         `json:"split_id"`
	Phase   string         `json:"phase"`
	Step    int            `json:"step"`
	Steps   int            `json:"steps"`
	Percent int            `json:"percent"`
	From    map[string]int `json:"from"`
	To      map[string]int `json:"to"`
}

// HookResult is what a hook answered: FunctionError is set when the function
// itself failed; otherwise Status must be "Succeeded".
type HookResult struct {
	Status, Reason, FunctionError string
}

// Gates is what must hold for a rollout to go on.
type Gates struct {
	Health                 *HealthGate  `json:"health,omitempty"`
	Alarms                 []string     `json:"alarms,omitempty"`
	FailOnInsufficientData bool         `json:"fail_on_insufficient_data,omitempty"`
	Metrics                *MetricsGate `json:"metrics,omitempty"`
	BeforeShift            string       `json:"before_shift,omitempty"` // Lambda function ARN
	AfterPause             string       `json:"after_pause,omitempty"`  // Lambda function ARN
}

// HealthGate: each gaining target group has at least MinHealthyTargets and
// MinHealthyPercent healthy targets, waiting up to Timeout before a shift.
type HealthGate struct {
	MinHealthyTargets int           `json:"min_healthy_targets"`
	MinHealthyPercent float64       `json:"min_healthy_percent"`
	Timeout           time.Duration `json:"timeout"`
}

// DefaultHealthGate is the health gate with every setting at its default.
func DefaultHealthGate() HealthGate {
	return HealthGate{MinHealthyTargets: defaultMinHealthyTgts, MinHealthyPercent: defaultMinHealthyPct, Timeout: defaultHealthTimeout}
}

// MetricsGate: thresholds over each pause on the gaining target groups. A nil
// field is not checked.
type MetricsGate struct {
	MaxErrorRatePercent *float64 `json:"max_error_rate_percent,omitempty"`
	MaxP99LatencyMs     *float64 `json:"max_p99_latency_ms,omitempty"`
	MinRequestCount     *int64   `json:"min_request_count,omitempty"`
	// Delay is how long after a pause the metrics are read, for CloudWatch
	// to publish the pause's last minute.
	Delay time.Duration `json:"delay"`
	// ErrorsAre names the errors counted, in messages: "a 5XX" (the
	// default, for a load balancer) or "a function error" (Lambda).
	ErrorsAre string `json:"errors_are,omitempty"`
}

// DefaultMetricsDelay is how long CloudWatch takes, at most in practice, to
// publish an Application Load Balancer's one-minute metrics.
const DefaultMetricsDelay = 90 * time.Second

// ReadFailures counts each gate's failed reads in a row (health, alarms,
// metrics, hooks): a read of one gate that succeeds never forgives
// another's failures, so a gate that cannot be read is not masked by one
// that can (a pause's poll reads the alarms, then health). A gate whose
// reads succeed has no entry.
type ReadFailures map[Gate]int

// read runs one gate read. A read that fails is logged and counted for its
// gate: after MaxReadFailures failures of that gate in a row the gate fails
// (or, with IgnoreReadFailures, passes); before that, read says to try
// again (retryLater) and the caller decides when: a check before a shift or
// after a pause a poll interval later, a poll during a pause at the next
// poll. A cancel or the deadline ends the read with its error. read never
// waits.
func (r *Runner) read(ctx context.Context, gate Gate, what string, fn func(context.Context) (*Failure, error)) (f *Failure, retryLater bool, err error) {
	limit := r.MaxReadFailures
	if limit <= 0 {
		limit = DefaultMaxReadFailures
	}
	cctx, cancel := r.callCtx(ctx)
	f, err = fn(cctx)
	cancel()
	if err == nil {
		delete(r.readFailures, gate)
		return f, false, nil
	}
	if ctx.Err() != nil {
		return nil, false, ctx.Err()
	}
	if errors.Is(err, errNoReader) {
		return &Failure{Gate: gate, Unreadable: true, Reason: Bound(err.Error())}, false, nil
	}
	if r.pastDeadline() {
		if gate == GateHook {
			when := "the apply's timeout"
			if r.DeadlineReason != "" {
				when = "the deadline"
			}
			return &Failure{Gate: GateHook, Reason: Bound(fmt.Sprintf("%s did not answer before %s", what, when))}, false, nil
		}
		return nil, false, ErrTimedOut
	}
	if r.readFailures == nil {
		r.readFailures = ReadFailures{}
	}
	r.readFailures[gate]++
	n := r.readFailures[gate]
	r.log("rollout gate could not be read", "gate", string(gate), "what", what, "failures_in_a_row", n, "of", limit, "error", Bound(err.Error()))
	if n >= limit {
		delete(r.readFailures, gate)
		if r.IgnoreReadFailures && gate != GateHook {
			r.log("rollout going on without the gate (ignore_poll_failures)", "gate", string(gate))
			return nil, false, nil
		}
		return &Failure{Gate: gate, Unreadable: true, Reason: Bound(fmt.Sprintf("%s failed %d times in a row: %v", what, limit, err))}, false, nil
	}
	return nil, true, nil
}

// checkHealth reads the health of tgs once and judges it (retryLater: the
// read failed and may be tried again).
func (r *Runner) checkHealth(ctx context.Context, g HealthGate, tgs []string, n int) (f *Failure, retryLater bool, err error) {
	var hs []Health
	f, retryLater, err = r.read(ctx, GateHealth, "reading the target health of "+strings.Join(tgs, ", "), func(cctx context.Context) (*Failure, error) {
		hs = hs[:0]
		for _, tg := range tgs {
			h, err := r.targetHealth(cctx, tg)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", tg, err)
			}
			hs = append(hs, h)
		}
		return nil, nil
	})
	if err != nil || retryLater {
		return nil, retryLater, err
	}
	if f != nil {
		f.Step, f.Unreadable = n, true
		return f, false, nil
	}
	if len(hs) < len(tgs) {
		return nil, false, nil // not read, and ignored
	}
	f = EvalHealth(g, tgs, hs)
	if f != nil {
		f.Step = n
	}
	return f, false, nil
}

// checkAlarms reads the alarms once and judges them.
func (r *Runner) checkAlarms(ctx context.Context, n int) (f *Failure, retryLater bool, err error) {
	if len(r.Gates.Alarms) == 0 {
		return nil, false, nil
	}
	var states []AlarmState
	read := false
	f, retryLater, err = r.read(ctx, GateAlarm, "reading the alarms", func(cctx context.Context) (*Failure, error) {
		var err error
		states, err = r.alarmStates(cctx, r.Gates.Alarms)
		read = err == nil
		return nil, err
	})
	if err != nil || f != nil || retryLater {
		if f != nil {
			f.Step = n
		}
		return f, retryLater, err
	}
	if !read {
		return nil, false, nil
	}
	f = EvalAlarms(r.Gates.Alarms, states, r.Gates.FailOnInsufficientData)
	if f != nil {
		f.Step = n
	}
	return f, false, nil
}

// checkMetrics reads one target group's metrics over a window and judges
// them.
func (r *Runner) checkMetrics(ctx context.Context, g MetricsGate, tg string, start, end time.Time, pause time.Duration, n int) (f *Failure, retryLater bool, err error) {
	var m Metrics
	f, retryLater, err = r.read(ctx, GateMetrics, "reading the metrics of "+tg, func(cctx context.Context) (*Failure, error) {
		var err error
		m, err = r.metrics(cctx, tg, start, end)
		return nil, err
	})
	if f != nil || err != nil || retryLater {
		if f != nil {
			f.Step = n
		}
		return f, retryLater, err
	}
	r.log("rollout metrics", "step", n, "target_group", tg, "requests", m.Requests, "errors_5xx", m.Errors5xx, "p99_ms", m.P99Ms)
	if f := EvalMetrics(g, tg, m, pause); f != nil {
		f.Step = n
		return f, false, nil
	}
	return nil, false, nil
}

// hook invokes a validation hook once. An invocation that fails may be
// tried again, up to MaxReadFailures times; one that does not answer before
// the deadline fails the step.
func (r *Runner) hook(ctx context.Context, fn string, p HookPayload, n int) (f *Failure, retryLater bool, err error) {
	var hr HookResult
	f, retryLater, err = r.read(ctx, GateHook, fmt.Sprintf("the %s hook %s", p.Phase, fn), func(cctx context.Context) (*Failure, error) {
		var err error
		hr, err = r.invoke(cctx, fn, p)
		return nil, err
	})
	if err != nil || f != nil || retryLater {
		if f != nil {
			f.Step = n
		}
		return f, retryLater, err
	}
	r.log("rollout hook answered", "step", n, "phase", p.Phase, "function", fn, "status", Bound(hr.Status), "function_error", Bound(hr.FunctionError))
	f = EvalHook(p.Phase, fn, hr)
	if f != nil {
		f.Step = n
	}
	return f, false, nil
}

// Bound cuts outside text (a hook's answer, an AWS error) to MaxReasonBytes
// on a UTF-8 boundary, so state and logs stay small.
func Bound(s string) string {
	if len(s) <= MaxReasonBytes {
		return s
	}
	cut := MaxReasonBytes - len(" … (cut)")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + " … (cut)"
}

// EvalHealth checks each target group's health against the gate.
func EvalHealth(g HealthGate, tgs []string, hs []Health) *Failure {
	healthy, total := 0, 0
	var bad []string
	for i, tg := range tgs {
		h := hs[i]
		healthy += h.Healthy
		total += h.Total
		pct := 0.0
		if h.Total > 0 {
			pct = 100 * float64(h.Healthy) / float64(h.Total)
		}
		if h.Healthy < g.MinHealthyTargets || pct < g.MinHealthyPercent {
			bad = append(bad, fmt.Sprintf("%s has %d healthy of %d registered targets (%.0f %%)", tg, h.Healthy, h.Total, pct))
		}
	}
	if len(bad) == 0 {
		return nil
	}
	reading := map[string]string{"healthy_targets": fmt.Sprint(healthy), "registered_targets": fmt.Sprint(total), "unhealthy": strings.Join(bad, "; ")}
	frac := 0.0
	if total > 0 {
		frac = float64(healthy) / float64(total)
	}
	return &Failure{Gate: GateHealth, HealthyFraction: frac, Reading: reading,
		Reason: fmt.Sprintf("%s; at least %d and %.0f %% healthy are needed", strings.Join(bad, "; "), g.MinHealthyTargets, g.MinHealthyPercent)}
}

// EvalAlarms fails on the first named alarm in ALARM (or INSUFFICIENT_DATA
// when failOnInsufficient), and on a named alarm that does not exist.
func EvalAlarms(names []string, states []AlarmState, failOnInsufficient bool) *Failure {
	by := map[string]AlarmState{}
	for _, s := range states {
		by[s.Name] = s
	}
	for _, n := range names {
		s, ok := by[n]
		switch {
		case !ok:
			return &Failure{Gate: GateAlarm, Reason: fmt.Sprintf("alarm %q does not exist", n), Reading: map[string]string{"alarm": n, "state": "missing"}}
		case s.State == StateAlarm:
			return &Failure{Gate: GateAlarm, Reason: fmt.Sprintf("alarm %q is in ALARM (%s)", n, s.Reason), Reading: map[string]string{"alarm": n, "state": s.State, "state_reason": Bound(s.Reason)}}
		case s.State == StateInsufficientData && failOnInsufficient:
			return &Failure{Gate: GateAlarm, Reason: fmt.Sprintf("alarm %q is in INSUFFICIENT_DATA and fail_on_insufficient_data is true", n), Reading: map[string]string{"alarm": n, "state": s.State, "state_reason": Bound(s.Reason)}}
		}
	}
	return nil
}

// EvalMetrics checks one target group's metrics over a pause. A step never
// passes on no data: with fewer requests than MinRequestCount (or, for an
// error-rate gate without it, none at all), or a latency gate with no
// TargetResponseTime data, the step fails the volume gate.
func EvalMetrics(g MetricsGate, tg string, m Metrics, pause time.Duration) *Failure {
	f := evalMetrics(g, tg, m, pause)
	if f != nil {
		f.Reading = map[string]string{"target": tg, "requests": trim(m.Requests), "errors": trim(m.Errors5xx), "pause": pause.String()}
		if m.Requests > 0 {
			f.Reading["error_rate_percent"] = fmt.Sprintf("%.3g", 100*m.Errors5xx/m.Requests)
		}
		if m.HasP99 {
			f.Reading["p99_ms"] = trim(m.P99Ms)
		}
	}
	return f
}

func evalMetrics(g MetricsGate, tg string, m Metrics, pause time.Duration) *Failure {
	need := int64(0)
	if g.MinRequestCount != nil {
		need = *g.MinRequestCount
	} else if g.MaxErrorRatePercent != nil {
		need = 1
	}
	if m.Requests < float64(need) {
		what := "min_request_count"
		if g.MinRequestCount == nil {
			what = "the one request needed to judge the error rate (min_request_count is not set)"
		}
		return &Failure{Gate: GateVolume, Reason: fmt.Sprintf("%s served %.0f requests in %s, below %s %d", tg, m.Requests, pause, what, need)}
	}
	if g.MaxErrorRatePercent != nil && m.Requests > 0 {
		rate := 100 * m.Errors5xx / m.Requests
		if rate > *g.MaxErrorRatePercent {
			what := g.ErrorsAre
			if what == "" {
				what = "a 5XX"
			}
			return &Failure{Gate: GateErrorRate, Reason: fmt.Sprintf("%s answered %.0f of %.0f requests with %s (%.3g %%), above max_error_rate_percent %g", tg, m.Errors5xx, m.Requests, what, rate, *g.MaxErrorRatePercent)}
		}
	}
	if g.MaxP99LatencyMs != nil {
		if !m.HasP99 {
			return &Failure{Gate: GateVolume, Reason: fmt.Sprintf("%s has no TargetResponseTime data for the pause, so max_p99_latency_ms cannot be judged", tg)}
		}
		if m.P99Ms > *g.MaxP99LatencyMs {
			return &Failure{Gate: GateLatency, Reason: fmt.Sprintf("%s has a p99 target response time of %s ms, above max_p99_latency_ms %g", tg, trim(m.P99Ms), *g.MaxP99LatencyMs)}
		}
	}
	return nil
}

// EvalHook fails on a function error or a status other than Succeeded.
func EvalHook(phase, fn string, hr HookResult) *Failure {
	f := evalHook(phase, fn, hr)
	if f != nil {
		f.Reading = map[string]string{"function": fn, "phase": phase, "status": hr.Status, "reason": Bound(hr.Reason)}
		if hr.FunctionError != "" {
			f.Reading["function_error"] = hr.FunctionError
		}
	}
	return f
}

func evalHook(phase, fn string, hr HookResult) *Failure {
	switch {
	case hr.FunctionError != "":
		return &Failure{Gate: GateHook, Reason: Bound(fmt.Sprintf("the %s hook %s failed with a %s function error: %s", phase, fn, hr.FunctionError, hr.Reason))}
	case hr.Status != HookStatusSucceeded:
		why := ""
		if hr.Reason != "" {
			why = ": " + hr.Reason
		}
		st := hr.Status
		if st == "" {
			st = "no status"
		}
		return &Failure{Gate: GateHook, Reason: Bound(fmt.Sprintf("the %s hook %s answered %q, not %q%s", phase, fn, st, HookStatusSucceeded, why))}
	}
	return nil
}

func trim(f float64) string {
	if f == math.Trunc(f) {
		return fmt.Sprintf("%.0f", f)
	}
	return fmt.Sprintf("%.1f", f)
}
