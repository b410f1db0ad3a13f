# Where the web listener's rollout stands, read from AWS (no state file):
# wait until it ends or holds, for at most 45 minutes.
data "rollout_status" "web" {
  listener_arn = rollout_traffic_split.web.listener_arn
  wait = {
    until   = ["succeeded", "rolled_back", "failed", "held"]
    timeout = "45m"
  }
}

output "web_rollout" {
  value = {
    status      = data.rollout_status.web.status
    step        = "${data.rollout_status.web.step}/${data.rollout_status.web.steps}"
    held        = data.rollout_status.web.held
    percentages = data.rollout_status.web.percentages
    owner       = data.rollout_status.web.owner
  }
}
