# An orchestrator is imported by its name (the function's and the state
# machine's).
terraform import rollout_orchestrator.main rollouts
