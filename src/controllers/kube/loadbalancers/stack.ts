/**
 * The desired ELBv2 resources of one Service or one Ingress group ("a stack", as the AWS Load
 * Balancer Controller calls it), PURE data; and the names and tags the controller gives them.
 */
import { createHash } from "node:crypto";

/** The tag every resource of a cluster carries (the controller's own). */
export const CLUSTER_TAG = "elbv2.k8s.aws/cluster";
export const SERVICE_STACK_TAG = "service.k8s.aws/stack";
export const SERVICE_RESOURCE_TAG = "service.k8s.aws/resource";
export const INGRESS_STACK_TAG = "ingress.k8s.aws/stack";
export const INGRESS_RESOURCE_TAG = "ingress.k8s.aws/resource";
export const LOAD_BALANCER_RESOURCE = "LoadBalancer";

export type Scheme = "internet-facing" | "internal";

export interface HealthCheck {
  protocol: "TCP" | "HTTP";
  /** "traffic-port" or a port number. */
  port: string;
  path?: string;
  intervalSeconds: number;
  timeoutSeconds: number;
  healthyThresholdCount: number;
  unhealthyThresholdCount: number;
  /** HTTP success codes ("200", "200-399"). */
  matcher?: string;
}

export interface Target {
  id: string;
  port: number;
}

export interface DesiredTargetGroup {
  /** The `…/resource` tag: which Service port (or Ingress backend) it serves; unique in the stack. */
  resource: string;
  name: string;
  protocol: "TCP" | "HTTP";
  port: number;
  targetType: "ip" | "instance";
  healthCheck: HealthCheck;
  tags: Record<string, string>;
  /** Ready pod IPs (ip) or nodes' instance ids with the node port (instance). */
  targets: Target[];
}

export type DesiredAction =
  | { type: "forward"; targetGroup: string }
  | { type: "fixed-response"; statusCode: string; contentType: string };

export interface DesiredCondition {
  field: "host-header" | "path-pattern";
  values: string[];
}

export interface DesiredRule {
  priority: number;
  conditions: DesiredCondition[];
  action: DesiredAction;
}

export interface DesiredListener {
  port: number;
  protocol: "TCP" | "HTTP";
  defaultAction: DesiredAction;
  rules: DesiredRule[];
}

export interface DesiredStack {
  /** The tags that say a resource belongs to this stack (cluster + stack id). */
  identity: Record<string, string>;
  /** The tag key naming a resource within the stack (service.k8s.aws/resource or ingress.k8s.aws/resource). */
  resourceTag: string;
  loadBalancer: {
    name: string;
    type: "network" | "application";
    scheme: Scheme;
    tags: Record<string, string>;
  };
  listeners: DesiredListener[];
  targetGroups: DesiredTargetGroup[];
}

const sanitize = (s: string) => s.replace(/[^A-Za-z0-9]/g, "");
const sha256 = (...parts: string[]) => {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return h.digest("hex");
};

/** `k8s-<ns:8>-<name:8>-<hash:10>`, the controller's names for load balancers and target groups. */
export function resourceName(namespace: string, name: string, ...hashed: string[]): string {
  return `k8s-${sanitize(namespace).slice(0, 8)}-${sanitize(name).slice(0, 8)}-${sha256(...hashed).slice(0, 10)}`;
}

/** An explicit Ingress group's load balancer: `k8s-<group:17>-<hash:10>`. */
export function groupResourceName(group: string, ...hashed: string[]): string {
  return `k8s-${sanitize(group).slice(0, 17)}-${sha256(...hashed).slice(0, 10)}`;
}

/** The instance id a Node stands for: from its providerID (`aws:///<zone>/i-…`), else derived from its name. */
export function instanceIdOf(node: { metadata: { name?: string }; spec?: unknown }): string {
  const provider = (node.spec as { providerID?: string } | undefined)?.providerID ?? "";
  const last = provider.split("/").at(-1) ?? "";
  if (/^i-[0-9a-f]{8,17}$/.test(last)) return last;
  return `i-${sha256("berth-node", node.metadata.name ?? "").slice(0, 17)}`;
}
