package tests

import (
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/rolloutdev/terraform-provider-rollout/internal/acctest"
	"github.com/rolloutdev/terraform-provider-rollout/internal/awsclient"
	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

const splitProgram = `name: split
runtime: yaml
config:
  listenerArn: { type: string }
  blueArn: { type: string }
  greenArn: { type: string }
  blueWeight: { type: integer }
  greenWeight: { type: integer }
resources:
  split:
    type: rollout:TrafficSplit
    properties:
      listenerArn: ${listenerArn}
      targetGroups:
        - arn: ${blueArn}
          weight: ${blueWeight}
        - arn: ${greenArn}
          weight: ${greenWeight}
%s
outputs:
  percentages: ${split.percentages}
`

// A canary gated by an alarm, with pauses of a second: the plugin runs as
// its own process, so its clock is the real one.
const canaryRollout = `      rollout:
        strategy: canary
        steps:
          - percent: 10
            pause: 1s
          - percent: 50
            pause: 1s
          - percent: 100
        pollInterval: 1s
        gates:
          alarms:
            - %s`

func checkWeights(t *testing.T, e *acctest.Env, listener string, want weights.Split) {
	t.Helper()
	got, _ := e.Forward(awsclient.Ref{ListenerARN: listener})
	if !got.Split.Equal(want) {
		t.Fatalf("the emulator's listener forwards %s, want %s", got.Split, want)
	}
}

// create, check at the emulator, change, check again; a canary whose alarm
// fires mid-way fails the update and leaves the listener rolled back;
// refresh shows the real weights; destroy leaves the listener as it is.
func TestTrafficSplit(t *testing.T) {
	t.Parallel()
	e := acctest.NewEnv(t)
	f := e.NewFixture(2)
	blue, green := f.TGs[0], f.TGs[1]
	alarm := e.Alarm("pulumi-5xx")
	s := newStack(t, e, fmt.Sprintf(splitProgram, ""))
	s.config("listenerArn", f.Listener, "blueArn", blue, "greenArn", green, "blueWeight", "90", "greenWeight", "10")
	s.up()
	checkWeights(t, e, f.Listener, weights.Split{{ARN: blue, Weight: 90}, {ARN: green, Weight: 10}})

	s.config("blueWeight", "50", "greenWeight", "50")
	s.up()
	half := weights.Split{{ARN: blue, Weight: 50}, {ARN: green, Weight: 50}}
	checkWeights(t, e, f.Listener, half)

	// The alarm fires as the second step is written.
	var mu sync.Mutex
	writes := 0
	var once sync.Once
	e.Emu.OnRequest(func(action string, _ url.Values) {
		if action != "elasticloadbalancing:ModifyListener" {
			return
		}
		mu.Lock()
		writes++
		n := writes
		mu.Unlock()
		if n == 2 {
			once.Do(func() { e.SetAlarmState(alarm, cwtypes.StateValueAlarm) })
		}
	})
	s.write(fmt.Sprintf(splitProgram, fmt.Sprintf(canaryRollout, alarm)))
	s.config("blueWeight", "0", "greenWeight", "100")
	out, err := s.exec("up", "--yes", "--skip-preview")
	if err == nil || !strings.Contains(out, "Rollout Rolled Back") || !strings.Contains(out, alarm) {
		t.Fatalf("the canary update should fail with a rollback: err %v\n%s", err, out)
	}
	checkWeights(t, e, f.Listener, half)

	s.run("refresh", "--yes", "--skip-preview")
	st := s.resourceState("rollout:index:TrafficSplit")
	var got weights.Split
	for _, tg := range st["targetGroups"].([]any) {
		m := tg.(map[string]any)
		got = append(got, weights.Target{ARN: m["arn"].(string), Weight: int(m["weight"].(float64))})
	}
	if !got.Equal(half) {
		t.Errorf("after refresh the stack says %s, want the real %s", got, half)
	}
	// Pulumi keeps the outputs of the last successful update when one
	// fails: the weights are right after refresh, lastRollout is the one
	// of the last update that succeeded.
	if lr := st["lastRollout"].(map[string]any); lr["status"] != "succeeded" {
		t.Errorf("lastRollout %v", lr)
	}

	s.run("destroy", "--yes", "--skip-preview")
	checkWeights(t, e, f.Listener, half) // on_destroy = keep, as on the Terraform path
}

const blueGreenProgram = `name: bluegreen
runtime: yaml
config:
  listenerArn: { type: string }
  vpcId: { type: string }
  prefix: { type: string }
  active: { type: string }
resources:
  web:
    type: rollout:DeploymentBlueGreen
    properties:
      listenerArn: ${listenerArn}
      namePrefix: ${prefix}
      port: 8080
      protocol: HTTP
      vpcId: ${vpcId}
      targetType: ip
      active: ${active}
      rollout:
        strategy: canary
        steps:
          - percent: 50
            pause: 1s
          - percent: 100
        pollInterval: 1s
        gates:
          health: {}
outputs:
  live: ${web.liveTargetGroupArn}
`

// A blue/green flip through pulumi up, and a destroy that gives the
// listener back.
func TestDeploymentBlueGreen(t *testing.T) {
	t.Parallel()
	e := acctest.NewEnv(t)
	f := e.NewFixture(1)
	s := newStack(t, e, blueGreenProgram)
	s.config("listenerArn", f.Listener, "vpcId", e.VPC, "prefix", strings.ReplaceAll(acctest.Name("pbg"), "_", "-"), "active", "blue")
	s.up()
	fwd, _ := e.Forward(awsclient.Ref{ListenerARN: f.Listener})
	if len(fwd.Split) != 2 || fwd.Split[0].Weight != 100 || fwd.Split[1].Weight != 0 {
		t.Fatalf("after create the listener forwards %s, want blue 100, green 0", fwd.Split)
	}
	b, g := fwd.Split[0].ARN, fwd.Split[1].ARN
	e.RegisterTargets(b, 1)
	e.RegisterTargets(g, 1)
	s.config("active", "green")
	s.up()
	checkWeights(t, e, f.Listener, weights.Split{{ARN: b, Weight: 0}, {ARN: g, Weight: 100}})
	st := s.resourceState("rollout:index:DeploymentBlueGreen")
	hist, _ := st["history"].([]any)
	if st["active"] != "green" || st["liveTargetGroupArn"] != g || len(hist) != 1 || hist[0].(map[string]any)["status"] != "succeeded" {
		t.Errorf("state after the flip: active %v live %v history %v", st["active"], st["liveTargetGroupArn"], st["history"])
	}
	s.run("destroy", "--yes", "--skip-preview")
	checkWeights(t, e, f.Listener, weights.Split{{ARN: f.TGs[0], Weight: 1}})
}

// The documented YAML example is a valid program: pulumi preview runs it
// against the emulator (the data source is read, the resources planned).
func TestYAMLExamplePreviews(t *testing.T) {
	t.Parallel()
	e := acctest.NewEnv(t)
	f := e.NewFixture(2)
	api := e.Listener(f.LB, f.TGs[0], 8080)
	program, err := os.ReadFile("../examples/yaml/Pulumi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := newStack(t, e, string(program))
	s.config("loadBalancerArn", f.LB, "listenerArn", f.Listener, "apiListenerArn", api,
		"blueTargetGroupArn", f.TGs[0], "greenTargetGroupArn", f.TGs[1], "vpcId", e.VPC)
	out := s.run("preview")
	for _, want := range []string{"rollout:index:Alarm", "rollout:index:TrafficSplit", "rollout:index:DeploymentBlueGreen", "4 to create"} {
		if !strings.Contains(out, want) {
			t.Errorf("preview does not mention %q:\n%s", want, out)
		}
	}
}

const aliasProgram = `name: alias
runtime: yaml
config:
  functionName: { type: string }
  version: { type: string }
resources:
  live:
    type: rollout:LambdaAlias
    properties:
      functionName: ${functionName}
      aliasName: live
      version: ${version}
      rollout:
        preset: all_at_once
outputs:
  currentVersion: ${live.currentVersion}
`

// A Lambda alias created at version 1, then moved to version 2 with a
// CodeDeploy preset (all_at_once: the plugin runs as its own process on the
// real clock, so the test avoids the canary presets' minutes of pause),
// both checked at the emulator.
func TestLambdaAlias(t *testing.T) {
	t.Parallel()
	e := acctest.NewEnv(t)
	fn := e.LambdaFunction("palias", 2)
	s := newStack(t, e, aliasProgram)
	s.config("functionName", fn, "version", "1")
	s.up()
	checkAlias := func(want string) {
		t.Helper()
		st := s.resourceState("rollout:index:LambdaAlias")
		if st["currentVersion"] != want {
			t.Fatalf("state: currentVersion %v, want %s", st["currentVersion"], want)
		}
		got := e.AliasWrites()
		if want == "2" && (len(got) != 1 || !got[0].Equal(weights.Split{{ARN: "2", Weight: 1}})) {
			t.Fatalf("the alias received %v, want version 2 at once", got)
		}
	}
	checkAlias("1")
	s.config("version", "2")
	s.up()
	checkAlias("2")
	s.run("destroy", "--yes", "--skip-preview")
}

const flagProgram = `name: flag
runtime: yaml
config:
  key: { type: string }
  percentage: { type: integer }
resources:
  checkout:
    type: rollout:FeatureFlag
    properties:
      key: ${key}
      rolloutPercentage: ${percentage}
      targeting:
        includedUsers: [qa-1]
outputs:
  document: ${checkout.document}
`

// A feature flag written to Parameter Store, changed, and deleted on
// destroy, checked at the emulator.
func TestFeatureFlag(t *testing.T) {
	t.Parallel()
	e := acctest.NewEnv(t)
	key := "pflag-" + strings.ReplaceAll(acctest.Name("k"), "_", "-")
	s := newStack(t, e, flagProgram)
	s.config("key", key, "percentage", "10")
	s.up()
	check := func(want string) {
		t.Helper()
		doc, ok := e.Parameter("/rollout/flags/" + key)
		if !ok || !strings.Contains(doc, `"rollout_percentage":`+want) || !strings.Contains(doc, `"qa-1"`) {
			t.Fatalf("the parameter holds %q (found %v), want rollout_percentage %s", doc, ok, want)
		}
	}
	check("10")
	s.config("percentage", "50")
	s.up()
	check("50")
	s.run("destroy", "--yes", "--skip-preview")
	if _, ok := e.Parameter("/rollout/flags/" + key); ok {
		t.Fatal("the parameter is still there after destroy")
	}
}

const releaseProgram = `name: release
runtime: yaml
config:
  apiListener: { type: string }
  apiBlue: { type: string }
  apiGreen: { type: string }
  webListener: { type: string }
  webBlue: { type: string }
  webGreen: { type: string }
  blue: { type: integer }
  green: { type: integer }
resources:
  release:
    type: rollout:Release
    properties:
      services:
        api:
          listenerArn: ${apiListener}
          targetGroups:
            - arn: ${apiBlue}
              weight: ${blue}
            - arn: ${apiGreen}
              weight: ${green}
        web:
          listenerArn: ${webListener}
          targetGroups:
            - arn: ${webBlue}
              weight: ${blue}
            - arn: ${webGreen}
              weight: ${green}
      dependencies:
        - service: web
          dependsOn: api
          type: hard
outputs:
  waves: ${release.plannedWaves}
`

// A release of two services, web after api: created at blue, moved to
// green with api's write before web's at the emulator, and the waves in
// state; destroy leaves both listeners as they are.
func TestRelease(t *testing.T) {
	t.Parallel()
	e := acctest.NewEnv(t)
	api, web := e.NewFixture(2), e.NewFixture(2)
	s := newStack(t, e, releaseProgram)
	s.config("apiListener", api.Listener, "apiBlue", api.TGs[0], "apiGreen", api.TGs[1],
		"webListener", web.Listener, "webBlue", web.TGs[0], "webGreen", web.TGs[1], "blue", "100", "green", "0")
	s.up()
	checkWeights(t, e, api.Listener, weights.Split{{ARN: api.TGs[0], Weight: 100}, {ARN: api.TGs[1], Weight: 0}})
	writes := e.RecordWrites()
	s.config("blue", "0", "green", "100")
	s.up()
	checkWeights(t, e, api.Listener, weights.Split{{ARN: api.TGs[0], Weight: 0}, {ARN: api.TGs[1], Weight: 100}})
	checkWeights(t, e, web.Listener, weights.Split{{ARN: web.TGs[0], Weight: 0}, {ARN: web.TGs[1], Weight: 100}})
	if got := writes(); len(got) != 2 || got[0].Owner != api.Listener || got[1].Owner != web.Listener {
		t.Fatalf("writes went to %v, want api's listener then web's", got)
	}
	st := s.resourceState("rollout:index:Release")
	if fmt.Sprint(st["plannedWaves"]) != "[[api] [web]]" {
		t.Fatalf("state: plannedWaves %v, want [[api] [web]]", st["plannedWaves"])
	}
	s.run("destroy", "--yes", "--skip-preview")
	checkWeights(t, e, web.Listener, weights.Split{{ARN: web.TGs[0], Weight: 0}, {ARN: web.TGs[1], Weight: 100}})
}

const detachedProgram = `name: detached
runtime: yaml
config:
  listenerArn: { type: string }
  blueArn: { type: string }
  greenArn: { type: string }
  blueWeight: { type: integer }
  greenWeight: { type: integer }
  orchestratorName: { type: string }
  orchestratorZip: { type: string }
resources:
  orchestrator:
    type: rollout:Orchestrator
    properties:
      name: ${orchestratorName}
      functionRoleArn: arn:aws:iam::000000000000:role/rollout-orchestrator
      statesRoleArn: arn:aws:iam::000000000000:role/rollout-states
      timeout: 10s
      code:
        file: ${orchestratorZip}
  split:
    type: rollout:TrafficSplit
    properties:
      listenerArn: ${listenerArn}
      targetGroups:
        - arn: ${blueArn}
          weight: ${blueWeight}
        - arn: ${greenArn}
          weight: ${greenWeight}
      rollout:
        strategy: canary
        steps:
          - percent: 10
            pause: 2s
          - percent: 100
        pollInterval: 1s
        execution:
          mode: detached
          orchestrator: ${orchestrator.arn}
`

// A detached canary through pulumi up: the update returns with the first
// step confirmed and lastRollout running; the orchestrator binary, called
// by the emulator's Step Functions, finishes it; a refresh says succeeded.
// (It waits for the execution in real time: another process.)
func TestDetachedCanary(t *testing.T) {
	t.Parallel()
	e := acctest.NewEnv(t)
	f := e.NewFixture(2)
	blue, green := f.TGs[0], f.TGs[1]
	name := acctest.Name("orchestrator")
	e.RunOrchestrator(name)
	s := newStack(t, e, detachedProgram)
	s.config("listenerArn", f.Listener, "blueArn", blue, "greenArn", green, "blueWeight", "100", "greenWeight", "0",
		"orchestratorName", name, "orchestratorZip", acctest.OrchestratorZip(t))
	s.up()
	checkWeights(t, e, f.Listener, weights.Split{{ARN: blue, Weight: 100}, {ARN: green, Weight: 0}})

	s.config("blueWeight", "0", "greenWeight", "100")
	s.up()
	lr := s.resourceState("rollout:index:TrafficSplit")["lastRollout"].(map[string]any)
	if lr["status"] != "running" || lr["execution"] == "" {
		t.Fatalf("after the update lastRollout is %v, want running with its execution", lr)
	}
	checkWeights(t, e, f.Listener, weights.Split{{ARN: blue, Weight: 900}, {ARN: green, Weight: 100}})
	if out := e.WaitExecution(lr["execution"].(string), time.Minute); out.Status != "SUCCEEDED" {
		t.Fatalf("the execution ended %s", out.Status)
	}
	s.run("refresh", "--yes", "--skip-preview")
	if lr := s.resourceState("rollout:index:TrafficSplit")["lastRollout"].(map[string]any); lr["status"] != "succeeded" {
		t.Fatalf("after refresh lastRollout is %v, want succeeded", lr)
	}
	checkWeights(t, e, f.Listener, weights.Split{{ARN: blue, Weight: 0}, {ARN: green, Weight: 100}})
	s.run("destroy", "--yes", "--skip-preview")
}

// A canary held after its first step through pulumi up: the update ends
// with the step's weights in AWS and lastRollout held; an up with a new
// promote goes on to the target. The subject's status tag says held, then
// succeeded, and rollout:getStatus reads it through Pulumi.
func TestHoldAndPromote(t *testing.T) {
	t.Parallel()
	e := acctest.NewEnv(t)
	f := e.NewFixture(2)
	blue, green := f.TGs[0], f.TGs[1]
	s := newStack(t, e, `name: hold
runtime: yaml
config:
  listenerArn: { type: string }
  blueArn: { type: string }
  greenArn: { type: string }
  blueWeight: { type: integer }
  greenWeight: { type: integer }
  promote: { type: string }
resources:
  split:
    type: rollout:TrafficSplit
    properties:
      listenerArn: ${listenerArn}
      targetGroups:
        - arn: ${blueArn}
          weight: ${blueWeight}
        - arn: ${greenArn}
          weight: ${greenWeight}
      rollout:
        strategy: canary
        steps:
          - percent: 10
            pause: hold
          - percent: 100
        pollInterval: 1s
        promote: ${promote}
variables:
  # Read as each up starts: the status the previous up left.
  before:
    fn::invoke:
      function: rollout:getStatus
      arguments:
        listenerArn: ${listenerArn}
outputs:
  lastRollout: ${split.lastRollout}
  statusBefore: ${before.status}
`)
	s.config("listenerArn", f.Listener, "blueArn", blue, "greenArn", green, "blueWeight", "100", "greenWeight", "0", "promote", "0")
	s.up()
	s.config("blueWeight", "0", "greenWeight", "100")
	s.up()
	checkWeights(t, e, f.Listener, weights.Split{{ARN: blue, Weight: 900}, {ARN: green, Weight: 100}})
	if lr := s.resourceState("rollout:index:TrafficSplit")["lastRollout"].(map[string]any); lr["status"] != "held" || lr["stepReached"] != float64(1) {
		t.Fatalf("after the first up lastRollout is %v, want held at step 1", lr)
	}
	if st := statusOf(t, e, f.Listener); st.Type != "held" || st.Step != 1 || st.Steps != 2 {
		t.Fatalf("the listener's status tag says %+v, want held at 1 of 2", st)
	}
	s.config("promote", "1")
	s.up()
	if got := strings.TrimSpace(s.run("stack", "output", "statusBefore")); got != "held" {
		t.Fatalf("rollout:getStatus read %q as the promoted up started, want held", got)
	}
	checkWeights(t, e, f.Listener, weights.Split{{ARN: blue, Weight: 0}, {ARN: green, Weight: 100}})
	if lr := s.resourceState("rollout:index:TrafficSplit")["lastRollout"].(map[string]any); lr["status"] != "succeeded" {
		t.Fatalf("after the promoted up lastRollout is %v, want succeeded", lr)
	}
	if st := statusOf(t, e, f.Listener); st.Type != "succeeded" || st.Step != 2 {
		t.Fatalf("the listener's status tag says %+v, want succeeded at 2", st)
	}
}

// statusOf is what a listener's status tag says.
func statusOf(t *testing.T, e *acctest.Env, listener string) awsclient.Status {
	t.Helper()
	l, err := awsclient.ListenerLease(&awsclient.Client{ELB: e.ELB}, awsclient.Ref{ListenerARN: listener}).ReadLease(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	st, _ := awsclient.ParseStatus(l.Status)
	return st
}

const observeProgram = `name: observe
runtime: yaml
config:
  listenerArn: { type: string }
  serviceArn: { type: string }
resources:
  split:
    type: rollout:TrafficSplit
    properties:
      listenerArn: ${listenerArn}
      manage: observe
      controlledBy:
        ecsService: ${serviceArn}
outputs:
  foreign: ${split.foreignDeployment}
`

// A split observing a listener that an ECS deployment shifts, through
// Pulumi: it writes nothing, a refresh follows the shift, the stack then
// has no changes to make, and it names the deployment and its stage.
func TestObserve(t *testing.T) {
	t.Parallel()
	e := acctest.NewEnv(t)
	f := e.NewFixture(2)
	blue, green := f.TGs[0], f.TGs[1]
	ref := awsclient.Ref{ListenerARN: f.Listener}
	e.SetWeights(ref, weights.Split{{ARN: blue, Weight: 100}, {ARN: green, Weight: 0}})
	service := e.Emu.ECSService("prod", acctest.Name("web"), "ECS", blue, green)
	dep := e.Emu.SetECSDeployment(service, "", "IN_PROGRESS", "TEST_TRAFFIC_SHIFT")
	s := newStack(t, e, observeProgram)
	s.config("listenerArn", f.Listener, "serviceArn", service)
	s.up()

	e.SetWeights(ref, weights.Split{{ARN: blue, Weight: 10}, {ARN: green, Weight: 90}}) // ECS shifts
	e.Emu.SetECSDeployment(service, dep, "IN_PROGRESS", "PRODUCTION_TRAFFIC_SHIFT")
	s.run("refresh", "--yes", "--skip-preview")
	st := s.resourceState("rollout:index:TrafficSplit")
	var got weights.Split
	for _, tg := range st["targetGroups"].([]any) {
		m := tg.(map[string]any)
		got = append(got, weights.Target{ARN: m["arn"].(string), Weight: int(m["weight"].(float64))})
	}
	if want := (weights.Split{{ARN: blue, Weight: 10}, {ARN: green, Weight: 90}}); !got.Equal(want) {
		t.Fatalf("after refresh the stack says %s, want the listener's %s", got, want)
	}
	if fd, _ := st["foreignDeployment"].(map[string]any); fd["stage"] != "PRODUCTION_TRAFFIC_SHIFT" || fd["system"] != "ECS" {
		t.Fatalf("foreignDeployment is %v", st["foreignDeployment"])
	}
	s.run("preview", "--expect-no-changes")
	for action, n := range e.Emu.CountsOf("terraform-provider-rollout") {
		if n > 0 && (action == "elasticloadbalancing:ModifyListener" || action == "elasticloadbalancing:AddTags") {
			t.Fatalf("the observing split made %d %s", n, action)
		}
	}
	s.run("destroy", "--yes", "--skip-preview")
}
