package provider

import (
	"context"
	"errors"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/rolloutdev/terraform-provider-rollout/internal/awsclient"
	"github.com/rolloutdev/terraform-provider-rollout/internal/pipeline"
)

var _ datasource.DataSourceWithConfigure = (*featureFlagDataSource)(nil)

// NewFeatureFlagDataSource builds data.rollout_feature_flag.
func NewFeatureFlagDataSource() datasource.DataSource { return &featureFlagDataSource{} }

type featureFlagDataSource struct{ client *awsclient.Client }

func (d *featureFlagDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_feature_flag"
}

func (d *featureFlagDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	c := func(desc string) schema.StringAttribute {
		return schema.StringAttribute{Computed: true, MarkdownDescription: desc}
	}
	strs := func(desc string) schema.ListAttribute {
		return schema.ListAttribute{ElementType: types.StringType, Computed: true, MarkdownDescription: desc}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Reads a feature flag from SSM Parameter Store by key, for other stacks (another workspace, another team's configuration).",
		Attributes: map[string]schema.Attribute{
			"id": c("The parameter name."),
			"key": schema.StringAttribute{Required: true, MarkdownDescription: "The flag's key.",
				Validators: []validator.String{stringvalidator.RegexMatches(flagKeyRE, "must be 1 to 128 of a-z 0-9 . _ - starting with a letter")}},
			"path_prefix": schema.StringAttribute{Optional: true, MarkdownDescription: "Where the flag lives; default `" + DefaultFlagPrefix + "`.",
				Validators: []validator.String{stringvalidator.RegexMatches(flagPrefixRE, "must start and end with / and hold path segments of a-z A-Z 0-9 _ . -")}},
			"enabled":            schema.BoolAttribute{Computed: true, MarkdownDescription: "Whether the flag can be on."},
			"rollout_percentage": schema.Int64Attribute{Computed: true, MarkdownDescription: "Share of users for whom it is on, by bucket."},
			"kill_switch":        schema.BoolAttribute{Computed: true, MarkdownDescription: "Whether it is off for everyone."},
			"targeting": schema.SingleNestedAttribute{Computed: true, MarkdownDescription: "Users and segments.", Attributes: map[string]schema.Attribute{
				"included_users": strs("Users for whom it is on."),
				"excluded_users": strs("Users for whom it is off."),
				"segment_rules": schema.ListNestedAttribute{Computed: true, MarkdownDescription: "Rules that must all match.", NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"attribute": c("Context attribute."), "operator": c("Operator."), "value": c("Value."),
				}}},
			}},
			"environments":   strs("Environments where it may be on."),
			"description":    c("What it does."),
			"owner":          c("Who owns it."),
			"ticket":         c("Its ticket."),
			"expires_at":     c("When it should be removed."),
			"dependencies":   strs("Flags that must be on for it to be on."),
			"parameter_name": c("The SSM parameter."),
			"document":       c("The flag document, JSON: what apps evaluate."),
		},
	}
}

func (d *featureFlagDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.client = clientFrom(req.ProviderData, &resp.Diagnostics)
}

func (d *featureFlagDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	// The data source's view of a flag: the resource's attributes without
	// its rollout and ownership.
	var cfg flagModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	m := featureFlagModel{flagModel: flagModel{Key: cfg.Key, PathPrefix: cfg.PathPrefix}}
	if resp.Diagnostics.HasError() || d.client == nil {
		return
	}
	prefix := DefaultFlagPrefix
	if !m.PathPrefix.IsNull() {
		prefix = m.PathPrefix.ValueString()
	}
	name := awsclient.FlagParameter(prefix, m.Key.ValueString())
	doc, f, err := d.client.ReadFlag(ctx, name)
	if errors.Is(err, awsclient.ErrNotFound) {
		resp.Diagnostics.AddAttributeError(pathKey, "Flag Not Found", pipeline.Detail(nil, fmt.Sprintf("No flag %s exists in region %s.", name, d.client.Region),
			"Check key and path_prefix, and the provider's region."))
		return
	}
	if err != nil {
		resp.Diagnostics.AddError("Cannot Read Flag", pipeline.Detail(err, fmt.Sprintf("Reading %s failed, or it is not a flag document.", name), "Check the ssm:GetParameter permission."))
		return
	}
	m.Environments, m.Dependencies = types.ListValueMust(types.StringType, nil), types.ListValueMust(types.StringType, nil)
	for _, p := range []*types.String{&m.Description, &m.Owner, &m.Ticket, &m.ExpiresAt} {
		*p = types.StringValue("")
	}
	m.Targeting = emptyTargeting()
	setFromFlag(&m, f, doc)
	out := m.flagModel
	out.ID, out.PathPrefix, out.ParameterName = types.StringValue(name), types.StringValue(prefix), types.StringValue(name)
	resp.Diagnostics.Append(resp.State.Set(ctx, &out)...)
}
