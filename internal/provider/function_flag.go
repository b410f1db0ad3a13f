package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/function"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/rolloutdev/terraform-provider-rollout/flag"
)

// The provider functions of feature flags. Both use the public evaluator in
// package flag, the one apps use, so a plan computes exactly what the apps
// will.

var (
	_ function.Function = (*flagBucketFunction)(nil)
	_ function.Function = (*flagEnabledFunction)(nil)
)

// NewFlagBucketFunction builds provider::rollout::flag_bucket.
func NewFlagBucketFunction() function.Function { return &flagBucketFunction{} }

type flagBucketFunction struct{}

func (f *flagBucketFunction) Metadata(_ context.Context, _ function.MetadataRequest, resp *function.MetadataResponse) {
	resp.Name = "flag_bucket"
}

func (f *flagBucketFunction) Definition(_ context.Context, _ function.DefinitionRequest, resp *function.DefinitionResponse) {
	resp.Definition = function.Definition{
		Summary: "The percentage bucket (0 to 99) of a user for a flag",
		MarkdownDescription: "Returns the bucket, from 0 to 99, that a user falls in for a flag: the first 8 hex digits of `md5(\"<key>:<user_id>\")` as an unsigned integer, mod 100. " +
			"A flag at `rollout_percentage` P is on for the users whose bucket is below P.",
		Parameters: []function.Parameter{
			function.StringParameter{Name: "key", MarkdownDescription: "The flag's key."},
			function.StringParameter{Name: "user_id", MarkdownDescription: "The user's id."},
		},
		Return: function.Int64Return{},
	}
}

func (f *flagBucketFunction) Run(ctx context.Context, req function.RunRequest, resp *function.RunResponse) {
	var key, user string
	resp.Error = function.ConcatFuncErrors(resp.Error, req.Arguments.Get(ctx, &key, &user))
	if resp.Error != nil {
		return
	}
	resp.Error = function.ConcatFuncErrors(resp.Error, resp.Result.Set(ctx, int64(flag.Bucket(key, user))))
}

// NewFlagEnabledFunction builds provider::rollout::flag_enabled.
func NewFlagEnabledFunction() function.Function { return &flagEnabledFunction{} }

type flagEnabledFunction struct{}

func (f *flagEnabledFunction) Metadata(_ context.Context, _ function.MetadataRequest, resp *function.MetadataResponse) {
	resp.Name = "flag_enabled"
}

func (f *flagEnabledFunction) Definition(_ context.Context, _ function.DefinitionRequest, resp *function.DefinitionResponse) {
	resp.Definition = function.Definition{
		Summary: "Whether a flag is on for a user",
		MarkdownDescription: "Evaluates a flag document (the JSON `rollout_feature_flag` writes, `schema_version` 1) for a context, with the same evaluator apps use: " +
			"kill switch, enabled, environments, included and excluded users, segment rules, then the percentage bucket. " +
			"The context is a map of strings: `user_id`, `environment`, and every other key is an attribute for segment rules. " +
			"A document that cannot be read is an error here (a configuration mistake); apps, at run time, treat it as off. " +
			"A flag with dependencies cannot be evaluated alone and is an error too.",
		Parameters: []function.Parameter{
			function.StringParameter{Name: "flag_document", MarkdownDescription: "The flag document, JSON."},
			function.MapParameter{Name: "context", ElementType: types.StringType, MarkdownDescription: "`user_id`, `environment` and the user's attributes."},
		},
		Return: function.BoolReturn{},
	}
}

func (f *flagEnabledFunction) Run(ctx context.Context, req function.RunRequest, resp *function.RunResponse) {
	var doc string
	var c map[string]string
	resp.Error = function.ConcatFuncErrors(resp.Error, req.Arguments.Get(ctx, &doc, &c))
	if resp.Error != nil {
		return
	}
	fl, err := flag.Parse([]byte(doc))
	if err != nil {
		resp.Error = function.NewArgumentFuncError(0, fmt.Sprintf("Invalid Flag Document: %v. Give the JSON of a flag document with schema_version %d.", err, flag.SchemaVersion))
		return
	}
	fc := flag.Context{UserID: c["user_id"], Environment: c["environment"], Attributes: map[string]string{}}
	for k, v := range c {
		if k != "user_id" && k != "environment" {
			fc.Attributes[k] = v
		}
	}
	r := flag.Evaluate(fl, fc, nil)
	if r.Reason == flag.Error {
		resp.Error = function.NewArgumentFuncError(0, fmt.Sprintf("Flag Not Evaluable: %v.", r.Err))
		return
	}
	resp.Error = function.ConcatFuncErrors(resp.Error, resp.Result.Set(ctx, r.On))
}
