/**
 * The StatefulSet controller (kube's stateful_set_control.go), its decisions PURE: pods
 * `<name>-0..N-1` created in order (OrderedReady: each waits for the one before to be Running and
 * Ready) or all at once (Parallel), removed from the highest ordinal down, rolled to a new
 * template from the highest ordinal down to the partition; ControllerRevisions; status.
 */
import type { LabelSelector } from "../../../kube/labels.js";
import { builtin, R } from "../../../kube/resources.js";
import type { ClusterRef, KubeObject } from "../../../kube/types.js";
import type { WorkloadContext } from "../controllers.js";
import { claimDecision, hasSelector, int, isPodAvailable, isPodReady, type PodTemplate, phaseOf } from "../common.js";
import { podFromTemplate } from "./replicaset.js";
import type { WorkloadController } from "./registry.js";
import {
  ownedRevisions,
  planRevision,
  REVISION_HASH_LABEL,
  revisionsToDelete,
  templateOfRevision,
} from "./revisions.js";

export const POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name";
const PVCS = builtin("", "persistentvolumeclaims");

export interface StatefulSetSpec {
  replicas?: number;
  selector?: LabelSelector;
  template?: PodTemplate;
  serviceName?: string;
  podManagementPolicy?: "OrderedReady" | "Parallel";
  updateStrategy?: { type?: "RollingUpdate" | "OnDelete"; rollingUpdate?: { partition?: number } };
  revisionHistoryLimit?: number;
  minReadySeconds?: number;
  volumeClaimTemplates?: {
    metadata?: { name?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
    spec?: unknown;
  }[];
}

export interface StatefulSetStatus {
  observedGeneration?: number;
  replicas: number;
  readyReplicas: number;
  currentReplicas: number;
  updatedReplicas: number;
  availableReplicas: number;
  currentRevision?: string;
  updateRevision?: string;
  collisionCount: number;
}

export interface StatefulSetPlan {
  adopt: string[];
  release: string[];
  createRevision?: KubeObject;
  /** PersistentVolumeClaims from volumeClaimTemplates for the pods about to be made (kept after the pods, as kube's Retain policy). */
  createClaims: { claim: KubeObject; pod: string }[];
  renumberRevision?: { name: string; revision: number };
  deleteRevisions: string[];
  create: KubeObject[];
  delete: string[];
  status?: StatefulSetStatus;
}

const spec = (s: KubeObject) => (s.spec ?? {}) as StatefulSetSpec;

/** `web-3` → 3 for a StatefulSet named web; -1 when the name is not one of its ordinals. */
export function ordinalOf(setName: string, podName: string): number {
  const prefix = `${setName}-`;
  if (!podName.startsWith(prefix)) return -1;
  const rest = podName.slice(prefix.length);
  return /^(0|[1-9]\d*)$/.test(rest) ? Number(rest) : -1;
}

const runningAndReady = (p: KubeObject) => phaseOf(p) === "Running" && isPodReady(p);
const terminating = (p: KubeObject) => !!p.metadata.deletionTimestamp;
const revisionOfPod = (p: KubeObject) => p.metadata.labels?.[REVISION_HASH_LABEL];

export function planStatefulSet(
  set: KubeObject,
  pods: KubeObject[],
  revisions: KubeObject[],
  nowMs: number,
  /** The namespace's PersistentVolumeClaims (a pod's claims from volumeClaimTemplates are made first). */
  claims: KubeObject[] = [],
): StatefulSetPlan {
  const s = spec(set);
  const name = set.metadata.name ?? "";
  const plan: StatefulSetPlan = {
    adopt: [],
    release: [],
    deleteRevisions: [],
    createClaims: [],
    create: [],
    delete: [],
  };
  const prev = (set.status ?? {}) as Partial<StatefulSetStatus>;
  // Being deleted: nothing new (not even a revision), its dependents go (GC).
  if (!hasSelector(s.selector) || set.metadata.deletionTimestamp) return plan;

  // Revisions: the update revision is the current template's; the current one what pods ran before.
  let collisionCount = prev.collisionCount ?? 0;
  const rev = planRevision(set, s.template, revisions, collisionCount);
  if (rev.collision) {
    collisionCount++;
    plan.status = { ...emptyStatus(set, prev), collisionCount };
    return plan;
  }
  plan.createRevision = rev.create;
  plan.renumberRevision = rev.renumber;
  const updateRevision = rev.update;
  const updateName = updateRevision.metadata.name ?? "";
  const owned = ownedRevisions(set, revisions);
  const currentRevision = owned.find((r) => r.metadata.name === prev.currentRevision) ?? updateRevision;
  const currentName = currentRevision.metadata.name ?? "";

  // Pods: claimed by selector and name.
  const mine: KubeObject[] = [];
  for (const p of pods) {
    if (ordinalOf(name, p.metadata.name ?? "") < 0) continue;
    const d = claimDecision(set, s.selector, p);
    if (d === "owned") mine.push(p);
    else if (d === "adopt") {
      plan.adopt.push(p.metadata.name ?? "");
      mine.push(p);
    } else if (d === "release") plan.release.push(p.metadata.name ?? "");
  }
  const replicas = int(s.replicas, 1);
  const slots: (KubeObject | undefined)[] = Array.from({ length: replicas }, () => undefined);
  const condemned: KubeObject[] = [];
  for (const p of mine) {
    const ord = ordinalOf(name, p.metadata.name ?? "");
    if (ord < replicas) slots[ord] = p;
    else condemned.push(p);
  }
  condemned.sort((a, b) => ordinalOf(name, b.metadata.name ?? "") - ordinalOf(name, a.metadata.name ?? ""));

  const monotonic = (s.podManagementPolicy ?? "OrderedReady") !== "Parallel";
  const strategy = s.updateStrategy?.type ?? "RollingUpdate";
  const partition = s.updateStrategy?.rollingUpdate ? int(s.updateStrategy.rollingUpdate.partition, 0) : undefined;
  const newPod = (ord: number): KubeObject => {
    const useCurrent =
      (strategy === "RollingUpdate" && partition === undefined && ord < (prev.currentReplicas ?? 0)) ||
      (partition !== undefined && ord < partition);
    const revName = useCurrent ? currentName : updateName;
    const template = useCurrent ? (templateOfRevision(currentRevision) ?? s.template) : s.template;
    const podName = `${name}-${ord}`;
    const pod = podFromTemplate(template, set, {
      name: podName,
      labels: { [POD_NAME_LABEL]: podName, [REVISION_HASH_LABEL]: revName },
    });
    pod.spec = { ...(pod.spec as object), hostname: podName, ...(s.serviceName ? { subdomain: s.serviceName } : {}) };
    // Each claim template: a claim `<template>-<pod>` and the pod's volume of that name on it.
    const podSpec = pod.spec as { volumes?: { name: string; [k: string]: unknown }[] };
    for (const t of s.volumeClaimTemplates ?? []) {
      const claimName = `${t.metadata?.name}-${podName}`;
      podSpec.volumes = [
        ...(podSpec.volumes ?? []).filter((v) => v.name !== t.metadata?.name),
        { name: t.metadata?.name ?? "", persistentVolumeClaim: { claimName } },
      ];
      const exists = [...claims, ...plan.createClaims.map((x) => x.claim)].some((c) => c.metadata.name === claimName);
      if (!exists)
        plan.createClaims.push({
          pod: podName,
          claim: {
            apiVersion: "v1",
            kind: "PersistentVolumeClaim",
            metadata: {
              name: claimName,
              namespace: set.metadata.namespace,
              labels: { ...(t.metadata?.labels ?? {}), ...(s.selector?.matchLabels ?? {}) },
              ...(t.metadata?.annotations ? { annotations: t.metadata.annotations } : {}),
            },
            spec: structuredClone(t.spec ?? {}),
          },
        });
    }
    return pod;
  };

  const deleted = new Set<string>();
  const act = () => {
    for (let ord = 0; ord < replicas; ord++) {
      const p = slots[ord];
      if (!p) {
        const pod = newPod(ord);
        plan.create.push(pod);
        slots[ord] = pod;
        if (monotonic) return;
        continue;
      }
      if (phaseOf(p) === "Failed" && !terminating(p)) {
        plan.delete.push(p.metadata.name ?? "");
        deleted.add(p.metadata.name ?? "");
        if (monotonic) return;
        continue;
      }
      if (monotonic && (terminating(p) || !runningAndReady(p))) return;
    }
    for (const p of condemned) {
      if (terminating(p)) {
        if (monotonic) return;
        continue;
      }
      if (monotonic) {
        const unhealthy = [...slots, ...condemned].some((x) => x && x !== p && (!runningAndReady(x) || terminating(x)));
        if (unhealthy) return;
      }
      plan.delete.push(p.metadata.name ?? "");
      deleted.add(p.metadata.name ?? "");
      if (monotonic) return;
    }
    if (strategy !== "RollingUpdate") return;
    for (let ord = replicas - 1; ord >= (partition ?? 0); ord--) {
      const p = slots[ord];
      if (!p || plan.create.includes(p)) return;
      if (revisionOfPod(p) !== updateName && !terminating(p)) {
        plan.delete.push(p.metadata.name ?? "");
        deleted.add(p.metadata.name ?? "");
        return;
      }
      if (!runningAndReady(p)) return;
    }
  };
  if (!set.metadata.deletionTimestamp) act();

  // Status over the pods as this pass leaves them.
  const minReady = int(s.minReadySeconds, 0);
  const live = [...slots, ...condemned].filter((p): p is KubeObject => !!p && !deleted.has(p.metadata.name ?? ""));
  const status: StatefulSetStatus = {
    observedGeneration: set.metadata.generation,
    replicas: live.length,
    readyReplicas: live.filter(runningAndReady).length,
    currentReplicas: live.filter((p) => revisionOfPod(p) === currentName).length,
    updatedReplicas: live.filter((p) => revisionOfPod(p) === updateName).length,
    availableReplicas: live.filter((p) => runningAndReady(p) && isPodAvailable(p, minReady, nowMs)).length,
    currentRevision: currentName,
    updateRevision: updateName,
    collisionCount,
  };
  if (
    strategy === "RollingUpdate" &&
    status.updatedReplicas === status.replicas &&
    status.readyReplicas === status.replicas
  ) {
    status.currentReplicas = status.updatedReplicas;
    status.currentRevision = status.updateRevision;
  }
  if (JSON.stringify(status) !== JSON.stringify(normalize(prev))) plan.status = status;

  const inUse = new Set([status.currentRevision ?? "", updateName, ...mine.map((p) => revisionOfPod(p) ?? "")]);
  plan.deleteRevisions = revisionsToDelete(owned, int(s.revisionHistoryLimit, 10), inUse);
  return plan;
}

function emptyStatus(set: KubeObject, prev: Partial<StatefulSetStatus>): StatefulSetStatus {
  return { ...normalize(prev), observedGeneration: set.metadata.generation };
}

function normalize(p: Partial<StatefulSetStatus>): StatefulSetStatus {
  return {
    observedGeneration: p.observedGeneration,
    replicas: p.replicas ?? 0,
    readyReplicas: p.readyReplicas ?? 0,
    currentReplicas: p.currentReplicas ?? 0,
    updatedReplicas: p.updatedReplicas ?? 0,
    availableReplicas: p.availableReplicas ?? 0,
    currentRevision: p.currentRevision,
    updateRevision: p.updateRevision,
    collisionCount: p.collisionCount ?? 0,
  };
}

/** The applier: revisions first, then pods, then the status. */
export const statefulSetController: WorkloadController = {
  name: "statefulset",
  type: R.statefulsets,
  ownsPods: true,
  watchesNodes: false,
  sync(ctx: WorkloadContext, c: ClusterRef, ns: string, name: string) {
    const { objects } = ctx;
    const set = objects.get(c, R.statefulsets, ns, name);
    if (!set) return undefined;
    const pods = objects.list(c, R.pods, ns).items;
    const revisions = objects.list(c, R.controllerrevisions, ns).items;
    const claims = spec(set).volumeClaimTemplates?.length ? objects.list(c, PVCS, ns).items : [];
    const plan = planStatefulSet(set, pods, revisions, ctx.now(), claims);
    const events = ctx.recorder("statefulset-controller");
    ctx.adoptAndRelease(c, set, spec(set).selector, plan.adopt, plan.release);
    if (plan.createRevision) objects.create(c, R.controllerrevisions, plan.createRevision);
    if (plan.renumberRevision) {
      const r = plan.renumberRevision;
      objects.mutate(c, R.controllerrevisions, ns, r.name, (cr) => ({ ...cr, revision: r.revision }));
    }
    for (const { claim, pod } of plan.createClaims) {
      try {
        objects.create(c, PVCS, claim);
        events.event(
          c,
          set,
          "Normal",
          "SuccessfulCreate",
          `create Claim ${claim.metadata.name} Pod ${pod} in StatefulSet ${name} success`,
        );
      } catch (e) {
        if (!(e instanceof Error && (e as { reason?: string }).reason === "AlreadyExists")) throw e;
      }
    }
    for (const p of plan.create) {
      try {
        ctx.createPod(c, p);
        events.event(
          c,
          set,
          "Normal",
          "SuccessfulCreate",
          `create Pod ${p.metadata.name} in StatefulSet ${name} successful`,
        );
      } catch (e) {
        events.event(
          c,
          set,
          "Warning",
          "FailedCreate",
          `create Pod ${p.metadata.name} in StatefulSet ${name} failed error: ${(e as Error).message}`,
        );
        throw e;
      }
    }
    for (const p of plan.delete)
      if (ctx.deleteQuietly(c, R.pods, ns, p))
        events.event(c, set, "Normal", "SuccessfulDelete", `delete Pod ${p} in StatefulSet ${name} successful`);
    for (const r of plan.deleteRevisions) ctx.deleteQuietly(c, R.controllerrevisions, ns, r);
    if (plan.status) ctx.writeStatus(c, R.statefulsets, set, plan.status);
    return undefined;
  },
};
