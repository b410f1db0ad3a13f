# The function publishes a version on every code change; the alias moves to
# it as a canary: 10 % of invocations for 5 minutes, then all of them, with
# an alarm on the new version's errors and a smoke test after the pause.
resource "aws_lambda_function" "orders" {
  function_name = "orders"
  role          = aws_iam_role.orders.arn
  runtime       = "provided.al2023"
  handler       = "bootstrap"
  filename      = "build/orders.zip"
  publish       = true
}

resource "rollout_lambda_alias" "live" {
  function_name = aws_lambda_function.orders.function_name
  alias_name    = "live"
  version       = aws_lambda_function.orders.version

  rollout = {
    preset        = "canary_10_percent_5_minutes" # CodeDeploy's LambdaCanary10Percent5Minutes
    poll_interval = "30s"
    gates = {
      alarms  = [aws_cloudwatch_metric_alarm.orders_errors.alarm_name]
      metrics = { max_error_rate_percent = 1, min_request_count = 50 }
      hooks   = { after_pause = aws_lambda_function.smoke_test.arn } # AfterAllowTraffic
    }
  }
}

# Linear, with the rollout's own steps instead of a preset.
resource "rollout_lambda_alias" "payments" {
  function_name = aws_lambda_function.payments.function_name
  alias_name    = "live"
  version       = aws_lambda_function.payments.version

  rollout = {
    strategy = "linear"
    linear   = { step_percent = 25, interval = "2m" }
    rollback = "gradual"
  }
  on_destroy = "keep"
}

# An alias a CodeDeploy deployment group or another stack used to manage:
# adopt it to take its lease (the rollout:owner:live tag on the function).
resource "rollout_lambda_alias" "reports" {
  function_name = aws_lambda_function.reports.function_name
  alias_name    = "live"
  version       = aws_lambda_function.reports.version
  adopt         = true
}

output "orders_routing" {
  # The additional version and its weight while a rollout runs; empty after.
  value = rollout_lambda_alias.live.routing
}
