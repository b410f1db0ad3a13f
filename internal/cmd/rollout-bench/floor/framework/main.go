// Command framework is the framework floor of `make bench`: a provider with
// the rollout provider's own schemas, served by terraform-plugin-framework,
// whose resources do nothing (Read keeps the state, Create and Update save
// the plan). A plan through it costs what the engine and the framework cost
// for these schemas, and nothing of the provider's own code or of AWS.
package main

import (
	"context"
	"log"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"

	"github.com/rolloutdev/terraform-provider-rollout/internal/process"
	rollout "github.com/rolloutdev/terraform-provider-rollout/internal/provider"
)

func main() {
	defer process.Setup()()
	served := rollout.New("floor")()
	err := providerserver.Serve(context.Background(), func() provider.Provider { return floor{served} },
		providerserver.ServeOpts{Address: "registry.terraform.io/rolloutdev/rollout"})
	if err != nil {
		log.Fatal(err)
	}
}

// floor keeps the real provider's metadata and schema, and configures nothing.
type floor struct{ real provider.Provider }

func (p floor) Metadata(ctx context.Context, req provider.MetadataRequest, resp *provider.MetadataResponse) {
	p.real.Metadata(ctx, req, resp)
}

func (p floor) Schema(ctx context.Context, req provider.SchemaRequest, resp *provider.SchemaResponse) {
	p.real.Schema(ctx, req, resp)
}

func (floor) Configure(context.Context, provider.ConfigureRequest, *provider.ConfigureResponse) {}

func (p floor) Resources(ctx context.Context) []func() resource.Resource {
	var out []func() resource.Resource
	for _, f := range p.real.Resources(ctx) {
		out = append(out, func() resource.Resource { return noop{f()} })
	}
	return out
}

func (floor) DataSources(context.Context) []func() datasource.DataSource { return nil }

// noop has the real resource's type name and schema, and no behaviour.
type noop struct{ real resource.Resource }

func (r noop) Metadata(ctx context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	r.real.Metadata(ctx, req, resp)
}

func (r noop) Schema(ctx context.Context, req resource.SchemaRequest, resp *resource.SchemaResponse) {
	r.real.Schema(ctx, req, resp)
}

func (noop) Create(_ context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	resp.State.Raw = req.Plan.Raw
}

func (noop) Read(context.Context, resource.ReadRequest, *resource.ReadResponse) {}

func (noop) Update(_ context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	resp.State.Raw = req.Plan.Raw
}

func (noop) Delete(context.Context, resource.DeleteRequest, *resource.DeleteResponse) {}
