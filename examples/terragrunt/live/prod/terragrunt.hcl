# prod: long bakes and alarms; the timeout fits the pauses and stays under the
# CI platform's job limit. Change attempt to retry a rolled-back candidate.
include "root" {
  path = find_in_parent_folders()
}

terraform {
  source = "../../modules//canary"
}

inputs = {
  listener_arn               = "arn:aws:elasticloadbalancing:eu-west-1:333333333333:listener/app/web-prd/50dc6c495c0c9188/f2f7dc8efc522ab2"
  stable_target_group_arn    = "arn:aws:elasticloadbalancing:eu-west-1:333333333333:targetgroup/web-prd-blue/73e2d6bc24d8a067"
  candidate_target_group_arn = "arn:aws:elasticloadbalancing:eu-west-1:333333333333:targetgroup/web-prd-green/83e2d6bc24d8a068"
  candidate_percent          = 100
  steps                      = [{ percent = 5, pause = "10m" }, { percent = 25, pause = "15m" }, { percent = 50, pause = "15m" }, { percent = 100 }]
  alarms                     = ["web-prd-5xx-rate", "web-prd-p99-latency"]
  attempt                    = "1"
  update_timeout             = "55m"
}
