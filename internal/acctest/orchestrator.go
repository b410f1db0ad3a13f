package acctest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/rolloutdev/terraform-provider-rollout/internal/orchestrator"
)

// The orchestrator in tests is the binary users deploy: built from
// internal/cmd/rollout-orchestrator once per test binary, and run as a
// process that takes the emulator's invocations of its function through
// the Lambda Runtime API. Step Functions executions are kumo's, reaching
// the function through the emulator's bridge (emulator.ServeStates). Tests
// that wait for an execution wait in real time: the executor is another
// goroutine's Wait state and the orchestrator another process.

var orchestratorZip struct {
	once sync.Once
	path string
	err  error
}

// OrchestratorZip returns a zip of the orchestrator binary as the release
// ships it (one file, bootstrap, executable), made once per test binary.
func OrchestratorZip(t testing.TB) string {
	t.Helper()
	bin := OrchestratorBinary(t)
	z := &orchestratorZip
	z.once.Do(func() {
		z.path = bin + ".zip"
		tmp := fmt.Sprintf("%s.%d", z.path, os.Getpid())
		if z.err = orchestrator.ZipBootstrap(bin, tmp); z.err == nil {
			z.err = os.Rename(tmp, z.path)
		}
	})
	if z.err != nil {
		t.Fatal(z.err)
	}
	return z.path
}

var orchestratorBuild struct {
	once sync.Once
	path string
	err  error
}

// OrchestratorBinary returns the path of the orchestrator binary, built
// once per test binary.
func OrchestratorBinary(t testing.TB) string {
	t.Helper()
	b := &orchestratorBuild
	b.once.Do(func() {
		root, err := moduleRoot()
		if err != nil {
			b.err = err
			return
		}
		// One place per checkout, rebuilt (incrementally) by every test
		// binary: no binary is left behind per run.
		sum := sha256.Sum256([]byte(root))
		dir := filepath.Join(os.TempDir(), "rollout-orchestrator-"+hex.EncodeToString(sum[:6]))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.err = err
			return
		}
		b.path = filepath.Join(dir, "bootstrap")
		tmp := fmt.Sprintf("%s.%d", b.path, os.Getpid())
		cmd := exec.Command("go", "build", "-o", tmp, "./internal/cmd/rollout-orchestrator")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("building the orchestrator: %v\n%s", err, out)
			return
		}
		// Atomic: another test binary may be starting the previous one.
		b.err = os.Rename(tmp, b.path)
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	// The provider's module, not a nested one (pulumi/ has its own).
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.HasPrefix(string(b), "module github.com/rolloutdev/terraform-provider-rollout\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod of the provider's module above the test's directory")
		}
		dir = parent
	}
}

// SFN is an SDK client of the emulator's Step Functions.
func (e *Env) SFN() *sfn.Client {
	return sfn.NewFromConfig(aws.Config{Region: Region, Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")},
		func(o *sfn.Options) { o.BaseEndpoint = aws.String(e.Emu.URL) })
}

var statesOnce sync.Map

// ServeStates lets the test's Step Functions executions reach its Lambda
// (emulator.ServeStates), until the test ends. It may wait for another
// process's tests to give the port up.
func (e *Env) ServeStates() {
	e.T.Helper()
	if _, done := statesOnce.LoadOrStore(e, true); done {
		return
	}
	release, err := e.Emu.ServeStates()
	if err != nil {
		e.T.Fatalf("serving Step Functions: %v", err)
	}
	e.T.Cleanup(release)
}

// OrchestratorProcess is a running orchestrator answering one function's
// invocations.
type OrchestratorProcess struct {
	env      *Env
	Function string
	mu       sync.Mutex
	cmd      *exec.Cmd
	logs     *bytes.Buffer
	exited   chan struct{}
}

// RunOrchestrator starts the orchestrator binary for the function, and
// stops it when the test ends.
func (e *Env) RunOrchestrator(function string) *OrchestratorProcess {
	e.T.Helper()
	e.ServeStates()
	p := &OrchestratorProcess{env: e, Function: function}
	p.Start()
	e.T.Cleanup(func() {
		p.Kill()
		if e.T.Failed() {
			e.T.Logf("orchestrator output:\n%s", p.Logs())
		}
	})
	return p
}

// Start starts the process (again, after Kill).
func (p *OrchestratorProcess) Start() {
	p.env.T.Helper()
	bin := OrchestratorBinary(p.env.T)
	host := strings.TrimPrefix(p.env.Emu.URL, "http://")
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(),
		"AWS_LAMBDA_RUNTIME_API="+host+"/_runtime/"+p.Function,
		"AWS_ENDPOINT_URL="+p.env.Emu.URL,
		"AWS_REGION="+Region, "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test",
		"AWS_LAMBDA_FUNCTION_NAME="+p.Function,
	)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.logs == nil {
		p.logs = &bytes.Buffer{}
	}
	w := &lockedWriter{mu: &p.mu, w: p.logs}
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		p.env.T.Fatalf("starting the orchestrator: %v", err)
	}
	p.cmd, p.exited = cmd, make(chan struct{})
	exited := p.exited
	go func() { _ = cmd.Wait(); close(exited) }()
}

// Kill kills the process at once, wherever it is (mid-call too).
func (p *OrchestratorProcess) Kill() {
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.cmd = nil
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	<-exited
}

// Logs is what the process wrote.
func (p *OrchestratorProcess) Logs() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.String()
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// OrchestratorFunction creates the orchestrator's function in the emulator
// (the code is not used: the process answers) and returns its ARN.
func (e *Env) OrchestratorFunction(name string, timeoutSeconds int) string {
	e.T.Helper()
	e.ServeStates()
	return e.createFunction(map[string]any{"FunctionName": name, "Role": "arn:aws:iam::000000000000:role/orchestrator", "Timeout": timeoutSeconds})
}

// StateMachine creates the orchestrator's state machine for a function.
func (e *Env) StateMachine(name, functionARN string) string {
	e.T.Helper()
	out, err := e.SFN().CreateStateMachine(context.Background(), &sfn.CreateStateMachineInput{
		Name: aws.String(name), Definition: aws.String(orchestrator.Definition(functionARN)),
		RoleArn: aws.String("arn:aws:iam::000000000000:role/states"), Type: sfntypes.StateMachineTypeStandard,
	})
	if err != nil {
		e.T.Fatalf("CreateStateMachine: %v", err)
	}
	return aws.ToString(out.StateMachineArn)
}

// WaitExecution waits, in real time, until the execution has ended or
// limit has passed, and returns how it stands.
func (e *Env) WaitExecution(arn string, limit time.Duration) *sfn.DescribeExecutionOutput {
	e.T.Helper()
	end := time.Now().Add(limit)
	for {
		out, err := e.SFN().DescribeExecution(context.Background(), &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
		if err != nil {
			e.T.Fatalf("DescribeExecution: %v", err)
		}
		if out.Status != sfntypes.ExecutionStatusRunning || time.Now().After(end) {
			return out
		}
		time.Sleep(100 * time.Millisecond) // another process and goroutine: real time
	}
}

// iamAction is the IAM action of an emulator action.
func iamAction(a string) string {
	switch {
	case a == "lambda:Invoke":
		return "lambda:InvokeFunction"
	case strings.HasPrefix(a, "monitoring:"):
		return "cloudwatch:" + strings.TrimPrefix(a, "monitoring:")
	}
	return a
}

// CheckPolicyCovers fails the test when the orchestrator called an action
// that its rendered function policy does not allow: the policy users attach
// is the one the binary needs.
func (e *Env) CheckPolicyCovers() {
	e.T.Helper()
	var doc struct {
		Statement []struct{ Action []string }
	}
	if err := json.Unmarshal([]byte(orchestrator.PoliciesOf(orchestrator.Scope{Name: "x"}).Function), &doc); err != nil {
		e.T.Fatal(err)
	}
	allowed := map[string]bool{}
	for _, st := range doc.Statement {
		for _, a := range st.Action {
			allowed[a] = true
		}
	}
	called := e.Emu.ActionsOf("orchestrator")
	if len(called) < 3 {
		e.T.Fatalf("the emulator saw the orchestrator call only %v: is its User-Agent recognized?", called)
	}
	for _, a := range called {
		if !allowed[iamAction(a)] {
			e.T.Errorf("the orchestrator called %s, which rollout_orchestrator_policy's function policy does not allow", iamAction(a))
		}
	}
}
