// Package provider maps the Terraform provider's resources and data sources
// to Pulumi tokens. The provider itself is the same Go code Terraform runs.
package provider

import (
	"regexp"

	pfbridge "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"

	rollout "github.com/rolloutdev/terraform-provider-rollout/internal/provider"
)

// Version is set at build time; "dev" otherwise.
var Version = "0.1.0-dev"

// MetadataPath is where tfgen keeps the bridge metadata, next to the schema
// the runtime plugin embeds (relative to the pulumi module).
const MetadataPath = "cmd/pulumi-resource-rollout/bridge-metadata.json"

// Provider returns the bridge's description of the provider, with the bridge
// metadata tfgen generated (embedded by the runtime plugin, read from
// MetadataPath by tfgen).
func Provider(bridgeMetadata []byte) tfbridge.ProviderInfo {
	return tfbridge.ProviderInfo{
		P:           pfbridge.ShimProvider(rollout.New(Version)()),
		Name:        "rollout",
		DisplayName: "Rollout",
		Publisher:   "rolloutdev",
		Description: "Progressive delivery on AWS Application Load Balancers and Lambda aliases: traffic splits, canaries with gates and automatic rollback, blue/green deployments, Lambda alias deployments, feature flags, multi-service releases and rollout alarms",
		Keywords:    []string{"pulumi", "rollout", "aws", "canary", "blue-green", "progressive-delivery", "category/cloud"},
		License:     "MPL-2.0",
		Homepage:    "https://github.com/rolloutdev/terraform-provider-rollout",
		Repository:  "https://github.com/rolloutdev/terraform-provider-rollout",
		GitHubOrg:   "rolloutdev",
		Version:     Version,
		// Where `pulumi plugin install` and automatic plugin acquisition
		// find pulumi-resource-rollout-v<version>-<os>-<arch>.tar.gz, as
		// make release names it.
		PluginDownloadURL: "https://github.com/rolloutdev/terraform-provider-rollout/releases/download/v${VERSION}",
		UpstreamRepoPath:  "..",
		DocRules:          &tfbridge.DocRuleInfo{EditRules: docEdits},
		MetadataInfo:      tfbridge.NewProviderMetadata(bridgeMetadata),
		TFProviderVersion: Version,
		Resources: map[string]*tfbridge.ResourceInfo{
			"rollout_traffic_split": {Tok: "rollout:index:TrafficSplit"},
			"rollout_deployment_bluegreen": {
				Tok: "rollout:index:DeploymentBlueGreen",
				// The bridge would pluralize it to "histories".
				Fields: map[string]*tfbridge.SchemaInfo{"history": {Name: "history"}},
			},
			"rollout_alarm":        {Tok: "rollout:index:Alarm"},
			"rollout_lambda_alias": {Tok: "rollout:index:LambdaAlias"},
			"rollout_feature_flag": {Tok: "rollout:index:FeatureFlag"},
			"rollout_release":      {Tok: "rollout:index:Release"},
			"rollout_orchestrator": {Tok: "rollout:index:Orchestrator"},
		},
		DataSources: map[string]*tfbridge.DataSourceInfo{
			"rollout_listener_weights":    {Tok: "rollout:index:getListenerWeights"},
			"rollout_alarm_state":         {Tok: "rollout:index:getAlarmState"},
			"rollout_target_health":       {Tok: "rollout:index:getTargetHealth"},
			"rollout_feature_flag":        {Tok: "rollout:index:getFeatureFlag"},
			"rollout_orchestrator_policy": {Tok: "rollout:index:getOrchestratorPolicy"},
			"rollout_status":              {Tok: "rollout:index:getStatus"},
		},
		JavaScript: &tfbridge.JavaScriptInfo{
			PackageName:          "@rolloutdev/rollout",
			RespectSchemaVersion: true,
			Dependencies: map[string]string{
				// The generated code calls runtime functions of the SDK it was
				// generated with (pkg/v3 3.274).
				"@pulumi/pulumi": "^3.274.0",
			},
			DevDependencies: map[string]string{
				"@types/node": "^20.0.0",
				"typescript":  "^5.0.0",
			},
		},
		Python: &tfbridge.PythonInfo{
			PackageName:          "pulumi_rollout",
			RespectSchemaVersion: true,
			Requires:             map[string]string{"pulumi": ">=3.0.0,<4.0.0"},
		},
		Golang: &tfbridge.GolangInfo{
			ImportBasePath:                 "github.com/rolloutdev/terraform-provider-rollout/pulumi/sdk/go/rollout",
			GenerateResourceContainerTypes: true,
			RespectSchemaVersion:           true,
		},
	}
}

// docEdits words the Terraform documentation for Pulumi users, so the bridge
// keeps it instead of dropping paragraphs that name Terraform.
func docEdits(defaults []tfbridge.DocsEdit) []tfbridge.DocsEdit {
	return append(defaults, tfbridge.DocsEdit{
		Path: "*",
		Edit: func(_ string, content []byte) ([]byte, error) {
			for _, r := range docReplacements {
				content = r.re.ReplaceAll(content, r.with)
			}
			return content, nil
		},
	})
}

var docReplacements = []struct {
	re   *regexp.Regexp
	with []byte
}{
	{regexp.MustCompile("`terraform plan`|`plan`"), []byte("`pulumi preview`")},
	{regexp.MustCompile("`terraform apply`|`apply`"), []byte("`pulumi up`")},
	{regexp.MustCompile(`terraform refresh`), []byte("pulumi refresh")},
	{regexp.MustCompile(`Terraform 1\.5\+ and OpenTofu|Terraform and OpenTofu|OpenTofu and Terraform|Terraform / OpenTofu|Terraform or OpenTofu`), []byte("Pulumi")},
	{regexp.MustCompile(`\bTerraform\b`), []byte("Pulumi")},
	{regexp.MustCompile(`\bOpenTofu\b`), []byte("Pulumi")},
	// Resource names in prose become Pulumi type names.
	{regexp.MustCompile("`rollout_traffic_split`"), []byte("`rollout.TrafficSplit`")},
	{regexp.MustCompile("`rollout_deployment_bluegreen`"), []byte("`rollout.DeploymentBlueGreen`")},
	{regexp.MustCompile("`rollout_alarm`"), []byte("`rollout.Alarm`")},
	{regexp.MustCompile("`rollout_lambda_alias`"), []byte("`rollout.LambdaAlias`")},
	{regexp.MustCompile("`rollout_feature_flag`"), []byte("`rollout.FeatureFlag`")},
	{regexp.MustCompile("`rollout_release`"), []byte("`rollout.Release`")},
	{regexp.MustCompile("`rollout_orchestrator_policy`"), []byte("`rollout.getOrchestratorPolicy`")},
	{regexp.MustCompile("`rollout_orchestrator`"), []byte("`rollout.Orchestrator`")},
}
