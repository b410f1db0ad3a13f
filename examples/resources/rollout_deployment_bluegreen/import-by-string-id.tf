import {
  to = rollout_deployment_bluegreen.web
  id = "${aws_lb_listener.https.arn},${var.blue_target_group_arn},${var.green_target_group_arn}"
}
