/**
 * The CronJob controller (kube's cronjob_controllerv2.go), its decisions PURE: the most recent
 * schedule time not yet run (within startingDeadlineSeconds), concurrencyPolicy
 * Allow/Forbid/Replace, suspend, the Job made from jobTemplate (named `<cronjob>-<minutes since
 * epoch>`), status.active / lastScheduleTime / lastSuccessfulTime, and the finished-job history limits.
 */
import { builtin, R } from "../../../kube/resources.js";
import type { ClusterRef, KubeObject } from "../../../kube/types.js";
import type { WorkloadContext } from "../controllers.js";
import { byCreation, controllerRef, controllerRefOf, int, rfc3339 } from "../common.js";
import { parseSchedule } from "./cron.js";
import { isFinished, type JobStatus } from "./job.js";
import type { WorkloadController } from "./registry.js";

export const CRONJOBS = builtin("batch", "cronjobs");
export const SCHEDULED_TIMESTAMP = "batch.kubernetes.io/cronjob-scheduled-timestamp";

export interface CronJobSpec {
  schedule?: string;
  timeZone?: string;
  startingDeadlineSeconds?: number;
  concurrencyPolicy?: "Allow" | "Forbid" | "Replace";
  suspend?: boolean;
  successfulJobsHistoryLimit?: number;
  failedJobsHistoryLimit?: number;
  jobTemplate?: {
    metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
    spec?: unknown;
  };
}

interface JobRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
}

export interface CronJobStatus {
  active?: JobRef[];
  lastScheduleTime?: string;
  lastSuccessfulTime?: string;
}

export interface CronJobPlan {
  create?: KubeObject;
  /** Jobs to delete (Replace, history limits). */
  delete: string[];
  status?: CronJobStatus;
  events: { type: "Normal" | "Warning"; reason: string; message: string }[];
  requeueAfterMs?: number;
}

const cjSpec = (cj: KubeObject) => (cj.spec ?? {}) as CronJobSpec;
const jobStatus = (j: KubeObject) => (j.status ?? {}) as JobStatus;
const succeeded = (j: KubeObject) =>
  (jobStatus(j).conditions ?? []).some((c) => c.type === "Complete" && c.status === "True");

/** `<cronjob>-<scheduled time in minutes since the epoch>`, as kube names a CronJob's jobs. */
export const jobNameFor = (cj: KubeObject, scheduledMs: number) =>
  `${cj.metadata.name}-${Math.floor(scheduledMs / 60_000)}`;

export function planCronJob(cj: KubeObject, jobs: KubeObject[], nowMs: number): CronJobPlan {
  const spec = cjSpec(cj);
  const plan: CronJobPlan = { delete: [], events: [] };
  const prev = (cj.status ?? {}) as CronJobStatus;
  const mine = jobs.filter((j) => controllerRefOf(j)?.uid === cj.metadata.uid);
  const refOf = (j: KubeObject): JobRef => ({
    apiVersion: "batch/v1",
    kind: "Job",
    name: j.metadata.name ?? "",
    namespace: j.metadata.namespace,
    uid: j.metadata.uid,
    resourceVersion: j.metadata.resourceVersion,
  });
  const status: CronJobStatus = { ...prev };
  const running = mine.filter((j) => !isFinished(jobStatus(j)) && !j.metadata.deletionTimestamp);
  // Finished jobs leave status.active; a success is the lastSuccessfulTime.
  for (const j of mine) {
    if (!isFinished(jobStatus(j))) continue;
    const wasActive = (prev.active ?? []).some((r) => r.uid === j.metadata.uid);
    if (wasActive)
      plan.events.push({
        type: "Normal",
        reason: "SawCompletedJob",
        message: `Saw completed job: ${j.metadata.name}, status: ${succeeded(j) ? "Complete" : "Failed"}`,
      });
    const done = jobStatus(j).completionTime;
    if (
      succeeded(j) &&
      done &&
      (!status.lastSuccessfulTime || Date.parse(done) > Date.parse(status.lastSuccessfulTime))
    )
      status.lastSuccessfulTime = done;
  }
  status.active = running.map(refOf);

  // History limits for finished jobs, oldest first.
  const finished = mine.filter((j) => isFinished(jobStatus(j))).sort(byCreation);
  const trim = (list: KubeObject[], limit: number) => {
    for (const j of list.slice(0, Math.max(0, list.length - limit))) plan.delete.push(j.metadata.name ?? "");
  };
  trim(finished.filter(succeeded), int(spec.successfulJobsHistoryLimit, 3));
  trim(
    finished.filter((j) => !succeeded(j)),
    int(spec.failedJobsHistoryLimit, 1),
  );

  const finish = () => {
    if (!status.active?.length) delete status.active;
    if (JSON.stringify(status) !== JSON.stringify(prev)) plan.status = status;
    return plan;
  };
  if (cj.metadata.deletionTimestamp || spec.suspend) return finish();

  let sched: ReturnType<typeof parseSchedule>;
  try {
    sched = parseSchedule(spec.schedule ?? "", spec.timeZone);
  } catch (e) {
    plan.events.push({
      type: "Warning",
      reason: "UnparseableSchedule",
      message: `unparseable schedule: ${spec.schedule} : ${(e as Error).message}`,
    });
    return finish();
  }
  // The most recent time to run since the last run (or the CronJob's creation).
  const since = Date.parse(prev.lastScheduleTime ?? cj.metadata.creationTimestamp ?? rfc3339(nowMs));
  let scheduled: number | undefined;
  let missed = 0;
  for (let t = sched.next(since); t !== undefined && t <= nowMs; t = sched.next(t)) {
    scheduled = t;
    if (++missed > 100) break;
  }
  if (missed > 100)
    plan.events.push({
      type: "Warning",
      reason: "TooManyMissedTimes",
      message: "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew",
    });
  const upcoming = sched.next(nowMs);
  if (upcoming !== undefined) plan.requeueAfterMs = upcoming - nowMs + 100;
  if (scheduled === undefined) return finish();
  const deadline = spec.startingDeadlineSeconds;
  if (deadline !== undefined && scheduled + deadline * 1000 < nowMs) {
    plan.events.push({
      type: "Warning",
      reason: "MissSchedule",
      message: `Missed scheduled time to start a job: ${rfc3339(scheduled)}`,
    });
    return finish();
  }
  const name = jobNameFor(cj, scheduled);
  if (mine.some((j) => j.metadata.name === name)) return finish();
  const policy = spec.concurrencyPolicy ?? "Allow";
  if (policy === "Forbid" && running.length) {
    plan.events.push({
      type: "Normal",
      reason: "JobAlreadyActive",
      message: "Not starting job because prior execution is running and concurrency policy is Forbid",
    });
    return finish();
  }
  if (policy === "Replace") for (const j of running) plan.delete.push(j.metadata.name ?? "");
  const tmpl = spec.jobTemplate ?? {};
  plan.create = {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: {
      name,
      namespace: cj.metadata.namespace,
      ...(tmpl.metadata?.labels ? { labels: { ...tmpl.metadata.labels } } : {}),
      annotations: { ...(tmpl.metadata?.annotations ?? {}), [SCHEDULED_TIMESTAMP]: rfc3339(scheduled) },
      ownerReferences: [controllerRef(cj)],
    },
    spec: structuredClone(tmpl.spec ?? {}),
  };
  plan.events.push({ type: "Normal", reason: "SuccessfulCreate", message: `Created job ${name}` });
  status.lastScheduleTime = rfc3339(scheduled);
  status.active = [
    ...(policy === "Replace" ? [] : (status.active ?? [])),
    { apiVersion: "batch/v1", kind: "Job", name, namespace: cj.metadata.namespace },
  ];
  return finish();
}

export const cronJobController: WorkloadController = {
  name: "cronjob",
  type: CRONJOBS,
  ownsPods: false,
  watchesNodes: false,
  sync(ctx: WorkloadContext, c: ClusterRef, ns: string, name: string) {
    const { objects } = ctx;
    const cj = objects.get(c, CRONJOBS, ns, name);
    if (!cj) return undefined;
    const jobs = objects.list(c, R.jobs, ns).items;
    const plan = planCronJob(cj, jobs, ctx.now());
    const events = ctx.recorder("cronjob-controller");
    for (const j of plan.delete)
      if (ctx.deleteQuietly(c, R.jobs, ns, j)) events.event(c, cj, "Normal", "SuccessfulDelete", `Deleted job ${j}`);
    let status = plan.status;
    if (plan.create) {
      try {
        const made = objects.create(c, R.jobs, plan.create);
        // status.active carries the uid of what was made
        if (status?.active)
          status = {
            ...status,
            active: status.active.map((r) =>
              r.name === made.metadata.name
                ? { ...r, uid: made.metadata.uid, resourceVersion: made.metadata.resourceVersion }
                : r,
            ),
          };
      } catch (e) {
        if (!(e instanceof Error && (e as { reason?: string }).reason === "AlreadyExists")) {
          events.event(c, cj, "Warning", "FailedCreate", `Error creating job: ${(e as Error).message}`);
          throw e;
        }
      }
    }
    for (const e of plan.events) events.event(c, cj, e.type, e.reason, e.message);
    if (status) ctx.writeStatus(c, CRONJOBS, cj, status);
    return plan.requeueAfterMs !== undefined ? { requeueAfterMs: plan.requeueAfterMs } : undefined;
  },
};
