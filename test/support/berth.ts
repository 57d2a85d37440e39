import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");

export interface RunningBerth {
  endpoint: string;
  port: number;
  dataDir: string;
  process: ChildProcess;
  /** Everything Berth printed, for assertions and for failure messages. */
  output(): string;
  /** SIGTERM and wait for exit. */
  stop(): Promise<number | null>;
  /** SIGKILL: a crash, for durability tests. */
  kill(): Promise<void>;
}

/** Starts the built Berth (dist/) as a child process on a free port, waiting until it serves. */
export async function startBerth(opts: { dataDir?: string; port?: number; env?: Record<string, string> } = {}) {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), "berth-test-"));
  const child = spawn(process.execPath, [join(root, "dist/src/main.js"), "--port", String(opts.port ?? 0)], {
    env: { ...process.env, BERTH_DATA_DIR: dataDir, BERTH_LOG_LEVEL: "info", BERTH_RESYNC_MS: "1000", ...opts.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.on("data", (d) => {
    out += d;
  });
  child.stderr?.on("data", (d) => {
    out += d;
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`berth did not start in 30 s:\n${out}`)), 30_000);
    const onData = () => {
      const m = /berth listening on http:\/\/[^:]+:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout?.on("data", onData);
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`berth exited with ${code} before serving:\n${out}`));
    });
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const berth: RunningBerth = {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    dataDir,
    process: child,
    output: () => out,
    stop: async () => {
      child.kill("SIGTERM");
      return exited;
    },
    kill: async () => {
      child.kill("SIGKILL");
      await exited;
    },
  };
  return berth;
}

export const credentials = { accessKeyId: "test", secretAccessKey: "test" };
export const region = "us-east-1";

/** Client config for any @aws-sdk/client-* pointed at a Berth. */
export const clientConfig = (endpoint: string) => ({ endpoint, region, credentials, maxAttempts: 1 });
