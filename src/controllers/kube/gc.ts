/**
 * The garbage collector's decisions (kube's garbagecollector attemptToDeleteItem and
 * processDeletingDependentsItem), PURE: over every object of a cluster, which dependents to
 * delete because their owners are gone or being deleted in the foreground, which owner
 * references to drop (dangling next to a live owner, or orphaned), and which `foregroundDeletion`
 * / `orphan` finalizers are done.
 */
import type { KubeObject, OwnerReference } from "../../kube/types.js";

export const FOREGROUND = "foregroundDeletion";
export const ORPHAN = "orphan";

export interface ObjectRef {
  /** API group ("" core) and kind: enough to find the resource. */
  group: string;
  kind: string;
  namespace?: string;
  name: string;
  uid: string;
}

export interface GcPlan {
  /** Dependents to delete; Foreground when they have dependents of their own to take first. */
  delete: { ref: ObjectRef; propagation: "Background" | "Foreground"; owners: ObjectRef[] }[];
  /** Owner references to drop from a dependent (by owner uid). */
  removeOwnerRefs: { ref: ObjectRef; uids: string[] }[];
  /** Finalizers whose work is done, to remove from an owner. */
  removeFinalizer: { ref: ObjectRef; finalizer: string }[];
}

export const groupOf = (apiVersion: string) => (apiVersion.includes("/") ? apiVersion.split("/")[0] : "");

export const refOf = (o: KubeObject): ObjectRef => ({
  group: groupOf(o.apiVersion),
  kind: o.kind,
  namespace: o.metadata.namespace,
  name: o.metadata.name ?? "",
  uid: o.metadata.uid ?? "",
});

/**
 * @param objects every object of the cluster the collector looks at
 * @param knownKind whether a group/kind is a resource of the cluster (references to unknown kinds are left alone)
 */
export function planGarbageCollection(
  objects: KubeObject[],
  knownKind: (group: string, kind: string) => boolean,
): GcPlan {
  const byUid = new Map<string, KubeObject>();
  for (const o of objects) if (o.metadata.uid) byUid.set(o.metadata.uid, o);
  const dependents = new Map<string, KubeObject[]>();
  for (const o of objects)
    for (const r of o.metadata.ownerReferences ?? []) {
      const list = dependents.get(r.uid) ?? [];
      list.push(o);
      dependents.set(r.uid, list);
    }

  const plan: GcPlan = { delete: [], removeOwnerRefs: [], removeFinalizer: [] };
  const ownerOf = (o: KubeObject, r: OwnerReference): KubeObject | undefined => {
    const owner = byUid.get(r.uid);
    if (!owner || owner.kind !== r.kind || owner.metadata.name !== r.name) return undefined;
    // A namespaced owner is only an owner in its own namespace.
    if (owner.metadata.namespace !== undefined && owner.metadata.namespace !== o.metadata.namespace) return undefined;
    return owner;
  };
  const finalizing = (o: KubeObject, f: string) =>
    !!o.metadata.deletionTimestamp && (o.metadata.finalizers ?? []).includes(f);

  for (const o of objects) {
    const refs = o.metadata.ownerReferences ?? [];
    if (refs.length === 0) continue;
    if (o.metadata.deletionTimestamp) {
      // Already going; only an orphaning owner still needs its reference gone.
      const uids = refs.filter((r) => {
        const owner = ownerOf(o, r);
        return owner && finalizing(owner, ORPHAN);
      });
      if (uids.length) plan.removeOwnerRefs.push({ ref: refOf(o), uids: uids.map((r) => r.uid) });
      continue;
    }
    const solid: OwnerReference[] = [];
    const dangling: OwnerReference[] = [];
    const waiting: OwnerReference[] = [];
    const orphaning: OwnerReference[] = [];
    for (const r of refs) {
      if (!knownKind(groupOf(r.apiVersion), r.kind)) {
        solid.push(r);
        continue;
      }
      const owner = ownerOf(o, r);
      if (!owner) dangling.push(r);
      else if (finalizing(owner, ORPHAN)) orphaning.push(r);
      else if (finalizing(owner, FOREGROUND)) waiting.push(r);
      else solid.push(r);
    }
    if (orphaning.length) {
      plan.removeOwnerRefs.push({ ref: refOf(o), uids: orphaning.map((r) => r.uid) });
      continue;
    }
    if (solid.length) {
      const drop = [...dangling, ...waiting].map((r) => r.uid);
      if (drop.length) plan.removeOwnerRefs.push({ ref: refOf(o), uids: drop });
      continue;
    }
    const hasDependents = (dependents.get(o.metadata.uid ?? "") ?? []).length > 0;
    const owners = [...dangling, ...waiting].map(
      (r): ObjectRef => ({
        group: groupOf(r.apiVersion),
        kind: r.kind,
        namespace: o.metadata.namespace,
        name: r.name,
        uid: r.uid,
      }),
    );
    plan.delete.push({
      ref: refOf(o),
      propagation: waiting.length && hasDependents ? "Foreground" : "Background",
      owners,
    });
  }

  for (const owner of objects) {
    if (!owner.metadata.deletionTimestamp) continue;
    const deps = dependents.get(owner.metadata.uid ?? "") ?? [];
    const pointing = (d: KubeObject) =>
      (d.metadata.ownerReferences ?? []).filter((r) => r.uid === owner.metadata.uid && ownerOf(d, r) === owner);
    if (finalizing(owner, ORPHAN) && deps.every((d) => pointing(d).length === 0))
      plan.removeFinalizer.push({ ref: refOf(owner), finalizer: ORPHAN });
    else if (finalizing(owner, FOREGROUND) && !finalizing(owner, ORPHAN)) {
      const blocking = deps.filter((d) => pointing(d).some((r) => r.blockOwnerDeletion === true));
      if (blocking.length === 0) plan.removeFinalizer.push({ ref: refOf(owner), finalizer: FOREGROUND });
    }
  }
  return plan;
}

/** Pods bound to a node that does not exist (kube's podgc gcOrphaned): they are force-deleted. */
export function planOrphanedPods(pods: KubeObject[], nodes: KubeObject[]): KubeObject[] {
  const names = new Set(nodes.map((n) => n.metadata.name));
  return pods.filter((p) => {
    const node = (p.spec as { nodeName?: string } | undefined)?.nodeName;
    return !!node && !names.has(node);
  });
}
