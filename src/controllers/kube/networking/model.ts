/** The parts of Services, Pods and Endpoints the pod network reads (the objects stay plain KubeObjects). */
import type { LabelSelector } from "../../../kube/labels.js";
import type { KubeObject } from "../../../kube/types.js";

export type Protocol = "TCP" | "UDP" | "SCTP";

export interface ServicePort {
  name?: string;
  protocol?: Protocol;
  appProtocol?: string;
  port: number;
  targetPort?: number | string;
  nodePort?: number;
}

export interface ServiceSpec {
  type?: "ClusterIP" | "NodePort" | "LoadBalancer" | "ExternalName";
  selector?: Record<string, string>;
  clusterIP?: string;
  clusterIPs?: string[];
  ports?: ServicePort[];
  externalName?: string;
  publishNotReadyAddresses?: boolean;
  sessionAffinity?: string;
  ipFamilies?: string[];
  ipFamilyPolicy?: string;
  internalTrafficPolicy?: string;
  externalTrafficPolicy?: string;
  [key: string]: unknown;
}

export interface ContainerPort {
  name?: string;
  containerPort: number;
  protocol?: Protocol;
}

export interface PodLike {
  metadata: KubeObject["metadata"];
  spec?: {
    nodeName?: string;
    hostname?: string;
    subdomain?: string;
    containers?: { name: string; ports?: ContainerPort[] }[];
    [key: string]: unknown;
  };
  status?: {
    phase?: string;
    podIP?: string;
    podIPs?: { ip: string }[];
    conditions?: { type: string; status: string }[];
    [key: string]: unknown;
  };
}

export interface EndpointAddress {
  ip: string;
  hostname?: string;
  nodeName?: string;
  targetRef?: { kind: string; namespace: string; name: string; uid?: string };
}

export interface EndpointPort {
  name?: string;
  port: number;
  protocol: Protocol;
  appProtocol?: string;
}

export interface EndpointSubset {
  addresses?: EndpointAddress[];
  notReadyAddresses?: EndpointAddress[];
  ports?: EndpointPort[];
}

export const specOf = (svc: KubeObject) => (svc.spec ?? {}) as ServiceSpec;
export const subsetsOf = (ep: KubeObject | undefined) => (ep?.subsets as EndpointSubset[] | undefined) ?? [];
export const asSelector = (s: Record<string, string>): LabelSelector => ({ matchLabels: s });

/** The service's addresses (none for headless and ExternalName services). */
export function clusterIPsOf(spec: ServiceSpec): string[] {
  if (spec.type === "ExternalName") return [];
  const ips = spec.clusterIPs?.length ? spec.clusterIPs : spec.clusterIP ? [spec.clusterIP] : [];
  return ips.filter((ip) => ip && ip !== "None");
}

export const isHeadless = (spec: ServiceSpec) =>
  spec.type !== "ExternalName" && (spec.clusterIP === "None" || spec.clusterIPs?.[0] === "None");
