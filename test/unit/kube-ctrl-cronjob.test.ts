import { describe, expect, it } from "vitest";
import { parseSchedule } from "../../src/controllers/kube/workloads/cron.js";
import { jobNameFor, planCronJob, SCHEDULED_TIMESTAMP } from "../../src/controllers/kube/workloads/cronjob.js";
import type { KubeObject } from "../../src/kube/types.js";

const at = (s: string) => Date.parse(s);
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

describe("cron schedules", () => {
  it.each([
    ["*/15 * * * *", "2026-01-01T00:07:00Z", "2026-01-01T00:15:00.000Z"],
    ["0 * * * *", "2026-01-01T00:00:00Z", "2026-01-01T01:00:00.000Z"],
    ["30 2 * * *", "2026-01-01T03:00:00Z", "2026-01-02T02:30:00.000Z"],
    ["0 0 1 * *", "2026-01-15T00:00:00Z", "2026-02-01T00:00:00.000Z"],
    ["0 9 * * mon-fri", "2026-01-02T10:00:00Z", "2026-01-05T09:00:00.000Z"], // Friday → Monday
    ["0 0 * * 7", "2026-01-01T00:00:00Z", "2026-01-04T00:00:00.000Z"], // 7 is Sunday
    ["0 0 13 * 5", "2026-01-01T00:00:00Z", "2026-01-02T00:00:00.000Z"], // day 13 OR Friday
    ["0 0 29 2 *", "2026-03-01T00:00:00Z", "2028-02-29T00:00:00.000Z"],
    ["@hourly", "2026-01-01T00:30:00Z", "2026-01-01T01:00:00.000Z"],
    ["@weekly", "2026-01-01T00:00:00Z", "2026-01-04T00:00:00.000Z"],
    ["5,10-12 * * jan *", "2026-01-01T00:10:00Z", "2026-01-01T00:11:00.000Z"],
    ["@every 90s", "2026-01-01T00:00:00Z", "2026-01-01T00:01:30.000Z"],
  ])("%s after %s → %s", (schedule, after, next) => {
    expect(iso(parseSchedule(schedule).next(at(after)))).toBe(next);
  });

  it("reads the fields on the wall clock of timeZone (and CRON_TZ=)", () => {
    // 09:00 in New York in January is 14:00 UTC
    expect(iso(parseSchedule("0 9 * * *", "America/New_York").next(at("2026-01-01T00:00:00Z")))).toBe(
      "2026-01-01T14:00:00.000Z",
    );
    expect(iso(parseSchedule("CRON_TZ=Asia/Tokyo 0 9 * * *").next(at("2026-01-01T00:00:00Z")))).toBe(
      "2026-01-02T00:00:00.000Z",
    );
    // across the spring-forward change the next 00:30 still comes
    expect(iso(parseSchedule("30 0 * * *", "Europe/Berlin").next(at("2026-03-28T23:00:00Z")))).toBe(
      "2026-03-28T23:30:00.000Z",
    );
  });

  it.each(["* * * *", "61 * * * *", "* * * * * *", "x * * * *", "*/0 * * * *", "@every nope"])("refuses %s", (s) => {
    expect(() => parseSchedule(s)).toThrow();
  });
});

const cj = (spec: Record<string, unknown> = {}, status?: Record<string, unknown>): KubeObject => ({
  apiVersion: "batch/v1",
  kind: "CronJob",
  metadata: { name: "tick", namespace: "default", uid: "cj-uid", creationTimestamp: "2026-01-01T00:00:00Z" },
  spec: {
    schedule: "*/5 * * * *",
    jobTemplate: { metadata: { labels: { app: "tick" } }, spec: { template: { spec: { restartPolicy: "Never" } } } },
    ...spec,
  },
  ...(status ? { status } : {}),
});
const job = (name: string, state: "running" | "complete" | "failed", created = "2026-01-01T00:05:00Z"): KubeObject => ({
  apiVersion: "batch/v1",
  kind: "Job",
  metadata: {
    name,
    namespace: "default",
    uid: `uid-${name}`,
    creationTimestamp: created,
    ownerReferences: [{ apiVersion: "batch/v1", kind: "CronJob", name: "tick", uid: "cj-uid", controller: true }],
  },
  status:
    state === "running"
      ? { active: 1 }
      : {
          conditions: [{ type: state === "complete" ? "Complete" : "Failed", status: "True" }],
          ...(state === "complete" ? { completionTime: created } : {}),
        },
});

describe("planCronJob", () => {
  it("creates the job of the latest missed time, named by its minute, and says when to look again", () => {
    const plan = planCronJob(cj(), [], at("2026-01-01T00:11:00Z"));
    const t = at("2026-01-01T00:10:00Z");
    expect(plan.create?.metadata.name).toBe(jobNameFor(cj(), t));
    expect(plan.create?.metadata.name).toBe(`tick-${t / 60000}`);
    expect(plan.create?.metadata.annotations?.[SCHEDULED_TIMESTAMP]).toBe("2026-01-01T00:10:00Z");
    expect(plan.create?.metadata.labels).toEqual({ app: "tick" });
    expect(plan.create?.metadata.ownerReferences?.[0]).toMatchObject({ kind: "CronJob", controller: true });
    expect(plan.status?.lastScheduleTime).toBe("2026-01-01T00:10:00Z");
    expect(plan.requeueAfterMs).toBe(4 * 60_000 + 100);
  });

  it("nothing before the first time; nothing twice for the same time", () => {
    expect(planCronJob(cj(), [], at("2026-01-01T00:04:00Z")).create).toBeUndefined();
    const done = cj({}, { lastScheduleTime: "2026-01-01T00:10:00Z" });
    expect(planCronJob(done, [], at("2026-01-01T00:11:00Z")).create).toBeUndefined();
  });

  it("Forbid skips while one runs; Replace deletes the running one", () => {
    const running = [job("tick-1", "running")];
    const status = {
      lastScheduleTime: "2026-01-01T00:05:00Z",
      active: [{ kind: "Job", name: "tick-1", uid: "uid-tick-1" }],
    };
    expect(
      planCronJob(cj({ concurrencyPolicy: "Forbid" }, status), running, at("2026-01-01T00:10:30Z")).create,
    ).toBeUndefined();
    const rep = planCronJob(cj({ concurrencyPolicy: "Replace" }, status), running, at("2026-01-01T00:10:30Z"));
    expect(rep.delete).toEqual(["tick-1"]);
    expect(rep.create).toBeDefined();
    expect(planCronJob(cj({}, status), running, at("2026-01-01T00:10:30Z")).create).toBeDefined();
  });

  it("suspend and a passed startingDeadlineSeconds start nothing", () => {
    expect(planCronJob(cj({ suspend: true }), [], at("2026-01-01T00:11:00Z")).create).toBeUndefined();
    const late = planCronJob(cj({ startingDeadlineSeconds: 30 }), [], at("2026-01-01T00:11:00Z"));
    expect(late.create).toBeUndefined();
    expect(late.events[0]?.reason).toBe("MissSchedule");
  });

  it("finished jobs leave active, the last success is recorded, and history is trimmed", () => {
    const jobs = [
      job("tick-a", "complete", "2026-01-01T00:01:00Z"),
      job("tick-b", "complete", "2026-01-01T00:02:00Z"),
      job("tick-c", "failed", "2026-01-01T00:03:00Z"),
      job("tick-d", "failed", "2026-01-01T00:04:00Z"),
    ];
    const status = {
      lastScheduleTime: "2026-01-01T00:10:00Z",
      active: [{ kind: "Job", name: "tick-b", uid: "uid-tick-b" }],
    };
    const plan = planCronJob(
      cj({ successfulJobsHistoryLimit: 1, failedJobsHistoryLimit: 1 }, status),
      jobs,
      at("2026-01-01T00:11:00Z"),
    );
    expect(plan.delete).toEqual(["tick-a", "tick-c"]);
    expect(plan.status?.active).toBeUndefined();
    expect(plan.status?.lastSuccessfulTime).toBe("2026-01-01T00:02:00Z");
    expect(plan.events.map((e) => e.reason)).toContain("SawCompletedJob");
  });

  it("an unparseable schedule is a warning, not a crash", () => {
    expect(planCronJob(cj({ schedule: "nope" }), [], at("2026-01-01T00:11:00Z")).events[0]?.reason).toBe(
      "UnparseableSchedule",
    );
  });
});
