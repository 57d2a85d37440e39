/**
 * PURE: where a Service port's traffic goes — the ready endpoints of its EndpointSlices (target
 * type ip) or the cluster's nodes at the port's node port (target type instance).
 */
import type { KubeObject } from "../../../kube/types.js";
import type { ServicePort } from "../networking/model.js";
import { instanceIdOf, type Target } from "./stack.js";

export const SERVICE_NAME_LABEL = "kubernetes.io/service-name";
/** Nodes with this label get no load balancer traffic (kube's service controller and the LBC honour it). */
export const EXCLUDE_LABEL = "node.kubernetes.io/exclude-from-external-load-balancers";
export const COMPUTE_TYPE_LABEL = "eks.amazonaws.com/compute-type";

interface Slice {
  endpoints?: { addresses?: string[]; conditions?: { ready?: boolean; terminating?: boolean } }[];
  ports?: { name?: string; port?: number; protocol?: string }[];
}

const byTarget = (a: Target, b: Target) => a.id.localeCompare(b.id) || a.port - b.port;

/** The ready addresses of a service port in its EndpointSlices, with the endpoint port of the same name. */
export function podTargets(slices: KubeObject[], port: Pick<ServicePort, "name" | "protocol">): Target[] {
  const out = new Map<string, Target>();
  for (const o of slices) {
    const s = o as unknown as Slice;
    const p = (s.ports ?? []).find(
      (x) => (x.name ?? "") === (port.name ?? "") && (x.protocol ?? "TCP") === (port.protocol ?? "TCP"),
    );
    if (!p?.port) continue;
    for (const e of s.endpoints ?? []) {
      // A nil ready condition means ready (discovery/v1); terminating endpoints are not.
      if (e.conditions?.ready === false || e.conditions?.terminating === true) continue;
      for (const ip of e.addresses ?? []) out.set(`${ip}:${p.port}`, { id: ip, port: p.port });
    }
  }
  return [...out.values()].sort(byTarget);
}

/** The nodes that take load balancer traffic: Ready, not being deleted, not excluded, not Fargate. */
export function eligibleNodes(nodes: KubeObject[]): KubeObject[] {
  return nodes.filter((n) => {
    if (n.metadata.deletionTimestamp) return false;
    if (n.metadata.labels?.[EXCLUDE_LABEL] !== undefined) return false;
    // Fargate pods have no node port to send to: instance targets skip their nodes, as the controller does.
    if (n.metadata.labels?.[COMPUTE_TYPE_LABEL] === "fargate") return false;
    const conditions = ((n.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ??
      []) as { type: string; status: string }[];
    return conditions.some((c) => c.type === "Ready" && c.status === "True");
  });
}

/** Every eligible node's instance id at a node port. */
export function nodeTargets(nodes: KubeObject[], nodePort: number): Target[] {
  return eligibleNodes(nodes)
    .map((n) => ({ id: instanceIdOf(n), port: nodePort }))
    .sort(byTarget);
}

/** The EndpointSlices of one service. */
export function slicesOf(slices: KubeObject[], namespace: string, name: string): KubeObject[] {
  return slices.filter(
    (s) => (s.metadata.namespace ?? "default") === namespace && s.metadata.labels?.[SERVICE_NAME_LABEL] === name,
  );
}

/** A target group's port in ip mode: the numeric target port, else 1 (not in the data path: targets carry their ports). */
export function numericTargetPort(p: ServicePort): number {
  const t = p.targetPort ?? p.port;
  if (typeof t === "number") return t;
  return /^\d+$/.test(t) ? Number(t) : 1;
}
