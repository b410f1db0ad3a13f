// Progressive delivery on AWS Application Load Balancers and Lambda aliases: traffic splits, canaries with gates and automatic rollback, blue/green deployments, Lambda alias deployments, feature flags, multi-service releases and rollout alarms
package rollout
