# By key (under /rollout/flags/) or by parameter name:
terraform import rollout_feature_flag.new_checkout new-checkout
terraform import rollout_feature_flag.new_checkout /rollout/flags/new-checkout
