# A literal id works on every engine. An id built from references
# ("${aws_lb_listener.https.arn},${...}") needs Terraform 1.6+ or OpenTofu 1.6+.
import {
  to = rollout_deployment_bluegreen.web
  id = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2,arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web-blue-a1b2/73e2d6bc24d8a067,arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web-green-c3d4/83e2d6bc24d8a068"
}
