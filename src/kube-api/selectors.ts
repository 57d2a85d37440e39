/**
 * List filters: label selectors in their string syntax (`a=b,c!=d,e in (f,g),h notin (i),j,!k`,
 * plus `>`/`<` on integers) and field selectors (`metadata.name=x,status.phase!=Running`) with the
 * fields each kind supports, as kube-apiserver parses and matches them. PURE.
 */
import { kubeErrors } from "../kube/errors.js";
import type { KubeObject, ResourceType } from "../kube/types.js";

export type LabelRequirement =
  | { key: string; op: "=" | "!="; value: string }
  | { key: string; op: "in" | "notin"; values: string[] }
  | { key: string; op: "exists" | "!" }
  | { key: string; op: ">" | "<"; value: number };

const KEY =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

const bad = (msg: string) => kubeErrors.badRequest(`unable to parse requirement: ${msg}`);

function checkKey(key: string): string {
  if (!KEY.test(key) || key.length > 316)
    throw bad(
      `invalid label key "${key}": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`,
    );
  return key;
}
function checkValue(v: string): string {
  if (!VALUE.test(v) || v.length > 63)
    throw bad(
      `invalid label value: "${v}": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`,
    );
  return v;
}

/** Splits on commas outside parentheses. */
function terms(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = "";
  for (const ch of s) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (ch === "," && depth === 0) {
      out.push(cur);
      cur = "";
    } else cur += ch;
  }
  if (depth !== 0) throw bad(`unbalanced parentheses in "${s}"`);
  out.push(cur);
  return out.map((t) => t.trim());
}

/** Parses a label selector string; an empty string selects everything. Throws 400 BadRequest. */
export function parseLabelSelector(s: string | null | undefined): LabelRequirement[] {
  if (!s?.trim()) return [];
  return terms(s).map((t): LabelRequirement => {
    if (t === "") throw bad("found '', expected: !, identifier, or 'end of string'");
    let m = /^!\s*(\S+)$/.exec(t);
    if (m) return { key: checkKey(m[1]), op: "!" };
    m = /^(\S+?)\s+(in|notin)\s*\(([^)]*)\)$/.exec(t);
    if (m) {
      const values = m[3]
        .split(",")
        .map((v) => v.trim())
        .map(checkValue);
      return { key: checkKey(m[1]), op: m[2] as "in" | "notin", values };
    }
    m = /^([^=!<>\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(t);
    if (m) return { key: checkKey(m[1]), op: m[2] === "!=" ? "!=" : "=", value: checkValue(m[3]) };
    m = /^([^=!<>\s]+)\s*([<>])\s*(\S+)$/.exec(t);
    if (m) {
      const n = Number(m[3]);
      if (!Number.isInteger(n)) throw bad(`for 'Gt', 'Lt' operators, the value must be an integer`);
      return { key: checkKey(m[1]), op: m[2] as ">" | "<", value: n };
    }
    if (/^[^=!<>\s()]+$/.test(t)) return { key: checkKey(t), op: "exists" };
    throw bad(`found '${t}', expected: in, notin, =, ==, !=, gt, lt`);
  });
}

export function matchesLabels(reqs: LabelRequirement[], labels: Record<string, string> = {}): boolean {
  for (const r of reqs) {
    const has = Object.hasOwn(labels, r.key);
    const v = labels[r.key];
    switch (r.op) {
      case "=":
        if (!has || v !== r.value) return false;
        break;
      case "!=":
        if (has && v === r.value) return false;
        break;
      case "in":
        if (!has || !r.values.includes(v)) return false;
        break;
      case "notin":
        if (has && r.values.includes(v)) return false;
        break;
      case "exists":
        if (!has) return false;
        break;
      case "!":
        if (has) return false;
        break;
      case ">":
      case "<": {
        const n = Number(v);
        if (!has || !Number.isInteger(n)) return false;
        if (r.op === ">" ? !(n > r.value) : !(n < r.value)) return false;
      }
    }
  }
  return true;
}

export interface FieldRequirement {
  field: string;
  op: "=" | "!=";
  value: string;
}

/** The fields each kind can be selected by, beyond metadata.name and metadata.namespace (kube-apiserver's field label conversions). */
const FIELDS: Record<string, string[]> = {
  "/pods": [
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.schedulerName",
    "spec.serviceAccountName",
    "spec.hostNetwork",
    "status.phase",
    "status.podIP",
    "status.nominatedNodeName",
  ],
  "/events": [
    "involvedObject.kind",
    "involvedObject.namespace",
    "involvedObject.name",
    "involvedObject.uid",
    "involvedObject.apiVersion",
    "involvedObject.resourceVersion",
    "involvedObject.fieldPath",
    "reason",
    "reportingComponent",
    "source",
    "type",
  ],
  "/secrets": ["type"],
  "/nodes": ["spec.unschedulable"],
  "/namespaces": ["status.phase"],
  "/services": ["spec.clusterIP", "spec.type"],
  "apps/replicasets": ["status.replicas"],
  "batch/jobs": ["status.successful"],
  "certificates.k8s.io/certificatesigningrequests": ["spec.signerName"],
};

export const selectableFields = (type: Pick<ResourceType, "group" | "resource">) => [
  "metadata.name",
  "metadata.namespace",
  ...(FIELDS[`${type.group}/${type.resource}`] ?? []),
];

/** Parses a field selector for a kind; an unknown field is a 400 as kube-apiserver's. */
export function parseFieldSelector(
  s: string | null | undefined,
  type: Pick<ResourceType, "group" | "resource" | "version">,
): FieldRequirement[] {
  if (!s?.trim()) return [];
  const known = selectableFields(type);
  return s.split(",").map((t) => {
    const m = /^\s*([^=!\s]+)\s*(==|=|!=)\s*([^,]*?)\s*$/.exec(t);
    if (!m) throw kubeErrors.badRequest(`invalid selector: '${s}'; can't understand '${t}'`);
    const field = m[1];
    if (!known.includes(field))
      throw kubeErrors.badRequest(
        FIELDS[`${type.group}/${type.resource}`]
          ? `field label not supported: ${field}`
          : `"${field}" is not a known field selector: only "metadata.name", "metadata.namespace"`,
      );
    return { field, op: m[2] === "!=" ? "!=" : "=", value: m[3] };
  });
}

/** The string value of a selectable field of an object ("" when unset; booleans as "true"/"false"). */
export function fieldValue(obj: KubeObject, field: string): string {
  if (field === "source") {
    const src = (obj as { source?: { component?: string } }).source;
    return src?.component ?? "";
  }
  let cur: unknown = obj;
  for (const part of field.split(".")) {
    if (cur === null || typeof cur !== "object") return "";
    cur = (cur as Record<string, unknown>)[part];
  }
  if (cur === undefined || cur === null) {
    if (field === "spec.hostNetwork" || field === "spec.unschedulable") return "false";
    return "";
  }
  return String(cur);
}

export function matchesFields(reqs: FieldRequirement[], obj: KubeObject): boolean {
  for (const r of reqs) {
    const v = fieldValue(obj, r.field);
    if (r.op === "=" ? v !== r.value : v === r.value) return false;
  }
  return true;
}

/** Both selectors of a list or watch request, ready to match objects. */
export interface Filter {
  labels: LabelRequirement[];
  fields: FieldRequirement[];
}

export function parseFilter(q: URLSearchParams, type: ResourceType): Filter {
  return {
    labels: parseLabelSelector(q.get("labelSelector")),
    fields: parseFieldSelector(q.get("fieldSelector"), type),
  };
}

export const matchesFilter = (f: Filter, obj: KubeObject) =>
  matchesLabels(f.labels, obj.metadata.labels) && matchesFields(f.fields, obj);

/** A label selector object (matchLabels/matchExpressions) as the string syntax (Scale's status.selector). */
export function selectorString(
  sel:
    | {
        matchLabels?: Record<string, string>;
        matchExpressions?: { key: string; operator: string; values?: string[] }[];
      }
    | undefined,
): string {
  if (!sel) return "";
  const parts: string[] = [];
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) parts.push(`${k}=${v}`);
  for (const e of sel.matchExpressions ?? []) {
    const vals = [...(e.values ?? [])].sort().join(",");
    if (e.operator === "In") parts.push(`${e.key} in (${vals})`);
    else if (e.operator === "NotIn") parts.push(`${e.key} notin (${vals})`);
    else if (e.operator === "Exists") parts.push(e.key);
    else if (e.operator === "DoesNotExist") parts.push(`!${e.key}`);
  }
  return parts.sort().join(",");
}
