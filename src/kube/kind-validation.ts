/**
 * What kube-apiserver validates beyond the OpenAPI schema for the common kinds (pkg/apis/<group>/validation):
 * object names per kind, labels, pod specs (containers, ports, volumes, env), workload selectors vs
 * template labels, Service ports. Causes carry kube's field paths, reasons and messages. PURE.
 */
import type { StatusCause } from "./errors.js";
import { matchesSelector } from "./labels.js";
import type { KubeObject } from "./types.js";

type Obj = Record<string, unknown>;
type Path = string;
interface GVK {
  group: string;
  kind: string;
}

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const arr = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter(isObj) : []);
const q = (s: string) => JSON.stringify(s);
const sub = (p: Path, k: string) => (p ? `${p}.${k}` : k);
const idx = (p: Path, i: number) => `${p}[${i}]`;

/** Go's %q of a string, as kube's field errors print values. */
export const goQuote = (s: string) => JSON.stringify(s);

/** Go's rendering of a field error value (strings quoted, numbers and booleans bare, string maps as %#v). */
export function goValue(v: unknown): string {
  if (typeof v === "string") return q(v);
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (v === null || v === undefined) return "null";
  if (isObj(v)) {
    const entries = Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `map[string]string{${entries.map(([k, x]) => `${q(k)}:${q(String(x))}`).join(", ")}}`;
  }
  return JSON.stringify(v);
}

const required = (field: Path, detail = ""): StatusCause => ({
  reason: "FieldValueRequired",
  message: detail ? `Required value: ${detail}` : "Required value",
  field,
});
const invalid = (field: Path, value: unknown, detail: string): StatusCause => ({
  reason: "FieldValueInvalid",
  message: `Invalid value: ${goValue(value)}: ${detail}`,
  field,
});
const duplicate = (field: Path, value: unknown): StatusCause => ({
  reason: "FieldValueDuplicate",
  message: `Duplicate value: ${goValue(value)}`,
  field,
});
const notSupported = (field: Path, value: unknown, valid: string[]): StatusCause => ({
  reason: "FieldValueNotSupported",
  message: `Unsupported value: ${goValue(value)}: supported values: ${valid.map(q).join(", ")}`,
  field,
});
const notFound = (field: Path, value: unknown): StatusCause => ({
  reason: "FieldValueNotFound",
  message: `Not found: ${goValue(value)}`,
  field,
});
const forbidden = (field: Path, detail: string): StatusCause => ({
  reason: "FieldValueForbidden",
  message: `Forbidden: ${detail}`,
  field,
});

/** The volume sources a PersistentVolume may name (exactly one). */
const PV_SOURCES = [
  "csi",
  "hostPath",
  "local",
  "nfs",
  "awsElasticBlockStore",
  "gcePersistentDisk",
  "azureDisk",
  "azureFile",
  "iscsi",
  "fc",
  "cephfs",
  "rbd",
  "glusterfs",
  "flexVolume",
  "cinder",
  "vsphereVolume",
  "portworxVolume",
  "scaleIO",
  "storageos",
  "photonPersistentDisk",
  "quobyte",
  "flocker",
];

// k8s.io/apimachinery/pkg/util/validation, messages verbatim.
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const ENV_VAR_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;
const maxLen = (n: number) => `must be no more than ${n} characters`;

export function isDns1123Label(v: string): string[] {
  const out: string[] = [];
  if (v.length > 63) out.push(maxLen(63));
  if (!DNS1123_LABEL.test(v))
    out.push(
      "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
    );
  return out;
}

export function isDns1123Subdomain(v: string): string[] {
  const out: string[] = [];
  if (v.length > 253) out.push(maxLen(253));
  if (!DNS1123_SUBDOMAIN.test(v))
    out.push(
      "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
    );
  return out;
}

export function isDns1035Label(v: string): string[] {
  const out: string[] = [];
  if (v.length > 63) out.push(maxLen(63));
  if (!DNS1035_LABEL.test(v))
    out.push(
      "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
    );
  return out;
}

/** Names of RBAC objects are path segments only. */
export function isPathSegmentName(v: string): string[] {
  if (v === "." || v === "..") return [`may not be '${v}'`];
  const out: string[] = [];
  for (const c of ["/", "%"]) if (v.includes(c)) out.push(`may not contain '${c}'`);
  return out;
}

export function isQualifiedName(v: string): string[] {
  const parts = v.split("/");
  const out: string[] = [];
  let name = v;
  if (parts.length === 2) {
    const [prefix, n] = parts as [string, string];
    name = n;
    if (prefix.length === 0) out.push("prefix part must be non-empty");
    else out.push(...isDns1123Subdomain(prefix).map((m) => `prefix part ${m}`));
  } else if (parts.length > 2) {
    return [
      "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
    ];
  }
  if (name.length === 0) out.push("name part must be non-empty");
  else if (name.length > 63) out.push(`name part ${maxLen(63)}`);
  if (name.length > 0 && !QUALIFIED_NAME.test(name))
    out.push(
      "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
    );
  return out;
}

export function isLabelValue(v: string): string[] {
  const out: string[] = [];
  if (v.length > 63) out.push(maxLen(63));
  if (!LABEL_VALUE.test(v))
    out.push(
      "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
    );
  return out;
}

/** IANA_SVC_NAME (a port name). */
export function isValidPortName(v: string): string[] {
  const out: string[] = [];
  if (v.length > 15) out.push(maxLen(15));
  if (!/^[-a-z0-9]+$/.test(v)) out.push("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
  if (v.includes("--")) out.push("must not contain consecutive hyphens");
  if (!/[a-z]/.test(v)) out.push("must contain at least one letter (a-z)");
  if (v.startsWith("-") || v.endsWith("-")) out.push("must not begin or end with a hyphen");
  return out;
}

const PORT_RANGE = "must be between 1 and 65535, inclusive";
const isPort = (n: unknown) => typeof n === "number" && Number.isInteger(n) && n >= 1 && n <= 65535;

type NameRule = (v: string) => string[];
const NAME_RULES: Record<string, NameRule> = {
  "/Namespace": isDns1123Label,
  "/Service": isDns1035Label,
  "rbac.authorization.k8s.io/Role": isPathSegmentName,
  "rbac.authorization.k8s.io/ClusterRole": isPathSegmentName,
  "rbac.authorization.k8s.io/RoleBinding": isPathSegmentName,
  "rbac.authorization.k8s.io/ClusterRoleBinding": isPathSegmentName,
};

function validateMeta(gvk: GVK, meta: Obj, out: StatusCause[]) {
  const rule = NAME_RULES[`${gvk.group}/${gvk.kind}`] ?? isDns1123Subdomain;
  const name = typeof meta.name === "string" ? meta.name : "";
  const generateName = typeof meta.generateName === "string" ? meta.generateName : "";
  if (name) for (const m of rule(name)) out.push(invalid("metadata.name", name, m));
  else if (generateName) {
    // kube masks a trailing dash of the prefix before checking it.
    const masked = generateName.endsWith("-") ? `${generateName.slice(0, -1)}a` : generateName;
    for (const m of rule(masked)) out.push(invalid("metadata.generateName", generateName, m));
  } else out.push(required("metadata.name", "name or generateName is required"));
  if (typeof meta.namespace === "string" && meta.namespace !== "")
    for (const m of isDns1123Label(meta.namespace)) out.push(invalid("metadata.namespace", meta.namespace, m));
  if (gvk.group === "batch" && gvk.kind === "CronJob" && name.length > 52)
    out.push(invalid("metadata.name", name, maxLen(52)));
  validateLabels(meta.labels, "metadata.labels", out);
  if (isObj(meta.annotations))
    for (const k of Object.keys(meta.annotations))
      for (const m of isQualifiedName(k.toLowerCase())) out.push(invalid("metadata.annotations", k, m));
}

function validateLabels(labels: unknown, path: Path, out: StatusCause[]) {
  if (!isObj(labels)) return;
  for (const [k, v] of Object.entries(labels)) {
    for (const m of isQualifiedName(k)) out.push(invalid(path, k, m));
    if (typeof v === "string") for (const m of isLabelValue(v)) out.push(invalid(path, v, m));
  }
}

/** A quantity as a number (for request ≤ limit checks); NaN when malformed. */
export function parseQuantity(q: unknown): number {
  if (typeof q === "number") return q;
  if (typeof q !== "string") return Number.NaN;
  const m = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?\d+)?$/.exec(q);
  if (!m) return Number.NaN;
  const n = Number(m[1]);
  const s = m[2] ?? "";
  const bin: Record<string, number> = { Ki: 1, Mi: 2, Gi: 3, Ti: 4, Pi: 5, Ei: 6 };
  const dec: Record<string, number> = { n: -9, u: -6, m: -3, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
  if (s in bin) return n * 1024 ** (bin[s] as number);
  if (s in dec) return n * 10 ** (dec[s] as number);
  if (s) return n * 10 ** Number(s.slice(1));
  return n;
}

function validateContainer(c: Obj, path: Path, volumes: Set<string>, out: StatusCause[]) {
  const name = c.name;
  if (typeof name === "string" && name !== "")
    for (const m of isDns1123Label(name)) out.push(invalid(sub(path, "name"), name, m));
  else if (name === "") out.push(required(sub(path, "name")));
  if (typeof c.image !== "string" || c.image.trim() === "") out.push(required(sub(path, "image")));
  const portNames = new Set<string>();
  arr(c.ports).forEach((p, i) => {
    const pp = idx(sub(path, "ports"), i);
    if (p.containerPort === 0) out.push(required(sub(pp, "containerPort")));
    else if (p.containerPort !== undefined && !isPort(p.containerPort))
      out.push(invalid(sub(pp, "containerPort"), p.containerPort, PORT_RANGE));
    if (p.hostPort !== undefined && p.hostPort !== 0 && !isPort(p.hostPort))
      out.push(invalid(sub(pp, "hostPort"), p.hostPort, PORT_RANGE));
    if (typeof p.name === "string" && p.name !== "") {
      for (const m of isValidPortName(p.name)) out.push(invalid(sub(pp, "name"), p.name, m));
      if (portNames.has(p.name)) out.push(duplicate(sub(pp, "name"), p.name));
      portNames.add(p.name);
    }
  });
  arr(c.env).forEach((e, i) => {
    const ep = idx(sub(path, "env"), i);
    if (typeof e.name !== "string" || e.name === "") out.push(required(sub(ep, "name")));
    else if (!ENV_VAR_NAME.test(e.name))
      out.push(
        invalid(
          sub(ep, "name"),
          e.name,
          "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')",
        ),
      );
  });
  arr(c.env).forEach((e, i) => {
    if (typeof e.value === "string" && e.value !== "" && e.valueFrom != null)
      out.push(
        invalid(sub(idx(sub(path, "env"), i), "valueFrom"), "", "may not be specified when `value` is not empty"),
      );
  });
  for (const probe of ["livenessProbe", "readinessProbe", "startupProbe"]) {
    const pr = c[probe];
    if (!isObj(pr)) continue;
    const handlers = ["exec", "httpGet", "tcpSocket", "grpc"].filter((h) => pr[h] != null);
    if (handlers.length === 0) out.push(required(sub(path, probe), "must specify a handler type"));
    else if (handlers.length > 1)
      out.push(forbidden(sub(sub(path, probe), handlers[1] as string), "may not specify more than 1 handler type"));
    const port = isObj(pr.httpGet) ? pr.httpGet.port : isObj(pr.tcpSocket) ? pr.tcpSocket.port : undefined;
    const handler = isObj(pr.httpGet) ? "httpGet" : "tcpSocket";
    if (typeof port === "number" && !isPort(port))
      out.push(invalid(sub(sub(sub(path, probe), handler), "port"), port, PORT_RANGE));
    if (typeof port === "string")
      for (const m of isValidPortName(port)) out.push(invalid(sub(sub(sub(path, probe), handler), "port"), port, m));
  }
  arr(c.volumeMounts).forEach((m, i) => {
    const mp = idx(sub(path, "volumeMounts"), i);
    if (typeof m.name !== "string" || m.name === "") out.push(required(sub(mp, "name")));
    else if (!volumes.has(m.name)) out.push(notFound(sub(mp, "name"), m.name));
    if (typeof m.mountPath !== "string" || m.mountPath === "") out.push(required(sub(mp, "mountPath")));
  });
  const res = isObj(c.resources) ? c.resources : {};
  const requests = isObj(res.requests) ? res.requests : {};
  const limits = isObj(res.limits) ? res.limits : {};
  for (const [r, v] of Object.entries(requests)) {
    if (limits[r] === undefined) continue;
    const rq = parseQuantity(v);
    const lq = parseQuantity(limits[r]);
    if (rq > lq)
      out.push(
        invalid(
          sub(sub(path, "resources"), `requests[${r}]`),
          String(v),
          `must be less than or equal to ${r} limit of ${String(limits[r])}`,
        ),
      );
  }
}

/** ValidatePodSpec: containers, names unique across init and app containers, volumes. */
export function validatePodSpec(spec: unknown, path: Path, out: StatusCause[]) {
  const s = isObj(spec) ? spec : {};
  const volumes = new Set<string>();
  arr(s.volumes).forEach((v, i) => {
    const vp = idx(sub(path, "volumes"), i);
    if (typeof v.name !== "string" || v.name === "") {
      out.push(required(sub(vp, "name")));
      return;
    }
    for (const m of isDns1123Label(v.name)) out.push(invalid(sub(vp, "name"), v.name, m));
    if (volumes.has(v.name)) out.push(duplicate(sub(vp, "name"), v.name));
    const sources = Object.keys(v).filter((k) => k !== "name" && v[k] != null);
    if (sources.length === 0) out.push(required(vp, "must specify a volume type"));
    else if (sources.length > 1)
      out.push(forbidden(sub(vp, sources[1] as string), "may not specify more than 1 volume type"));
    volumes.add(v.name);
  });
  const containers = arr(s.containers);
  if (containers.length === 0) out.push(required(sub(path, "containers")));
  const names = new Set<string>();
  for (const key of ["initContainers", "containers"]) {
    arr(s[key]).forEach((c, i) => {
      const cp = idx(sub(path, key), i);
      validateContainer(c, cp, volumes, out);
      if (typeof c.name === "string" && c.name !== "") {
        if (names.has(c.name)) out.push(duplicate(sub(cp, "name"), c.name));
        names.add(c.name);
      }
    });
  }
  if (typeof s.terminationGracePeriodSeconds === "number" && s.terminationGracePeriodSeconds < 0)
    out.push(invalid(sub(path, "terminationGracePeriodSeconds"), s.terminationGracePeriodSeconds, "must be >= 0"));
  if (typeof s.activeDeadlineSeconds === "number" && s.activeDeadlineSeconds <= 0)
    out.push(
      invalid(
        sub(path, "activeDeadlineSeconds"),
        s.activeDeadlineSeconds,
        "must be between 1 and 2147483647, inclusive",
      ),
    );
}

const nonNegative = (v: unknown, field: Path, out: StatusCause[]) => {
  if (typeof v === "number" && v < 0) out.push(invalid(field, v, "must be greater than or equal to 0"));
};

function validateIntOrPercent(v: unknown, field: Path, out: StatusCause[]): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === "number") {
    nonNegative(v, field, out);
    return v;
  }
  if (typeof v === "string") {
    const m = /^(\d+)%$/.exec(v);
    if (!m) {
      out.push(
        invalid(
          field,
          v,
          "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
        ),
      );
      return undefined;
    }
    const n = Number(m[1]);
    if (n > 100) out.push(invalid(field, v, "must not be greater than 100%"));
    return n;
  }
  return undefined;
}

/** Go's %#v of a metav1.LabelSelector. */
function goLabelSelector(sel: Obj): string {
  const ml = isObj(sel.matchLabels) ? goValue(sel.matchLabels) : "map[string]string(nil)";
  const me = Array.isArray(sel.matchExpressions)
    ? `[]v1.LabelSelectorRequirement{${arr(sel.matchExpressions)
        .map(
          (r) =>
            `v1.LabelSelectorRequirement{Key:${q(String(r.key ?? ""))}, Operator:${q(String(r.operator ?? ""))}, Values:${
              Array.isArray(r.values) ? `[]string{${r.values.map((v) => q(String(v))).join(", ")}}` : "[]string(nil)"
            }}`,
        )
        .join(", ")}}`
    : "[]v1.LabelSelectorRequirement(nil)";
  return `v1.LabelSelector{MatchLabels:${ml}, MatchExpressions:${me}}`;
}

/** Workload selector + template (ValidatePodTemplateSpecForReplicaSet and friends). */
function validateWorkload(
  _kind: string,
  spec: Obj,
  out: StatusCause[],
  restartPolicies: string[] | undefined,
  selectorRequired = true,
) {
  nonNegative(spec.replicas, "spec.replicas", out);
  nonNegative(spec.minReadySeconds, "spec.minReadySeconds", out);
  nonNegative(spec.revisionHistoryLimit, "spec.revisionHistoryLimit", out);
  const template = isObj(spec.template) ? spec.template : {};
  const tmeta = isObj(template.metadata) ? template.metadata : {};
  const labels = isObj(tmeta.labels) ? (tmeta.labels as Record<string, string>) : {};
  const selector = spec.selector;
  if (selector === undefined || selector === null) {
    if (selectorRequired) out.push(required("spec.selector"));
  } else if (isObj(selector)) {
    const empty =
      (!isObj(selector.matchLabels) || Object.keys(selector.matchLabels).length === 0) &&
      arr(selector.matchExpressions).length === 0;
    // kube words it "for deployment" for every workload kind.
    if (empty)
      out.push({
        reason: "FieldValueInvalid",
        message: `Invalid value: ${goLabelSelector(selector)}: empty selector is invalid for deployment`,
        field: "spec.selector",
      });
    else if (!matchesSelector(selector as Parameters<typeof matchesSelector>[0], labels))
      out.push(invalid("spec.template.metadata.labels", labels, "`selector` does not match template `labels`"));
  }
  validateLabels(tmeta.labels, "spec.template.metadata.labels", out);
  const pspec = isObj(template.spec) ? template.spec : {};
  validatePodSpec(pspec, "spec.template.spec", out);
  const restartPolicy = String(pspec.restartPolicy ?? "Always"); // what defaulting gives it
  if (restartPolicies && !restartPolicies.includes(restartPolicy))
    out.push(notSupported("spec.template.spec.restartPolicy", restartPolicy, restartPolicies));
  if (restartPolicies?.[0] === "Always" && pspec.activeDeadlineSeconds !== undefined)
    out.push(
      forbidden("spec.template.spec.activeDeadlineSeconds", "activeDeadlineSeconds in ReplicaSet is not Supported"),
    );
}

/**
 * A StatefulSet's template may mount its volumeClaimTemplates by name (each pod gets a
 * persistentVolumeClaim volume of that name), so they count as volumes of the template.
 */
function withClaimTemplateVolumes(spec: Obj): Obj {
  const names = arr(spec.volumeClaimTemplates)
    .map((t) => (isObj(t.metadata) ? t.metadata.name : undefined))
    .filter((n): n is string => typeof n === "string" && n !== "");
  const template = isObj(spec.template) ? spec.template : undefined;
  if (!names.length || !template || !isObj(template.spec)) return spec;
  const volumes = arr(template.spec.volumes);
  const extra = names
    .filter((n) => !volumes.some((v) => v.name === n))
    .map((n) => ({ name: n, persistentVolumeClaim: { claimName: n } }));
  return { ...spec, template: { ...template, spec: { ...template.spec, volumes: [...volumes, ...extra] } } };
}

function validateDeployment(d: Obj, out: StatusCause[]) {
  const spec = isObj(d.spec) ? d.spec : {};
  validateWorkload("deployment", spec, out, ["Always"]);
  const strategy = isObj(spec.strategy) ? spec.strategy : {};
  if (strategy.type === "Recreate" && strategy.rollingUpdate !== undefined)
    out.push(forbidden("spec.strategy.rollingUpdate", "may not be specified when strategy `type` is 'Recreate'"));
  if (strategy.type === "RollingUpdate" && isObj(strategy.rollingUpdate)) {
    const ru = strategy.rollingUpdate;
    const surge = validateIntOrPercent(ru.maxSurge, "spec.strategy.rollingUpdate.maxSurge", out);
    const unavailable = validateIntOrPercent(ru.maxUnavailable, "spec.strategy.rollingUpdate.maxUnavailable", out);
    if (surge === 0 && unavailable === 0)
      out.push(
        invalid("spec.strategy.rollingUpdate.maxUnavailable", ru.maxUnavailable, "may not be 0 when `maxSurge` is 0"),
      );
  }
  nonNegative(spec.progressDeadlineSeconds, "spec.progressDeadlineSeconds", out);
}

function validateService(s: Obj, out: StatusCause[]) {
  const spec = isObj(s.spec) ? s.spec : {};
  const type = spec.type ?? "ClusterIP";
  const headless = spec.clusterIP === "None";
  const ports = arr(spec.ports);
  if (type === "ExternalName") {
    if (typeof spec.externalName !== "string" || spec.externalName === "") out.push(required("spec.externalName"));
  } else if (ports.length === 0 && !headless) out.push(required("spec.ports"));
  const names = new Set<string>();
  const keys = new Set<string>();
  ports.forEach((p, i) => {
    const pp = idx("spec.ports", i);
    if (ports.length > 1 && (typeof p.name !== "string" || p.name === "")) out.push(required(sub(pp, "name")));
    if (typeof p.name === "string" && p.name !== "") {
      for (const m of isDns1123Label(p.name)) out.push(invalid(sub(pp, "name"), p.name, m));
      if (names.has(p.name)) out.push(duplicate(sub(pp, "name"), p.name));
      names.add(p.name);
    }
    if (!isPort(p.port)) out.push(invalid(sub(pp, "port"), p.port, PORT_RANGE));
    const key = `${String(p.port)}/${String(p.protocol ?? "TCP")}`;
    if (keys.has(key)) out.push(duplicate(pp, { port: p.port, protocol: p.protocol ?? "TCP" }));
    keys.add(key);
    const tp = p.targetPort;
    if (typeof tp === "number" && !isPort(tp)) out.push(invalid(sub(pp, "targetPort"), tp, PORT_RANGE));
    if (typeof tp === "string") for (const m of isValidPortName(tp)) out.push(invalid(sub(pp, "targetPort"), tp, m));
    if (p.nodePort !== undefined && p.nodePort !== 0) {
      if (type === "ClusterIP" || type === "ExternalName")
        out.push(forbidden(sub(pp, "nodePort"), "may not be used when `type` is 'ClusterIP'"));
      else if (!isPort(p.nodePort)) out.push(invalid(sub(pp, "nodePort"), p.nodePort, PORT_RANGE));
    }
  });
  if (headless && (type === "NodePort" || type === "LoadBalancer"))
    out.push(invalid("spec.clusterIPs[0]", "None", `may not be set to 'None' for ${type} services`));
  validateLabels(spec.selector, "spec.selector", out);
}

function validateConfigKeys(o: Obj, fields: string[], out: StatusCause[]) {
  for (const f of fields) {
    if (!isObj(o[f])) continue;
    for (const k of Object.keys(o[f] as Obj)) {
      if (!CONFIG_KEY.test(k) || k.length > 253)
        out.push(
          invalid(
            `${f}[${k}]`,
            k,
            "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
          ),
        );
    }
  }
}

function validateJobSpec(spec: Obj, out: StatusCause[], selectorRequired: boolean) {
  nonNegative(spec.parallelism, "spec.parallelism", out);
  nonNegative(spec.completions, "spec.completions", out);
  nonNegative(spec.backoffLimit, "spec.backoffLimit", out);
  if (typeof spec.activeDeadlineSeconds === "number" && spec.activeDeadlineSeconds <= 0)
    out.push(invalid("spec.activeDeadlineSeconds", spec.activeDeadlineSeconds, "must be greater than 0"));
  if (spec.completionMode === "Indexed" && spec.completions == null)
    out.push(required("spec.completions", "when completion mode is Indexed"));
  validateWorkload("job", spec, out, ["OnFailure", "Never"], selectorRequired);
}

/** The data keys a Secret of a type must carry. */
const SECRET_KEYS: Record<string, string[]> = {
  "kubernetes.io/dockerconfigjson": [".dockerconfigjson"],
  "kubernetes.io/dockercfg": [".dockercfg"],
  "kubernetes.io/tls": ["tls.crt", "tls.key"],
  "kubernetes.io/basic-auth": [],
  "kubernetes.io/ssh-auth": ["ssh-privatekey"],
};

const BY_KIND: Record<string, (o: Obj, out: StatusCause[]) => void> = {
  "/Pod": (o, out) => {
    const spec = isObj(o.spec) ? o.spec : {};
    validatePodSpec(spec, "spec", out);
  },
  "/Service": validateService,
  "/ConfigMap": (o, out) => validateConfigKeys(o, ["data", "binaryData"], out),
  "/Secret": (o, out) => {
    validateConfigKeys(o, ["data", "stringData"], out);
    const data = { ...(isObj(o.data) ? o.data : {}), ...(isObj(o.stringData) ? o.stringData : {}) };
    const need = SECRET_KEYS[String(o.type ?? "Opaque")] ?? [];
    for (const k of need) if (data[k] === undefined) out.push(required(`data[${k}]`));
    if (o.type === "kubernetes.io/service-account-token") {
      const ann = isObj(o.metadata) && isObj(o.metadata.annotations) ? o.metadata.annotations : {};
      if (!ann["kubernetes.io/service-account.name"])
        out.push(required("metadata.annotations[kubernetes.io/service-account.name]"));
    }
  },
  "/PersistentVolumeClaim": (o, out) => {
    const spec = isObj(o.spec) ? o.spec : {};
    if (!Array.isArray(spec.accessModes) || spec.accessModes.length === 0)
      out.push(required("spec.accessModes", "at least 1 access mode is required"));
    const res = isObj(spec.resources) && isObj(spec.resources.requests) ? spec.resources.requests : {};
    if (res.storage === undefined) out.push(required("spec.resources[storage]"));
  },
  "/PersistentVolume": (o, out) => {
    const spec = isObj(o.spec) ? o.spec : {};
    if (!Array.isArray(spec.accessModes) || spec.accessModes.length === 0) out.push(required("spec.accessModes"));
    if (!isObj(spec.capacity) || spec.capacity.storage === undefined) out.push(required("spec.capacity"));
    const sources = PV_SOURCES.filter((k) => spec[k] !== undefined);
    if (sources.length === 0) out.push(required("spec", "must specify a volume type"));
    else if (sources.length > 1) out.push(forbidden(`spec.${sources[1]}`, "may not specify more than 1 volume type"));
    const policy = spec.persistentVolumeReclaimPolicy;
    if (policy !== undefined && !["Delete", "Recycle", "Retain"].includes(String(policy)))
      out.push(notSupported("spec.persistentVolumeReclaimPolicy", policy, ["Delete", "Recycle", "Retain"]));
  },
  "storage.k8s.io/StorageClass": (o, out) => {
    if (typeof o.provisioner !== "string" || o.provisioner === "") out.push(required("provisioner"));
    if (o.reclaimPolicy !== undefined && !["Delete", "Retain"].includes(String(o.reclaimPolicy)))
      out.push(notSupported("reclaimPolicy", o.reclaimPolicy, ["Delete", "Retain"]));
    const mode = o.volumeBindingMode;
    if (mode !== undefined && !["Immediate", "WaitForFirstConsumer"].includes(String(mode)))
      out.push(notSupported("volumeBindingMode", mode, ["Immediate", "WaitForFirstConsumer"]));
  },
  "storage.k8s.io/VolumeAttachment": (o, out) => {
    const spec = isObj(o.spec) ? o.spec : {};
    if (typeof spec.attacher !== "string" || spec.attacher === "") out.push(required("spec.attacher"));
    if (typeof spec.nodeName !== "string" || spec.nodeName === "") out.push(required("spec.nodeName"));
    const src = isObj(spec.source) ? spec.source : {};
    if (src.persistentVolumeName === undefined && src.inlineVolumeSpec === undefined)
      out.push(required("spec.source", "must specify exactly one of persistentVolumeName and inlineVolumeSpec"));
  },
  "apps/Deployment": validateDeployment,
  "apps/ReplicaSet": (o, out) => validateWorkload("replicaset", isObj(o.spec) ? o.spec : {}, out, ["Always"]),
  "apps/StatefulSet": (o, out) => {
    const spec = isObj(o.spec) ? o.spec : {};
    validateWorkload("statefulset", withClaimTemplateVolumes(spec), out, ["Always"]);
    if (
      spec.podManagementPolicy !== undefined &&
      !["OrderedReady", "Parallel"].includes(String(spec.podManagementPolicy))
    )
      out.push(notSupported("spec.podManagementPolicy", spec.podManagementPolicy, ["OrderedReady", "Parallel"]));
  },
  "apps/DaemonSet": (o, out) => validateWorkload("daemonset", isObj(o.spec) ? o.spec : {}, out, ["Always"]),
  "batch/Job": (o, out) => {
    const spec = isObj(o.spec) ? o.spec : {};
    // The Job strategy generates the selector on create (defaults.ts with a uid); without one, it is not yet required.
    validateJobSpec(spec, out, spec.manualSelector === true);
  },
  "batch/CronJob": (o, out) => {
    const spec = isObj(o.spec) ? o.spec : {};
    if (typeof spec.schedule !== "string" || spec.schedule === "") out.push(required("spec.schedule"));
    const jt = isObj(spec.jobTemplate) ? spec.jobTemplate : {};
    const js = isObj(jt.spec) ? jt.spec : {};
    const sub: StatusCause[] = [];
    validateJobSpec(js, sub, false);
    for (const c of sub) out.push({ ...c, field: c.field?.replace(/^spec\./, "spec.jobTemplate.spec.") });
  },
};

/** Causes for an object of a kind, as kube-apiserver's Go validation reports them (run on the defaulted object). */
export function validateKind(gvk: GVK, o: KubeObject): StatusCause[] {
  const out: StatusCause[] = [];
  validateMeta(gvk, isObj(o.metadata) ? o.metadata : {}, out);
  BY_KIND[`${gvk.group}/${gvk.kind}`]?.(o as Obj, out);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Updates (ValidateXUpdate): what may not change once an object exists.

const same = (a: unknown, b: unknown) => JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (isObj(v))
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .filter((k) => v[k] !== undefined && v[k] !== null)
        .map((k) => [k, canonical(v[k])]),
    );
  return v;
}
const immutable = (field: Path, value: string): StatusCause => ({
  reason: "FieldValueInvalid",
  message: `Invalid value: ${value}: field is immutable`,
  field,
});

const POD_UPDATE =
  "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";

function podSpecMutable(spec: Obj, old: Obj): Obj {
  const strip = (s: Obj, other: Obj): Obj => {
    const out: Obj = { ...s };
    for (const k of ["containers", "initContainers"]) {
      const theirs = arr(other[k]);
      out[k] = arr(s[k]).map((c, i) => ({ ...c, image: theirs[i]?.image ?? c.image }));
    }
    delete out.activeDeadlineSeconds;
    delete out.terminationGracePeriodSeconds;
    // Tolerations may only be added to: the old ones must still be there.
    const oldTol = arr(other.tolerations);
    const tol = arr(s.tolerations);
    out.tolerations = oldTol.every((t) => tol.some((x) => same(x, t))) ? oldTol : tol;
    return out;
  };
  return strip(spec, old);
}

function selectorImmutable(o: Obj, old: Obj, out: StatusCause[]) {
  const sel = isObj(o.spec) ? o.spec.selector : undefined;
  const was = isObj(old.spec) ? old.spec.selector : undefined;
  if (was !== undefined && !same(sel, was))
    out.push(immutable("spec.selector", isObj(sel) ? goLabelSelector(sel) : "null"));
}

const UPDATE_RULES: Record<string, (o: Obj, old: Obj, out: StatusCause[]) => void> = {
  "/Pod": (o, old, out) => {
    const spec = isObj(o.spec) ? o.spec : {};
    const was = isObj(old.spec) ? old.spec : {};
    if (!same(podSpecMutable(spec, was), podSpecMutable(was, was)))
      out.push({ reason: "FieldValueForbidden", message: `Forbidden: ${POD_UPDATE}`, field: "spec" });
  },
  "/Service": (o, old, out) => {
    const spec = isObj(o.spec) ? o.spec : {};
    const was = isObj(old.spec) ? old.spec : {};
    const ip = typeof spec.clusterIP === "string" ? spec.clusterIP : "";
    const oldIp = typeof was.clusterIP === "string" ? was.clusterIP : "";
    if (oldIp && ip && ip !== oldIp && spec.type !== "ExternalName" && was.type !== "ExternalName")
      out.push({
        reason: "FieldValueInvalid",
        message: `Invalid value: []string{${q(ip)}}: may not change once set`,
        field: "spec.clusterIPs[0]",
      });
  },
  "/ConfigMap": (o, old, out) => immutableData(o, old, ["data", "binaryData"], out),
  "/Secret": (o, old, out) => {
    immutableData(o, old, ["data"], out);
    if ((o.type ?? "Opaque") !== (old.type ?? "Opaque")) out.push(immutable("type", q(String(o.type ?? ""))));
  },
  "storage.k8s.io/StorageClass": (o, old, out) => {
    if (!same(o.parameters ?? {}, old.parameters ?? {}))
      out.push(forbidden("parameters", "updates to parameters are forbidden."));
    if (o.provisioner !== old.provisioner) out.push(forbidden("provisioner", "updates to provisioner are forbidden."));
    if ((o.reclaimPolicy ?? "Delete") !== (old.reclaimPolicy ?? "Delete"))
      out.push(forbidden("reclaimPolicy", "updates to reclaimPolicy are forbidden."));
    if ((o.volumeBindingMode ?? "Immediate") !== (old.volumeBindingMode ?? "Immediate"))
      out.push(immutable("volumeBindingMode", q(String(o.volumeBindingMode ?? ""))));
  },
  "apps/Deployment": selectorImmutable,
  "apps/ReplicaSet": selectorImmutable,
  "apps/DaemonSet": selectorImmutable,
  "apps/StatefulSet": (o, old, out) => {
    const allowed = [
      "replicas",
      "ordinals",
      "template",
      "updateStrategy",
      "persistentVolumeClaimRetentionPolicy",
      "minReadySeconds",
    ];
    const rest = (x: unknown) =>
      Object.fromEntries(Object.entries(isObj(x) ? x : {}).filter(([k]) => !allowed.includes(k)));
    if (!same(rest(o.spec), rest(old.spec)))
      out.push({
        reason: "FieldValueForbidden",
        message:
          "Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
        field: "spec",
      });
  },
  "batch/Job": (o, old, out) => {
    selectorImmutable(o, old, out);
    const spec = isObj(o.spec) ? o.spec : {};
    const was = isObj(old.spec) ? old.spec : {};
    if (!same(spec.template, was.template)) out.push(immutable("spec.template", "core.PodTemplateSpec{...}"));
    if (was.completionMode !== "Indexed" && !same(spec.completions, was.completions))
      out.push(immutable("spec.completions", String(spec.completions ?? "null")));
    if (!same(spec.completionMode, was.completionMode))
      out.push(immutable("spec.completionMode", q(String(spec.completionMode ?? ""))));
  },
};

function immutableData(o: Obj, old: Obj, fields: string[], out: StatusCause[]) {
  if (old.immutable !== true) return;
  if (o.immutable !== true)
    out.push({
      reason: "FieldValueForbidden",
      message: "Forbidden: field is immutable when `immutable` is set",
      field: "immutable",
    });
  for (const f of fields)
    if (!same(o[f], old[f]))
      out.push({
        reason: "FieldValueForbidden",
        message: "Forbidden: field is immutable when `immutable` is set",
        field: f,
      });
}

/** Causes an update adds to the object's own validation: immutable members, as ValidateXUpdate reports them. */
export function validateKindUpdate(gvk: GVK, o: KubeObject, old: KubeObject): StatusCause[] {
  const out: StatusCause[] = [];
  const meta = isObj(o.metadata) ? o.metadata : {};
  const oldMeta = isObj(old.metadata) ? old.metadata : {};
  if (oldMeta.uid !== undefined && meta.uid !== undefined && meta.uid !== oldMeta.uid)
    out.push(immutable("metadata.uid", q(String(meta.uid))));
  if (oldMeta.namespace !== undefined && meta.namespace !== undefined && meta.namespace !== oldMeta.namespace)
    out.push(immutable("metadata.namespace", q(String(meta.namespace))));
  UPDATE_RULES[`${gvk.group}/${gvk.kind}`]?.(o as Obj, old as Obj, out);
  return out;
}
