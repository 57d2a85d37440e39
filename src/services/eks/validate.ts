/**
 * EKS's input rules and defaults that need no state: names, ARNs, CIDRs, access entry usernames
 * and groups, access scopes, logging. PURE: each returns a message for InvalidParameterException
 * (or undefined when the input is fine).
 */
import type { AccessScope, Logging, LogType } from "../../protocol/generated/types/eks.js";

export const CLUSTER_NAME_RE = /^[0-9A-Za-z][A-Za-z0-9\-_]*$/;

export function checkClusterName(name: string): string | undefined {
  if (name.length < 1 || name.length > 100 || !CLUSTER_NAME_RE.test(name))
    return `The cluster name ${JSON.stringify(name)} is invalid: it must be 1 to 100 characters, start with a letter or digit and contain only letters, digits, hyphens and underscores.`;
  return undefined;
}

/** An IAM role ARN: `arn:aws:iam::<12 digits>:role/<path/>name`. */
export const ROLE_ARN_RE = /^arn:aws[a-z-]*:iam::(\d{12}):role\/((?:[\w+=,.@-]+\/)*)([\w+=,.@-]{1,64})$/;
export const USER_ARN_RE = /^arn:aws[a-z-]*:iam::(\d{12}):user\/((?:[\w+=,.@-]+\/)*)([\w+=,.@-]{1,64})$/;
export const ROOT_ARN_RE = /^arn:aws[a-z-]*:iam::(\d{12}):root$/;

export function checkRoleArn(roleArn: string, member = "roleArn"): string | undefined {
  if (!ROLE_ARN_RE.test(roleArn))
    return `The ${member} ${roleArn} is not a valid IAM role ARN (arn:aws:iam::<account>:role/<name>).`;
  return undefined;
}

/** What an access entry's principal ARN names. */
export type PrincipalKind = "user" | "role" | "root";

export interface ParsedPrincipal {
  kind: PrincipalKind;
  account: string;
  /** The role or user name without its path. */
  name: string;
  path: string;
}

export function parsePrincipalArn(principalArn: string): ParsedPrincipal | undefined {
  const role = ROLE_ARN_RE.exec(principalArn);
  if (role) return { kind: "role", account: role[1], path: role[2], name: role[3] };
  const user = USER_ARN_RE.exec(principalArn);
  if (user) return { kind: "user", account: user[1], path: user[2], name: user[3] };
  const root = ROOT_ARN_RE.exec(principalArn);
  if (root) return { kind: "root", account: root[1], path: "", name: "root" };
  return undefined;
}

/** Access entry types and what EKS sets for the non-STANDARD ones. */
export const ACCESS_ENTRY_TYPES = [
  "STANDARD",
  "FARGATE_LINUX",
  "EC2_LINUX",
  "EC2_WINDOWS",
  "EC2",
  "HYBRID_LINUX",
  "HYPERPOD_LINUX",
] as const;

const NODE_GROUPS: Record<string, string[]> = {
  FARGATE_LINUX: ["system:bootstrappers", "system:nodes", "system:node-proxier"],
  EC2_LINUX: ["system:bootstrappers", "system:nodes"],
  EC2_WINDOWS: ["system:bootstrappers", "system:nodes", "eks:kube-proxy-windows"],
  EC2: ["system:nodes"],
  HYBRID_LINUX: ["system:bootstrappers", "system:nodes"],
  HYPERPOD_LINUX: ["system:bootstrappers", "system:nodes"],
};

/** The Kubernetes groups a node access entry's principal belongs to (none for STANDARD: its kubernetesGroups). */
export const implicitGroups = (type: string): string[] => NODE_GROUPS[type] ?? [];

/** The username EKS gives an entry when none is named (docs: "Creating access entries"). */
export function defaultUsername(type: string, principal: ParsedPrincipal, principalArn: string): string {
  if (type === "FARGATE_LINUX") return "system:node:{{SessionName}}";
  if (type === "EC2_WINDOWS" || type === "EC2_LINUX" || type === "HYBRID_LINUX" || type === "HYPERPOD_LINUX")
    return "system:node:{{EC2PrivateDNSName}}";
  if (type === "EC2") return "system:node:{{EC2PrivateDNSName}}";
  if (principal.kind === "role")
    return `arn:aws:sts::${principal.account}:assumed-role/${principal.name}/{{SessionName}}`;
  return principalArn;
}

const RESERVED_USER_PREFIXES = ["system:", "eks:", "aws:", "amazon:", "iam:"];

export function checkUsername(username: string): string | undefined {
  if (username.length === 0 || username.length > 1024) return "The username must be 1 to 1024 characters long.";
  const prefix = RESERVED_USER_PREFIXES.find((p) => username.startsWith(p));
  if (prefix) return `The username ${username} is invalid: usernames cannot start with ${prefix}`;
  return undefined;
}

export function checkKubernetesGroups(groups: string[]): string | undefined {
  for (const g of groups) {
    if (g.length === 0 || g.length > 1024) return "Kubernetes group names must be 1 to 1024 characters long.";
    if (g.startsWith("system:")) return `The kubernetes group name ${g} is invalid, it cannot start with system:`;
  }
  return undefined;
}

/** What an identity fills a username template with. */
export interface TemplateValues {
  accountId: string;
  sessionName?: string;
  accessKeyId?: string;
  /** The EC2 instance's private DNS name (Berth: the session name, the instance id). */
  ec2PrivateDnsName?: string;
}

/**
 * Expands {{AccountID}}, {{SessionName}} (with '@' as '-', as aws-iam-authenticator does),
 * {{SessionNameRaw}}, {{AccessKeyID}} and {{EC2PrivateDNSName}}; undefined when the template
 * needs a value the identity lacks (a session name for a user).
 */
export function expandUsername(template: string, values: TemplateValues): string | undefined {
  let missing = false;
  const out = template.replace(/\{\{(\w+)\}\}/g, (whole, name: string) => {
    const value =
      name === "AccountID"
        ? values.accountId
        : name === "SessionName"
          ? values.sessionName?.replaceAll("@", "-")
          : name === "SessionNameRaw"
            ? values.sessionName
            : name === "AccessKeyID"
              ? values.accessKeyId
              : name === "EC2PrivateDNSName"
                ? (values.ec2PrivateDnsName ?? values.sessionName)
                : whole;
    if (value === undefined) missing = true;
    return value ?? "";
  });
  return missing ? undefined : out;
}

export function checkAccessScope(scope: AccessScope): string | undefined {
  if (scope.type !== "cluster" && scope.type !== "namespace")
    return `The access scope type ${scope.type ?? "(none)"} is invalid; use cluster or namespace.`;
  const ns = scope.namespaces ?? [];
  if (scope.type === "cluster" && ns.length > 0)
    return "Namespaces cannot be specified with an access scope of type cluster.";
  if (scope.type === "namespace" && ns.length === 0)
    return "At least one namespace must be specified with an access scope of type namespace.";
  for (const n of ns)
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$|^[a-z0-9][-a-z0-9]*\*$/.test(n) || n.length > 63)
      return `The namespace ${n} is invalid: a Kubernetes namespace name, optionally ending in *.`;
  return undefined;
}

const PRIVATE_RANGES: [number, number][] = [
  [ip("10.0.0.0"), 8],
  [ip("172.16.0.0"), 12],
  [ip("192.168.0.0"), 16],
];

function ip(text: string): number {
  return text.split(".").reduce((acc, o) => acc * 256 + Number(o), 0);
}

/** A service IPv4 CIDR EKS accepts: within the RFC 1918 ranges, /12 to /24, on its network address. */
export function checkServiceCidr(cidr: string): string | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  const bad = `The service IPv4 CIDR ${cidr} is invalid: it must be a block between /12 and /24 within 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16.`;
  if (!m || m.slice(1, 5).some((o) => Number(o) > 255)) return bad;
  const bits = Number(m[5]);
  if (bits < 12 || bits > 24) return bad;
  const addr = ip(m.slice(1, 5).join("."));
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  if ((addr & mask) >>> 0 !== addr) return `The service IPv4 CIDR ${cidr} is not on its network address.`;
  const inside = PRIVATE_RANGES.some(
    ([base, b]) => bits >= b && (addr & ((0xffffffff << (32 - b)) >>> 0)) >>> 0 === base,
  );
  return inside ? undefined : bad;
}

/** The first address of a CIDR plus one: the `kubernetes` Service's ClusterIP (10.100.0.1). */
export function firstServiceIp(cidr: string): string {
  const [base] = cidr.split("/");
  const n = ip(base) + 1;
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

export const LOG_TYPES: readonly LogType[] = ["api", "audit", "authenticator", "controllerManager", "scheduler"];

/** Applies a Logging request to the current setup: each named type enabled or disabled; the result lists both groups. */
export function mergeLogging(current: Logging, change: Logging): Logging | { error: string } {
  const enabled = new Set<LogType>(current.clusterLogging?.filter((s) => s.enabled).flatMap((s) => s.types ?? []));
  const seen = new Set<LogType>();
  for (const setup of change.clusterLogging ?? []) {
    for (const t of setup.types ?? []) {
      if (!LOG_TYPES.includes(t)) return { error: `The log type ${t} is invalid; use ${LOG_TYPES.join(", ")}.` };
      if (seen.has(t)) return { error: `The log type ${t} appears more than once.` };
      seen.add(t);
      if (setup.enabled) enabled.add(t);
      else enabled.delete(t);
    }
  }
  return loggingOf(enabled);
}

export function loggingOf(enabled: ReadonlySet<LogType>): Logging {
  const on = LOG_TYPES.filter((t) => enabled.has(t));
  const off = LOG_TYPES.filter((t) => !enabled.has(t));
  return {
    clusterLogging: [
      ...(on.length ? [{ types: on, enabled: true }] : []),
      ...(off.length ? [{ types: off, enabled: false }] : []),
    ],
  };
}

/** The authentication mode changes EKS allows: CONFIG_MAP → API_AND_CONFIG_MAP → API, never back. */
export function checkAuthenticationModeChange(from: string, to: string): string | undefined {
  const order = ["CONFIG_MAP", "API_AND_CONFIG_MAP", "API"];
  const a = order.indexOf(from);
  const b = order.indexOf(to);
  if (b < 0) return `The authentication mode ${to} is invalid; use ${order.join(", ")}.`;
  if (a === b) return `The cluster is already at the desired configuration with authenticationMode: ${to}`;
  if (b < a) return `Unsupported authentication mode update from ${from} to ${to}`;
  return undefined;
}
