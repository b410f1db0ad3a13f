// Command sdkgen (pulumi-sdkgen-rollout) writes the Go, Node.js and Python SDKs from
// the committed schema.json with Pulumi's code generators, in-process.
//
// tfgen's own SDK step shells out to `pulumi package gen-sdk`, which needs
// the Go, Node.js and Python language hosts; those are not published as
// installable Go modules, so this command calls the same generators
// (pkg/v3/codegen/{go,nodejs,python}) directly.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	gogen "github.com/pulumi/pulumi/pkg/v3/codegen/go"
	nodejsgen "github.com/pulumi/pulumi/pkg/v3/codegen/nodejs"
	pythongen "github.com/pulumi/pulumi/pkg/v3/codegen/python"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
)

const tool = "pulumi-sdkgen-rollout"

func main() {
	schemaPath := flag.String("schema", "cmd/pulumi-resource-rollout/schema.json", "the Pulumi schema")
	out := flag.String("out", "sdk", "directory of the SDKs: one sub-directory per language")
	version := flag.String("version", "", "the package's version, written into the SDKs' package metadata")
	flag.Parse()
	if err := run(*schemaPath, *out, *version, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, tool+":", err)
		os.Exit(1)
	}
}

func run(schemaPath, out, version string, langs []string) error {
	if len(langs) == 0 {
		langs = []string{"go", "nodejs", "python"}
	}
	raw, err := os.ReadFile(schemaPath)
	if err != nil {
		return err
	}
	// The package refers to no other package, so the loader never has to
	// start a plugin.
	loader := schema.NewPluginLoader(nil)
	for _, lang := range langs {
		var spec schema.PackageSpec
		if err := json.Unmarshal(raw, &spec); err != nil {
			return err
		}
		if version != "" {
			spec.Version = version
		}
		pkg, err := schema.ImportSpec(spec, nil, loader, schema.ValidationOptions{})
		if err != nil {
			return fmt.Errorf("binding the schema: %w", err)
		}
		var files map[string][]byte
		switch lang {
		case "go":
			files, err = gogen.GeneratePackage(tool, pkg, nil)
		case "nodejs":
			files, err = nodejsgen.GeneratePackage(tool, pkg, nil, nil, false, loader)
		case "python":
			files, err = pythongen.GeneratePackage(tool, pkg, nil, loader)
		default:
			return fmt.Errorf("unknown language %q (go, nodejs or python)", lang)
		}
		if err != nil {
			return fmt.Errorf("generating the %s SDK: %w", lang, err)
		}
		dir := filepath.Join(out, lang)
		if err := os.RemoveAll(dir); err != nil {
			return err
		}
		names := make([]string, 0, len(files))
		for name := range files {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			p := filepath.Join(dir, name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(p, files[name], 0o644); err != nil {
				return err
			}
		}
		fmt.Printf("%s: %d files in %s\n", lang, len(names), dir)
	}
	return nil
}
