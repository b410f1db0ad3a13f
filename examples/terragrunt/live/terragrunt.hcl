# Shared by every environment: the provider, and state per unit.
generate "provider" {
  path      = "provider.tf"
  if_exists = "overwrite"
  contents  = <<-HCL
    provider "rollout" {
      region = "eu-west-1"
      # Terraform Cloud dynamic credentials or a CI role: see the guide.
      shared_config_files = [var.tfc_aws_dynamic_credentials.default.shared_config_file]
    }
    variable "tfc_aws_dynamic_credentials" {
      type = object({ default = object({ shared_config_file = string }) })
    }
  HCL
}

remote_state {
  backend = "s3"
  config = {
    bucket = "example-terraform-state"
    key    = "${path_relative_to_include()}/terraform.tfstate"
    region = "eu-west-1"
  }
}
