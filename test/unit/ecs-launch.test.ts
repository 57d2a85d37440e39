import { createHash } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Clock } from "../../src/core/clock.js";
import { localDockerHost } from "../../src/hosts/local.js";
import { HostRegistry } from "../../src/hosts/registry.js";
import type { ContainerRuntime } from "../../src/runtime/runtime.js";
import { ecsService } from "../../src/services/ecs/provider.js";
import type { RequestContext } from "../../src/protocol/service.js";
import { type Db, openDb } from "../../src/store/db.js";
import { DocumentStore } from "../../src/store/documents.js";

/** ECS launches on EC2 capacity over an in-memory store: the scheduler's plan and its applier. */
describe("ECS EC2 launches (plan outside the write, re-validated inside)", () => {
  let db: Db;
  let store: DocumentStore;
  let ecs: ReturnType<typeof ecsService>;
  const clock: Clock = { now: () => new Date(Date.UTC(2025, 0, 10)) };
  const ctx: RequestContext = {
    account: "000000000000",
    region: "us-east-1",
    requestId: "test",
    principal: { accessKeyId: "test", arn: "arn:aws:iam::000000000000:root" },
  };
  // biome-ignore lint/suspicious/noExplicitAny: the test calls handlers by name
  const call = async (op: string, input: any): Promise<any> => ecs.service.provider[op]!(input, ctx);

  beforeEach(async () => {
    db = openDb(":memory:");
    store = new DocumentStore(db);
    const hosts = new HostRegistry([localDockerHost({} as ContainerRuntime, { cpuUnits: 2048, memoryMiB: 1000 })]);
    ecs = ecsService({ store, clock, hosts });
    await call("RegisterTaskDefinition", {
      family: "web",
      requiresCompatibilities: ["EC2"],
      networkMode: "bridge",
      containerDefinitions: [{ name: "web", image: "busybox", memory: 400 }],
    });
  });
  afterEach(() => db.close());

  it("the local host joins with the identity it always had", async () => {
    await call("RunTask", { taskDefinition: "web" });
    const [instance] = ecs.ecs.containerInstances.list(ctx);
    const clusterArn = "arn:aws:ecs:us-east-1:000000000000:cluster/default";
    const digest = createHash("sha256").update(`000000000000/us-east-1/${clusterArn}`).digest("hex");
    expect(instance.id).toBe(digest.slice(0, 32));
    expect(instance.containerInstanceArn).toBe(
      `arn:aws:ecs:us-east-1:000000000000:container-instance/default/${digest.slice(0, 32)}`,
    );
    expect(instance.ec2InstanceId).toBe(`i-${digest.slice(32, 49)}`);
    expect(instance.registeredResources?.slice(0, 2).map((r) => r.integerValue)).toEqual([2048, 1000]);
  });

  it("places what fits and names the instance and AWS's reason for the rest", async () => {
    const out = await call("RunTask", { taskDefinition: "web", count: 3 });
    const [instance] = ecs.ecs.containerInstances.list(ctx);
    expect(out.tasks).toHaveLength(2);
    expect(out.failures).toEqual([{ arn: instance.containerInstanceArn, reason: "RESOURCE:MEMORY" }]);
  });

  it("re-plans inside the write when the instance filled up after the snapshot", async () => {
    await call("RunTask", { taskDefinition: "web" }); // the instance joins; 600 MiB left
    const [task] = ecs.ecs.tasks.list(ctx);
    // Another writer lands a 400 MiB task between the snapshot and the write transaction.
    const transaction = store.transaction.bind(store);
    store.transaction = <T>(fn: () => T): T => {
      store.transaction = transaction;
      transaction(() => ecs.ecs.tasks.put(ctx, { ...task, taskArn: `${task.taskArn}0` }));
      return transaction(fn);
    };
    const out = await call("RunTask", { taskDefinition: "web" });
    const [instance] = ecs.ecs.containerInstances.list(ctx);
    expect(out.tasks).toEqual([]);
    expect(out.failures).toEqual([{ arn: instance.containerInstanceArn, reason: "RESOURCE:MEMORY" }]);
    expect(ecs.ecs.tasks.list(ctx)).toHaveLength(2);
  });

  it("StartTask answers in the order named: a task, MISSING, or the reason", async () => {
    await call("RunTask", { taskDefinition: "web" });
    const [instance] = ecs.ecs.containerInstances.list(ctx);
    const out = await call("StartTask", {
      taskDefinition: "web",
      containerInstances: [instance.id, "0123456789abcdef0123456789abcdef", instance.containerInstanceArn],
    });
    expect(out.tasks).toHaveLength(1);
    expect(out.failures).toEqual([
      { arn: "0123456789abcdef0123456789abcdef", reason: "MISSING" },
      { arn: instance.containerInstanceArn, reason: "RESOURCE:MEMORY" },
    ]);
  });
});
