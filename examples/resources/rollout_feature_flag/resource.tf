# A new checkout, deployed dark: on for the QA team and for pro customers in
# France and Germany, off for everyone else until the percentage grows.
resource "rollout_feature_flag" "new_checkout" {
  key                = "new-checkout"
  rollout_percentage = 0
  environments       = ["prod"]

  targeting = {
    included_users = ["qa-1", "qa-2"]
    segment_rules = [
      { attribute = "plan", operator = "equals", value = "pro" },
      { attribute = "country", operator = "in", value = "FR,DE" },
    ]
  }

  description = "The one-page checkout"
  owner       = "payments-team"
  ticket      = "PAY-1234"
  expires_at  = "2027-03-31T00:00:00Z"
}

# A flag that is on only where new-checkout is on.
resource "rollout_feature_flag" "checkout_upsell" {
  key                = "checkout-upsell"
  rollout_percentage = 25
  dependencies       = [rollout_feature_flag.new_checkout.key]
}

# The kill switch turns a flag off for everyone, whatever else it says.
resource "rollout_feature_flag" "recommendations" {
  key                = "recommendations"
  rollout_percentage = 100
  kill_switch        = false
}
