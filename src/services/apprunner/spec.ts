/**
 * PURE: App Runner requests → settings with App Runner's defaults, and those settings → the
 * ordinary Berth resources a service runs on (an ECS task definition, a target group's health
 * check, names). The operations only call ECS and ELBv2 with what this decides.
 */
import { createHash } from "node:crypto";
import type {
  HealthCheckConfiguration,
  ImageConfiguration,
  InstanceConfiguration,
} from "../../protocol/generated/types/apprunner.js";
import type { RegisterTaskDefinitionRequest } from "../../protocol/generated/types/ecs.js";
import type { HealthCheckSettings } from "../../store/schema/apprunner.js";

/** A request App Runner rejects (InvalidRequestException), with what is wrong. */
export class AppRunnerInvalid extends Error {}

export const APPRUNNER_DEFAULTS = {
  cpu: "1024",
  memory: "2048",
  port: "8080",
  /** HealthCheckConfiguration's documented defaults. */
  healthCheck: {
    Protocol: "TCP",
    Path: "/",
    Interval: 5,
    Timeout: 2,
    HealthyThreshold: 1,
    UnhealthyThreshold: 5,
  } as HealthCheckSettings,
  /** DefaultConfiguration: 100 concurrent requests per instance, 1 to 25 instances. */
  maxConcurrency: 100,
  minSize: 1,
  maxSize: 25,
  defaultAutoScalingName: "DefaultConfiguration",
  /** The ECS cluster every App Runner service runs in. */
  cluster: "apprunner",
  /** The shared Application Load Balancer whose listener routes each ServiceUrl by Host header. */
  loadBalancerName: "berth-apprunner",
  containerName: "application",
} as const;

/** vCPU units → the memory sizes (MiB) App Runner allows with it (the developer guide's table). */
const COMBINATIONS: Record<string, readonly string[]> = {
  "256": ["512", "1024"],
  "512": ["1024"],
  "1024": ["2048", "3072", "4096"],
  "2048": ["4096", "6144"],
  "4096": ["8192", "10240", "12288"],
};

const CPU_UNITS: Record<string, string> = { "0.25": "256", "0.5": "512", "1": "1024", "2": "2048", "4": "4096" };

/** "1 vCPU" / "1024" → "1024"; anything else → undefined. */
export function cpuUnits(value: string): string | undefined {
  const v = value.trim();
  if (COMBINATIONS[v]) return v;
  const m = /^(0\.25|0\.5|1|2|4) vCPU$/i.exec(v);
  return m ? CPU_UNITS[m[1]] : undefined;
}

/** "2 GB" / "2048" → "2048"; anything else → undefined. */
export function memoryMiB(value: string): string | undefined {
  const v = value.trim();
  if (/^(512|1024|2048|3072|4096|6144|8192|10240|12288)$/.test(v)) return v;
  const m = /^(0\.5|1|2|3|4|6|8|10|12) GB$/i.exec(v);
  return m ? String(Number(m[1]) * 1024) : undefined;
}

/** Cpu and Memory with App Runner's defaults (1 vCPU, 2 GB), checked against its allowed combinations. */
export function instanceOf(
  input: InstanceConfiguration | undefined,
  previous?: { Cpu: string; Memory: string; InstanceRoleArn?: string },
): { Cpu: string; Memory: string; InstanceRoleArn?: string } {
  const cpuIn = input?.Cpu ?? previous?.Cpu ?? APPRUNNER_DEFAULTS.cpu;
  const memIn = input?.Memory ?? previous?.Memory ?? APPRUNNER_DEFAULTS.memory;
  const cpu = cpuUnits(cpuIn);
  if (!cpu)
    throw new AppRunnerInvalid(`Cpu '${cpuIn}' is not valid: use 256|512|1024|2048|4096 or 0.25|0.5|1|2|4 vCPU.`);
  const memory = memoryMiB(memIn);
  if (!memory)
    throw new AppRunnerInvalid(
      `Memory '${memIn}' is not valid: use 512|1024|2048|3072|4096|6144|8192|10240|12288 or 0.5|1|2|3|4|6|8|10|12 GB.`,
    );
  if (!COMBINATIONS[cpu].includes(memory))
    throw new AppRunnerInvalid(
      `Cpu ${cpu} with Memory ${memory} is not a supported combination; with ${cpu} CPU units use Memory ${COMBINATIONS[cpu].join(", ")}.`,
    );
  const role = input?.InstanceRoleArn ?? previous?.InstanceRoleArn;
  if (role !== undefined) checkRoleArn("InstanceConfiguration.InstanceRoleArn", role);
  return { Cpu: cpu, Memory: memory, ...(role ? { InstanceRoleArn: role } : {}) };
}

export function checkRoleArn(field: string, value: string) {
  if (!/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/.test(value))
    throw new AppRunnerInvalid(`${field} '${value}' is not a valid IAM role ARN (arn:aws:iam::<account>:role/<name>).`);
}

/** HealthCheckConfiguration with App Runner's defaults and ranges (1–20 each). */
export function healthCheckOf(
  input: HealthCheckConfiguration | undefined,
  previous?: HealthCheckSettings,
): HealthCheckSettings {
  const base = previous ?? APPRUNNER_DEFAULTS.healthCheck;
  const out: HealthCheckSettings = {
    Protocol: (input?.Protocol ?? base.Protocol) as HealthCheckSettings["Protocol"],
    Path: input?.Path ?? base.Path,
    Interval: input?.Interval ?? base.Interval,
    Timeout: input?.Timeout ?? base.Timeout,
    HealthyThreshold: input?.HealthyThreshold ?? base.HealthyThreshold,
    UnhealthyThreshold: input?.UnhealthyThreshold ?? base.UnhealthyThreshold,
  };
  if (!out.Path.startsWith("/"))
    throw new AppRunnerInvalid(`HealthCheckConfiguration.Path '${out.Path}' must start with '/'.`);
  for (const k of ["Interval", "Timeout", "HealthyThreshold", "UnhealthyThreshold"] as const)
    if (!Number.isInteger(out[k]) || out[k] < 1 || out[k] > 20)
      throw new AppRunnerInvalid(`HealthCheckConfiguration.${k} must be an integer from 1 to 20 (got ${out[k]}).`);
  return out;
}

/**
 * The target group health check that stands for an App Runner one. Berth's ALB checks over HTTP,
 * so a TCP check is an HTTP request to / that passes on any answer below 500 (the instance
 * accepted the connection and spoke HTTP); the timeout stays below the interval, as ELBv2 needs.
 */
export function targetGroupHealthCheck(h: HealthCheckSettings) {
  const interval = Math.max(h.Interval, 2);
  return {
    HealthCheckProtocol: "HTTP" as const,
    HealthCheckPath: h.Protocol === "HTTP" ? h.Path : "/",
    HealthCheckIntervalSeconds: interval,
    HealthCheckTimeoutSeconds: Math.min(h.Timeout, interval - 1),
    HealthyThresholdCount: h.HealthyThreshold,
    UnhealthyThresholdCount: h.UnhealthyThreshold,
    Matcher: { HttpCode: h.Protocol === "HTTP" ? "200-399" : "200-499" },
  };
}

/** The container port of an image or code configuration ("8080" by default). */
export function portOf(config: { Port?: string } | undefined): number {
  const raw = config?.Port ?? APPRUNNER_DEFAULTS.port;
  const port = Number(raw);
  if (!/^\d{1,5}$/.test(raw) || port < 1 || port > 65535)
    throw new AppRunnerInvalid(`Port '${raw}' is not valid: a TCP port from 1 to 65535.`);
  return port;
}

/**
 * A start command → argv, as a shell would split it for simple commands: whitespace separates
 * words; single and double quotes group; a backslash escapes the next character. A command with
 * shell syntax (pipes, &&, $VAR) runs under `/bin/sh -c` when the image has a shell.
 */
export function commandOf(start: string): string[] {
  if (/[|&;<>$`()]/.test(start)) return ["/bin/sh", "-c", start];
  const words: string[] = [];
  let cur = "";
  let inWord = false;
  let quote: string | undefined;
  for (let i = 0; i < start.length; i++) {
    const c = start[i];
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === "\\" && quote === '"' && i + 1 < start.length) cur += start[++i];
      else cur += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === "\\" && i + 1 < start.length) {
      cur += start[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(cur);
      cur = "";
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (quote) throw new AppRunnerInvalid(`StartCommand has an unclosed ${quote} quote.`);
  if (inWord) words.push(cur);
  return words;
}

/** RuntimeEnvironmentVariables names App Runner reserves. */
const RESERVED_ENV = /^AWSAPPRUNNER/;

export function checkEnvironment(env: Record<string, string> | undefined, field: string) {
  for (const name of Object.keys(env ?? {})) {
    if (!name) throw new AppRunnerInvalid(`${field} has an empty variable name.`);
    if (RESERVED_ENV.test(name)) throw new AppRunnerInvalid(`${field} name '${name}' is reserved by App Runner.`);
  }
}

const hash = (...parts: string[]) => createHash("sha256").update(parts.join("\0")).digest("hex");

/** A service id: 32 hex characters, as App Runner's. */
export const serviceIdOf = (seed: string) => hash("id", seed).slice(0, 32);

/** `<10 lowercase letters and digits>.<region>.awsapprunner.com`, as App Runner's default domain. */
export function serviceUrlOf(region: string, seed: string): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  const h = hash("url", seed);
  let label = "";
  for (let i = 0; i < 10; i++) label += alphabet[Number.parseInt(h.slice(i * 2, i * 2 + 2), 16) % alphabet.length];
  return `${label}.${region}.awsapprunner.com`;
}

/** Names of the ordinary resources a service runs on (unique per service id, within each API's limits). */
export const resourceNames = (serviceName: string, serviceId: string) => ({
  ecsService: `${serviceName}-${serviceId.slice(0, 8)}`,
  family: `apprunner-${serviceName}-${serviceId.slice(0, 8)}`,
  targetGroup: `apprunner-${serviceId.slice(0, 20)}`,
  serviceLogGroup: `/aws/apprunner/${serviceName}/${serviceId}/service`,
  applicationLogGroup: `/aws/apprunner/${serviceName}/${serviceId}/application`,
});

/** The smallest rule priority not in use (App Runner's rules on the shared listener). */
export function nextPriority(used: readonly number[]): number {
  const taken = new Set(used);
  let p = 1;
  while (taken.has(p)) p++;
  return p;
}

/** What one deployment runs: the image and how to start it. */
export interface RunSpec {
  image: string;
  port: number;
  startCommand?: string;
  environment: Record<string, string>;
  secrets: Record<string, string>;
}

/** The ECS task definition of one deployment of a service. */
export function taskDefinitionOf(
  run: RunSpec,
  s: {
    serviceName: string;
    serviceId: string;
    region: string;
    cpu: string;
    memory: string;
    executionRoleArn: string;
    taskRoleArn?: string;
  },
): RegisterTaskDefinitionRequest {
  const names = resourceNames(s.serviceName, s.serviceId);
  const environment = { PORT: String(run.port), ...run.environment };
  return {
    family: names.family,
    networkMode: "awsvpc",
    requiresCompatibilities: ["FARGATE"],
    cpu: s.cpu,
    memory: s.memory,
    executionRoleArn: s.executionRoleArn,
    ...(s.taskRoleArn ? { taskRoleArn: s.taskRoleArn } : {}),
    containerDefinitions: [
      {
        name: APPRUNNER_DEFAULTS.containerName,
        image: run.image,
        essential: true,
        portMappings: [{ containerPort: run.port, protocol: "tcp" }],
        ...(run.startCommand ? { command: commandOf(run.startCommand) } : {}),
        environment: Object.entries(environment).map(([name, value]) => ({ name, value })),
        ...(Object.keys(run.secrets).length
          ? { secrets: Object.entries(run.secrets).map(([name, valueFrom]) => ({ name, valueFrom })) }
          : {}),
        logConfiguration: {
          logDriver: "awslogs",
          options: {
            "awslogs-group": names.applicationLogGroup,
            "awslogs-region": s.region,
            "awslogs-stream-prefix": "instance",
          },
        },
      },
    ],
    tags: [{ key: "apprunner:service", value: s.serviceName }],
  };
}

/** The run settings of an image source. */
export function imageRunSpec(image: string, config: ImageConfiguration | undefined): RunSpec {
  checkEnvironment(config?.RuntimeEnvironmentVariables, "ImageConfiguration.RuntimeEnvironmentVariables");
  return {
    image,
    port: portOf(config),
    ...(config?.StartCommand ? { startCommand: config.StartCommand } : {}),
    environment: config?.RuntimeEnvironmentVariables ?? {},
    secrets: config?.RuntimeEnvironmentSecrets ?? {},
  };
}

/** `host[:port]/repo[:tag|@digest]` → its parts; undefined when it is not an image reference. */
export function parseImage(
  image: string,
): { host: string; repository: string; tag?: string; digest?: string } | undefined {
  const m = /^([^/]+)\/([a-z0-9]+(?:[._/-][a-z0-9]+)*)(?::([\w][\w.-]{0,127})|@(sha256:[0-9a-f]{64}))?$/.exec(image);
  if (!m) return undefined;
  return { host: m[1], repository: m[2], ...(m[3] ? { tag: m[3] } : {}), ...(m[4] ? { digest: m[4] } : {}) };
}
