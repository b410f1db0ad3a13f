// A canary from blue to green gated by a rollout alarm, and a blue/green
// deployment, with the Node.js SDK of the rollout provider.
import * as pulumi from "@pulumi/pulumi";
import * as rollout from "@rolloutdev/rollout";

const cfg = new pulumi.Config();
const loadBalancerArn = cfg.require("loadBalancerArn");
const listenerArn = cfg.require("listenerArn");
const blueArn = cfg.require("blueTargetGroupArn");
const greenArn = cfg.require("greenTargetGroupArn");
const greenWeight = cfg.getNumber("greenWeight") ?? 100;

const errors = new rollout.Alarm("green-errors", {
    name: "web-green-5xx-rate",
    preset: "error_rate",
    loadBalancerArn,
    targetGroupArn: greenArn,
    threshold: 0.1,
});

const split = new rollout.TrafficSplit("web", {
    listenerArn,
    targetGroups: [
        { arn: blueArn, weight: 100 - greenWeight },
        { arn: greenArn, weight: greenWeight },
    ],
    rollout: {
        strategy: "canary",
        steps: [{ percent: 10, pause: "5m" }, { percent: 50, pause: "10m" }, { percent: 100 }],
        rollback: "auto",
        gates: {
            health: { minHealthyTargets: 2 },
            alarms: [errors.name],
            metrics: { maxErrorRatePercent: 0.1, maxP99LatencyMs: 500, minRequestCount: 1000 },
        },
    },
    timeouts: { update: "30m" },
});

const api = new rollout.DeploymentBlueGreen("api", {
    listenerArn: cfg.require("apiListenerArn"),
    namePrefix: "api",
    vpcId: cfg.require("vpcId"),
    port: 8080,
    protocol: "HTTP",
    targetType: "ip",
    active: "green",
    rollout: { strategy: "linear", linear: { stepPercent: 25, interval: "2m" }, gates: { health: {} } },
});

// Two services released together: checkout only after payments succeeded
// and stabilized; if checkout fails, payments is rolled back too.
const release = new rollout.Release("v42", {
    services: {
        payments: {
            listenerArn: cfg.require("paymentsListenerArn"),
            targetGroups: [{ arn: cfg.require("paymentsBlueArn"), weight: 0 }, { arn: cfg.require("paymentsGreenArn"), weight: 100 }],
            rollout: { preset: "canary_10_percent_5_minutes", gates: { alarms: [errors.name] } },
        },
        checkout: {
            ruleArn: cfg.require("checkoutRuleArn"),
            targetGroups: [{ arn: cfg.require("checkoutBlueArn"), weight: 0 }, { arn: cfg.require("checkoutGreenArn"), weight: 100 }],
        },
    },
    dependencies: [{ service: "checkout", dependsOn: "payments", type: "hard", validationRequired: true }],
    stabilization: { duration: "5m", alarms: [errors.name] },
    onFailure: { stop: true, rollback: "started" },
});

const health = rollout.getTargetHealthOutput({ targetGroupArns: [blueArn, greenArn] });
const alarms = rollout.getAlarmStateOutput({ names: [errors.name] });

export const plannedSteps = split.plannedSteps;
export const lastRollout = split.lastRollout;
export const apiLive: pulumi.Output<string> = api.liveTargetGroupArn;
export const apiHistory = api.history;
export const greenHealthy = health.targetGroups.apply(tgs => tgs[1].healthy);
export const anyInAlarm = alarms.anyInAlarm;
export const releaseWaves = release.plannedWaves;
export const releaseOutcome = release.lastRelease;
