# By the ARN of the listener whose default action splits traffic:
terraform import rollout_traffic_split.api arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2

# Or by the ARN of a listener rule:
terraform import rollout_traffic_split.checkout arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener-rule/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee
