# The 5XX error rate of the green target group, in percent, with metric math
# (100 × HTTPCode_Target_5XX_Count / RequestCount). Fires above 0.1 %.
resource "rollout_alarm" "green_error_rate" {
  name              = "web-green-5xx-rate"
  preset            = "error_rate"
  load_balancer_arn = aws_lb.web.arn
  target_group_arn  = aws_lb_target_group.green.arn
  alarm_actions     = [aws_sns_topic.oncall.arn]
  tags              = { team = "web" }
}

# p99 of TargetResponseTime above 500 ms (the threshold is in milliseconds;
# CloudWatch gets 0.5 seconds and the p99 extended statistic).
resource "rollout_alarm" "green_p99" {
  name              = "web-green-p99"
  preset            = "p99_latency"
  load_balancer_arn = aws_lb.web.arn
  target_group_arn  = aws_lb_target_group.green.arn
  threshold         = 500
}

# The load balancer's own 4XX answers: Sum above 10 over two 5-minute periods.
resource "rollout_alarm" "elb_4xx" {
  name              = "web-elb-4xx"
  preset            = "elb_4xx_count"
  load_balancer_arn = aws_lb.web.arn
}

# A quiet canary: fewer than 1000 requests in 5 minutes (no data counts as
# breaching).
resource "rollout_alarm" "green_traffic" {
  name              = "web-green-low-traffic"
  preset            = "low_traffic"
  load_balancer_arn = aws_lb.web.arn
  target_group_arn  = aws_lb_target_group.green.arn
  threshold         = 1000
}

# Anything else: one metric, or up to 10 metric-math queries.
resource "rollout_alarm" "checkout_failures" {
  name      = "checkout-failure-rate"
  preset    = "custom"
  threshold = 2
  custom = {
    comparison_operator = "GreaterThanOrEqualToThreshold"
    queries = [
      { id = "fails", metric = { namespace = "Shop", name = "CheckoutFailed", stat = "Sum", period = 60 } },
      { id = "total", metric = { namespace = "Shop", name = "CheckoutStarted", stat = "Sum", period = 60 } },
      { id = "rate", expression = "100 * fails / total", label = "checkout failure %", return_data = true },
    ]
  }
}
