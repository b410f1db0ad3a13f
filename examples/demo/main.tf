# Used by `make demo`: a traffic split on a listener of the local emulator.
terraform {
  required_providers {
    rollout = { source = "rolloutdev/rollout" }
  }
}

variable "endpoint" { type = string }
variable "listener_arn" { type = string }
variable "blue_arn" { type = string }
variable "green_arn" { type = string }
variable "blue_weight" { type = number }
variable "green_weight" { type = number }

provider "rollout" {
  region = "us-east-1"
  endpoints = {
    elbv2      = var.endpoint
    cloudwatch = var.endpoint
    lambda     = var.endpoint
  }
}

resource "rollout_traffic_split" "demo" {
  listener_arn = var.listener_arn
  target_groups = [
    { arn = var.blue_arn, weight = var.blue_weight },
    { arn = var.green_arn, weight = var.green_weight },
  ]
}

output "percentages" {
  value = rollout_traffic_split.demo.percentages
}
