import {
  to = rollout_release.v42
  id = "api=arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/api/50dc6c495c0c9188/f2f7dc8efc522ab2,web=arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener-rule/app/web/6d0ecf831eec9f09/9ab28ade35828f96/9683b2d02a6cabee"
}
