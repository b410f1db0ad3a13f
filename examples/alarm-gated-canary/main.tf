# A canary from blue to green that stops and rolls back by itself when the
# green target group's error rate or p99 latency alarm fires.
terraform {
  required_providers {
    aws     = { source = "hashicorp/aws" }
    rollout = { source = "rolloutdev/rollout", version = "~> 0.1" }
  }
}

variable "load_balancer_arn" { type = string }
variable "listener_arn" { type = string }
variable "blue_target_group_arn" { type = string }
variable "green_target_group_arn" { type = string }

variable "green_weight" {
  type        = number
  default     = 100
  description = "Share of traffic for green, 0 to 100: change it and apply to run the canary."
}

resource "rollout_alarm" "green_errors" {
  name              = "web-green-5xx-rate"
  preset            = "error_rate"
  load_balancer_arn = var.load_balancer_arn
  target_group_arn  = var.green_target_group_arn
  threshold         = 0.1
}

resource "rollout_alarm" "green_p99" {
  name              = "web-green-p99"
  preset            = "p99_latency"
  load_balancer_arn = var.load_balancer_arn
  target_group_arn  = var.green_target_group_arn
  threshold         = 500
}

resource "rollout_traffic_split" "web" {
  listener_arn = var.listener_arn
  target_groups = [
    { arn = var.blue_target_group_arn, weight = 100 - var.green_weight },
    { arn = var.green_target_group_arn, weight = var.green_weight },
  ]

  rollout = {
    strategy = "canary"
    steps    = [{ percent = 10, pause = "5m" }, { percent = 25, pause = "5m" }, { percent = 50, pause = "10m" }, { percent = 100 }]
    gates = {
      health  = { min_healthy_targets = 2 }
      alarms  = [rollout_alarm.green_errors.name, rollout_alarm.green_p99.name]
      metrics = { min_request_count = 500 }
    }
  }

  timeouts = { update = "45m" }
}

output "last_rollout" {
  value = rollout_traffic_split.web.last_rollout
}
