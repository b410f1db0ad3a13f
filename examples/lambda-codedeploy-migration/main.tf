# Migrating a Lambda deployment from CodeDeploy to rollout_lambda_alias.
#
# Before: a CodeDeploy application and deployment group shifted the "live"
# alias with the LambdaCanary10Percent5Minutes configuration and rolled back
# on an alarm; the alias itself was an aws_lambda_alias with
# ignore_changes = [function_version, routing_config].
#
#   resource "aws_codedeploy_deployment_group" "orders" {
#     deployment_config_name = "CodeDeployDefault.LambdaCanary10Percent5Minutes"
#     alarm_configuration { alarms = [aws_cloudwatch_metric_alarm.orders_errors.alarm_name] }
#     auto_rollback_configuration { enabled = true, events = ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"] }
#     ...
#   }
#
# After: the same schedule and rollback, reviewed in the plan. Steps:
# 1. Remove the aws_lambda_alias from state (terraform state rm), keeping
#    the alias itself, and delete the deployment group.
# 2. Import the alias into rollout_lambda_alias (the import block below).
# 3. Apply: from now on a new version moves through the preset.

import {
  to = rollout_lambda_alias.live
  id = "orders:live"
}

resource "rollout_lambda_alias" "live" {
  function_name = aws_lambda_function.orders.function_name
  alias_name    = "live"
  version       = aws_lambda_function.orders.version

  rollout = {
    preset = "canary_10_percent_5_minutes"
    gates = {
      alarms = [aws_cloudwatch_metric_alarm.orders_errors.alarm_name]
      # CodeDeploy's BeforeAllowTraffic and AfterAllowTraffic hooks. They answer
      # {"status": "Succeeded"} (or "Failed" with a "reason") instead of calling
      # PutLifecycleEventHookExecutionStatus.
      hooks = {
        before_shift = aws_lambda_function.pre_traffic.arn
        after_pause  = aws_lambda_function.post_traffic.arn
      }
    }
  }

  # The preset pauses 5 minutes; leave room for the hooks.
  timeouts = { update = "20m" }
}
