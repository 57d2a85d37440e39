/**
 * `kubectl get` output: a meta.k8s.io/v1 Table with the columns kube-apiserver prints for each
 * kind. The columns are data (name, type, priority, cell of an object); kinds without their own
 * get Name and Age. PURE.
 */
import type { KubeObject, ResourceType } from "../kube/types.js";
import { selectorString } from "./selectors.js";

export interface Column {
  name: string;
  type: "string" | "integer" | "number" | "boolean" | "date";
  format?: string;
  priority?: number;
  description: string;
  cell: (o: KubeObject, now: number) => unknown;
}

// biome-ignore lint/suspicious/noExplicitAny: objects are read loosely, as printers do
type Any = any;
const spec = (o: KubeObject): Any => (o.spec ?? {}) as Any;
const status = (o: KubeObject): Any => (o.status ?? {}) as Any;

/** kube's duration.HumanDuration: 45s, 5m30s, 3h, 2d, 400d. */
export function humanDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24);
  if (h < 24 * 8) return h % 24 === 0 ? `${d}d` : `${d}d${h % 24}h`;
  if (d < 365 * 2) return `${d}d`;
  if (d < 365 * 8) return d % 365 === 0 ? `${Math.floor(d / 365)}y` : `${Math.floor(d / 365)}y${d % 365}d`;
  return `${Math.floor(d / 365)}y`;
}

const since = (t: string | undefined, now: number) => (t ? humanDuration(now - Date.parse(t)) : "<unknown>");

const name: Column = {
  name: "Name",
  type: "string",
  format: "name",
  description: "Name must be unique within a namespace.",
  cell: (o) => o.metadata.name ?? "",
};
const age: Column = {
  name: "Age",
  type: "string",
  description: "CreationTimestamp is a timestamp representing the server time when this object was created.",
  cell: (o, now) => since(o.metadata.creationTimestamp, now),
};
const col = (n: string, cell: Column["cell"], extra: Partial<Column> = {}): Column => ({
  name: n,
  type: "string",
  description: n,
  cell,
  ...extra,
});
const wide = { priority: 1 };

const containers = (podSpec: Any) => (podSpec?.containers ?? []) as Any[];
const templateSpec = (o: KubeObject) => spec(o).template?.spec;
const containerNames = col(
  "Containers",
  (o) =>
    containers(templateSpec(o))
      .map((c) => c.name)
      .join(","),
  wide,
);
const images = col(
  "Images",
  (o) =>
    containers(templateSpec(o))
      .map((c) => c.image)
      .join(","),
  wide,
);
const selector = col("Selector", (o) => selectorString(spec(o).selector) || "<none>", wide);

/** A pod's Status column, as kubectl's printPod computes it. */
export function podStatus(o: KubeObject): string {
  const st = status(o);
  let reason: string = st.reason || st.phase || "Pending";
  let initializing = false;
  const inits = (st.initContainerStatuses ?? []) as Any[];
  inits.forEach((c, i) => {
    if (initializing) return;
    const t = c.state?.terminated;
    if (t && t.exitCode === 0) return;
    if (t) {
      reason = t.reason ? `Init:${t.reason}` : t.signal ? `Init:Signal:${t.signal}` : `Init:ExitCode:${t.exitCode}`;
      initializing = true;
    } else if (c.state?.waiting?.reason && c.state.waiting.reason !== "PodInitializing") {
      reason = `Init:${c.state.waiting.reason}`;
      initializing = true;
    } else {
      reason = `Init:${i}/${(spec(o).initContainers ?? []).length}`;
      initializing = true;
    }
  });
  if (!initializing) {
    let hasRunning = false;
    const cs = (st.containerStatuses ?? []) as Any[];
    for (let i = cs.length - 1; i >= 0; i--) {
      const c = cs[i];
      if (c.state?.waiting?.reason) reason = c.state.waiting.reason;
      else if (c.state?.terminated?.reason) reason = c.state.terminated.reason;
      else if (c.state?.terminated)
        reason = c.state.terminated.signal
          ? `Signal:${c.state.terminated.signal}`
          : `ExitCode:${c.state.terminated.exitCode}`;
      else if (c.ready && c.state?.running) hasRunning = true;
    }
    if (reason === "Completed" && hasRunning) {
      const ready = ((st.conditions ?? []) as Any[]).some((c) => c.type === "Ready" && c.status === "True");
      reason = ready ? "Running" : "NotReady";
    }
  }
  if (o.metadata.deletionTimestamp) reason = st.reason === "NodeLost" ? "Unknown" : "Terminating";
  return reason;
}

function podRestarts(o: KubeObject, now: number): string {
  const cs = (status(o).containerStatuses ?? []) as Any[];
  let n = 0;
  let last: number | undefined;
  for (const c of cs) {
    n += c.restartCount ?? 0;
    const t = c.lastState?.terminated?.finishedAt;
    if (t && (last === undefined || Date.parse(t) > last)) last = Date.parse(t);
  }
  return last !== undefined && n > 0 ? `${n} (${humanDuration(now - last)} ago)` : String(n);
}

const ports = (o: KubeObject) => {
  const ps = (spec(o).ports ?? []) as Any[];
  if (!ps.length) return "<none>";
  return ps.map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ""}/${p.protocol ?? "TCP"}`).join(",");
};

const externalIp = (o: KubeObject) => {
  const s = spec(o);
  const lb = ((status(o).loadBalancer?.ingress ?? []) as Any[]).map((i) => i.ip || i.hostname);
  const ext = [...(s.externalIPs ?? []), ...lb];
  if (ext.length) return ext.join(",");
  if (s.type === "LoadBalancer") return "<pending>";
  if (s.type === "ExternalName") return s.externalName ?? "<none>";
  return "<none>";
};

const nodeAddress = (t: string) => (o: KubeObject) =>
  ((status(o).addresses ?? []) as Any[]).find((a) => a.type === t)?.address ?? "<none>";

const COLUMNS: Record<string, Column[]> = {
  "/pods": [
    name,
    col("Ready", (o) => {
      const cs = (status(o).containerStatuses ?? []) as Any[];
      return `${cs.filter((c) => c.ready).length}/${containers(spec(o)).length}`;
    }),
    col("Status", podStatus),
    col("Restarts", podRestarts),
    age,
    col("IP", (o) => status(o).podIP ?? "<none>", wide),
    col("Node", (o) => spec(o).nodeName ?? "<none>", wide),
    col("Nominated Node", (o) => status(o).nominatedNodeName ?? "<none>", wide),
    col(
      "Readiness Gates",
      (o) => {
        const gates = (spec(o).readinessGates ?? []) as Any[];
        if (!gates.length) return "<none>";
        const conds = (status(o).conditions ?? []) as Any[];
        const ok = gates.filter((g) => conds.some((c) => c.type === g.conditionType && c.status === "True")).length;
        return `${ok}/${gates.length}`;
      },
      wide,
    ),
  ],
  "apps/deployments": [
    name,
    col("Ready", (o) => `${status(o).readyReplicas ?? 0}/${spec(o).replicas ?? 1}`),
    col("Up-to-date", (o) => status(o).updatedReplicas ?? 0, { type: "integer" }),
    col("Available", (o) => status(o).availableReplicas ?? 0, { type: "integer" }),
    age,
    containerNames,
    images,
    selector,
  ],
  "apps/replicasets": [
    name,
    col("Desired", (o) => spec(o).replicas ?? 1, { type: "integer" }),
    col("Current", (o) => status(o).replicas ?? 0, { type: "integer" }),
    col("Ready", (o) => status(o).readyReplicas ?? 0, { type: "integer" }),
    age,
    containerNames,
    images,
    selector,
  ],
  "apps/statefulsets": [
    name,
    col("Ready", (o) => `${status(o).readyReplicas ?? 0}/${spec(o).replicas ?? 1}`),
    age,
    containerNames,
    images,
  ],
  "apps/daemonsets": [
    name,
    col("Desired", (o) => status(o).desiredNumberScheduled ?? 0, { type: "integer" }),
    col("Current", (o) => status(o).currentNumberScheduled ?? 0, { type: "integer" }),
    col("Ready", (o) => status(o).numberReady ?? 0, { type: "integer" }),
    col("Up-to-date", (o) => status(o).updatedNumberScheduled ?? 0, { type: "integer" }),
    col("Available", (o) => status(o).numberAvailable ?? 0, { type: "integer" }),
    col("Node Selector", (o) => {
      const ns = templateSpec(o)?.nodeSelector as Record<string, string> | undefined;
      return ns && Object.keys(ns).length
        ? Object.entries(ns)
            .map(([k, v]) => `${k}=${v}`)
            .join(",")
        : "<none>";
    }),
    age,
    containerNames,
    images,
    selector,
  ],
  "batch/jobs": [
    name,
    col("Status", (o) => {
      const conds = (status(o).conditions ?? []) as Any[];
      const has = (t: string) => conds.some((c) => c.type === t && c.status === "True");
      if (has("Failed")) return "Failed";
      if (has("Complete")) return "Complete";
      if (spec(o).suspend) return "Suspended";
      return "Running";
    }),
    col("Completions", (o) => `${status(o).succeeded ?? 0}/${spec(o).completions ?? 1}`),
    col("Duration", (o, now) => {
      const st = status(o);
      if (!st.startTime) return "";
      const end = st.completionTime ? Date.parse(st.completionTime) : now;
      return humanDuration(end - Date.parse(st.startTime));
    }),
    age,
    containerNames,
    images,
    selector,
  ],
  "/services": [
    name,
    col("Type", (o) => spec(o).type ?? "ClusterIP"),
    col("Cluster-IP", (o) => spec(o).clusterIP || "<none>"),
    col("External-IP", externalIp),
    col("Port(s)", ports),
    age,
    col(
      "Selector",
      (o) => {
        const s = spec(o).selector as Record<string, string> | undefined;
        return s && Object.keys(s).length
          ? Object.entries(s)
              .map(([k, v]) => `${k}=${v}`)
              .join(",")
          : "<none>";
      },
      wide,
    ),
  ],
  "/nodes": [
    name,
    col("Status", (o) => {
      const ready = ((status(o).conditions ?? []) as Any[]).find((c) => c.type === "Ready");
      let s = ready?.status === "True" ? "Ready" : ready ? "NotReady" : "Unknown";
      if (spec(o).unschedulable) s += ",SchedulingDisabled";
      return s;
    }),
    col("Roles", (o) => {
      const roles = Object.keys(o.metadata.labels ?? {})
        .filter((k) => k.startsWith("node-role.kubernetes.io/"))
        .map((k) => k.slice("node-role.kubernetes.io/".length));
      return roles.length ? roles.sort().join(",") : "<none>";
    }),
    age,
    col("Version", (o) => status(o).nodeInfo?.kubeletVersion ?? ""),
    col("Internal-IP", nodeAddress("InternalIP"), wide),
    col("External-IP", nodeAddress("ExternalIP"), wide),
    col("OS-Image", (o) => status(o).nodeInfo?.osImage ?? "<unknown>", wide),
    col("Kernel-Version", (o) => status(o).nodeInfo?.kernelVersion ?? "<unknown>", wide),
    col("Container-Runtime", (o) => status(o).nodeInfo?.containerRuntimeVersion ?? "<unknown>", wide),
  ],
  "/namespaces": [name, col("Status", (o) => status(o).phase ?? "Active"), age],
  "/configmaps": [
    name,
    col("Data", (o) => Object.keys(o.data ?? {}).length + Object.keys(o.binaryData ?? {}).length, { type: "integer" }),
    age,
  ],
  "/secrets": [
    name,
    col("Type", (o) => (o.type as string) ?? "Opaque"),
    col("Data", (o) => Object.keys(o.data ?? {}).length, { type: "integer" }),
    age,
  ],
  "/serviceaccounts": [name, col("Secrets", (o) => ((o.secrets as unknown[]) ?? []).length, { type: "integer" }), age],
  "/endpoints": [
    name,
    col("Endpoints", (o) => {
      const eps: string[] = [];
      for (const s of (o.subsets ?? []) as Any[])
        for (const a of s.addresses ?? [])
          for (const p of s.ports?.length ? s.ports : [{}]) eps.push(p.port ? `${a.ip}:${p.port}` : a.ip);
      if (!eps.length) return "<none>";
      return eps.length > 3 ? `${eps.slice(0, 3).join(",")} + ${eps.length - 3} more...` : eps.join(",");
    }),
    age,
  ],
  "/events": [
    col("Last Seen", (o, now) => {
      const t = (o.lastTimestamp as string) || (o.eventTime as string) || o.metadata.creationTimestamp;
      return since(t, now);
    }),
    col("Type", (o) => (o.type as string) ?? ""),
    col("Reason", (o) => (o.reason as string) ?? ""),
    col("Object", (o) => {
      const io = (o.involvedObject ?? {}) as Any;
      return `${String(io.kind ?? "").toLowerCase()}/${io.name ?? ""}`;
    }),
    col("Message", (o) => ((o.message as string) ?? "").trim()),
  ],
  "networking.k8s.io/ingresses": [
    name,
    col("Class", (o) => spec(o).ingressClassName ?? "<none>"),
    col("Hosts", (o) => {
      const hosts = ((spec(o).rules ?? []) as Any[]).map((r) => r.host).filter(Boolean);
      return hosts.length ? hosts.join(",") : "*";
    }),
    col("Address", (o) => ((status(o).loadBalancer?.ingress ?? []) as Any[]).map((i) => i.ip || i.hostname).join(",")),
    col("Ports", (o) => (((spec(o).tls ?? []) as Any[]).length ? "80, 443" : "80")),
    age,
  ],
  "networking.k8s.io/ingressclasses": [
    name,
    col("Controller", (o) => spec(o).controller ?? ""),
    col("Parameters", (o) => {
      const p = spec(o).parameters;
      return p ? `${p.kind}/${p.name}` : "<none>";
    }),
    age,
  ],
  "coordination.k8s.io/leases": [name, col("Holder", (o) => spec(o).holderIdentity ?? ""), age],
  "/persistentvolumeclaims": [
    name,
    col("Status", (o) => status(o).phase ?? "Pending"),
    col("Volume", (o) => spec(o).volumeName ?? ""),
    col("Capacity", (o) => status(o).capacity?.storage ?? ""),
    col("Access Modes", (o) => accessModes(status(o).accessModes)),
    col("StorageClass", (o) => spec(o).storageClassName ?? ""),
    age,
    col("VolumeMode", (o) => spec(o).volumeMode ?? "", wide),
  ],
  "/persistentvolumes": [
    name,
    col("Capacity", (o) => spec(o).capacity?.storage ?? ""),
    col("Access Modes", (o) => accessModes(spec(o).accessModes)),
    col("Reclaim Policy", (o) => spec(o).persistentVolumeReclaimPolicy ?? ""),
    col("Status", (o) => status(o).phase ?? ""),
    col("Claim", (o) => (spec(o).claimRef ? `${spec(o).claimRef.namespace}/${spec(o).claimRef.name}` : "")),
    col("StorageClass", (o) => spec(o).storageClassName ?? ""),
    col("Reason", (o) => status(o).reason ?? ""),
    age,
    col("VolumeMode", (o) => spec(o).volumeMode ?? "", wide),
  ],
  "storage.k8s.io/storageclasses": [
    {
      ...name,
      cell: (o) =>
        o.metadata.annotations?.["storageclass.kubernetes.io/is-default-class"] === "true"
          ? `${o.metadata.name} (default)`
          : o.metadata.name,
    },
    col("Provisioner", (o) => (o as Any).provisioner ?? ""),
    col("ReclaimPolicy", (o) => (o as Any).reclaimPolicy ?? "Delete"),
    col("VolumeBindingMode", (o) => (o as Any).volumeBindingMode ?? "Immediate"),
    col("AllowVolumeExpansion", (o) => (o as Any).allowVolumeExpansion === true, { type: "boolean" }),
    age,
  ],
  "storage.k8s.io/csidrivers": [
    name,
    col("AttachRequired", (o) => spec(o).attachRequired !== false, { type: "boolean" }),
    col("PodInfoOnMount", (o) => spec(o).podInfoOnMount === true, { type: "boolean" }),
    col("StorageCapacity", (o) => spec(o).storageCapacity === true, { type: "boolean" }),
    col("TokenRequests", (o) => ((spec(o).tokenRequests ?? []) as Any[]).map((t) => t.audience).join(",") || "<unset>"),
    col("RequiresRepublish", (o) => spec(o).requiresRepublish === true, { type: "boolean" }),
    col("Modes", (o) => ((spec(o).volumeLifecycleModes ?? []) as string[]).join(",")),
    age,
  ],
  "storage.k8s.io/volumeattachments": [
    name,
    col("Attacher", (o) => spec(o).attacher ?? ""),
    col("PV", (o) => spec(o).source?.persistentVolumeName ?? ""),
    col("Node", (o) => spec(o).nodeName ?? ""),
    col("Attached", (o) => status(o).attached === true, { type: "boolean" }),
    age,
  ],
};

/** kubectl's short access modes: RWO, ROX, RWX, RWOP. */
function accessModes(modes: unknown): string {
  const short: Record<string, string> = {
    ReadWriteOnce: "RWO",
    ReadOnlyMany: "ROX",
    ReadWriteMany: "RWX",
    ReadWriteOncePod: "RWOP",
  };
  return ((Array.isArray(modes) ? modes : []) as string[]).map((m) => short[m] ?? m).join(",");
}

export const columnsOf = (type: Pick<ResourceType, "group" | "resource">): Column[] =>
  COLUMNS[`${type.group}/${type.resource}`] ?? [name, age];

export type IncludeObject = "None" | "Metadata" | "Object";

/** A Table of objects (one row each). `includeObject` as the query parameter (default Metadata). */
export function toTable(
  type: ResourceType,
  objects: KubeObject[],
  opts: { now?: number; includeObject?: IncludeObject; listMeta?: Record<string, unknown>; noHeaders?: boolean } = {},
) {
  const now = opts.now ?? Date.now();
  const cols = columnsOf(type);
  const include = opts.includeObject ?? "Metadata";
  return {
    kind: "Table",
    apiVersion: "meta.k8s.io/v1",
    metadata: opts.listMeta ?? {},
    columnDefinitions: opts.noHeaders
      ? []
      : cols.map((c) => ({
          name: c.name,
          type: c.type,
          format: c.format ?? "",
          description: c.description,
          priority: c.priority ?? 0,
        })),
    rows: objects.map((o) => ({
      cells: cols.map((c) => c.cell(o, now)),
      ...(include === "None"
        ? {}
        : {
            object:
              include === "Object"
                ? o
                : { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: o.metadata },
          }),
    })),
  };
}
