# 90 % of the listener's traffic to blue, 10 % to green.
resource "rollout_traffic_split" "api" {
  listener_arn = aws_lb_listener.https.arn

  target_groups = [
    { arn = aws_lb_target_group.blue.arn, weight = 90 },
    { arn = aws_lb_target_group.green.arn, weight = 10 },
  ]

  # Optional: keep a client on the same target group for five minutes.
  stickiness = { enabled = true, duration_seconds = 300 }

  # Optional: "restore" puts back the listener's previous action on destroy.
  on_destroy = "keep"
}

# A listener another rollout resource owns (its rollout:owner tag) is refused
# at create; adopt = true takes it over deliberately.
resource "rollout_traffic_split" "legacy" {
  listener_arn = aws_lb_listener.legacy.arn
  adopt        = true

  target_groups = [
    { arn = aws_lb_target_group.legacy.arn, weight = 100 },
  ]
}

# The weights of one listener rule instead of the default action.
resource "rollout_traffic_split" "checkout" {
  rule_arn = aws_lb_listener_rule.checkout.arn

  target_groups = [
    { arn = aws_lb_target_group.checkout_v1.arn, weight = 1 },
    { arn = aws_lb_target_group.checkout_v2.arn, weight = 1 },
  ]
}

# A canary: 10 % for 5 minutes, 50 % for 10 minutes, then everything. Gates
# are checked before each step and during each pause; a failed gate rolls
# the listener back by itself. `terraform plan` lists the steps in
# planned_steps before anything moves.
resource "rollout_traffic_split" "web" {
  listener_arn = aws_lb_listener.web.arn

  target_groups = [
    { arn = aws_lb_target_group.web_v1.arn, weight = 0 },
    { arn = aws_lb_target_group.web_v2.arn, weight = 100 },
  ]

  rollout = {
    strategy      = "canary"
    steps         = [{ percent = 10, pause = "5m" }, { percent = 50, pause = "10m" }, { percent = 100 }]
    poll_interval = "15s"
    rollback      = "auto" # immediate for alarms, errors and hooks; gradual for latency

    # After a rollback, the same change is refused until this changes: a
    # rolled-back candidate never ships with the next unrelated apply.
    attempt = "1"

    # A gate whose reads fail 3 times in a row (each gate counts its own)
    # rolls back (the default); true goes on without that gate, as
    # CodeDeploy's ignorePollAlarmFailure.
    ignore_poll_failures = false

    gates = {
      health = { min_healthy_targets = 2, min_healthy_percent = 100, timeout = "5m" }
      alarms = [aws_cloudwatch_metric_alarm.web_5xx.alarm_name]
      # Judged on at least 1000 requests per step, read 90s after each pause
      # so CloudWatch has published the pause's last minute.
      metrics = { max_error_rate_percent = 0.1, max_p99_latency_ms = 500, min_request_count = 1000, delay = "90s" }
      hooks   = { after_pause = aws_lambda_function.smoke_test.arn }
    }
  }

  # The pauses add up to 15 minutes; leave room for gates and hooks.
  timeouts = { update = "30m" }
}

# Linear: 20 % more every 2 minutes.
resource "rollout_traffic_split" "search" {
  listener_arn = aws_lb_listener.search.arn

  target_groups = [
    { arn = aws_lb_target_group.search_blue.arn, weight = 0 },
    { arn = aws_lb_target_group.search_green.arn, weight = 100 },
  ]

  rollout = {
    strategy = "linear"
    linear   = { step_percent = 20, interval = "2m" }
    gates    = { health = {} }
  }
}

# A person looks at the canary before it goes on: the apply stops after 10 %
# (last_rollout.status = "held") and the next plan warns what is still to
# run. Set promote to a new value and apply to go on; without it for 4 hours,
# the next apply rolls back. Every step is published to SNS and EventBridge.
resource "rollout_traffic_split" "checkout_api" {
  listener_arn = aws_lb_listener.checkout_api.arn

  target_groups = [
    { arn = aws_lb_target_group.checkout_api_v1.arn, weight = 0 },
    { arn = aws_lb_target_group.checkout_api_v2.arn, weight = 100 },
  ]

  rollout = {
    strategy            = "canary"
    steps               = [{ percent = 10, pause = "hold" }, { percent = 50, pause = "10m" }, { percent = 100 }]
    promote             = "approved-by-oncall-1"
    hold_timeout        = "4h"
    hold_timeout_action = "rollback"
    gates               = { alarms = [aws_cloudwatch_metric_alarm.checkout_5xx.alarm_name] }
    notifications = {
      sns_topic_arn  = aws_sns_topic.rollouts.arn
      event_bus_name = "default"
    }
  }
}

output "web_rollout" {
  # status: succeeded, rolled_back, held or failed; reason says why.
  value = rollout_traffic_split.web.last_rollout
}

# The listener is managed elsewhere: let this provider own its default action.
resource "aws_lb_listener" "https" {
  load_balancer_arn = aws_lb.main.arn
  port              = 443
  protocol          = "HTTPS"
  certificate_arn   = var.certificate_arn

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.blue.arn
  }

  lifecycle {
    ignore_changes = [default_action]
  }
}

# A listener that ECS's own blue/green deployments shift: observe it. The
# split writes nothing, target_groups is what the listener serves at each
# refresh (ECS's shifts are no diff), and the plan names the deployment in
# progress and its stage.
resource "rollout_traffic_split" "payments" {
  listener_arn  = aws_lb_listener.payments.arn
  manage        = "observe"
  controlled_by = { ecs_service = aws_ecs_service.payments.id }
}

output "payments_deployment" {
  # null, or { system, id, status, stage, started_at } while ECS deploys.
  value = rollout_traffic_split.payments.foreign_deployment
}

# A Network Load Balancer's TCP listener (weighted target groups): the
# metrics gate reads AWS/NetworkELB, new flows as requests and the resets
# targets send as errors.
resource "rollout_traffic_split" "ledger" {
  listener_arn = aws_lb_listener.ledger_tcp.arn
  target_groups = [
    { arn = aws_lb_target_group.ledger_blue.arn, weight = 0 },
    { arn = aws_lb_target_group.ledger_green.arn, weight = 100 },
  ]
  rollout = {
    strategy = "canary"
    steps    = [{ percent = 10, pause = "5m" }, { percent = 100 }]
    gates = {
      health  = { min_healthy_percent = 100 }
      metrics = { max_error_rate_percent = 0.5, min_request_count = 100 }
    }
  }
}
