import type { UpstreamRegistry } from "../../protocol/generated/types/ecr.js";

/**
 * PURE: pull-through cache rules — which upstreams ECR supports, how a prefix is written, which
 * prefixes overlap, which rule a repository name falls under and the upstream name it maps to.
 */

/** ECR's pattern for `ecrRepositoryPrefix` (2–30 characters) and template prefixes (1–256). */
const PREFIX = /^([a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*\/?|ROOT)$/;

export const ROOT = "ROOT";

/** The prefix as stored (no trailing slash), or a description of what is wrong with it. */
export function normalizePrefix(prefix: string, max: number, min = 2): { prefix: string } | { problem: string } {
  if (prefix.length < min || prefix.length > max || !PREFIX.test(prefix))
    return {
      problem: `'${prefix}' must be ${min}–${max} characters of lowercase letters, digits and . _ - separators with / between components, or ROOT`,
    };
  return { prefix: prefix.endsWith("/") ? prefix.slice(0, -1) : prefix };
}

/** Whether the rule with `prefix` covers repository `name` (`prefix/…`; ROOT covers all). */
export function prefixCovers(prefix: string, name: string): boolean {
  return prefix === ROOT || name.startsWith(`${prefix}/`);
}

/**
 * Two prefixes overlap when one path-prefixes the other or either is ROOT: a name could then fall
 * under both rules, which ECR refuses (PullThroughCacheRuleAlreadyExistsException).
 */
export function prefixesOverlap(a: string, b: string): boolean {
  if (a === b || a === ROOT || b === ROOT) return true;
  return a.startsWith(`${b}/`) || b.startsWith(`${a}/`);
}

/** The rule (of those given) whose prefix covers `name`, the most specific first. */
export function ruleFor<R extends { ecrRepositoryPrefix: string }>(rules: R[], name: string): R | undefined {
  return rules
    .filter((r) => prefixCovers(r.ecrRepositoryPrefix, name))
    .sort((x, y) => specificity(y.ecrRepositoryPrefix) - specificity(x.ecrRepositoryPrefix))[0];
}

const specificity = (prefix: string) => (prefix === ROOT ? 0 : prefix.length + 1);

/** The upstream repository a cached name maps to: `<prefix>/<rest>` → `<upstreamPrefix>/<rest>`. */
export function upstreamRepository(
  rule: { ecrRepositoryPrefix: string; upstreamRepositoryPrefix?: string },
  name: string,
): string {
  const rest = rule.ecrRepositoryPrefix === ROOT ? name : name.slice(rule.ecrRepositoryPrefix.length + 1);
  const up = rule.upstreamRepositoryPrefix ?? ROOT;
  return up === ROOT ? rest : `${up}/${rest}`;
}

/** The cached name of an upstream repository under a rule (the inverse of upstreamRepository). */
export function cachedRepository(
  rule: { ecrRepositoryPrefix: string; upstreamRepositoryPrefix?: string },
  upstreamName: string,
): string | undefined {
  const up = rule.upstreamRepositoryPrefix ?? ROOT;
  let rest = upstreamName;
  if (up !== ROOT) {
    if (!upstreamName.startsWith(`${up}/`)) return undefined;
    rest = upstreamName.slice(up.length + 1);
  }
  return rule.ecrRepositoryPrefix === ROOT ? rest : `${rule.ecrRepositoryPrefix}/${rest}`;
}

export interface UpstreamKind {
  registry: UpstreamRegistry | undefined;
  /** The base URL Berth fetches from (`https://…`; plain HTTP for loopback upstreams). */
  endpoint: string;
  /** Docker Hub, GitHub, GitLab and Azure need a credentialArn (ECR's rule). */
  needsCredentials: boolean;
  loopback: boolean;
}

const KNOWN: { test: (host: string) => boolean; registry: UpstreamRegistry; needsCredentials: boolean }[] = [
  { test: (h) => h === "registry-1.docker.io", registry: "docker-hub", needsCredentials: true },
  { test: (h) => h === "public.ecr.aws", registry: "ecr-public", needsCredentials: false },
  { test: (h) => h === "quay.io", registry: "quay", needsCredentials: false },
  { test: (h) => h === "registry.k8s.io", registry: "k8s", needsCredentials: false },
  { test: (h) => h === "ghcr.io", registry: "github-container-registry", needsCredentials: true },
  { test: (h) => h === "registry.gitlab.com", registry: "gitlab-container-registry", needsCredentials: true },
  { test: (h) => /^[a-z0-9]+\.azurecr\.io$/.test(h), registry: "azure-container-registry", needsCredentials: true },
  { test: (h) => /^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com$/.test(h), registry: "ecr", needsCredentials: false },
  { test: (h) => h === "cgr.dev", registry: "chainguard", needsCredentials: false },
];

/** A loopback `host[:port]`: Berth's stand-in for an upstream on this machine (tests, local mirrors). */
export function isLoopbackHost(hostPort: string): boolean {
  const host = hostPort.startsWith("[") ? hostPort.slice(1, hostPort.indexOf("]")) : hostPort.split(":")[0];
  return host === "localhost" || host.endsWith(".localhost") || /^127(\.\d{1,3}){3}$/.test(host) || host === "::1";
}

/**
 * What an `upstreamRegistryUrl` is: one of the registries ECR supports (by its URL as ECR spells
 * it), or a loopback registry; undefined for anything else (UnsupportedUpstreamRegistryException).
 * A scheme is accepted and dropped (`http://` is kept for loopback only).
 */
export function classifyUpstream(url: string, declared?: UpstreamRegistry): UpstreamKind | undefined {
  const m = /^(?:(https?):\/\/)?([^/\s]+)\/?$/.exec(url.trim());
  if (!m) return undefined;
  const host = m[2].toLowerCase();
  if (isLoopbackHost(host))
    return {
      registry: declared,
      endpoint: `${m[1] ?? "http"}://${host}`,
      needsCredentials: false,
      loopback: true,
    };
  const known = KNOWN.find((k) => k.test(host));
  if (!known) return undefined;
  return {
    registry: known.registry,
    endpoint: `https://${host}`,
    needsCredentials: known.needsCredentials,
    loopback: false,
  };
}

/** The upstream credentials a rule's secret holds: `{"username": …, "accessToken": …}` (ECR's format). */
export function parseUpstreamSecret(text: string): { username: string; accessToken: string } | undefined {
  try {
    const doc = JSON.parse(text) as { username?: unknown; accessToken?: unknown };
    if (typeof doc?.username === "string" && typeof doc.accessToken === "string" && doc.username && doc.accessToken)
      return { username: doc.username, accessToken: doc.accessToken };
  } catch {
    // not JSON
  }
  return undefined;
}

/** The template (of those applied to pull-through) for a new repository: longest matching prefix, else ROOT. */
export function templateFor<T extends { prefix: string; appliedFor: string[] }>(
  templates: T[],
  name: string,
  purpose: string,
): T | undefined {
  const usable = templates.filter((t) => t.appliedFor.includes(purpose));
  return (
    usable
      .filter((t) => t.prefix !== ROOT && (name === t.prefix || name.startsWith(`${t.prefix}/`)))
      .sort((a, b) => b.prefix.length - a.prefix.length)[0] ?? usable.find((t) => t.prefix === ROOT)
  );
}
