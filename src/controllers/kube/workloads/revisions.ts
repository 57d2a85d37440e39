/**
 * ControllerRevisions, the template history of StatefulSets and DaemonSets (kube's
 * controller/history), PURE: the revision of the current template (an existing equal one is
 * reused, and made the newest), the template of a revision, which old ones to drop.
 */
import type { KubeObject } from "../../../kube/types.js";
import { controllerRef, controllerRefOf, type PodTemplate, semanticEqual, templateHash } from "../common.js";

export const REVISION_HASH_LABEL = "controller-revision-hash";

/** What a revision stores: a patch that puts the template back (`kubectl rollout undo` applies it). */
export const revisionData = (template: PodTemplate | undefined) => ({
  spec: { template: { ...structuredClone(template ?? {}), $patch: "replace" } },
});

export function templateOfRevision(cr: KubeObject | undefined): PodTemplate | undefined {
  const t = (cr?.data as { spec?: { template?: Record<string, unknown> } } | undefined)?.spec?.template;
  if (!t) return undefined;
  const { $patch: _p, ...rest } = t;
  return rest as PodTemplate;
}

export const revisionNumber = (cr: KubeObject) => (typeof cr.revision === "number" ? cr.revision : 0);

export interface RevisionPlan {
  /** The revision the owner's template is (its name, as pods' controller-revision-hash carries it for StatefulSets). */
  update: KubeObject;
  /** The hash part of its name (DaemonSet pods' controller-revision-hash). */
  hash: string;
  create?: KubeObject;
  /** An equal older revision made the newest again (rollback): its new revision number. */
  renumber?: { name: string; revision: number };
  /** A revision of that name exists with other data: count a collision and hash again. */
  collision?: boolean;
}

export function ownedRevisions(owner: KubeObject, revisions: KubeObject[]): KubeObject[] {
  return revisions
    .filter((r) => controllerRefOf(r)?.uid === owner.metadata.uid)
    .sort((a, b) => revisionNumber(a) - revisionNumber(b));
}

export function planRevision(
  owner: KubeObject,
  template: PodTemplate | undefined,
  revisions: KubeObject[],
  collisionCount: number | undefined,
): RevisionPlan {
  const owned = ownedRevisions(owner, revisions);
  const data = revisionData(template);

  const max = Math.max(0, ...owned.map(revisionNumber));
  const hash = templateHash(data, collisionCount);
  const equal = owned.filter((r) => semanticEqual(r.data, data));
  const last = equal.at(-1);
  if (last) {
    const lastHash = last.metadata.labels?.[REVISION_HASH_LABEL] ?? (last.metadata.name ?? "").split("-").pop() ?? hash;
    if (revisionNumber(last) === max) return { update: last, hash: lastHash };
    return {
      update: { ...last, revision: max + 1 },
      hash: lastHash,
      renumber: { name: last.metadata.name ?? "", revision: max + 1 },
    };
  }
  const name = `${owner.metadata.name}-${hash}`;
  const cr: KubeObject = {
    apiVersion: "apps/v1",
    kind: "ControllerRevision",
    metadata: {
      name,
      namespace: owner.metadata.namespace,
      labels: { ...(template?.metadata?.labels ?? {}), [REVISION_HASH_LABEL]: hash },
      ownerReferences: [controllerRef(owner)],
    },
    data,
    revision: max + 1,
  };
  if (revisions.some((r) => r.metadata.name === name)) return { update: cr, hash, collision: true };
  return { update: cr, hash, create: cr };
}

/** Revisions beyond the history limit that no pod and neither the current nor the update revision uses, oldest first. */
export function revisionsToDelete(owned: KubeObject[], limit: number, live: Set<string>): string[] {
  const cands = owned.filter((r) => !live.has(r.metadata.name ?? ""));
  const n = cands.length - limit;
  return n > 0 ? cands.slice(0, n).map((r) => r.metadata.name ?? "") : [];
}
