/**
 * Kubernetes resource quantities and what a pod asks for. PURE. Used by the pod scheduler and
 * by the kubelet (limits → runtime limits, resourceFieldRef, QoS class).
 */

const SUFFIX: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  "": 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

const QUANTITY = /^([+-]?[0-9.]+)(?:([eE][+-]?[0-9]+)|(n|u|m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei))?$/;

/** A quantity ("100m", "1.5", "128Mi", "1e3") as a number of base units; NaN when malformed. */
export function parseQuantity(q: string | number | undefined): number {
  if (q === undefined) return 0;
  if (typeof q === "number") return q;
  const m = QUANTITY.exec(q.trim());
  if (!m || !/^[+-]?(\d+\.?\d*|\.\d+)$/.test(m[1])) return Number.NaN;
  const n = Number(m[1]);
  if (m[2]) return n * 10 ** Number(m[2].slice(1));
  return n * SUFFIX[m[3] ?? ""];
}

export type ResourceList = Record<string, string | number>;

export interface ContainerResources {
  requests?: ResourceList;
  limits?: ResourceList;
}

export interface PodContainerView {
  name: string;
  resources?: ContainerResources;
  ports?: { containerPort: number; hostPort?: number; protocol?: string; hostIP?: string }[];
}

export interface PodSpecResources {
  containers: PodContainerView[];
  initContainers?: PodContainerView[];
  overhead?: ResourceList;
}

/** cpu in millicores, memory in bytes, and any other resource in its base unit. */
export type Amounts = Record<string, number>;

/** A container's request of one resource: its request, or its limit when only a limit is set (as kube defaults it). */
function containerRequest(c: PodContainerView, resource: string): number {
  const r = c.resources?.requests?.[resource] ?? c.resources?.limits?.[resource];
  const v = parseQuantity(r);
  if (!Number.isFinite(v)) return 0;
  return resource === "cpu" ? Math.round(v * 1000) : v;
}

const resourceNames = (spec: PodSpecResources) => {
  const names = new Set<string>(["cpu", "memory"]);
  for (const c of [...spec.containers, ...(spec.initContainers ?? [])]) {
    for (const k of Object.keys(c.resources?.requests ?? {})) names.add(k);
    for (const k of Object.keys(c.resources?.limits ?? {})) names.add(k);
  }
  return names;
};

/**
 * The pod's effective request per resource: max(sum of app containers, largest init container)
 * plus overhead, as the scheduler computes it. cpu in millicores, memory in bytes.
 */
export function podRequests(spec: PodSpecResources): Amounts {
  const out: Amounts = {};
  for (const name of resourceNames(spec)) {
    const sum = spec.containers.reduce((s, c) => s + containerRequest(c, name), 0);
    const init = Math.max(0, ...(spec.initContainers ?? []).map((c) => containerRequest(c, name)));
    const overhead = parseQuantity(spec.overhead?.[name]);
    out[name] =
      Math.max(sum, init) + (Number.isFinite(overhead) ? (name === "cpu" ? Math.round(overhead * 1000) : overhead) : 0);
  }
  return out;
}

/** What the scorers count for a container without requests (kube's non-zero defaults: 100m, 200Mi). */
export const DEFAULT_CPU_MILLI = 100;
export const DEFAULT_MEMORY_BYTES = 200 * 2 ** 20;

/** Requests with kube's non-zero defaults for containers that set none (for scoring only). */
export function podNonZeroRequests(spec: PodSpecResources): { cpu: number; memory: number } {
  const nz = (c: PodContainerView, r: "cpu" | "memory") => {
    const v = containerRequest(c, r);
    const set = c.resources?.requests?.[r] !== undefined || c.resources?.limits?.[r] !== undefined;
    return set ? v : r === "cpu" ? DEFAULT_CPU_MILLI : DEFAULT_MEMORY_BYTES;
  };
  const total = (r: "cpu" | "memory") =>
    Math.max(
      spec.containers.reduce((s, c) => s + nz(c, r), 0),
      ...(spec.initContainers ?? []).map((c) => nz(c, r)),
    );
  return { cpu: total("cpu"), memory: total("memory") };
}

/** A node's allocatable resources (quantities) in the same units as podRequests. */
export function amountsOf(list: ResourceList | undefined): Amounts {
  const out: Amounts = {};
  for (const [k, v] of Object.entries(list ?? {})) {
    const n = parseQuantity(v);
    if (Number.isFinite(n)) out[k] = k === "cpu" ? Math.round(n * 1000) : n;
  }
  return out;
}

/** The pod's QoS class (Guaranteed / Burstable / BestEffort), as the kubelet reports it. */
export function qosClass(spec: PodSpecResources): "Guaranteed" | "Burstable" | "BestEffort" {
  const all = [...spec.containers, ...(spec.initContainers ?? [])];
  const any = all.some(
    (c) => Object.keys(c.resources?.requests ?? {}).length > 0 || Object.keys(c.resources?.limits ?? {}).length > 0,
  );
  if (!any) return "BestEffort";
  const guaranteed = all.every((c) =>
    (["cpu", "memory"] as const).every((r) => {
      const limit = c.resources?.limits?.[r];
      if (limit === undefined) return false;
      const request = c.resources?.requests?.[r] ?? limit;
      return parseQuantity(request) === parseQuantity(limit);
    }),
  );
  return guaranteed ? "Guaranteed" : "Burstable";
}
