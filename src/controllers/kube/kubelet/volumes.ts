/**
 * Pod volumes on the host: the one module that knows the kubelet's on-disk layout
 * (<dataDir>/kubelet/pods/<uid>/volumes/<name>). emptyDir directories, configMap / secret /
 * projected / downwardAPI files (rewritten when their source changes), hostPath binds.
 */
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { dirname, join, relative } from "node:path";
import type { ClaimMount } from "../storage/mounts.js";
import { ConfigError, fieldValue, type PreparedVolume, resourceValue } from "./spec.js";
import type { DownwardApiFile, KeyToPath, Pod, PodSpec, Volume } from "./types.js";

export const SERVICE_ACCOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount";
const TOKEN_VOLUME = "kube-api-access-berth";
const DEFAULT_TOKEN_SECONDS = 3607;

export const podDir = (dataDir: string, uid: string) => join(dataDir, "kubelet", "pods", uid);
export const podsRoot = (dataDir: string) => join(dataDir, "kubelet", "pods");

/** The service account a pod runs as. PURE. */
export const serviceAccountOf = (pod: Pod) => pod.spec.serviceAccountName ?? pod.spec.serviceAccount ?? "default";

/**
 * The pod with the service account volume the ServiceAccount admission plugin adds (token,
 * ca.crt, namespace at /var/run/secrets/kubernetes.io/serviceaccount), unless the pod opts out —
 * or, when the pod says nothing, its service account does (`saAutomount` false) — or the pod
 * already mounts something there. PURE.
 */
export function withServiceAccountVolume(spec: PodSpec, saAutomount?: boolean): PodSpec {
  if ((spec.automountServiceAccountToken ?? saAutomount) === false) return spec;
  const all = [...spec.containers, ...(spec.initContainers ?? [])];
  const already =
    (spec.volumes ?? []).some((v) => v.projected?.sources?.some((s) => s.serviceAccountToken)) ||
    all.some((c) => c.volumeMounts?.some((m) => m.mountPath === SERVICE_ACCOUNT_PATH));
  if (already) return spec;
  const mount = { name: TOKEN_VOLUME, mountPath: SERVICE_ACCOUNT_PATH, readOnly: true };
  const addMount = (c: PodSpec["containers"][number]) => ({ ...c, volumeMounts: [...(c.volumeMounts ?? []), mount] });
  return {
    ...spec,
    volumes: [
      ...(spec.volumes ?? []),
      {
        name: TOKEN_VOLUME,
        projected: {
          defaultMode: 0o644,
          sources: [
            { serviceAccountToken: { expirationSeconds: DEFAULT_TOKEN_SECONDS, path: "token" } },
            // Optional here: without a root CA publisher (or a cluster CA) the token still mounts.
            { configMap: { name: "kube-root-ca.crt", items: [{ key: "ca.crt", path: "ca.crt" }], optional: true } },
            { downwardAPI: { items: [{ path: "namespace", fieldRef: { fieldPath: "metadata.namespace" } }] } },
          ],
        },
      },
    ],
    containers: spec.containers.map(addMount),
    initContainers: spec.initContainers?.map(addMount),
  };
}

export interface VolumeSources {
  /** ConfigMap data (data and decoded binaryData) in the pod's namespace. */
  configMap(name: string): Record<string, Buffer> | undefined;
  /** Secret data, decoded. */
  secret(name: string): Record<string, Buffer> | undefined;
  /** A token for the pod's service account (TokenRequest); undefined when none can be had. */
  token(audience: string | undefined, expirationSeconds: number): Promise<string | undefined>;
  /** The cluster CA, when kube-root-ca.crt is missing. */
  caPem?: string;
  podIP: string;
  hostIP: string;
  nodeAllocatable: Record<string, string | number>;
  /** A claim's volume on this node (controllers/kube/storage/mounts.ts), or why it cannot be mounted yet. */
  claim?(claimName: string, volumeName: string, readOnly: boolean): Promise<ClaimMount>;
}

/** A volume not mountable yet (claim unbound, volume attached elsewhere): the message is kube's whole FailedMount text. */
export class VolumeNotReady extends ConfigError {}

type Files = Map<string, { data: Buffer; mode: number }>;

function keyed(
  kind: "configmap" | "secret",
  name: string,
  data: Record<string, Buffer> | undefined,
  items: KeyToPath[] | undefined,
  mode: number,
  optional: boolean | undefined,
  files: Files,
) {
  if (!data) {
    if (optional) return;
    throw new ConfigError(`${kind} "${name}" not found`);
  }
  if (items?.length) {
    for (const it of items) {
      const v = data[it.key];
      if (v === undefined) {
        if (optional) continue;
        throw new ConfigError(`configmap references non-existent config key: ${it.key}`);
      }
      files.set(it.path, { data: v, mode: it.mode ?? mode });
    }
  } else for (const [k, v] of Object.entries(data)) files.set(k, { data: v, mode });
}

function downward(pod: Pod, items: DownwardApiFile[] | undefined, mode: number, src: VolumeSources, files: Files) {
  for (const it of items ?? []) {
    const value = it.fieldRef
      ? fieldValue(pod, it.fieldRef.fieldPath, src)
      : it.resourceFieldRef
        ? resourceValue(pod, it.resourceFieldRef, it.resourceFieldRef.containerName ?? "", src.nodeAllocatable)
        : "";
    files.set(it.path, { data: Buffer.from(value), mode: it.mode ?? mode });
  }
}

/** Writes files into dir, changing only what differs and removing what is no longer there. */
function sync(dir: string, files: Files, keep: Set<string> = new Set()) {
  mkdirSync(dir, { recursive: true });
  for (const [path, f] of files) {
    const target = join(dir, path);
    if (relative(dir, target).startsWith("..")) throw new ConfigError(`invalid path ${path}`);
    mkdirSync(dirname(target), { recursive: true });
    let same = false;
    try {
      same = readFileSync(target).equals(f.data) && (statSync(target).mode & 0o777) === f.mode;
    } catch {
      same = false;
    }
    if (same) continue;
    const tmp = `${target}.berth-tmp`;
    writeFileSync(tmp, f.data, { mode: f.mode });
    chmodSync(tmp, f.mode);
    renameSync(tmp, target);
  }
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, entry.name);
      const rel = relative(dir, p);
      if (entry.isDirectory()) walk(p);
      else if (!files.has(rel) && !keep.has(rel)) rmSync(p, { force: true });
    }
  };
  walk(dir);
}

/** Makes every volume of the pod ready on the host; returns each one's host path. Idempotent, so it also updates. */
export async function preparePodVolumes(
  pod: Pod,
  dataDir: string,
  src: VolumeSources,
): Promise<Map<string, { hostPath: string; readOnly: boolean }>> {
  const root = join(podDir(dataDir, pod.metadata.uid ?? ""), "volumes");
  const out = new Map<string, PreparedVolume>();
  for (const v of pod.spec.volumes ?? []) out.set(v.name, await prepareVolume(pod, v, root, src));
  return out;
}

async function prepareVolume(pod: Pod, v: Volume, root: string, src: VolumeSources): Promise<PreparedVolume> {
  const dir = join(root, v.name);
  if (v.persistentVolumeClaim) {
    const m = src.claim
      ? await src.claim(v.persistentVolumeClaim.claimName, v.name, v.persistentVolumeClaim.readOnly === true)
      : { waiting: `persistentVolumeClaim volumes cannot be mounted here (volume "${v.name}")` };
    if ("waiting" in m) throw new VolumeNotReady(m.waiting);
    return m;
  }
  if (v.hostPath) {
    const type = v.hostPath.type ?? "";
    if (type === "DirectoryOrCreate") mkdirSync(v.hostPath.path, { recursive: true });
    else if (type === "FileOrCreate" && !existsSync(v.hostPath.path)) {
      mkdirSync(dirname(v.hostPath.path), { recursive: true });
      writeFileSync(v.hostPath.path, "");
    } else if ((type === "Directory" || type === "File") && !existsSync(v.hostPath.path))
      throw new ConfigError(`hostPath type check failed: ${v.hostPath.path} is not a ${type.toLowerCase()}`);
    return { hostPath: v.hostPath.path, readOnly: false };
  }
  if (v.configMap) {
    const files: Files = new Map();
    const name = v.configMap.name ?? "";
    keyed(
      "configmap",
      name,
      src.configMap(name),
      v.configMap.items,
      v.configMap.defaultMode ?? 0o644,
      v.configMap.optional,
      files,
    );
    sync(dir, files);
    return { hostPath: dir, readOnly: true };
  }
  if (v.secret) {
    const files: Files = new Map();
    const name = v.secret.secretName ?? "";
    keyed("secret", name, src.secret(name), v.secret.items, v.secret.defaultMode ?? 0o644, v.secret.optional, files);
    sync(dir, files);
    return { hostPath: dir, readOnly: true };
  }
  if (v.downwardAPI) {
    const files: Files = new Map();
    downward(pod, v.downwardAPI.items, v.downwardAPI.defaultMode ?? 0o644, src, files);
    sync(dir, files);
    return { hostPath: dir, readOnly: true };
  }
  if (v.projected) {
    const files: Files = new Map();
    const keep = new Set<string>();
    const mode = v.projected.defaultMode ?? 0o644;
    for (const s of v.projected.sources ?? []) {
      if (s.configMap) {
        const name = s.configMap.name ?? "";
        let data = src.configMap(name);
        if (!data && name === "kube-root-ca.crt" && src.caPem) data = { "ca.crt": Buffer.from(src.caPem) };
        keyed("configmap", name, data, s.configMap.items, mode, s.configMap.optional, files);
      }
      if (s.secret) {
        const name = s.secret.name ?? "";
        keyed("secret", name, src.secret(name), s.secret.items, mode, s.secret.optional, files);
      }
      if (s.downwardAPI) downward(pod, s.downwardAPI.items, mode, src, files);
      if (s.serviceAccountToken) {
        const exp = s.serviceAccountToken.expirationSeconds ?? DEFAULT_TOKEN_SECONDS;
        const path = s.serviceAccountToken.path;
        const target = join(dir, path);
        // kubelet renews a projected token once 80% of its lifetime has passed.
        const fresh = existsSync(target) && Date.now() - statSync(target).mtimeMs < exp * 800;
        if (fresh) {
          keep.add(path);
          continue;
        }
        const token = await src.token(s.serviceAccountToken.audience, exp);
        files.set(path, { data: Buffer.from(token ?? ""), mode });
      }
    }
    sync(dir, files, keep);
    return { hostPath: dir, readOnly: true };
  }
  // emptyDir (and anything Berth does not know: an empty directory the pod can write).
  if (!existsSync(dir)) {
    mkdirSync(dir, { recursive: true });
    chmodSync(dir, 0o777);
  }
  return { hostPath: dir, readOnly: false };
}

/** Removes everything the pod had on the host (emptyDirs with it). */
export function removePodDir(dataDir: string, uid: string) {
  rmSync(podDir(dataDir, uid), { recursive: true, force: true });
}

/** Pod uids with a directory on the host (to clean the ones no pod has any more). */
export function podDirs(dataDir: string): string[] {
  try {
    return readdirSync(podsRoot(dataDir));
  } catch {
    return [];
  }
}
