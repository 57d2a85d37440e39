/**
 * PURE: Ingresses of class `alb` → the ALB stack the AWS Load Balancer Controller builds for an
 * Ingress group (pkg/ingress): HTTP listeners from `listen-ports` (default HTTP:80), one rule per
 * host/path in the controller's order (Exact, then Prefix longest first, then
 * ImplementationSpecific) with priorities from 1, a default action forwarding to the default
 * backend or answering 404, and a target group per backend Service port.
 *
 * A group is one Ingress (implicit, `ns/name`) or every Ingress with the same
 * `alb.ingress.kubernetes.io/group.name` (explicit), ordered by `group.order` then namespace/name.
 */
import type { KubeObject } from "../../../kube/types.js";
import type { ServicePort, ServiceSpec } from "../networking/model.js";
import { type Annotations, annotationInt, annotationMap, ModelError } from "./annotations.js";
import type { ModelResult } from "./service-model.js";
import {
  CLUSTER_TAG,
  type DesiredAction,
  type DesiredCondition,
  type DesiredListener,
  type DesiredRule,
  type DesiredTargetGroup,
  groupResourceName,
  type HealthCheck,
  INGRESS_RESOURCE_TAG,
  INGRESS_STACK_TAG,
  LOAD_BALANCER_RESOURCE,
  resourceName,
  type Scheme,
} from "./stack.js";
import { nodeTargets, numericTargetPort, podTargets, slicesOf } from "./targets.js";

export const ALB_CONTROLLER = "ingress.k8s.aws/alb";
export const INGRESS_FINALIZER = "ingress.k8s.aws/resources";
export const GROUP_FINALIZER_PREFIX = "group.ingress.k8s.aws/";
export const CLASS_ANNOTATION = "kubernetes.io/ingress.class";
export const DEFAULT_CLASS_ANNOTATION = "ingressclass.kubernetes.io/is-default-class";
const P = "alb.ingress.kubernetes.io/";
export const INGRESS_ANNOTATIONS = {
  groupName: `${P}group.name`,
  groupOrder: `${P}group.order`,
  scheme: `${P}scheme`,
  listenPorts: `${P}listen-ports`,
  name: `${P}load-balancer-name`,
  tags: `${P}tags`,
  targetType: `${P}target-type`,
  backendProtocol: `${P}backend-protocol`,
  hcPath: `${P}healthcheck-path`,
  hcPort: `${P}healthcheck-port`,
  hcProtocol: `${P}healthcheck-protocol`,
  hcInterval: `${P}healthcheck-interval-seconds`,
  hcTimeout: `${P}healthcheck-timeout-seconds`,
  hcHealthy: `${P}healthy-threshold-count`,
  hcUnhealthy: `${P}unhealthy-threshold-count`,
  successCodes: `${P}success-codes`,
} as const;

interface IngressBackend {
  service?: { name: string; port?: { number?: number; name?: string } };
}
interface IngressPath {
  path?: string;
  pathType?: string;
  backend: IngressBackend;
}
interface IngressSpec {
  ingressClassName?: string;
  defaultBackend?: IngressBackend;
  rules?: { host?: string; http?: { paths?: IngressPath[] } }[];
}
const ingSpec = (ing: KubeObject) => (ing.spec ?? {}) as IngressSpec;
const nsName = (o: KubeObject) => `${o.metadata.namespace ?? "default"}/${o.metadata.name}`;

/** Whether an Ingress is this controller's: its class's controller is ingress.k8s.aws/alb (or the `alb` annotation). */
export function isAlbIngress(ing: KubeObject, classes: KubeObject[]): boolean {
  const spec = ingSpec(ing);
  const controllerOf = (c: KubeObject | undefined) => (c?.spec as { controller?: string } | undefined)?.controller;
  if (spec.ingressClassName !== undefined)
    return controllerOf(classes.find((c) => c.metadata.name === spec.ingressClassName)) === ALB_CONTROLLER;
  const annotated = ing.metadata.annotations?.[CLASS_ANNOTATION];
  if (annotated !== undefined) return annotated === "alb";
  const defaults = classes.filter((c) => c.metadata.annotations?.[DEFAULT_CLASS_ANNOTATION] === "true");
  return defaults.length === 1 && controllerOf(defaults[0]) === ALB_CONTROLLER;
}

/** The group an Ingress belongs to: `group.name`, else its own namespace/name (implicit). */
export function groupIdOf(ing: KubeObject): string {
  const name = ing.metadata.annotations?.[INGRESS_ANNOTATIONS.groupName];
  return name !== undefined && name !== "" ? name : nsName(ing);
}

/** An implicit group's id has a slash (namespace/name); an explicit one is a DNS label. */
export const isExplicitGroup = (groupId: string) => !groupId.includes("/");

/** The finalizer an Ingress of the group carries. */
export const finalizerOf = (groupId: string) =>
  isExplicitGroup(groupId) ? `${GROUP_FINALIZER_PREFIX}${groupId}` : INGRESS_FINALIZER;

/** The groups whose finalizers an Ingress carries (it may have left them since). */
export function groupsHeldBy(ing: KubeObject): string[] {
  const out: string[] = [];
  for (const f of ing.metadata.finalizers ?? []) {
    if (f === INGRESS_FINALIZER) out.push(nsName(ing));
    else if (f.startsWith(GROUP_FINALIZER_PREFIX)) out.push(f.slice(GROUP_FINALIZER_PREFIX.length));
  }
  return out;
}

/** The group's members in the controller's order: group.order, then namespace/name. */
export function orderMembers(members: KubeObject[]): KubeObject[] {
  const order = (i: KubeObject) => annotationInt(i.metadata.annotations ?? {}, INGRESS_ANNOTATIONS.groupOrder, 0);
  return [...members].sort((a, b) => order(a) - order(b) || nsName(a).localeCompare(nsName(b)));
}

export interface IngressModelInput {
  clusterName: string;
  groupId: string;
  /** The group's live members (of class alb, not being deleted). */
  members: KubeObject[];
  services: KubeObject[];
  slices: KubeObject[];
  nodes: KubeObject[];
}

export function buildIngressStack(input: IngressModelInput): ModelResult {
  try {
    return { stack: ingressStack(input) };
  } catch (e) {
    if (e instanceof ModelError) return { error: e.message };
    throw e;
  }
}

function listenPorts(ing: KubeObject): number[] {
  const raw = ing.metadata.annotations?.[INGRESS_ANNOTATIONS.listenPorts];
  if (raw === undefined) return [80];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ModelError(`failed to parse json annotation, ${INGRESS_ANNOTATIONS.listenPorts}: ${raw}`);
  }
  if (!Array.isArray(parsed) || parsed.length === 0)
    throw new ModelError(`empty listen-ports: ${INGRESS_ANNOTATIONS.listenPorts}: ${raw}`);
  const ports: number[] = [];
  for (const entry of parsed) {
    for (const [protocol, port] of Object.entries(entry as Record<string, unknown>)) {
      if (protocol === "HTTPS")
        throw new ModelError("HTTPS listeners are not supported by Berth (no TLS termination); use HTTP listen-ports");
      if (protocol !== "HTTP") throw new ModelError(`listen port protocol must be within [HTTP, HTTPS]: ${protocol}`);
      if (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535)
        throw new ModelError(`listen port must be within [1, 65535]: ${String(port)}`);
      ports.push(port);
    }
  }
  return ports;
}

function uniqueAnnotation(members: KubeObject[], key: string): string | undefined {
  const values = new Set(members.map((m) => m.metadata.annotations?.[key]).filter((v) => v !== undefined));
  if (values.size > 1) throw new ModelError(`conflicting ${key.slice(P.length)}: ${[...values].join(", ")}`);
  return [...values][0];
}

/** ELBv2 path patterns for an Ingress path (the controller's buildPathPatterns). */
export function pathPatterns(path: string, pathType: string | undefined): string[] {
  switch (pathType ?? "ImplementationSpecific") {
    case "ImplementationSpecific":
      return [path];
    case "Exact":
      if (/[*?]/.test(path)) throw new ModelError(`exact path shouldn't contain wildcards: ${path}`);
      return [path];
    case "Prefix": {
      if (path === "/") return ["/*"];
      if (/[*?]/.test(path)) throw new ModelError(`prefix path shouldn't contain wildcards: ${path}`);
      const p = path.replace(/\/$/, "");
      return [p, `${p}/*`];
    }
    default:
      throw new ModelError(`unsupported pathType: ${pathType}`);
  }
}

/** Exact paths first, then Prefix paths longest first, then the rest in their order. */
export function sortPaths<T extends { path?: string; pathType?: string }>(paths: T[]): T[] {
  const exact = paths.filter((p) => p.pathType === "Exact");
  const prefix = paths
    .map((p, i) => ({ p, i }))
    .filter(({ p }) => p.pathType === "Prefix")
    .sort((a, b) => (b.p.path ?? "").length - (a.p.path ?? "").length || a.i - b.i)
    .map(({ p }) => p);
  const rest = paths.filter((p) => p.pathType !== "Exact" && p.pathType !== "Prefix");
  return [...exact, ...prefix, ...rest];
}

function ingressStack({ clusterName, groupId, members: unordered, services, slices, nodes }: IngressModelInput) {
  const members = orderMembers(unordered);
  if (!members.length) throw new ModelError("the group has no members");
  const identity = { [CLUSTER_TAG]: clusterName, [INGRESS_STACK_TAG]: groupId };
  const rawScheme = uniqueAnnotation(members, INGRESS_ANNOTATIONS.scheme) ?? "internal";
  if (rawScheme !== "internal" && rawScheme !== "internet-facing") throw new ModelError(`unknown scheme: ${rawScheme}`);
  const scheme = rawScheme as Scheme;
  const explicitName = uniqueAnnotation(members, INGRESS_ANNOTATIONS.name);
  if (explicitName !== undefined && explicitName.length > 32)
    throw new ModelError("load balancer name cannot be longer than 32 characters");
  let lbName = explicitName;
  if (lbName === undefined) {
    if (isExplicitGroup(groupId)) lbName = groupResourceName(groupId, clusterName, groupId, scheme);
    else {
      const [ns = "", name = ""] = groupId.split("/");
      lbName = resourceName(ns, name, clusterName, groupId, scheme);
    }
  }
  const lbTags: Record<string, string> = {};
  for (const m of members) Object.assign(lbTags, annotationMap(m.metadata.annotations ?? {}, INGRESS_ANNOTATIONS.tags));

  const targetGroups = new Map<string, DesiredTargetGroup>();
  const backendAction = (ing: KubeObject, backend: IngressBackend): DesiredAction => {
    const tg = targetGroupFor({ clusterName, groupId, ing, backend, services, slices, nodes, identity });
    if (!targetGroups.has(tg.resource)) targetGroups.set(tg.resource, tg);
    return { type: "forward", targetGroup: tg.resource };
  };

  const byPort = new Map<number, { rules: Omit<DesiredRule, "priority">[]; defaultAction?: DesiredAction }>();
  for (const ing of members) {
    const ports = listenPorts(ing);
    const spec = ingSpec(ing);
    const rules: Omit<DesiredRule, "priority">[] = [];
    for (const rule of spec.rules ?? []) {
      if (!rule.http) continue;
      for (const path of sortPaths(rule.http.paths ?? [])) {
        const conditions: DesiredCondition[] = [];
        if (rule.host) conditions.push({ field: "host-header", values: [rule.host] });
        if (path.path) conditions.push({ field: "path-pattern", values: pathPatterns(path.path, path.pathType) });
        if (!conditions.length) conditions.push({ field: "path-pattern", values: ["/*"] });
        rules.push({ conditions, action: backendAction(ing, path.backend) });
      }
    }
    const def = spec.defaultBackend ? backendAction(ing, spec.defaultBackend) : undefined;
    for (const port of ports) {
      const entry = byPort.get(port) ?? { rules: [] };
      entry.rules.push(...rules);
      if (def) {
        if (entry.defaultAction) throw new ModelError(`multiple default backends on listener port ${port}`);
        entry.defaultAction = def;
      }
      byPort.set(port, entry);
    }
  }
  const listeners: DesiredListener[] = [...byPort.entries()]
    .sort(([a], [b]) => a - b)
    .map(([port, e]) => ({
      port,
      protocol: "HTTP" as const,
      defaultAction: e.defaultAction ?? { type: "fixed-response", statusCode: "404", contentType: "text/plain" },
      rules: e.rules.map((r, i) => ({ ...r, priority: i + 1 })),
    }));
  return {
    identity,
    resourceTag: INGRESS_RESOURCE_TAG,
    loadBalancer: {
      name: lbName,
      type: "application" as const,
      scheme,
      tags: { ...lbTags, ...identity, [INGRESS_RESOURCE_TAG]: LOAD_BALANCER_RESOURCE },
    },
    listeners,
    targetGroups: [...targetGroups.values()],
  };
}

function targetGroupFor(args: {
  clusterName: string;
  groupId: string;
  ing: KubeObject;
  backend: IngressBackend;
  services: KubeObject[];
  slices: KubeObject[];
  nodes: KubeObject[];
  identity: Record<string, string>;
}): DesiredTargetGroup {
  const { clusterName, groupId, ing, backend, identity } = args;
  const ns = ing.metadata.namespace ?? "default";
  const where = `ingress: ${nsName(ing)}`;
  if (!backend.service?.name) throw new ModelError(`${where}: only Service backends are supported`);
  const svcName = backend.service.name;
  const svc = args.services.find((s) => (s.metadata.namespace ?? "default") === ns && s.metadata.name === svcName);
  if (!svc) throw new ModelError(`${where}: Service "${svcName}" not found`);
  const spec = (svc.spec ?? {}) as ServiceSpec;
  const want = backend.service.port ?? {};
  const portKey = want.name ?? String(want.number ?? "");
  const sp = (spec.ports ?? []).find((p) => (want.name !== undefined ? p.name === want.name : p.port === want.number));
  if (!sp) throw new ModelError(`${where}: unable to find port ${portKey} on service ${ns}/${svcName}`);
  // Service annotations win over the Ingress's, as the controller merges them.
  const a: Annotations = { ...(ing.metadata.annotations ?? {}), ...(svc.metadata.annotations ?? {}) };
  const targetType = a[INGRESS_ANNOTATIONS.targetType] ?? "instance";
  if (targetType !== "ip" && targetType !== "instance") throw new ModelError(`unknown targetType: ${targetType}`);
  const backendProtocol = a[INGRESS_ANNOTATIONS.backendProtocol] ?? "HTTP";
  if (backendProtocol !== "HTTP")
    throw new ModelError(`backend protocol ${backendProtocol} is not supported by Berth (no TLS); use HTTP`);
  if (targetType === "instance" && !(spec.type === "NodePort" || spec.type === "LoadBalancer"))
    throw new ModelError(
      `${where}: ${ns}/${svcName} service is not of type NodePort or LoadBalancer and target-type is instance`,
    );
  if (targetType === "instance" && !sp.nodePort)
    throw new ModelError(`${where}: service port ${sp.port} of ${ns}/${svcName} has no nodePort`);
  const tgPort = targetType === "instance" ? (sp.nodePort as number) : numericTargetPort(sp);
  const hc = ingressHealthCheck(a, targetType, svc);
  const resource = `${ns}/${ing.metadata.name}-${svcName}:${portKey}`;
  return {
    resource,
    name: resourceName(
      ns,
      svcName,
      clusterName,
      groupId,
      ns,
      ing.metadata.name ?? "",
      svc.metadata.uid ?? "",
      portKey,
      String(tgPort),
      targetType,
      "HTTP",
      "HTTP1",
    ),
    protocol: "HTTP",
    port: tgPort,
    targetType,
    healthCheck: hc,
    tags: { ...annotationMap(a, INGRESS_ANNOTATIONS.tags), ...identity, [INGRESS_RESOURCE_TAG]: resource },
    targets:
      targetType === "instance"
        ? nodeTargets(args.nodes, sp.nodePort as number)
        : podTargets(slicesOf(args.slices, ns, svcName), sp as ServicePort),
  };
}

function ingressHealthCheck(a: Annotations, targetType: string, svc: KubeObject): HealthCheck {
  const protocol = a[INGRESS_ANNOTATIONS.hcProtocol] ?? "HTTP";
  if (protocol === "HTTPS") throw new ModelError("HTTPS health checks are not supported by Berth (no TLS)");
  if (protocol !== "HTTP") throw new ModelError("healthCheckProtocol must be within [HTTP, HTTPS]");
  let port = a[INGRESS_ANNOTATIONS.hcPort] ?? "traffic-port";
  if (port !== "traffic-port" && !/^\d+$/.test(port)) {
    const named = ((svc.spec as ServiceSpec | undefined)?.ports ?? []).find((p) => p.name === port);
    if (!named) throw new ModelError(`failed to resolve healthCheckPort: unable to find port ${port} on service`);
    if (targetType === "instance") port = String(named.nodePort ?? "");
    else if (/^\d+$/.test(String(named.targetPort ?? named.port))) port = String(named.targetPort ?? named.port);
    else
      throw new ModelError(
        "cannot use named healthCheckPort for IP TargetType when service's targetPort is a named port",
      );
  }
  return {
    protocol: "HTTP",
    port,
    path: a[INGRESS_ANNOTATIONS.hcPath] ?? "/",
    intervalSeconds: annotationInt(a, INGRESS_ANNOTATIONS.hcInterval, 15),
    timeoutSeconds: annotationInt(a, INGRESS_ANNOTATIONS.hcTimeout, 5),
    healthyThresholdCount: annotationInt(a, INGRESS_ANNOTATIONS.hcHealthy, 2),
    unhealthyThresholdCount: annotationInt(a, INGRESS_ANNOTATIONS.hcUnhealthy, 2),
    matcher: a[INGRESS_ANNOTATIONS.successCodes] ?? "200",
  };
}
