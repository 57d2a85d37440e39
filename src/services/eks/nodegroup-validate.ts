/**
 * EKS's rules for a managed node group's input. PURE: each check returns the
 * InvalidParameterException message, or undefined.
 */
import { instanceType } from "../../controllers/kube/nodegroups/instance-types.js";
import type {
  AMITypes,
  NodegroupScalingConfig,
  NodegroupUpdateConfig,
  Taint,
} from "../../protocol/generated/types/eks.js";
import type { NodegroupScaling } from "../../store/schema/eks-nodegroups.js";

/** EKS's defaults: minSize 1, maxSize 2, desiredSize 2. */
export const DEFAULT_SCALING: NodegroupScaling = { minSize: 1, maxSize: 2, desiredSize: 2 };
export const DEFAULT_INSTANCE_TYPE = "t3.medium";
export const DEFAULT_DISK_SIZE = 20;
/** EKS's quotas: nodes per managed node group, node groups per cluster, taints per node group. */
export const MAX_NODES = 1000;
export const MAX_NODEGROUPS = 30;
export const MAX_TAINTS = 50;

const NAME_RE = /^[0-9A-Za-z][A-Za-z0-9\-_]*$/;

export function checkNodegroupName(name: string): string | undefined {
  if (name.length < 1 || name.length > 63 || !NAME_RE.test(name))
    return `The node group name ${JSON.stringify(name)} is invalid: it must be 1 to 63 characters, start with a letter or digit and contain only letters, digits, hyphens and underscores.`;
  return undefined;
}

/** The scaling config with EKS's defaults filled in from `base` (the current one, or the defaults). */
export function mergeScaling(base: NodegroupScaling, input: NodegroupScalingConfig | undefined): NodegroupScaling {
  return {
    minSize: input?.minSize ?? base.minSize,
    maxSize: input?.maxSize ?? base.maxSize,
    desiredSize: input?.desiredSize ?? base.desiredSize,
  };
}

/** min ≤ desired ≤ max, max ≥ 1, within the nodes-per-node-group quota (EKS's messages). */
export function checkScaling(s: NodegroupScaling): string | undefined {
  if (s.minSize < 0) return "minSize can't be less than 0";
  if (s.maxSize < 1) return "maxSize can't be less than 1";
  if (s.desiredSize < 0) return "desiredSize can't be less than 0";
  if (s.minSize > s.maxSize) return "minSize can't be greater than maxSize";
  if (s.desiredSize > s.maxSize) return "desiredSize can't be greater than maxSize";
  if (s.minSize > s.desiredSize) return "minSize can't be greater than desiredSize";
  if (s.maxSize > MAX_NODES)
    return `maxSize can't be greater than ${MAX_NODES} (the nodes per managed node group quota)`;
  return undefined;
}

export function checkUpdateConfig(u: NodegroupUpdateConfig, maxSize: number): string | undefined {
  if (u.maxUnavailable !== undefined && u.maxUnavailablePercentage !== undefined)
    return "You can specify either maxUnavailable or maxUnavailablePercentage in updateConfig, not both.";
  if (u.maxUnavailable !== undefined && (u.maxUnavailable < 1 || u.maxUnavailable > Math.min(100, maxSize)))
    return "max-unavailable must be within the range 1 and max size of the node group";
  if (u.maxUnavailablePercentage !== undefined && (u.maxUnavailablePercentage < 1 || u.maxUnavailablePercentage > 100))
    return "maxUnavailablePercentage must be within the range 1 and 100";
  return undefined;
}

const isArm = (ami: AMITypes) => ami.includes("ARM_64");
const isWindows = (ami: AMITypes) => ami.startsWith("WINDOWS_");

/** The AMI type a node group gets by default: AL2023 (ARM for Graviton types) from 1.30 on, AL2 before. */
export function defaultAmiType(instanceTypes: string[], version: string): AMITypes {
  const arm = instanceTypes.some((t) => instanceType(t)?.arch === "arm64");
  const minor = Number(version.split(".")[1] ?? 0);
  if (minor >= 30) return arm ? "AL2023_ARM_64_STANDARD" : "AL2023_x86_64_STANDARD";
  return arm ? "AL2_ARM_64" : "AL2_x86_64";
}

export function checkInstanceTypes(types: string[], ami: AMITypes): string | undefined {
  if (types.length === 0) return "instanceTypes can't be empty";
  if (types.length > 20) return "You can specify at most 20 instance types.";
  const unknown = types.find((t) => !instanceType(t));
  if (unknown !== undefined)
    return `Instance type ${unknown} is not known to Berth: use t3, t3a, t4g, m5, m5a, m6i, m6a, m6g, m7i, m7a, m7g, c5, c5a, c6i, c6a, c6g, c7i, c7g, r5, r5a, r6i, r6g, r7i or r7g sizes.`;
  if (isWindows(ami)) return `Berth's node groups run Linux nodes only; amiType ${ami} is not supported.`;
  if (ami === "CUSTOM") return "amiType CUSTOM needs a launch template, which Berth's node groups do not support.";
  const wrong = types.find((t) => (instanceType(t)?.arch === "arm64") !== isArm(ami));
  if (wrong !== undefined)
    return `The instance type ${wrong} does not match the architecture of amiType ${ami}; choose an ${isArm(ami) ? "ARM (Graviton)" : "x86_64"} instance type or another amiType.`;
  return undefined;
}

/** EKS refuses labels in the prefixes it and Kubernetes reserve. */
const RESERVED_PREFIXES = ["kubernetes.io/", "k8s.io/", "eks.amazonaws.com/"];
const LABEL_NAME_RE = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function checkKey(key: string, what: string): string | undefined {
  const slash = key.lastIndexOf("/");
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (prefix.length === 0 || prefix.length > 253 || !DNS_SUBDOMAIN_RE.test(prefix)))
    return `The ${what} key ${JSON.stringify(key)} is invalid: its prefix must be a DNS subdomain.`;
  if (name.length === 0 || name.length > 63 || !LABEL_NAME_RE.test(name))
    return `The ${what} key ${JSON.stringify(key)} is invalid: it must be at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit.`;
  const reserved = RESERVED_PREFIXES.find((p) => key.startsWith(p) || (prefix ?? "").endsWith(`.${p.slice(0, -1)}`));
  if (reserved) return `The ${what} key ${JSON.stringify(key)} uses the reserved prefix ${reserved}.`;
  return undefined;
}

export function checkLabels(labels: Record<string, string>): string | undefined {
  for (const [k, v] of Object.entries(labels)) {
    const err = checkKey(k, "label");
    if (err) return err;
    if (v.length > 63 || (v.length > 0 && !LABEL_NAME_RE.test(v)))
      return `The value ${JSON.stringify(v)} of label ${JSON.stringify(k)} is invalid: it must be at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit.`;
  }
  return undefined;
}

export function checkTaints(taints: Taint[]): string | undefined {
  if (taints.length > MAX_TAINTS) return `A node group can have at most ${MAX_TAINTS} taints.`;
  for (const t of taints) {
    if (!t.key) return "Every taint needs a key.";
    if (!t.effect) return `The taint ${t.key} needs an effect (NO_SCHEDULE, NO_EXECUTE or PREFER_NO_SCHEDULE).`;
    const err = checkKey(t.key, "taint");
    if (err && !err.includes("reserved prefix")) return err;
    const v = t.value ?? "";
    if (v.length > 63 || (v.length > 0 && !LABEL_NAME_RE.test(v)))
      return `The value ${JSON.stringify(v)} of taint ${t.key} is invalid: it must be at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit.`;
  }
  const seen = new Set<string>();
  for (const t of taints) {
    const k = `${t.key}:${t.effect}`;
    if (seen.has(k)) return `The taint ${t.key} with effect ${t.effect} is given twice.`;
    seen.add(k);
  }
  return undefined;
}

/** Taints with `add` put over `base` (same key and effect replaced) and `remove` (by key, and effect when given) taken out. */
export function mergeTaints(base: Taint[], add: Taint[] = [], remove: Taint[] = []): Taint[] {
  const same = (a: Taint, b: Taint) => a.key === b.key && a.effect === b.effect;
  let out = base.filter((t) => !add.some((a) => same(a, t)));
  out = [...out, ...add];
  return out.filter((t) => !remove.some((r) => r.key === t.key && (!r.effect || r.effect === t.effect)));
}

/** A node group's Kubernetes version: the cluster's by default, never newer, at most 3 minors older. */
export function checkNodegroupVersion(version: string, clusterVersion: string): string | undefined {
  const minor = (v: string) => Number(v.split(".")[1]);
  if (!/^1\.\d+$/.test(version)) return `Requested Nodegroup Kubernetes version ${version} is not valid.`;
  if (minor(version) > minor(clusterVersion))
    return `Requested Nodegroup Kubernetes version ${version} is newer than the cluster's version ${clusterVersion}.`;
  if (minor(clusterVersion) - minor(version) > 3)
    return `Requested Nodegroup Kubernetes version ${version} is more than three minor versions older than the cluster's version ${clusterVersion}.`;
  return undefined;
}

/** The AMI release version Berth reports for a Kubernetes version (`<patch>-<date>`, as EKS's AMIs are named). */
export const releaseVersionOf = (patch: string) => `${patch}-20251120`;
