# The least-privilege policies of an orchestrator, scoped to what its
# detached rollouts move.
data "rollout_orchestrator_policy" "main" {
  name          = "rollouts"
  listener_arns = [aws_lb_listener.https.arn]
  function_arns = [aws_lambda_function.smoke_test.arn]
  # function_role_arn and states_role_arn, when known before the roles are
  # made (built from the account id), scope iam:PassRole to them.
}

resource "aws_iam_role" "orchestrator" {
  name               = "rollout-orchestrator"
  assume_role_policy = data.rollout_orchestrator_policy.main.function_trust_policy
}

resource "aws_iam_role_policy" "orchestrator" {
  role   = aws_iam_role.orchestrator.id
  policy = data.rollout_orchestrator_policy.main.function_policy
}

resource "aws_iam_role" "states" {
  name               = "rollout-states"
  assume_role_policy = data.rollout_orchestrator_policy.main.states_trust_policy
}

resource "aws_iam_role_policy" "states" {
  role   = aws_iam_role.states.id
  policy = data.rollout_orchestrator_policy.main.states_policy
}

# What the credentials Terraform runs with need for the orchestrator and
# detached rollouts.
output "provider_policy" {
  value = data.rollout_orchestrator_policy.main.provider_policy
}
