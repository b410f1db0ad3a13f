# dev: one fast step, no gates; the canary shape is checked, not the traffic.
include "root" {
  path = find_in_parent_folders()
}

terraform {
  source = "../../modules//canary"
}

inputs = {
  listener_arn               = "arn:aws:elasticloadbalancing:eu-west-1:111111111111:listener/app/web-dev/50dc6c495c0c9188/f2f7dc8efc522ab2"
  stable_target_group_arn    = "arn:aws:elasticloadbalancing:eu-west-1:111111111111:targetgroup/web-dev-blue/73e2d6bc24d8a067"
  candidate_target_group_arn = "arn:aws:elasticloadbalancing:eu-west-1:111111111111:targetgroup/web-dev-green/83e2d6bc24d8a068"
  candidate_percent          = 100
  steps                      = [{ percent = 50, pause = "30s" }, { percent = 100 }]
}
