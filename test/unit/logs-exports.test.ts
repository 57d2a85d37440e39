import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { TimerClock } from "../../src/core/clock.js";
import type { RequestContext } from "../../src/protocol/service.js";
import {
  bucketNameProblem,
  exportLine,
  exportObjectKey,
  localBuckets,
  writeTestKey,
} from "../../src/services/logs/export-files.js";
import { logsService } from "../../src/services/logs/provider.js";
import { type Db, openDb } from "../../src/store/db.js";
import { DocumentStore } from "../../src/store/documents.js";

describe("export task objects", () => {
  it.each<[string, RegExp | undefined]>([
    ["my-bucket", undefined],
    ["logs.example.com", undefined],
    ["ab", /3 to 63/],
    ["a".repeat(64), /3 to 63/],
    ["My-Bucket", /lowercase/],
    ["-bucket", /begin and end/],
    ["my..bucket", /adjacent dots/],
    ["192.168.1.10", /IP address/],
  ])("bucket %s", (bucket, problem) => {
    const found = bucketNameProblem(bucket);
    if (problem) expect(found).toMatch(problem);
    else expect(found).toBeUndefined();
  });

  it("lays objects out as AWS does", () => {
    expect(exportObjectKey("exportedlogs", "t-1", "web/abc")).toBe("exportedlogs/t-1/web/abc/000000.gz");
    expect(exportObjectKey("/a/b/", "t-1", "s", 3)).toBe("a/b/t-1/s/000003.gz");
    expect(writeTestKey("exportedlogs")).toBe("exportedlogs/aws-logs-write-test");
    expect(exportLine({ timestamp: Date.UTC(2025, 0, 2, 3, 4, 5, 6), message: "hi" })).toBe(
      "2025-01-02T03:04:05.006Z hi\n",
    );
  });

  it("a local bucket refuses keys that leave it", () => {
    const dir = mkdtempSync(join(tmpdir(), "berth-export-test-"));
    try {
      expect(() => localBuckets(dir).put("b", "../../escape", Buffer.from("x"))).toThrow(/leaves its bucket/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("export tasks over the logs provider", () => {
  let db: Db;
  let dataDir: string;
  let logs: ReturnType<typeof logsService>;
  let pending: (() => void)[];
  const now = Date.UTC(2025, 0, 10);
  const clock: TimerClock = {
    now: () => new Date(now),
    after: (_ms, fn) => {
      pending.push(fn);
      return () => {
        pending = pending.filter((f) => f !== fn);
      };
    },
  };
  const fire = () => {
    const fns = pending;
    pending = [];
    for (const f of fns) f();
  };
  const ctx: RequestContext = {
    account: "000000000000",
    region: "us-east-1",
    requestId: "test",
    principal: { accessKeyId: "test", arn: "arn:aws:iam::000000000000:root" },
  };
  // biome-ignore lint/suspicious/noExplicitAny: the test calls handlers by name
  const call = async (op: string, input: any): Promise<any> => logs.service.provider[op]!(input, ctx);
  const refusal = async (op: string, input: unknown) => {
    try {
      await call(op, input);
    } catch (e) {
      return `${(e as Error).name}: ${(e as Error).message}`;
    }
    throw new Error(`${op} succeeded`);
  };
  const status = async (taskId: string) =>
    (await call("DescribeExportTasks", { taskId })).exportTasks[0]?.status.code as string | undefined;

  beforeEach(async () => {
    pending = [];
    dataDir = mkdtempSync(join(tmpdir(), "berth-export-test-"));
    db = openDb(":memory:");
    logs = logsService({ db, store: new DocumentStore(db), clock, retentionSweepMs: 0, dataDir });
    await call("CreateLogGroup", { logGroupName: "/app/web" });
    for (const stream of ["web/1", "web/2", "other"]) {
      await call("CreateLogStream", { logGroupName: "/app/web", logStreamName: stream });
      await call("PutLogEvents", {
        logGroupName: "/app/web",
        logStreamName: stream,
        logEvents: [
          { timestamp: now - 3000, message: `${stream} early` },
          { timestamp: now - 2000, message: `${stream} middle` },
          { timestamp: now - 1000, message: `${stream} late` },
        ],
      });
    }
  });
  afterEach(() => {
    logs.close();
    db.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("PENDING, then COMPLETED with one gzip object per stream holding the events in range", async () => {
    const { taskId } = await call("CreateExportTask", {
      taskName: "nightly",
      logGroupName: "/app/web",
      logStreamNamePrefix: "web/",
      from: now - 2000,
      to: now - 1000,
      destination: "exports",
      destinationPrefix: "logs",
    });
    expect(await status(taskId)).toBe("PENDING");
    fire();
    const [task] = (await call("DescribeExportTasks", { statusCode: "COMPLETED" })).exportTasks;
    expect(task).toMatchObject({
      taskId,
      taskName: "nightly",
      logGroupName: "/app/web",
      destination: "exports",
      destinationPrefix: "logs",
      status: { code: "COMPLETED" },
      executionInfo: { creationTime: now, completionTime: now },
    });
    const dir = join(dataDir, "s3", "exports", "logs", taskId, "web");
    expect(readdirSync(dir).sort()).toEqual(["1", "2"]);
    expect(gunzipSync(readFileSync(join(dir, "1", "000000.gz"))).toString()).toBe(
      `${new Date(now - 2000).toISOString()} web/1 middle\n${new Date(now - 1000).toISOString()} web/1 late\n`,
    );
    expect(readFileSync(join(dataDir, "s3", "exports", "logs", "aws-logs-write-test"), "utf8")).toBe(
      "Permission Check Successful",
    );
    expect(await refusal("CancelExportTask", { taskId })).toMatch(/^InvalidOperationException: .*already finished/);
  });

  it("one active task per account and region; cancel makes it CANCELLED and it never runs", async () => {
    const input = { logGroupName: "/app/web", from: 0, to: now, destination: "exports" };
    const { taskId } = await call("CreateExportTask", input);
    expect(await refusal("CreateExportTask", input)).toBe("LimitExceededException: Resource limit exceeded.");
    await call("CancelExportTask", { taskId });
    expect(await status(taskId)).toBe("CANCELLED");
    fire();
    expect(await status(taskId)).toBe("CANCELLED");
    expect(readdirSync(dataDir)).toEqual([]);
    // Another task may start once none is active.
    const second = await call("CreateExportTask", input);
    const ids = (await call("DescribeExportTasks", {})).exportTasks.map((t: { taskId: string }) => t.taskId);
    expect(ids.sort()).toEqual([second.taskId, taskId].sort());
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ["unknown group", { logGroupName: "/nope" }, /^ResourceNotFoundException: The specified log group does not exist/],
    ["bad bucket", { destination: "Bad_Bucket" }, /^InvalidParameterException: The destination bucket name Bad_Bucket/],
    ["from after to", { from: 10, to: 5 }, /^InvalidParameterException: Specified time range of '10' and '5'/],
    [
      "prefix leaving the bucket",
      { destinationPrefix: "a/../.." },
      /^InvalidParameterException: The destinationPrefix/,
    ],
  ])("CreateExportTask refuses %s", async (_, over, message) => {
    const input = { logGroupName: "/app/web", from: 0, to: now, destination: "exports", ...over };
    expect(await refusal("CreateExportTask", input)).toMatch(message);
    expect((await call("DescribeExportTasks", {})).exportTasks).toEqual([]);
  });

  it("unknown task ids: CancelExportTask is ResourceNotFoundException, DescribeExportTasks finds none", async () => {
    expect(await refusal("CancelExportTask", { taskId: "nope" })).toBe(
      "ResourceNotFoundException: The specified export task does not exist.",
    );
    expect(await call("DescribeExportTasks", { taskId: "nope" })).toEqual({ exportTasks: [] });
  });
});
