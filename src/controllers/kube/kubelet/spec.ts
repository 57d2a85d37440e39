/**
 * A pod container → what the runtime creates. PURE: env (value, valueFrom, envFrom, service
 * links, $(VAR) expansion), command/args, mounts from prepared volumes, limits, user.
 */
import type { KubeObject } from "../../../kube/types.js";
import type { ContainerSpec, MountSpec, PortSpec } from "../../../runtime/runtime.js";
import { parseQuantity, type ResourceList } from "../../../scheduler/pods-resources.js";
import type { Container, Pod } from "./types.js";

/** A configuration error that keeps a container from being created (CreateContainerConfigError). */
export class ConfigError extends Error {}

export interface EnvLookups {
  configMap(name: string): Record<string, string> | undefined;
  /** Decoded secret data. */
  secret(name: string): Record<string, string> | undefined;
  /** Services of the pod's namespace (for service links). */
  services: KubeObject[];
  /** The `kubernetes` Service of the default namespace, when it exists. */
  kubernetes?: KubeObject;
  podIP: string;
  hostIP: string;
  nodeAllocatable: ResourceList;
}

interface ServicePort {
  name?: string;
  port: number;
  protocol?: string;
}

const envName = (s: string) => s.toUpperCase().replace(/-/g, "_");

/** The docker-link style variables of one Service, as the kubelet makes them. */
export function serviceEnv(svc: KubeObject): Record<string, string> {
  const spec = svc.spec as { clusterIP?: string; ports?: ServicePort[] } | undefined;
  const ip = spec?.clusterIP;
  if (!ip || ip === "None" || !spec?.ports?.length) return {};
  const name = envName(svc.metadata.name ?? "");
  const out: Record<string, string> = {};
  const first = spec.ports[0];
  out[`${name}_SERVICE_HOST`] = ip;
  out[`${name}_SERVICE_PORT`] = String(first.port);
  for (const p of spec.ports) if (p.name) out[`${name}_SERVICE_PORT_${envName(p.name)}`] = String(p.port);
  const proto = (first.protocol ?? "TCP").toLowerCase();
  out[`${name}_PORT`] = `${proto}://${ip}:${first.port}`;
  for (const p of spec.ports) {
    const pr = (p.protocol ?? "TCP").toLowerCase();
    const prefix = `${name}_PORT_${p.port}_${pr.toUpperCase()}`;
    out[prefix] = `${pr}://${ip}:${p.port}`;
    out[`${prefix}_PROTO`] = pr;
    out[`${prefix}_PORT`] = String(p.port);
    out[`${prefix}_ADDR`] = ip;
  }
  return out;
}

/** Expands $(VAR) from vars; $$ escapes; unknown references stay as written (kube's expansion). */
export function expand(s: string, vars: Record<string, string>): string {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (ch === "$" && i + 1 < s.length) {
      const next = s[i + 1];
      if (next === "$") {
        out += "$";
        i++;
        continue;
      }
      if (next === "(") {
        const close = s.indexOf(")", i + 2);
        if (close > 0) {
          const name = s.slice(i + 2, close);
          if (Object.hasOwn(vars, name)) out += vars[name];
          else out += s.slice(i, close + 1);
          i = close;
          continue;
        }
      }
    }
    out += ch;
  }
  return out;
}

/** A metadata/spec/status field of the pod (fieldRef). */
export function fieldValue(pod: Pod, path: string, lookups: Pick<EnvLookups, "podIP" | "hostIP">): string {
  const m = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  if (m) {
    const map = (m[1] === "labels" ? pod.metadata.labels : pod.metadata.annotations) ?? {};
    return map[m[2]] ?? "";
  }
  const kv = (o: Record<string, string> | undefined) =>
    Object.entries(o ?? {})
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, v]) => `${k}="${v}"`)
      .join("\n");
  switch (path) {
    case "metadata.name":
      return pod.metadata.name ?? "";
    case "metadata.namespace":
      return pod.metadata.namespace ?? "default";
    case "metadata.uid":
      return pod.metadata.uid ?? "";
    case "metadata.labels":
      return kv(pod.metadata.labels);
    case "metadata.annotations":
      return kv(pod.metadata.annotations);
    case "spec.nodeName":
      return pod.spec.nodeName ?? "";
    case "spec.serviceAccountName":
      return pod.spec.serviceAccountName ?? pod.spec.serviceAccount ?? "default";
    case "status.hostIP":
    case "status.hostIPs":
      return lookups.hostIP;
    case "status.podIP":
    case "status.podIPs":
      return lookups.podIP;
    default:
      throw new ConfigError(`unsupported fieldPath: ${path}`);
  }
}

/** resourceFieldRef: a container's limit or request, in units of the divisor (rounded up); limits default to the node's allocatable. */
export function resourceValue(
  pod: Pod,
  ref: { containerName?: string; resource: string; divisor?: string | number },
  self: string,
  allocatable: ResourceList,
): string {
  const name = ref.containerName || self;
  const c = [...pod.spec.containers, ...(pod.spec.initContainers ?? [])].find((x) => x.name === name);
  if (!c) throw new ConfigError(`container "${name}" not found in pod`);
  const [kind, resource] = ref.resource.split(".", 2) as ["limits" | "requests", string];
  const list = kind === "requests" ? c.resources?.requests : c.resources?.limits;
  let v = parseQuantity(list?.[resource]);
  if (!list?.[resource]) v = kind === "limits" ? parseQuantity(allocatable[resource]) : 0;
  const divisor = parseQuantity(ref.divisor ?? 1) || 1;
  return String(Math.ceil(v / divisor));
}

/** The container's environment, in kube's order: envFrom, then env, then service links that nothing set. */
export function containerEnv(pod: Pod, c: Container, l: EnvLookups): Record<string, string> {
  const env: Record<string, string> = {};
  const ns = pod.metadata.namespace ?? "default";
  const links: Record<string, string> = {};
  if (pod.spec.enableServiceLinks !== false)
    for (const svc of l.services) if (svc.metadata.namespace === ns) Object.assign(links, serviceEnv(svc));
  if (l.kubernetes) {
    const k = serviceEnv(l.kubernetes);
    Object.assign(links, k);
  }
  for (const from of c.envFrom ?? []) {
    const prefix = from.prefix ?? "";
    if (from.configMapRef) {
      const data = l.configMap(from.configMapRef.name ?? "");
      if (!data) {
        if (from.configMapRef.optional) continue;
        throw new ConfigError(`configmap "${from.configMapRef.name}" not found`);
      }
      for (const [k, v] of Object.entries(data)) env[prefix + k] = v;
    }
    if (from.secretRef) {
      const data = l.secret(from.secretRef.name ?? "");
      if (!data) {
        if (from.secretRef.optional) continue;
        throw new ConfigError(`secret "${from.secretRef.name}" not found`);
      }
      for (const [k, v] of Object.entries(data)) env[prefix + k] = v;
    }
  }
  const vars = () => ({ ...links, ...env });
  for (const e of c.env ?? []) {
    if (e.valueFrom) {
      const f = e.valueFrom;
      if (f.configMapKeyRef) {
        const data = l.configMap(f.configMapKeyRef.name ?? "");
        if (!data) {
          if (f.configMapKeyRef.optional) continue;
          throw new ConfigError(`configmap "${f.configMapKeyRef.name}" not found`);
        }
        const v = data[f.configMapKeyRef.key];
        if (v === undefined) {
          if (f.configMapKeyRef.optional) continue;
          throw new ConfigError(
            `couldn't find key ${f.configMapKeyRef.key} in ConfigMap ${ns}/${f.configMapKeyRef.name}`,
          );
        }
        env[e.name] = v;
      } else if (f.secretKeyRef) {
        const data = l.secret(f.secretKeyRef.name ?? "");
        if (!data) {
          if (f.secretKeyRef.optional) continue;
          throw new ConfigError(`secret "${f.secretKeyRef.name}" not found`);
        }
        const v = data[f.secretKeyRef.key];
        if (v === undefined) {
          if (f.secretKeyRef.optional) continue;
          throw new ConfigError(`couldn't find key ${f.secretKeyRef.key} in Secret ${ns}/${f.secretKeyRef.name}`);
        }
        env[e.name] = v;
      } else if (f.fieldRef) env[e.name] = fieldValue(pod, f.fieldRef.fieldPath, l);
      else if (f.resourceFieldRef) env[e.name] = resourceValue(pod, f.resourceFieldRef, c.name, l.nodeAllocatable);
      continue;
    }
    env[e.name] = expand(e.value ?? "", vars());
  }
  for (const [k, v] of Object.entries(links)) if (!Object.hasOwn(env, k)) env[k] = v;
  return env;
}

/** A volume ready on the host: the directory (or file) to bind. */
export interface PreparedVolume {
  hostPath: string;
  readOnly: boolean;
}

export function containerMounts(c: Container, volumes: Map<string, PreparedVolume>): MountSpec[] {
  return (c.volumeMounts ?? []).map((m) => {
    const v = volumes.get(m.name);
    if (!v) throw new ConfigError(`unable to find volume "${m.name}" for container "${c.name}"`);
    const source = m.subPath ? `${v.hostPath}/${m.subPath.replace(/^\/+/, "")}` : v.hostPath;
    return { type: "bind", source, target: m.mountPath, readOnly: (m.readOnly ?? false) || v.readOnly };
  });
}

/** Docker's name for a pod container, as dockershim named them: k8s_<container>_<pod>_<ns>_<uid>_<attempt>. */
export const dockerName = (pod: Pod, container: string, attempt: number) =>
  `k8s_${container}_${pod.metadata.name}_${pod.metadata.namespace ?? "default"}_${pod.metadata.uid}_${attempt}`.replace(
    /[^a-zA-Z0-9_.-]/g,
    "-",
  );

export interface ContainerContext {
  labels: Record<string, string>;
  sandboxId: string;
  env: Record<string, string>;
  mounts: MountSpec[];
  attempt: number;
}

const limitOf = (c: Container, r: string) => {
  const v = parseQuantity(c.resources?.limits?.[r]);
  return Number.isFinite(v) && v > 0 ? v : undefined;
};

/** The user a container runs as: its securityContext, else the pod's. */
export function userOf(pod: Pod, c: Container): string | undefined {
  const uid = c.securityContext?.runAsUser ?? pod.spec.securityContext?.runAsUser;
  const gid = c.securityContext?.runAsGroup ?? pod.spec.securityContext?.runAsGroup;
  if (uid === undefined && gid === undefined) return undefined;
  return gid === undefined ? String(uid) : `${uid ?? 0}:${gid}`;
}

export function containerSpec(pod: Pod, c: Container, ctx: ContainerContext): ContainerSpec {
  const env = ctx.env;
  const memory = limitOf(c, "memory");
  const cpu = limitOf(c, "cpu");
  const cpuRequest = parseQuantity(c.resources?.requests?.cpu ?? c.resources?.limits?.cpu);
  const groups = [
    ...(pod.spec.securityContext?.supplementalGroups ?? []),
    ...(pod.spec.securityContext?.fsGroup !== undefined ? [pod.spec.securityContext.fsGroup] : []),
  ].map(String);
  return {
    name: dockerName(pod, c.name, ctx.attempt),
    image: c.image,
    entryPoint: c.command?.map((s) => expand(s, env)),
    command: c.args?.map((s) => expand(s, env)),
    env,
    workingDir: c.workingDir,
    user: userOf(pod, c),
    labels: ctx.labels,
    ports: [],
    publishHost: "",
    network: { kind: "container", id: ctx.sandboxId },
    memoryBytes: memory !== undefined ? Math.round(memory) : undefined,
    nanoCpus: cpu !== undefined ? Math.round(cpu * 1e9) : undefined,
    cpuShares: Number.isFinite(cpuRequest) && cpuRequest > 0 ? Math.max(2, Math.round(cpuRequest * 1024)) : undefined,
    ulimits: [],
    readonlyRootFilesystem: c.securityContext?.readOnlyRootFilesystem ?? false,
    mounts: ctx.mounts,
    init: false,
    privileged: c.securityContext?.privileged ?? false,
    extraHosts: [],
    dns: [],
    groupAdd: groups.length ? groups : undefined,
  };
}

/** The pause container of a pod: its network namespace, hostname, DNS and host ports. */
export function sandboxSpec(
  pod: Pod,
  opts: {
    image: string;
    labels: Record<string, string>;
    network: string;
    publishHost: string;
    attempt: number;
    dns: { nameservers: string[]; searches: string[]; options: string[] };
  },
): ContainerSpec {
  const ports: PortSpec[] = [...pod.spec.containers, ...(pod.spec.initContainers ?? [])].flatMap((c) =>
    (c.ports ?? [])
      .filter((p) => p.hostPort)
      .map((p) => ({
        containerPort: p.containerPort,
        hostPort: p.hostPort,
        protocol: p.protocol === "UDP" ? ("udp" as const) : ("tcp" as const),
      })),
  );
  const host = pod.spec.hostNetwork === true;
  const policy = pod.spec.dnsPolicy ?? "ClusterFirst";
  const cfg = pod.spec.dnsConfig;
  const none = { nameservers: [] as string[], searches: [] as string[], options: [] as string[] };
  // ClusterFirst: cluster DNS (a host-network pod keeps the host's); ClusterFirstWithHostNet: cluster DNS always.
  const cluster = policy === "ClusterFirstWithHostNet" || (policy === "ClusterFirst" && !host);
  const base = host ? none : cluster ? opts.dns : none;
  const options = [...base.options];
  for (const o of cfg?.options ?? []) {
    const text = o.value !== undefined ? `${o.name}:${o.value}` : o.name;
    const at = options.findIndex((x) => x.split(":")[0] === o.name);
    if (at >= 0) options[at] = text;
    else options.push(text);
  }
  const hostname = pod.spec.hostname ?? pod.metadata.name ?? "";
  return {
    name: dockerName(pod, "POD", opts.attempt),
    image: opts.image,
    env: {},
    labels: opts.labels,
    ports,
    publishHost: opts.publishHost,
    network: host ? { kind: "host" } : { kind: "network", name: opts.network },
    hostname: hostname.slice(0, 63),
    ulimits: [],
    readonlyRootFilesystem: true,
    mounts: [],
    init: false,
    privileged: false,
    extraHosts: (pod.spec.hostAliases ?? []).flatMap((a) => (a.hostnames ?? []).map((h) => `${h}:${a.ip}`)),
    dns: [...base.nameservers, ...(cfg?.nameservers ?? [])],
    dnsSearch: [...base.searches, ...(cfg?.searches ?? [])],
    dnsOptions: options,
  };
}
