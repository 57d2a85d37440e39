/**
 * PURE: a Service of type LoadBalancer → the NLB stack the AWS Load Balancer Controller builds
 * for it (pkg/service): one TCP listener per service port, one target group per port with the
 * ready pods (ip) or the nodes' node port (instance), health checks from the annotations with the
 * controller's defaults, names `k8s-<ns>-<svc>-<hash>`, tags for the cluster and the stack.
 *
 * Which Services: type LoadBalancer with no spec.loadBalancerClass or `service.k8s.aws/nlb`. The
 * in-tree cloud provider would make a Classic Load Balancer for one without annotations; Berth has
 * no Classic ELB and makes an NLB (what the controller's webhook does on EKS, where it sets the
 * class on every new LoadBalancer Service), with instance targets, as the CLB would have had.
 */
import type { KubeObject } from "../../../kube/types.js";
import type { ServicePort, ServiceSpec } from "../networking/model.js";
import { type Annotations, annotationBool, annotationInt, annotationMap, ModelError } from "./annotations.js";
import {
  CLUSTER_TAG,
  type DesiredStack,
  type DesiredTargetGroup,
  type HealthCheck,
  LOAD_BALANCER_RESOURCE,
  resourceName,
  SERVICE_RESOURCE_TAG,
  SERVICE_STACK_TAG,
  type Scheme,
} from "./stack.js";
import { nodeTargets, numericTargetPort, podTargets, slicesOf } from "./targets.js";

export const SERVICE_FINALIZER = "service.k8s.aws/resources";
export const NLB_CLASS = "service.k8s.aws/nlb";
const P = "service.beta.kubernetes.io/aws-load-balancer-";
export const SERVICE_ANNOTATIONS = {
  type: `${P}type`,
  targetType: `${P}nlb-target-type`,
  scheme: `${P}scheme`,
  internal: `${P}internal`,
  name: `${P}name`,
  tags: `${P}additional-resource-tags`,
  hcProtocol: `${P}healthcheck-protocol`,
  hcPort: `${P}healthcheck-port`,
  hcPath: `${P}healthcheck-path`,
  hcInterval: `${P}healthcheck-interval`,
  hcTimeout: `${P}healthcheck-timeout`,
  hcHealthy: `${P}healthcheck-healthy-threshold`,
  hcUnhealthy: `${P}healthcheck-unhealthy-threshold`,
  hcSuccessCodes: `${P}healthcheck-success-codes`,
} as const;

const specOf = (svc: KubeObject) => (svc.spec ?? {}) as ServiceSpec & { loadBalancerClass?: string };

/** Whether this controller looks after the Service's load balancer. */
export function isManagedService(svc: KubeObject): boolean {
  const spec = specOf(svc);
  if (spec.type !== "LoadBalancer") return false;
  return spec.loadBalancerClass === undefined || spec.loadBalancerClass === NLB_CLASS;
}

export interface ServiceModelInput {
  clusterName: string;
  service: KubeObject;
  /** The cluster's EndpointSlices (the service's are picked out by label). */
  slices: KubeObject[];
  nodes: KubeObject[];
}

export type ModelResult = { stack: DesiredStack } | { error: string };

/** The stack of a managed Service, or the controller's model error. */
export function buildServiceStack(input: ServiceModelInput): ModelResult {
  try {
    return { stack: serviceStack(input) };
  } catch (e) {
    if (e instanceof ModelError) return { error: e.message };
    throw e;
  }
}

/** What the annotations ask for: "external"/"nlb-ip" is the controller's own mode, the rest the in-tree one's. */
function serviceMode(a: Annotations, spec: ReturnType<typeof specOf>) {
  const type = a[SERVICE_ANNOTATIONS.type];
  const lbcMode = type === "external" || type === "nlb-ip" || spec.loadBalancerClass === NLB_CLASS;
  const rawTarget = a[SERVICE_ANNOTATIONS.targetType] ?? (type === "nlb-ip" ? "ip" : "instance");
  if (rawTarget !== "ip" && rawTarget !== "instance") throw new ModelError(`unsupported target type: ${rawTarget}`);
  let scheme: Scheme = lbcMode ? "internal" : "internet-facing";
  const rawScheme = a[SERVICE_ANNOTATIONS.scheme];
  if (rawScheme !== undefined) {
    if (rawScheme !== "internal" && rawScheme !== "internet-facing")
      throw new ModelError(`unknown scheme: ${rawScheme}`);
    scheme = rawScheme;
  } else if (annotationBool(a, SERVICE_ANNOTATIONS.internal)) scheme = "internal";
  return { targetType: rawTarget as "ip" | "instance", scheme };
}

function serviceStack({ clusterName, service, slices, nodes }: ServiceModelInput): DesiredStack {
  const a: Annotations = service.metadata.annotations ?? {};
  const spec = specOf(service);
  const namespace = service.metadata.namespace ?? "default";
  const name = service.metadata.name ?? "";
  const uid = service.metadata.uid ?? "";
  const { targetType, scheme } = serviceMode(a, spec);
  const extraTags = annotationMap(a, SERVICE_ANNOTATIONS.tags);
  const identity = { [CLUSTER_TAG]: clusterName, [SERVICE_STACK_TAG]: `${namespace}/${name}` };
  const hc = healthCheck(a, spec, targetType);

  const lbName = a[SERVICE_ANNOTATIONS.name] ?? resourceName(namespace, name, clusterName, uid, scheme);
  if (lbName.length > 32) throw new ModelError("load balancer name cannot be longer than 32 characters");

  const ports = (spec.ports ?? []).filter((p) => (p.protocol ?? "TCP") === "TCP");
  const listenerPorts = new Set<number>();
  const targetGroups: DesiredTargetGroup[] = [];
  const mine = slicesOf(slices, namespace, name);
  for (const p of ports) {
    if (listenerPorts.has(p.port)) throw new ModelError(`duplicate listener port ${p.port}`);
    listenerPorts.add(p.port);
    if (targetType === "instance" && !p.nodePort)
      throw new ModelError(`service port ${p.port} has no nodePort; instance targets need one`);
    const tgPort = targetType === "instance" ? (p.nodePort as number) : numericTargetPort(p);
    targetGroups.push({
      resource: `${namespace}/${name}:${p.port}`,
      name: resourceName(
        namespace,
        name,
        clusterName,
        uid,
        String(tgPort),
        String(p.port),
        targetType,
        "TCP",
        hc.protocol,
        String(hc.intervalSeconds),
      ),
      protocol: "TCP",
      port: tgPort,
      targetType,
      healthCheck: hc,
      tags: { ...extraTags, ...identity, [SERVICE_RESOURCE_TAG]: `${namespace}/${name}:${p.port}` },
      targets: targetType === "instance" ? nodeTargets(nodes, p.nodePort as number) : podTargets(mine, p),
    });
  }
  return {
    identity,
    resourceTag: SERVICE_RESOURCE_TAG,
    loadBalancer: {
      name: lbName,
      type: "network",
      scheme,
      tags: { ...extraTags, ...identity, [SERVICE_RESOURCE_TAG]: LOAD_BALANCER_RESOURCE },
    },
    listeners: targetGroups.map((tg, i) => ({
      port: (ports[i] as ServicePort).port,
      protocol: "TCP" as const,
      defaultAction: { type: "forward" as const, targetGroup: tg.resource },
      rules: [],
    })),
    targetGroups,
  };
}

function healthCheck(a: Annotations, spec: ServiceSpec, targetType: "ip" | "instance"): HealthCheck {
  const rawProtocol = (a[SERVICE_ANNOTATIONS.hcProtocol] ?? "TCP").toUpperCase();
  if (rawProtocol === "HTTPS") throw new ModelError("HTTPS health checks are not supported by Berth (no TLS)");
  if (rawProtocol !== "TCP" && rawProtocol !== "HTTP")
    throw new ModelError(`unsupported health check protocol ${a[SERVICE_ANNOTATIONS.hcProtocol]}`);
  const protocol = rawProtocol as "TCP" | "HTTP";
  const rawPort = a[SERVICE_ANNOTATIONS.hcPort] ?? "traffic-port";
  let port = rawPort;
  if (rawPort !== "traffic-port" && !/^\d+$/.test(rawPort)) {
    const sp = (spec.ports ?? []).find((p) => p.name === rawPort);
    if (!sp) throw new ModelError(`failed to resolve healthCheckPort: unable to find port ${rawPort} on service`);
    if (targetType === "instance") port = String(sp.nodePort ?? "");
    else if (typeof sp.targetPort === "number" || /^\d+$/.test(String(sp.targetPort ?? sp.port)))
      port = String(sp.targetPort ?? sp.port);
    else
      throw new ModelError(
        "cannot use named healthCheckPort for IP TargetType when service's targetPort is a named port",
      );
  }
  return {
    protocol,
    port,
    ...(protocol === "HTTP" ? { path: a[SERVICE_ANNOTATIONS.hcPath] ?? "/" } : {}),
    intervalSeconds: annotationInt(a, SERVICE_ANNOTATIONS.hcInterval, 10),
    timeoutSeconds: annotationInt(a, SERVICE_ANNOTATIONS.hcTimeout, 10),
    healthyThresholdCount: annotationInt(a, SERVICE_ANNOTATIONS.hcHealthy, 3),
    unhealthyThresholdCount: annotationInt(a, SERVICE_ANNOTATIONS.hcUnhealthy, 3),
    ...(protocol === "HTTP" ? { matcher: a[SERVICE_ANNOTATIONS.hcSuccessCodes] ?? "200-399" } : {}),
  };
}
