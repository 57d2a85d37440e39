import { type Scope, arn } from "../../../core/ids.js";
import type { ServiceRevision } from "../../../protocol/generated/types/ecs.js";
import type { ExpressConfigurationRecord, ExpressServiceRecord } from "./record.js";
import { EXPRESS_DEFAULTS, PREDEFINED_METRIC } from "./spec.js";

/** A service revision with the resources Express Mode manages for it (ECSManagedResources). */
export function revisionView(scope: Scope, r: ExpressServiceRecord, c: ExpressConfigurationRecord): ServiceRevision {
  const res = r.resources;
  const gone = r.status === "INACTIVE";
  const st = gone ? ("DELETED" as const) : r.status === "DRAINING" ? ("DEPROVISIONING" as const) : ("ACTIVE" as const);
  const at = r.updatedAt;
  const sgArn = (id: string) => arn("ec2", scope, `security-group/${id}`);
  const s = c.settings;
  return {
    serviceRevisionArn: c.serviceRevisionArn,
    serviceArn: r.serviceArn,
    clusterArn: r.clusterArn,
    taskDefinition: c.taskDefinitionArn,
    launchType: "FARGATE",
    platformVersion: "1.4.0",
    platformFamily: "Linux",
    loadBalancers: [
      {
        targetGroupArn: res.targetGroupArn,
        containerName: EXPRESS_DEFAULTS.containerName,
        containerPort: s.primaryContainer.containerPort,
      },
    ],
    networkConfiguration: {
      awsvpcConfiguration: {
        subnets: s.networkConfiguration?.subnets?.length ? s.networkConfiguration.subnets : res.subnets,
        securityGroups: s.networkConfiguration?.securityGroups?.length
          ? s.networkConfiguration.securityGroups
          : [res.serviceSecurityGroup],
        assignPublicIp: "DISABLED",
      },
    },
    containerImages: [{ containerName: EXPRESS_DEFAULTS.containerName, image: s.primaryContainer.image }],
    createdAt: c.createdAt,
    ecsManagedResources: {
      ingressPaths: [
        {
          accessType: "PUBLIC",
          endpoint: r.endpoint,
          loadBalancer: {
            arn: res.loadBalancerArn,
            status: st,
            updatedAt: at,
            scheme: "internet-facing",
            subnetIds: res.subnets,
            securityGroupIds: res.loadBalancerSecurityGroups,
          },
          loadBalancerSecurityGroups: res.loadBalancerSecurityGroups.map((g) => ({
            arn: sgArn(g),
            status: st,
            updatedAt: at,
          })),
          listener: { arn: res.listenerArn, status: st, updatedAt: at },
          rule: { arn: res.ruleArn, status: st, updatedAt: at },
          targetGroups: [
            {
              arn: res.targetGroupArn,
              status: st,
              updatedAt: at,
              healthCheckPath: s.healthCheckPath,
              healthCheckPort: s.primaryContainer.containerPort,
              port: s.primaryContainer.containerPort,
            },
          ],
        },
      ],
      autoScaling: {
        ...(res.scalableTargetArn
          ? {
              scalableTarget: {
                arn: res.scalableTargetArn,
                status: st,
                updatedAt: at,
                minCapacity: s.scalingTarget.minTaskCount,
                maxCapacity: s.scalingTarget.maxTaskCount,
              },
            }
          : {}),
        applicationAutoScalingPolicies: res.scalingPolicyArn
          ? [
              {
                arn: res.scalingPolicyArn,
                status: st,
                updatedAt: at,
                policyType: "TargetTrackingScaling",
                targetValue: s.scalingTarget.autoScalingTargetValue,
                metric: PREDEFINED_METRIC[s.scalingTarget.autoScalingMetric],
              },
            ]
          : [],
      },
      metricAlarms: res.alarmArns.map((a) => ({ arn: a, status: st, updatedAt: at })),
      serviceSecurityGroups: [{ arn: sgArn(res.serviceSecurityGroup), status: st, updatedAt: at }],
      logGroups: res.logGroups.map((g) => ({
        arn: arn("logs", scope, `log-group:${g}`),
        status: "ACTIVE" as const,
        updatedAt: at,
        logGroupName: g,
      })),
    },
  };
}
