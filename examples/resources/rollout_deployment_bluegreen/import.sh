# Import by the listener (or rule) ARN, the blue target group ARN and the
# green target group ARN, comma-separated.
terraform import rollout_deployment_bluegreen.web "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2,arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web-blue-1a2b/73e2d6bc24d8a067,arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web-green-3c4d/83e2d6bc24d8a068"
