// Command pulumi-tfgen-rollout generates the Pulumi schema and SDKs of the
// rollout provider. Run it from the pulumi module's directory.
package main

import (
	"os"

	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfgen"

	"github.com/rolloutdev/terraform-provider-rollout/pulumi/provider"
)

func main() {
	md, err := os.ReadFile(provider.MetadataPath)
	if err != nil {
		md = []byte("{}")
	}
	tfgen.Main("rollout", provider.Provider(md))
}
