/**
 * StorageClass parameters of the two CSI drivers Berth provisions for, read as the drivers read
 * them (aws-ebs-csi-driver pkg/driver/controller.go, aws-efs-csi-driver pkg/driver/controller.go)
 * with their error texts; keys under `csi.storage.k8s.io/` belong to the external-provisioner and
 * are skipped. PURE.
 */

export const EBS_DRIVER = "ebs.csi.aws.com";
export const EFS_DRIVER = "efs.csi.aws.com";
export const PROVISIONERS = [EBS_DRIVER, EFS_DRIVER] as const;

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

const EBS_TYPES = ["gp2", "gp3", "io1", "io2", "sc1", "st1", "standard"];

export interface EbsParameters {
  type: string;
  iops?: number;
  iopsPerGB?: number;
  throughput?: number;
  encrypted: boolean;
  kmsKeyId?: string;
  fsType: string;
  tags: Record<string, string>;
}

const invalidArgument = (desc: string) => `rpc error: code = InvalidArgument desc = ${desc}`;

const EBS_KEYS = new Set([
  "type",
  "iops",
  "iopspergb",
  "throughput",
  "encrypted",
  "kmskeyid",
  "fstype",
  "csi.storage.k8s.io/fstype",
  "blockexpress",
  "blocksize",
  "inodesize",
  "bytesperinode",
  "numberofinodes",
  "ext4bigalloc",
  "ext4clustersize",
  "allowautoiopspergbincrease",
  "outpostarn",
]);

/** EBS's per-volume limits (gp3: 3000–16000 IOPS, 125–1000 MiB/s; io1/io2 need IOPS). */
export function parseEbsParameters(params: Record<string, string> = {}): Parsed<EbsParameters> {
  const out: EbsParameters = { type: "gp3", encrypted: false, fsType: "ext4", tags: {} };
  for (const [rawKey, value] of Object.entries(params)) {
    const key = rawKey.toLowerCase();
    if (key.startsWith("csi.storage.k8s.io/") && key !== "csi.storage.k8s.io/fstype") continue;
    if (key.startsWith("tagspecification")) {
      const eq = value.indexOf("=");
      if (eq <= 0) return { ok: false, error: invalidArgument(`Invalid tag specification: ${value}`) };
      out.tags[value.slice(0, eq)] = value.slice(eq + 1);
      continue;
    }
    if (!EBS_KEYS.has(key))
      return { ok: false, error: invalidArgument(`Invalid parameter key ${rawKey} for CreateVolume`) };
    const int = () => {
      if (!/^\d+$/.test(value)) return undefined;
      return Number(value);
    };
    switch (key) {
      case "type":
        out.type = value.toLowerCase();
        break;
      case "iops": {
        const n = int();
        if (n === undefined)
          return {
            ok: false,
            error: invalidArgument(`Could not parse invalid iops: strconv.Atoi: parsing "${value}": invalid syntax`),
          };
        out.iops = n;
        break;
      }
      case "iopspergb": {
        const n = int();
        if (n === undefined)
          return {
            ok: false,
            error: invalidArgument(
              `Could not parse invalid iopsPerGB: strconv.Atoi: parsing "${value}": invalid syntax`,
            ),
          };
        out.iopsPerGB = n;
        break;
      }
      case "throughput": {
        const n = int();
        if (n === undefined)
          return {
            ok: false,
            error: invalidArgument(
              `Could not parse invalid throughput: strconv.Atoi: parsing "${value}": invalid syntax`,
            ),
          };
        out.throughput = n;
        break;
      }
      case "encrypted":
        out.encrypted = value === "true";
        break;
      case "kmskeyid":
        out.kmsKeyId = value;
        break;
      case "fstype":
      case "csi.storage.k8s.io/fstype":
        if (!["ext2", "ext3", "ext4", "xfs"].includes(value.toLowerCase()))
          return { ok: false, error: invalidArgument(`Volume fsType ${value} not supported`) };
        out.fsType = value.toLowerCase();
        break;
    }
  }
  if (!EBS_TYPES.includes(out.type))
    return {
      ok: false,
      error: invalidArgument(`Invalid volume type ${out.type}; must be one of ${EBS_TYPES.join(", ")}`),
    };
  if ((out.type === "io1" || out.type === "io2") && out.iops === undefined && out.iopsPerGB === undefined)
    return {
      ok: false,
      error: invalidArgument(`The parameter iops or iopsPerGB must be specified for ${out.type} volumes`),
    };
  if (out.type === "gp3") {
    if (out.iops !== undefined && (out.iops < 3000 || out.iops > 16000))
      return { ok: false, error: invalidArgument(`Invalid iops ${out.iops} for gp3: must be between 3000 and 16000`) };
    if (out.throughput !== undefined && (out.throughput < 125 || out.throughput > 1000))
      return {
        ok: false,
        error: invalidArgument(`Invalid throughput ${out.throughput} for gp3: must be between 125 and 1000 MiB/s`),
      };
  } else if (out.throughput !== undefined)
    return { ok: false, error: invalidArgument(`Throughput is only supported for gp3 volumes, not ${out.type}`) };
  return { ok: true, value: out };
}

/** EBS sizes are whole GiB, at least 1 (the driver rounds a request up). */
export function ebsSizeGiB(requestBytes: number): number {
  return Math.max(1, Math.ceil(requestBytes / 2 ** 30));
}

export interface EfsParameters {
  provisioningMode: "efs-ap";
  fileSystemId: string;
  /** Octal, as a string ("700"). */
  directoryPerms: string;
  basePath: string;
  gidRangeStart: number;
  gidRangeEnd: number;
  uid?: number;
  gid?: number;
  subPathPattern: string;
  ensureUniqueDirectory: boolean;
}

const EFS_KEYS = new Set([
  "provisioningMode",
  "fileSystemId",
  "directoryPerms",
  "basePath",
  "gidRangeStart",
  "gidRangeEnd",
  "uid",
  "gid",
  "subPathPattern",
  "ensureUniqueDirectory",
  "reuseAccessPoint",
  "az",
]);

const DEFAULT_GID_MIN = 50000;
// The driver's subPathPattern variables (Go template syntax, written escaped here).
const PV_NAME_VAR = `\${.PV.name}`;
const PVC_NAME_VAR = `\${.PVC.name}`;
const PVC_NAMESPACE_VAR = `\${.PVC.namespace}`;
const DEFAULT_GID_MAX = 7000000;

export function parseEfsParameters(params: Record<string, string> = {}): Parsed<EfsParameters> {
  for (const key of Object.keys(params))
    if (!key.startsWith("csi.storage.k8s.io/") && !EFS_KEYS.has(key))
      return { ok: false, error: invalidArgument(`Invalid parameter key ${key} for CreateVolume`) };
  const mode = params.provisioningMode;
  if (mode === undefined) return { ok: false, error: invalidArgument("Missing provisioningMode parameter") };
  if (mode !== "efs-ap")
    return {
      ok: false,
      error: invalidArgument(
        `Provisioning mode ${mode} is not supported. Only Access point provisioning: 'efs-ap' is supported`,
      ),
    };
  if (!params.fileSystemId) return { ok: false, error: invalidArgument("Missing fileSystemId parameter") };
  const perms = params.directoryPerms;
  if (perms === undefined) return { ok: false, error: invalidArgument("Missing directoryPerms parameter") };
  if (!/^[0-7]{3,4}$/.test(perms))
    return { ok: false, error: invalidArgument(`Failed to parse invalid directoryPerms: ${perms}`) };
  const intParam = (name: string): number | undefined | string => {
    const v = params[name];
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v)) return `Failed to parse invalid ${name}: strconv.ParseInt: parsing "${v}": invalid syntax`;
    return Number(v);
  };
  const nums: Record<string, number | undefined> = {};
  for (const name of ["gidRangeStart", "gidRangeEnd", "uid", "gid"]) {
    const n = intParam(name);
    if (typeof n === "string") return { ok: false, error: invalidArgument(n) };
    nums[name] = n;
  }
  const start = nums.gidRangeStart ?? DEFAULT_GID_MIN;
  const end = nums.gidRangeEnd ?? DEFAULT_GID_MAX;
  if (start < 1 || end < 1) return { ok: false, error: invalidArgument("Range must be positive") };
  if (start >= end)
    return { ok: false, error: invalidArgument("Upper bound of Gid range must be greater than lower bound") };
  return {
    ok: true,
    value: {
      provisioningMode: "efs-ap",
      fileSystemId: params.fileSystemId,
      directoryPerms: perms,
      basePath: params.basePath ?? "",
      gidRangeStart: start,
      gidRangeEnd: end,
      ...(nums.uid !== undefined ? { uid: nums.uid } : {}),
      ...(nums.gid !== undefined ? { gid: nums.gid } : {}),
      subPathPattern: params.subPathPattern ?? PV_NAME_VAR,
      ensureUniqueDirectory: params.ensureUniqueDirectory !== "false",
    },
  };
}

/** The lowest gid of the range no existing access point of the file system uses; undefined when full. */
export function allocateGid(
  p: Pick<EfsParameters, "gidRangeStart" | "gidRangeEnd">,
  used: number[],
): number | undefined {
  const taken = new Set(used);
  for (let g = p.gidRangeStart; g <= p.gidRangeEnd && g < p.gidRangeStart + 1_000_000; g++) if (!taken.has(g)) return g;
  return undefined;
}

/**
 * The access point's root directory: basePath joined with subPathPattern, whose
 * `${.PV.name}`, `${.PVC.name}`, `${.PVC.namespace}` are filled in; a UUID suffix keeps it unique
 * when asked (ensureUniqueDirectory, the driver's default, only with a custom pattern).
 */
export function accessPointPath(
  p: Pick<EfsParameters, "basePath" | "subPathPattern" | "ensureUniqueDirectory">,
  names: { pv: string; pvc: string; namespace: string },
  uniqueSuffix: string,
): string {
  const sub = p.subPathPattern
    .replaceAll(PV_NAME_VAR, names.pv)
    .replaceAll(PVC_NAME_VAR, names.pvc)
    .replaceAll(PVC_NAMESPACE_VAR, names.namespace);
  const custom = p.subPathPattern !== PV_NAME_VAR;
  const leaf = custom && p.ensureUniqueDirectory ? `${sub}-${uniqueSuffix}` : sub;
  const joined = `/${p.basePath}/${leaf}`.replace(/\/+/g, "/").replace(/\/$/, "");
  return joined || "/";
}

/** An EFS volume handle: `fs-…`, `fs-…:/path`, `fs-…::fsap-…` (the driver's forms). */
export function parseEfsHandle(handle: string): { fileSystemId: string; path?: string; accessPointId?: string } {
  const [fileSystemId = "", path = "", accessPointId = ""] = handle.split(":");
  return {
    fileSystemId,
    ...(path ? { path } : {}),
    ...(accessPointId ? { accessPointId } : {}),
  };
}
