// Progressive delivery on AWS Application Load Balancers: traffic splits, canaries with gates and automatic rollback, blue/green deployments and rollout alarms
package rollout
