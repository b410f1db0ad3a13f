package provider_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/rolloutdev/terraform-provider-rollout/internal/acctest"
	"github.com/rolloutdev/terraform-provider-rollout/internal/awsclient"
	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

// rollout_status reads what the subject's tags and weights say: held at
// step 1 of 3 with the step's weights and its owner; waiting for succeeded
// while it is held fails after the wait's timeout (on the provider's
// clock); once promoted, succeeded at step 3.
func TestAccDataSourceStatus(t *testing.T) {
	t.Parallel()
	f := newRolloutFixture(t)
	status := func(extra string) string {
		return fmt.Sprintf("\ndata \"rollout_status\" \"s\" {\n  listener_arn = %q\n  %s\n}\n", f.ref.ListenerARN, extra)
	}
	ds := func(key string, v knownvalue.Check) statecheck.StateCheck {
		return statecheck.ExpectKnownValue("data.rollout_status.s", tfjsonpath.New(key), v)
	}
	held := f.config(0, 100, holdSteps)
	promoted := f.config(0, 100, holdSteps+"\n    promote = \"1\"")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: f.e.Factories(),
		Steps: []resource.TestStep{
			{Config: f.config(100, 0, "") + status(""), ConfigStateChecks: []statecheck.StateCheck{ds("status", knownvalue.StringExact("none"))}},
			{Config: held},
			{
				Config: held + status(""),
				ConfigStateChecks: []statecheck.StateCheck{
					ds("status", knownvalue.StringExact("held")), ds("held", knownvalue.Bool(true)),
					ds("step", knownvalue.Int64Exact(1)), ds("steps", knownvalue.Int64Exact(3)), ds("last_event", knownvalue.StringExact("held")),
					ds("kind", knownvalue.StringExact("listener")), ds("execution", knownvalue.StringExact("")),
					ds("owner", knownvalue.StringRegexp(regexpMust(`^rollout_traffic_split/[0-9a-f]{16}$`))),
					ds("weights", knownvalue.MapExact(map[string]knownvalue.Check{f.blue: knownvalue.Int64Exact(900), f.green: knownvalue.Int64Exact(100)})),
					ds("percentages", knownvalue.MapExact(map[string]knownvalue.Check{f.blue: knownvalue.Float64Exact(90), f.green: knownvalue.Float64Exact(10)})),
				},
			},
			{
				Config:      held + status(`wait = { until = ["succeeded", "rolled_back"], timeout = "2m", poll_interval = "30s" }`),
				ExpectError: errRE(`Rollout Status Not Reached(.|\n)*is held \(last event "held", step 1 of 3\) after waiting 2m, not one of succeeded, rolled_back`),
			},
			{Config: promoted + status("")},
			{
				Config: promoted + status(`wait = { until = ["succeeded"], timeout = "1m" }`),
				ConfigStateChecks: []statecheck.StateCheck{
					ds("status", knownvalue.StringExact("succeeded")), ds("held", knownvalue.Bool(false)),
					ds("step", knownvalue.Int64Exact(3)), ds("last_event", knownvalue.StringExact("succeeded")),
					ds("percentages", knownvalue.MapExact(map[string]knownvalue.Check{f.blue: knownvalue.Float64Exact(0), f.green: knownvalue.Float64Exact(100)})),
				},
			},
		},
	})
}

// wait polls on the provider's clock until the status is reached or the
// full timeout has passed, its last read at the timeout: a status reached
// at the timeout is seen (not given up a poll early), a timeout shorter
// than the poll still waits the timeout, and a status never reached fails
// after the timeout, saying how long it waited.
func TestAccDataSourceStatus_waitsTheFullTimeout(t *testing.T) {
	t.Parallel()
	e := acctest.NewEnv(t)
	f := e.NewFixture(2)
	e.SetWeights(awsclient.Ref{ListenerARN: f.Listener}, weights.Split{{ARN: f.TGs[0], Weight: 100}, {ARN: f.TGs[1], Weight: 0}})
	setStatus := func(v string) {
		if _, err := e.ELB.AddTags(context.Background(), &elb.AddTagsInput{ResourceArns: []string{f.Listener},
			Tags: []elbtypes.Tag{{Key: aws.String(awsclient.StatusTag), Value: aws.String(v)}}}); err != nil {
			t.Errorf("setting the status tag: %v", err)
		}
	}
	var mu sync.Mutex
	var start time.Time
	var reachAt time.Duration // the rollout succeeds this long after start; 0: never
	e.Clock.OnSleep(func(_ context.Context, _ time.Duration, now time.Time) {
		mu.Lock()
		defer mu.Unlock()
		if reachAt > 0 && !now.Before(start.Add(reachAt)) {
			setStatus("succeeded 3/3 2026-01-01T00:00:00Z")
			reachAt = 0
		}
	})
	// arm holds the rollout from now, until after (0: for ever).
	arm := func(after time.Duration) func() {
		return func() {
			setStatus("held 1/3 2026-01-01T00:00:00Z")
			mu.Lock()
			defer mu.Unlock()
			start, reachAt = e.Clock.Now(), after
		}
	}
	waited := func(want time.Duration) func() {
		return func() {
			mu.Lock()
			defer mu.Unlock()
			if got := e.Clock.Now().Sub(start); got != want {
				t.Errorf("waited %s on the provider's clock, want %s", got, want)
			}
		}
	}
	cfg := func(wait string) string {
		return e.ProviderConfig() + fmt.Sprintf("\ndata \"rollout_status\" \"s\" {\n  listener_arn = %q\n  wait = %s\n}\n", f.Listener, wait)
	}
	succeeded := statecheck.ExpectKnownValue("data.rollout_status.s", tfjsonpath.New("status"), knownvalue.StringExact("succeeded"))
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: e.Factories(),
		Steps: []resource.TestStep{
			{
				// Reached at the timeout: the last poll is at the timeout.
				PreConfig:         arm(2 * time.Minute),
				Config:            cfg(`{ until = ["succeeded"], timeout = "2m", poll_interval = "30s" }`),
				ConfigStateChecks: []statecheck.StateCheck{succeeded},
			},
			{
				// A timeout shorter than the poll: one wait of the timeout.
				PreConfig:         func() { waited(2 * time.Minute)(); arm(10 * time.Second)() },
				Config:            cfg(`{ until = ["succeeded"], timeout = "10s", poll_interval = "30s" }`),
				ConfigStateChecks: []statecheck.StateCheck{succeeded},
			},
			{
				// Never reached: polls at 0, 45 s, 1 m 30 s and 2 m, then
				// fails saying it waited 2 m.
				PreConfig:   func() { waited(10 * time.Second)(); arm(0)() },
				Config:      cfg(`{ until = ["succeeded"], timeout = "2m", poll_interval = "45s" }`),
				ExpectError: errRE(`Rollout Status Not Reached(.|\n)*is held \(last event "held", step 1 of 3\) after waiting 2m, not one of succeeded`),
			},
			{
				PreConfig:   func() { waited(2 * time.Minute)(); arm(0)() },
				Config:      cfg(`{ until = ["succeeded"], timeout = "5s", poll_interval = "1m" }`),
				ExpectError: errRE(`Rollout Status Not Reached(.|\n)*after waiting 5s, not one of succeeded`),
			},
			{
				PreConfig:         func() { waited(5 * time.Second)(); arm(time.Second)() },
				Config:            cfg(`{ until = ["succeeded"], timeout = "1s" }`),
				ConfigStateChecks: []statecheck.StateCheck{succeeded},
				Check:             func(*terraform.State) error { waited(time.Second)(); return nil },
			},
		},
	})
}
