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

# The weights of one listener rule instead of the default action.
resource "rollout_traffic_split" "checkout" {
  rule_arn = aws_lb_listener_rule.checkout.arn

  target_groups = [
    { arn = aws_lb_target_group.checkout_v1.arn, weight = 1 },
    { arn = aws_lb_target_group.checkout_v2.arn, weight = 1 },
  ]
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
