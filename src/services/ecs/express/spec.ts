/**
 * PURE: an Express Mode request → the ordinary resources it stands for (the defaults table).
 *
 * ECS Express Mode (CreateExpressGatewayService) is one call that creates a task definition, an
 * ECS service on Fargate, a target group and a host-header listener rule on a shared Application
 * Load Balancer, security groups, and an Application Auto Scaling scalable target with a
 * target-tracking policy. This module decides every value of those resources from the request;
 * the operations (operations.ts) only call the ECS, ELBv2 and Application Auto Scaling code with
 * them. Defaults are AWS's ("Resources created by Amazon ECS Express Mode services" and the API
 * reference); where AWS's pages differ, the choice is noted.
 */
import { createHash } from "node:crypto";
import type {
  ExpressGatewayContainer,
  ExpressGatewayScalingTarget,
  ExpressGatewayServiceConfiguration,
  ExpressGatewayServiceNetworkConfiguration,
  RegisterTaskDefinitionRequest,
  Tag,
} from "../../../protocol/generated/types/ecs.js";
import { isValidFargateSize, parseCpu, parseMemory } from "../sizes.js";

export const EXPRESS_DEFAULTS = {
  /** "clusterName: Uses the default cluster." */
  cluster: "default",
  /** The developer guide's defaults table: 1 vCPU and 2 GB (the API reference says 256/512). */
  cpu: "1024",
  memory: "2048",
  /** ExpressGatewayContainer.containerPort: "Default is 80." */
  containerPort: 80,
  /** CreateExpressGatewayService.healthCheckPath: "the default health check path is /ping". */
  healthCheckPath: "/ping",
  /** ExpressGatewayScalingTarget: metric CPU, target 60. */
  autoScalingMetric: "AVERAGE_CPU",
  autoScalingTargetValue: 60,
  minTaskCount: 1,
  maxTaskCount: 20,
  /** ExpressGatewayServiceAwsLogsConfiguration.logStreamPrefix: "The default … is ecs." */
  logStreamPrefix: "ecs",
  /** The container Express Mode's task definitions name (a customer task definition must have it too). */
  containerName: "Main",
  /** One shared ALB takes the host-header rules of up to 25 Express services. */
  servicesPerLoadBalancer: 25,
} as const;

export type ScalingMetric = "AVERAGE_CPU" | "AVERAGE_MEMORY" | "REQUEST_COUNT_PER_TARGET";

/** Application Auto Scaling's predefined metric for each Express Mode metric. */
export const PREDEFINED_METRIC: Record<ScalingMetric, string> = {
  AVERAGE_CPU: "ECSServiceAverageCPUUtilization",
  AVERAGE_MEMORY: "ECSServiceAverageMemoryUtilization",
  REQUEST_COUNT_PER_TARGET: "ALBRequestCountPerTarget",
};

/** A request's settings with every default filled in: one Express service configuration. */
export interface ExpressSettings {
  executionRoleArn: string;
  taskRoleArn?: string;
  cpu: string;
  memory: string;
  healthCheckPath: string;
  primaryContainer: ExpressGatewayContainer & {
    containerPort: number;
    awsLogsConfiguration: { logGroup: string; logStreamPrefix: string };
  };
  /** As given; undefined: the default VPC's subnets and a security group Express Mode creates. */
  networkConfiguration?: ExpressGatewayServiceNetworkConfiguration;
  scalingTarget: Required<ExpressGatewayScalingTarget> & { autoScalingMetric: ScalingMetric };
}

/** What a request may set (Create and Update share it). */
export interface ExpressInput {
  executionRoleArn?: string;
  taskRoleArn?: string;
  cpu?: string;
  memory?: string;
  healthCheckPath?: string;
  primaryContainer?: ExpressGatewayContainer;
  networkConfiguration?: ExpressGatewayServiceNetworkConfiguration;
  scalingTarget?: ExpressGatewayScalingTarget;
}

/** A request ECS refuses: InvalidParameterException with this message. */
export class ExpressInvalid extends Error {}

const NAME = /^[a-zA-Z0-9_-]{1,255}$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function checkServiceName(name: string) {
  if (!NAME.test(name))
    throw new ExpressInvalid(
      `serviceName '${name}' is invalid: up to 255 letters (uppercase and lowercase), numbers, underscores, and hyphens are allowed.`,
    );
}

export function checkRoleArn(field: string, value: string | undefined, required: boolean) {
  if (value === undefined || value === "") {
    if (required) throw new ExpressInvalid(`${field} must be specified.`);
    return;
  }
  if (!ROLE_ARN.test(value))
    throw new ExpressInvalid(`${field} '${value}' is not a valid IAM role ARN (arn:aws:iam::<account>:role/<name>).`);
}

/** The log group Express Mode creates for a service when the request names none. */
export const defaultLogGroup = (cluster: string, serviceName: string) => `/aws/ecs/${cluster}/${serviceName}`;

/**
 * Fills in the defaults over `previous` (Update) or from nothing (Create) and checks the result.
 * Throws ExpressInvalid with ECS's kind of message; changes nothing.
 */
export function settingsOf(
  input: ExpressInput,
  ctx: { cluster: string; serviceName: string },
  previous?: ExpressSettings,
): ExpressSettings {
  const given = input.primaryContainer;
  if (!previous && !given) throw new ExpressInvalid("primaryContainer must be specified.");
  if (given && (given.image === undefined || given.image.trim() === ""))
    throw new ExpressInvalid("primaryContainer.image must be specified.");
  const base = previous?.primaryContainer;
  const containerPort = given?.containerPort ?? base?.containerPort ?? EXPRESS_DEFAULTS.containerPort;
  if (!Number.isInteger(containerPort) || containerPort < 1 || containerPort > 65535)
    throw new ExpressInvalid(`primaryContainer.containerPort ${containerPort} is invalid: use a port from 1 to 65535.`);
  const logs = given?.awsLogsConfiguration ??
    base?.awsLogsConfiguration ?? {
      logGroup: defaultLogGroup(ctx.cluster, ctx.serviceName),
      logStreamPrefix: EXPRESS_DEFAULTS.logStreamPrefix,
    };
  if (!logs.logGroup || !/^[\w#./-]{1,512}$/.test(logs.logGroup))
    throw new ExpressInvalid(`awsLogsConfiguration.logGroup '${logs.logGroup}' is not a valid log group name.`);
  if (!logs.logStreamPrefix) throw new ExpressInvalid("awsLogsConfiguration.logStreamPrefix must be specified.");
  const container = {
    ...(base ?? {}),
    ...(given ?? {}),
    image: (given?.image ?? base?.image) as string,
    containerPort,
    awsLogsConfiguration: logs,
  };
  for (const e of container.environment ?? [])
    if (!e.name || !ENV_NAME.test(e.name))
      throw new ExpressInvalid(`primaryContainer.environment: '${e.name ?? ""}' is not a valid variable name.`);
  for (const s of container.secrets ?? [])
    if (!s.name || !s.valueFrom)
      throw new ExpressInvalid("primaryContainer.secrets: every secret needs a name and valueFrom.");

  const executionRoleArn = input.executionRoleArn ?? previous?.executionRoleArn;
  checkRoleArn("executionRoleArn", executionRoleArn, true);
  const taskRoleArn = input.taskRoleArn ?? previous?.taskRoleArn;
  checkRoleArn("taskRoleArn", taskRoleArn, false);

  const cpu = input.cpu ?? previous?.cpu ?? EXPRESS_DEFAULTS.cpu;
  const memory = input.memory ?? previous?.memory ?? EXPRESS_DEFAULTS.memory;
  const cpuUnits = parseCpu(cpu);
  const memoryMiB = parseMemory(memory);
  if (cpuUnits === undefined || memoryMiB === undefined || !isValidFargateSize(cpuUnits, memoryMiB))
    throw new ExpressInvalid(
      `No Fargate configuration exists for given values: ${cpu} CPU, ${memory} memory. See the Amazon ECS documentation for the valid combinations.`,
    );

  const healthCheckPath = input.healthCheckPath ?? previous?.healthCheckPath ?? EXPRESS_DEFAULTS.healthCheckPath;
  if (!healthCheckPath.startsWith("/") || healthCheckPath.length > 1024)
    throw new ExpressInvalid(`healthCheckPath '${healthCheckPath}' is invalid: it must start with a forward slash.`);

  const networkConfiguration = input.networkConfiguration ?? previous?.networkConfiguration;
  for (const s of networkConfiguration?.subnets ?? [])
    if (!/^subnet-[0-9a-z]+$/.test(s)) throw new ExpressInvalid(`The subnet ID '${s}' is malformed.`);
  for (const g of networkConfiguration?.securityGroups ?? [])
    if (!/^sg-[0-9a-z]+$/.test(g)) throw new ExpressInvalid(`The security group ID '${g}' is malformed.`);

  const s = { ...(previous?.scalingTarget ?? {}), ...stripUndefined(input.scalingTarget ?? {}) };
  const scalingTarget = {
    minTaskCount: s.minTaskCount ?? EXPRESS_DEFAULTS.minTaskCount,
    maxTaskCount: s.maxTaskCount ?? EXPRESS_DEFAULTS.maxTaskCount,
    autoScalingMetric: (s.autoScalingMetric ?? EXPRESS_DEFAULTS.autoScalingMetric) as ScalingMetric,
    autoScalingTargetValue: s.autoScalingTargetValue ?? EXPRESS_DEFAULTS.autoScalingTargetValue,
  };
  if (!(scalingTarget.autoScalingMetric in PREDEFINED_METRIC))
    throw new ExpressInvalid(`scalingTarget.autoScalingMetric '${scalingTarget.autoScalingMetric}' is invalid.`);
  if (!Number.isInteger(scalingTarget.minTaskCount) || scalingTarget.minTaskCount < 1)
    throw new ExpressInvalid("scalingTarget.minTaskCount must be at least 1.");
  if (!Number.isInteger(scalingTarget.maxTaskCount) || scalingTarget.maxTaskCount < scalingTarget.minTaskCount)
    throw new ExpressInvalid("scalingTarget.maxTaskCount must be greater than or equal to minTaskCount.");
  if (scalingTarget.autoScalingTargetValue <= 0)
    throw new ExpressInvalid("scalingTarget.autoScalingTargetValue must be greater than 0.");

  return {
    executionRoleArn: executionRoleArn as string,
    ...(taskRoleArn ? { taskRoleArn } : {}),
    cpu,
    memory,
    healthCheckPath,
    primaryContainer: container,
    ...(networkConfiguration ? { networkConfiguration } : {}),
    scalingTarget,
  };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The task definition of one configuration (family = the service name, container `Main`). */
export function taskDefinitionOf(
  settings: ExpressSettings,
  ctx: { serviceName: string; region: string; tags?: Tag[] },
): RegisterTaskDefinitionRequest {
  const c = settings.primaryContainer;
  return {
    family: ctx.serviceName,
    networkMode: "awsvpc",
    requiresCompatibilities: ["FARGATE"],
    cpu: settings.cpu,
    memory: settings.memory,
    runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: "X86_64" },
    executionRoleArn: settings.executionRoleArn,
    ...(settings.taskRoleArn ? { taskRoleArn: settings.taskRoleArn } : {}),
    containerDefinitions: [
      {
        name: EXPRESS_DEFAULTS.containerName,
        image: c.image,
        essential: true,
        portMappings: [{ containerPort: c.containerPort, protocol: "tcp", name: `${c.containerPort}-tcp` }],
        ...(c.command?.length ? { command: c.command } : {}),
        ...(c.environment?.length ? { environment: c.environment } : {}),
        ...(c.secrets?.length ? { secrets: c.secrets } : {}),
        ...(c.repositoryCredentials?.credentialsParameter
          ? { repositoryCredentials: { credentialsParameter: c.repositoryCredentials.credentialsParameter } }
          : {}),
        logConfiguration: {
          logDriver: "awslogs",
          options: {
            "awslogs-group": c.awsLogsConfiguration.logGroup,
            "awslogs-region": ctx.region,
            "awslogs-stream-prefix": c.awsLogsConfiguration.logStreamPrefix,
          },
        },
      },
    ],
    ...(ctx.tags?.length ? { tags: ctx.tags } : {}),
  };
}

/** Whether two configurations need different task definitions (a new revision, a new deployment). */
export function taskDefinitionChanged(a: ExpressSettings, b: ExpressSettings): boolean {
  const strip = (s: ExpressSettings) => ({
    cpu: s.cpu,
    memory: s.memory,
    executionRoleArn: s.executionRoleArn,
    taskRoleArn: s.taskRoleArn,
    container: s.primaryContainer,
  });
  return JSON.stringify(strip(a)) !== JSON.stringify(strip(b));
}

const hash = (...parts: string[]) => createHash("sha256").update(parts.join("/")).digest("hex");

/**
 * The service's host name, `<name>-<8 hex>.ecs.<region>.on.aws` (stable for an account, region,
 * cluster and name). The ALB routes it by the Host header.
 */
export function endpointOf(scope: { account: string; region: string }, cluster: string, serviceName: string) {
  const label = serviceName
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 40);
  const suffix = hash(scope.account, scope.region, cluster, serviceName).slice(0, 8);
  return `${label ? `${label}-` : ""}${suffix}.ecs.${scope.region}.on.aws`;
}

/** A generated service name when the request gives none. */
export const generatedServiceName = (seed: string) => `express-${hash(seed).slice(0, 12)}`;

/** Target group name (≤ 32 characters, unique per service). */
export const targetGroupName = (seed: string) => `ecs-express-tg-${hash("tg", seed).slice(0, 12)}`;

/** Shared load balancer name (≤ 32 characters). */
export const loadBalancerName = (seed: string) => `ecs-express-gateway-alb-${hash("alb", seed).slice(0, 8)}`;

/** An EC2-style security group id (Berth has no EC2 API; the ids are recorded, not enforced). */
export const securityGroupId = (seed: string) => `sg-${hash("sg", seed).slice(0, 17)}`;

/** The shared load balancer a new service's rule goes on: the first with room, or none (create one). */
export function chooseLoadBalancer(
  candidates: readonly { arn: string; services: number }[],
  max: number = EXPRESS_DEFAULTS.servicesPerLoadBalancer,
): string | undefined {
  return candidates.find((c) => c.services < max)?.arn;
}

/** The lowest listener rule priority not in use (1–50000). */
export function nextPriority(used: readonly number[]): number {
  const taken = new Set(used);
  for (let p = 1; p <= 50000; p++) if (!taken.has(p)) return p;
  throw new ExpressInvalid("The shared load balancer's listener has no free rule priority.");
}

/** The model's view of one configuration. */
export function configurationView(
  settings: ExpressSettings,
  extra: { serviceRevisionArn: string; endpoint: string; createdAt: Date; securityGroups: string[]; subnets: string[] },
): ExpressGatewayServiceConfiguration {
  return {
    serviceRevisionArn: extra.serviceRevisionArn,
    executionRoleArn: settings.executionRoleArn,
    ...(settings.taskRoleArn ? { taskRoleArn: settings.taskRoleArn } : {}),
    cpu: settings.cpu,
    memory: settings.memory,
    networkConfiguration: {
      securityGroups: settings.networkConfiguration?.securityGroups?.length
        ? settings.networkConfiguration.securityGroups
        : extra.securityGroups,
      subnets: settings.networkConfiguration?.subnets?.length ? settings.networkConfiguration.subnets : extra.subnets,
    },
    healthCheckPath: settings.healthCheckPath,
    primaryContainer: settings.primaryContainer,
    scalingTarget: settings.scalingTarget,
    ingressPaths: [{ accessType: "PUBLIC", endpoint: extra.endpoint }],
    createdAt: extra.createdAt,
  };
}
