package tests

import (
	"archive/tar"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/rolloutdev/terraform-provider-rollout/internal/acctest"
	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

// How users get the Pulumi package: the resource plugin from its release
// tarball, the Node.js SDK from npm, the Python SDK from an sdist.

// TestPluginFromReleaseTarball installs the plugin the way `pulumi plugin
// install` does from a release, and runs a program with no plugin on PATH.
// make test-release builds the tarball first.
func TestPluginFromReleaseTarball(t *testing.T) {
	dist, version := os.Getenv("ROLLOUT_RELEASE_DIST"), os.Getenv("ROLLOUT_RELEASE_VERSION")
	if dist == "" {
		t.Skip("run by make test-release, which builds the tarball this test installs")
	}
	tarball := filepath.Join(dist, fmt.Sprintf("pulumi-resource-rollout-v%s-%s-%s.tar.gz", version, runtime.GOOS, runtime.GOARCH))
	if names := tarNames(t, tarball); strings.Join(names, " ") != "LICENSE pulumi-resource-rollout" {
		t.Fatalf("the tarball holds %v, want the plugin binary and the license", names)
	}
	e := acctest.NewEnv(t)
	f := e.NewFixture(2)
	s := newStack(t, e, fmt.Sprintf(splitProgram, ""))
	// From here on: the Pulumi CLI and the YAML host only, no plugin on PATH.
	for i, kv := range s.env {
		if strings.HasPrefix(kv, "PATH=") {
			s.env[i] = "PATH=" + os.Getenv("PULUMI_DIR") + string(os.PathListSeparator) + os.Getenv("PATH")
		}
	}
	s.env = append(s.env, "PULUMI_IGNORE_AMBIENT_PLUGINS=true")
	s.config("listenerArn", f.Listener, "blueArn", f.TGs[0], "greenArn", f.TGs[1], "blueWeight", "70", "greenWeight", "30")
	// Nothing to run the program with yet.
	if out, err := s.exec("preview"); err == nil || !regexp.MustCompile(`(?i)no resource plugin 'pulumi-resource-rollout'|could not find.*rollout|plugin.*rollout.*not (found|installed)`).MatchString(out) {
		t.Fatalf("preview without the plugin: %v, want a missing rollout plugin\n%s", err, out)
	} else {
		t.Logf("without the plugin, preview fails as it should:\n%s", out)
	}
	s.run("plugin", "install", "resource", "rollout", version, "--file", tarball)
	if ls := s.run("plugin", "ls"); !strings.Contains(ls, "rollout") || !strings.Contains(ls, version) {
		t.Fatalf("pulumi plugin ls does not list rollout %s:\n%s", version, ls)
	}
	s.up()
	checkWeights(t, e, f.Listener, weights.Split{{ARN: f.TGs[0], Weight: 70}, {ARN: f.TGs[1], Weight: 30}})
}

func tarNames(t *testing.T, path string) []string {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	zr, err := gzip.NewReader(fh)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
	}
	return names
}

func cmdIn(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, b)
	}
	return string(b)
}

// TestNodeSDKPacks builds the Node.js SDK, packs it with npm, installs the
// tarball into a fresh project and type-checks a program against it.
func TestNodeSDKPacks(t *testing.T) {
	t.Parallel()
	sdk := filepath.Join(t.TempDir(), "sdk")
	if err := os.CopyFS(sdk, os.DirFS("../sdk/nodejs")); err != nil {
		t.Fatal(err)
	}
	var pkg struct {
		Name, Version string
	}
	raw, _ := os.ReadFile(filepath.Join(sdk, "package.json"))
	if err := json.Unmarshal(raw, &pkg); err != nil {
		t.Fatal(err)
	}
	if pkg.Version == "" || strings.Contains(pkg.Version, "$") || pkg.Version == "0.0.0" {
		t.Fatalf("the SDK's version is %q, not a real one", pkg.Version)
	}
	cmdIn(t, sdk, "npm", "install", "--no-audit", "--no-fund", "--loglevel=error")
	cmdIn(t, sdk, "npx", "tsc")
	// The package is bin/: the compiled code and its declarations.
	for _, f := range []string{"package.json", "README.md"} {
		if b, err := os.ReadFile(filepath.Join(sdk, f)); err == nil {
			if err := os.WriteFile(filepath.Join(sdk, "bin", f), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	out := strings.TrimSpace(cmdIn(t, filepath.Join(sdk, "bin"), "npm", "pack", "--silent", "--pack-destination", sdk))
	tgz := filepath.Join(sdk, out[strings.LastIndex(out, "\n")+1:])
	if want := fmt.Sprintf("rolloutdev-rollout-%s.tgz", pkg.Version); filepath.Base(tgz) != want {
		t.Fatalf("npm pack made %s, want %s", filepath.Base(tgz), want)
	}
	app := filepath.Join(t.TempDir(), "app")
	if err := os.MkdirAll(app, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{
		"package.json":  `{"name": "app", "private": true}`,
		"tsconfig.json": `{"compilerOptions": {"strict": true, "module": "nodenext", "moduleResolution": "nodenext", "target": "ES2022", "noEmit": true, "skipLibCheck": true}, "files": ["index.ts"]}`,
		"index.ts": `import * as rollout from "@rolloutdev/rollout";
const r = new rollout.Release("v42", {
    services: {
        api: { listenerArn: "arn:aws:elasticloadbalancing:us-east-1:1:listener/app/a/1/2", targetGroups: [{ arn: "tg", weight: 100 }] },
    },
    dependencies: [],
    onFailure: { stop: true, rollback: "started" },
});
export const waves = r.plannedWaves;
`,
	} {
		if err := os.WriteFile(filepath.Join(app, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmdIn(t, app, "npm", "install", "--no-audit", "--no-fund", "--loglevel=error", tgz, "typescript@5", "@types/node@20")
	cmdIn(t, app, "npx", "tsc", "-p", "tsconfig.json")
	installed, err := os.ReadFile(filepath.Join(app, "node_modules", "@rolloutdev", "rollout", "package.json"))
	if err != nil || !strings.Contains(string(installed), `"version": "`+pkg.Version+`"`) {
		t.Fatalf("the installed package is not version %s: %v\n%s", pkg.Version, err, installed)
	}
}

// TestPythonSDKSdist builds the Python SDK's source distribution and checks
// its version and contents.
func TestPythonSDKSdist(t *testing.T) {
	t.Parallel()
	sdk := filepath.Join(t.TempDir(), "python")
	if err := os.CopyFS(sdk, os.DirFS("../sdk/python")); err != nil {
		t.Fatal(err)
	}
	cmdIn(t, sdk, "python3", "setup.py", "--quiet", "sdist", "--formats=gztar")
	matches, _ := filepath.Glob(filepath.Join(sdk, "dist", "pulumi_rollout-*.tar.gz"))
	if len(matches) != 1 {
		t.Fatalf("sdist made %v", matches)
	}
	name := filepath.Base(matches[0])
	if strings.Contains(name, "0.0.0") {
		t.Fatalf("the sdist is %s: not a real version", name)
	}
	names := strings.Join(tarNames(t, matches[0]), "\n")
	for _, want := range []string{"pulumi_rollout/release.py", "pulumi_rollout/pulumi-plugin.json", "pulumi_rollout/traffic_split.py"} {
		if !strings.Contains(names, want) {
			t.Fatalf("%s lacks %s:\n%s", name, want, names)
		}
	}
}
