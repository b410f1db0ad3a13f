# By FUNCTION:ALIAS, the function by name or ARN:
terraform import rollout_lambda_alias.live orders:live
terraform import rollout_lambda_alias.live arn:aws:lambda:eu-west-1:123456789012:function:orders:live
