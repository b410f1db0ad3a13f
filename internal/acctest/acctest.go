// Package acctest holds what the acceptance tests share: an emulator per
// test, AWS fixtures made through the SDK (never through the provider under
// test), provider factories with an injected clock, and checks that read the
// emulator.
package acctest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"

	"github.com/rolloutdev/terraform-provider-rollout/internal/awsclient"
	"github.com/rolloutdev/terraform-provider-rollout/internal/clock"
	"github.com/rolloutdev/terraform-provider-rollout/internal/emulator"
	"github.com/rolloutdev/terraform-provider-rollout/internal/provider"
	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

// Region is the region every test uses.
const Region = "us-east-1"

// SetCredentialsEnv gives the SDK static test credentials and keeps it away
// from the instance metadata service; call it from TestMain.
func SetCredentialsEnv() {
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID":           "test",
		"AWS_SECRET_ACCESS_KEY":       "test",
		"AWS_REGION":                  Region,
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_CONFIG_FILE":             os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE": os.DevNull,
	} {
		_ = os.Setenv(k, v)
	}
	// Every endpoint is the emulator's, over plain HTTP: a host's CA bundle
	// would only be read and parsed again at every provider configure (one
	// per engine command), about 4% of the provider's CPU in a run.
	for _, k := range []string{"AWS_PROFILE", "AWS_CA_BUNDLE"} {
		_ = os.Unsetenv(k)
	}
}

// Env is one test's emulator, SDK clients and clock.
type Env struct {
	T     testing.TB
	Emu   *emulator.Emulator
	ELB   *elb.Client
	CW    *cloudwatch.Client
	Clock *clock.Fake
	VPC   string
}

var seq atomic.Int64

// NewEnv starts an emulator for t and stops it when t ends.
func NewEnv(t testing.TB) *Env {
	t.Helper()
	emu, err := emulator.Start("127.0.0.1:0")
	if err != nil {
		t.Fatalf("starting the emulator: %v", err)
	}
	t.Cleanup(emu.Close)
	cfg := aws.Config{
		Region:      Region,
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
	}
	return &Env{
		T:     t,
		Emu:   emu,
		ELB:   elb.NewFromConfig(cfg, func(o *elb.Options) { o.BaseEndpoint = aws.String(emu.URL) }),
		CW:    cloudwatch.NewFromConfig(cfg, func(o *cloudwatch.Options) { o.BaseEndpoint = aws.String(emu.URL) }),
		Clock: clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)),
		VPC:   "vpc-0123456789abcdef0",
	}
}

// Factories serves the provider under test in-process, with the fake clock.
func (e *Env) Factories() map[string]func() (tfprotov6.ProviderServer, error) {
	return map[string]func() (tfprotov6.ProviderServer, error){
		"rollout": providerserver.NewProtocol6WithError(provider.New("test", provider.WithClock(e.Clock))()),
	}
}

// RealFactories serves the provider under test in-process on the real
// clock: for detached rollouts, whose schedule runs in another process
// (the orchestrator) and whose apply waits for it in real time.
func (e *Env) RealFactories() map[string]func() (tfprotov6.ProviderServer, error) {
	return map[string]func() (tfprotov6.ProviderServer, error){
		"rollout": providerserver.NewProtocol6WithError(provider.New("test", provider.WithClock(clock.Real{}))()),
	}
}

// ProviderConfig is the provider block pointing every service at the emulator.
func (e *Env) ProviderConfig() string {
	return fmt.Sprintf(`
provider "rollout" {
  region = %q
  endpoints = {
    elbv2      = %q
    cloudwatch = %q
    lambda     = %q
    ssm        = %q
    stepfunctions = %q
    sns           = %q
    eventbridge   = %q
    ecs           = %q
    codedeploy    = %q
  }
  max_retries = 2
  # Unpaced: a test's requests come in bursts on the fake clock, and each
  # test has its own emulator. The pacing tests set their own api_budget.
  api_budget = { enabled = false }
}
`, Region, e.Emu.URL, e.Emu.URL, e.Emu.URL, e.Emu.URL, e.Emu.URL, e.Emu.URL, e.Emu.URL, e.Emu.URL, e.Emu.URL)
}

// Name returns a name unique within the test binary.
func Name(prefix string) string { return fmt.Sprintf("%s-%d", prefix, seq.Add(1)) }

func (e *Env) ctx() context.Context { return context.Background() }

// LoadBalancer creates an Application Load Balancer and returns its ARN.
func (e *Env) LoadBalancer(name string) string {
	e.T.Helper()
	out, err := e.ELB.CreateLoadBalancer(e.ctx(), &elb.CreateLoadBalancerInput{
		Name: aws.String(name), Type: elbtypes.LoadBalancerTypeEnumApplication,
		Subnets: []string{"subnet-0a", "subnet-0b"},
	})
	if err != nil {
		e.T.Fatalf("CreateLoadBalancer: %v", err)
	}
	return aws.ToString(out.LoadBalancers[0].LoadBalancerArn)
}

// TargetGroup creates an HTTP target group and returns its ARN.
func (e *Env) TargetGroup(name string) string {
	e.T.Helper()
	out, err := e.ELB.CreateTargetGroup(e.ctx(), &elb.CreateTargetGroupInput{
		Name: aws.String(name), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(8080),
		VpcId: aws.String(e.VPC), TargetType: elbtypes.TargetTypeEnumIp,
	})
	if err != nil {
		e.T.Fatalf("CreateTargetGroup: %v", err)
	}
	return aws.ToString(out.TargetGroups[0].TargetGroupArn)
}

// RegisterTargets registers n IP targets in a target group.
func (e *Env) RegisterTargets(tg string, n int) {
	e.T.Helper()
	var ts []elbtypes.TargetDescription
	for i := 0; i < n; i++ {
		ts = append(ts, elbtypes.TargetDescription{Id: aws.String(fmt.Sprintf("10.0.0.%d", i+10)), Port: aws.Int32(8080)})
	}
	if _, err := e.ELB.RegisterTargets(e.ctx(), &elb.RegisterTargetsInput{TargetGroupArn: aws.String(tg), Targets: ts}); err != nil {
		e.T.Fatalf("RegisterTargets: %v", err)
	}
}

// Listener creates an HTTP listener on lb whose default action forwards to
// tg, and returns its ARN.
func (e *Env) Listener(lb, tg string, port int32) string {
	e.T.Helper()
	out, err := e.ELB.CreateListener(e.ctx(), &elb.CreateListenerInput{
		LoadBalancerArn: aws.String(lb), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(port),
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(tg)}},
	})
	if err != nil {
		e.T.Fatalf("CreateListener: %v", err)
	}
	return aws.ToString(out.Listeners[0].ListenerArn)
}

// Rule creates a path-pattern rule on a listener forwarding to tg.
func (e *Env) Rule(listener, tg string, priority int32) string {
	e.T.Helper()
	out, err := e.ELB.CreateRule(e.ctx(), &elb.CreateRuleInput{
		ListenerArn: aws.String(listener), Priority: aws.Int32(priority),
		Conditions: []elbtypes.RuleCondition{{Field: aws.String("path-pattern"), PathPatternConfig: &elbtypes.PathPatternConditionConfig{Values: []string{"/api/*"}}}},
		Actions:    []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(tg)}},
	})
	if err != nil {
		e.T.Fatalf("CreateRule: %v", err)
	}
	return aws.ToString(out.Rules[0].RuleArn)
}

// Fixture is a load balancer with a listener forwarding to the first of its
// target groups.
type Fixture struct {
	LB, Listener string
	TGs          []string
}

// NewFixture creates a load balancer, n target groups and a listener
// forwarding to the first.
func (e *Env) NewFixture(n int) Fixture {
	e.T.Helper()
	name := Name("lb")
	f := Fixture{LB: e.LoadBalancer(name)}
	for i := 0; i < n; i++ {
		f.TGs = append(f.TGs, e.TargetGroup(fmt.Sprintf("%s-tg%d", name, i)))
	}
	f.Listener = e.Listener(f.LB, f.TGs[0], 80)
	return f
}

// NewNetworkFixture is NewFixture on a Network Load Balancer: n TCP target
// groups and a TCP listener on port 443 forwarding to the first.
func (e *Env) NewNetworkFixture(n int) Fixture {
	e.T.Helper()
	name := Name("nlb")
	out, err := e.ELB.CreateLoadBalancer(e.ctx(), &elb.CreateLoadBalancerInput{
		Name: aws.String(name), Type: elbtypes.LoadBalancerTypeEnumNetwork, Subnets: []string{"subnet-0a", "subnet-0b"},
	})
	if err != nil {
		e.T.Fatalf("CreateLoadBalancer: %v", err)
	}
	f := Fixture{LB: aws.ToString(out.LoadBalancers[0].LoadBalancerArn)}
	for i := 0; i < n; i++ {
		tg, err := e.ELB.CreateTargetGroup(e.ctx(), &elb.CreateTargetGroupInput{
			Name: aws.String(fmt.Sprintf("%s-tg%d", name, i)), Protocol: elbtypes.ProtocolEnumTcp, Port: aws.Int32(8443),
			VpcId: aws.String(e.VPC), TargetType: elbtypes.TargetTypeEnumIp,
		})
		if err != nil {
			e.T.Fatalf("CreateTargetGroup: %v", err)
		}
		f.TGs = append(f.TGs, aws.ToString(tg.TargetGroups[0].TargetGroupArn))
	}
	l, err := e.ELB.CreateListener(e.ctx(), &elb.CreateListenerInput{
		LoadBalancerArn: aws.String(f.LB), Protocol: elbtypes.ProtocolEnumTcp, Port: aws.Int32(443),
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(f.TGs[0])}},
	})
	if err != nil {
		e.T.Fatalf("CreateListener: %v", err)
	}
	f.Listener = aws.ToString(l.Listeners[0].ListenerArn)
	return f
}

func (e *Env) client() *awsclient.Client {
	return &awsclient.Client{ELB: e.ELB, CloudWatch: e.CW, Region: Region, Clock: clock.Real{}}
}

// Forward reads the forward action of a listener or rule at the emulator.
func (e *Env) Forward(ref awsclient.Ref) (awsclient.Forward, awsclient.Actions) {
	e.T.Helper()
	acts, err := e.client().ReadActions(e.ctx(), ref)
	if err != nil {
		e.T.Fatalf("reading %s at the emulator: %v", ref.ID(), err)
	}
	f, _ := acts.Forward()
	return f, acts
}

// SetWeights changes a listener's weights behind Terraform's back.
func (e *Env) SetWeights(ref awsclient.Ref, s weights.Split) {
	e.T.Helper()
	c := e.client()
	acts, err := c.ReadActions(e.ctx(), ref)
	if err != nil {
		e.T.Fatalf("reading %s at the emulator: %v", ref.ID(), err)
	}
	want := awsclient.Forward{Split: s}
	if f, ok := acts.Forward(); ok && f.Matches(want) {
		return // already so: a person's change that changes nothing is none
	}
	if err := c.WriteActions(e.ctx(), ref, acts.WithForward(want)); err != nil {
		e.T.Fatalf("changing %s at the emulator: %v", ref.ID(), err)
	}
}

// DeleteListener deletes a listener behind Terraform's back.
func (e *Env) DeleteListener(arn string) {
	e.T.Helper()
	if _, err := e.ELB.DeleteListener(e.ctx(), &elb.DeleteListenerInput{ListenerArn: aws.String(arn)}); err != nil {
		e.T.Fatalf("DeleteListener: %v", err)
	}
}

// AuthenticateOIDC puts an authenticate-oidc action (with a client secret)
// before the listener's forward to tg, as an identity team would.
func (e *Env) AuthenticateOIDC(listener, tg, issuer string) {
	e.T.Helper()
	_, err := e.ELB.ModifyListener(e.ctx(), &elb.ModifyListenerInput{ListenerArn: aws.String(listener), DefaultActions: []elbtypes.Action{
		{Type: elbtypes.ActionTypeEnumAuthenticateOidc, Order: aws.Int32(1), AuthenticateOidcConfig: &elbtypes.AuthenticateOidcActionConfig{
			Issuer: aws.String(issuer), AuthorizationEndpoint: aws.String(issuer + "/authorize"), TokenEndpoint: aws.String(issuer + "/token"),
			UserInfoEndpoint: aws.String(issuer + "/userinfo"), ClientId: aws.String("rollout-test"), ClientSecret: aws.String("s3cret")}},
		{Type: elbtypes.ActionTypeEnumForward, Order: aws.Int32(2), TargetGroupArn: aws.String(tg)},
	}})
	if err != nil {
		e.T.Fatalf("ModifyListener (authenticate-oidc): %v", err)
	}
}

// SSM is an SDK client of the emulator's Parameter Store.
func (e *Env) SSM() *ssm.Client {
	return ssm.NewFromConfig(aws.Config{Region: Region, Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")},
		func(o *ssm.Options) { o.BaseEndpoint = aws.String(e.Emu.URL) })
}

// Parameter reads a parameter at the emulator; ok is false when there is
// none.
func (e *Env) Parameter(name string) (string, bool) {
	out, err := e.SSM().GetParameter(e.ctx(), &ssm.GetParameterInput{Name: aws.String(name)})
	if err != nil {
		return "", false
	}
	return aws.ToString(out.Parameter.Value), true
}

// PutParameter writes a parameter behind Terraform's back.
func (e *Env) PutParameter(name, value string) {
	e.T.Helper()
	if _, err := e.SSM().PutParameter(e.ctx(), &ssm.PutParameterInput{Name: aws.String(name), Value: aws.String(value), Type: "String", Overwrite: aws.Bool(true)}); err != nil {
		e.T.Fatalf("PutParameter: %v", err)
	}
}

// OneEngine marks a test whose behaviour is the provider's alone (a gate's
// verdict, a release's order, faults at the emulator, an alarm preset): both
// engines drive it the same way, so it runs once, on OpenTofu, and is
// skipped on Terraform. What the engines do differently (plans, saved
// plans, imports, taint, signals, refresh, provider functions) runs on both.
func OneEngine(t *testing.T) {
	t.Helper()
	if strings.Contains(filepath.Base(os.Getenv("TF_ACC_TERRAFORM_PATH")), "terraform") {
		t.Skip("engine-independent: runs on OpenTofu only (acctest.OneEngine)")
	}
}

// TuneTestBinary makes this process's collector lazier (GOGC=400, unless
// the caller set GOGC) under a soft memory limit of 1 GiB (unless
// GOMEMLIMIT is set): the provider and the emulator run in the test binary
// and allocate heavily for every engine command, and at the default GOGC
// the collector took about a quarter of the binary's CPU in an acceptance
// run. Call it from TestMain.
func TuneTestBinary() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(400)
	}
	if _, set := os.LookupEnv("GOMEMLIMIT"); !set {
		debug.SetMemoryLimit(1 << 30)
	}
}

// TuneEngines sets, for the engine processes the tests start (not for this
// process, whose runtime has already read its environment), GOGC=400 and
// GOMAXPROCS=1 unless the caller set them: an engine run is short-lived and
// allocation-heavy, and many run side by side, so a lazier collector and
// one thread each cut the suite's CPU by about a quarter (measured on
// Terraform 1.8.5: 15.4 to 10.5 CPU seconds for the same tests). Call it
// from TestMain.
func TuneEngines() {
	for k, v := range map[string]string{"GOGC": "400", "GOMAXPROCS": "1"} {
		if _, set := os.LookupEnv(k); !set {
			_ = os.Setenv(k, v)
		}
	}
}
