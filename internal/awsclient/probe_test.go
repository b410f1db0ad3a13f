package awsclient_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/rolloutdev/terraform-provider-rollout/internal/acctest"
	"github.com/rolloutdev/terraform-provider-rollout/internal/awsclient"
	"github.com/rolloutdev/terraform-provider-rollout/internal/clock"
	"github.com/rolloutdev/terraform-provider-rollout/internal/emulator"
	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
	"github.com/rolloutdev/terraform-provider-rollout/internal/subjects/alias"
	"github.com/rolloutdev/terraform-provider-rollout/internal/subjects/listener"
	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

func TestMain(m *testing.M) {
	acctest.SetCredentialsEnv()
	os.Exit(m.Run())
}

// TestProbeAgainstEmulator observes each gate through the real SDK clients
// against kumo.
func TestProbeAgainstEmulator(t *testing.T) {
	e := acctest.NewEnv(t)
	ctx := context.Background()
	c, err := awsclient.New(ctx, awsclient.Config{Region: acctest.Region, Endpoints: awsclient.Endpoints{ELBv2: e.Emu.URL, CloudWatch: e.Emu.URL, Lambda: e.Emu.URL}, MaxRetries: 1}, clock.Real{})
	if err != nil {
		t.Fatal(err)
	}
	f := e.NewFixture(2)
	e.RegisterTargets(f.TGs[0], 3)
	p, err := listener.NewGates(c, awsclient.Ref{ListenerARN: f.Listener})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("apply", func(t *testing.T) {
		s := weights.Split{{ARN: f.TGs[0], Weight: 90}, {ARN: f.TGs[1], Weight: 10}}
		router := &listener.Router{Client: c, Ref: awsclient.Ref{ListenerARN: f.Listener}}
		if _, err := put(router, weights.Split{{ARN: f.TGs[0], Weight: 1}}, s); err != nil {
			t.Fatal(err)
		}
		if got, _ := e.Forward(awsclient.Ref{ListenerARN: f.Listener}); !got.Split.Equal(s) {
			t.Fatalf("listener serves %s, want %s", got.Split, s)
		}
	})
	t.Run("target health", func(t *testing.T) {
		for tg, want := range map[string]rollout.Health{f.TGs[0]: {Healthy: 3, Total: 3}, f.TGs[1]: {}} {
			if h, err := p.TargetHealth(ctx, tg); err != nil || h != want {
				t.Errorf("TargetHealth(%s) = %+v, %v; want %+v", tg, h, err, want)
			}
		}
	})
	t.Run("alarms", func(t *testing.T) {
		ok, bad := e.Alarm("ok"), e.Alarm("bad")
		e.SetAlarmState(bad, cwtypes.StateValueAlarm)
		states, err := c.AlarmStates(ctx, []string{ok, bad, "missing"})
		if err != nil {
			t.Fatal(err)
		}
		f := rollout.EvalAlarms([]string{ok, bad}, states, false)
		if len(states) != 2 || f == nil || !strings.Contains(f.Reason, bad) {
			t.Errorf("states %+v, failure %+v; want %s in ALARM", states, f, bad)
		}
	})
	t.Run("metrics", func(t *testing.T) {
		at := time.Date(2026, 1, 1, 0, 5, 0, 0, time.UTC)
		for i, v := range []float64{400, 600} {
			e.PutTargetGroupMetric(f.Listener, f.TGs[1], "RequestCount", v, at.Add(time.Duration(i)*time.Minute))
		}
		e.PutTargetGroupMetric(f.Listener, f.TGs[1], "HTTPCode_Target_5XX_Count", 7, at)
		e.PutTargetGroupMetric(f.Listener, f.TGs[1], "TargetResponseTime", 0.25, at)
		e.PutTargetGroupMetric(f.Listener, f.TGs[1], "RequestCount", 999, at.Add(time.Hour)) // outside the window
		m, err := p.Metrics(ctx, f.TGs[1], at.Add(-time.Minute), at.Add(5*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if m.Requests != 1000 || m.Errors5xx != 7 || !m.HasP99 || m.P99Ms != 250 {
			t.Errorf("metrics %+v; want 1000 requests, 7 errors, p99 250 ms", m)
		}
	})
	t.Run("hooks", func(t *testing.T) {
		pass := e.HookFunction("pass", func(map[string]any) (string, string) { return acctest.Answer("Succeeded", ""), "" })
		fail := e.HookFunction("fail", func(map[string]any) (string, string) { return acctest.Answer("Failed", "smoke test failed"), "" })
		crash := e.HookFunction("crash", func(map[string]any) (string, string) {
			return `{"errorMessage":"index out of range","errorType":"Runtime.Error"}`, "Unhandled"
		})
		payload := rollout.HookPayload{SubjectID: f.Listener, SubjectKind: "listener", SplitID: f.Listener, Phase: rollout.PhaseBeforeShift, Step: 1, Steps: 3, To: map[string]int{f.TGs[1]: 10}}
		for _, hc := range []struct {
			h    *acctest.Hook
			want rollout.HookResult
		}{
			{pass, rollout.HookResult{Status: "Succeeded"}},
			{fail, rollout.HookResult{Status: "Failed", Reason: "smoke test failed"}},
			{crash, rollout.HookResult{FunctionError: "Unhandled", Reason: "index out of range"}},
		} {
			got, err := awsclient.HookInvoker{Client: p.Client}.Invoke(ctx, hc.h.ARN, payload)
			if err != nil || got != hc.want {
				t.Errorf("Invoke(%s) = %+v, %v; want %+v", hc.h.ARN, got, err, hc.want)
			}
		}
		calls := pass.Calls()
		if len(calls) != 1 || calls[0]["phase"] != "before_shift" || calls[0]["split_id"] != f.Listener {
			t.Errorf("the hook received %v", calls)
		}
	})
}

func TestParseHookAnswer(t *testing.T) {
	for _, c := range []struct {
		fe, body string
		want     rollout.HookResult
	}{
		{"", `{"status":"Succeeded"}`, rollout.HookResult{Status: "Succeeded"}},
		{"", `null`, rollout.HookResult{}},
		{"", `not json`, rollout.HookResult{Reason: "the answer is not a JSON object: not json"}},
		{"Unhandled", `{"errorMessage":"boom"}`, rollout.HookResult{FunctionError: "Unhandled", Reason: "boom"}},
	} {
		if got := awsclient.ParseHookAnswer(c.fe, []byte(c.body)); got != c.want {
			t.Errorf("ParseHookAnswer(%q, %q) = %+v, want %+v", c.fe, c.body, got, c.want)
		}
	}
}

// The alias probe reads a version's Lambda metrics through the alias, and
// sets and confirms routing, against the emulator.
func TestAliasProbeAgainstEmulator(t *testing.T) {
	e := acctest.NewEnv(t)
	ctx := context.Background()
	c, err := awsclient.New(ctx, awsclient.Config{Region: acctest.Region, Endpoints: awsclient.Endpoints{CloudWatch: e.Emu.URL, Lambda: e.Emu.URL}, MaxRetries: 1}, clock.Real{})
	if err != nil {
		t.Fatal(err)
	}
	fn := e.LambdaFunction("probe", 2)
	ref := awsclient.AliasRef{Function: fn, Alias: "live"}
	if _, err := c.CreateAlias(ctx, ref, "1", ""); err != nil {
		t.Fatal(err)
	}
	p := &alias.Gates{Client: c, Ref: ref, FunctionName: fn}
	router := &alias.Router{Client: c, Ref: ref}
	step := weights.Split{{ARN: "1", Weight: 750}, {ARN: "2", Weight: 250}}
	if _, err := put(router, weights.Split{{ARN: "1", Weight: 1}}, step); err != nil {
		t.Fatal(err)
	}
	a, err := c.ReadAlias(ctx, ref)
	if err != nil || a.Version != "1" || a.Additional["2"] != 0.25 {
		t.Fatalf("alias after a step: %+v %v", a, err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	e.PutLambdaMetric(fn, "live", "2", "Invocations", 400, now.Add(-30*time.Second))
	e.PutLambdaMetric(fn, "live", "2", "Errors", 8, now.Add(-30*time.Second))
	e.PutLambdaMetric(fn, "live", "2", "Duration", 180, now.Add(-30*time.Second))
	e.PutLambdaMetric(fn, "live", "2", "Throttles", 2, now.Add(-30*time.Second))
	e.PutLambdaMetric(fn, "live", "1", "Errors", 99, now.Add(-30*time.Second)) // another version: not counted
	m, err := p.Metrics(ctx, "2", now.Add(-2*time.Minute), now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if m.Requests != 402 || m.Errors5xx != 10 || !m.HasP99 || m.P99Ms != 180 {
		t.Fatalf("metrics %+v, want 400 invocations and 2 throttles, 8 errors and 2 throttles, p99 180 ms", m)
	}
	if _, err := put(router, step, weights.Split{{ARN: "2", Weight: 1}}); err != nil {
		t.Fatal(err)
	}
	if a, _ := c.ReadAlias(ctx, ref); a.Version != "2" || len(a.Additional) != 0 {
		t.Fatalf("alias after the last step: %+v", a)
	}
	if p.Observers().Health != nil {
		t.Fatal("an alias offers a health gate")
	}
}

// put is one guarded, confirmed write through a router.
func put(r rollout.Router, expect, want weights.Split) (weights.Split, error) {
	return (&rollout.Runner{Router: r, Clock: clock.Real{}}).Put(context.Background(), []weights.Split{expect}, want)
}

// A flag write whose answer was lost is told from another writer's by the
// parameter's version: the write landed at the version after the one read.
func TestPutFlagOverAfterALostAnswer(t *testing.T) {
	e := acctest.NewEnv(t)
	ctx := context.Background()
	c, err := awsclient.New(ctx, awsclient.Config{Region: acctest.Region, Endpoints: awsclient.Endpoints{SSM: e.Emu.URL}, MaxRetries: 2}, clock.Real{})
	if err != nil {
		t.Fatal(err)
	}
	name := "/rollout/flags/" + acctest.Name("over")
	doc := func(pct int) string {
		return fmt.Sprintf(`{"schema_version":1,"key":"%s","enabled":true,"rollout_percentage":%d}`, name[strings.LastIndex(name, "/")+1:], pct)
	}
	e.PutParameter(name, doc(0))
	p, err := c.ReadFlagParameter(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	e.Emu.FaultNext("ssm:PutParameter", emulator.LostAnswer, 1)
	if v, err := c.PutFlagOver(ctx, name, doc(10), "", "", p.Version); err != nil || v != p.Version+1 {
		t.Fatalf("a write whose answer was lost: version %d, %v; want %d and no error", v, err, p.Version+1)
	}
	// Another writer between the read and the write is a conflict.
	e.PutParameter(name, doc(99))
	if _, err := c.PutFlagOver(ctx, name, doc(20), "", "", p.Version+1); !errors.Is(err, rollout.ErrConflict) {
		t.Fatalf("another writer in between: %v, want a conflict", err)
	}
}
