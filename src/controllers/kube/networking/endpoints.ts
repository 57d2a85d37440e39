/**
 * The Endpoints and EndpointSlice controllers' decisions, PURE: (Service, Pods) → the subsets of
 * its Endpoints and the endpoints of its EndpointSlices, as kube-controller-manager computes them.
 */
import { matchesSelector } from "../../../kube/labels.js";
import type { KubeObject } from "../../../kube/types.js";
import {
  asSelector,
  type EndpointAddress,
  type EndpointPort,
  type EndpointSubset,
  isHeadless,
  type PodLike,
  type Protocol,
  type ServicePort,
  specOf,
} from "./model.js";

export const SERVICE_NAME_LABEL = "kubernetes.io/service-name";
export const MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by";
export const SLICE_CONTROLLER = "endpointslice-controller.k8s.io";
export const HEADLESS_LABEL = "service.kubernetes.io/headless";

export const isPodReady = (pod: PodLike) =>
  (pod.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");

const isTerminal = (pod: PodLike) => pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed";

/**
 * The container port a service port sends to on a pod: a number as is; a name looked up in the
 * pod's container ports with the same protocol. Undefined when the name is not there.
 */
export function resolveTargetPort(pod: PodLike, port: ServicePort): number | undefined {
  const target = port.targetPort ?? port.port;
  if (typeof target === "number") return target;
  if (/^[0-9]+$/.test(target)) return Number(target);
  const protocol = port.protocol ?? "TCP";
  for (const c of pod.spec?.containers ?? [])
    for (const p of c.ports ?? []) if (p.name === target && (p.protocol ?? "TCP") === protocol) return p.containerPort;
  return undefined;
}

/** One pod as an endpoint of a service: its address, readiness and resolved ports. */
export interface PodEndpoint {
  pod: PodLike;
  address: EndpointAddress;
  ready: boolean;
  terminating: boolean;
  ports: EndpointPort[];
}

/** The pods a service selects and what each contributes (terminating pods only when asked). */
export function podEndpoints(
  service: KubeObject,
  pods: PodLike[],
  opts: { terminating?: boolean } = {},
): PodEndpoint[] {
  const spec = specOf(service);
  if (!spec.selector || spec.type === "ExternalName") return [];
  const selector = asSelector(spec.selector);
  const namespace = service.metadata.namespace ?? "default";
  const out: PodEndpoint[] = [];
  for (const pod of pods) {
    if ((pod.metadata.namespace ?? "default") !== namespace) continue;
    if (!matchesSelector(selector, pod.metadata.labels ?? {})) continue;
    const ip = pod.status?.podIP;
    if (!ip || isTerminal(pod)) continue;
    const terminating = pod.metadata.deletionTimestamp !== undefined;
    if (terminating && !opts.terminating) continue;
    const address: EndpointAddress = {
      ip,
      ...(pod.spec?.hostname && pod.spec.subdomain === service.metadata.name ? { hostname: pod.spec.hostname } : {}),
      ...(pod.spec?.nodeName ? { nodeName: pod.spec.nodeName } : {}),
      targetRef: {
        kind: "Pod",
        namespace,
        name: pod.metadata.name ?? "",
        ...(pod.metadata.uid ? { uid: pod.metadata.uid } : {}),
      },
    };
    const ports: EndpointPort[] = [];
    for (const sp of spec.ports ?? []) {
      const port = resolveTargetPort(pod, sp);
      if (port === undefined) continue; // kube skips a port it cannot resolve on this pod
      ports.push({
        ...(sp.name ? { name: sp.name } : {}),
        port,
        protocol: (sp.protocol ?? "TCP") as Protocol,
        ...(sp.appProtocol ? { appProtocol: sp.appProtocol } : {}),
      });
    }
    if (!ports.length && (spec.ports ?? []).length) continue;
    const ready = !terminating && (spec.publishNotReadyAddresses === true || isPodReady(pod));
    out.push({ pod, address, ready, terminating, ports });
  }
  return out;
}

const portsKey = (ports: EndpointPort[]) =>
  JSON.stringify([...ports].sort((a, b) => (a.name ?? "").localeCompare(b.name ?? "") || a.port - b.port));
const byIp = (a: EndpointAddress, b: EndpointAddress) =>
  a.ip.localeCompare(b.ip) || (a.targetRef?.name ?? "").localeCompare(b.targetRef?.name ?? "");

/** The Endpoints subsets: addresses grouped by identical port lists, ready and not ready apart. */
export function computeSubsets(service: KubeObject, pods: PodLike[]): EndpointSubset[] {
  const groups = new Map<string, { ports: EndpointPort[]; ready: EndpointAddress[]; notReady: EndpointAddress[] }>();
  for (const e of podEndpoints(service, pods)) {
    const key = portsKey(e.ports);
    let g = groups.get(key);
    if (!g) {
      g = {
        ports: [...e.ports].sort((a, b) => (a.name ?? "").localeCompare(b.name ?? "") || a.port - b.port),
        ready: [],
        notReady: [],
      };
      groups.set(key, g);
    }
    (e.ready ? g.ready : g.notReady).push(e.address);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([, g]) => ({
      ...(g.ready.length ? { addresses: g.ready.sort(byIp) } : {}),
      ...(g.notReady.length ? { notReadyAddresses: g.notReady.sort(byIp) } : {}),
      ...(g.ports.length ? { ports: g.ports } : {}),
    }));
}

/** The Endpoints object of a service (name = the service's; labels = its labels). */
export function desiredEndpoints(service: KubeObject, pods: PodLike[]): KubeObject {
  const subsets = computeSubsets(service, pods);
  return {
    apiVersion: "v1",
    kind: "Endpoints",
    metadata: {
      name: service.metadata.name,
      namespace: service.metadata.namespace ?? "default",
      labels: endpointsLabels(service),
    },
    ...(subsets.length ? { subsets } : {}),
  };
}

function endpointsLabels(service: KubeObject): Record<string, string> {
  const labels = { ...(service.metadata.labels ?? {}) };
  if (isHeadless(specOf(service))) labels[HEADLESS_LABEL] = "";
  return labels;
}

export interface SliceEndpoint {
  addresses: string[];
  conditions: { ready: boolean; serving: boolean; terminating: boolean };
  hostname?: string;
  nodeName?: string;
  targetRef?: EndpointAddress["targetRef"];
}

/** What one EndpointSlice of a service holds (name and identity come from the store). */
export interface SliceContent {
  labels: Record<string, string>;
  endpoints: SliceEndpoint[];
  ports: EndpointPort[];
}

/** The EndpointSlices a service should have: one per distinct port list, terminating pods included. */
export function desiredSlices(service: KubeObject, pods: PodLike[]): SliceContent[] {
  const labels = {
    ...endpointsLabels(service),
    [SERVICE_NAME_LABEL]: service.metadata.name ?? "",
    [MANAGED_BY_LABEL]: SLICE_CONTROLLER,
  };
  const groups = new Map<string, SliceContent>();
  for (const e of podEndpoints(service, pods, { terminating: true })) {
    const key = portsKey(e.ports);
    let g = groups.get(key);
    if (!g) {
      g = {
        labels,
        endpoints: [],
        ports: [...e.ports].sort((a, b) => (a.name ?? "").localeCompare(b.name ?? "") || a.port - b.port),
      };
      groups.set(key, g);
    }
    const serving = e.terminating ? isPodReady(e.pod) : e.ready;
    g.endpoints.push({
      addresses: [e.address.ip],
      conditions: { ready: e.ready, serving, terminating: e.terminating },
      ...(e.address.hostname ? { hostname: e.address.hostname } : {}),
      ...(e.address.nodeName ? { nodeName: e.address.nodeName } : {}),
      ...(e.address.targetRef ? { targetRef: e.address.targetRef } : {}),
    });
  }
  const slices = [...groups.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, g]) => g);
  for (const s of slices) s.endpoints.sort((a, b) => (a.addresses[0] ?? "").localeCompare(b.addresses[0] ?? ""));
  // A service with a selector and no endpoints still has one (empty) slice, as kube keeps one.
  if (!slices.length) slices.push({ labels, endpoints: [], ports: [] });
  return slices;
}

/**
 * Where a service port sends to, from its Endpoints: the ready addresses with the endpoint port
 * of the same name (the only port when the service has one unnamed port).
 */
export function readyTargets(
  endpoints: KubeObject | undefined,
  port: Pick<ServicePort, "name" | "protocol">,
): { ip: string; port: number }[] {
  const out: { ip: string; port: number }[] = [];
  for (const s of (endpoints?.subsets as EndpointSubset[] | undefined) ?? []) {
    const ep = (s.ports ?? []).find(
      (p) => (p.name ?? "") === (port.name ?? "") && (p.protocol ?? "TCP") === (port.protocol ?? "TCP"),
    );
    if (!ep) continue;
    for (const a of s.addresses ?? []) out.push({ ip: a.ip, port: ep.port });
  }
  return out;
}
