// Package tests runs real `pulumi up` of YAML programs against the kumo
// emulator, with the bridged provider plugin built from this module.
package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rolloutdev/terraform-provider-rollout/internal/acctest"
)

// pluginDir holds pulumi-resource-rollout, built once for the package.
var pluginDir string

func TestMain(m *testing.M) {
	acctest.SetCredentialsEnv()
	for _, k := range []string{"PULUMI_DIR"} {
		if os.Getenv(k) == "" {
			fmt.Fprintf(os.Stderr, "%s is not set: run these tests through `make test` (or `make test-pulumi`), which builds the Pulumi CLI and YAML host\n", k)
			os.Exit(2)
		}
	}
	dir, err := os.MkdirTemp("", "rollout-pulumi-plugin")
	if err != nil {
		panic(err)
	}
	build := exec.Command("go", "build", "-o", filepath.Join(dir, "pulumi-resource-rollout"), "../cmd/pulumi-resource-rollout")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building the provider plugin:", err)
		os.Exit(1)
	}
	pluginDir = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// stack is one Pulumi project and stack in a scratch directory, with a
// file backend, pointed at one emulator through stack configuration.
type stack struct {
	t   *testing.T
	e   *acctest.Env
	dir string
	env []string
}

func newStack(t *testing.T, e *acctest.Env, program string) *stack {
	t.Helper()
	dir := t.TempDir()
	home := filepath.Join(dir, ".pulumi-home")
	state := filepath.Join(dir, ".state")
	for _, d := range []string{home, state} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	s := &stack{t: t, e: e, dir: dir}
	s.env = append(os.Environ(),
		"PATH="+pluginDir+string(os.PathListSeparator)+os.Getenv("PULUMI_DIR")+string(os.PathListSeparator)+os.Getenv("PATH"),
		"PULUMI_HOME="+home, "PULUMI_BACKEND_URL=file://"+state, "PULUMI_CONFIG_PASSPHRASE=test",
		"PULUMI_SKIP_UPDATE_CHECK=true", "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true",
	)
	s.write(program)
	s.run("stack", "init", "test")
	s.run("config", "set", "rollout:region", acctest.Region)
	for _, svc := range []string{"elbv2", "cloudwatch", "lambda", "ssm", "stepfunctions", "ecs", "codedeploy"} {
		s.run("config", "set", "--path", "rollout:endpoints."+svc, e.Emu.URL)
	}
	s.run("config", "set", "rollout:maxRetries", "2")
	return s
}

func (s *stack) write(program string) {
	s.t.Helper()
	if err := os.WriteFile(filepath.Join(s.dir, "Pulumi.yaml"), []byte(program), 0o644); err != nil {
		s.t.Fatal(err)
	}
}

// exec runs the Pulumi CLI and returns its combined output.
func (s *stack) exec(args ...string) (string, error) {
	cmd := exec.Command(filepath.Join(os.Getenv("PULUMI_DIR"), "pulumi"), append(args, "--non-interactive")...)
	if args[0] == "stack" && len(args) > 1 && args[1] == "export" {
		cmd = exec.Command(filepath.Join(os.Getenv("PULUMI_DIR"), "pulumi"), args...)
	}
	cmd.Dir, cmd.Env = s.dir, s.env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (s *stack) run(args ...string) string {
	s.t.Helper()
	out, err := s.exec(args...)
	if err != nil {
		s.t.Fatalf("pulumi %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func (s *stack) up() string { return s.run("up", "--yes", "--skip-preview") }

func (s *stack) config(kv ...string) {
	for i := 0; i+1 < len(kv); i += 2 {
		s.run("config", "set", kv[i], kv[i+1])
	}
}

// resourceState returns the outputs of the first resource of a type in the
// stack's checkpoint.
func (s *stack) resourceState(typ string) map[string]any {
	s.t.Helper()
	var dep struct {
		Deployment struct {
			Resources []struct {
				Type    string         `json:"type"`
				Outputs map[string]any `json:"outputs"`
			} `json:"resources"`
		} `json:"deployment"`
	}
	if err := json.Unmarshal([]byte(s.run("stack", "export")), &dep); err != nil {
		s.t.Fatal(err)
	}
	for _, r := range dep.Deployment.Resources {
		if r.Type == typ {
			return r.Outputs
		}
	}
	s.t.Fatalf("no %s in the stack", typ)
	return nil
}
