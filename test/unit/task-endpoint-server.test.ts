import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EndpointIds } from "../../src/task-endpoint/endpoint-ids.js";
import { containerMetadata } from "../../src/task-endpoint/metadata.js";
import { TaskEndpoint, expiration } from "../../src/task-endpoint/server.js";
import type { TaskIdentity } from "../../src/task-endpoint/task-identity.js";
import { createLogger } from "../../src/core/logger.js";
import type { ContainerRuntime, ObservedContainer } from "../../src/runtime/runtime.js";
import type { TaskRecord } from "../../src/store/schema/ecs.js";
import { openDb } from "../../src/store/db.js";
import { DocumentStore } from "../../src/store/documents.js";

const SCOPE = { account: "123456789012", region: "us-east-1" };
const ARN = "arn:aws:ecs:us-east-1:123456789012:task/c/0123456789abcdef0123456789abcdef";
const OTHER = "arn:aws:ecs:us-east-1:123456789012:task/c/fedcba9876543210fedcba9876543210";

const task = (arn: string, extra: Partial<TaskRecord> = {}): TaskRecord => ({
  taskArn: arn,
  clusterArn: "arn:aws:ecs:us-east-1:123456789012:cluster/c",
  lastStatus: "RUNNING",
  desiredStatus: "RUNNING",
  createdAt: new Date(0),
  tags: [{ key: "team", value: "blue" }],
  containers: [{ name: "app", lastStatus: "RUNNING", containerArn: `${arn}/container` }],
  spec: {
    family: "web",
    revision: 3,
    networkMode: "awsvpc",
    cpuUnits: 256,
    memoryMiB: 512,
    containers: [{ name: "app", image: "busybox" }],
    volumes: [],
    taskRoleArn: "arn:aws:iam::123456789012:role/app",
  },
  ...extra,
});

const observed = (arn: string, ip: string): ObservedContainer => ({
  id: `id-${ip}`,
  name: "/ecs-web-3-app",
  image: "busybox",
  imageId: "sha256:abc",
  labels: { "berth.task-arn": arn, "berth.container": "app", "berth.store": "s1", "com.amazonaws.ecs.cluster": "c" },
  state: "running",
  startedAt: new Date("2025-01-01T00:00:00Z"),
  ipAddress: ip,
  ports: [],
});

describe("task endpoint (credentials and metadata)", () => {
  const store = new DocumentStore(openDb(":memory:"));
  const ids = new EndpointIds(store, "secret");
  const tasks = store.collection<TaskRecord>("ecs.task", { id: (t) => t.taskArn, arn: (t) => t.taskArn });
  let containers: ObservedContainer[] = [];
  let mints = 0;
  const runtime = {
    list: async (labels: Record<string, string>) =>
      containers.filter((c) => Object.entries(labels).every(([k, v]) => c.labels[k] === v)),
    stats: async () => ({ readAt: 1, cpuTotalNs: 5, onlineCpus: 2, memoryUsedBytes: 1000, memoryLimitBytes: 4000 }),
  } as unknown as ContainerRuntime;
  const identity = {
    assumeForTask: () => {
      mints++;
      return {
        ok: true,
        role: { Arn: "arn:aws:iam::123456789012:role/app" },
        credentials: {
          AccessKeyId: "ASIAEXAMPLE",
          SecretAccessKey: "secret",
          SessionToken: "token",
          Expiration: new Date("2030-01-01T06:00:00.123Z"),
        },
      };
    },
  } as unknown as TaskIdentity;
  const endpoint = new TaskEndpoint({
    config: { port: 0, interface: "lo" },
    ids,
    tasks,
    runtime,
    identity,
    clock: { now: () => new Date("2030-01-01T00:00:00Z") },
    logger: createLogger("silent"),
    storeId: "s1",
  });
  let server: Server;
  let base: string;

  beforeAll(async () => {
    server = createServer((req, res) => void endpoint.handle(req, res));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    tasks.put(SCOPE, task(ARN));
    tasks.put(SCOPE, task(OTHER));
  });
  afterAll(() => server.close());

  const get = async (path: string) => {
    const r = await fetch(base + path);
    // biome-ignore lint/suspicious/noExplicitAny: JSON documents under test
    return { status: r.status, body: (await r.json()) as any };
  };

  it("formats Expiration as UTC with a Z and no fraction", () => {
    expect(expiration(Date.parse("2030-01-01T06:00:00.123Z"))).toBe("2030-01-01T06:00:00Z");
  });

  it("answers the ECS agent's errors for missing and unknown ids", async () => {
    expect(await get("/v2/credentials")).toEqual({
      status: 400,
      body: { code: "NoIdInRequest", message: "CredentialsV2Request: No Credential ID in the request" },
    });
    expect(await get("/v2/credentials/nope")).toMatchObject({ status: 400, body: { code: "InvalidIdInRequest" } });
  });

  it("serves a task's credentials in the agent's format, reusing them until near expiry", async () => {
    containers = [observed(ARN, "10.0.0.5")];
    const id = ids.credentials(ARN);
    const r = await get(`/v2/credentials/${id}`);
    expect(r).toEqual({
      status: 200,
      body: {
        RoleArn: "arn:aws:iam::123456789012:role/app",
        AccessKeyId: "ASIAEXAMPLE",
        SecretAccessKey: "secret",
        Token: "token",
        Expiration: "2030-01-01T06:00:00Z",
      },
    });
    await get(`/v2/credentials/${id}`);
    expect(mints).toBe(1);
    expect(ids.credentials(ARN)).toBe(id); // stable for the task
    expect(ids.credentials(OTHER)).not.toBe(id);
  });

  it("refuses the id of a task that stopped", async () => {
    const id = ids.credentials(OTHER);
    tasks.put(SCOPE, task(OTHER, { lastStatus: "STOPPED", desiredStatus: "STOPPED" }));
    expect(await get(`/v2/credentials/${id}`)).toMatchObject({ status: 400, body: { code: "InvalidIdInRequest" } });
    tasks.put(SCOPE, task(OTHER));
  });

  it("refuses a caller whose address belongs to another task's container", async () => {
    containers = [observed(OTHER, "127.0.0.1")];
    expect(await get(`/v2/credentials/${ids.credentials(ARN)}`)).toMatchObject({
      status: 400,
      body: { code: "InvalidIdInRequest" },
    });
    containers = [];
  });

  it("serves task metadata v4: the container, the task, tags and stats", async () => {
    containers = [observed(ARN, "10.0.0.5")];
    const id = ids.metadata(ARN, "app");
    const c = await get(`/v4/${id}`);
    expect(c.body).toMatchObject({
      DockerId: "id-10.0.0.5",
      Name: "app",
      DockerName: "ecs-web-3-app",
      KnownStatus: "RUNNING",
      Labels: { "com.amazonaws.ecs.cluster": "c" },
      Networks: [{ NetworkMode: "awsvpc", IPv4Addresses: ["10.0.0.5"] }],
    });
    expect(c.body.Labels["berth.store"]).toBeUndefined();
    const t = await get(`/v4/${id}/task`);
    expect(t.body).toMatchObject({
      TaskARN: ARN,
      Family: "web",
      Revision: "3",
      Limits: { CPU: 0.25, Memory: 512 },
      KnownStatus: "RUNNING",
    });
    expect(t.body.TaskTags).toBeUndefined();
    expect((await get(`/v4/${id}/taskWithTags`)).body.TaskTags).toEqual({ team: "blue" });
    expect((await get(`/v4/${id}/stats`)).body).toMatchObject({ memory_stats: { usage: 1000, limit: 4000 } });
    expect(Object.keys((await get(`/v4/${id}/task/stats`)).body)).toEqual(["id-10.0.0.5"]);
    expect((await get(`/v3/${id}/task`)).body.TaskARN).toBe(ARN);
    expect((await get("/v4/unknown")).status).toBe(404);
  });

  it("forgets the ids of tasks that are gone", () => {
    const id = ids.credentials(OTHER);
    tasks.delete(SCOPE, OTHER);
    endpoint.prune();
    expect(ids.resolve(id)).toBeUndefined();
  });

  it("builds container metadata from the stored task when Docker has no container yet", () => {
    const m = containerMetadata(task(ARN), SCOPE, "app", undefined);
    expect(m).toMatchObject({ Name: "app", Image: "busybox", DockerId: "", KnownStatus: "RUNNING" });
  });
});
