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

# A flag with a long list of users needs Parameter Store's advanced tier
# (8 KB instead of 4 KB); the plan refuses a document that would not fit.
resource "rollout_feature_flag" "beta_testers" {
  key                = "beta-program"
  tier               = "Advanced"
  rollout_percentage = 0
  targeting = {
    included_users = var.beta_testers # a few hundred ids
  }
}

# Taking over a flag another configuration created and still owns: import
# it, and adopt it (its lease moves here; the other owner's next apply is
# refused).
import {
  to = rollout_feature_flag.legacy_banner
  id = "legacy-banner"
}

resource "rollout_feature_flag" "legacy_banner" {
  key                = "legacy-banner"
  rollout_percentage = 100
  adopt              = true
}
