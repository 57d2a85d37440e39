/**
 * Request bodies in Kubernetes' protobuf encoding (`application/vnd.kubernetes.protobuf`), which
 * typed clients send (kubectl create <generator>, auth can-i, drain, create token): the `k8s\0`
 * magic, a runtime.Unknown envelope naming apiVersion/kind, and the object's message. Decoded with
 * protobufjs from the schema vendored out of Debian's kubectl (proto/kube-protos.json.gz, see
 * scripts/extract-kube-protos.ts) into the object's JSON form: Go's inlined structs (a Volume's
 * VolumeSource, a Probe's handler) are found from the OpenAPI document, and the well-known
 * apimachinery types (Time, Quantity, IntOrString, RawExtension, FieldsV1) take their JSON shapes.
 * Responses stay JSON, which every client accepts.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import protobuf from "protobufjs";
import { kubeErrors } from "../kube/errors.js";
import { openApiIndex } from "./openapi.js";

export const KUBE_PROTOBUF = "application/vnd.kubernetes.protobuf";
const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

let root: protobuf.Root | undefined;
export function kubeProtoRoot(): protobuf.Root {
  if (!root) {
    const here = dirname(fileURLToPath(import.meta.url));
    const file = "kube-protos.json.gz";
    const candidates = [join(here, "proto", file), join(here, "../../../src/kube-api/proto", file)];
    const found = candidates.find((c) => existsSync(c));
    if (!found) throw new Error(`cannot find ${file} (looked in ${candidates.join(", ")})`);
    root = protobuf.Root.fromJSON(JSON.parse(gunzipSync(readFileSync(found)).toString("utf8")));
    root.resolveAll();
  }
  return root;
}

/** The protobuf package of an API group: `apps` → k8s.io.api.apps, `rbac.authorization.k8s.io` → k8s.io.api.rbac. */
export function packageOf(apiVersion: string): { pkg: string; version: string } {
  const slash = apiVersion.indexOf("/");
  if (slash < 0) return { pkg: "k8s.io.api.core", version: apiVersion };
  const group = apiVersion.slice(0, slash);
  const version = apiVersion.slice(slash + 1);
  if (group === "meta.k8s.io") return { pkg: "k8s.io.apimachinery.pkg.apis.meta", version };
  return { pkg: `k8s.io.api.${group.split(".")[0]}`, version };
}

const META_KINDS = new Set([
  "DeleteOptions",
  "ListOptions",
  "GetOptions",
  "CreateOptions",
  "UpdateOptions",
  "PatchOptions",
  "Status",
]);
/** Kinds newer than the vendored schema whose body is only metadata (their status is the server's). */
const METADATA_ONLY = new Set(["authentication.k8s.io/SelfSubjectReview"]);

/** The message type of a kind: its own version, else another version of its group (same field numbers). */
export function messageTypeOf(apiVersion: string, kind: string): protobuf.Type | undefined {
  const r = kubeProtoRoot();
  const look = (name: string) => {
    try {
      return r.lookupType(name);
    } catch {
      return undefined;
    }
  };
  if (META_KINDS.has(kind)) return look(`k8s.io.apimachinery.pkg.apis.meta.v1.${kind}`);
  const { pkg, version } = packageOf(apiVersion);
  const exact = look(`${pkg}.${version}.${kind}`);
  if (exact) return exact;
  for (const v of ["v1", "v1beta2", "v1beta1", "v1alpha1", "v2beta2", "v2beta1"]) {
    const t = look(`${pkg}.${v}.${kind}`);
    if (t) return t;
  }
  return undefined;
}

// biome-ignore lint/suspicious/noExplicitAny: decoded messages are walked loosely
type Any = any;

const num = (v: Any): number =>
  typeof v === "number" ? v : typeof v?.toNumber === "function" ? v.toNumber() : Number(v);

function rfc3339(seconds: number, nanos = 0, micro = false): string {
  const iso = new Date(seconds * 1000).toISOString().slice(0, 19);
  return micro ? `${iso}.${String(Math.floor(nanos / 1000)).padStart(6, "0")}Z` : `${iso}Z`;
}

function goDuration(ns: number): string {
  if (ns === 0) return "0s";
  const h = Math.floor(ns / 3.6e12);
  const m = Math.floor((ns % 3.6e12) / 6e10);
  const s = (ns % 6e10) / 1e9;
  return `${h ? `${h}h` : ""}${h || m ? `${m}m` : ""}${s}s`;
}

/** io.k8s.api.core.v1.Volume for .k8s.io.api.core.v1.Volume: the OpenAPI definition of a message. */
const definitionOf = (t: protobuf.Type) => t.fullName.replace(/^\.k8s\.io\./, "io.k8s.");

function definitionProperties(t: protobuf.Type): Set<string> | undefined {
  const defs = (openApiIndex().document.definitions ?? {}) as Record<string, { properties?: Record<string, unknown> }>;
  const d = defs[definitionOf(t)];
  return d?.properties ? new Set(Object.keys(d.properties)) : undefined;
}

function special(t: protobuf.Type, m: Any): { v: unknown } | undefined {
  switch (t.fullName) {
    case ".k8s.io.apimachinery.pkg.apis.meta.v1.Time":
      return { v: num(m.seconds ?? 0) > 0 ? rfc3339(num(m.seconds)) : undefined };
    case ".k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime":
      return { v: num(m.seconds ?? 0) > 0 ? rfc3339(num(m.seconds), num(m.nanos ?? 0), true) : undefined };
    case ".k8s.io.apimachinery.pkg.apis.meta.v1.Duration":
      return { v: goDuration(num(m.duration ?? 0)) };
    case ".k8s.io.apimachinery.pkg.api.resource.Quantity":
      return { v: m.string ?? "0" };
    case ".k8s.io.apimachinery.pkg.util.intstr.IntOrString":
      return { v: num(m.type ?? 0) === 1 ? (m.strVal ?? "") : num(m.intVal ?? 0) };
    case ".k8s.io.apimachinery.pkg.runtime.RawExtension":
    case ".k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1": {
      const raw: Uint8Array | undefined = m.raw ?? m.Raw;
      if (!raw?.length) return { v: {} };
      try {
        return { v: JSON.parse(Buffer.from(raw).toString("utf8")) };
      } catch {
        return { v: Buffer.from(raw).toString("utf8") };
      }
    }
  }
  // []string wrappers (ExtraValue, Verbs, …): a message whose only field is `repeated string items`.
  const fields = Object.values(t.fields);
  if (fields.length === 1 && fields[0].name === "items" && fields[0].repeated && fields[0].type === "string")
    return { v: [...(m.items ?? [])] };
  return undefined;
}

function scalar(f: protobuf.Field, v: Any): unknown {
  if (f.type === "bytes") return Buffer.from(v as Uint8Array).toString("base64");
  if (
    ["int64", "uint64", "sint64", "fixed64", "sfixed64", "int32", "uint32", "sint32", "double", "float"].includes(
      f.type,
    )
  )
    return num(v);
  return v;
}

/**
 * Go's protobuf writes every non-pointer field, zero or not, and its JSON leaves zero values out
 * (omitempty): so zero values are dropped — except for the pointer fields where an explicit zero
 * or false means something (replicas: 0, runAsUser: 0, suspend: false, …).
 */
const ZERO_MEANS_SOMETHING = new Set([
  "replicas",
  "parallelism",
  "completions",
  "backoffLimit",
  "activeDeadlineSeconds",
  "terminationGracePeriodSeconds",
  "ttlSecondsAfterFinished",
  "revisionHistoryLimit",
  "progressDeadlineSeconds",
  "successfulJobsHistoryLimit",
  "failedJobsHistoryLimit",
  "startingDeadlineSeconds",
  "gracePeriodSeconds",
  "suspend",
  "automountServiceAccountToken",
  "readOnlyRootFilesystem",
  "runAsNonRoot",
  "privileged",
  "allowPrivilegeEscalation",
  "runAsUser",
  "runAsGroup",
  "fsGroup",
  "defaultMode",
  "mode",
  "optional",
  "immutable",
  "enableServiceLinks",
  "shareProcessNamespace",
  "hostUsers",
  "allowed",
  "denied",
]);
/** Message fields whose presence, even empty, means something (`emptyDir: {}`). */
const EMPTY_MEANS_SOMETHING = new Set(["emptyDir", "spec", "status", "resourceAttributes", "nonResourceAttributes"]);

const isZero = (v: unknown) =>
  v === undefined ||
  v === "" ||
  v === 0 ||
  v === false ||
  (v !== null && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 0);

/** A decoded message as the object's JSON. */
export function messageToJson(t: protobuf.Type, m: Any): Any {
  const s = special(t, m);
  if (s) return s.v;
  const props = definitionProperties(t);
  const out: Record<string, unknown> = {};
  for (const f of Object.values(t.fields)) {
    if (!Object.hasOwn(m, f.name)) continue;
    const v = m[f.name];
    const rt = f.resolvedType instanceof protobuf.Type ? f.resolvedType : undefined;
    const conv = (x: Any) => (rt ? messageToJson(rt, x) : scalar(f, x));
    if (f.map) {
      out[f.name] = Object.fromEntries(Object.entries(v as object).map(([k, x]) => [k, conv(x)]));
    } else if (f.repeated) {
      if ((v as unknown[]).length) out[f.name] = (v as unknown[]).map(conv);
    } else if (rt && props && !props.has(f.name) && !special(rt, v)) {
      // An embedded Go struct (json:",inline"): its fields belong to the parent in JSON.
      Object.assign(out, messageToJson(rt, v));
    } else out[f.name] = conv(v);
    const x = out[f.name];
    if (f.map && isZero(x)) delete out[f.name];
    else if (f.name in out && isZero(x) && !f.repeated) {
      const keep = typeof x === "object" ? EMPTY_MEANS_SOMETHING.has(f.name) : ZERO_MEANS_SOMETHING.has(f.name);
      if (!keep) delete out[f.name];
    }
  }
  return out;
}

/** Decodes a protobuf request body into the object it carries (apiVersion and kind from the envelope). */
export function decodeKubeProtobuf(body: Buffer): Record<string, unknown> {
  if (body.length < 4 || !body.subarray(0, 4).equals(MAGIC))
    throw kubeErrors.badRequest("the body of the request was in an unknown format: protobuf without the k8s envelope");
  const Unknown = kubeProtoRoot().lookupType("k8s.io.apimachinery.pkg.runtime.Unknown");
  let env: Any;
  try {
    env = Unknown.decode(body.subarray(4));
  } catch (e) {
    throw kubeErrors.badRequest(`the body of the request could not be decoded: ${(e as Error).message}`);
  }
  const apiVersion: string = env.typeMeta?.apiVersion ?? "";
  const kind: string = env.typeMeta?.kind ?? "";
  const raw: Uint8Array = env.raw ?? new Uint8Array();
  const group = apiVersion.includes("/") ? apiVersion.slice(0, apiVersion.indexOf("/")) : "";
  const type = METADATA_ONLY.has(`${group}/${kind}`)
    ? kubeProtoRoot().lookupType("k8s.io.api.authentication.v1.TokenReview")
    : messageTypeOf(apiVersion, kind);
  if (!type)
    throw kubeErrors.unsupportedMediaType(
      `the body of the request was in protobuf for ${kind} ${apiVersion}, which Berth cannot decode: send it as application/json`,
    );
  let m: Any;
  try {
    m = type.decode(raw);
  } catch (e) {
    throw kubeErrors.badRequest(`the body of the request could not be decoded as ${kind}: ${(e as Error).message}`);
  }
  const obj = messageToJson(type, m) as Record<string, unknown>;
  if (METADATA_ONLY.has(`${group}/${kind}`)) return { apiVersion, kind, metadata: obj.metadata ?? {} };
  return { ...(apiVersion ? { apiVersion } : {}), ...(kind ? { kind } : {}), ...obj };
}
