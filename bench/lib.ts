import { type ChildProcess, execFile, execFileSync, spawn } from "node:child_process";
import { createConnection, createServer } from "node:net";
import { cpus, loadavg, release } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

/** Shared helpers for the benchmarks in bench/: not timed tests, they print figures and ratios. */

// The AWS SDK warns at length that Node 20 support ends in 2027; that is not news in a benchmark's output.
process.removeAllListeners("warning");
process.on("warning", (w) => {
  if (!`${w.name} ${w.message}`.includes("NodeVersionSupportWarning"))
    process.stderr.write(`${w.name}: ${w.message}\n`);
});

export const root = join(dirname(fileURLToPath(import.meta.url)), "..");

const execFileP = promisify(execFile);

/** Runs a command and returns its trimmed stdout; rejects with its stderr on failure. */
export async function run(cmd: string, args: string[], timeoutMs = 60_000): Promise<string> {
  try {
    const { stdout } = await execFileP(cmd, args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
    return stdout.trim();
  } catch (e) {
    const err = e as Error & { stderr?: string };
    throw new Error(`${cmd} ${args.join(" ")} failed: ${err.stderr?.trim() || err.message}`);
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Compiles Berth to dist/ (startBerth runs dist/src/main.js) so the figures are for the current source. */
export function buildBerth() {
  try {
    execFileSync("npx", ["tsc", "-p", "tsconfig.json"], { cwd: root, stdio: "inherit" });
  } catch {
    // tsc still emits on type errors; carry on with what dist/ has, but say so.
    process.stderr.write("bench: tsc reported errors; measuring the JavaScript it emitted anyway\n");
  }
}

export interface Summary {
  n: number;
  median: number;
  min: number;
  max: number;
}

export function summarize(xs: number[]): Summary {
  if (xs.length === 0) return { n: 0, median: Number.NaN, min: Number.NaN, max: Number.NaN };
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { n: s.length, median, min: s[0], max: s[s.length - 1] };
}

/** A Markdown table, padded so it also reads well in a terminal. */
export function markdownTable(header: string[], rows: string[][], rightAligned: boolean[] = []): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const cell = (s: string, i: number) => (rightAligned[i] ? s.padStart(widths[i]) : s.padEnd(widths[i]));
  const line = (r: string[]) => `| ${r.map(cell).join(" | ")} |`;
  const rule = `| ${widths.map((w, i) => (rightAligned[i] ? `${"-".repeat(w - 1)}:` : "-".repeat(w))).join(" | ")} |`;
  return [line(header), rule, ...rows.map(line)].join("\n");
}

export interface Machine {
  cores: number;
  /** 1-minute load average when the benchmark started: other work on the machine skews the figures. */
  load: number;
  cpuModel: string;
  kernel: string;
  node: string;
  docker: string;
}

/** The facts a reader needs to compare figures across machines. */
export function machine(): Machine {
  let docker = "unknown";
  try {
    docker = execFileSync("docker", ["version", "--format", "{{.Server.Version}}"], { encoding: "utf8" }).trim();
  } catch {
    // no Docker: the API benchmark does not need it
  }
  const c = cpus();
  return {
    cores: c.length,
    load: loadavg()[0],
    cpuModel: c[0]?.model.trim() ?? "unknown",
    kernel: release(),
    node: process.version,
    docker,
  };
}

export const describeMachine = (m: Machine) =>
  `${m.cores} cores (${m.cpuModel}), Linux ${m.kernel}, Node ${m.node}, Docker Engine ${m.docker}; ` +
  `load average ${m.load.toFixed(2)} at the start`;

export const today = () => new Date().toISOString().slice(0, 10);

/** Says so when other work is running: the figures (less so the ratios) will be noisy. */
export function warnIfBusy(m: Machine) {
  if (m.load > m.cores * 0.5)
    process.stderr.write(
      `bench: load average is ${m.load.toFixed(2)} on ${m.cores} cores; other work will skew these figures\n`,
    );
}

/** What one wrk run measured. */
export interface WrkResult {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  non2xx: number;
  socketErrors: number;
}

const unitMs: Record<string, number> = { us: 1e-3, ms: 1, s: 1e3, m: 60e3 };

/** Reads wrk's `--latency` report. */
export function parseWrk(out: string): WrkResult {
  const num = (re: RegExp) => {
    const m = re.exec(out);
    if (!m) throw new Error(`cannot find ${re} in wrk's output:\n${out}`);
    return m;
  };
  const latency = (pct: string) => {
    const m = num(new RegExp(`^\\s*${pct}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, "m"));
    return Number(m[1]) * unitMs[m[2]];
  };
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  return {
    rps: Number(num(/Requests\/sec:\s+([\d.]+)/)[1]),
    p50Ms: latency("50"),
    p99Ms: latency("99"),
    requests: Number(num(/(\d+) requests in/)[1]),
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0),
    socketErrors: errors ? errors.slice(1).reduce((a, b) => a + Number(b), 0) : 0,
  };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === "object" && addr ? resolve(addr.port) : reject(new Error("no port"))));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, output: () => string) {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with ${child.exitCode}:\n${output()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = createConnection({ host: "127.0.0.1", port }, () => {
        s.end();
        resolve(true);
      });
      s.on("error", () => resolve(false));
    });
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`moto_server did not listen on ${port} in 30 s:\n${output()}`);
}

/** Starts moto's server (the peer several benchmarks measure against) on 127.0.0.1. */
export async function startMoto(fixedPort?: number) {
  try {
    execFileSync("which", ["moto_server"], { stdio: "ignore" });
  } catch {
    throw new Error("moto_server is not on PATH (pip install 'moto[server]')");
  }
  const port = fixedPort ?? (await freePort());
  const child = spawn("moto_server", ["-H", "127.0.0.1", "-p", String(port)], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout?.on("data", (d) => {
    out = (out + d).slice(-20_000);
  });
  child.stderr?.on("data", (d) => {
    out = (out + d).slice(-20_000); // werkzeug logs a line per request; keep only the tail
  });
  await waitForPort(port, child, () => out);
  const exited = new Promise<void>((r) => child.on("exit", () => r()));
  return {
    port,
    pid: child.pid!,
    stop: async () => {
      child.kill("SIGTERM");
      await Promise.race([exited, sleep(5000)]);
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    },
  };
}

export function motoVersion() {
  try {
    return execFileSync("python3", ["-c", "import moto; print(moto.__version__)"], { encoding: "utf8" }).trim();
  } catch {
    return "unknown";
  }
}
