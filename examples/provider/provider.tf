terraform {
  required_providers {
    rollout = {
      source  = "rolloutdev/rollout"
      version = "~> 0.1" # pin a minor series; the lock file records the exact build
    }
  }
}

# Credentials come from the standard AWS chain: environment variables, shared
# config and credentials files, SSO, web identity, container and instance roles.
provider "rollout" {
  region = "eu-west-1"

  # Optional: deploy through a role in the workload account.
  assume_role = {
    role_arn     = "arn:aws:iam::123456789012:role/deploy"
    session_name = "rollout"
    duration     = "1h"
  }

  # Optional: retries of throttled calls, with the SDK's adaptive mode.
  max_retries = 10
}

# Against a local emulator or through VPC endpoints. Plain http:// is accepted
# for loopback addresses only, unless endpoints.allow_http = true.
provider "rollout" {
  alias  = "local"
  region = "us-east-1"
  endpoints = {
    elbv2      = "http://127.0.0.1:4566"
    cloudwatch = "http://127.0.0.1:4566"
    lambda     = "http://127.0.0.1:4566"
  }
}
