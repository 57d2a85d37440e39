import { execFileSync } from "node:child_process";
import { DescribeTasksCommand, ECSClient, type Task } from "@aws-sdk/client-ecs";
import { clientConfig } from "./berth.js";

export const ecsClient = (endpoint: string) => new ECSClient(clientConfig(endpoint));

export const awsvpc = { awsvpcConfiguration: { subnets: ["subnet-12345678"], assignPublicIp: "ENABLED" as const } };

/** Polls DescribeTasks until the predicate holds; fails with the last state seen. */
export async function waitForTask(
  ecs: ECSClient,
  cluster: string | undefined,
  taskArn: string,
  predicate: (t: Task) => boolean,
  timeoutMs = 60_000,
): Promise<Task> {
  const deadline = Date.now() + timeoutMs;
  let last: Task | undefined;
  while (Date.now() < deadline) {
    const out = await ecs.send(new DescribeTasksCommand({ cluster, tasks: [taskArn] }));
    last = out.tasks?.[0];
    if (last && predicate(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(
    `task did not reach the expected state in ${timeoutMs} ms; last seen: ${JSON.stringify(last, null, 1)}`,
  );
}

export const running = (t: Task) => t.lastStatus === "RUNNING";
export const stopped = (t: Task) => t.lastStatus === "STOPPED";

/** GET a URL with curl (a real client), returning the body; throws on failure. */
export function curl(url: string): string {
  return execFileSync("curl", ["-sS", "--max-time", "5", url], { encoding: "utf8" });
}

/** Docker containers carrying a label, via the docker CLI. */
export function dockerIds(label: string): string[] {
  return execFileSync("docker", ["ps", "-aq", "--filter", `label=${label}`], { encoding: "utf8" })
    .split("\n")
    .filter(Boolean);
}

export function dockerInspect(id: string): Record<string, unknown> {
  return JSON.parse(execFileSync("docker", ["inspect", id], { encoding: "utf8" }))[0];
}

/** Removes every container a Berth with this data dir created (test cleanup). */
export function removeContainersOf(dataDir: string) {
  for (const id of dockerIds(`berth.data-dir=${dataDir}`)) {
    try {
      execFileSync("docker", ["rm", "-f", "-v", id], { stdio: "ignore" });
    } catch {
      // already being removed by Berth
    }
  }
}
