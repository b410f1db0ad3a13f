# Whether a flag document is on for a user, with the evaluator apps use.
# The context is user_id, environment, and attributes for segment rules.
locals {
  checkout = jsonencode({
    schema_version     = 1
    key                = "checkout"
    enabled            = true
    rollout_percentage = 25
    kill_switch        = false
    environments       = ["prod"]
    targeting = {
      included_users = ["qa-1"]
      segment_rules  = []
    }
  })
}

output "alice_sees_new_checkout" {
  value = provider::rollout::flag_enabled(local.checkout, {
    user_id     = "alice"
    environment = "prod"
    plan        = "pro"
  })
}
