# One service's canary, the unit every environment instantiates with its own
# schedule and gates (see ../../live). Keep rolling resources in their own
# unit: an apply that runs a canary holds this unit's state lock for as long
# as its pauses, and nothing else should wait behind it.
terraform {
  required_providers {
    rollout = {
      source  = "rolloutdev/rollout"
      version = "~> 0.1"
    }
  }
}

variable "listener_arn" {
  type        = string
  description = "The listener whose default action the canary owns."
}

variable "stable_target_group_arn" { type = string }
variable "candidate_target_group_arn" { type = string }

variable "candidate_percent" {
  type        = number
  description = "Share of traffic on the candidate once the apply ends (0 to 100)."
}

variable "steps" {
  type        = list(object({ percent = number, pause = optional(string) }))
  description = "The canary's steps; the last must be 100."
}

variable "alarms" {
  type    = list(string)
  default = []
}

variable "attempt" {
  type        = string
  default     = "1"
  description = "Change it to try again a change that was rolled back."
}

variable "update_timeout" {
  type    = string
  default = "60m"
}

resource "rollout_traffic_split" "this" {
  listener_arn = var.listener_arn
  target_groups = [
    { arn = var.stable_target_group_arn, weight = 100 - var.candidate_percent },
    { arn = var.candidate_target_group_arn, weight = var.candidate_percent },
  ]

  rollout = {
    strategy = "canary"
    steps    = var.steps
    attempt  = var.attempt
    gates    = length(var.alarms) > 0 ? { alarms = var.alarms } : null
  }

  timeouts = { update = var.update_timeout }
}

output "planned_steps" {
  value = rollout_traffic_split.this.planned_steps
}

output "last_rollout" {
  value = rollout_traffic_split.this.last_rollout
}
