import { describe, expect, it } from "vitest";
import { Authorizer } from "../../src/iam/authorizer.js";
import { IamStore } from "../../src/iam/store.js";
import { type ServiceModule, registerIam, startModules, stopModules } from "../../src/services/module.js";
import { openDb } from "../../src/store/db.js";
import { DocumentStore } from "../../src/store/documents.js";

const clock = { now: () => new Date("2025-01-01T00:00:00Z") };

function recording(names: string[], log: string[], failStop?: string): ServiceModule[] {
  return names.map((name) => ({
    name,
    definitions: [],
    iam: { prefixes: {} },
    start: async () => {
      await Promise.resolve();
      log.push(`start ${name}`);
    },
    stop: () => {
      log.push(`stop ${name}`);
      if (name === failStop) throw new Error(`${name} failed`);
    },
  }));
}

describe("service modules", () => {
  it("start in order, each finished before the next, and stop in reverse", async () => {
    const log: string[] = [];
    const modules = recording(["a", "b", "c"], log);
    await startModules(modules);
    await stopModules(modules);
    expect(log).toEqual(["start a", "start b", "start c", "stop c", "stop b", "stop a"]);
  });

  it("stop every module even when one fails, then report the failure", async () => {
    const log: string[] = [];
    const modules = recording(["a", "b", "c"], log, "b");
    await expect(stopModules(modules)).rejects.toThrow("b failed");
    expect(log).toEqual(["stop c", "stop b", "stop a"]);
  });

  it("modules without a lifecycle are skipped", async () => {
    const bare: ServiceModule = { name: "sts", definitions: [], iam: { prefixes: { sts: "sts" } } };
    await expect(startModules([bare])).resolves.toBeUndefined();
    await expect(stopModules([bare])).resolves.toBeUndefined();
  });

  it("tell IAM each module's action prefixes, resolvers and resource policies", () => {
    const authorizer = new Authorizer(new IamStore(new DocumentStore(openDb(":memory:"))), clock);
    const scope = { account: "123456789012", region: "us-east-1" };
    expect(authorizer.action("elbv2", "elasticloadbalancing", "CreateLoadBalancer")).toBe(
      "elasticloadbalancing:CreateLoadBalancer",
    );
    expect(authorizer.action("cloudwatch", "monitoring", "PutMetricData")).toBe("monitoring:PutMetricData");
    registerIam(authorizer, [
      {
        name: "cloudwatch",
        definitions: [],
        iam: {
          prefixes: { cloudwatch: "cloudwatch" },
          resources: { cloudwatch: () => ["arn:aws:cloudwatch:us-east-1:123456789012:alarm:x"] },
        },
      },
    ]);
    expect(authorizer.action("cloudwatch", "monitoring", "PutMetricData")).toBe("cloudwatch:PutMetricData");
    expect(authorizer.resources("cloudwatch", "DescribeAlarms", {}, scope)).toEqual([
      "arn:aws:cloudwatch:us-east-1:123456789012:alarm:x",
    ]);
    // Services without a resolver: an ARN member of the input, otherwise `*`.
    expect(authorizer.resources("sts", "GetCallerIdentity", {}, scope)).toEqual(["*"]);
  });
});

describe("WorkQueue timers", () => {
  it("requeue delays run on the injected clock's timers", async () => {
    const { WorkQueue } = await import("../../src/controllers/work-queue.js");
    const pending: { ms: number; fn: () => void; cancelled: boolean }[] = [];
    const timerClock = {
      now: () => new Date(0),
      after(ms: number, fn: () => void) {
        const t = { ms, fn, cancelled: false };
        pending.push(t);
        return () => {
          t.cancelled = true;
        };
      },
    };
    const runs: string[] = [];
    const q = new WorkQueue(
      async (key) => {
        runs.push(key);
        return runs.length === 1 ? { requeueAfterMs: 1000 } : undefined;
      },
      1,
      () => {},
      timerClock,
    );
    q.add("k");
    await q.idle();
    expect(runs).toEqual(["k"]);
    expect(pending.map((t) => t.ms)).toEqual([1000]);
    pending[0].fn();
    await q.idle();
    expect(runs).toEqual(["k", "k"]);
    q.addAfter("other", 500);
    q.close();
    expect(pending[1].cancelled).toBe(true);
  });
});
