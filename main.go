// Command terraform-provider-rollout serves the rollout provider to Terraform
// and OpenTofu over plugin protocol 6.
package main

import (
	"context"
	"flag"
	"log"
	"os"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/rolloutdev/terraform-provider-rollout/internal/provider"
)

// version is set by the release build (goreleaser's ldflags).
var version = "dev"

//go:generate go run ./tools/docs

func main() {
	var debug bool
	flag.BoolVar(&debug, "debug", false, "run the provider with support for debuggers like delve")
	flag.Parse()
	quietSDKUnlessAsked()

	err := providerserver.Serve(context.Background(), provider.New(version), providerserver.ServeOpts{
		Address:         "registry.terraform.io/rolloutdev/rollout",
		Debug:           debug,
		ProtocolVersion: 6,
	})
	if err != nil {
		log.Fatal(err.Error())
	}
}

// quietSDKUnlessAsked turns off the plugin SDK's own trace logs when nobody
// asked for logs. The SDK otherwise formats a JSON trace line for every step
// of every request, which the engine then throws away: it was 30 % of the
// provider's CPU time in a plan over 400 resources (see README, Performance).
// Any TF_LOG* variable brings every log back, the provider's own included.
func quietSDKUnlessAsked() {
	for _, k := range []string{"TF_LOG", "TF_LOG_PROVIDER", "TF_LOG_SDK", "TF_LOG_SDK_PROTO", "TF_LOG_SDK_FRAMEWORK", "TF_LOG_PATH", "TF_ACC_LOG_PATH"} {
		if os.Getenv(k) != "" {
			return
		}
	}
	for _, k := range []string{"TF_LOG_SDK", "TF_LOG_SDK_PROTO", "TF_LOG_SDK_FRAMEWORK"} {
		_ = os.Setenv(k, "OFF")
	}
}
