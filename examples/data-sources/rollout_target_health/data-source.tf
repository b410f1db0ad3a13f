# What a rollout's health gate would see now.
data "rollout_target_health" "web" {
  target_group_arns = [aws_lb_target_group.blue.arn, aws_lb_target_group.green.arn]
}

output "green_healthy" {
  value = data.rollout_target_health.web.target_groups[1].healthy
}
