# The bucket (0 to 99) of a user for a flag: a flag at rollout_percentage P
# is on for the users whose bucket is below P.
output "alice_bucket" {
  value = provider::rollout::flag_bucket("checkout", "alice") # 75
}
