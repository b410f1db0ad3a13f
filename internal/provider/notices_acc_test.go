package provider_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/rolloutdev/terraform-provider-rollout/internal/acctest"
	"github.com/rolloutdev/terraform-provider-rollout/internal/awsclient"
	"github.com/rolloutdev/terraform-provider-rollout/internal/clock"
	"github.com/rolloutdev/terraform-provider-rollout/internal/emulator"
	"github.com/rolloutdev/terraform-provider-rollout/internal/provider"
	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
)

// notifications is a rollout's notifications block.
func notifications(topic, bus string) string {
	var parts []string
	if topic != "" {
		parts = append(parts, fmt.Sprintf("sns_topic_arn = %q", topic))
	}
	if bus != "" {
		parts = append(parts, fmt.Sprintf("event_bus_name = %q", bus))
	}
	return "\n    notifications = { " + strings.Join(parts, ", ") + " }"
}

// A canary rolled back by an alarm publishes exactly started,
// step_completed, gate_failed (the alarm, its state and reason) and
// rolled_back, in order, to the SNS topic and to the EventBridge bus (a
// detail-type each, source "rollout"); every one follows the published
// schema (NoticeQueue.Read checks it).
func TestAccNotices_alarmRollback(t *testing.T) {
	t.Parallel()
	f := newRolloutFixture(t)
	alarm := f.e.Alarm("api-5xx")
	topic, viaSNS := f.e.SNSNotices("rollout-notices")
	bus, viaEvents := f.e.EventNotices("rollout-bus")
	var once sync.Once
	f.e.Clock.OnSleep(func(context.Context, time.Duration, time.Time) {
		if len(f.splits()) == 3 { // created, step 1, step 2: the second pause
			once.Do(func() { f.e.SetAlarmState(alarm, cwtypes.StateValueAlarm) })
		}
	})
	ro := canarySteps + fmt.Sprintf("\n    gates = { alarms = [%q] }", alarm) + notifications(topic, bus)
	cfg := f.config(0, 100, ro)
	want := "started@0 step_completed@1 gate_failed@2 rolled_back@2"
	check := func(q *acctest.NoticeQueue, types bool) {
		got, detailTypes := q.Read(4)
		if strings.Join(acctest.Kinds(got), " ") != want {
			t.Fatalf("the notices were %v, want %s", acctest.Kinds(got), want)
		}
		gf, rb := got[2], got[3]
		if gf.Failure == nil || gf.Failure.Gate != rollout.GateAlarm || gf.Failure.Reading["alarm"] != alarm || gf.Failure.Reading["state"] != "ALARM" ||
			gf.Failure.Reading["state_reason"] == "" || gf.Policy != rollout.Immediate {
			t.Fatalf("gate_failed says %+v (rollback %s), want the alarm %s in ALARM with its reason", gf.Failure, gf.Policy, alarm)
		}
		if gf.After[f.green] != 500 || rb.Before[f.green] != 500 || rb.After[f.green] != 0 || rb.After[f.blue] != 100 {
			t.Fatalf("the weights are wrong: gate_failed after %v, rolled_back %v → %v", gf.After, rb.Before, rb.After)
		}
		for _, n := range got {
			if n.SubjectKind != "listener" || n.SubjectID != f.ref.ID() || n.Steps != 3 || !n.Started.Equal(got[0].Started) || n.Started.IsZero() {
				t.Fatalf("a notice is not labelled: %+v", n)
			}
		}
		if types && strings.Join(detailTypes, ",") != "Rollout Started,Rollout Step Completed,Rollout Gate Failed,Rollout Rolled Back" {
			t.Fatalf("the detail-types were %v", detailTypes)
		}
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: f.e.Factories(),
		Steps: []resource.TestStep{
			f.start(),
			{Config: cfg, ExpectError: errRE(`Rollout Rolled Back(.|\n)*Step 2 of 3 failed the alarms gate`)},
			{
				PreConfig: func() {
					check(viaSNS, false)
					check(viaEvents, true)
				},
				Config: cfg, PlanOnly: true, ExpectNonEmptyPlan: true,
			},
		},
	})
}

// With SNS answering every Publish with an error, the rollback happens as
// it would without notifications, the apply says so, and
// last_rollout.notices_undelivered counts them; EventBridge still gets
// every notice.
func TestAccNotices_snsFailingNeverBlocks(t *testing.T) {
	acctest.OneEngine(t)
	t.Parallel()
	f := newRolloutFixture(t)
	alarm := f.e.Alarm("api-5xx")
	topic, viaSNS := f.e.SNSNotices("rollout-notices")
	bus, viaEvents := f.e.EventNotices("rollout-bus")
	var once sync.Once
	f.e.Clock.OnSleep(func(context.Context, time.Duration, time.Time) {
		if len(f.splits()) == 3 {
			once.Do(func() { f.e.SetAlarmState(alarm, cwtypes.StateValueAlarm) })
		}
	})
	ro := canarySteps + fmt.Sprintf("\n    gates = { alarms = [%q] }", alarm) + notifications(topic, bus)
	cfg := f.config(0, 100, ro)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: f.e.Factories(),
		Steps: []resource.TestStep{
			f.start(),
			{
				PreConfig: func() {
					f.e.Emu.InjectFaults("sns", emulator.Faults{Rate: 1, Kinds: []emulator.Fault{emulator.ServerError}})
				},
				Config:      cfg,
				ExpectError: errRE(`Rollout Rolled Back(.|\n)*Step 2 of 3 failed the alarms gate`),
			},
			{
				PreConfig: func() {
					f.e.Emu.InjectFaults("sns", emulator.Faults{})
					if got, _ := viaEvents.Read(4); len(got) != 4 {
						t.Fatalf("EventBridge got %v, want the four notices", acctest.Kinds(got))
					}
					if got, _ := viaSNS.Read(0); len(got) != 0 {
						t.Fatalf("SNS delivered %v while failing", acctest.Kinds(got))
					}
				},
				Config: f.config(100, 0, ro),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("rollout_traffic_split.test", tfjsonpath.New("last_rollout").AtMapKey("status"), knownvalue.StringExact("rolled_back")),
					statecheck.ExpectKnownValue("rollout_traffic_split.test", tfjsonpath.New("last_rollout").AtMapKey("notices_undelivered"), knownvalue.Int64Exact(4)),
				},
				Check: checkEmulator(f.e, f.ref, f.original),
			},
		},
	})
}

// With SNS failing, the end of the run says so: a warning naming the
// notices not delivered and what to check, and the count.
func TestNoticesNotDeliveredWarns(t *testing.T) {
	t.Parallel()
	e := acctest.NewEnv(t)
	topic, _ := e.SNSNotices("failing")
	e.Emu.InjectFaults("sns", emulator.Faults{Rate: 1, Kinds: []emulator.Fault{emulator.ServerError}})
	c := &awsclient.Client{SNS: sns.NewFromConfig(aws.Config{Region: acctest.Region, Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")},
		func(o *sns.Options) { o.BaseEndpoint = aws.String(e.Emu.URL) }), Region: acctest.Region, Clock: clock.Real{}}
	diags, undelivered := provider.PublishAndClose(c, topic, 3)
	if undelivered != 3 || diags.WarningsCount() != 1 || diags.HasError() {
		t.Fatalf("%d undelivered, diagnostics %v; want 3 and one warning", undelivered, diags)
	}
	w := diags.Warnings()[0]
	if w.Summary() != "Notices Not Delivered" || !strings.Contains(w.Detail(), "3") || !strings.Contains(w.Detail(), "sns:Publish") {
		t.Fatalf("the warning says %q: %q", w.Summary(), w.Detail())
	}
}

// Issue 27 (11): the apply's wait at its end covers what its run sent.
// SNS answers each Publish in 1.5 s (within the 2 s a publish may take):
// four notices left at the end of a run need 6 s, more than the 5 s the
// apply used to wait; all are delivered and none is counted. Real time:
// the publishes are real requests, bounded in real time.
func TestNoticesLeftAtTheEndAreWaitedFor(t *testing.T) {
	t.Parallel()
	e := acctest.NewEnv(t)
	topic, _ := e.SNSNotices("slow")
	e.Emu.InjectFaults("sns", emulator.Faults{Rate: 1, Kinds: []emulator.Fault{emulator.Slow}, SlowBy: 1500 * time.Millisecond})
	c := &awsclient.Client{SNS: sns.NewFromConfig(aws.Config{Region: acctest.Region, Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")},
		func(o *sns.Options) { o.BaseEndpoint = aws.String(e.Emu.URL) }), Region: acctest.Region, Clock: clock.Real{}}
	diags, undelivered := provider.PublishAndClose(c, topic, 4)
	if undelivered != 0 || diags.WarningsCount() != 0 {
		t.Fatalf("%d notices counted undelivered (%v); want the apply to wait for all 4", undelivered, diags)
	}
	if n := e.Emu.Count("sns:Publish"); n != 4 {
		t.Fatalf("the emulator answered %d Publish, want 4", n)
	}
}
