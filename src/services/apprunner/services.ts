/**
 * App Runner services: Create/Describe/List/Update/Delete/Pause/Resume, StartDeployment,
 * ListOperations. A call checks its input, writes the service with an operation IN_PROGRESS and
 * answers; the work (build, target group, rule, task definition, ECS service) runs after, and
 * the controller (controller.ts) settles the operation from the ECS deployment it rolls out.
 * Every resource made is recorded on the service as it is made, so a failure (or a restart)
 * removes exactly those: nothing is left half-created.
 */
import { createHash, randomBytes, randomUUID } from "node:crypto";
import type { Clock } from "../../core/clock.js";
import { arn, type Scope } from "../../core/ids.js";
import { pageByKey } from "../../core/paginate.js";
import { apprunnerErrors } from "../../protocol/generated/errors/apprunner.js";
import type {
  Operations,
  OperationType,
  Service,
  ServiceSummary,
  SourceConfiguration,
} from "../../protocol/generated/types/apprunner.js";
import type { Provider, RequestContext } from "../../protocol/service.js";
import type {
  AppRunnerCollections,
  AppRunnerServiceRecord,
  AutoScalingConfigurationRecord,
  OperationRecord,
} from "../../store/schema/apprunner.js";
import type { autoScalingConfigurations } from "./autoscaling.js";
import { type Platform, step, systemContext } from "./platform.js";
import {
  APPRUNNER_DEFAULTS,
  AppRunnerInvalid,
  type RunSpec,
  checkEnvironment,
  checkRoleArn,
  healthCheckOf,
  imageRunSpec,
  instanceOf,
  nextPriority,
  portOf,
  resourceNames,
  serviceIdOf,
  serviceUrlOf,
  targetGroupHealthCheck,
  taskDefinitionOf,
} from "./spec.js";

const invalid = apprunnerErrors.InvalidRequestException;
const notFound = apprunnerErrors.ResourceNotFoundException;
const badState = apprunnerErrors.InvalidStateException;
const badToken = () => invalid("The NextToken is not valid: pass the NextToken of the previous response unchanged.");

/** What builds a code repository into an image (source.ts); without it, CodeRepository sources are refused. */
export interface SourceBuilder {
  /** Checks a CodeRepository before anything is made (InvalidRequestException when it is wrong). */
  check(source: NonNullable<SourceConfiguration["CodeRepository"]>): void;
  /** Builds it into an image in Berth's ECR; progress lines go to `log`. Throws with the failing step. */
  build(
    ctx: RequestContext,
    service: AppRunnerServiceRecord,
    log: (line: string) => void,
  ): Promise<{ image: string; run: Omit<RunSpec, "image">; revision?: string }>;
  /** Removes an image it built (the service is deleted). */
  removeImage?(tag: string): Promise<void>;
  /** What the source is now (a commit, a hash of the archive or of the directory's listing); undefined when unreadable. */
  revision?(source: NonNullable<SourceConfiguration["CodeRepository"]>): string | undefined;
}

type AutoScaling = ReturnType<typeof autoScalingConfigurations>;

export function serviceOperations(deps: {
  collections: AppRunnerCollections;
  clock: Clock;
  platform: Platform;
  autoScaling: AutoScaling;
  builder?: SourceBuilder;
}) {
  const { services } = deps.collections;
  const { platform: p, clock } = deps;
  /** Services whose operation's work is running in this process (a restart finds none). */
  const working = new Set<string>();

  const byArn = (ctx: Scope, serviceArn: string): AppRunnerServiceRecord => {
    const found = services.byArn(serviceArn);
    if (!found || found.scope.account !== ctx.account || found.scope.region !== ctx.region)
      throw notFound(`Service ${serviceArn} was not found.`);
    return found.doc;
  };
  const live = (ctx: Scope, serviceArn: string) => {
    const r = byArn(ctx, serviceArn);
    if (r.Status === "DELETED") throw notFound(`Service ${serviceArn} was not found (it is deleted).`);
    return r;
  };
  /** Re-reads a service and applies a change to it (the newest record, so concurrent work is kept). */
  const change = (scope: Scope, serviceId: string, f: (r: AppRunnerServiceRecord) => AppRunnerServiceRecord) => {
    const cur = services.getVersioned(scope, serviceId);
    if (!cur) return undefined;
    const next = { ...f(cur.doc), UpdatedAt: clock.now() };
    services.put(scope, next, { expect: cur.rev });
    return next;
  };

  // --- logs: the service log group gets the steps of each operation --------------------------------

  const serviceLog = (scope: Scope, r: AppRunnerServiceRecord) => (line: string) => {
    const logs = p.backends.logs;
    if (!logs) return;
    const group = resourceNames(r.ServiceName, r.ServiceId).serviceLogGroup;
    try {
      logs.ensureGroup(scope, group, true);
      logs.ensureStream(scope, group, "events");
      logs.append(scope, group, "events", [{ timestamp: clock.now().getTime(), message: line }]);
    } catch {
      // Logging never fails an operation.
    }
  };

  // --- views ---------------------------------------------------------------------------------------

  const asView = (scope: Scope, r: AppRunnerServiceRecord): Service => {
    const asc = deps.collections.autoScaling.byArn(r.AutoScalingConfigurationArn)?.doc;
    return {
      ServiceName: r.ServiceName,
      ServiceId: r.ServiceId,
      ServiceArn: r.ServiceArn,
      ServiceUrl: r.ServiceUrl,
      CreatedAt: r.CreatedAt,
      UpdatedAt: r.UpdatedAt,
      ...(r.DeletedAt ? { DeletedAt: r.DeletedAt } : {}),
      Status: r.Status,
      SourceConfiguration: r.SourceConfiguration,
      InstanceConfiguration: r.InstanceConfiguration,
      ...(r.KmsKey ? { EncryptionConfiguration: { KmsKey: r.KmsKey } } : {}),
      HealthCheckConfiguration: r.HealthCheckConfiguration,
      AutoScalingConfigurationSummary: asc
        ? deps.autoScaling.summary(scope, asc)
        : { AutoScalingConfigurationArn: r.AutoScalingConfigurationArn },
      NetworkConfiguration: r.NetworkConfiguration,
      ...(r.ObservabilityConfiguration ? { ObservabilityConfiguration: r.ObservabilityConfiguration } : {}),
    };
  };
  const summaryOf = (r: AppRunnerServiceRecord): ServiceSummary => ({
    ServiceName: r.ServiceName,
    ServiceId: r.ServiceId,
    ServiceArn: r.ServiceArn,
    ServiceUrl: r.ServiceUrl,
    CreatedAt: r.CreatedAt,
    UpdatedAt: r.UpdatedAt,
    Status: r.Status,
  });

  // --- checks --------------------------------------------------------------------------------------

  const fail = (err: unknown): never => {
    if (err instanceof AppRunnerInvalid) throw invalid(err.message);
    throw err;
  };

  /** A SourceConfiguration checked (exactly one source; its settings); returns it with AutoDeploymentsEnabled filled in. */
  const checkSource = (source: SourceConfiguration): SourceConfiguration => {
    const image = source.ImageRepository;
    const code = source.CodeRepository;
    if (!image && !code)
      throw new AppRunnerInvalid("SourceConfiguration needs an ImageRepository or a CodeRepository.");
    if (image && code)
      throw new AppRunnerInvalid("SourceConfiguration takes an ImageRepository or a CodeRepository, not both.");
    if (source.AuthenticationConfiguration?.AccessRoleArn)
      checkRoleArn("AuthenticationConfiguration.AccessRoleArn", source.AuthenticationConfiguration.AccessRoleArn);
    if (image) {
      if (!image.ImageIdentifier?.trim()) throw new AppRunnerInvalid("ImageRepository.ImageIdentifier is empty.");
      portOf(image.ImageConfiguration);
      checkEnvironment(
        image.ImageConfiguration?.RuntimeEnvironmentVariables,
        "ImageConfiguration.RuntimeEnvironmentVariables",
      );
      if (image.ImageRepositoryType === "ECR_PUBLIC" && source.AutoDeploymentsEnabled)
        throw new AppRunnerInvalid("AutoDeploymentsEnabled is not supported for ECR_PUBLIC images.");
      return {
        ...source,
        AutoDeploymentsEnabled: source.AutoDeploymentsEnabled ?? image.ImageRepositoryType === "ECR",
      };
    }
    if (!deps.builder) throw new AppRunnerInvalid("CodeRepository sources are not available in this Berth.");
    const values = code!.CodeConfiguration?.CodeConfigurationValues;
    if (code!.CodeConfiguration?.ConfigurationSource === "API" && !values)
      throw new AppRunnerInvalid("CodeConfiguration with ConfigurationSource API needs CodeConfigurationValues.");
    if (values) {
      portOf(values);
      checkEnvironment(values.RuntimeEnvironmentVariables, "CodeConfigurationValues.RuntimeEnvironmentVariables");
    }
    try {
      deps.builder.check(code!);
    } catch (err) {
      if (err instanceof Error && !(err instanceof AppRunnerInvalid) && !("code" in err))
        throw new AppRunnerInvalid(err.message);
      throw err;
    }
    return { ...source, AutoDeploymentsEnabled: source.AutoDeploymentsEnabled ?? true };
  };

  /** An ECR image source must name an image that is there (InvalidRequestException before anything is made). */
  const checkImageExists = async (ctx: RequestContext, source: SourceConfiguration) => {
    const image = source.ImageRepository;
    if (image?.ImageRepositoryType === "ECR") await p.resolveImage(ctx, image.ImageIdentifier);
  };

  const autoScalingFor = (ctx: Scope, value: string | undefined): AutoScalingConfigurationRecord => {
    if (value === undefined) return deps.autoScaling.defaultConfiguration(ctx);
    try {
      return deps.autoScaling.resolve(ctx, value);
    } catch (err) {
      if (err instanceof Error && "code" in err && err.code === "ResourceNotFoundException")
        throw invalid(`AutoScalingConfigurationArn ${value} does not name an active auto scaling configuration.`);
      throw err;
    }
  };

  const checkNetwork = (ctx: Scope, net: AppRunnerServiceRecord["NetworkConfiguration"] | undefined) => {
    const egress = net?.EgressConfiguration;
    if (egress?.EgressType === "VPC") {
      if (!egress.VpcConnectorArn) throw invalid("EgressConfiguration with EgressType VPC needs a VpcConnectorArn.");
      const c = deps.collections.vpcConnectors.byArn(egress.VpcConnectorArn);
      if (!c || c.scope.account !== ctx.account || c.doc.Status !== "ACTIVE")
        throw invalid(`VpcConnectorArn ${egress.VpcConnectorArn} does not name an active VPC connector.`);
    }
    return {
      EgressConfiguration: {
        EgressType: egress?.EgressType ?? "DEFAULT",
        ...(egress?.VpcConnectorArn ? { VpcConnectorArn: egress.VpcConnectorArn } : {}),
      },
      IngressConfiguration: { IsPubliclyAccessible: net?.IngressConfiguration?.IsPubliclyAccessible ?? true },
      IpAddressType: net?.IpAddressType ?? "IPV4",
    } as AppRunnerServiceRecord["NetworkConfiguration"];
  };

  // --- operations' work ----------------------------------------------------------------------------

  const newOperation = (type: OperationType): OperationRecord => {
    const now = clock.now();
    return { id: randomUUID(), type, status: "IN_PROGRESS", startedAt: now, updatedAt: now };
  };

  /** Marks the service's current operation done and sets the service's status. */
  const settle = (
    scope: Scope,
    serviceId: string,
    status: OperationRecord["status"],
    serviceStatus: AppRunnerServiceRecord["Status"],
    reason?: string,
  ) =>
    change(scope, serviceId, (r) => {
      const now = clock.now();
      const [op, ...rest] = r.operations;
      serviceLog(
        scope,
        r,
      )(
        `[AppRunner] ${op?.type ?? "Operation"} ${status === "SUCCEEDED" ? "succeeded" : status.toLowerCase().replace(/_/g, " ")}${reason ? `: ${reason}` : "."}`,
      );
      return {
        ...r,
        Status: serviceStatus,
        ...(reason !== undefined
          ? { statusReason: reason }
          : status === "SUCCEEDED"
            ? { statusReason: undefined }
            : {}),
        operations: op ? [{ ...op, status, endedAt: now, updatedAt: now }, ...rest] : rest,
      };
    });

  /** What a deployment runs: the image (resolved to a digest, or built from source) and its settings. */
  const runSpecOf = async (ctx: RequestContext, r: AppRunnerServiceRecord): Promise<RunSpec & { digest?: string }> => {
    const image = r.SourceConfiguration.ImageRepository;
    if (image) {
      const resolved =
        image.ImageRepositoryType === "ECR_PUBLIC"
          ? { image: image.ImageIdentifier }
          : await p.resolveImage(ctx, image.ImageIdentifier);
      return {
        ...imageRunSpec(resolved.image, image.ImageConfiguration),
        digest: (resolved as { digest?: string }).digest,
      };
    }
    const built = await deps.builder!.build(ctx, r, serviceLog(ctx, r));
    change(ctx, r.ServiceId, (x) => ({
      ...x,
      builtImages: [...(x.builtImages ?? []), built.image],
      ...(built.revision ? { sourceRevision: built.revision } : {}),
    }));
    return { ...built.run, image: built.image };
  };

  const registerTaskDefinition = async (
    ctx: RequestContext,
    r: AppRunnerServiceRecord,
    run: RunSpec,
    executionRoleArn: string,
  ) => {
    const td = (
      await step(
        "ECS",
        "RegisterTaskDefinition",
        p.ecs().RegisterTaskDefinition,
        taskDefinitionOf(run, {
          serviceName: r.ServiceName,
          serviceId: r.ServiceId,
          region: ctx.region,
          cpu: r.InstanceConfiguration.Cpu,
          memory: r.InstanceConfiguration.Memory,
          executionRoleArn,
          ...(r.InstanceConfiguration.InstanceRoleArn ? { taskRoleArn: r.InstanceConfiguration.InstanceRoleArn } : {}),
        }),
        ctx,
      )
    ).taskDefinition!;
    return td.taskDefinitionArn!;
  };

  /** CreateService's work: foundation, image, target group, rule, task definition, ECS service. */
  const provision = async (scope: Scope, serviceId: string) => {
    const ctx = systemContext(scope);
    let r = services.get(scope, serviceId)!;
    const log = serviceLog(scope, r);
    const names = resourceNames(r.ServiceName, r.ServiceId);
    log(`[AppRunner] Service creation started: ${r.ServiceArn}.`);
    p.backends.logs?.ensureGroup(scope, names.applicationLogGroup, true);
    const base = await p.foundation(ctx);
    r = change(scope, serviceId, (x) => ({
      ...x,
      resources: { ...x.resources, loadBalancerArn: base.loadBalancerArn, listenerArn: base.listenerArn },
    }))!;
    const run = await runSpecOf(ctx, r);
    log(`[AppRunner] Image ${run.image} on port ${run.port}.`);
    const e = p.elb();
    const tg = (
      await step(
        "ELBv2",
        "CreateTargetGroup",
        e.CreateTargetGroup,
        {
          Name: names.targetGroup,
          Protocol: "HTTP",
          Port: run.port,
          TargetType: "ip",
          ...targetGroupHealthCheck(r.HealthCheckConfiguration),
          Tags: [{ Key: "apprunner:service", Value: r.ServiceArn }],
        },
        ctx,
      )
    ).TargetGroups![0];
    r = change(scope, serviceId, (x) => ({ ...x, resources: { ...x.resources, targetGroupArn: tg.TargetGroupArn! } }))!;
    // Instances leave quickly on a new deployment (App Runner drains in seconds, not ELBv2's 300).
    await step(
      "ELBv2",
      "ModifyTargetGroupAttributes",
      e.ModifyTargetGroupAttributes,
      { TargetGroupArn: tg.TargetGroupArn!, Attributes: [{ Key: "deregistration_delay.timeout_seconds", Value: "5" }] },
      ctx,
    );
    const rules =
      (await step("ELBv2", "DescribeRules", e.DescribeRules, { ListenerArn: base.listenerArn }, ctx)).Rules ?? [];
    const rule = (
      await step(
        "ELBv2",
        "CreateRule",
        e.CreateRule,
        {
          ListenerArn: base.listenerArn,
          Priority: nextPriority(rules.filter((x) => !x.IsDefault).map((x) => Number(x.Priority))),
          Conditions: [{ Field: "host-header", HostHeaderConfig: { Values: [r.ServiceUrl] } }],
          Actions: [{ Type: "forward", TargetGroupArn: tg.TargetGroupArn! }],
          Tags: [{ Key: "apprunner:service", Value: r.ServiceArn }],
        },
        ctx,
      )
    ).Rules![0];
    r = change(scope, serviceId, (x) => ({ ...x, resources: { ...x.resources, ruleArn: rule.RuleArn! } }))!;
    const td = await registerTaskDefinition(ctx, r, run, base.executionRoleArn);
    r = change(scope, serviceId, (x) => ({
      ...x,
      image: run.image,
      ...(run.digest ? { imageDigest: run.digest } : {}),
      resources: { ...x.resources, taskDefinitionArns: [...x.resources.taskDefinitionArns, td] },
    }))!;
    const created = await step(
      "ECS",
      "CreateService",
      p.ecs().CreateService,
      {
        cluster: APPRUNNER_DEFAULTS.cluster,
        serviceName: names.ecsService,
        taskDefinition: td,
        desiredCount: r.desiredInstances,
        launchType: "FARGATE",
        networkConfiguration: {
          awsvpcConfiguration: {
            subnets: base.subnets,
            securityGroups: base.securityGroups,
            assignPublicIp: "DISABLED",
          },
        },
        loadBalancers: [
          {
            targetGroupArn: tg.TargetGroupArn!,
            containerName: APPRUNNER_DEFAULTS.containerName,
            containerPort: run.port,
          },
        ],
        deploymentConfiguration: {
          maximumPercent: 200,
          minimumHealthyPercent: 100,
          deploymentCircuitBreaker: { enable: true, rollback: true },
        },
        tags: [{ key: "apprunner:service", value: r.ServiceArn }],
      },
      ctx,
    );
    const deploymentId = created.service?.deployments?.find((d) => d.status === "PRIMARY")?.id;
    change(scope, serviceId, (x) => ({
      ...x,
      resources: { ...x.resources, ecsService: true },
      operations: x.operations.map((o, i) => (i === 0 ? { ...o, deploymentId } : o)),
    }));
    log(`[AppRunner] Deployment started: ECS service ${names.ecsService} in cluster ${APPRUNNER_DEFAULTS.cluster}.`);
  };

  /** A new deployment of the service as it is now (UpdateService, StartDeployment, an ECR push). */
  const redeploy = async (scope: Scope, serviceId: string, previousPort?: number) => {
    const ctx = systemContext(scope);
    let r = services.get(scope, serviceId)!;
    const log = serviceLog(scope, r);
    const base = await p.foundation(ctx);
    const run = await runSpecOf(ctx, r);
    log(`[AppRunner] Deploying image ${run.image}.`);
    const td = await registerTaskDefinition(ctx, r, run, base.executionRoleArn);
    r = change(scope, serviceId, (x) => ({
      ...x,
      image: run.image,
      ...(run.digest ? { imageDigest: run.digest } : {}),
      resources: { ...x.resources, taskDefinitionArns: [...x.resources.taskDefinitionArns, td] },
    }))!;
    const updated = await step(
      "ECS",
      "UpdateService",
      p.ecs().UpdateService,
      {
        cluster: APPRUNNER_DEFAULTS.cluster,
        service: r.resources.ecsServiceName,
        taskDefinition: td,
        forceNewDeployment: true,
        ...(previousPort !== undefined && previousPort !== run.port
          ? {
              loadBalancers: [
                {
                  targetGroupArn: r.resources.targetGroupArn!,
                  containerName: APPRUNNER_DEFAULTS.containerName,
                  containerPort: run.port,
                },
              ],
            }
          : {}),
      },
      ctx,
    );
    const deploymentId = updated.service?.deployments?.find((d) => d.status === "PRIMARY")?.id;
    change(scope, serviceId, (x) => ({
      ...x,
      operations: x.operations.map((o, i) => (i === 0 ? { ...o, deploymentId } : o)),
    }));
  };

  /** Removes what a service made, in reverse; the ECS service drains first (finishDelete ends it). */
  const teardown = async (scope: Scope, serviceId: string) => {
    const ctx = systemContext(scope);
    const r = services.get(scope, serviceId);
    if (!r) return;
    const e = p.backends.elbv2();
    if (r.resources.ruleArn && e)
      await p.quietly("DeleteRule", () => e.DeleteRule?.({ RuleArn: r.resources.ruleArn! }, ctx));
    if (r.resources.ecsService)
      await p.quietly("DeleteService", () =>
        p
          .ecs()
          .DeleteService?.(
            { cluster: APPRUNNER_DEFAULTS.cluster, service: r.resources.ecsServiceName, force: true },
            ctx,
          ),
      );
    change(scope, serviceId, (x) => ({ ...x, resources: { ...x.resources, ruleArn: undefined } }));
  };

  /** Once the ECS service has no tasks: the target group and task definitions go. Returns whether all is gone. */
  const finishTeardown = async (scope: Scope, serviceId: string): Promise<boolean> => {
    const ctx = systemContext(scope);
    const r = services.get(scope, serviceId);
    if (!r) return true;
    if (r.resources.ecsService) {
      const svc = p.backends.ecsService(scope, APPRUNNER_DEFAULTS.cluster, r.resources.ecsServiceName);
      if (svc && svc.status !== "INACTIVE") return false;
      if (p.backends.liveTasks(scope, APPRUNNER_DEFAULTS.cluster, r.resources.ecsServiceName) > 0) return false;
    }
    const e = p.backends.elbv2();
    if (r.resources.targetGroupArn && e)
      await p.quietly("DeleteTargetGroup", () =>
        e.DeleteTargetGroup?.({ TargetGroupArn: r.resources.targetGroupArn! }, ctx),
      );
    for (const td of r.resources.taskDefinitionArns)
      await p.quietly("DeregisterTaskDefinition", () =>
        p.ecs().DeregisterTaskDefinition?.({ taskDefinition: td }, ctx),
      );
    change(scope, serviceId, (x) => ({
      ...x,
      resources: {
        ...x.resources,
        ecsService: false,
        targetGroupArn: undefined,
        ruleArn: undefined,
        taskDefinitionArns: [],
      },
    }));
    return true;
  };

  /** Runs an operation's work after the call has answered; a failure settles it with the reason. */
  const background = (
    scope: Scope,
    serviceId: string,
    work: () => Promise<void>,
    onFailure: (reason: string) => Promise<void>,
  ) => {
    working.add(serviceId);
    void work()
      .catch(async (err) => {
        const reason = (err as Error).message;
        serviceLog(scope, services.get(scope, serviceId)!)(`[AppRunner] Failed: ${reason}`);
        await onFailure(reason).catch(() => undefined);
      })
      .finally(() => working.delete(serviceId));
  };

  /** A failed create: remove what was made, then CREATE_FAILED with the reason. */
  const createFailed = async (scope: Scope, serviceId: string, reason: string) => {
    // The ECS service (if any) drains; the controller finishes the teardown of CREATE_FAILED services.
    await teardown(scope, serviceId);
    await finishTeardown(scope, serviceId);
    settle(scope, serviceId, "FAILED", "CREATE_FAILED", reason);
  };

  // --- custom domains: more Host values on the service's rule ------------------------------------

  const hostsOf = (r: AppRunnerServiceRecord, domains: NonNullable<AppRunnerServiceRecord["customDomains"]>) => [
    r.ServiceUrl,
    ...domains.flatMap((d) =>
      d.EnableWWWSubdomain && !d.DomainName.startsWith("*.") && !d.DomainName.startsWith("www.")
        ? [d.DomainName, `www.${d.DomainName}`]
        : [d.DomainName],
    ),
  ];
  const routeDomains = async (
    ctx: RequestContext,
    r: AppRunnerServiceRecord,
    domains: NonNullable<AppRunnerServiceRecord["customDomains"]>,
  ) => {
    const hosts = hostsOf(r, domains);
    if (hosts.length > 5)
      throw apprunnerErrors.ServiceQuotaExceededException(
        `A service takes up to 5 host names in Berth (its URL and its domains, www. included); it would have ${hosts.length}.`,
      );
    if (!r.resources.ruleArn) return;
    await step(
      "ELBv2",
      "ModifyRule",
      p.elb().ModifyRule,
      { RuleArn: r.resources.ruleArn, Conditions: [{ Field: "host-header", HostHeaderConfig: { Values: hosts } }] },
      systemContext(ctx),
    );
  };
  const domainView = (d: NonNullable<AppRunnerServiceRecord["customDomains"]>[number]) => {
    const token = createHash("sha256").update(d.DomainName).digest("hex");
    return {
      DomainName: d.DomainName,
      EnableWWWSubdomain: d.EnableWWWSubdomain,
      Status: d.Status as "ACTIVE",
      CertificateValidationRecords: [
        {
          Name: `_${token.slice(0, 32)}.${d.DomainName.replace(/^\*\./, "")}.`,
          Type: "CNAME",
          Value: `_${token.slice(32)}.acm-validations.aws.`,
          Status: "SUCCESS" as const,
        },
      ],
    };
  };

  // --- the API -------------------------------------------------------------------------------------

  const startOperation = (ctx: Scope, r: AppRunnerServiceRecord, type: OperationType) => {
    if (r.Status === "OPERATION_IN_PROGRESS" || working.has(r.ServiceId))
      throw badState(`Service ${r.ServiceArn} has an operation in progress; wait for it to finish (ListOperations).`);
    const op = newOperation(type);
    const next = change(ctx, r.ServiceId, (x) => ({
      ...x,
      Status: "OPERATION_IN_PROGRESS",
      operations: [op, ...x.operations].slice(0, 50),
    }))!;
    return { op, next };
  };

  const operations: Provider<Operations> = {
    CreateService: async (input, ctx) => {
      let record: AppRunnerServiceRecord;
      try {
        if (!/^[A-Za-z0-9][A-Za-z0-9-_]{3,39}$/.test(input.ServiceName))
          throw new AppRunnerInvalid(
            `ServiceName '${input.ServiceName}' is not valid: 4 to 40 letters, digits, hyphens and underscores, starting with a letter or digit.`,
          );
        const source = checkSource(input.SourceConfiguration);
        await checkImageExists(ctx, source);
        const instance = instanceOf(input.InstanceConfiguration);
        const health = healthCheckOf(input.HealthCheckConfiguration);
        const network = checkNetwork(ctx, input.NetworkConfiguration);
        const asc = autoScalingFor(ctx, input.AutoScalingConfigurationArn);
        if (services.list(ctx).some((s) => s.ServiceName === input.ServiceName && s.Status !== "DELETED"))
          throw new AppRunnerInvalid(`Service with the provided name already exists: ${input.ServiceName}`);
        const seed = `${ctx.account}/${ctx.region}/${input.ServiceName}/${randomBytes(8).toString("hex")}`;
        const id = serviceIdOf(seed);
        const now = clock.now();
        const op = newOperation("CREATE_SERVICE");
        record = {
          ServiceName: input.ServiceName,
          ServiceId: id,
          ServiceArn: arn("apprunner", ctx, `service/${input.ServiceName}/${id}`),
          ServiceUrl: serviceUrlOf(ctx.region, seed),
          Status: "OPERATION_IN_PROGRESS",
          CreatedAt: now,
          UpdatedAt: now,
          SourceConfiguration: source,
          InstanceConfiguration: instance,
          HealthCheckConfiguration: health,
          AutoScalingConfigurationArn: asc.AutoScalingConfigurationArn,
          NetworkConfiguration: network,
          ...(input.ObservabilityConfiguration ? { ObservabilityConfiguration: input.ObservabilityConfiguration } : {}),
          ...(input.EncryptionConfiguration?.KmsKey ? { KmsKey: input.EncryptionConfiguration.KmsKey } : {}),
          resources: {
            cluster: APPRUNNER_DEFAULTS.cluster,
            ecsServiceName: resourceNames(input.ServiceName, id).ecsService,
            loadBalancerArn: "",
            listenerArn: "",
            taskDefinitionArns: [],
            ecsService: false,
          },
          operations: [op],
          desiredInstances: asc.MinSize,
          Tags: input.Tags ?? [],
        };
      } catch (err) {
        return fail(err);
      }
      services.put(ctx, record, { expect: 0 });
      const scope = { account: ctx.account, region: ctx.region };
      background(
        scope,
        record.ServiceId,
        () => provision(scope, record.ServiceId),
        (reason) => createFailed(scope, record.ServiceId, reason),
      );
      return { Service: asView(ctx, record), OperationId: record.operations[0].id };
    },

    DescribeService: (input, ctx) => ({ Service: asView(ctx, byArn(ctx, input.ServiceArn)) }),

    ListServices: (input, ctx) => {
      const items = services.list(ctx).filter((s) => s.Status !== "DELETED");
      const { page, nextToken } = pageByKey(items, (s) => [s.ServiceName, s.ServiceId], {
        nextToken: input.NextToken,
        limit: input.MaxResults ?? 20,
        invalidToken: badToken,
      });
      return { ServiceSummaryList: page.map(summaryOf), ...(nextToken ? { NextToken: nextToken } : {}) };
    },

    UpdateService: async (input, ctx) => {
      const r = live(ctx, input.ServiceArn);
      if (r.Status !== "RUNNING")
        throw badState(`Service ${r.ServiceArn} is ${r.Status}; only a RUNNING service can be updated.`);
      let next: AppRunnerServiceRecord;
      let deploys = false;
      try {
        const source = input.SourceConfiguration ? checkSource(input.SourceConfiguration) : r.SourceConfiguration;
        if (input.SourceConfiguration) await checkImageExists(ctx, source);
        if (!!source.ImageRepository !== !!r.SourceConfiguration.ImageRepository)
          throw new AppRunnerInvalid("UpdateService cannot change a service's source type (image ↔ code repository).");
        const instance = instanceOf(input.InstanceConfiguration, r.InstanceConfiguration);
        const health = healthCheckOf(input.HealthCheckConfiguration, r.HealthCheckConfiguration);
        const network = input.NetworkConfiguration
          ? checkNetwork(ctx, input.NetworkConfiguration)
          : r.NetworkConfiguration;
        const asc = input.AutoScalingConfigurationArn
          ? autoScalingFor(ctx, input.AutoScalingConfigurationArn)
          : deps.collections.autoScaling.byArn(r.AutoScalingConfigurationArn)?.doc;
        deploys =
          JSON.stringify(source) !== JSON.stringify(r.SourceConfiguration) ||
          JSON.stringify(instance) !== JSON.stringify(r.InstanceConfiguration);
        next = {
          ...r,
          SourceConfiguration: source,
          InstanceConfiguration: instance,
          HealthCheckConfiguration: health,
          NetworkConfiguration: network,
          ...(asc ? { AutoScalingConfigurationArn: asc.AutoScalingConfigurationArn } : {}),
          ...(input.ObservabilityConfiguration ? { ObservabilityConfiguration: input.ObservabilityConfiguration } : {}),
        };
      } catch (err) {
        return fail(err);
      }
      const previousPort = portOfSource(r.SourceConfiguration);
      const healthChanged =
        JSON.stringify(next.HealthCheckConfiguration) !== JSON.stringify(r.HealthCheckConfiguration);
      const { op } = startOperation(ctx, r, "UPDATE_SERVICE");
      const saved = change(ctx, r.ServiceId, (x) => ({
        ...next,
        Status: x.Status,
        operations: x.operations,
        resources: x.resources,
      }))!;
      const scope = { account: ctx.account, region: ctx.region };
      background(
        scope,
        r.ServiceId,
        async () => {
          if (healthChanged && saved.resources.targetGroupArn) {
            const { Matcher, ...hc } = targetGroupHealthCheck(saved.HealthCheckConfiguration);
            await step(
              "ELBv2",
              "ModifyTargetGroup",
              p.elb().ModifyTargetGroup,
              { TargetGroupArn: saved.resources.targetGroupArn, ...hc, Matcher },
              systemContext(scope),
            );
          }
          if (deploys) await redeploy(scope, r.ServiceId, previousPort);
          else settle(scope, r.ServiceId, "SUCCEEDED", "RUNNING");
        },
        async (reason) => {
          // Nothing was rolled out: the service keeps running what it ran, with its old settings.
          change(scope, r.ServiceId, (x) => ({
            ...x,
            SourceConfiguration: r.SourceConfiguration,
            InstanceConfiguration: r.InstanceConfiguration,
            HealthCheckConfiguration: r.HealthCheckConfiguration,
          }));
          settle(scope, r.ServiceId, "FAILED", "RUNNING", reason);
        },
      );
      return { Service: asView(ctx, saved), OperationId: op.id };
    },

    StartDeployment: (input, ctx) => {
      const r = live(ctx, input.ServiceArn);
      if (r.Status !== "RUNNING")
        throw badState(`Service ${r.ServiceArn} is ${r.Status}; only a RUNNING service can deploy.`);
      const { op } = startOperation(ctx, r, "START_DEPLOYMENT");
      const scope = { account: ctx.account, region: ctx.region };
      background(
        scope,
        r.ServiceId,
        () => redeploy(scope, r.ServiceId),
        async (reason) => {
          settle(scope, r.ServiceId, "FAILED", "RUNNING", reason);
        },
      );
      return { OperationId: op.id };
    },

    PauseService: async (input, ctx) => {
      const r = live(ctx, input.ServiceArn);
      if (r.Status !== "RUNNING")
        throw badState(`Service ${r.ServiceArn} is ${r.Status}; only a RUNNING service can be paused.`);
      const { op, next } = startOperation(ctx, r, "PAUSE_SERVICE");
      await step(
        "ECS",
        "UpdateService",
        p.ecs().UpdateService,
        { cluster: APPRUNNER_DEFAULTS.cluster, service: r.resources.ecsServiceName, desiredCount: 0 },
        systemContext(ctx),
      ).catch((err) => {
        settle(ctx, r.ServiceId, "FAILED", "RUNNING", (err as Error).message);
        throw err;
      });
      return { Service: asView(ctx, next), OperationId: op.id };
    },

    ResumeService: async (input, ctx) => {
      const r = live(ctx, input.ServiceArn);
      if (r.Status !== "PAUSED")
        throw badState(`Service ${r.ServiceArn} is ${r.Status}; only a PAUSED service can be resumed.`);
      const asc = deps.collections.autoScaling.byArn(r.AutoScalingConfigurationArn)?.doc;
      const desired = Math.max(asc?.MinSize ?? 1, 1);
      const { op, next } = startOperation(ctx, r, "RESUME_SERVICE");
      change(ctx, r.ServiceId, (x) => ({ ...x, desiredInstances: desired, belowSince: undefined }));
      await step(
        "ECS",
        "UpdateService",
        p.ecs().UpdateService,
        { cluster: APPRUNNER_DEFAULTS.cluster, service: r.resources.ecsServiceName, desiredCount: desired },
        systemContext(ctx),
      ).catch((err) => {
        settle(ctx, r.ServiceId, "FAILED", "PAUSED", (err as Error).message);
        throw err;
      });
      return { Service: asView(ctx, next), OperationId: op.id };
    },

    DeleteService: async (input, ctx) => {
      const r = live(ctx, input.ServiceArn);
      if (r.Status === "OPERATION_IN_PROGRESS" || working.has(r.ServiceId))
        throw badState(`Service ${r.ServiceArn} has an operation in progress; delete it when the operation ends.`);
      const op = newOperation("DELETE_SERVICE");
      const next = change(ctx, r.ServiceId, (x) => ({
        ...x,
        Status: "OPERATION_IN_PROGRESS",
        operations: [op, ...x.operations].slice(0, 50),
      }))!;
      await teardown(ctx, r.ServiceId);
      return { Service: asView(ctx, next), OperationId: op.id };
    },

    ListOperations: (input, ctx) => {
      const r = byArn(ctx, input.ServiceArn);
      const { page, nextToken } = pageByKey(
        r.operations.map((o, i) => ({ o, i })),
        ({ i }) => [i],
        { nextToken: input.NextToken, limit: input.MaxResults ?? 20, invalidToken: badToken },
      );
      return {
        OperationSummaryList: page.map(({ o }) => ({
          Id: o.id,
          Type: o.type,
          Status: o.status,
          TargetArn: r.ServiceArn,
          StartedAt: o.startedAt,
          ...(o.endedAt ? { EndedAt: o.endedAt } : {}),
          UpdatedAt: o.updatedAt,
        })),
        ...(nextToken ? { NextToken: nextToken } : {}),
      };
    },

    AssociateCustomDomain: async (input, ctx) => {
      const r = live(ctx, input.ServiceArn);
      const domain = input.DomainName.toLowerCase().replace(/\.$/, "");
      if (!/^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/.test(domain))
        throw invalid(`DomainName '${input.DomainName}' is not a domain name (e.g. www.example.com).`);
      if (r.Status !== "RUNNING")
        throw badState(`Service ${r.ServiceArn} is ${r.Status}; associate a domain with a RUNNING service.`);
      const all = services.list(ctx).filter((s) => s.Status !== "DELETED");
      if (all.some((s) => (s.customDomains ?? []).some((d) => d.DomainName === domain)))
        throw invalid(`Domain ${domain} is already associated with a service.`);
      const domains = [
        ...(r.customDomains ?? []),
        {
          DomainName: domain,
          EnableWWWSubdomain: input.EnableWWWSubdomain ?? true,
          Status: "ACTIVE",
          CreatedAt: clock.now(),
        },
      ];
      await routeDomains(ctx, r, domains);
      const next = change(ctx, r.ServiceId, (x) => ({ ...x, customDomains: domains }))!;
      return {
        DNSTarget: next.ServiceUrl,
        ServiceArn: next.ServiceArn,
        CustomDomain: domainView(domains.at(-1)!),
        VpcDNSTargets: [],
      };
    },

    DescribeCustomDomains: (input, ctx) => {
      const r = live(ctx, input.ServiceArn);
      const { page, nextToken } = pageByKey(r.customDomains ?? [], (d) => [d.DomainName], {
        nextToken: input.NextToken,
        limit: input.MaxResults ?? 5,
        invalidToken: badToken,
      });
      return {
        DNSTarget: r.ServiceUrl,
        ServiceArn: r.ServiceArn,
        CustomDomains: page.map(domainView),
        VpcDNSTargets: [],
        ...(nextToken ? { NextToken: nextToken } : {}),
      };
    },

    DisassociateCustomDomain: async (input, ctx) => {
      const r = live(ctx, input.ServiceArn);
      const domain = input.DomainName.toLowerCase().replace(/\.$/, "");
      const found = (r.customDomains ?? []).find((d) => d.DomainName === domain);
      if (!found) throw notFound(`Domain ${domain} is not associated with service ${r.ServiceArn}.`);
      const domains = (r.customDomains ?? []).filter((d) => d !== found);
      await routeDomains(ctx, r, domains);
      change(ctx, r.ServiceId, (x) => ({ ...x, customDomains: domains }));
      return {
        DNSTarget: r.ServiceUrl,
        ServiceArn: r.ServiceArn,
        CustomDomain: { ...domainView(found), Status: "DELETING" },
        VpcDNSTargets: [],
      };
    },

    ListServicesForAutoScalingConfiguration: (input, ctx) => {
      const asc = deps.autoScaling.resolve(ctx, input.AutoScalingConfigurationArn);
      const arns = services
        .list(ctx)
        .filter((s) => s.Status !== "DELETED" && s.AutoScalingConfigurationArn === asc.AutoScalingConfigurationArn)
        .map((s) => s.ServiceArn)
        .sort();
      return { ServiceArnList: arns };
    },
  };

  return {
    operations,
    /** For the controller: the pieces of work it starts and ends. */
    work: {
      working,
      settle,
      change,
      teardown,
      finishTeardown,
      createFailed,
      serviceLog,
      startAutoDeployment: (scope: Scope, r: AppRunnerServiceRecord) => {
        if (r.Status !== "RUNNING" || working.has(r.ServiceId)) return;
        startOperation(scope, r, "START_DEPLOYMENT");
        background(
          scope,
          r.ServiceId,
          () => redeploy(scope, r.ServiceId),
          async (reason) => {
            settle(scope, r.ServiceId, "FAILED", "RUNNING", reason);
          },
        );
      },
    },
  };
}

/** The container port a source configuration names (8080 by default). */
export function portOfSource(source: SourceConfiguration): number {
  const config =
    source.ImageRepository?.ImageConfiguration ?? source.CodeRepository?.CodeConfiguration?.CodeConfigurationValues;
  return Number(config?.Port ?? APPRUNNER_DEFAULTS.port);
}

export type ServiceWork = ReturnType<typeof serviceOperations>["work"];
