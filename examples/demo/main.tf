# Used by `make demo`: a traffic split on a listener of the local emulator.
# Act 1 shifts weights one apply at a time; act 2 runs a canary gated by a
# CloudWatch alarm, which the demo sets off half way; act 3 runs the same
# canary detached, on the emulator's Step Functions and the orchestrator
# Lambda, and the apply returns at once; act 4 holds the canary after its
# first step for a person, who promotes it, with every notice sent to SNS;
# act 5 observes the listener while a CodeDeploy deployment shifts it, and
# takes it over once that deployment has stopped.
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

variable "canary" {
  type        = bool
  default     = false
  description = "Shift in canary steps gated by alarm_name instead of all at once."
}

variable "alarm_name" {
  type    = string
  default = ""
}

variable "attempt" {
  type    = string
  default = null
}

variable "orchestrator_zip" {
  type        = string
  default     = ""
  description = "The orchestrator's zip: set, the orchestrator exists."
}

variable "detached" {
  type        = bool
  default     = false
  description = "Run the canary on the orchestrator."
}

variable "hold" {
  type        = bool
  default     = false
  description = "Hold the canary after its first step until promote changes."
}

variable "promote" {
  type    = string
  default = null
}

variable "topic_arn" {
  type        = string
  default     = ""
  description = "An SNS topic for the rollout's notices."
}

variable "observe" {
  type        = bool
  default     = false
  description = "Observe the listener: another system (codedeploy_group) sets its weights."
}

variable "codedeploy_group" {
  type        = string
  default     = ""
  description = "The CodeDeploy deployment group that also shifts the listener."
}

provider "rollout" {
  region = "us-east-1"
  endpoints = {
    codedeploy    = var.endpoint
    elbv2         = var.endpoint
    cloudwatch    = var.endpoint
    lambda        = var.endpoint
    ssm           = var.endpoint
    stepfunctions = var.endpoint
    sns           = var.endpoint
  }
}

resource "rollout_orchestrator" "demo" {
  count             = var.orchestrator_zip == "" ? 0 : 1
  name              = "demo-rollouts"
  function_role_arn = "arn:aws:iam::000000000000:role/rollout-orchestrator"
  states_role_arn   = "arn:aws:iam::000000000000:role/rollout-states"
  timeout           = "10s"
  code              = { file = var.orchestrator_zip }
}

resource "rollout_traffic_split" "demo" {
  listener_arn  = var.listener_arn
  manage        = var.observe ? "observe" : "write"
  controlled_by = var.codedeploy_group == "" ? null : { codedeploy_group = var.codedeploy_group }
  target_groups = var.observe ? null : [
    { arn = var.blue_arn, weight = var.blue_weight },
    { arn = var.green_arn, weight = var.green_weight },
  ]

  # Short pauses so the demo runs in seconds; real rollouts bake for minutes.
  rollout = var.canary && !var.observe ? {
    strategy      = "canary"
    steps         = [{ percent = 10, pause = var.hold ? "hold" : "3s" }, { percent = 50, pause = "6s" }, { percent = 100 }]
    poll_interval = "1s"
    rollback      = "auto"
    attempt       = var.attempt
    promote       = var.promote
    gates         = { alarms = [var.alarm_name] }
    execution     = var.detached ? { mode = "detached", orchestrator = rollout_orchestrator.demo[0].arn } : null
    notifications = var.topic_arn == "" ? null : { sns_topic_arn = var.topic_arn }
  } : null
}

# Where the rollout stands, read from the listener's tags after the apply.
data "rollout_status" "demo" {
  listener_arn = var.listener_arn
  depends_on   = [rollout_traffic_split.demo]
}

output "status" {
  value = "${data.rollout_status.demo.status} at step ${data.rollout_status.demo.step} of ${data.rollout_status.demo.steps}"
}

output "percentages" {
  value = rollout_traffic_split.demo.percentages
}

output "last_rollout" {
  value = rollout_traffic_split.demo.last_rollout
}
