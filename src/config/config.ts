import { homedir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { LogLevel } from "../core/logger.js";

/** Everything Berth can be told. This module is the only reader of process.env and argv. */
export interface Config {
  port: number;
  host: string;
  dataDir: string;
  defaultAccount: string;
  defaultRegion: string;
  logLevel: LogLevel;
  /** `lenient` accepts unknown access keys as the account root; `strict` refuses them. */
  auth: "lenient" | "strict";
  rootAccessKeyId: string;
  rootSecretAccessKey: string;
  /** Host address task ports are published on. */
  publishHost: string;
  /** Docker network tasks join (Docker's default bridge starts containers fastest). */
  taskNetwork: string;
  /** Identifies this Berth's containers so several Berths can share one Docker Engine. */
  instanceId: string;
  /** How often the task controller re-reads everything even without a change (ms). */
  resyncIntervalMs: number;
  /** A RUNNING service task with no load balancer and no health check counts as healthy after this (ms; AWS 40 s). */
  ecsHealthyAfterMs: number;
  /** How long an agent host with no other sign of life may be silent before its tasks are stopped. */
  agentLostAfterMs: number;
  /** How often ECR lifecycle policies run (ms; AWS applies them within 24 hours). */
  ecrLifecycleIntervalMs: number;
  /** How long a pull-through cached tag is served before its upstream is asked again (ms; ECR: 24 h). */
  ecrPullThroughRecheckMs: number;
  /** Registry mirror mode: the pull-through rule prefix Docker Hub names are served from (unset: off). */
  registryMirrorRule?: string;
  /** Where images named in tasks and pods are pulled from, in order (`pull-through`, `upstream`, `<host>[/<path>]`). */
  imageMirrors: string[];
  /** The port of the load balancers ECS Express Mode shares (AWS: HTTPS 443; Berth: HTTP, default 80). */
  expressListenerPort: number;
  /** How long a new CloudWatch Logs export task stays PENDING before it runs (ms). */
  logsExportDelayMs: number;
  /** The port of App Runner's shared load balancer listener (AWS: HTTPS 443; Berth: HTTP, default 80). */
  apprunnerListenerPort: number;
  /** CloudWatch and Application Auto Scaling timings (docs/cloudwatch.md, docs/autoscaling.md). */
  monitoring: MonitoringConfig;
  /** The task credential and metadata endpoint (docs/iam.md). */
  taskEndpoint: TaskEndpointConfig;
  /** EKS clusters' API servers and timings (docs/eks.md). */
  eks: EksServiceConfig;
}

export interface EksServiceConfig {
  /** Address each cluster's Kubernetes API server listens on (the endpoint's host). */
  host: string;
  /** Cluster API server ports: one per cluster from [base, base + count), kept across restarts. */
  ports: { base: number; count: number };
  /** How long a new cluster is CREATING (ms; AWS takes about 10 minutes). */
  createDelayMs: number;
  /** How long a deleted cluster is DELETING (ms). */
  deleteDelayMs: number;
  /** How long an UpdateClusterVersion / UpdateClusterConfig is InProgress (ms). */
  updateDelayMs: number;
  /** How long a new Fargate profile is CREATING / a deleted one DELETING (ms). */
  fargateCreateDelayMs: number;
  fargateDeleteDelayMs: number;
  /** How long a new node group is CREATING (ms), and how long a deleted one waits for its nodes to drain at most. */
  nodegroupCreateDelayMs?: number;
  nodegroupDrainTimeoutMs?: number;
}

export interface TaskEndpointConfig {
  /** Address tasks reach Berth on (ECS's 169.254.170.2); undefined turns the endpoint off. */
  address?: string;
  /** Port (80, as the SDKs' relative credential URI needs; another port switches tasks to the full URI). */
  port: number;
  /** Host interface the address is added to when it is missing (Docker's default bridge). */
  interface: string;
}

export interface MonitoringConfig {
  /** How often container stats become AWS/ECS and AWS/ApplicationELB samples (ms; ≤ 10 s for 10-second alarms). */
  metricsIntervalMs: number;
  /** How often alarms are checked for a newly completed period (ms). */
  alarmTickMs: number;
  /** How long after a period ends its data is awaited before the alarm evaluates it (ms). */
  alarmDelayMs: number;
  /** Metric samples are kept this long (ms; CloudWatch keeps 1-minute data 15 days). */
  metricRetentionMs: number;
  /** Sub-minute samples are rolled up into 1-minute ones after this (ms; CloudWatch: 3 hours). */
  metricHighResolutionMs: number;
  /** Period of the alarms target tracking policies create (s; AWS 60). */
  targetTrackingPeriodSec: number;
  /** Evaluation periods of a target tracking policy's AlarmHigh (AWS 3) and AlarmLow (AWS 15). */
  targetTrackingHighPeriods: number;
  targetTrackingLowPeriods: number;
  /** How often scheduled actions are checked (ms; AWS runs them within a minute of their time). */
  scheduleTickMs: number;
}

const LEVELS: LogLevel[] = ["trace", "debug", "info", "warn", "error", "silent"];

export function loadConfig(argv: string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): Config {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: "string" },
      host: { type: "string" },
      "data-dir": { type: "string" },
      "log-level": { type: "string" },
      auth: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    allowPositionals: true,
  });
  if (values.help) {
    process.stdout.write(
      [
        "berth [--port 4566] [--host 127.0.0.1] [--data-dir ~/.berth] [--log-level info] [--auth lenient|strict]",
        "Environment: BERTH_PORT, BERTH_HOST, BERTH_DATA_DIR, BERTH_LOG_LEVEL, BERTH_AUTH, BERTH_ACCOUNT_ID,",
        "  BERTH_REGION, BERTH_ROOT_ACCESS_KEY_ID, BERTH_ROOT_SECRET_ACCESS_KEY, BERTH_INSTANCE_ID",
        "",
      ].join("\n"),
    );
    process.exit(0);
  }
  const port = Number(values.port ?? env.BERTH_PORT ?? 4566);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`invalid port: ${values.port ?? env.BERTH_PORT}`);
  const logLevel = (values["log-level"] ?? env.BERTH_LOG_LEVEL ?? "info") as LogLevel;
  if (!LEVELS.includes(logLevel)) throw new Error(`invalid log level ${logLevel}; one of ${LEVELS.join(", ")}`);
  const auth = values.auth ?? env.BERTH_AUTH ?? "lenient";
  if (auth !== "lenient" && auth !== "strict") throw new Error(`invalid BERTH_AUTH ${auth}; lenient or strict`);
  const account = env.BERTH_ACCOUNT_ID ?? "000000000000";
  if (!/^\d{12}$/.test(account)) throw new Error(`BERTH_ACCOUNT_ID must be 12 digits, got ${account}`);
  const dataDir = values["data-dir"] ?? env.BERTH_DATA_DIR ?? join(homedir(), ".berth");
  return {
    port,
    host: values.host ?? env.BERTH_HOST ?? "127.0.0.1",
    dataDir,
    defaultAccount: account,
    defaultRegion: env.BERTH_REGION ?? "us-east-1",
    logLevel,
    auth,
    rootAccessKeyId: env.BERTH_ROOT_ACCESS_KEY_ID ?? "test",
    rootSecretAccessKey: env.BERTH_ROOT_SECRET_ACCESS_KEY ?? "test",
    publishHost: env.BERTH_PUBLISH_HOST ?? "127.0.0.1",
    taskNetwork: env.BERTH_TASK_NETWORK ?? "bridge",
    instanceId: env.BERTH_INSTANCE_ID ?? "default",
    resyncIntervalMs: Number(env.BERTH_RESYNC_MS ?? 5000),
    ecsHealthyAfterMs: Number(env.BERTH_ECS_HEALTHY_AFTER_MS ?? 40_000),
    agentLostAfterMs: Number(env.BERTH_AGENT_LOST_AFTER_MS ?? 600_000),
    ecrLifecycleIntervalMs: Number(env.BERTH_ECR_LIFECYCLE_MS ?? 60_000),
    ecrPullThroughRecheckMs: Number(env.BERTH_ECR_PULL_THROUGH_RECHECK_MS ?? 24 * 60 * 60 * 1000),
    registryMirrorRule: env.BERTH_REGISTRY_MIRROR_RULE || undefined,
    imageMirrors: (env.BERTH_IMAGE_MIRRORS ?? "pull-through,upstream")
      .split(",")
      .map((m) => m.trim())
      .filter(Boolean),
    expressListenerPort: Number(env.BERTH_EXPRESS_LISTENER_PORT ?? 80),
    logsExportDelayMs: Number(env.BERTH_LOGS_EXPORT_DELAY_MS ?? 1000),
    apprunnerListenerPort: Number(env.BERTH_APPRUNNER_LISTENER_PORT ?? 80),
    monitoring: {
      metricsIntervalMs: Number(env.BERTH_METRICS_INTERVAL_MS ?? 5000),
      alarmTickMs: Number(env.BERTH_ALARM_TICK_MS ?? 1000),
      alarmDelayMs: Number(env.BERTH_ALARM_DELAY_MS ?? 2000),
      metricRetentionMs: Number(env.BERTH_METRIC_RETENTION_MS ?? 15 * 24 * 3600 * 1000),
      metricHighResolutionMs: Number(env.BERTH_METRIC_HIGH_RESOLUTION_MS ?? 3 * 3600 * 1000),
      targetTrackingPeriodSec: Number(env.BERTH_TARGET_TRACKING_PERIOD_SEC ?? 60),
      targetTrackingHighPeriods: Number(env.BERTH_TARGET_TRACKING_HIGH_PERIODS ?? 3),
      targetTrackingLowPeriods: Number(env.BERTH_TARGET_TRACKING_LOW_PERIODS ?? 15),
      scheduleTickMs: Number(env.BERTH_SCHEDULE_TICK_MS ?? 1000),
    },
    taskEndpoint: {
      address: env.BERTH_TASK_ENDPOINT === "off" ? undefined : (env.BERTH_TASK_ENDPOINT ?? "169.254.170.2"),
      port: Number(env.BERTH_TASK_ENDPOINT_PORT ?? 80),
      interface: env.BERTH_TASK_ENDPOINT_INTERFACE ?? "docker0",
    },
    eks: {
      host: env.BERTH_EKS_HOST ?? "127.0.0.1",
      ports: { base: Number(env.BERTH_EKS_PORT_BASE ?? 4600), count: Number(env.BERTH_EKS_PORT_COUNT ?? 100) },
      createDelayMs: Number(env.BERTH_EKS_CREATE_MS ?? 3000),
      deleteDelayMs: Number(env.BERTH_EKS_DELETE_MS ?? 2000),
      updateDelayMs: Number(env.BERTH_EKS_UPDATE_MS ?? 3000),
      fargateCreateDelayMs: Number(env.BERTH_EKS_FARGATE_CREATE_MS ?? 2000),
      fargateDeleteDelayMs: Number(env.BERTH_EKS_FARGATE_DELETE_MS ?? 2000),
      nodegroupCreateDelayMs: Number(env.BERTH_EKS_NODEGROUP_CREATE_MS ?? 3000),
      nodegroupDrainTimeoutMs: Number(env.BERTH_EKS_NODEGROUP_DRAIN_TIMEOUT_MS ?? 900_000),
    },
  };
}
