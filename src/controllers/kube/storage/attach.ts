/**
 * The attach/detach controller's decisions (kube's pkg/controller/volume/attachdetach): a
 * VolumeAttachment for each (volume, node) a scheduled pod needs, for drivers whose CSIDriver says
 * attachRequired; a ReadWriteOnce volume is attached to one node at a time, so a pod on a second
 * node gets kube's Multi-Attach error until the first node's pods are gone; an attachment no pod
 * needs any more is removed (detach). PURE.
 */
import { createHash } from "node:crypto";
import type { KubeObject } from "../../../kube/types.js";
import { claimNamesOf, phaseOf, volumeSpec } from "./binding.js";

export interface Attachment {
  name: string;
  volume: string;
  node: string;
  attacher: string;
}

export interface AttachPlan {
  create: Attachment[];
  /** Names of VolumeAttachments to remove. */
  delete: string[];
  /** Pods that cannot run on their node yet: the volume is attached elsewhere. */
  multiAttach: { pod: KubeObject; volume: string; otherNodes: string[] }[];
}

/** kube's VolumeAttachment name: csi-<sha256(volume + attacher + node)>. */
export function attachmentName(volume: string, attacher: string, node: string): string {
  return `csi-${createHash("sha256").update(`${volume}${attacher}${node}`).digest("hex")}`;
}

const exclusive = (v: KubeObject) =>
  !(volumeSpec(v).accessModes ?? []).some((m) => m === "ReadWriteMany" || m === "ReadOnlyMany");

export function planAttachments(i: {
  pods: KubeObject[];
  claims: KubeObject[];
  volumes: KubeObject[];
  /** Drivers that need attaching (CSIDriver spec.attachRequired). */
  attachRequired: string[];
  attachments: KubeObject[];
}): AttachPlan {
  const plan: AttachPlan = { create: [], delete: [], multiAttach: [] };
  const claimOf = (ns: string, name: string) =>
    i.claims.find((c) => c.metadata.name === name && (c.metadata.namespace ?? "default") === ns);
  const volumeOf = (name: string | undefined) => (name ? i.volumes.find((v) => v.metadata.name === name) : undefined);
  // Which nodes need which volumes: pods scheduled there and not finished (a pod being deleted still holds it).
  const wanted = new Map<string, { volume: KubeObject; nodes: Map<string, KubeObject[]> }>();
  const ordered = [...i.pods].sort(
    (a, b) =>
      (a.metadata.creationTimestamp ?? "").localeCompare(b.metadata.creationTimestamp ?? "") ||
      (a.metadata.name ?? "").localeCompare(b.metadata.name ?? ""),
  );
  for (const p of ordered) {
    const node = (p.spec as { nodeName?: string } | undefined)?.nodeName;
    if (!node || ["Succeeded", "Failed"].includes(phaseOf(p) ?? "")) continue;
    for (const claimName of claimNamesOf(p)) {
      const claim = claimOf(p.metadata.namespace ?? "default", claimName);
      const v = volumeOf((claim?.spec as { volumeName?: string } | undefined)?.volumeName);
      const driver = v ? volumeSpec(v).csi?.driver : undefined;
      if (!v || !driver || !i.attachRequired.includes(driver)) continue;
      const name = v.metadata.name ?? "";
      const w = wanted.get(name) ?? { volume: v, nodes: new Map() };
      w.nodes.set(node, [...(w.nodes.get(node) ?? []), p]);
      wanted.set(name, w);
    }
  }
  const existing = i.attachments.map((a) => ({
    name: a.metadata.name ?? "",
    volume: (a.spec as { source?: { persistentVolumeName?: string } } | undefined)?.source?.persistentVolumeName ?? "",
    node: (a.spec as { nodeName?: string } | undefined)?.nodeName ?? "",
    attacher: (a.spec as { attacher?: string } | undefined)?.attacher ?? "",
  }));
  for (const a of existing) {
    if (!i.attachRequired.includes(a.attacher) && !wanted.has(a.volume)) {
      // Not one of ours (or its driver is gone) and unused: removed like any stale attachment.
      plan.delete.push(a.name);
      continue;
    }
    if (!wanted.get(a.volume)?.nodes.has(a.node)) plan.delete.push(a.name);
  }
  for (const [name, w] of wanted) {
    const driver = volumeSpec(w.volume).csi?.driver ?? "";
    const attachedTo = existing.filter((a) => a.volume === name && !plan.delete.includes(a.name)).map((a) => a.node);
    if (!exclusive(w.volume)) {
      for (const node of w.nodes.keys())
        if (!attachedTo.includes(node))
          plan.create.push({ name: attachmentName(name, driver, node), volume: name, node, attacher: driver });
      continue;
    }
    // One node at a time: the node it is attached to keeps it; else the first pod's node gets it.
    const holder = attachedTo[0] ?? [...w.nodes.keys()][0];
    if (holder && !attachedTo.includes(holder))
      plan.create.push({ name: attachmentName(name, driver, holder), volume: name, node: holder, attacher: driver });
    for (const [node, pods] of w.nodes)
      if (node !== holder)
        for (const pod of pods) plan.multiAttach.push({ pod, volume: name, otherNodes: [holder ?? ""] });
  }
  return plan;
}

/** The kubelet's check: is this volume attached to this node? */
export function attachedTo(attachments: KubeObject[], volume: string, node: string): boolean {
  return attachments.some(
    (a) =>
      (a.spec as { source?: { persistentVolumeName?: string } } | undefined)?.source?.persistentVolumeName === volume &&
      (a.spec as { nodeName?: string } | undefined)?.nodeName === node &&
      (a.status as { attached?: boolean } | undefined)?.attached === true,
  );
}
