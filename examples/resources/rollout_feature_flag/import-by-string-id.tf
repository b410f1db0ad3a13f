import {
  to = rollout_feature_flag.new_checkout
  id = "new-checkout"
}
