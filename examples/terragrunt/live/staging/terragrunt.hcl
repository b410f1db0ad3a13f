# staging: the production schedule, shorter pauses, the same alarm gate.
include "root" {
  path = find_in_parent_folders()
}

terraform {
  source = "../../modules//canary"
}

inputs = {
  listener_arn               = "arn:aws:elasticloadbalancing:eu-west-1:222222222222:listener/app/web-stg/50dc6c495c0c9188/f2f7dc8efc522ab2"
  stable_target_group_arn    = "arn:aws:elasticloadbalancing:eu-west-1:222222222222:targetgroup/web-stg-blue/73e2d6bc24d8a067"
  candidate_target_group_arn = "arn:aws:elasticloadbalancing:eu-west-1:222222222222:targetgroup/web-stg-green/83e2d6bc24d8a068"
  candidate_percent          = 100
  steps                      = [{ percent = 10, pause = "2m" }, { percent = 50, pause = "2m" }, { percent = 100 }]
  alarms                     = ["web-stg-5xx-rate"]
}
