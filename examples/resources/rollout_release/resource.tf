# Three services released together: the API first, then the web front that
# calls it and the payments service, each with its own canary and gates.
# web waits for the API to succeed and stabilize (hard); payments is ordered
# after the API but still goes if the API fails (soft).
resource "rollout_release" "v42" {
  services = {
    api = {
      listener_arn = aws_lb_listener.api.arn
      target_groups = [
        { arn = aws_lb_target_group.api_blue.arn, weight = 0 },
        { arn = aws_lb_target_group.api_green.arn, weight = 100 },
      ]
      rollout = {
        strategy = "canary"
        steps    = [{ percent = 10, pause = "5m" }, { percent = 50, pause = "5m" }, { percent = 100 }]
        gates = {
          health = { min_healthy_percent = 90 }
          alarms = [aws_cloudwatch_metric_alarm.api_5xx.alarm_name]
        }
      }
    }
    web = {
      rule_arn = aws_lb_listener_rule.web.arn
      target_groups = [
        { arn = aws_lb_target_group.web_blue.arn, weight = 0 },
        { arn = aws_lb_target_group.web_green.arn, weight = 100 },
      ]
      rollout = { preset = "linear_10_percent_every_1_minute" }
    }
    payments = {
      listener_arn = aws_lb_listener.payments.arn
      target_groups = [
        { arn = aws_lb_target_group.payments_blue.arn, weight = 0 },
        { arn = aws_lb_target_group.payments_green.arn, weight = 100 },
      ]
      rollout = { preset = "canary_10_percent_5_minutes" }
    }
  }

  dependencies = [
    { service = "web", depends_on = "api", type = "hard", validation_required = true },
    { service = "payments", depends_on = "api", type = "soft" },
  ]

  strategy = "waves" # wave 1: api; wave 2: payments and web, at the same time

  stabilization = {
    duration = "5m"
    health   = { min_healthy_percent = 100 }
    alarms   = [aws_cloudwatch_metric_alarm.api_5xx.alarm_name]
  }

  on_failure = {
    stop     = true     # start nothing new once a service has failed
    rollback = "failed" # or "started": roll back every service this apply moved
  }

  timeouts = {
    update = "45m"
  }
}

output "waves" {
  value = rollout_release.v42.planned_waves # [["api"], ["payments", "web"]]
}
