/**
 * The Kubernetes controllers of every cluster: level-based loops on one keyed work queue. Each
 * cluster's objects are watched (ObjectStore.watch) and periodically resynced; a key names one
 * object for one controller, and each pass re-reads that object and what it owns, asks the pure
 * planner, and applies the plan through the ObjectStore.
 */
import { type Clock, timersOf } from "../../core/clock.js";
import type { Logger } from "../../core/logger.js";
import { type Periodic, periodic } from "../../core/periodic.js";
import type { Admission } from "../../kube/contracts.js";
import { KubeError } from "../../kube/errors.js";
import { matchesSelector, type LabelSelector } from "../../kube/labels.js";
import type { ObjectStore } from "../../kube/objects.js";
import { BUILTIN_RESOURCES, R } from "../../kube/resources.js";
import type { ClusterRef, KubeObject, ResourceType, WatchEvent } from "../../kube/types.js";
import type { Watch } from "../../store/watch.js";
import { WorkQueue } from "../work-queue.js";
import { type Condition, canonical, controllerRef, controllerRefOf, rfc3339 } from "./common.js";
import { type EventRecorder, eventRecorder } from "./events.js";
import { FOREGROUND, type ObjectRef, groupOf, planGarbageCollection, planOrphanedPods } from "./gc.js";
import { ensureNamespaceContents, NAMESPACE_FINALIZER, planNamespace } from "./namespaces.js";
import { planDeployment, REVISION } from "./workloads/deployment.js";
import {
  normalizeRsStatus,
  planReplicaSet,
  podFromTemplate,
  type ReplicaSetStatus,
  rsSpec,
} from "./workloads/replicaset.js";
import { cronJobController } from "./workloads/cronjob.js";
import { daemonSetController } from "./workloads/daemonset.js";
import { jobController } from "./workloads/job.js";
import type { WorkloadController } from "./workloads/registry.js";
import { statefulSetController } from "./workloads/statefulset.js";

const WORKLOADS: WorkloadController[] = [statefulSetController, daemonSetController, jobController, cronJobController];

export interface KubeControllerDeps {
  objects: ObjectStore;
  /** The clusters whose objects the controllers look after (read again at every resync). */
  clusters: () => ClusterRef[];
  clock: Clock;
  logger: Logger;
  /** How often every object is looked at again even without a change (default 30 s). */
  resyncIntervalMs?: number;
  /** The cluster's CA (PEM): published as the kube-root-ca.crt ConfigMap of every namespace. */
  caPem?: (cluster: ClusterRef) => string | undefined;
  /** Mutating admission the pods controllers create pass through (defaults, service account), as API writes do. */
  admission?: Admission;
  /** First delay before a Job re-creates a failed pod (kube: 10 s, doubling up to 6 min). */
  jobBackoffBaseMs?: number;
}

export interface KubeControllers {
  stop(): Promise<void>;
  /** Queues every object of every cluster now (tests; "look again"). */
  resyncNow(): Promise<void>;
  /** Resolves when no key is queued or being processed. */
  idle(): Promise<void>;
}

type Controller = "deployment" | "replicaset" | "gc" | "namespace" | WorkloadController["name"];

/** Every resource the garbage collector and the namespace controller look through. */
const LISTABLE = BUILTIN_RESOURCES.filter((t) => t.verbs.includes("list"));
const NAMESPACED = LISTABLE.filter((t) => t.namespaced);
const byGroupKind = new Map(LISTABLE.map((t) => [`${t.group}/${t.kind}`, t] as const));
/** Kinds that never own anything and change often: their changes wake no controller. */
const QUIET = new Set(["Event", "Lease"]);

/** How long a pod's node must be gone before the pod is removed (kube's podgc quarantine: 40 s). */
const ORPHAN_POD_QUARANTINE_MS = 40_000;

const clusterKey = (c: ClusterRef) => `${c.scope.account}|${c.scope.region}|${c.name}`;

export function startKubeControllers(deps: KubeControllerDeps): KubeControllers {
  const { objects, logger, clock } = deps;
  const clusters = new Map<string, { ref: ClusterRef; watch: Watch }>();
  const recorders = new Map<string, EventRecorder>();
  const recorder = (component: string) => {
    let r = recorders.get(component);
    if (!r) {
      r = eventRecorder(objects, { component, clock, logger });
      recorders.set(component, r);
    }
    return r;
  };
  const now = () => clock.now().getTime();

  const key = (c: ClusterRef, controller: Controller, namespace = "", name = "") =>
    [clusterKey(c), controller, namespace, name].join("\u0001");
  const parse = (k: string) => {
    const [ck, controller, namespace, name] = k.split("\u0001") as [string, Controller, string, string];
    return { cluster: clusters.get(ck)?.ref, controller, namespace, name };
  };

  /** "Look again in n ms", the earliest asked for winning (the queue's own keeps the first one asked). */
  const timer = timersOf(clock);
  const timers = new Map<string, { at: number; cancel: () => void }>();
  const requeueAt = (k: string, ms: number) => {
    const at = now() + ms;
    const cur = timers.get(k);
    if (cur && cur.at <= at) return;
    cur?.cancel();
    timers.set(k, {
      at,
      cancel: timer(ms, () => {
        timers.delete(k);
        queue.add(k);
      }),
    });
  };

  const queue = new WorkQueue(
    async (k) => {
      // Yield to I/O and timers between passes: a chain of passes waking each other never starves the process.
      await new Promise<void>((r) => setImmediate(r));
      const { cluster, controller, namespace, name } = parse(k);
      if (!cluster) return undefined;
      try {
        const out = reconcile(cluster, controller, namespace, name);
        const after = out?.requeueAfterMs;
        if (after === undefined || after <= 0) return out;
        requeueAt(k, after);
        return undefined;
      } catch (e) {
        // Somebody wrote the object meanwhile: read it again.
        if (e instanceof KubeError && e.reason === "Conflict") return { requeueAfterMs: 0 };
        throw e;
      }
    },
    8,
    (k, err) =>
      logger.warn({ key: k.replaceAll("\u0001", "/"), err: (err as Error).message }, "kube reconcile failed; retrying"),
    clock,
  );

  const reconcile = (c: ClusterRef, controller: Controller, ns: string, name: string) => {
    switch (controller) {
      case "deployment":
        return syncDeployment(c, ns, name);
      case "replicaset":
        return syncReplicaSet(c, ns, name);
      case "gc":
        return collectGarbage(c);
      case "namespace":
        return syncNamespace(c, name);
      default: {
        const w = WORKLOADS.find((x) => x.name === controller);
        return w?.sync(ctx, c, ns, name);
      }
    }
  };

  // --- Deployments ---------------------------------------------------------------------------

  const syncDeployment = (c: ClusterRef, ns: string, name: string) => {
    const d = objects.get(c, R.deployments, ns, name);
    if (!d) return undefined;
    const replicaSets = objects.list(c, R.replicasets, ns).items;
    const pods = objects.list(c, R.pods, ns).items;
    const plan = planDeployment({ deployment: d, replicaSets, pods, nowMs: now() });
    for (const ch of plan.update) {
      objects.mutate(c, R.replicasets, ns, ch.name, (rs) => {
        const refs = rs.metadata.ownerReferences ?? [];
        if (ch.adopt) {
          if (controllerRefOf(rs)) return undefined;
          rs.metadata.ownerReferences = [...refs, controllerRef(d)];
        }
        if (ch.release) {
          const kept = refs.filter((r) => r.uid !== d.metadata.uid);
          if (kept.length) rs.metadata.ownerReferences = kept;
          else delete rs.metadata.ownerReferences;
        }
        const spec = (rs.spec ?? {}) as Record<string, unknown>;
        if (ch.replicas !== undefined) spec.replicas = ch.replicas;
        if (ch.minReadySeconds !== undefined) spec.minReadySeconds = ch.minReadySeconds;
        if (ch.annotations) rs.metadata.annotations = { ...(rs.metadata.annotations ?? {}), ...ch.annotations };
        rs.spec = spec;
        return rs;
      });
    }
    if (plan.create) {
      try {
        refuseIfTerminating(c, ns);
        objects.create(c, R.replicasets, plan.create);
      } catch (e) {
        if (e instanceof KubeError && e.reason === "AlreadyExists") return { requeueAfterMs: 0 };
        throw e;
      }
    }
    for (const rsName of plan.delete) deleteQuietly(c, R.replicasets, ns, rsName);
    if (plan.status) {
      objects.update(
        c,
        R.deployments,
        { ...d, status: plan.status, metadata: { ...d.metadata, resourceVersion: d.metadata.resourceVersion } },
        { subresource: "status" },
      );
    }
    const revision = plan.annotations?.[REVISION];
    if (revision !== undefined)
      objects.mutate(c, R.deployments, ns, name, (cur) =>
        cur.metadata.annotations?.[REVISION] === revision
          ? undefined
          : {
              ...cur,
              metadata: { ...cur.metadata, annotations: { ...(cur.metadata.annotations ?? {}), [REVISION]: revision } },
            },
      );
    const events = recorder("deployment-controller");
    for (const e of plan.events) events.event(c, d, e.type, e.reason, e.message);
    return plan.requeueAfterMs !== undefined ? { requeueAfterMs: plan.requeueAfterMs } : undefined;
  };

  // --- ReplicaSets ---------------------------------------------------------------------------

  const syncReplicaSet = (c: ClusterRef, ns: string, name: string) => {
    const rs = objects.get(c, R.replicasets, ns, name);
    if (!rs) return undefined;
    const pods = objects.list(c, R.pods, ns).items;
    const plan = planReplicaSet(rs, pods, now());
    const events = recorder("replicaset-controller");
    adoptAndRelease(c, rs, rsSpec(rs).selector, plan.adopt, plan.release);
    let failed: unknown;
    let made = 0;
    for (let i = 0; i < plan.create; i++) {
      try {
        const pod = createPod(c, podFromTemplate(rsSpec(rs).template, rs));
        made++;
        events.event(c, rs, "Normal", "SuccessfulCreate", `Created pod: ${pod.metadata.name}`);
      } catch (e) {
        events.event(c, rs, "Warning", "FailedCreate", `Error creating: ${(e as Error).message}`);
        failed = e;
        break;
      }
    }
    for (const p of plan.delete) {
      if (deleteQuietly(c, R.pods, ns, p)) events.event(c, rs, "Normal", "SuccessfulDelete", `Deleted pod: ${p}`);
    }
    // kube's ReplicaFailure condition: set while pods cannot be made, cleared once they can.
    const prior = ((rs.status as { conditions?: Condition[] } | undefined)?.conditions ?? []) as Condition[];
    let status: ReplicaSetStatus | undefined = plan.status;
    if (status && made < plan.create) {
      // The status counted pods that could not be made.
      const missing = plan.create - made;
      status = {
        ...status,
        replicas: status.replicas - missing,
        fullyLabeledReplicas: (status.fullyLabeledReplicas ?? 0) - missing || undefined,
      };
    }
    if (failed && !prior.some((x) => x.type === "ReplicaFailure")) {
      const base: ReplicaSetStatus = status ?? { replicas: 0, ...(rs.status as object) };
      status = {
        ...base,
        conditions: [
          ...prior,
          {
            type: "ReplicaFailure",
            status: "True",
            lastTransitionTime: rfc3339(now()),
            reason: "FailedCreate",
            message: (failed as Error).message,
          },
        ],
      };
    } else if (!failed && prior.some((x) => x.type === "ReplicaFailure")) {
      const base: ReplicaSetStatus = status ?? { replicas: 0, ...(rs.status as object) };
      const kept = prior.filter((x) => x.type !== "ReplicaFailure");
      status = { ...base, conditions: kept.length ? kept : undefined };
    }
    // Written only when it says something new: a pass that keeps failing must not wake itself.
    if (status && canonical(normalizeRsStatus(status)) !== canonical(normalizeRsStatus(rs.status)))
      writeStatus(c, R.replicasets, rs, status);
    if (failed) throw failed;
    return plan.requeueAfterMs !== undefined ? { requeueAfterMs: plan.requeueAfterMs } : undefined;
  };

  /** Sets or drops an owner's controller reference on pods (kube's ClaimPods). */
  const adoptAndRelease = (
    c: ClusterRef,
    owner: KubeObject,
    selector: LabelSelector | undefined,
    adopt: string[],
    release: string[],
  ) => {
    const ns = owner.metadata.namespace;
    for (const p of adopt)
      objects.mutate(c, R.pods, ns, p, (pod) => {
        if (controllerRefOf(pod) || pod.metadata.deletionTimestamp || !matchesSelector(selector, pod.metadata.labels))
          return undefined;
        pod.metadata.ownerReferences = [...(pod.metadata.ownerReferences ?? []), controllerRef(owner)];
        return pod;
      });
    for (const p of release)
      objects.mutate(c, R.pods, ns, p, (pod) => {
        const refs = pod.metadata.ownerReferences ?? [];
        if (!refs.some((r) => r.uid === owner.metadata.uid)) return undefined;
        const kept = refs.filter((r) => r.uid !== owner.metadata.uid);
        if (kept.length) pod.metadata.ownerReferences = kept;
        else delete pod.metadata.ownerReferences;
        return pod;
      });
  };

  /** Creates a pod as a controller does: through admission, a new random name on a clash. */
  /** A namespace being deleted takes no new objects (kube-apiserver's NamespaceLifecycle admission). */
  const refuseIfTerminating = (c: ClusterRef, ns: string | undefined) => {
    const n = objects.get(c, R.namespaces, undefined, ns ?? "default");
    if (n?.metadata.deletionTimestamp)
      throw new KubeError(
        403,
        "Forbidden",
        `unable to create new content in namespace ${ns} because it is being terminated`,
      );
  };

  const createPod = (c: ClusterRef, pod: KubeObject): KubeObject => {
    refuseIfTerminating(c, pod.metadata.namespace);
    const admitted = deps.admission ? deps.admission.admit(c, "create", R.pods, pod) : pod;
    // A new pod is Pending until its kubelet says otherwise (kube-apiserver's PrepareForCreate).
    if (!admitted.status) admitted.status = { phase: "Pending" };
    for (let attempt = 0; ; attempt++) {
      try {
        return objects.create(c, R.pods, admitted);
      } catch (e) {
        if (!(e instanceof KubeError && e.reason === "AlreadyExists" && admitted.metadata.generateName) || attempt >= 3)
          throw e;
      }
    }
  };

  const writeStatus = (c: ClusterRef, type: ResourceType, o: KubeObject, status: unknown) =>
    objects.update(c, type, { ...o, status }, { subresource: "status" });

  /** Deletes an object; false when it was already gone. */
  const deleteQuietly = (
    c: ClusterRef,
    type: ResourceType,
    ns: string | undefined,
    name: string,
    opts: { uid?: string; finalizers?: string[]; gracePeriodSeconds?: number } = {},
  ): boolean => {
    try {
      objects.delete(c, type, ns, name, opts);
      return true;
    } catch (e) {
      if (e instanceof KubeError && (e.reason === "NotFound" || e.reason === "Conflict")) return false;
      throw e;
    }
  };

  // --- garbage collector -----------------------------------------------------------------------

  const knownKind = (group: string, kind: string) => byGroupKind.has(`${group}/${kind}`);
  const collectGarbage = (c: ClusterRef) => {
    const all: KubeObject[] = [];
    objects.transaction(() => {
      for (const t of LISTABLE)
        if (!QUIET.has(t.kind) || t.resource === "leases") all.push(...objects.list(c, t).items);
    });
    const plan = planGarbageCollection(all, knownKind);
    const typeOf = (r: ObjectRef) => byGroupKind.get(`${r.group}/${r.kind}`);
    let work = 0;
    for (const d of plan.delete) {
      const type = typeOf(d.ref);
      if (!type) continue;
      // Live lookup: an owner that exists after all (same uid, not waiting on its dependents) keeps it.
      const alive = d.owners.some((o) => {
        const t = typeOf(o);
        if (!t) return true;
        const cur = objects.get(c, t, t.namespaced ? o.namespace : undefined, o.name);
        return (
          cur !== undefined &&
          cur.metadata.uid === o.uid &&
          !(cur.metadata.deletionTimestamp && cur.metadata.finalizers?.includes(FOREGROUND))
        );
      });
      if (alive) continue;
      const opts = d.propagation === "Foreground" ? { uid: d.ref.uid, finalizers: [FOREGROUND] } : { uid: d.ref.uid };
      if (deleteQuietly(c, type, d.ref.namespace, d.ref.name, opts)) work++;
    }
    for (const r of plan.removeOwnerRefs) {
      const type = typeOf(r.ref);
      if (!type) continue;
      objects.mutate(c, type, r.ref.namespace, r.ref.name, (o) => {
        const refs = o.metadata.ownerReferences ?? [];
        if (o.metadata.uid !== r.ref.uid || !refs.some((x) => r.uids.includes(x.uid))) return undefined;
        const kept = refs.filter((x) => !r.uids.includes(x.uid));
        if (kept.length) o.metadata.ownerReferences = kept;
        else delete o.metadata.ownerReferences;
        work++;
        return o;
      });
    }
    for (const f of plan.removeFinalizer) {
      const type = typeOf(f.ref);
      if (!type) continue;
      objects.mutate(c, type, f.ref.namespace, f.ref.name, (o) => {
        if (o.metadata.uid !== f.ref.uid || !o.metadata.finalizers?.includes(f.finalizer)) return undefined;
        const kept = o.metadata.finalizers.filter((x) => x !== f.finalizer);
        if (kept.length) o.metadata.finalizers = kept;
        else delete o.metadata.finalizers;
        work++;
        return o;
      });
    }
    // Pods bound to a node that is gone: nobody will stop them; removed after a quarantine (kube's podgc).
    const nodes = all.filter((o) => o.kind === "Node" && groupOf(o.apiVersion) === "");
    const orphans = nodes.length
      ? planOrphanedPods(
          all.filter((o) => o.kind === "Pod" && groupOf(o.apiVersion) === ""),
          nodes,
        )
      : [];
    const t = now();
    const seen = missingSince.get(clusterKey(c)) ?? new Map<string, number>();
    missingSince.set(clusterKey(c), seen);
    const still = new Set(orphans.map((p) => p.metadata.uid ?? ""));
    for (const uid of seen.keys()) if (!still.has(uid)) seen.delete(uid);
    let wait: number | undefined;
    for (const p of orphans) {
      const uid = p.metadata.uid ?? "";
      const since = seen.get(uid) ?? t;
      seen.set(uid, since);
      if (t - since >= ORPHAN_POD_QUARANTINE_MS) {
        if (deleteQuietly(c, R.pods, p.metadata.namespace, p.metadata.name ?? "", { uid, gracePeriodSeconds: 0 })) {
          recorder("pod-garbage-collector").event(c, p, "Normal", "PodGC", "Node no longer exists");
          work++;
        }
      } else wait = Math.min(wait ?? Number.POSITIVE_INFINITY, since + ORPHAN_POD_QUARANTINE_MS - t);
    }
    // What it changed may free more (an orphaned owner's finalizer, the next level of dependents).
    if (work) return { requeueAfterMs: 0 };
    return wait !== undefined ? { requeueAfterMs: Math.max(1, wait) } : undefined;
  };
  const missingSince = new Map<string, Map<string, number>>();

  // --- namespaces and their service accounts ----------------------------------------------------

  const syncNamespace = (c: ClusterRef, name: string) => {
    const ns = objects.get(c, R.namespaces, undefined, name);
    if (!ns) return undefined;
    if (!ns.metadata.deletionTimestamp) {
      ensureNamespaceContents(objects, c, name, deps.caPem?.(c));
      if (!(ns.status as { phase?: string } | undefined)?.phase)
        writeStatus(c, R.namespaces, ns, { ...((ns.status as object) ?? {}), phase: "Active" });
      return undefined;
    }
    const contents: { type: ResourceType; o: KubeObject }[] = [];
    for (const t of NAMESPACED) for (const o of objects.list(c, t, name).items) contents.push({ type: t, o });
    const plan = planNamespace(
      ns,
      contents.map((x) => x.o),
    );
    if (plan.terminating) writeStatus(c, R.namespaces, ns, { ...((ns.status as object) ?? {}), phase: "Terminating" });
    const typeOfObj = new Map(contents.map((x) => [x.o, x.type]));
    for (const o of plan.delete) {
      const t = typeOfObj.get(o);
      if (t) deleteQuietly(c, t, name, o.metadata.name ?? "");
    }
    if (plan.finalize) {
      objects.mutate(c, R.namespaces, undefined, name, (cur) => {
        const spec = (cur.spec ?? {}) as { finalizers?: string[] };
        spec.finalizers = (spec.finalizers ?? []).filter((f) => f !== NAMESPACE_FINALIZER);
        cur.spec = spec;
        const meta = (cur.metadata.finalizers ?? []).filter((f) => f !== NAMESPACE_FINALIZER);
        if (meta.length) cur.metadata.finalizers = meta;
        else delete cur.metadata.finalizers;
        return cur;
      });
      return undefined;
    }
    // Pods end when their kubelet has stopped them: look again then (their deletion wakes this too).
    return { requeueAfterMs: 2000 };
  };

  // --- what wakes which controller -------------------------------------------------------------

  const ctx: WorkloadContext = {
    objects,
    now,
    recorder,
    createPod,
    writeStatus,
    deleteQuietly,
    adoptAndRelease,
    jobBackoffBaseMs: deps.jobBackoffBaseMs ?? 10_000,
  };

  const ownerKeys: Record<string, Controller> = {
    "apps/ReplicaSet": "replicaset",
    "apps/Deployment": "deployment",
    ...Object.fromEntries(WORKLOADS.map((w) => [`${w.type.group}/${w.type.kind}`, w.name])),
  };
  /** Controllers whose selector may pick up an orphan pod (or ReplicaSet). */
  const podOwners: { type: ResourceType; controller: Controller }[] = [
    { type: R.replicasets, controller: "replicaset" },
    ...WORKLOADS.filter((w) => w.ownsPods).map((w) => ({ type: w.type, controller: w.name })),
  ];

  const onEvents = (c: ClusterRef, events: WatchEvent[]) => {
    let gc = false;
    for (const { type, object: o } of events) {
      if (QUIET.has(o.kind)) continue;
      const group = groupOf(o.apiVersion);
      const ns = o.metadata.namespace ?? "";
      const name = o.metadata.name ?? "";
      if (type === "DELETED" || (o.metadata.deletionTimestamp && o.metadata.finalizers?.length)) gc = true;
      if (type === "DELETED" && ns) queue.add(key(c, "namespace", "", ns));
      const own = ownerKeys[`${group}/${o.kind}`];
      if (own) queue.add(key(c, own, ns, name));
      if (o.kind === "Namespace" && group === "") queue.add(key(c, "namespace", "", name));
      if (group === "" && (o.kind === "ServiceAccount" || o.kind === "ConfigMap") && type !== "ADDED")
        queue.add(key(c, "namespace", "", ns));
      if (group === "" && o.kind === "Node")
        for (const w of WORKLOADS.filter((x) => x.watchesNodes))
          for (const ds of objects.list(c, w.type).items)
            queue.add(key(c, w.name, ds.metadata.namespace, ds.metadata.name));
      // Whoever controls it hears of its change; an orphan goes to every controller that may adopt it.
      const ref = controllerRefOf(o);
      if (ref) {
        const owner = ownerKeys[`${groupOf(ref.apiVersion)}/${ref.kind}`];
        if (owner) queue.add(key(c, owner, ns, ref.name));
        // A pod gone wakes its ReplicaSet's Deployment too (Recreate waits for old pods to be gone).
        if (type === "DELETED" && o.kind === "Pod" && ref.kind === "ReplicaSet") {
          const rsRef = controllerRefOf(objects.get(c, R.replicasets, ns, ref.name) ?? o);
          if (rsRef?.kind === "Deployment") queue.add(key(c, "deployment", ns, rsRef.name));
        }
      } else if (type !== "DELETED" && ns) {
        const candidates =
          group === "" && o.kind === "Pod"
            ? podOwners
            : group === "apps" && o.kind === "ReplicaSet"
              ? [{ type: R.deployments, controller: "deployment" as Controller }]
              : [];
        for (const cand of candidates)
          for (const owner of objects.list(c, cand.type, ns).items) {
            const sel = (owner.spec as { selector?: LabelSelector } | undefined)?.selector;
            if (matchesSelector(sel, o.metadata.labels)) queue.add(key(c, cand.controller, ns, owner.metadata.name));
          }
      }
    }
    if (gc) queue.add(key(c, "gc"));
  };

  const enqueueAll = (c: ClusterRef) => {
    for (const { type, controller } of [
      { type: R.deployments, controller: "deployment" as Controller },
      { type: R.replicasets, controller: "replicaset" as Controller },
      ...WORKLOADS.map((w) => ({ type: w.type, controller: w.name })),
    ])
      for (const o of objects.list(c, type).items) queue.add(key(c, controller, o.metadata.namespace, o.metadata.name));
    for (const ns of objects.list(c, R.namespaces).items) queue.add(key(c, "namespace", "", ns.metadata.name));
    queue.add(key(c, "gc"));
  };

  const refreshClusters = () => {
    const want = new Map(deps.clusters().map((c) => [clusterKey(c), c] as const));
    for (const [k, entry] of clusters)
      if (!want.has(k)) {
        entry.watch.stop();
        clusters.delete(k);
      }
    for (const [k, ref] of want) {
      if (!clusters.has(k)) {
        const watch = objects.watch(ref, undefined, { from: objects.head() }, (events) => onEvents(ref, events));
        clusters.set(k, { ref, watch });
      }
      enqueueAll(ref);
    }
  };

  const resync: Periodic = periodic(refreshClusters, {
    name: "kube controllers resync",
    everyMs: deps.resyncIntervalMs ?? 30_000,
    logger,
    clock,
    runAtStart: true,
  });
  void resync.start();

  return {
    async stop() {
      resync.stop();
      for (const { watch } of clusters.values()) watch.stop();
      clusters.clear();
      for (const t of timers.values()) t.cancel();
      timers.clear();
      queue.close();
      await queue.idle();
    },
    async resyncNow() {
      await resync.runNow();
    },
    idle: () => queue.idle(),
  };
}

/** What a workload controller's applier gets from the runtime. */
export interface WorkloadContext {
  objects: ObjectStore;
  now(): number;
  recorder(component: string): EventRecorder;
  createPod(c: ClusterRef, pod: KubeObject): KubeObject;
  writeStatus(c: ClusterRef, type: ResourceType, o: KubeObject, status: unknown): KubeObject;
  deleteQuietly(
    c: ClusterRef,
    type: ResourceType,
    ns: string | undefined,
    name: string,
    opts?: { uid?: string; finalizers?: string[]; gracePeriodSeconds?: number },
  ): boolean;
  adoptAndRelease(
    c: ClusterRef,
    owner: KubeObject,
    selector: LabelSelector | undefined,
    adopt: string[],
    release: string[],
  ): void;
  jobBackoffBaseMs: number;
}
