/**
 * The Deployment controller's decisions, PURE, following kube's pkg/controller/deployment
 * (sync.go, rolling.go, recreate.go, progress.go): one pass over a Deployment, its ReplicaSets and
 * their pods → the ReplicaSets to create, scale or delete, the Deployment's revision annotation,
 * its status and the events to record.
 */
import type { LabelSelector } from "../../../kube/labels.js";
import type { KubeObject } from "../../../kube/types.js";
import {
  byCreation,
  type Condition,
  canonical,
  claimDecision,
  conditionOf,
  controllerRef,
  controllerRefOf,
  hasSelector,
  int,
  type PodTemplate,
  phaseOf,
  rfc3339,
  scaledValue,
  semanticEqual,
  setCondition,
  templateHash,
} from "../common.js";
import { rsReplicas, rsSpec, rsStatus } from "./replicaset.js";

export const REVISION = "deployment.kubernetes.io/revision";
export const REVISION_HISTORY = "deployment.kubernetes.io/revision-history";
export const DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas";
export const MAX_REPLICAS = "deployment.kubernetes.io/max-replicas";
export const POD_TEMPLATE_HASH = "pod-template-hash";
const NOT_COPIED = new Set([
  "kubectl.kubernetes.io/last-applied-configuration",
  REVISION,
  REVISION_HISTORY,
  DESIRED_REPLICAS,
  MAX_REPLICAS,
  "deprecated.deployment.rollback.to",
]);
/** kube's "no deadline" value of progressDeadlineSeconds. */
const MAX_INT32 = 2147483647;

export interface DeploymentSpec {
  replicas?: number;
  selector?: LabelSelector;
  template?: PodTemplate;
  strategy?: {
    type?: "RollingUpdate" | "Recreate";
    rollingUpdate?: { maxSurge?: number | string; maxUnavailable?: number | string };
  };
  minReadySeconds?: number;
  revisionHistoryLimit?: number;
  paused?: boolean;
  progressDeadlineSeconds?: number;
}

export interface DeploymentStatus {
  observedGeneration?: number;
  replicas?: number;
  updatedReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  unavailableReplicas?: number;
  conditions?: Condition[];
  collisionCount?: number;
}

export interface DeploymentEvent {
  type: "Normal" | "Warning";
  reason: string;
  message: string;
}

/** A change to an existing ReplicaSet's spec or metadata. */
export interface ReplicaSetChange {
  name: string;
  replicas?: number;
  annotations?: Record<string, string>;
  minReadySeconds?: number;
  /** Set (adopt) or drop (release) the Deployment's controller reference. */
  adopt?: boolean;
  release?: boolean;
}

export interface DeploymentPlan {
  create?: KubeObject;
  update: ReplicaSetChange[];
  delete: string[];
  /** The Deployment's new annotations (its revision), when they change. */
  annotations?: Record<string, string>;
  status?: DeploymentStatus;
  events: DeploymentEvent[];
  requeueAfterMs?: number;
}

export interface DeploymentInput {
  deployment: KubeObject;
  /** The namespace's ReplicaSets. */
  replicaSets: KubeObject[];
  /** The namespace's pods (Recreate waits for old ones to be gone). */
  pods: KubeObject[];
  nowMs: number;
}

export const deploymentSpec = (d: KubeObject) => (d.spec ?? {}) as DeploymentSpec;
export const deploymentReplicas = (d: KubeObject) => int(deploymentSpec(d).replicas, 1);
const isRolling = (d: KubeObject) => (deploymentSpec(d).strategy?.type ?? "RollingUpdate") === "RollingUpdate";

/** kube's ResolveFenceposts: surge rounds up, unavailable down; both zero means one unavailable. */
export function fenceposts(d: KubeObject): { surge: number; unavailable: number } {
  const ru = deploymentSpec(d).strategy?.rollingUpdate;
  const n = deploymentReplicas(d);
  const surge = scaledValue(ru?.maxSurge, n, true, "25%");
  let unavailable = scaledValue(ru?.maxUnavailable, n, false, "25%");
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
}
export const maxSurge = (d: KubeObject) => (isRolling(d) ? fenceposts(d).surge : 0);
export function maxUnavailable(d: KubeObject): number {
  const n = deploymentReplicas(d);
  if (!isRolling(d) || n === 0) return 0;
  return Math.min(fenceposts(d).unavailable, n);
}

const revisionOf = (rs: KubeObject) => {
  const v = Number(rs.metadata.annotations?.[REVISION]);
  return Number.isInteger(v) ? v : 0;
};

/** The template without the pod-template-hash label: what a Deployment's and a ReplicaSet's templates are compared by. */
function withoutHash(t: PodTemplate | undefined): unknown {
  const c = structuredClone(t ?? {}) as PodTemplate;
  if (c.metadata?.labels) {
    delete c.metadata.labels[POD_TEMPLATE_HASH];
    if (Object.keys(c.metadata.labels).length === 0) delete c.metadata.labels;
  }
  if (c.metadata && Object.keys(c.metadata).length === 0) delete c.metadata;
  return c;
}
export const equalIgnoreHash = (a: PodTemplate | undefined, b: PodTemplate | undefined) =>
  semanticEqual(withoutHash(a), withoutHash(b));

const sum = (rss: KubeObject[], f: (rs: KubeObject) => number) => rss.reduce((n, rs) => n + f(rs), 0);
const specReplicas = (rss: KubeObject[]) => sum(rss, rsReplicas);
const actualReplicas = (rss: KubeObject[]) => sum(rss, (rs) => rsStatus(rs).replicas ?? 0);
const readyReplicas = (rss: KubeObject[]) => sum(rss, (rs) => rsStatus(rs).readyReplicas ?? 0);
const availableReplicas = (rss: KubeObject[]) => sum(rss, (rs) => rsStatus(rs).availableReplicas ?? 0);
const active = (rss: KubeObject[]) => rss.filter((rs) => rsReplicas(rs) > 0);

export function hasProgressDeadline(d: KubeObject) {
  const p = deploymentSpec(d).progressDeadlineSeconds;
  return p !== MAX_INT32; // undefined: the API default (600)
}
const progressDeadline = (d: KubeObject) => int(deploymentSpec(d).progressDeadlineSeconds, 600);

export function planDeployment(input: DeploymentInput): DeploymentPlan {
  return new DeploymentPass(input).run();
}

/** One sync of one Deployment, on copies of its ReplicaSets; the plan is what changed. */
class DeploymentPass {
  private readonly d: KubeObject;
  private readonly now: number;
  private rss: KubeObject[] = [];
  private readonly changes = new Map<string, ReplicaSetChange>();
  private created?: KubeObject;
  private readonly events: DeploymentEvent[] = [];
  private status: DeploymentStatus;
  private annotations: Record<string, string>;
  private readonly deletes: string[] = [];

  constructor(private readonly input: DeploymentInput) {
    this.d = input.deployment;
    this.now = input.nowMs;
    this.status = structuredClone((this.d.status ?? {}) as DeploymentStatus);
    this.annotations = { ...(this.d.metadata.annotations ?? {}) };
  }

  run(): DeploymentPlan {
    const d = this.d;
    const spec = deploymentSpec(d);
    if (!hasSelector(spec.selector)) {
      this.events.push({
        type: "Warning",
        reason: "SelectingAll",
        message: "This deployment is selecting all pods. A non-empty selector is required.",
      });
      if (this.status.observedGeneration !== d.metadata.generation)
        this.status.observedGeneration = d.metadata.generation;
      return this.result();
    }
    this.claim();
    if (d.metadata.deletionTimestamp) {
      const { newRS, oldRSs } = this.split();
      this.syncDeploymentStatus(newRS, oldRSs);
      return this.result();
    }
    // A ReplicaSet whose controller has not caught up with its spec yet: its counts are stale.
    const stale = this.rss.some((rs) => (rs.metadata.generation ?? 1) > (rsStatus(rs).observedGeneration ?? 0));
    if (stale) {
      const { newRS, oldRSs } = this.split();
      this.syncRolloutStatus(newRS, oldRSs);
      return this.result();
    }
    this.checkPausedConditions();
    if (spec.paused) {
      this.sync();
      return this.result();
    }
    if (this.isScalingEvent()) {
      this.sync();
      return this.result();
    }
    if (isRolling(d)) this.rolloutRolling();
    else this.rolloutRecreate();
    return this.result();
  }

  // --- ReplicaSets: claim, find the new one, scale -------------------------------------------

  private claim() {
    for (const rs of this.input.replicaSets) {
      const decision = claimDecision(this.d, deploymentSpec(this.d).selector, rs);
      if (decision === "owned") this.rss.push(structuredClone(rs));
      else if (decision === "adopt") {
        const copy = structuredClone(rs);
        copy.metadata.ownerReferences = [...(copy.metadata.ownerReferences ?? []), controllerRef(this.d)];
        this.rss.push(copy);
        this.change(rs, { adopt: true });
      } else if (decision === "release") this.change(rs, { release: true });
    }
  }

  private change(rs: KubeObject, c: Omit<ReplicaSetChange, "name">) {
    const name = rs.metadata.name ?? "";
    if (this.created && this.created.metadata.name === name) return; // folded into the create
    const cur = this.changes.get(name) ?? { name };
    this.changes.set(name, { ...cur, ...c, annotations: c.annotations ?? cur.annotations });
  }

  /** The ReplicaSet whose template is the Deployment's (the oldest such) and the others. */
  private split(): { newRS?: KubeObject; oldRSs: KubeObject[] } {
    const sorted = [...this.rss].sort(byCreation);
    const template = deploymentSpec(this.d).template;
    const newRS = sorted.find((rs) => equalIgnoreHash(rsSpec(rs).template, template));
    return { newRS, oldRSs: sorted.filter((rs) => rs !== newRS) };
  }

  /** kube's getAllReplicaSetsAndSyncRevision. */
  private syncRevision(createIfMissing: boolean): { newRS?: KubeObject; oldRSs: KubeObject[] } {
    const { newRS, oldRSs } = this.split();
    const maxOld = Math.max(0, ...oldRSs.map(revisionOf));
    const newRevision = String(maxOld + 1);
    const d = this.d;
    const deadline = hasProgressDeadline(d);
    if (newRS) {
      const annotations = { ...(newRS.metadata.annotations ?? {}) };
      const changed = this.setNewReplicaSetAnnotations(annotations, newRevision, true);
      const minReady = int(deploymentSpec(d).minReadySeconds, 0);
      const minReadyChanged = int(rsSpec(newRS).minReadySeconds, 0) !== minReady;
      if (changed || minReadyChanged) {
        newRS.metadata.annotations = annotations;
        (newRS.spec as Record<string, unknown>).minReadySeconds = minReady;
        this.change(newRS, { annotations, ...(minReadyChanged ? { minReadySeconds: minReady } : {}) });
      }
      this.setRevision(annotations[REVISION] ?? newRevision);
      if (deadline && !conditionOf(this.status.conditions, "Progressing")) {
        this.setCond("Progressing", "True", "FoundNewReplicaSet", `Found new replica set "${newRS.metadata.name}"`);
      }
      return { newRS, oldRSs };
    }
    if (!createIfMissing) return { newRS: undefined, oldRSs };

    const spec = deploymentSpec(d);
    const collision = this.status.collisionCount;
    const hash = templateHash(spec.template, collision);
    const name = `${d.metadata.name}-${hash}`;
    const template = structuredClone(spec.template ?? {});
    template.metadata = { ...(template.metadata ?? {}) };
    template.metadata.labels = { ...(template.metadata.labels ?? {}), [POD_TEMPLATE_HASH]: hash };
    const taken = this.input.replicaSets.find((rs) => rs.metadata.name === name);
    if (taken) {
      // A ReplicaSet of that name with another template: hash again with the next collision count.
      this.status.collisionCount = (collision ?? 0) + 1;
      return { newRS: undefined, oldRSs };
    }
    const selector = structuredClone(spec.selector ?? {});
    selector.matchLabels = { ...(selector.matchLabels ?? {}), [POD_TEMPLATE_HASH]: hash };
    const annotations: Record<string, string> = {};
    this.setNewReplicaSetAnnotations(annotations, newRevision, false);
    const rs: KubeObject = {
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      metadata: {
        name,
        namespace: d.metadata.namespace,
        labels: template.metadata.labels,
        annotations,
        ownerReferences: [controllerRef(d)],
      },
      spec: { replicas: 0, minReadySeconds: int(spec.minReadySeconds, 0), selector, template },
      status: { replicas: 0 },
    };
    const replicas = this.newRSNewReplicas([...oldRSs, rs], rs);
    (rs.spec as Record<string, unknown>).replicas = replicas;
    this.created = rs;
    this.rss.push(rs);
    if (replicas > 0)
      this.events.push({
        type: "Normal",
        reason: "ScalingReplicaSet",
        message: `Scaled up replica set ${name} to ${replicas}`,
      });
    this.setRevision(newRevision);
    if (deadline) this.setCond("Progressing", "True", "NewReplicaSetCreated", `Created new replica set "${name}"`);
    return { newRS: rs, oldRSs };
  }

  /** kube's SetNewReplicaSetAnnotations: copied Deployment annotations, the revision, its history, replica counts. */
  private setNewReplicaSetAnnotations(a: Record<string, string>, newRevision: string, exists: boolean): boolean {
    let changed = false;
    for (const [k, v] of Object.entries(this.d.metadata.annotations ?? {})) {
      if (NOT_COPIED.has(k) || a[k] === v) continue;
      a[k] = v;
      changed = true;
    }
    const old = a[REVISION];
    const oldInt = Number(old ?? 0) || 0;
    if (oldInt < Number(newRevision)) {
      a[REVISION] = newRevision;
      changed = true;
      if (old !== undefined) {
        const history = a[REVISION_HISTORY];
        a[REVISION_HISTORY] = history ? `${history},${old}` : old;
      }
    }
    if (!exists) {
      const n = deploymentReplicas(this.d);
      a[DESIRED_REPLICAS] = String(n);
      a[MAX_REPLICAS] = String(n + maxSurge(this.d));
      changed = true;
    }
    return changed;
  }

  private setRevision(revision: string) {
    if (this.annotations[REVISION] !== revision) this.annotations[REVISION] = revision;
  }

  /** Scales a ReplicaSet and updates its replica annotations (kube's scaleReplicaSet); true when its size changed. */
  private scale(rs: KubeObject, newScale: number, onlyIfSizeChanges = true): boolean {
    const cur = rsReplicas(rs);
    const sizeChanges = cur !== newScale;
    if (onlyIfSizeChanges && !sizeChanges) return false;
    const n = deploymentReplicas(this.d);
    const max = n + maxSurge(this.d);
    const a = { ...(rs.metadata.annotations ?? {}) };
    const annotationsChange = a[DESIRED_REPLICAS] !== String(n) || a[MAX_REPLICAS] !== String(max);
    if (!sizeChanges && !annotationsChange) return false;
    a[DESIRED_REPLICAS] = String(n);
    a[MAX_REPLICAS] = String(max);
    rs.metadata.annotations = a;
    (rs.spec as Record<string, unknown>).replicas = newScale;
    if (this.created === rs) return sizeChanges;
    this.change(rs, { replicas: newScale, annotations: a });
    if (sizeChanges)
      this.events.push({
        type: "Normal",
        reason: "ScalingReplicaSet",
        message: `Scaled ${newScale > cur ? "up" : "down"} replica set ${rs.metadata.name} to ${newScale}`,
      });
    return sizeChanges;
  }

  /** kube's NewRSNewReplicas: how far the new ReplicaSet may grow now. */
  private newRSNewReplicas(all: KubeObject[], newRS: KubeObject): number {
    const n = deploymentReplicas(this.d);
    if (!isRolling(this.d)) return n;
    const current = specReplicas(all);
    const maxTotal = n + maxSurge(this.d);
    if (current >= maxTotal) return rsReplicas(newRS);
    const up = Math.min(maxTotal - current, n - rsReplicas(newRS));
    return rsReplicas(newRS) + Math.max(0, up);
  }

  // --- strategies --------------------------------------------------------------------------

  private rolloutRolling() {
    const { newRS, oldRSs } = this.syncRevision(true);
    if (!newRS) return this.syncDeploymentStatus(newRS, oldRSs); // name collision: next pass
    const all = [...oldRSs, newRS];
    if (this.reconcileNewReplicaSet(all, newRS)) return this.syncRolloutStatus(newRS, oldRSs);
    if (this.reconcileOldReplicaSets(all, active(oldRSs), newRS)) return this.syncRolloutStatus(newRS, oldRSs);
    if (this.complete(this.calculateStatus(newRS, oldRSs))) this.cleanup(oldRSs);
    this.syncRolloutStatus(newRS, oldRSs);
  }

  private reconcileNewReplicaSet(all: KubeObject[], newRS: KubeObject): boolean {
    const n = deploymentReplicas(this.d);
    const cur = rsReplicas(newRS);
    if (cur === n) return false;
    if (cur > n) return this.scale(newRS, n);
    return this.scale(newRS, this.newRSNewReplicas(all, newRS));
  }

  private reconcileOldReplicaSets(all: KubeObject[], oldRSs: KubeObject[], newRS: KubeObject): boolean {
    if (specReplicas(oldRSs) === 0) return false;
    const minAvailable = deploymentReplicas(this.d) - maxUnavailable(this.d);
    const newUnavailable = rsReplicas(newRS) - (rsStatus(newRS).availableReplicas ?? 0);
    const maxScaledDown = specReplicas(all) - minAvailable - newUnavailable;
    if (maxScaledDown <= 0) return false;
    const cleaned = this.cleanupUnhealthyReplicas(oldRSs, maxScaledDown);
    const scaled = this.scaleDownOldForRollingUpdate([...oldRSs, newRS], oldRSs);
    return cleaned + scaled > 0;
  }

  /** Scales down old ReplicaSets' unavailable pods first (they cost no availability). */
  private cleanupUnhealthyReplicas(oldRSs: KubeObject[], max: number): number {
    let total = 0;
    for (const rs of [...oldRSs].sort(byCreation)) {
      if (total >= max) break;
      const r = rsReplicas(rs);
      const avail = rsStatus(rs).availableReplicas ?? 0;
      if (r === 0 || r === avail) continue;
      const down = Math.min(max - total, r - avail);
      this.scale(rs, r - down);
      total += down;
    }
    return total;
  }

  private scaleDownOldForRollingUpdate(all: KubeObject[], oldRSs: KubeObject[]): number {
    const minAvailable = deploymentReplicas(this.d) - maxUnavailable(this.d);
    const avail = availableReplicas(all);
    if (avail <= minAvailable) return 0;
    const totalDown = avail - minAvailable;
    let done = 0;
    for (const rs of [...oldRSs].sort(byCreation)) {
      if (done >= totalDown) break;
      const r = rsReplicas(rs);
      if (r === 0) continue;
      const down = Math.min(r, totalDown - done);
      this.scale(rs, r - down);
      done += down;
    }
    return done;
  }

  private rolloutRecreate() {
    let { newRS, oldRSs } = this.syncRevision(false);
    let scaledDown = false;
    for (const rs of active(oldRSs)) if (this.scale(rs, 0)) scaledDown = true;
    if (scaledDown) return this.syncRolloutStatus(newRS, oldRSs);
    if (this.oldPodsRunning(newRS, oldRSs)) return this.syncRolloutStatus(newRS, oldRSs);
    if (!newRS) {
      ({ newRS, oldRSs } = this.syncRevision(true));
      if (!newRS) return this.syncDeploymentStatus(newRS, oldRSs);
    }
    this.scale(newRS, deploymentReplicas(this.d));
    if (this.complete(this.calculateStatus(newRS, oldRSs))) this.cleanup(oldRSs);
    this.syncRolloutStatus(newRS, oldRSs);
  }

  private oldPodsRunning(newRS: KubeObject | undefined, oldRSs: KubeObject[]): boolean {
    if (actualReplicas(oldRSs) > 0) return true;
    const old = new Set(oldRSs.map((rs) => rs.metadata.uid));
    return this.input.pods.some((p) => {
      const ref = controllerRefOf(p);
      if (!ref || !old.has(ref.uid) || ref.uid === newRS?.metadata.uid) return false;
      const phase = phaseOf(p);
      return phase !== "Failed" && phase !== "Succeeded";
    });
  }

  /** Scaling or paused: resize without rolling (kube's sync). */
  private sync() {
    const { newRS, oldRSs } = this.syncRevision(false);
    this.scaleProportionally(newRS, oldRSs);
    if (deploymentSpec(this.d).paused) this.cleanup(oldRSs);
    this.syncDeploymentStatus(newRS, oldRSs);
  }

  private isScalingEvent(): boolean {
    const { newRS, oldRSs } = this.split();
    const n = String(deploymentReplicas(this.d));
    return active(newRS ? [...oldRSs, newRS] : oldRSs).some((rs) => {
      const desired = rs.metadata.annotations?.[DESIRED_REPLICAS];
      return desired !== undefined && desired !== n;
    });
  }

  /** kube's scale(): one active ReplicaSet takes the new size; several share the change in proportion. */
  private scaleProportionally(newRS: KubeObject | undefined, oldRSs: KubeObject[]) {
    const n = deploymentReplicas(this.d);
    const latestFirst = [...oldRSs].sort(byCreation).reverse();
    const all = active(newRS ? [...latestFirst, newRS] : latestFirst);
    if (all.length <= 1) {
      const target = all[0] ?? newRS ?? latestFirst[0];
      if (target && rsReplicas(target) !== n) this.scale(target, n);
      return;
    }
    if (
      newRS &&
      rsReplicas(newRS) === n &&
      newRS.metadata.annotations?.[DESIRED_REPLICAS] === String(n) &&
      (rsStatus(newRS).availableReplicas ?? 0) === n
    ) {
      for (const rs of active(oldRSs)) this.scale(rs, 0);
      return;
    }
    if (!isRolling(this.d)) return;
    const allowed = n > 0 ? n + maxSurge(this.d) : 0;
    const toAdd = allowed - specReplicas(all);
    const bySize = (newerFirst: boolean) => (a: KubeObject, b: KubeObject) =>
      rsReplicas(b) - rsReplicas(a) || (newerFirst ? byCreation(b, a) : byCreation(a, b));
    all.sort(bySize(toAdd > 0));
    const sizes = new Map<KubeObject, number>();
    let added = 0;
    for (const rs of all) {
      const p = toAdd !== 0 ? this.proportion(rs, toAdd, added) : 0;
      sizes.set(rs, rsReplicas(rs) + p);
      added += p;
    }
    if (toAdd !== 0 && all[0]) {
      const first = all[0];
      sizes.set(first, Math.max(0, (sizes.get(first) ?? 0) + toAdd - added));
    }
    for (const rs of all) this.scale(rs, sizes.get(rs) ?? rsReplicas(rs), false);
  }

  private proportion(rs: KubeObject, toAdd: number, added: number): number {
    const r = rsReplicas(rs);
    if (r === 0 || toAdd === 0 || toAdd === added) return 0;
    const allowed = toAdd - added;
    const fraction = this.fraction(rs);
    return toAdd > 0 ? Math.min(fraction, allowed) : Math.max(fraction, allowed);
  }

  private fraction(rs: KubeObject): number {
    const n = deploymentReplicas(this.d);
    const r = rsReplicas(rs);
    if (n === 0) return -r;
    const total = n + maxSurge(this.d);
    const annotated = Number(rs.metadata.annotations?.[MAX_REPLICAS]);
    const base = Number.isInteger(annotated) && annotated > 0 ? annotated : (this.status.replicas ?? 0);
    if (!base) return 0;
    return Math.round((r * total) / base) - r;
  }

  /** Old ReplicaSets beyond revisionHistoryLimit that run nothing are deleted, oldest revision first. */
  private cleanup(oldRSs: KubeObject[]) {
    const limit = deploymentSpec(this.d).revisionHistoryLimit;
    if (limit === undefined || limit === null) return;
    const cleanable = oldRSs.filter((rs) => !rs.metadata.deletionTimestamp);
    const diff = cleanable.length - limit;
    if (diff <= 0) return;
    cleanable.sort((a, b) => revisionOf(a) - revisionOf(b) || byCreation(a, b));
    for (const rs of cleanable.slice(0, diff)) {
      if ((rsStatus(rs).replicas ?? 0) !== 0 || rsReplicas(rs) !== 0) continue;
      if ((rs.metadata.generation ?? 0) > (rsStatus(rs).observedGeneration ?? 0)) continue;
      this.deletes.push(rs.metadata.name ?? "");
    }
  }

  private pausedReason = "DeploymentPaused";
  private checkPausedConditions() {
    if (!hasProgressDeadline(this.d)) return;
    const cond = conditionOf(this.status.conditions, "Progressing");
    if (cond?.reason === "ProgressDeadlineExceeded") return;
    const pausedCondExists = cond?.reason === this.pausedReason;
    if (deploymentSpec(this.d).paused && !pausedCondExists)
      this.setCond("Progressing", "Unknown", this.pausedReason, "Deployment is paused");
    else if (!deploymentSpec(this.d).paused && pausedCondExists)
      this.setCond("Progressing", "Unknown", "DeploymentResumed", "Deployment is resumed");
  }

  // --- status --------------------------------------------------------------------------------

  private calculateStatus(newRS: KubeObject | undefined, oldRSs: KubeObject[]): DeploymentStatus {
    const all = newRS ? [...oldRSs, newRS] : oldRSs;
    const available = availableReplicas(all);
    const unavailable = Math.max(0, specReplicas(all) - available);
    const s: DeploymentStatus = {
      observedGeneration: this.d.metadata.generation,
      replicas: actualReplicas(all),
      updatedReplicas: newRS ? actualReplicas([newRS]) : 0,
      readyReplicas: readyReplicas(all),
      availableReplicas: available,
      unavailableReplicas: unavailable,
      conditions: [...(this.status.conditions ?? [])],
      collisionCount: this.status.collisionCount,
    };
    const n = deploymentReplicas(this.d);
    const availableCond: Condition =
      available >= n - maxUnavailable(this.d)
        ? this.cond("Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability.")
        : this.cond(
            "Available",
            "False",
            "MinimumReplicasUnavailable",
            "Deployment does not have minimum availability.",
          );
    s.conditions = setCondition(s.conditions ?? [], availableCond);
    return s;
  }

  private complete(s: DeploymentStatus): boolean {
    const n = deploymentReplicas(this.d);
    return (
      s.updatedReplicas === n &&
      s.replicas === n &&
      s.availableReplicas === n &&
      (s.observedGeneration ?? 0) >= (this.d.metadata.generation ?? 0)
    );
  }

  private syncDeploymentStatus(newRS: KubeObject | undefined, oldRSs: KubeObject[]) {
    this.status = this.calculateStatus(newRS, oldRSs);
  }

  /** kube's syncRolloutStatus: the Progressing condition and the deadline. */
  private syncRolloutStatus(newRS: KubeObject | undefined, oldRSs: KubeObject[]) {
    const prev = (this.d.status ?? {}) as DeploymentStatus;
    const s = this.calculateStatus(newRS, oldRSs);
    const deadline = hasProgressDeadline(this.d);
    if (!deadline) s.conditions = (s.conditions ?? []).filter((c) => c.type !== "Progressing");
    const current = conditionOf(s.conditions, "Progressing");
    const isComplete = s.replicas === s.updatedReplicas && current?.reason === "NewReplicaSetAvailable";
    const rsName = newRS?.metadata.name;
    if (deadline && !isComplete) {
      if (this.complete(s)) {
        s.conditions = setCondition(
          s.conditions ?? [],
          this.cond(
            "Progressing",
            "True",
            "NewReplicaSetAvailable",
            `ReplicaSet "${rsName}" has successfully progressed.`,
          ),
        );
      } else if (this.progressing(prev, s)) {
        const msg = rsName
          ? `ReplicaSet "${rsName}" is progressing.`
          : `Deployment "${this.d.metadata.name}" is progressing.`;
        const c = this.cond("Progressing", "True", "ReplicaSetUpdated", msg);
        if (current?.status === "True" && current.lastTransitionTime) c.lastTransitionTime = current.lastTransitionTime;
        s.conditions = [...(s.conditions ?? []).filter((x) => x.type !== "Progressing"), c];
      } else if (this.timedOut(s)) {
        s.conditions = setCondition(
          s.conditions ?? [],
          this.cond(
            "Progressing",
            "False",
            "ProgressDeadlineExceeded",
            `ReplicaSet "${rsName}" has timed out progressing.`,
          ),
        );
      }
    }
    // A ReplicaSet that cannot make its pods says so on the Deployment too.
    const failure = [newRS, ...oldRSs]
      .flatMap((rs) => (rs?.status as { conditions?: Condition[] } | undefined)?.conditions ?? [])
      .find((c) => c.type === "ReplicaFailure" && c.status === "True");
    if (failure) s.conditions = setCondition(s.conditions ?? [], { ...failure });
    else s.conditions = (s.conditions ?? []).filter((c) => c.type !== "ReplicaFailure");
    this.status = s;
  }

  private progressing(prev: DeploymentStatus, s: DeploymentStatus): boolean {
    const oldOld = (prev.replicas ?? 0) - (prev.updatedReplicas ?? 0);
    const newOld = (s.replicas ?? 0) - (s.updatedReplicas ?? 0);
    return (
      (s.updatedReplicas ?? 0) > (prev.updatedReplicas ?? 0) ||
      newOld < oldOld ||
      (s.readyReplicas ?? 0) > (prev.readyReplicas ?? 0) ||
      (s.availableReplicas ?? 0) > (prev.availableReplicas ?? 0)
    );
  }

  private timedOut(s: DeploymentStatus): boolean {
    const c = conditionOf(s.conditions, "Progressing");
    if (!c || c.reason === "NewReplicaSetAvailable") return false;
    if (c.reason === "ProgressDeadlineExceeded") return true;
    const from = Date.parse(c.lastUpdateTime ?? "");
    return !Number.isNaN(from) && from + progressDeadline(this.d) * 1000 < this.now;
  }

  private cond(type: string, status: Condition["status"], reason: string, message: string): Condition {
    const t = rfc3339(this.now);
    return { type, status, lastUpdateTime: t, lastTransitionTime: t, reason, message };
  }

  private setCond(type: string, status: Condition["status"], reason: string, message: string) {
    this.status.conditions = setCondition(this.status.conditions ?? [], this.cond(type, status, reason, message));
  }

  private result(): DeploymentPlan {
    const status = normalizeStatus(this.status);
    const statusChanged = canonical(status) !== canonical(normalizeStatus((this.d.status ?? {}) as DeploymentStatus));
    const annotationsChanged = canonical(this.annotations) !== canonical(this.d.metadata.annotations ?? {});
    const plan: DeploymentPlan = {
      ...(this.created ? { create: this.created } : {}),
      update: [...this.changes.values()],
      delete: this.deletes,
      ...(annotationsChanged ? { annotations: this.annotations } : {}),
      ...(statusChanged ? { status } : {}),
      events: this.events,
    };
    // A rollout in progress is looked at again when its deadline would pass.
    const c = conditionOf(status.conditions, "Progressing");
    if (
      hasProgressDeadline(this.d) &&
      c &&
      c.status === "True" &&
      c.reason !== "NewReplicaSetAvailable" &&
      !this.complete(status)
    ) {
      const from = Date.parse(c.lastUpdateTime ?? "");
      if (!Number.isNaN(from))
        plan.requeueAfterMs = Math.max(1000, from + progressDeadline(this.d) * 1000 - this.now + 1000);
    }
    return plan;
  }
}

/** Zero counts are omitted (omitempty), as kube-apiserver serializes DeploymentStatus. */
export function normalizeStatus(s: DeploymentStatus): DeploymentStatus {
  const out: DeploymentStatus = {};
  for (const k of [
    "observedGeneration",
    "replicas",
    "updatedReplicas",
    "readyReplicas",
    "availableReplicas",
    "unavailableReplicas",
  ] as const) {
    if (s[k]) out[k] = s[k];
  }
  if (s.conditions?.length) out.conditions = s.conditions;
  if (s.collisionCount) out.collisionCount = s.collisionCount;
  return out;
}
