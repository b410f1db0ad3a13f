package awsclient_test

import (
	"context"
	"strings"
	"testing"

	"github.com/rolloutdev/terraform-provider-rollout/internal/acctest"
	"github.com/rolloutdev/terraform-provider-rollout/internal/awsclient"
	"github.com/rolloutdev/terraform-provider-rollout/internal/clock"
)

// TestDescribeTargetGroupsAgainstEmulator reads two target groups in one
// request, tells a missing one apart without failing, and adds the
// attributes and tags only when asked.
func TestDescribeTargetGroupsAgainstEmulator(t *testing.T) {
	e := acctest.NewEnv(t)
	ctx := context.Background()
	c, err := awsclient.New(ctx, awsclient.Config{Region: acctest.Region, Endpoints: awsclient.Endpoints{ELBv2: e.Emu.URL}, MaxRetries: 1}, clock.Real{})
	if err != nil {
		t.Fatal(err)
	}
	want := awsclient.TargetGroup{
		Name: "web-blue-a1b2", Port: 9090, Protocol: "HTTP", VPC: e.VPC, TargetType: "ip",
		HealthCheck:         awsclient.HealthCheck{Path: "/healthz", Protocol: "HTTP", Port: "traffic-port", HealthyThreshold: 3, UnhealthyThreshold: 2, Interval: 10, Timeout: 5, Matcher: "200-299"},
		DeregistrationDelay: 45,
		Tags:                map[string]string{"team": "web", "rollout:color": "blue"},
	}
	blue, err := c.CreateTargetGroup(ctx, want)
	if err != nil {
		t.Fatal(err)
	}
	green := e.TargetGroup("web-green-c3d4")
	// The same ARN shape with an id nobody has.
	gone := blue[:strings.LastIndex(blue, "/")+1] + "0000000000000000"

	e.Emu.ResetCounts()
	found, err := c.DescribeTargetGroups(ctx, blue, green)
	if err != nil {
		t.Fatal(err)
	}
	if n := e.Emu.Total("elasticloadbalancing:"); n != 1 {
		t.Errorf("two target groups took %d requests, want 1 (%v)", n, e.Emu.Counts())
	}
	if len(found) != 2 || found[blue] == nil || found[green] == nil {
		t.Fatalf("found %v, want both %s and %s", found, blue, green)
	}
	got := found[blue]
	if got.Name != want.Name || got.Port != want.Port || got.Protocol != want.Protocol || got.VPC != want.VPC || got.TargetType != want.TargetType {
		t.Errorf("settings = %+v, want those of %+v", got, want)
	}
	if got.HealthCheck.Path != "/healthz" || got.HealthCheck.Interval != 10 || got.HealthCheck.Matcher != "200-299" {
		t.Errorf("health check = %+v, want %+v", got.HealthCheck, want.HealthCheck)
	}
	if got.DeregistrationDelay != 300 || len(got.Tags) != 0 {
		t.Errorf("attributes and tags read without being asked: delay %d, tags %v", got.DeregistrationDelay, got.Tags)
	}

	if err := c.ReadTargetGroupDetails(ctx, got); err != nil {
		t.Fatal(err)
	}
	if got.DeregistrationDelay != 45 || got.Tags["team"] != "web" || got.Tags["rollout:color"] != "blue" || len(got.Tags) != 2 {
		t.Errorf("details: delay %d, tags %v; want 45 and %v", got.DeregistrationDelay, got.Tags, want.Tags)
	}

	found, err = c.DescribeTargetGroups(ctx, blue, gone)
	if err != nil {
		t.Fatalf("one missing target group failed the read: %v", err)
	}
	if len(found) != 1 || found[blue] == nil {
		t.Errorf("with %s missing, found %v; want only %s", gone, found, blue)
	}
	found, err = c.DescribeTargetGroups(ctx, gone)
	if err != nil || len(found) != 0 {
		t.Errorf("only a missing target group: found %v, %v; want nothing and no error", found, err)
	}
}
