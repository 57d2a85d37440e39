import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  DeleteLogGroupCommand,
  DeleteLogStreamCommand,
  DeleteRetentionPolicyCommand,
  DescribeLogGroupsCommand,
  DescribeLogStreamsCommand,
  FilterLogEventsCommand,
  GetLogEventsCommand,
  ListTagsForResourceCommand,
  ListTagsLogGroupCommand,
  PutLogEventsCommand,
  PutLogGroupDeletionProtectionCommand,
  PutRetentionPolicyCommand,
  TagLogGroupCommand,
  TagResourceCommand,
  UntagLogGroupCommand,
  UntagResourceCommand,
} from "@aws-sdk/client-cloudwatch-logs";
import { describe, expect, inject, it } from "vitest";
import { clientConfig, startBerth } from "../support/berth.js";

const run = promisify(execFile);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe("CloudWatch Logs over awsJson1_1", () => {
  const endpoint = inject("endpoint");
  const logs = new CloudWatchLogsClient(clientConfig(endpoint));
  /** A group name no other test uses (the Berth is shared). */
  const unique = (label: string) => `/berth-test/${label}/${randomUUID().slice(0, 8)}`;
  const group = async (label: string, extra: { tags?: Record<string, string> } = {}) => {
    const name = unique(label);
    await logs.send(new CreateLogGroupCommand({ logGroupName: name, ...extra }));
    return name;
  };
  const stream = async (logGroupName: string, logStreamName = "s") => {
    await logs.send(new CreateLogStreamCommand({ logGroupName, logStreamName }));
    return logStreamName;
  };
  const putMessages = async (logGroupName: string, logStreamName: string, messages: string[], start = Date.now()) =>
    logs.send(
      new PutLogEventsCommand({
        logGroupName,
        logStreamName,
        logEvents: messages.map((message, i) => ({ timestamp: start + i, message })),
      }),
    );
  const fails = (promise: Promise<unknown>, name: string, message?: RegExp) =>
    expect(promise).rejects.toMatchObject({
      name,
      $metadata: { httpStatusCode: 400 },
      ...(message ? { message: expect.stringMatching(message) } : {}),
    });

  describe("log groups", () => {
    it("creates a group and describes it with AWS's fields and defaults", async () => {
      const before = Date.now();
      const name = await group("describe");
      const { logGroups } = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: name }));
      expect(logGroups).toEqual([
        {
          logGroupName: name,
          creationTime: expect.any(Number),
          metricFilterCount: 0,
          arn: `arn:aws:logs:us-east-1:000000000000:log-group:${name}:*`,
          logGroupArn: `arn:aws:logs:us-east-1:000000000000:log-group:${name}`,
          storedBytes: 0,
          logGroupClass: "STANDARD",
          deletionProtectionEnabled: false,
        },
      ]);
      expect(logGroups![0].creationTime).toBeGreaterThanOrEqual(before - 1000);
      expect(logGroups![0].creationTime).toBeLessThanOrEqual(Date.now() + 1000);
    });

    it("keeps logGroupClass and filters by it", async () => {
      const name = unique("class");
      await logs.send(new CreateLogGroupCommand({ logGroupName: name, logGroupClass: "INFREQUENT_ACCESS" }));
      const ia = await logs.send(
        new DescribeLogGroupsCommand({ logGroupNamePrefix: name, logGroupClass: "INFREQUENT_ACCESS" }),
      );
      expect(ia.logGroups?.map((g) => g.logGroupClass)).toEqual(["INFREQUENT_ACCESS"]);
      const std = await logs.send(
        new DescribeLogGroupsCommand({ logGroupNamePrefix: name, logGroupClass: "STANDARD" }),
      );
      expect(std.logGroups).toEqual([]);
    });

    it("refuses a duplicate group with ResourceAlreadyExistsException", async () => {
      const name = await group("dup");
      await fails(
        logs.send(new CreateLogGroupCommand({ logGroupName: name })),
        "ResourceAlreadyExistsException",
        /already exists/,
      );
    });

    it("refuses an invalid group name with InvalidParameterException", async () => {
      await fails(
        logs.send(new CreateLogGroupCommand({ logGroupName: "bad name with spaces" })),
        "InvalidParameterException",
        /logGroupName/,
      );
      await fails(
        logs.send(new CreateLogGroupCommand({ logGroupName: "x".repeat(513) })),
        "InvalidParameterException",
        /length less than or equal to 512/,
      );
    });

    it("finds groups by prefix and by pattern, which exclude each other", async () => {
      const base = unique("find");
      for (const n of ["alpha", "beta", "alphabet"])
        await logs.send(new CreateLogGroupCommand({ logGroupName: `${base}/${n}` }));
      const byPrefix = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: `${base}/alpha` }));
      expect(byPrefix.logGroups?.map((g) => g.logGroupName)).toEqual([`${base}/alpha`, `${base}/alphabet`]);
      const byPattern = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePattern: base.slice(12) }));
      expect(byPattern.logGroups?.map((g) => g.logGroupName)).toEqual([
        `${base}/alpha`,
        `${base}/alphabet`,
        `${base}/beta`,
      ]);
      // A pattern search reports only the name, ARN and creation time, like AWS.
      expect(Object.keys(byPattern.logGroups![0]).sort()).toEqual(["arn", "creationTime", "logGroupName"]);
      const none = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePattern: base.slice(12).toUpperCase() }));
      expect(none.logGroups).toEqual([]); // case-sensitive
      await fails(
        logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: base, logGroupNamePattern: "x" })),
        "InvalidParameterException",
        /mutually exclusive/,
      );
    });

    it("pages DescribeLogGroups with limit and nextToken", async () => {
      const base = unique("page");
      const names = Array.from({ length: 7 }, (_, i) => `${base}/g${i}`);
      for (const n of names) await logs.send(new CreateLogGroupCommand({ logGroupName: n }));
      const seen: string[] = [];
      let nextToken: string | undefined;
      let pages = 0;
      do {
        const r = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: base, limit: 3, nextToken }));
        expect(r.logGroups!.length).toBeLessThanOrEqual(3);
        seen.push(...r.logGroups!.map((g) => g.logGroupName!));
        nextToken = r.nextToken;
        pages++;
      } while (nextToken);
      expect(seen).toEqual(names);
      expect(pages).toBe(3);
      await fails(
        logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: base, nextToken: "not-a-token" })),
        "InvalidParameterException",
        /nextToken/,
      );
      await fails(logs.send(new DescribeLogGroupsCommand({ limit: 51 })), "InvalidParameterException", /limit/);
    });

    it("deletes a group with its streams and events; a missing group is ResourceNotFoundException", async () => {
      const name = await group("delete");
      const s = await stream(name);
      await putMessages(name, s, ["one"]);
      await logs.send(new DeleteLogGroupCommand({ logGroupName: name }));
      const after = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: name }));
      expect(after.logGroups).toEqual([]);
      await fails(
        logs.send(new DeleteLogGroupCommand({ logGroupName: name })),
        "ResourceNotFoundException",
        /log group does not exist/,
      );
      // Re-created, it starts empty.
      await logs.send(new CreateLogGroupCommand({ logGroupName: name }));
      await fails(
        logs.send(new GetLogEventsCommand({ logGroupName: name, logStreamName: s })),
        "ResourceNotFoundException",
        /log stream does not exist/,
      );
    });

    it("protects a group from deletion while deletion protection is on", async () => {
      const name = await group("protect");
      await logs.send(
        new PutLogGroupDeletionProtectionCommand({ logGroupIdentifier: name, deletionProtectionEnabled: true }),
      );
      await fails(logs.send(new DeleteLogGroupCommand({ logGroupName: name })), "ValidationException", /protection/);
      await logs.send(
        new PutLogGroupDeletionProtectionCommand({ logGroupIdentifier: name, deletionProtectionEnabled: false }),
      );
      await logs.send(new DeleteLogGroupCommand({ logGroupName: name }));
    });
  });

  describe("retention", () => {
    it("sets and removes a retention policy", async () => {
      const name = await group("retention");
      await logs.send(new PutRetentionPolicyCommand({ logGroupName: name, retentionInDays: 30 }));
      let g = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: name }));
      expect(g.logGroups?.[0].retentionInDays).toBe(30);
      await logs.send(new DeleteRetentionPolicyCommand({ logGroupName: name }));
      g = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: name }));
      expect(g.logGroups?.[0].retentionInDays).toBeUndefined();
    });

    it.each([0, 2, 10, 4000])("refuses retentionInDays %i with InvalidParameterException", async (days) => {
      const name = await group("badretention");
      await fails(
        logs.send(new PutRetentionPolicyCommand({ logGroupName: name, retentionInDays: days })),
        "InvalidParameterException",
        /enum value set: \[1, 3, 5, 7, 14/,
      );
    });

    it("refuses a retention policy or its removal for a missing group", async () => {
      const name = unique("noretention");
      await fails(
        logs.send(new PutRetentionPolicyCommand({ logGroupName: name, retentionInDays: 7 })),
        "ResourceNotFoundException",
      );
      await fails(logs.send(new DeleteRetentionPolicyCommand({ logGroupName: name })), "ResourceNotFoundException");
    });

    it("stops returning events once they are older than the retention", async () => {
      const name = await group("expire");
      const s = await stream(name);
      const now = Date.now();
      await putMessages(name, s, ["three days old"], now - 3 * DAY);
      await putMessages(name, s, ["fresh"], now - 1000);
      await logs.send(new PutRetentionPolicyCommand({ logGroupName: name, retentionInDays: 1 }));
      const r = await logs.send(new GetLogEventsCommand({ logGroupName: name, logStreamName: s, startFromHead: true }));
      expect(r.events?.map((e) => e.message)).toEqual(["fresh"]);
      const f = await logs.send(new FilterLogEventsCommand({ logGroupName: name }));
      expect(f.events?.map((e) => e.message)).toEqual(["fresh"]);
      // New events already past the retention are rejected as expired.
      const put = await putMessages(name, s, ["two days old"], now - 2 * DAY);
      expect(put.rejectedLogEventsInfo).toEqual({ expiredLogEventEndIndex: 1 });
    });
  });

  describe("log streams", () => {
    it("creates, describes and deletes streams", async () => {
      const name = await group("streams");
      await stream(name, "b");
      await stream(name, "a");
      const r = await logs.send(new DescribeLogStreamsCommand({ logGroupName: name }));
      expect(r.logStreams).toEqual([
        {
          logStreamName: "a",
          creationTime: expect.any(Number),
          arn: `arn:aws:logs:us-east-1:000000000000:log-group:${name}:log-stream:a`,
          storedBytes: 0,
        },
        expect.objectContaining({ logStreamName: "b" }),
      ]);
      await logs.send(new DeleteLogStreamCommand({ logGroupName: name, logStreamName: "a" }));
      const after = await logs.send(new DescribeLogStreamsCommand({ logGroupName: name }));
      expect(after.logStreams?.map((s) => s.logStreamName)).toEqual(["b"]);
    });

    it("reports event statistics and the upload sequence token", async () => {
      const name = await group("stats");
      const s = await stream(name);
      const t = Date.now() - 5000;
      const put = await putMessages(name, s, ["x", "y", "z"], t);
      const r = await logs.send(new DescribeLogStreamsCommand({ logGroupName: name }));
      expect(r.logStreams?.[0]).toMatchObject({
        firstEventTimestamp: t,
        lastEventTimestamp: t + 2,
        lastIngestionTime: expect.any(Number),
        uploadSequenceToken: put.nextSequenceToken,
      });
      const g = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: name }));
      expect(g.logGroups?.[0].storedBytes).toBe(3);
    });

    it("refuses streams in a missing group, duplicates and deleting a missing stream", async () => {
      await fails(
        logs.send(new CreateLogStreamCommand({ logGroupName: unique("nogroup"), logStreamName: "s" })),
        "ResourceNotFoundException",
        /log group does not exist/,
      );
      const name = await group("dupstream");
      await stream(name);
      await fails(
        logs.send(new CreateLogStreamCommand({ logGroupName: name, logStreamName: "s" })),
        "ResourceAlreadyExistsException",
        /log stream already exists/,
      );
      await fails(
        logs.send(new CreateLogStreamCommand({ logGroupName: name, logStreamName: "a:b" })),
        "InvalidParameterException",
      );
      await fails(
        logs.send(new DeleteLogStreamCommand({ logGroupName: name, logStreamName: "missing" })),
        "ResourceNotFoundException",
        /log stream does not exist/,
      );
      await fails(
        logs.send(new DescribeLogStreamsCommand({ logGroupName: unique("nogroup") })),
        "ResourceNotFoundException",
      );
    });

    it("orders by name or last event time, filters by prefix and pages", async () => {
      const name = await group("order");
      const now = Date.now();
      for (const [s, offset] of [
        ["web/1", 3],
        ["web/2", 1],
        ["worker/1", 2],
        ["api/1", 0],
      ] as const) {
        await stream(name, s);
        await putMessages(name, s, [s], now - 10_000 + offset);
      }
      const byName = await logs.send(
        new DescribeLogStreamsCommand({ logGroupName: name, logStreamNamePrefix: "web/" }),
      );
      expect(byName.logStreams?.map((s) => s.logStreamName)).toEqual(["web/1", "web/2"]);
      const newest = await logs.send(
        new DescribeLogStreamsCommand({ logGroupName: name, orderBy: "LastEventTime", descending: true }),
      );
      expect(newest.logStreams?.map((s) => s.logStreamName)).toEqual(["web/1", "worker/1", "web/2", "api/1"]);
      const seen: string[] = [];
      let nextToken: string | undefined;
      do {
        const r = await logs.send(
          new DescribeLogStreamsCommand({ logGroupName: name, descending: true, limit: 3, nextToken }),
        );
        seen.push(...r.logStreams!.map((s) => s.logStreamName!));
        nextToken = r.nextToken;
      } while (nextToken);
      expect(seen).toEqual(["worker/1", "web/2", "web/1", "api/1"]);
      await fails(
        logs.send(
          new DescribeLogStreamsCommand({ logGroupName: name, orderBy: "LastEventTime", logStreamNamePrefix: "w" }),
        ),
        "InvalidParameterException",
        /Cannot order by LastEventTime with a logStreamNamePrefix/,
      );
    });

    it("accepts a log group ARN as logGroupIdentifier and refuses both name and identifier", async () => {
      const name = await group("identifier");
      await stream(name);
      const arn = `arn:aws:logs:us-east-1:000000000000:log-group:${name}`;
      for (const id of [arn, `${arn}:*`, name]) {
        const r = await logs.send(new DescribeLogStreamsCommand({ logGroupIdentifier: id }));
        expect(r.logStreams?.map((s) => s.logStreamName)).toEqual(["s"]);
      }
      await fails(
        logs.send(new DescribeLogStreamsCommand({ logGroupIdentifier: arn, logGroupName: name })),
        "InvalidParameterException",
        /mutually exclusive/,
      );
      await fails(logs.send(new DescribeLogStreamsCommand({})), "InvalidParameterException", /logGroupIdentifier/);
    });
  });

  describe("PutLogEvents", () => {
    it("stores events, ignores the sequence token and returns the next one", async () => {
      const name = await group("put");
      const s = await stream(name);
      const first = await putMessages(name, s, ["a"]);
      expect(first.nextSequenceToken).toMatch(/^\d+$/);
      expect(first.rejectedLogEventsInfo).toBeUndefined();
      const second = await logs.send(
        new PutLogEventsCommand({
          logGroupName: name,
          logStreamName: s,
          sequenceToken: "definitely-stale",
          logEvents: [{ timestamp: Date.now(), message: "b" }],
        }),
      );
      expect(second.nextSequenceToken).not.toBe(first.nextSequenceToken);
    });

    it("refuses a missing group or stream with ResourceNotFoundException", async () => {
      await fails(putMessages(unique("noput"), "s", ["x"]), "ResourceNotFoundException", /log group does not exist/);
      const name = await group("nostream");
      await fails(putMessages(name, "missing", ["x"]), "ResourceNotFoundException", /log stream does not exist/);
    });

    it("refuses events out of chronological order and stores none of them", async () => {
      const name = await group("order");
      const s = await stream(name);
      const now = Date.now();
      await fails(
        logs.send(
          new PutLogEventsCommand({
            logGroupName: name,
            logStreamName: s,
            logEvents: [
              { timestamp: now, message: "second" },
              { timestamp: now - 10, message: "first" },
            ],
          }),
        ),
        "InvalidParameterException",
        /chronological order/,
      );
      const r = await logs.send(new GetLogEventsCommand({ logGroupName: name, logStreamName: s }));
      expect(r.events).toEqual([]);
    });

    it("refuses a batch over 1,048,576 bytes and one spanning more than 24 hours", async () => {
      const name = await group("big");
      const s = await stream(name);
      const now = Date.now();
      const big = Array.from({ length: 5 }, (_, i) => ({ timestamp: now + i, message: "x".repeat(210_000) }));
      await fails(
        logs.send(new PutLogEventsCommand({ logGroupName: name, logStreamName: s, logEvents: big })),
        "InvalidParameterException",
        /Upload too large/,
      );
      await fails(
        logs.send(
          new PutLogEventsCommand({
            logGroupName: name,
            logStreamName: s,
            logEvents: [
              { timestamp: now - 25 * HOUR, message: "old" },
              { timestamp: now, message: "new" },
            ],
          }),
        ),
        "InvalidParameterException",
        /24 hours/,
      );
      await fails(
        logs.send(new PutLogEventsCommand({ logGroupName: name, logStreamName: s, logEvents: [] })),
        "InvalidParameterException",
        /logEvents/,
      );
    });

    it("reports too-old and too-new events in rejectedLogEventsInfo and stores the rest", async () => {
      const name = await group("rejected");
      const s = await stream(name);
      const now = Date.now();
      const old = await logs.send(
        new PutLogEventsCommand({
          logGroupName: name,
          logStreamName: s,
          logEvents: [
            { timestamp: now - 14 * DAY - 2 * HOUR, message: "too old" },
            { timestamp: now - 14 * DAY - HOUR, message: "too old too" },
            { timestamp: now - 14 * DAY + HOUR, message: "kept 1" },
          ],
        }),
      );
      expect(old.rejectedLogEventsInfo).toEqual({ tooOldLogEventEndIndex: 2 });
      const future = await logs.send(
        new PutLogEventsCommand({
          logGroupName: name,
          logStreamName: s,
          logEvents: [
            { timestamp: now, message: "kept 2" },
            { timestamp: now + 3 * HOUR, message: "too new" },
          ],
        }),
      );
      expect(future.rejectedLogEventsInfo).toEqual({ tooNewLogEventStartIndex: 1 });
      const events = await logs.send(new GetLogEventsCommand({ logGroupName: name, logStreamName: s }));
      expect(events.events?.map((e) => e.message)).toEqual(["kept 1", "kept 2"]);
    });
  });

  describe("GetLogEvents", () => {
    it("returns the newest events by default with f/ and b/ tokens, and the same token at the end", async () => {
      const name = await group("get");
      const s = await stream(name);
      const start = Date.now() - 60_000;
      await putMessages(
        name,
        s,
        Array.from({ length: 12 }, (_, i) => `line ${i}`),
        start,
      );
      const tail = await logs.send(new GetLogEventsCommand({ logGroupName: name, logStreamName: s, limit: 5 }));
      expect(tail.events?.map((e) => e.message)).toEqual(["line 7", "line 8", "line 9", "line 10", "line 11"]);
      expect(tail.events?.[0]).toEqual({ timestamp: start + 7, message: "line 7", ingestionTime: expect.any(Number) });
      expect(tail.nextForwardToken).toMatch(/^f\/\d{56}$/);
      expect(tail.nextBackwardToken).toMatch(/^b\/\d{56}$/);

      const back = await logs.send(
        new GetLogEventsCommand({ logGroupName: name, logStreamName: s, limit: 5, nextToken: tail.nextBackwardToken }),
      );
      expect(back.events?.map((e) => e.message)).toEqual(["line 2", "line 3", "line 4", "line 5", "line 6"]);

      const end = await logs.send(
        new GetLogEventsCommand({ logGroupName: name, logStreamName: s, nextToken: tail.nextForwardToken }),
      );
      expect(end.events).toEqual([]);
      expect(end.nextForwardToken).toBe(tail.nextForwardToken);

      await putMessages(name, s, ["line 12"]);
      const more = await logs.send(
        new GetLogEventsCommand({ logGroupName: name, logStreamName: s, nextToken: end.nextForwardToken }),
      );
      expect(more.events?.map((e) => e.message)).toEqual(["line 12"]);
    });

    it("reads from the head with startFromHead and bounds by startTime/endTime", async () => {
      const name = await group("head");
      const s = await stream(name);
      const start = Date.now() - 60_000;
      await putMessages(
        name,
        s,
        Array.from({ length: 10 }, (_, i) => `line ${i}`),
        start,
      );
      const head = await logs.send(
        new GetLogEventsCommand({ logGroupName: name, logStreamName: s, limit: 3, startFromHead: true }),
      );
      expect(head.events?.map((e) => e.message)).toEqual(["line 0", "line 1", "line 2"]);
      const next = await logs.send(
        new GetLogEventsCommand({ logGroupName: name, logStreamName: s, limit: 3, nextToken: head.nextForwardToken }),
      );
      expect(next.events?.map((e) => e.message)).toEqual(["line 3", "line 4", "line 5"]);
      const range = await logs.send(
        new GetLogEventsCommand({
          logGroupName: name,
          logStreamName: s,
          startTime: start + 4,
          endTime: start + 6,
          startFromHead: true,
        }),
      );
      expect(range.events?.map((e) => e.message)).toEqual(["line 4", "line 5"]);
    });

    it("refuses a missing stream, a bad token and a bad limit", async () => {
      const name = await group("getbad");
      await fails(
        logs.send(new GetLogEventsCommand({ logGroupName: name, logStreamName: "nope" })),
        "ResourceNotFoundException",
        /log stream does not exist/,
      );
      await fails(
        logs.send(new GetLogEventsCommand({ logGroupName: unique("nogroup"), logStreamName: "nope" })),
        "ResourceNotFoundException",
        /log group does not exist/,
      );
      const s = await stream(name);
      await fails(
        logs.send(new GetLogEventsCommand({ logGroupName: name, logStreamName: s, nextToken: "f/garbage" })),
        "InvalidParameterException",
        /nextToken/,
      );
      await fails(
        logs.send(new GetLogEventsCommand({ logGroupName: name, logStreamName: s, limit: 10_001 })),
        "InvalidParameterException",
        /limit/,
      );
    });
  });

  describe("FilterLogEvents", () => {
    const seed = async () => {
      const name = await group("filter");
      const start = Date.now() - 60_000;
      await stream(name, "app/1");
      await stream(name, "app/2");
      await stream(name, "db/1");
      await putMessages(
        name,
        "app/1",
        ["ERROR disk full", "INFO started", JSON.stringify({ level: "error", latency: 250 })],
        start,
      );
      await putMessages(
        name,
        "app/2",
        ["WARN slow request", JSON.stringify({ level: "info", latency: 20 }), "ERROR timeout"],
        start + 10,
      );
      await putMessages(name, "db/1", ['10.0.0.1 GET "/index.html" 404 512'], start + 20);
      return { name, start };
    };
    const messagesOf = (r: { events?: { message?: string }[] }) => r.events?.map((e) => e.message);

    it("returns events from every stream interleaved by time with stream names and event ids", async () => {
      const { name } = await seed();
      const r = await logs.send(new FilterLogEventsCommand({ logGroupName: name }));
      expect(r.events).toHaveLength(7);
      expect(r.events?.[0]).toEqual({
        logStreamName: "app/1",
        timestamp: expect.any(Number),
        message: "ERROR disk full",
        ingestionTime: expect.any(Number),
        eventId: expect.stringMatching(/^\d{56}$/),
      });
      expect(r.events?.map((e) => e.logStreamName)).toEqual([
        "app/1",
        "app/1",
        "app/1",
        "app/2",
        "app/2",
        "app/2",
        "db/1",
      ]);
      expect(r.nextToken).toBeUndefined();
    });

    it.each([
      ["ERROR", ["ERROR disk full", "ERROR timeout"]],
      ["?WARN ?timeout", ["WARN slow request", "ERROR timeout"]],
      ["ERROR -disk", ["ERROR timeout"]],
      ['"disk full"', ["ERROR disk full"]],
      ['{ $.level = "error" }', [JSON.stringify({ level: "error", latency: 250 })]],
      ["{ $.latency > 10 && $.latency < 100 }", [JSON.stringify({ level: "info", latency: 20 })]],
      ["[ip, method, path, status = 4*, bytes]", ['10.0.0.1 GET "/index.html" 404 512']],
    ])("filters with the pattern %s", async (pattern, expected) => {
      const { name } = await seed();
      const r = await logs.send(new FilterLogEventsCommand({ logGroupName: name, filterPattern: pattern }));
      expect(messagesOf(r)).toEqual(expected);
    });

    it("narrows by stream names, stream prefix and time range", async () => {
      const { name, start } = await seed();
      const names = await logs.send(new FilterLogEventsCommand({ logGroupName: name, logStreamNames: ["db/1"] }));
      expect(messagesOf(names)).toEqual(['10.0.0.1 GET "/index.html" 404 512']);
      const prefix = await logs.send(
        new FilterLogEventsCommand({ logGroupName: name, logStreamNamePrefix: "app/", filterPattern: "ERROR" }),
      );
      expect(messagesOf(prefix)).toEqual(["ERROR disk full", "ERROR timeout"]);
      const range = await logs.send(
        new FilterLogEventsCommand({ logGroupName: name, startTime: start + 1, endTime: start + 10 }),
      );
      expect(messagesOf(range)).toEqual([
        "INFO started",
        JSON.stringify({ level: "error", latency: 250 }),
        "WARN slow request",
      ]);
    });

    it("pages with limit and nextToken", async () => {
      const { name } = await seed();
      const seen: string[] = [];
      let nextToken: string | undefined;
      let pages = 0;
      do {
        const r = await logs.send(new FilterLogEventsCommand({ logGroupName: name, limit: 2, nextToken }));
        seen.push(...r.events!.map((e) => e.message!));
        nextToken = r.nextToken;
        pages++;
      } while (nextToken && pages < 10);
      expect(seen).toHaveLength(7);
      expect(pages).toBe(4);
    });

    it("refuses stream names with a prefix, a bad pattern, a bad token and a missing group", async () => {
      const { name } = await seed();
      await fails(
        logs.send(new FilterLogEventsCommand({ logGroupName: name, logStreamNames: ["a"], logStreamNamePrefix: "a" })),
        "InvalidParameterException",
        /mutually exclusive/,
      );
      await fails(
        logs.send(new FilterLogEventsCommand({ logGroupName: name, filterPattern: "{ $.level = " })),
        "InvalidParameterException",
        /Invalid filter pattern/,
      );
      await fails(
        logs.send(new FilterLogEventsCommand({ logGroupName: name, nextToken: "bogus" })),
        "InvalidParameterException",
        /nextToken/,
      );
      await fails(
        logs.send(new FilterLogEventsCommand({ logGroupName: unique("nogroup") })),
        "ResourceNotFoundException",
      );
    });
  });

  describe("tags", () => {
    it("tags, lists and untags a group by ARN", async () => {
      const name = await group("tags", { tags: { team: "core" } });
      const arn = `arn:aws:logs:us-east-1:000000000000:log-group:${name}`;
      await logs.send(new TagResourceCommand({ resourceArn: arn, tags: { env: "dev", owner: "me" } }));
      let r = await logs.send(new ListTagsForResourceCommand({ resourceArn: arn }));
      expect(r.tags).toEqual({ team: "core", env: "dev", owner: "me" });
      await logs.send(new UntagResourceCommand({ resourceArn: arn, tagKeys: ["owner", "absent"] }));
      r = await logs.send(new ListTagsForResourceCommand({ resourceArn: arn }));
      expect(r.tags).toEqual({ team: "core", env: "dev" });
    });

    it("refuses a missing group, a non-ARN and more than 50 tags", async () => {
      const missing = `arn:aws:logs:us-east-1:000000000000:log-group:${unique("notags")}`;
      await fails(logs.send(new ListTagsForResourceCommand({ resourceArn: missing })), "ResourceNotFoundException");
      await fails(
        logs.send(new TagResourceCommand({ resourceArn: missing, tags: { a: "b" } })),
        "ResourceNotFoundException",
      );
      await fails(
        logs.send(new ListTagsForResourceCommand({ resourceArn: "log-group-name" })),
        "InvalidParameterException",
      );
      const name = await group("manytags");
      const arn = `arn:aws:logs:us-east-1:000000000000:log-group:${name}`;
      const tags = (from: number) => Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`k${from + i}`, "v"]));
      await logs.send(new TagResourceCommand({ resourceArn: arn, tags: tags(0) }));
      await fails(logs.send(new TagResourceCommand({ resourceArn: arn, tags: tags(30) })), "TooManyTagsException");
    });

    it("supports the legacy TagLogGroup, UntagLogGroup and ListTagsLogGroup", async () => {
      const name = await group("legacy");
      await logs.send(new TagLogGroupCommand({ logGroupName: name, tags: { a: "1", b: "2" } }));
      await logs.send(new UntagLogGroupCommand({ logGroupName: name, tags: ["a"] }));
      const r = await logs.send(new ListTagsLogGroupCommand({ logGroupName: name }));
      expect(r.tags).toEqual({ b: "2" });
      await fails(
        logs.send(new ListTagsLogGroupCommand({ logGroupName: unique("nolegacy") })),
        "ResourceNotFoundException",
      );
    });
  });

  describe("AWS CLI", () => {
    const aws = async (...args: string[]) => {
      const { stdout } = await run("/usr/bin/aws", ["--endpoint-url", endpoint, "--output", "json", "logs", ...args], {
        env: {
          ...process.env,
          AWS_ACCESS_KEY_ID: "test",
          AWS_SECRET_ACCESS_KEY: "test",
          AWS_DEFAULT_REGION: "us-east-1",
          AWS_PAGER: "",
        },
      });
      return stdout.trim() ? JSON.parse(stdout) : {};
    };

    it("creates a group and stream, puts events, and reads them back", async () => {
      const name = unique("cli");
      await aws("create-log-group", "--log-group-name", name);
      await aws("put-retention-policy", "--log-group-name", name, "--retention-in-days", "7");
      await aws("create-log-stream", "--log-group-name", name, "--log-stream-name", "web");
      const now = Date.now();
      const events = JSON.stringify([
        { timestamp: now, message: "hello from the CLI" },
        { timestamp: now + 1, message: "ERROR something broke" },
      ]);
      const put = await aws(
        "put-log-events",
        "--log-group-name",
        name,
        "--log-stream-name",
        "web",
        "--log-events",
        events,
      );
      expect(put.nextSequenceToken).toBeDefined();
      const got = await aws(
        "get-log-events",
        "--log-group-name",
        name,
        "--log-stream-name",
        "web",
        "--start-from-head",
      );
      expect(got.events.map((e: { message: string }) => e.message)).toEqual([
        "hello from the CLI",
        "ERROR something broke",
      ]);
      const filtered = await aws("filter-log-events", "--log-group-name", name, "--filter-pattern", "ERROR");
      expect(filtered.events.map((e: { message: string }) => e.message)).toEqual(["ERROR something broke"]);
      const groups = await aws("describe-log-groups", "--log-group-name-prefix", name);
      expect(groups.logGroups[0]).toMatchObject({ logGroupName: name, retentionInDays: 7 });
      const streams = await aws("describe-log-streams", "--log-group-name", name);
      expect(streams.logStreams.map((s: { logStreamName: string }) => s.logStreamName)).toEqual(["web"]);
    });

    it("follows nextToken across pages of filter-log-events", async () => {
      const name = await group("clipages");
      const s = await stream(name);
      await putMessages(
        name,
        s,
        Array.from({ length: 25 }, (_, i) => `message ${i}`),
      );
      const all = await aws("filter-log-events", "--log-group-name", name, "--page-size", "10");
      expect(all.events).toHaveLength(25);
    });

    it("exits non-zero with the AWS error code on a duplicate group", async () => {
      const name = await group("clidup");
      await expect(aws("create-log-group", "--log-group-name", name)).rejects.toMatchObject({
        stderr: expect.stringContaining("ResourceAlreadyExistsException"),
      });
    });
  });

  it("keeps groups, streams and events across a restart", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "berth-logs-restart-"));
    let berth = await startBerth({ dataDir });
    try {
      const own = new CloudWatchLogsClient(clientConfig(berth.endpoint));
      await own.send(new CreateLogGroupCommand({ logGroupName: "/restart/app", tags: { k: "v" } }));
      await own.send(new PutRetentionPolicyCommand({ logGroupName: "/restart/app", retentionInDays: 14 }));
      await own.send(new CreateLogStreamCommand({ logGroupName: "/restart/app", logStreamName: "s" }));
      const now = Date.now();
      await own.send(
        new PutLogEventsCommand({
          logGroupName: "/restart/app",
          logStreamName: "s",
          logEvents: [
            { timestamp: now, message: "before restart 1" },
            { timestamp: now + 1, message: "before restart 2" },
          ],
        }),
      );
      expect(await berth.stop()).toBe(0);

      berth = await startBerth({ dataDir });
      const again = new CloudWatchLogsClient(clientConfig(berth.endpoint));
      const r = await again.send(
        new GetLogEventsCommand({ logGroupName: "/restart/app", logStreamName: "s", startFromHead: true }),
      );
      expect(r.events?.map((e) => e.message)).toEqual(["before restart 1", "before restart 2"]);
      const g = await again.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: "/restart/" }));
      expect(g.logGroups?.[0]).toMatchObject({ logGroupName: "/restart/app", retentionInDays: 14 });
      const t = await again.send(new ListTagsLogGroupCommand({ logGroupName: "/restart/app" }));
      expect(t.tags).toEqual({ k: "v" });
      // New events continue after the old ones.
      await again.send(
        new PutLogEventsCommand({
          logGroupName: "/restart/app",
          logStreamName: "s",
          logEvents: [{ timestamp: now + 2, message: "after restart" }],
        }),
      );
      const all = await again.send(new FilterLogEventsCommand({ logGroupName: "/restart/app" }));
      expect(all.events?.map((e) => e.message)).toEqual(["before restart 1", "before restart 2", "after restart"]);
      expect(new Set(all.events?.map((e) => e.eventId)).size).toBe(3);
    } finally {
      await berth.stop();
    }
  });
});
