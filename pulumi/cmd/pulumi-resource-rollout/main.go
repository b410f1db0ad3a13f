// Command pulumi-resource-rollout is the Pulumi resource plugin of the
// rollout provider: the Terraform provider served through the bridge.
package main

import (
	"context"
	_ "embed"

	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfbridge"

	"github.com/rolloutdev/terraform-provider-rollout/pulumi/provider"
)

//go:embed schema.json
var schema []byte

//go:embed bridge-metadata.json
var bridgeMetadata []byte

func main() {
	tfbridge.Main(context.Background(), "rollout", provider.Provider(bridgeMetadata), tfbridge.ProviderMetadata{PackageSchema: schema})
}
