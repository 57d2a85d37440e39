/**
 * The Job controller (kube's job_controller.go), its decisions PURE: pods up to parallelism until
 * completions succeed (or, without completions, until one succeeds and the rest end), failures
 * against backoffLimit (failed pods, or container restarts with restartPolicy OnFailure) with
 * exponential backoff before a new pod, activeDeadlineSeconds, suspend, Indexed completion,
 * ttlSecondsAfterFinished; status and the Complete / Failed conditions.
 */
import type { LabelSelector } from "../../../kube/labels.js";
import { R } from "../../../kube/resources.js";
import type { ClusterRef, KubeObject } from "../../../kube/types.js";
import type { WorkloadContext } from "../controllers.js";
import {
  type Condition,
  claimDecision,
  conditionOf,
  hasSelector,
  int,
  isPodActive,
  isPodReady,
  type PodTemplate,
  phaseOf,
  podStatus,
  rfc3339,
} from "../common.js";
import { FOREGROUND } from "../gc.js";
import { podFromTemplate, podsToDelete } from "./replicaset.js";
import type { WorkloadController } from "./registry.js";

export const COMPLETION_INDEX = "batch.kubernetes.io/job-completion-index";

export interface JobSpec {
  parallelism?: number;
  completions?: number;
  backoffLimit?: number;
  activeDeadlineSeconds?: number;
  ttlSecondsAfterFinished?: number;
  suspend?: boolean;
  completionMode?: "NonIndexed" | "Indexed";
  manualSelector?: boolean;
  selector?: LabelSelector;
  template?: PodTemplate;
}

export interface JobStatus {
  startTime?: string;
  completionTime?: string;
  active?: number;
  succeeded?: number;
  failed?: number;
  ready?: number;
  completedIndexes?: string;
  conditions?: Condition[];
}

export interface JobPlan {
  /** The selector and template labels a Job gets from its uid when it has none (kube-apiserver's Job strategy does this on create). */
  spec?: JobSpec;
  adopt: string[];
  release: string[];
  create: KubeObject[];
  delete: string[];
  status?: JobStatus;
  events: { type: "Normal" | "Warning"; reason: string; message: string }[];
  /** The Job is finished and its TTL passed: delete it (its pods go with it). */
  deleteJob?: boolean;
  requeueAfterMs?: number;
}

const jobSpec = (j: KubeObject) => (j.spec ?? {}) as JobSpec;
export const isFinished = (s: JobStatus | undefined) =>
  (s?.conditions ?? []).some((c) => (c.type === "Complete" || c.type === "Failed") && c.status === "True");

/** The labels a Job's pods carry (and, without manualSelector, its selector). */
export function jobLabels(job: KubeObject): Record<string, string> {
  const uid = job.metadata.uid ?? "";
  const name = job.metadata.name ?? "";
  return {
    "controller-uid": uid,
    "job-name": name,
    "batch.kubernetes.io/controller-uid": uid,
    "batch.kubernetes.io/job-name": name,
  };
}

/** A job's spec with its generated selector, or undefined when it has one. */
export function generatedSelector(job: KubeObject): JobSpec | undefined {
  const spec = jobSpec(job);
  if (spec.manualSelector || hasSelector(spec.selector)) return undefined;
  const labels = jobLabels(job);
  const template = structuredClone(spec.template ?? {});
  template.metadata = { ...(template.metadata ?? {}), labels: { ...(template.metadata?.labels ?? {}), ...labels } };
  return { ...spec, selector: { matchLabels: { "controller-uid": labels["controller-uid"] as string } }, template };
}

/** "0-2,4,6-7" from a set of indexes (kube's completedIndexes). */
export function formatIndexes(ix: number[]): string {
  const s = [...new Set(ix)].sort((a, b) => a - b);
  const out: string[] = [];
  for (let i = 0; i < s.length; ) {
    let j = i;
    while (j + 1 < s.length && (s[j + 1] as number) === (s[j] as number) + 1) j++;
    out.push(i === j ? String(s[i]) : `${s[i]}-${s[j]}`);
    i = j + 1;
  }
  return out.join(",");
}

const indexOf = (p: KubeObject) => {
  const v = p.metadata.annotations?.[COMPLETION_INDEX];
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
};

/** When a failed pod ended: its last container's finishedAt (or undefined). */
function finishedAt(p: KubeObject): number | undefined {
  let t: number | undefined;
  for (const cs of podStatus(p).containerStatuses ?? []) {
    const f = (cs.state as { terminated?: { finishedAt?: string } } | undefined)?.terminated?.finishedAt;
    const ms = f ? Date.parse(f) : Number.NaN;
    if (!Number.isNaN(ms)) t = Math.max(t ?? 0, ms);
  }
  return t;
}

export function planJob(job: KubeObject, pods: KubeObject[], nowMs: number, backoffBaseMs = 10_000): JobPlan {
  const plan: JobPlan = { adopt: [], release: [], create: [], delete: [], events: [] };
  const fixed = generatedSelector(job);
  if (fixed) {
    plan.spec = fixed;
    return plan; // the next pass works with it
  }
  const spec = jobSpec(job);
  const prev = (job.status ?? {}) as JobStatus;
  const status: JobStatus = structuredClone(prev);
  const now = rfc3339(nowMs);

  const mine: KubeObject[] = [];
  for (const p of pods) {
    const d = claimDecision(job, spec.selector, p);
    if (d === "owned") mine.push(p);
    else if (d === "adopt" && isPodActive(p)) {
      plan.adopt.push(p.metadata.name ?? "");
      mine.push(p);
    } else if (d === "release") plan.release.push(p.metadata.name ?? "");
  }
  const active = mine.filter(isPodActive);
  const succeededPods = mine.filter((p) => phaseOf(p) === "Succeeded");
  const failedPods = mine.filter((p) => phaseOf(p) === "Failed");
  const indexed = spec.completionMode === "Indexed";
  const completions = spec.completions ?? (spec.parallelism === undefined ? 1 : undefined);
  const parallelism = int(spec.parallelism, 1);
  const backoffLimit = int(spec.backoffLimit, 6);
  const succeededIdx = indexed
    ? [...new Set(succeededPods.map(indexOf).filter((i): i is number => i !== undefined && i < (completions ?? 0)))]
    : [];
  const succeeded = indexed ? succeededIdx.length : succeededPods.length;
  const failed = failedPods.length;

  const finish = (type: "Complete" | "Failed", reason?: string, message?: string) => {
    const c: Condition = { type, status: "True", lastProbeTime: now, lastTransitionTime: now };
    if (reason) c.reason = reason;
    if (message) c.message = message;
    status.conditions = [...(status.conditions ?? []).filter((x) => x.type !== type), c];
    for (const p of active) plan.delete.push(p.metadata.name ?? "");
    if (type === "Complete") {
      status.completionTime = now;
      plan.events.push({ type: "Normal", reason: "Completed", message: "Job completed" });
    } else plan.events.push({ type: "Warning", reason: reason ?? "Failed", message: message ?? "Job failed" });
  };

  if (isFinished(prev)) {
    // Finished: nothing more runs; a TTL deletes it later.
    for (const p of active) plan.delete.push(p.metadata.name ?? "");
  } else if (!job.metadata.deletionTimestamp) {
    const suspended = spec.suspend === true;
    if (!suspended && !status.startTime) status.startTime = now;
    const restartsOnFailure =
      (spec.template?.spec as { restartPolicy?: string } | undefined)?.restartPolicy === "OnFailure"
        ? active.reduce(
            (n, p) => n + (podStatus(p).containerStatuses ?? []).reduce((m, cs) => m + (cs.restartCount ?? 0), 0),
            0,
          )
        : 0;
    const pastOnFailure =
      backoffLimit === 0 ? restartsOnFailure > 0 : restartsOnFailure >= backoffLimit && restartsOnFailure > 0;
    const deadline = spec.activeDeadlineSeconds;
    const started = status.startTime ? Date.parse(status.startTime) : nowMs;
    const complete = completions !== undefined ? succeeded >= completions : succeeded > 0 && active.length === 0;
    if (complete) finish("Complete");
    else if (failed > backoffLimit || pastOnFailure)
      finish("Failed", "BackoffLimitExceeded", "Job has reached the specified backoff limit");
    else if (deadline !== undefined && !suspended && started + deadline * 1000 <= nowMs)
      finish("Failed", "DeadlineExceeded", "Job was active longer than specified deadline");
    else {
      // Suspension, then the pods wanted.
      const sus = conditionOf(status.conditions, "Suspended");
      if (suspended && sus?.status !== "True") {
        status.conditions = [
          ...(status.conditions ?? []).filter((c) => c.type !== "Suspended"),
          {
            type: "Suspended",
            status: "True",
            reason: "JobSuspended",
            message: "Job suspended",
            lastProbeTime: now,
            lastTransitionTime: now,
          },
        ];
        plan.events.push({ type: "Normal", reason: "Suspended", message: "Job suspended" });
      } else if (!suspended && sus?.status === "True") {
        status.conditions = [
          ...(status.conditions ?? []).filter((c) => c.type !== "Suspended"),
          {
            type: "Suspended",
            status: "False",
            reason: "JobResumed",
            message: "Job resumed",
            lastProbeTime: now,
            lastTransitionTime: now,
          },
        ];
        status.startTime = now;
        plan.events.push({ type: "Normal", reason: "Resumed", message: "Job resumed" });
      }
      let want: number;
      if (suspended) want = 0;
      else if (completions === undefined) want = succeeded > 0 ? active.length : parallelism;
      else want = Math.max(0, Math.min(parallelism, completions - succeeded));
      if (active.length > want) plan.delete.push(...podsToDelete(active, active.length - want));
      else if (active.length < want) {
        // Exponential backoff after failures (kube: 10 s doubling, at most 6 min).
        const last = Math.max(0, ...failedPods.map((p) => finishedAt(p) ?? 0));
        const delay = failed > 0 ? Math.min(backoffBaseMs * 2 ** (failed - 1), 360_000) : 0;
        const wait = last > 0 ? last + delay - nowMs : 0;
        if (wait > 0) plan.requeueAfterMs = wait;
        else {
          const busy = new Set(active.map(indexOf));
          const done = new Set(succeededIdx);
          const free = indexed
            ? Array.from({ length: completions ?? 0 }, (_, i) => i).filter((i) => !busy.has(i) && !done.has(i))
            : [];
          for (let k = 0; k < want - active.length; k++) {
            if (indexed) {
              const i = free[k];
              if (i === undefined) break;
              plan.create.push(indexedPod(job, spec.template, i));
            } else plan.create.push(podFromTemplate(spec.template, job, { labels: jobLabels(job) }));
          }
        }
      }
      if (deadline !== undefined && !suspended) {
        const left = started + deadline * 1000 - nowMs;
        plan.requeueAfterMs = Math.min(plan.requeueAfterMs ?? left, left);
      }
    }
  }

  const gone = new Set(plan.delete);
  const stillActive = active.filter((p) => !gone.has(p.metadata.name ?? "")).length + plan.create.length;
  status.active = stillActive;
  status.succeeded = succeeded;
  status.failed = failed;
  status.ready = active.filter((p) => !gone.has(p.metadata.name ?? "") && isPodReady(p)).length;
  if (indexed) status.completedIndexes = formatIndexes(succeededIdx);
  const next = normalize(status);
  if (JSON.stringify(next) !== JSON.stringify(normalize(prev))) plan.status = next;

  const ttl = spec.ttlSecondsAfterFinished;
  if (ttl !== undefined && isFinished(next)) {
    const end = next.conditions?.find((c) => (c.type === "Complete" || c.type === "Failed") && c.status === "True");
    const at = Date.parse(end?.lastTransitionTime ?? now) + ttl * 1000;
    if (at <= nowMs) plan.deleteJob = true;
    else plan.requeueAfterMs = Math.min(plan.requeueAfterMs ?? at - nowMs, at - nowMs);
  }
  return plan;
}

function indexedPod(job: KubeObject, template: PodTemplate | undefined, i: number): KubeObject {
  const pod = podFromTemplate(template, job, {
    generateName: `${job.metadata.name}-${i}-`,
    labels: { ...jobLabels(job), [COMPLETION_INDEX]: String(i) },
  });
  pod.metadata.annotations = { ...(pod.metadata.annotations ?? {}), [COMPLETION_INDEX]: String(i) };
  const spec = (pod.spec ?? {}) as { containers?: { env?: { name: string; value?: string }[] }[]; hostname?: string };
  spec.hostname = `${job.metadata.name}-${i}`;
  for (const c of spec.containers ?? []) c.env = [...(c.env ?? []), { name: "JOB_COMPLETION_INDEX", value: String(i) }];
  pod.spec = spec;
  return pod;
}

/** Zero counts omitted (omitempty), `ready` kept, as kube serializes JobStatus. */
function normalize(s: JobStatus): JobStatus {
  const out: JobStatus = {};
  if (s.conditions?.length) out.conditions = s.conditions;
  if (s.startTime) out.startTime = s.startTime;
  if (s.completionTime) out.completionTime = s.completionTime;
  if (s.active) out.active = s.active;
  if (s.succeeded) out.succeeded = s.succeeded;
  if (s.failed) out.failed = s.failed;
  if (s.completedIndexes) out.completedIndexes = s.completedIndexes;
  out.ready = s.ready ?? 0;
  return out;
}

export const jobController: WorkloadController = {
  name: "job",
  type: R.jobs,
  ownsPods: true,
  watchesNodes: false,
  sync(ctx: WorkloadContext, c: ClusterRef, ns: string, name: string) {
    const { objects } = ctx;
    const job = objects.get(c, R.jobs, ns, name);
    if (!job) return undefined;
    const pods = objects.list(c, R.pods, ns).items;
    const plan = planJob(job, pods, ctx.now(), ctx.jobBackoffBaseMs);
    if (plan.spec) {
      objects.update(c, R.jobs, { ...job, spec: plan.spec });
      return { requeueAfterMs: 0 };
    }
    const events = ctx.recorder("job-controller");
    ctx.adoptAndRelease(c, job, jobSpec(job).selector, plan.adopt, plan.release);
    for (const p of plan.create) {
      const made = ctx.createPod(c, p);
      events.event(c, job, "Normal", "SuccessfulCreate", `Created pod: ${made.metadata.name}`);
    }
    for (const p of plan.delete)
      if (ctx.deleteQuietly(c, R.pods, ns, p)) events.event(c, job, "Normal", "SuccessfulDelete", `Deleted pod: ${p}`);
    if (plan.status) ctx.writeStatus(c, R.jobs, job, plan.status);
    for (const e of plan.events) events.event(c, job, e.type, e.reason, e.message);
    if (plan.deleteJob) ctx.deleteQuietly(c, R.jobs, ns, name, { uid: job.metadata.uid, finalizers: [FOREGROUND] });
    return plan.requeueAfterMs !== undefined ? { requeueAfterMs: Math.max(0, plan.requeueAfterMs) } : undefined;
  },
};
