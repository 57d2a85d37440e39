import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Clock } from "../../src/core/clock.js";
import type {
  FilterLogEventsRequest,
  FilterLogEventsResponse,
  GetLogEventsRequest,
  GetLogEventsResponse,
  PutLogEventsRequest,
  PutLogEventsResponse,
} from "../../src/protocol/generated/types/logs.js";
import type { RequestContext } from "../../src/protocol/service.js";
import { logsService } from "../../src/services/logs/provider.js";
import { DAY, HOUR } from "../../src/services/logs/rules.js";
import { type Db, openDb } from "../../src/store/db.js";
import { DocumentStore } from "../../src/store/documents.js";

/** The logs provider over an in-memory store and a clock the test moves. */
describe("logs service over an in-memory store", () => {
  let db: Db;
  let now: number;
  let logs: ReturnType<typeof logsService>;
  const clock: Clock = { now: () => new Date(now) };
  const ctx: RequestContext = {
    account: "000000000000",
    region: "us-east-1",
    requestId: "test",
    principal: { accessKeyId: "test", arn: "arn:aws:iam::000000000000:root" },
  };
  // biome-ignore lint/suspicious/noExplicitAny: the test calls handlers by name
  const call = async (op: string, input: any): Promise<any> => logs.service.provider[op]!(input, ctx);
  const put = (input: PutLogEventsRequest): Promise<PutLogEventsResponse> => call("PutLogEvents", input);
  const get = (input: GetLogEventsRequest): Promise<GetLogEventsResponse> => call("GetLogEvents", input);
  const filter = (input: FilterLogEventsRequest): Promise<FilterLogEventsResponse> => call("FilterLogEvents", input);

  beforeEach(async () => {
    now = Date.UTC(2025, 0, 10);
    db = openDb(":memory:");
    logs = logsService({ db, store: new DocumentStore(db), clock, retentionSweepMs: 0 });
    await call("CreateLogGroup", { logGroupName: "g" });
    await call("CreateLogStream", { logGroupName: "g", logStreamName: "s" });
  });
  afterEach(() => {
    logs.close();
    db.close();
  });

  const putN = async (n: number, stream = "s", start = now - HOUR) => {
    for (let i = 0; i < n; i += 500) {
      const batch = Array.from({ length: Math.min(500, n - i) }, (_, k) => ({
        timestamp: start + i + k,
        message: `event ${i + k}${(i + k) % 3 === 0 ? " fizz" : ""}`,
      }));
      await put({ logGroupName: "g", logStreamName: stream, logEvents: batch });
    }
  };
  const messages = (r: { events?: { message?: string }[] }) => (r.events ?? []).map((e) => e.message);

  it("GetLogEvents reads the tail by default and pages backward and forward with f/ and b/ tokens", async () => {
    await putN(25);
    const tail = await get({ logGroupName: "g", logStreamName: "s", limit: 10 });
    expect(messages(tail)).toEqual(Array.from({ length: 10 }, (_, i) => expect.stringMatching(`^event ${15 + i}\\b`)));
    const older = await get({ logGroupName: "g", logStreamName: "s", limit: 10, nextToken: tail.nextBackwardToken });
    expect(messages(older)[0]).toMatch(/^event 5\b/);
    const oldest = await get({ logGroupName: "g", logStreamName: "s", limit: 10, nextToken: older.nextBackwardToken });
    expect(oldest.events).toHaveLength(5);
    const none = await get({ logGroupName: "g", logStreamName: "s", limit: 10, nextToken: oldest.nextBackwardToken });
    expect(none.events).toEqual([]);
    expect(none.nextBackwardToken).toBe(oldest.nextBackwardToken);

    // Forward from the tail: nothing new yet, the same token comes back; then new events appear.
    const idle = await get({ logGroupName: "g", logStreamName: "s", nextToken: tail.nextForwardToken });
    expect(idle.events).toEqual([]);
    expect(idle.nextForwardToken).toBe(tail.nextForwardToken);
    await put({ logGroupName: "g", logStreamName: "s", logEvents: [{ timestamp: now, message: "late" }] });
    const fresh = await get({ logGroupName: "g", logStreamName: "s", nextToken: idle.nextForwardToken });
    expect(messages(fresh)).toEqual(["late"]);
  });

  it("GetLogEvents from the head walks the whole stream forward", async () => {
    await putN(23);
    const seen: string[] = [];
    let token: string | undefined;
    for (let i = 0; i < 10; i++) {
      const r = await get({ logGroupName: "g", logStreamName: "s", limit: 5, startFromHead: true, nextToken: token });
      if (r.events?.length === 0) {
        expect(r.nextForwardToken).toBe(token);
        break;
      }
      seen.push(...messages(r).map(String));
      token = r.nextForwardToken;
    }
    expect(seen).toHaveLength(23);
    expect(seen[22]).toMatch(/^event 22\b/);
  });

  it("GetLogEvents honours startTime (inclusive) and endTime (exclusive)", async () => {
    const t = now - HOUR;
    await putN(10, "s", t);
    const r = await get({
      logGroupName: "g",
      logStreamName: "s",
      startTime: t + 2,
      endTime: t + 5,
      startFromHead: true,
    });
    expect(messages(r)).toEqual(["event 2", "event 3 fizz", "event 4"]);
  });

  it("FilterLogEvents pages through more events than one scan chunk with a pattern", async () => {
    await call("CreateLogStream", { logGroupName: "g", logStreamName: "other" });
    await putN(2500);
    await putN(30, "other", now - 2 * HOUR);
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const r = await filter({ logGroupName: "g", filterPattern: "fizz", limit: 300, nextToken: token });
      seen.push(...messages(r).map(String));
      for (const e of r.events ?? []) expect(e.eventId).toMatch(/^\d{56}$/);
      token = r.nextToken;
      pages++;
    } while (token);
    expect(seen).toHaveLength(834 + 10);
    expect(pages).toBeGreaterThan(2);
    // Interleaved by time: the other stream's older events come first.
    expect(seen[0]).toBe("event 0 fizz");
    const onlyOther = await filter({ logGroupName: "g", logStreamNames: ["other"], filterPattern: "fizz" });
    expect(onlyOther.events?.every((e) => e.logStreamName === "other")).toBe(true);
    const byPrefix = await filter({ logGroupName: "g", logStreamNamePrefix: "oth", endTime: now - 2 * HOUR + 5 });
    expect(byPrefix.events).toHaveLength(6); // endTime is inclusive
  });

  it("rejects events older than the retention and hides, then sweeps, events that age out", async () => {
    await putN(5, "s", now - 2 * DAY);
    await call("PutRetentionPolicy", { logGroupName: "g", retentionInDays: 1 });
    // Hidden at once…
    expect((await get({ logGroupName: "g", logStreamName: "s" })).events).toEqual([]);
    // …and deleted by the sweep.
    expect(logs.sweepRetention()).toBe(5);

    await putN(3, "s", now - HOUR);
    const r = await put({
      logGroupName: "g",
      logStreamName: "s",
      logEvents: [
        { timestamp: now - DAY - 1, message: "too old for the retention" },
        { timestamp: now - HOUR, message: "ok" },
      ],
    });
    expect(r.rejectedLogEventsInfo).toEqual({ expiredLogEventEndIndex: 1 });

    now += DAY; // the clock moves on: the events age out
    expect((await get({ logGroupName: "g", logStreamName: "s" })).events).toEqual([]);
    expect(logs.sweepRetention()).toBe(4);
    await call("DeleteRetentionPolicy", { logGroupName: "g" });
    const described = await call("DescribeLogGroups", { logGroupNamePrefix: "g" });
    expect(described.logGroups[0].retentionInDays).toBeUndefined();
    expect(described.logGroups[0].storedBytes).toBe(0);
  });

  it("deleting a group deletes its streams and events", async () => {
    await putN(10);
    await call("DeleteLogGroup", { logGroupName: "g" });
    await call("CreateLogGroup", { logGroupName: "g" });
    await expect(call("GetLogEvents", { logGroupName: "g", logStreamName: "s" })).rejects.toMatchObject({
      code: "ResourceNotFoundException",
    });
    const count = db.prepare("SELECT COUNT(*) AS n FROM log_events WHERE group_name = 'g'").get() as { n: number };
    expect(count.n).toBe(0);
  });

  it("the backend creates groups and streams on demand and appends events in timestamp order", async () => {
    const b = logs.backend;
    expect(() => b.ensureGroup(ctx, "/ecs/app", false)).toThrow(
      expect.objectContaining({ code: "ResourceNotFoundException" }),
    );
    b.ensureGroup(ctx, "/ecs/app", true);
    b.ensureGroup(ctx, "/ecs/app", true); // idempotent
    expect(() => b.ensureStream(ctx, "/ecs/none", "x")).toThrow(
      expect.objectContaining({ code: "ResourceNotFoundException" }),
    );
    b.ensureStream(ctx, "/ecs/app", "ecs/web/1");
    b.ensureStream(ctx, "/ecs/app", "ecs/web/1");
    b.append(ctx, "/ecs/app", "ecs/web/1", [
      { timestamp: now + 2, message: "stderr line" },
      { timestamp: now, message: "stdout line" },
      { timestamp: now + 1, message: "" },
      { timestamp: now + 2, message: "after stderr" },
    ]);
    const r = await get({ logGroupName: "/ecs/app", logStreamName: "ecs/web/1", startFromHead: true });
    expect(messages(r)).toEqual(["stdout line", "stderr line", "after stderr"]);
    expect(() => b.append(ctx, "/ecs/app", "missing", [{ timestamp: now, message: "x" }])).toThrow(
      expect.objectContaining({ code: "ResourceNotFoundException" }),
    );
    const streams = await call("DescribeLogStreams", { logGroupName: "/ecs/app" });
    expect(streams.logStreams[0]).toMatchObject({
      logStreamName: "ecs/web/1",
      firstEventTimestamp: now,
      lastEventTimestamp: now + 2,
      lastIngestionTime: now,
    });
  });
});
