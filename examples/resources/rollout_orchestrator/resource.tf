# The orchestrator of detached rollouts: a Lambda function built from the
# provider's release and the Step Functions state machine that calls it.
# Take the zip of the provider's own version and architecture from the
# release (listed in its signed SHA256SUMS).
resource "rollout_orchestrator" "main" {
  name              = "rollouts"
  function_role_arn = aws_iam_role.orchestrator.arn
  states_role_arn   = aws_iam_role.states.arn
  architecture      = "arm64"
  code = {
    file = "${path.module}/terraform-provider-rollout_0.1.0_orchestrator_linux_arm64.zip"
  }
}

# A canary whose schedule runs in AWS: apply returns once 10 % is confirmed.
resource "rollout_traffic_split" "checkout" {
  listener_arn = aws_lb_listener.https.arn
  target_groups = [
    { arn = aws_lb_target_group.blue.arn, weight = 0 },
    { arn = aws_lb_target_group.green.arn, weight = 100 },
  ]
  rollout = {
    strategy  = "canary"
    steps     = [{ percent = 10, pause = "10m" }, { percent = 50, pause = "20m" }, { percent = 100 }]
    gates     = { alarms = [rollout_alarm.errors.name] }
    execution = { mode = "detached", orchestrator = rollout_orchestrator.main.arn }
  }
}
