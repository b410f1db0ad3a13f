# Another stack reads the flag, for example to size a fleet by its share.
data "rollout_feature_flag" "new_checkout" {
  key = "new-checkout"
}

output "new_checkout_share" {
  value = data.rollout_feature_flag.new_checkout.rollout_percentage
}
