package tests

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestSchemaIsCurrent fails when schema.json is stale relative to the
// provider: it regenerates the schema with tfgen and compares.
func TestSchemaIsCurrent(t *testing.T) {
	t.Parallel()
	tfgen := os.Getenv("PULUMI_TFGEN")
	if tfgen == "" {
		t.Fatal("PULUMI_TFGEN is not set: run through `make test`, which builds pulumi-tfgen-rollout")
	}
	out := t.TempDir()
	cmd := exec.Command(tfgen, "schema", "--skip-examples", "--out", out)
	cmd.Dir = ".." // the pulumi module: the provider's docs are at ../docs from there
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tfgen schema: %v\n%s", err, b)
	}
	for _, name := range []string{"schema.json", "bridge-metadata.json"} {
		fresh, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		committed, err := os.ReadFile(filepath.Join("..", "cmd", "pulumi-resource-rollout", name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(bytes.TrimSpace(fresh), bytes.TrimSpace(committed)) {
			t.Errorf("%s is stale relative to the provider: run `make generate` and commit the result", name)
		}
	}
}

// TestTypeScriptExample type-checks examples/typescript against the
// generated Node.js SDK, with @pulumi/pulumi and TypeScript from npm.
func TestTypeScriptExample(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.CopyFS(filepath.Join(dir, "sdk"), os.DirFS("../sdk/nodejs")); err != nil {
		t.Fatal(err)
	}
	ex := "../examples/typescript"
	src, err := os.ReadFile(filepath.Join(ex, "index.ts"))
	if err != nil {
		t.Fatal(err)
	}
	var pkg struct {
		Dependencies    map[string]string `json:"dependencies"`
		DevDependencies map[string]string `json:"devDependencies"`
	}
	raw, _ := os.ReadFile(filepath.Join(ex, "package.json"))
	if err := json.Unmarshal(raw, &pkg); err != nil {
		t.Fatal(err)
	}
	delete(pkg.Dependencies, "@rolloutdev/rollout") // resolved through tsconfig paths
	manifest, _ := json.Marshal(map[string]any{"name": "tscheck", "private": true, "dependencies": pkg.Dependencies, "devDependencies": pkg.DevDependencies})
	tsconfig, _ := os.ReadFile(filepath.Join(ex, "tsconfig.json"))
	tsconfig = bytes.ReplaceAll(tsconfig, []byte(`"../../sdk/nodejs"`), []byte(`"./sdk"`))
	for name, body := range map[string][]byte{"index.ts": src, "package.json": manifest, "tsconfig.json": tsconfig} {
		if err := os.WriteFile(filepath.Join(dir, name), body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run := func(name string, args ...string) {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, b)
		}
	}
	run("npm", "install", "--no-audit", "--no-fund", "--loglevel=error")
	run("npx", "tsc", "-p", "tsconfig.json")
}
