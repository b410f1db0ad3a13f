package provider

import (
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/rolloutdev/terraform-provider-rollout/internal/pipeline"
)

// The pipeline logs through Terraform's log.
func init() { pipeline.Log = pipeline.Logger{Info: tflog.Info, Warn: tflog.Warn} }
