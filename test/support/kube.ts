import { execFile, execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { promisify } from "node:util";
import type { AwsCredentialIdentity } from "@smithy/types";
import { region } from "./berth.js";

const run = promisify(execFile);

/** Debian's kubectl 1.20 (scripts/ensure-test-tools.sh unpacks it) and whatever newer kubectl the machine has. */
export const KUBECTL_120 = "/opt/berth-tools/kubectl-1.20/usr/bin/kubectl";
export const kubectls = (): string[] =>
  [KUBECTL_120, "/usr/bin/kubectl"].filter((p, i, all) => existsSync(p) && all.indexOf(p) === i);

/** The environment kubectl and its `aws eks get-token` exec plugin run in: the AWS CLI v2 first on PATH. */
export const kubeEnv = (kubeconfig: string, credentials: AwsCredentialIdentity, endpoint: string) => ({
  PATH: `/usr/bin:/bin:${process.env.PATH ?? ""}`,
  HOME: process.env.HOME ?? "/tmp",
  KUBECONFIG: kubeconfig,
  AWS_ACCESS_KEY_ID: credentials.accessKeyId,
  AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
  ...(credentials.sessionToken ? { AWS_SESSION_TOKEN: credentials.sessionToken } : {}),
  AWS_DEFAULT_REGION: region,
  AWS_ENDPOINT_URL: endpoint,
  AWS_PAGER: "",
});

export interface KubectlResult {
  ok: boolean;
  stdout: string;
  stderr: string;
}

/** Runs kubectl; never throws on a non-zero exit (tests assert on refusals too). */
export async function kubectl(
  bin: string,
  env: Record<string, string>,
  args: string[],
  opts: { input?: string; timeoutMs?: number } = {},
): Promise<KubectlResult> {
  const child = run(bin, args, { env, timeout: opts.timeoutMs ?? 90_000, maxBuffer: 16 << 20 });
  if (opts.input !== undefined) {
    child.child.stdin?.end(opts.input);
  }
  try {
    const { stdout, stderr } = await child;
    return { ok: true, stdout, stderr };
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message?: string };
    return { ok: false, stdout: err.stdout ?? "", stderr: err.stderr ?? err.message ?? String(e) };
  }
}

/** Polls fn until it returns a value (not undefined) or the time is up. */
export async function eventually<T>(fn: () => Promise<T | undefined>, what: string, timeoutMs = 90_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
}

/** Docker containers (running or not) of an EKS cluster's pods. */
export const clusterContainers = (account: string, cluster: string): string[] =>
  execFileSync("docker", ["ps", "-aq", "--filter", `label=berth.kube.cluster=${account}/${region}/${cluster}`], {
    encoding: "utf8",
  })
    .split("\n")
    .filter(Boolean);

/**
 * Removes what an EKS test's cluster left in Docker: its pod containers and its network.
 * Tolerant by design: a container Docker is already removing (auto-remove, a pod's own teardown) is not a failure.
 */
export function removeClusterContainers(account: string, cluster: string) {
  for (const id of clusterContainers(account, cluster))
    spawnSync("docker", ["rm", "-f", "-v", id], { stdio: "ignore" });
  spawnSync("docker", ["network", "rm", `berth-eks-${account}-${region}-${cluster}`], { stdio: "ignore" });
}
