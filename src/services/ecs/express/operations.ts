/**
 * ECS Express Mode: Create/Describe/Update/DeleteExpressGatewayService (and DescribeServiceRevisions
 * for the revisions they make). Thin: every resource is made by calling the ordinary ECS, ELBv2 and
 * Application Auto Scaling operations (the same code the API runs), so each is an ordinary Berth
 * resource those APIs show and change. Express Mode owns only its record: what it made, its
 * configurations, the endpoint. A failing step undoes the earlier ones; a deleted service's target
 * group and load balancer go once the ECS service has drained (the sweep below).
 */
import { randomInt } from "node:crypto";
import { ServiceError } from "../../../core/errors.js";
import { arn } from "../../../core/ids.js";
import type { Logger } from "../../../core/logger.js";
import { type Periodic, periodic } from "../../../core/periodic.js";
import type { Clock, TimerClock } from "../../../core/clock.js";
import type { LogsBackend } from "../../../controllers/tasks/logs-backend.js";
import { ecsErrors } from "../../../protocol/generated/errors/ecs.js";
import type { Operations as AasOperations } from "../../../protocol/generated/types/application-autoscaling.js";
import type {
  ECSExpressGatewayService,
  Operations as EcsOperations,
  ServiceRevision,
  Tag,
} from "../../../protocol/generated/types/ecs.js";
import type { Operations as ElbOperations } from "../../../protocol/generated/types/elbv2.js";
import type { Provider, RequestContext } from "../../../protocol/service.js";
import type { Scope } from "../../../core/ids.js";
import type { EcsContext } from "../context.js";
import { type ExpressConfigurationRecord, type ExpressServiceRecord, expressServices } from "./record.js";
import { revisionView } from "./revisions.js";
import {
  EXPRESS_DEFAULTS,
  ExpressInvalid,
  type ExpressSettings,
  PREDEFINED_METRIC,
  checkRoleArn,
  checkServiceName,
  chooseLoadBalancer,
  configurationView,
  endpointOf,
  generatedServiceName,
  loadBalancerName,
  nextPriority,
  securityGroupId,
  settingsOf,
  targetGroupName,
  taskDefinitionChanged,
  taskDefinitionOf,
} from "./spec.js";

/** What Express Mode needs of the services built around ECS (bound late: some are built after ECS). */
export interface ExpressBackends {
  elbv2: () => Provider<ElbOperations> | undefined;
  scaling: () => Provider<AasOperations> | undefined;
  logs?: LogsBackend;
  /** The port of the shared load balancers' listener (AWS: HTTPS 443; Berth: HTTP, default 80). */
  listenerPort: number;
  logger?: Logger;
}

type Handler<I, O> = ((input: I, ctx: RequestContext) => O | Promise<O>) | undefined;

const invalid = ecsErrors.InvalidParameterException;
const SWEEP_MS = 1000;
const MANAGED_TAG = { key: "AmazonECSManaged", value: "true" };
const EXPRESS_TAG = "ecs:express-gateway-service";

/** Runs another service's operation; its errors become ECS's (InvalidParameterException / ServerException). */
async function run<I, O>(service: string, op: string, h: Handler<I, O>, input: I, ctx: RequestContext): Promise<O> {
  if (!h) throw ecsErrors.ServerException(`${service} is not available to ECS Express Mode (${op}).`);
  try {
    return await h(input, ctx);
  } catch (err) {
    if (err instanceof ServiceError && service !== "ECS") {
      const message = `${service} ${op} failed: ${err.code}: ${err.message}`;
      throw err.fault === "Receiver" ? ecsErrors.ServerException(message) : invalid(message);
    }
    throw err;
  }
}

/** Runs a step of an undo: failures are logged, never thrown (the rest of the undo goes on). */
async function quietly(logger: Logger | undefined, what: string, f: () => unknown) {
  try {
    await f();
  } catch (err) {
    logger?.warn({ err: (err as Error).message }, `ECS Express Mode: ${what} failed`);
  }
}

const revisionId = () => String(randomInt(1, 10)) + Array.from({ length: 18 }, () => randomInt(0, 10)).join("");

const resourceLabel = (lbArn: string, tgArn: string) =>
  `${lbArn.slice(lbArn.indexOf(":loadbalancer/") + ":loadbalancer/".length)}/${tgArn.slice(tgArn.indexOf("targetgroup/"))}`;

/** A RequestContext for work Express Mode does on its own (the delete sweep). */
const systemContext = (scope: Scope): RequestContext => ({
  ...scope,
  requestId: "ecs-express-mode",
  principal: {
    accessKeyId: "",
    arn: arn("iam", { ...scope, region: "" }, "role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS"),
  },
});

export function expressOperations(deps: {
  ecs: EcsContext;
  /** ECS's own operations (task definitions, services). */
  api: Provider<EcsOperations>;
  backends?: ExpressBackends;
  clock: Clock | TimerClock;
}) {
  const { ecs, api } = deps;
  const records = expressServices(ecs.store);
  const logger = deps.backends?.logger;
  const elb = () => {
    const p = deps.backends?.elbv2();
    if (!p) throw ecsErrors.UnsupportedFeatureException("ECS Express Mode needs Elastic Load Balancing, which is off.");
    return p;
  };
  const aas = () => {
    const p = deps.backends?.scaling();
    if (!p)
      throw ecsErrors.UnsupportedFeatureException("ECS Express Mode needs Application Auto Scaling, which is off.");
    return p;
  };

  /** The Express record an ARN names (any status), or undefined. */
  const byArn = (scope: Scope, serviceArn: string) => {
    const m = /^arn:aws[a-z-]*:ecs:[^:]+:\d{12}:service\/([^/]+)\/([^/]+)$/.exec(serviceArn);
    if (!m) return undefined;
    return records.get(scope, `${m[1]}/${m[2]}`);
  };

  const ecsService = (scope: Scope, r: ExpressServiceRecord) =>
    ecs.services.get(scope, `${r.cluster}/${r.serviceName}`);

  const statusOf = (scope: Scope, r: ExpressServiceRecord): ExpressServiceRecord["status"] => {
    if (r.status !== "ACTIVE") return r.status;
    return ecsService(scope, r)?.status === "ACTIVE" ? "ACTIVE" : "DRAINING";
  };

  const networkOf = (r: ExpressServiceRecord) => ({
    securityGroups: [r.resources.serviceSecurityGroup],
    subnets: r.resources.subnets,
  });

  const view = (scope: Scope, r: ExpressServiceRecord, include: string[] = ["TAGS"]): ECSExpressGatewayService => {
    const svc = ecsService(scope, r);
    const live = new Set((svc?.deployments ?? []).map((d) => d.taskDefinition));
    // The newest configuration, and each older one whose tasks still run (the newest per task definition).
    const active = r.configurations.filter(
      (c, i) =>
        i === 0 ||
        (live.has(c.taskDefinitionArn) &&
          !r.configurations.slice(0, i).some((n) => n.taskDefinitionArn === c.taskDefinitionArn)),
    );
    const primary = svc?.deployments.find((d) => d.status === "PRIMARY");
    const status = statusOf(scope, r);
    return {
      cluster: r.clusterArn,
      serviceName: r.serviceName,
      serviceArn: r.serviceArn,
      infrastructureRoleArn: r.infrastructureRoleArn,
      status: { statusCode: status, ...(r.statusReason ? { statusReason: r.statusReason } : {}) },
      ...(primary && status !== "INACTIVE"
        ? {
            currentDeployment: arn(
              "ecs",
              scope,
              `service-deployment/${r.cluster}/${r.serviceName}/${primary.id.replace(/^ecs-svc\//, "")}`,
            ),
          }
        : {}),
      activeConfigurations: status === "INACTIVE" ? [] : active.map((c) => configView(r, c)),
      ...(include.includes("TAGS") ? { tags: r.tags } : {}),
      createdAt: r.createdAt,
      updatedAt: r.updatedAt,
    };
  };

  const configView = (r: ExpressServiceRecord, c: ExpressConfigurationRecord) =>
    configurationView(c.settings, {
      serviceRevisionArn: c.serviceRevisionArn,
      endpoint: r.endpoint,
      createdAt: c.createdAt,
      ...networkOf(r),
    });

  /** Removes what a deleted (or failed) service made, once its ECS service has drained. */
  const finish = async (scope: Scope, r: ExpressServiceRecord): Promise<ExpressServiceRecord> => {
    if (r.status !== "DRAINING") return r;
    const svc = ecsService(scope, r);
    if (svc && svc.status !== "INACTIVE") return r;
    const ctx = systemContext(scope);
    const e = elb();
    await run("ELBv2", "DeleteTargetGroup", e.DeleteTargetGroup, { TargetGroupArn: r.resources.targetGroupArn }, ctx);
    const others = records
      .list(scope)
      .some(
        (o) =>
          o.status !== "INACTIVE" &&
          o.serviceArn !== r.serviceArn &&
          o.resources.loadBalancerArn === r.resources.loadBalancerArn,
      );
    if (!others)
      await run(
        "ELBv2",
        "DeleteLoadBalancer",
        e.DeleteLoadBalancer,
        { LoadBalancerArn: r.resources.loadBalancerArn },
        ctx,
      );
    for (const td of r.resources.taskDefinitionArns)
      await quietly(logger, "DeregisterTaskDefinition", () =>
        api.DeregisterTaskDefinition?.({ taskDefinition: td }, ctx),
      );
    const done: ExpressServiceRecord = { ...r, status: "INACTIVE", updatedAt: ecs.clock.now() };
    records.put(scope, done);
    return done;
  };

  /** Express Mode's part of a delete (and of undoing a create past the ECS service): stop routing and scaling, drain. */
  const startDelete = async (ctx: RequestContext, r: ExpressServiceRecord, reason?: string) => {
    const scaling = deps.backends?.scaling();
    const resourceId = `service/${r.cluster}/${r.serviceName}`;
    if (scaling && r.resources.scalingPolicyArn)
      await quietly(logger, "DeleteScalingPolicy", () =>
        scaling.DeleteScalingPolicy?.(
          {
            PolicyName: policyName(r.serviceName),
            ServiceNamespace: "ecs",
            ResourceId: resourceId,
            ScalableDimension: "ecs:service:DesiredCount",
          },
          ctx,
        ),
      );
    if (scaling && r.resources.scalableTargetArn)
      await quietly(logger, "DeregisterScalableTarget", () =>
        scaling.DeregisterScalableTarget?.(
          { ServiceNamespace: "ecs", ResourceId: resourceId, ScalableDimension: "ecs:service:DesiredCount" },
          ctx,
        ),
      );
    await quietly(logger, "DeleteRule", () => elb().DeleteRule?.({ RuleArn: r.resources.ruleArn }, ctx));
    const svc = ecsService(ctx, r);
    if (svc && svc.status === "ACTIVE")
      await run(
        "ECS",
        "DeleteService",
        api.DeleteService,
        { cluster: r.cluster, service: r.serviceName, force: true },
        ctx,
      );
    const draining: ExpressServiceRecord = {
      ...r,
      status: "DRAINING",
      ...(reason ? { statusReason: reason } : {}),
      updatedAt: ecs.clock.now(),
    };
    records.put(ctx, draining);
    return finish(ctx, draining).catch(() => draining);
  };

  const sweep = async () => {
    for (const { scope, doc } of records.listAll())
      if (doc.status === "DRAINING")
        await finish(scope, doc).catch((err) =>
          logger?.warn({ service: doc.serviceArn, err: (err as Error).message }, "ECS Express Mode cleanup"),
        );
  };
  let loop: Periodic | undefined;

  /** The shared load balancer (and its listener) a new service goes on; created when none has room. */
  const sharedLoadBalancer = async (ctx: RequestContext, seed: string, undo: (() => Promise<unknown>)[]) => {
    const e = elb();
    const counts = new Map<string, { arn: string; listenerArn: string; services: number }>();
    for (const o of records.list(ctx)) {
      if (o.status === "INACTIVE") continue;
      const c = counts.get(o.resources.loadBalancerArn) ?? {
        arn: o.resources.loadBalancerArn,
        listenerArn: o.resources.listenerArn,
        services: 0,
      };
      c.services++;
      counts.set(c.arn, c);
    }
    const alive = [...counts.values()].filter((c) => listenerExists(c.listenerArn));
    const chosen = chooseLoadBalancer(alive);
    if (chosen) {
      const c = counts.get(chosen)!;
      const lb = (
        await run("ELBv2", "DescribeLoadBalancers", e.DescribeLoadBalancers, { LoadBalancerArns: [chosen] }, ctx)
      ).LoadBalancers![0];
      return { lb, listenerArn: c.listenerArn };
    }
    const sg = securityGroupId(`lb/${seed}`);
    const created = await run(
      "ELBv2",
      "CreateLoadBalancer",
      e.CreateLoadBalancer,
      {
        Name: loadBalancerName(seed),
        Type: "application",
        Scheme: "internet-facing",
        SecurityGroups: [sg],
        Tags: [
          { Key: MANAGED_TAG.key, Value: MANAGED_TAG.value },
          { Key: EXPRESS_TAG, Value: "shared" },
        ],
      },
      ctx,
    );
    const lb = created.LoadBalancers![0];
    undo.push(() =>
      run("ELBv2", "DeleteLoadBalancer", e.DeleteLoadBalancer, { LoadBalancerArn: lb.LoadBalancerArn! }, ctx),
    );
    const listener = await run(
      "ELBv2",
      "CreateListener",
      e.CreateListener,
      {
        LoadBalancerArn: lb.LoadBalancerArn!,
        Protocol: "HTTP",
        Port: deps.backends!.listenerPort,
        DefaultActions: [
          {
            Type: "fixed-response",
            FixedResponseConfig: { StatusCode: "404", ContentType: "text/plain", MessageBody: "Not Found" },
          },
        ],
      },
      ctx,
    );
    return { lb, listenerArn: listener.Listeners![0].ListenerArn! };
  };
  /** Whether a listener still exists (its load balancer was not deleted by hand). */
  const listenerExists = (listenerArn: string) => ecs.store.backend.byArn(listenerArn) !== undefined;

  const policyName = (serviceName: string) => `${serviceName}-scaling-policy`;

  /** The scalable target and target-tracking policy of a configuration (created or updated). */
  const applyScaling = async (
    ctx: RequestContext,
    r: { cluster: string; serviceName: string },
    settings: ExpressSettings,
    lbArn: string,
    tgArn: string,
  ) => {
    const a = aas();
    const resourceId = `service/${r.cluster}/${r.serviceName}`;
    const target = await run(
      "Application Auto Scaling",
      "RegisterScalableTarget",
      a.RegisterScalableTarget,
      {
        ServiceNamespace: "ecs",
        ResourceId: resourceId,
        ScalableDimension: "ecs:service:DesiredCount",
        MinCapacity: settings.scalingTarget.minTaskCount,
        MaxCapacity: settings.scalingTarget.maxTaskCount,
      },
      ctx,
    );
    const metric = settings.scalingTarget.autoScalingMetric;
    const policy = await run(
      "Application Auto Scaling",
      "PutScalingPolicy",
      a.PutScalingPolicy,
      {
        PolicyName: policyName(r.serviceName),
        ServiceNamespace: "ecs",
        ResourceId: resourceId,
        ScalableDimension: "ecs:service:DesiredCount",
        PolicyType: "TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration: {
          TargetValue: settings.scalingTarget.autoScalingTargetValue,
          PredefinedMetricSpecification: {
            PredefinedMetricType: PREDEFINED_METRIC[metric] as never,
            ...(metric === "REQUEST_COUNT_PER_TARGET" ? { ResourceLabel: resourceLabel(lbArn, tgArn) } : {}),
          },
        },
      },
      ctx,
    );
    return {
      scalableTargetArn: target.ScalableTargetARN,
      scalingPolicyArn: policy.PolicyARN,
      alarmArns: (policy.Alarms ?? []).map((x) => x.AlarmARN),
    };
  };

  const fail = (err: unknown): never => {
    if (err instanceof ExpressInvalid) throw invalid(err.message);
    throw err;
  };

  const activeRecord = (ctx: RequestContext, serviceArn: string) => {
    const r = byArn(ctx, serviceArn);
    if (!r || r.status === "INACTIVE" || !ecsService(ctx, r))
      throw ecsErrors.ServiceNotFoundException(`The Express service ${serviceArn} was not found.`);
    if (statusOf(ctx, r) !== "ACTIVE")
      throw ecsErrors.ServiceNotActiveException(
        `The Express service ${serviceArn} is not ACTIVE; it is being deleted.`,
      );
    return r;
  };

  const operations: Provider<EcsOperations> = {
    CreateExpressGatewayService: async (input, ctx) => {
      let cluster: string;
      let serviceName: string;
      let settings: ExpressSettings;
      try {
        checkRoleArn("infrastructureRoleArn", input.infrastructureRoleArn, true);
        serviceName = input.serviceName ?? generatedServiceName(`${ctx.account}/${ctx.region}/${ctx.requestId}`);
        checkServiceName(serviceName);
        cluster = ecs.clusterName(input.cluster);
        settings = settingsOf(input, { cluster, serviceName });
      } catch (err) {
        return fail(err);
      }
      const clusterRecord = ecs.activeCluster(ctx, cluster); // ClusterNotFoundException; `default` appears on first use
      const previous = records.get(ctx, `${cluster}/${serviceName}`);
      if (previous?.status === "DRAINING" && (await finish(ctx, previous).catch(() => previous)).status === "DRAINING")
        throw invalid(
          `The Express service ${serviceName} in cluster ${cluster} is still being deleted; try again shortly.`,
        );
      const existing = ecs.services.get(ctx, `${cluster}/${serviceName}`);
      if (existing && existing.status !== "INACTIVE")
        throw invalid(
          `A service named ${serviceName} already exists in cluster ${cluster}: creation of service was not idempotent.`,
        );
      const e = elb();
      aas();
      const seed = `${ctx.account}/${ctx.region}/${cluster}/${serviceName}/${ecs.clock.now().getTime()}`;
      const undo: (() => Promise<unknown>)[] = [];
      const now = ecs.clock.now();
      const serviceArn = arn("ecs", ctx, `service/${cluster}/${serviceName}`);
      const endpoint = endpointOf(ctx, cluster, serviceName);
      const tags: Tag[] = input.tags ?? [];
      let createdService = false;
      try {
        // The log group (Express Mode makes it, not the execution role; kept on delete, as logs are),
        // then the task definition, target group, load balancer and rule.
        deps.backends?.logs?.ensureGroup(ctx, settings.primaryContainer.awsLogsConfiguration.logGroup, true);
        const td = (
          await run(
            "ECS",
            "RegisterTaskDefinition",
            api.RegisterTaskDefinition,
            taskDefinitionOf(settings, { serviceName, region: ctx.region, tags }),
            ctx,
          )
        ).taskDefinition!;
        undo.push(async () => api.DeregisterTaskDefinition?.({ taskDefinition: td.taskDefinitionArn! }, ctx));
        const tg = (
          await run(
            "ELBv2",
            "CreateTargetGroup",
            e.CreateTargetGroup,
            {
              Name: targetGroupName(seed),
              Protocol: "HTTP",
              Port: settings.primaryContainer.containerPort,
              TargetType: "ip",
              HealthCheckProtocol: "HTTP",
              HealthCheckPath: settings.healthCheckPath,
              Matcher: { HttpCode: "200" },
              Tags: [
                { Key: MANAGED_TAG.key, Value: MANAGED_TAG.value },
                { Key: EXPRESS_TAG, Value: serviceArn },
              ],
            },
            ctx,
          )
        ).TargetGroups![0];
        undo.push(() =>
          run("ELBv2", "DeleteTargetGroup", e.DeleteTargetGroup, { TargetGroupArn: tg.TargetGroupArn! }, ctx),
        );
        const { lb, listenerArn } = await sharedLoadBalancer(ctx, seed, undo);
        const rules =
          (await run("ELBv2", "DescribeRules", e.DescribeRules, { ListenerArn: listenerArn }, ctx)).Rules ?? [];
        const rule = (
          await run(
            "ELBv2",
            "CreateRule",
            e.CreateRule,
            {
              ListenerArn: listenerArn,
              Priority: nextPriority(rules.filter((x) => !x.IsDefault).map((x) => Number(x.Priority))),
              Conditions: [{ Field: "host-header", HostHeaderConfig: { Values: [endpoint] } }],
              Actions: [{ Type: "forward", TargetGroupArn: tg.TargetGroupArn! }],
              Tags: [{ Key: EXPRESS_TAG, Value: serviceArn }],
            },
            ctx,
          )
        ).Rules![0];
        undo.push(() => run("ELBv2", "DeleteRule", e.DeleteRule, { RuleArn: rule.RuleArn! }, ctx));

        const subnets = settings.networkConfiguration?.subnets?.length
          ? settings.networkConfiguration.subnets
          : (lb.AvailabilityZones ?? []).map((z) => z.SubnetId!).filter(Boolean);
        const serviceSecurityGroup =
          settings.networkConfiguration?.securityGroups?.[0] ?? securityGroupId(`svc/${seed}`);
        const securityGroups = settings.networkConfiguration?.securityGroups?.length
          ? settings.networkConfiguration.securityGroups
          : [serviceSecurityGroup];
        await run(
          "ECS",
          "CreateService",
          api.CreateService,
          {
            cluster,
            serviceName,
            taskDefinition: td.taskDefinitionArn!,
            desiredCount: settings.scalingTarget.minTaskCount,
            launchType: "FARGATE",
            networkConfiguration: { awsvpcConfiguration: { subnets, securityGroups, assignPublicIp: "DISABLED" } },
            loadBalancers: [
              {
                targetGroupArn: tg.TargetGroupArn!,
                containerName: EXPRESS_DEFAULTS.containerName,
                containerPort: settings.primaryContainer.containerPort,
              },
            ],
            deploymentConfiguration: {
              maximumPercent: 200,
              minimumHealthyPercent: 100,
              deploymentCircuitBreaker: { enable: true, rollback: true },
            },
            tags,
            propagateTags: "SERVICE",
            enableECSManagedTags: true,
          },
          ctx,
        );
        createdService = true;
        // The service is ECS-managed (resourceManagementType ECS), as Express Mode's are.
        const svc = ecs.services.get(ctx, `${cluster}/${serviceName}`);
        if (svc) ecs.services.put(ctx, { ...svc, resourceManagementType: "ECS" });

        const record: ExpressServiceRecord = {
          serviceArn,
          serviceName,
          cluster,
          clusterArn: clusterRecord.clusterArn,
          infrastructureRoleArn: input.infrastructureRoleArn,
          status: "ACTIVE",
          endpoint,
          configurations: [
            {
              serviceRevisionArn: arn("ecs", ctx, `service-revision/${cluster}/${serviceName}/${revisionId()}`),
              taskDefinitionArn: td.taskDefinitionArn!,
              settings,
              createdAt: now,
            },
          ],
          resources: {
            loadBalancerArn: lb.LoadBalancerArn!,
            listenerArn,
            ruleArn: rule.RuleArn!,
            targetGroupArn: tg.TargetGroupArn!,
            alarmArns: [],
            serviceSecurityGroup,
            loadBalancerSecurityGroups: lb.SecurityGroups ?? [],
            subnets,
            logGroups: [settings.primaryContainer.awsLogsConfiguration.logGroup],
            taskDefinitionArns: [td.taskDefinitionArn!],
          },
          tags,
          createdAt: now,
          updatedAt: now,
        };
        records.put(ctx, record);
        try {
          const scaling = await applyScaling(ctx, record, settings, lb.LoadBalancerArn!, tg.TargetGroupArn!);
          const withScaling = { ...record, resources: { ...record.resources, ...scaling } };
          records.put(ctx, withScaling);
          return { service: view(ctx, withScaling) };
        } catch (err) {
          // Past the ECS service, undoing is deleting: the same path DeleteExpressGatewayService takes.
          await startDelete(ctx, record, `Creation failed: ${(err as Error).message}`);
          throw err;
        }
      } catch (err) {
        if (!createdService) for (const step of undo.reverse()) await quietly(logger, "undo", step);
        throw err;
      }
    },

    DescribeExpressGatewayService: async (input, ctx) => {
      let r = byArn(ctx, input.serviceArn);
      if (!r) throw ecsErrors.ResourceNotFoundException(`The Express service ${input.serviceArn} was not found.`);
      if (r.status === "DRAINING") r = await finish(ctx, r).catch(() => r!);
      return { service: view(ctx, r, input.include ?? []) };
    },

    UpdateExpressGatewayService: async (input, ctx) => {
      const r = activeRecord(ctx, input.serviceArn);
      const current = r.configurations[0];
      let settings: ExpressSettings;
      try {
        settings = settingsOf(input, { cluster: r.cluster, serviceName: r.serviceName }, current.settings);
      } catch (err) {
        return fail(err);
      }
      const e = elb();
      const svc = ecsService(ctx, r)!;
      let taskDefinitionArn = current.taskDefinitionArn;
      let registered: string | undefined;
      try {
        if (taskDefinitionChanged(current.settings, settings)) {
          deps.backends?.logs?.ensureGroup(ctx, settings.primaryContainer.awsLogsConfiguration.logGroup, true);
          const td = (
            await run(
              "ECS",
              "RegisterTaskDefinition",
              api.RegisterTaskDefinition,
              taskDefinitionOf(settings, { serviceName: r.serviceName, region: ctx.region, tags: r.tags }),
              ctx,
            )
          ).taskDefinition!;
          taskDefinitionArn = registered = td.taskDefinitionArn!;
        }
        if (settings.healthCheckPath !== current.settings.healthCheckPath)
          await run(
            "ELBv2",
            "ModifyTargetGroup",
            e.ModifyTargetGroup,
            { TargetGroupArn: r.resources.targetGroupArn, HealthCheckPath: settings.healthCheckPath },
            ctx,
          );
        const net = settings.networkConfiguration;
        const networkChanged =
          JSON.stringify(net ?? null) !== JSON.stringify(current.settings.networkConfiguration ?? null);
        const subnets = net?.subnets?.length ? net.subnets : r.resources.subnets;
        const securityGroups = net?.securityGroups?.length ? net.securityGroups : [r.resources.serviceSecurityGroup];
        const portChanged = settings.primaryContainer.containerPort !== current.settings.primaryContainer.containerPort;
        const { minTaskCount, maxTaskCount } = settings.scalingTarget;
        const desired = Math.min(Math.max(svc.desiredCount, minTaskCount), maxTaskCount);
        await run(
          "ECS",
          "UpdateService",
          api.UpdateService,
          {
            cluster: r.cluster,
            service: r.serviceName,
            taskDefinition: taskDefinitionArn,
            ...(desired !== svc.desiredCount ? { desiredCount: desired } : {}),
            ...(networkChanged
              ? {
                  networkConfiguration: {
                    awsvpcConfiguration: { subnets, securityGroups, assignPublicIp: "DISABLED" },
                  },
                }
              : {}),
            ...(portChanged
              ? {
                  loadBalancers: [
                    {
                      targetGroupArn: r.resources.targetGroupArn,
                      containerName: EXPRESS_DEFAULTS.containerName,
                      containerPort: settings.primaryContainer.containerPort,
                    },
                  ],
                }
              : {}),
          },
          ctx,
        );
      } catch (err) {
        if (registered) {
          const td = registered;
          await quietly(logger, "undo", () => api.DeregisterTaskDefinition?.({ taskDefinition: td }, ctx));
        }
        throw err;
      }
      const scaling =
        JSON.stringify(settings.scalingTarget) !== JSON.stringify(current.settings.scalingTarget)
          ? await applyScaling(ctx, r, settings, r.resources.loadBalancerArn, r.resources.targetGroupArn)
          : {};
      const now = ecs.clock.now();
      const config: ExpressConfigurationRecord = {
        serviceRevisionArn: arn("ecs", ctx, `service-revision/${r.cluster}/${r.serviceName}/${revisionId()}`),
        taskDefinitionArn,
        settings,
        createdAt: now,
      };
      const updated: ExpressServiceRecord = {
        ...r,
        configurations: [config, ...r.configurations].slice(0, 20),
        resources: {
          ...r.resources,
          ...scaling,
          logGroups: [...new Set([...r.resources.logGroups, settings.primaryContainer.awsLogsConfiguration.logGroup])],
          taskDefinitionArns: registered
            ? [...r.resources.taskDefinitionArns, registered]
            : r.resources.taskDefinitionArns,
        },
        updatedAt: now,
      };
      records.put(ctx, updated);
      return {
        service: {
          serviceArn: r.serviceArn,
          cluster: r.clusterArn,
          serviceName: r.serviceName,
          status: { statusCode: "ACTIVE" },
          targetConfiguration: configView(updated, config),
          createdAt: r.createdAt,
          updatedAt: now,
        },
      };
    },

    DeleteExpressGatewayService: async (input, ctx) => {
      const r = activeRecord(ctx, input.serviceArn);
      const after = await startDelete(ctx, r);
      return { service: view(ctx, after) };
    },

    DescribeServiceRevisions: (input, ctx) => {
      if (!input.serviceRevisionArns?.length) throw invalid("serviceRevisionArns must contain at least one ARN.");
      if (input.serviceRevisionArns.length > 20)
        throw invalid("You can describe up to 20 service revisions per request.");
      const serviceRevisions: ServiceRevision[] = [];
      const failures: { arn: string; reason: string }[] = [];
      for (const revArn of input.serviceRevisionArns) {
        const m = /^arn:aws[a-z-]*:ecs:[^:]+:\d{12}:service-revision\/([^/]+)\/([^/]+)\/\d+$/.exec(revArn);
        const r = m ? records.get(ctx, `${m[1]}/${m[2]}`) : undefined;
        const c = r?.configurations.find((x) => x.serviceRevisionArn === revArn);
        if (!r || !c) {
          failures.push({ arn: revArn, reason: "MISSING" });
          continue;
        }
        serviceRevisions.push(revisionView(ctx, r, c));
      }
      return { serviceRevisions, failures };
    },
  };

  return {
    operations,
    /** Starts the sweep that finishes deletes once their ECS services have drained. */
    start() {
      loop = periodic(sweep, { name: "ECS Express Mode cleanup", everyMs: SWEEP_MS, logger, clock: deps.clock });
      void loop.start();
    },
    stop() {
      loop?.stop();
    },
  };
}
