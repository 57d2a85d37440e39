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
  /** How often ECR lifecycle policies run (ms; AWS applies them within 24 hours). */
  ecrLifecycleIntervalMs: number;
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
    ecrLifecycleIntervalMs: Number(env.BERTH_ECR_LIFECYCLE_MS ?? 60_000),
  };
}
