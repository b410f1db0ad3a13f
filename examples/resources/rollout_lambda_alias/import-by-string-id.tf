import {
  to = rollout_lambda_alias.live
  id = "orders:live"
}
