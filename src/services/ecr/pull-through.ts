import type { PullThroughPolicy, RepositoryInfo } from "../../registry/api.js";
import { RegistryError } from "../../registry/api.js";
import type { EcrPullThroughCollections } from "../../store/schema/ecr.js";
import { type EcrContext, PUBLIC_PREFIX, REPOSITORY_NAME, type RepositoryRecord } from "./context.js";
import { type UpstreamSecrets, readUpstreamSecret } from "./pull-through-ops.js";
import { classifyUpstream, ruleFor, templateFor, upstreamRepository } from "./pull-through-rules.js";

/** ECR re-checks a cached tag against its upstream at most once every 24 hours. */
export const DEFAULT_RECHECK_MS = 24 * 60 * 60 * 1000;

/**
 * ECR's side of the pull-through cache: which repository names a rule covers and where they come
 * from, the repositories first pulls create (shaped by the PULL_THROUGH_CACHE creation template),
 * and when each cached tag was last compared with its upstream.
 */
export function pullThroughPolicy(
  ecr: EcrContext,
  collections: EcrPullThroughCollections,
  opts: { secrets?: UpstreamSecrets; recheckMs: number; mirrorRule?: string },
): PullThroughPolicy {
  const scopeOf = (ref: { account: string; region: string }) => ({ account: ref.account, region: ref.region });
  return {
    recheckMs: opts.recheckMs,
    target(ref) {
      if (ref.name.startsWith(`${PUBLIC_PREFIX}/`)) return undefined;
      const scope = scopeOf(ref);
      const rule = ruleFor(collections.rules.list(scope), ref.name);
      if (!rule) return undefined;
      const kind = classifyUpstream(rule.upstreamRegistryUrl, rule.upstreamRegistry);
      if (!kind) return undefined;
      return {
        endpoint: kind.endpoint,
        repository: upstreamRepository(rule, ref.name),
        rule: rule.ecrRepositoryPrefix,
        upstreamUrl: rule.upstreamRegistryUrl,
        credentials() {
          if (!rule.credentialArn) return undefined;
          try {
            const c = readUpstreamSecret(opts.secrets, scope, rule.credentialArn);
            return { username: c.username, password: c.accessToken };
          } catch (e) {
            throw new RegistryError(
              "DENIED",
              `pull through cache rule '${rule.ecrRepositoryPrefix}': ${(e as Error).name}: ${(e as Error).message}`,
              403,
            );
          }
        },
      };
    },
    createRepository(ref): RepositoryInfo {
      const scope = scopeOf(ref);
      const existing = ecr.find(scope, ref.name, false);
      if (existing) return ecr.info(scope, existing);
      if (!REPOSITORY_NAME.test(ref.name))
        throw new RegistryError("NAME_INVALID", `'${ref.name}' is not a valid ECR repository name`, 400);
      const t = templateFor(collections.templates.list(scope), ref.name, "PULL_THROUGH_CACHE");
      const record: RepositoryRecord = {
        ...ecr.newRecord(scope, ref.name, false),
        imageTagMutability: t?.imageTagMutability ?? "MUTABLE",
        imageTagMutabilityExclusionFilters: t?.imageTagMutabilityExclusionFilters,
        imageScanningConfiguration: { scanOnPush: false },
        encryptionConfiguration: { encryptionType: t?.encryptionConfiguration?.encryptionType ?? "AES256" },
        tags: t?.resourceTags ?? [],
        repositoryPolicyText: t?.repositoryPolicy,
        lifecyclePolicyText: t?.lifecyclePolicy,
        lifecyclePolicyUpdatedAt: t?.lifecyclePolicy ? ecr.deps.clock.now() : undefined,
      };
      try {
        ecr.repositories.put(scope, record, { expect: 0 });
      } catch {
        // Created at the same moment by another request: use that one.
        const again = ecr.find(scope, ref.name, false);
        if (again) return ecr.info(scope, again);
        throw new RegistryError("UNKNOWN", `the repository '${ref.name}' could not be created`, 500);
      }
      return ecr.info(scope, record);
    },
    mirrorOf(ref) {
      const prefix = opts.mirrorRule;
      if (!prefix || ref.name.startsWith(`${PUBLIC_PREFIX}/`) || ref.name.startsWith(`${prefix}/`)) return undefined;
      if (!collections.rules.get(scopeOf(ref), prefix)) return undefined;
      return { ...ref, name: `${prefix}/${ref.name}` };
    },
    lastChecked(ref, tag) {
      return collections.checks.get(scopeOf(ref), `${ref.name}:${tag}`)?.checkedAt.getTime();
    },
    recordCheck(ref, tag, at) {
      collections.checks.put(scopeOf(ref), { repositoryName: ref.name, tag, checkedAt: new Date(at) });
    },
  };
}
