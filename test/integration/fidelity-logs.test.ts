/**
 * CloudWatch Logs as AWS documents it (issue 16): logGroupIdentifier (name, ARN, ARN with `:*`)
 * on GetLogEvents / FilterLogEvents and its errors; export tasks PENDING → COMPLETED into a local
 * bucket directory (<dataDir>/s3/<bucket>/), one active task at a time, CancelExportTask,
 * ResourceNotFoundException for unknown ids, and a PENDING task surviving a restart. SDK v3 and
 * the AWS CLI v2.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { promisify } from "node:util";
import {
  CancelExportTaskCommand,
  CloudWatchLogsClient,
  CreateExportTaskCommand,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  DescribeExportTasksCommand,
  FilterLogEventsCommand,
  GetLogEventsCommand,
  PutLogEventsCommand,
} from "@aws-sdk/client-cloudwatch-logs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningBerth, clientConfig, startBerth } from "../support/berth.js";

const run = promisify(execFile);

async function refusal(p: Promise<unknown>) {
  try {
    await p;
  } catch (e) {
    const err = e as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: err.name, message: err.message, status: err.$metadata?.httpStatusCode };
  }
  throw new Error("the call succeeded");
}

describe("CloudWatch Logs fidelity (own Berth)", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "berth-logs-fidelity-"));
  let berth: RunningBerth;
  let logs: CloudWatchLogsClient;
  const group = "/fidelity/app";
  const arn = `arn:aws:logs:us-east-1:000000000000:log-group:${group}`;
  const now = Date.now();
  const cli = async (...args: string[]) => {
    const { stdout } = await run(
      "/usr/bin/aws",
      ["--endpoint-url", berth.endpoint, "--output", "json", "logs", ...args],
      {
        env: {
          ...process.env,
          AWS_ACCESS_KEY_ID: "test",
          AWS_SECRET_ACCESS_KEY: "test",
          AWS_DEFAULT_REGION: "us-east-1",
          AWS_PAGER: "",
        },
      },
    );
    return stdout.trim() ? JSON.parse(stdout) : {};
  };

  beforeAll(async () => {
    // New export tasks stay PENDING for 10 minutes here, so cancelling one is not a race.
    berth = await startBerth({ dataDir, env: { BERTH_LOGS_EXPORT_DELAY_MS: "600000" } });
    logs = new CloudWatchLogsClient(clientConfig(berth.endpoint));
    await logs.send(new CreateLogGroupCommand({ logGroupName: group }));
    for (const stream of ["web/1", "worker"]) {
      await logs.send(new CreateLogStreamCommand({ logGroupName: group, logStreamName: stream }));
      await logs.send(
        new PutLogEventsCommand({
          logGroupName: group,
          logStreamName: stream,
          logEvents: [
            { timestamp: now - 2000, message: `${stream} one` },
            { timestamp: now - 1000, message: `${stream} two` },
          ],
        }),
      );
    }
  }, 60_000);
  afterAll(async () => {
    await berth?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("GetLogEvents and FilterLogEvents take logGroupIdentifier as a name, an ARN or an ARN ending in :*", async () => {
    for (const id of [group, arn, `${arn}:*`]) {
      const got = await logs.send(
        new GetLogEventsCommand({ logGroupIdentifier: id, logStreamName: "worker", startFromHead: true }),
      );
      expect(got.events?.map((e) => e.message)).toEqual(["worker one", "worker two"]);
      const found = await logs.send(new FilterLogEventsCommand({ logGroupIdentifier: id, filterPattern: "two" }));
      expect(found.events?.map((e) => e.message).sort()).toEqual(["web/1 two", "worker two"]);
    }
    const cliEvents = await cli(
      "get-log-events",
      "--log-group-identifier",
      arn,
      "--log-stream-name",
      "web/1",
      "--start-from-head",
    );
    expect(cliEvents.events.map((e: { message: string }) => e.message)).toEqual(["web/1 one", "web/1 two"]);
  });

  it("logGroupIdentifier errors: both given, neither, a malformed ARN, another account's ARN", async () => {
    expect(
      await refusal(
        logs.send(new GetLogEventsCommand({ logGroupIdentifier: arn, logGroupName: group, logStreamName: "worker" })),
      ),
    ).toMatchObject({
      name: "InvalidParameterException",
      status: 400,
      message: expect.stringMatching(/mutually exclusive/),
    });
    expect(await refusal(logs.send(new FilterLogEventsCommand({})))).toMatchObject({
      name: "InvalidParameterException",
      message: expect.stringMatching(/logGroupName or logGroupIdentifier/),
    });
    expect(
      await refusal(
        logs.send(
          new FilterLogEventsCommand({ logGroupIdentifier: "arn:aws:logs:us-east-1:000000000000:destination:x" }),
        ),
      ),
    ).toMatchObject({ name: "InvalidParameterException", message: expect.stringMatching(/is not a log group ARN/) });
    expect(
      await refusal(
        logs.send(
          new FilterLogEventsCommand({ logGroupIdentifier: `arn:aws:logs:us-east-1:111122223333:log-group:${group}` }),
        ),
      ),
    ).toMatchObject({ name: "ResourceNotFoundException", message: "The specified log group does not exist." });
  });

  let pendingTask: string;

  it("export tasks: PENDING, one active at a time, cancel, errors for unknown ids and bad input", async () => {
    const { taskId: first } = await logs.send(
      new CreateExportTaskCommand({ logGroupName: group, from: 0, to: now, destination: "berth-exports" }),
    );
    expect(first).toMatch(/^[0-9a-f-]{36}$/);
    const described = await cli("describe-export-tasks", "--task-id", first!);
    expect(described.exportTasks).toEqual([
      expect.objectContaining({
        taskId: first,
        logGroupName: group,
        destination: "berth-exports",
        destinationPrefix: "exportedlogs",
        status: { code: "PENDING" },
      }),
    ]);
    expect(
      await refusal(
        logs.send(new CreateExportTaskCommand({ logGroupName: group, from: 0, to: now, destination: "berth-exports" })),
      ),
    ).toMatchObject({ name: "LimitExceededException", message: "Resource limit exceeded." });

    await cli("cancel-export-task", "--task-id", first!);
    const cancelled = await logs.send(new DescribeExportTasksCommand({ statusCode: "CANCELLED" }));
    expect(cancelled.exportTasks?.map((t) => t.taskId)).toEqual([first]);
    expect(await refusal(logs.send(new CancelExportTaskCommand({ taskId: first })))).toMatchObject({
      name: "InvalidOperationException",
    });
    expect(
      await refusal(logs.send(new CancelExportTaskCommand({ taskId: "00000000-0000-0000-0000-000000000000" }))),
    ).toEqual({
      name: "ResourceNotFoundException",
      message: "The specified export task does not exist.",
      status: 400,
    });
    expect((await logs.send(new DescribeExportTasksCommand({ taskId: "no-such-task" }))).exportTasks).toEqual([]);
    for (const [input, name] of [
      [{ logGroupName: "/no/such/group", from: 0, to: now, destination: "berth-exports" }, "ResourceNotFoundException"],
      [{ logGroupName: group, from: now, to: 0, destination: "berth-exports" }, "InvalidParameterException"],
      [{ logGroupName: group, from: 0, to: now, destination: "Not_A_Bucket" }, "InvalidParameterException"],
    ] as const)
      expect((await refusal(logs.send(new CreateExportTaskCommand(input)))).name).toBe(name);

    // The one left PENDING runs after the restart below.
    const created = await cli(
      "create-export-task",
      "--task-name",
      "after-restart",
      "--log-group-name",
      group,
      "--log-stream-name-prefix",
      "web/",
      "--from",
      String(now - 1500),
      "--to",
      String(now),
      "--destination",
      "berth-exports",
      "--destination-prefix",
      "app",
    );
    pendingTask = created.taskId;
  });

  it("a PENDING task survives a restart and completes into <dataDir>/s3/<bucket>/<prefix>/<taskId>/<stream>/000000.gz", async () => {
    expect(await berth.stop()).toBe(0);
    berth = await startBerth({ dataDir, env: { BERTH_LOGS_EXPORT_DELAY_MS: "0" } });
    logs = new CloudWatchLogsClient(clientConfig(berth.endpoint));
    let code: string | undefined;
    for (let i = 0; i < 100 && code !== "COMPLETED"; i++) {
      const r = await logs.send(new DescribeExportTasksCommand({ taskId: pendingTask }));
      code = r.exportTasks?.[0]?.status?.code;
      if (code !== "COMPLETED") await new Promise((res) => setTimeout(res, 100));
    }
    expect(code).toBe("COMPLETED");
    const [task] = (await logs.send(new DescribeExportTasksCommand({ taskId: pendingTask }))).exportTasks ?? [];
    expect(task).toMatchObject({ taskName: "after-restart", destinationPrefix: "app", status: { code: "COMPLETED" } });
    expect(task.executionInfo?.completionTime).toBeGreaterThanOrEqual(task.executionInfo!.creationTime!);
    const object = join(dataDir, "s3", "berth-exports", "app", pendingTask, "web", "1", "000000.gz");
    expect(gunzipSync(readFileSync(object)).toString()).toBe(`${new Date(now - 1000).toISOString()} web/1 two\n`);
  }, 60_000);
});
