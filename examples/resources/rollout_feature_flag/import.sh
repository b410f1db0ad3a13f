# By key (under /rollout/flags/) or by parameter name:
terraform import rollout_feature_flag.new_checkout new-checkout
terraform import rollout_feature_flag.new_checkout /rollout/flags/new-checkout
# An import takes no lease: if another resource owns the flag, the first
# apply that changes it is refused unless adopt = true.
