# What the listener really serves now, whoever set it.
data "rollout_listener_weights" "live" {
  listener_arn = aws_lb_listener.https.arn
}

output "green_share" {
  value = data.rollout_listener_weights.live.percentages[aws_lb_target_group.green.arn]
}
