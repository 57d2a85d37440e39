import type { ServiceError } from "../../core/errors.js";
import type { Scope } from "../../core/ids.js";
import { pageByKey, pageSize } from "../../core/paginate.js";
import { ecrErrors } from "../../protocol/generated/errors/ecr.js";
import type {
  Operations,
  PullThroughCacheRule,
  RepositoryCreationTemplate,
  Tag,
} from "../../protocol/generated/types/ecr.js";
import type { Provider } from "../../protocol/service.js";
import type { UpstreamClient } from "../../registry/upstream/client.js";
import { UpstreamError } from "../../registry/upstream/client.js";
import type {
  CreationTemplateRecord,
  EcrPullThroughCollections,
  PullThroughRuleRecord,
} from "../../store/schema/ecr.js";
import { ROOT, classifyUpstream, normalizePrefix, parseUpstreamSecret, prefixesOverlap } from "./pull-through-rules.js";

/** What ECR needs of Secrets Manager for upstream credentials: the secret's current text by ARN. */
export interface UpstreamSecrets {
  /** Throws Secrets Manager's ServiceError (ResourceNotFoundException, DecryptionFailure, …). */
  resolve(scope: Scope, valueFrom: string): { arn: string; value: string };
}

const CREDENTIAL_ARN =
  /^arn:aws(-\w+)*:secretsmanager:[a-zA-Z0-9-:]+:secret:ecr-pullthroughcache\/[a-zA-Z0-9/_+=.@-]+$/;

const invalid = (m: string) => ecrErrors.InvalidParameterException(m);

export function checkRulePrefix(prefix: string): string {
  const n = normalizePrefix(prefix, 30);
  if ("problem" in n)
    throw invalid(`Invalid parameter at 'ecrRepositoryPrefix' failed to satisfy constraint: ${n.problem}`);
  return n.prefix;
}

function checkRegistryId(registryId: string | undefined, scope: Scope) {
  if (registryId && registryId !== scope.account)
    throw invalid(`registryId ${registryId} is not your account (${scope.account}).`);
}

/**
 * The upstream credentials a rule's secret holds. Throws ECR's errors for a missing secret
 * (SecretNotFoundException), one that cannot be read or is not `{"username","accessToken"}`
 * (UnableToAccessSecretException) or decrypted (UnableToDecryptSecretValueException).
 */
export function readUpstreamSecret(
  secrets: UpstreamSecrets | undefined,
  scope: Scope,
  credentialArn: string,
): { username: string; accessToken: string } {
  if (!secrets) throw ecrErrors.UnableToAccessSecretException("Secrets Manager is not available to ECR.");
  let text: string;
  try {
    text = secrets.resolve(scope, credentialArn).value;
  } catch (e) {
    const code = (e as ServiceError).code;
    if (code === "ResourceNotFoundException")
      throw ecrErrors.SecretNotFoundException(
        `The secret '${credentialArn}' was not found. Create it in Secrets Manager (its name must start with ecr-pullthroughcache/) or give the ARN of an existing one.`,
      );
    if (code === "DecryptionFailure")
      throw ecrErrors.UnableToDecryptSecretValueException(
        `The value of secret '${credentialArn}' cannot be decrypted.`,
      );
    throw ecrErrors.UnableToAccessSecretException(
      `The secret '${credentialArn}' cannot be accessed: ${(e as Error).message}`,
    );
  }
  const creds = parseUpstreamSecret(text);
  if (!creds)
    throw ecrErrors.UnableToAccessSecretException(
      `The secret '${credentialArn}' must hold JSON of the form {"username":"…","accessToken":"…"}.`,
    );
  return creds;
}

function checkCredentialArn(secrets: UpstreamSecrets | undefined, scope: Scope, arn: string) {
  if (!CREDENTIAL_ARN.test(arn) || arn.length < 50 || arn.length > 612)
    throw invalid(
      `Invalid parameter at 'credentialArn' failed to satisfy constraint: a Secrets Manager secret ARN whose name starts with 'ecr-pullthroughcache/' (got '${arn}')`,
    );
  readUpstreamSecret(secrets, scope, arn);
}

const ruleView = (r: PullThroughRuleRecord): PullThroughCacheRule => ({
  ecrRepositoryPrefix: r.ecrRepositoryPrefix,
  upstreamRegistryUrl: r.upstreamRegistryUrl,
  createdAt: r.createdAt,
  registryId: r.registryId,
  credentialArn: r.credentialArn,
  customRoleArn: r.customRoleArn,
  upstreamRepositoryPrefix: r.upstreamRepositoryPrefix,
  upstreamRegistry: r.upstreamRegistry,
  updatedAt: r.updatedAt,
});

const templateView = (t: CreationTemplateRecord): RepositoryCreationTemplate => ({
  prefix: t.prefix,
  description: t.description,
  encryptionConfiguration: t.encryptionConfiguration ?? { encryptionType: "AES256" },
  resourceTags: t.resourceTags,
  imageTagMutability: t.imageTagMutability,
  imageTagMutabilityExclusionFilters: t.imageTagMutabilityExclusionFilters,
  repositoryPolicy: t.repositoryPolicy,
  lifecyclePolicy: t.lifecyclePolicy,
  appliedFor: t.appliedFor,
  customRoleArn: t.customRoleArn,
  createdAt: t.createdAt,
  updatedAt: t.updatedAt,
});

export interface PullThroughOpsDeps {
  collections: EcrPullThroughCollections;
  secrets?: UpstreamSecrets;
  client: UpstreamClient;
  now: () => Date;
  /** Checks a lifecycle policy's text (throws InvalidParameterException). */
  checkLifecyclePolicy: (text: string) => void;
}

/** The rule a request names, or PullThroughCacheRuleNotFoundException. */
function getRule(d: PullThroughOpsDeps, scope: Scope, prefix: string, registryId?: string) {
  checkRegistryId(registryId, scope);
  const key = checkRulePrefix(prefix);
  const r = d.collections.rules.get(scope, key);
  if (!r)
    throw ecrErrors.PullThroughCacheRuleNotFoundException(
      `The pull through cache rule with prefix '${key}' does not exist in the registry with id '${scope.account}'.`,
    );
  return r;
}

/** Create/Describe/Update/Delete/ValidatePullThroughCacheRule and the repository creation templates. */
export function pullThroughOperations(d: PullThroughOpsDeps): Provider<Operations> {
  const { rules, templates } = d.collections;
  return {
    CreatePullThroughCacheRule: (input, ctx) => {
      checkRegistryId(input.registryId, ctx);
      const prefix = checkRulePrefix(input.ecrRepositoryPrefix);
      const kind = classifyUpstream(input.upstreamRegistryUrl, input.upstreamRegistry);
      if (!kind)
        throw ecrErrors.UnsupportedUpstreamRegistryException(
          `The upstream registry URL '${input.upstreamRegistryUrl}' is not supported. Use registry-1.docker.io, public.ecr.aws, quay.io, registry.k8s.io, ghcr.io, registry.gitlab.com, <name>.azurecr.io, <account>.dkr.ecr.<region>.amazonaws.com, cgr.dev, or (Berth) a loopback registry such as 127.0.0.1:5000.`,
        );
      if (!kind.loopback && input.upstreamRegistry && input.upstreamRegistry !== kind.registry)
        throw invalid(
          `upstreamRegistry '${input.upstreamRegistry}' does not match the upstream registry URL '${input.upstreamRegistryUrl}' (${kind.registry}).`,
        );
      if (kind.needsCredentials && !input.credentialArn)
        throw ecrErrors.UnsupportedUpstreamRegistryException(
          "The specified upstream registry requires authentication. Specify a valid Secrets Manager ARN",
        );
      let upstreamPrefix: string | undefined;
      if (input.upstreamRepositoryPrefix !== undefined) {
        const n = normalizePrefix(input.upstreamRepositoryPrefix, 30);
        if ("problem" in n)
          throw invalid(`Invalid parameter at 'upstreamRepositoryPrefix' failed to satisfy constraint: ${n.problem}`);
        upstreamPrefix = n.prefix;
      }
      if (input.credentialArn) checkCredentialArn(d.secrets, ctx, input.credentialArn);
      const clash = rules.list(ctx).find((r) => prefixesOverlap(r.ecrRepositoryPrefix, prefix));
      if (clash)
        throw ecrErrors.PullThroughCacheRuleAlreadyExistsException(
          clash.ecrRepositoryPrefix === prefix
            ? `A pull through cache rule with prefix '${prefix}' already exists in the registry with id '${ctx.account}'.`
            : `The prefix '${prefix}' overlaps the pull through cache rule with prefix '${clash.ecrRepositoryPrefix}': a repository name could fall under both. Choose a prefix that neither contains nor is contained in another rule's.`,
        );
      const now = d.now();
      const record: PullThroughRuleRecord = {
        ecrRepositoryPrefix: prefix,
        upstreamRegistryUrl: input.upstreamRegistryUrl,
        upstreamRegistry: kind.registry,
        upstreamRepositoryPrefix: upstreamPrefix,
        credentialArn: input.credentialArn,
        customRoleArn: input.customRoleArn,
        registryId: ctx.account,
        createdAt: now,
        updatedAt: now,
      };
      rules.put(ctx, record, { expect: 0 });
      const { updatedAt: _u, ...view } = ruleView(record);
      return view;
    },

    DescribePullThroughCacheRules: (input, ctx) => {
      checkRegistryId(input.registryId, ctx);
      const found = input.ecrRepositoryPrefixes?.length
        ? input.ecrRepositoryPrefixes.map((p) => getRule(d, ctx, p))
        : rules.list(ctx);
      const { page, nextToken } = pageByKey(found, (r) => [r.ecrRepositoryPrefix], {
        nextToken: input.nextToken,
        limit: pageSize(input.maxResults, { default: 100, max: 1000 }),
      });
      return { pullThroughCacheRules: page.map(ruleView), nextToken };
    },

    UpdatePullThroughCacheRule: (input, ctx) => {
      const r = getRule(d, ctx, input.ecrRepositoryPrefix, input.registryId);
      if (input.credentialArn) checkCredentialArn(d.secrets, ctx, input.credentialArn);
      const updated: PullThroughRuleRecord = {
        ...r,
        credentialArn: input.credentialArn ?? r.credentialArn,
        customRoleArn: input.customRoleArn ?? r.customRoleArn,
        updatedAt: d.now(),
      };
      rules.put(ctx, updated);
      return {
        ecrRepositoryPrefix: updated.ecrRepositoryPrefix,
        registryId: updated.registryId,
        updatedAt: updated.updatedAt,
        credentialArn: updated.credentialArn,
        customRoleArn: updated.customRoleArn,
        upstreamRepositoryPrefix: updated.upstreamRepositoryPrefix,
      };
    },

    DeletePullThroughCacheRule: (input, ctx) => {
      const r = getRule(d, ctx, input.ecrRepositoryPrefix, input.registryId);
      rules.delete(ctx, r.ecrRepositoryPrefix);
      const { updatedAt: _u, upstreamRegistry: _k, ...view } = ruleView(r);
      return view;
    },

    ValidatePullThroughCacheRule: async (input, ctx) => {
      const r = getRule(d, ctx, input.ecrRepositoryPrefix, input.registryId);
      const out = {
        ecrRepositoryPrefix: r.ecrRepositoryPrefix,
        registryId: r.registryId,
        upstreamRegistryUrl: r.upstreamRegistryUrl,
        credentialArn: r.credentialArn,
        customRoleArn: r.customRoleArn,
        upstreamRepositoryPrefix: r.upstreamRepositoryPrefix,
      };
      const kind = classifyUpstream(r.upstreamRegistryUrl, r.upstreamRegistry);
      try {
        const creds = r.credentialArn ? readUpstreamSecret(d.secrets, ctx, r.credentialArn) : undefined;
        await d.client.check(
          {
            endpoint: kind!.endpoint,
            credentials: creds && { username: creds.username, password: creds.accessToken },
          },
          r.upstreamRepositoryPrefix && r.upstreamRepositoryPrefix !== ROOT ? r.upstreamRepositoryPrefix : "library",
        );
        return { ...out, isValid: true };
      } catch (e) {
        if (e instanceof UpstreamError || (e as ServiceError).code)
          return { ...out, isValid: false, failure: (e as Error).message };
        throw e;
      }
    },

    CreateRepositoryCreationTemplate: (input, ctx) => {
      const prefix = checkTemplatePrefix(input.prefix);
      if (templates.get(ctx, prefix))
        throw ecrErrors.TemplateAlreadyExistsException(
          `A repository creation template with prefix '${prefix}' already exists in the registry with id '${ctx.account}'.`,
        );
      checkTemplate(d, input);
      const now = d.now();
      const t: CreationTemplateRecord = {
        prefix,
        description: input.description,
        encryptionConfiguration: input.encryptionConfiguration,
        resourceTags: input.resourceTags ?? [],
        imageTagMutability: input.imageTagMutability ?? "MUTABLE",
        imageTagMutabilityExclusionFilters: input.imageTagMutabilityExclusionFilters,
        repositoryPolicy: input.repositoryPolicy,
        lifecyclePolicy: input.lifecyclePolicy,
        appliedFor: [...new Set(input.appliedFor)],
        customRoleArn: input.customRoleArn,
        createdAt: now,
        updatedAt: now,
      };
      templates.put(ctx, t, { expect: 0 });
      return { registryId: ctx.account, repositoryCreationTemplate: templateView(t) };
    },

    DescribeRepositoryCreationTemplates: (input, ctx) => {
      const all = input.prefixes?.length
        ? input.prefixes.flatMap((p) => templates.get(ctx, checkTemplatePrefix(p)) ?? [])
        : templates.list(ctx);
      const { page, nextToken } = pageByKey(all, (t) => [t.prefix], {
        nextToken: input.nextToken,
        limit: pageSize(input.maxResults, { default: 100, max: 1000 }),
      });
      return { registryId: ctx.account, repositoryCreationTemplates: page.map(templateView), nextToken };
    },

    UpdateRepositoryCreationTemplate: (input, ctx) => {
      const t = getTemplate(d, ctx, input.prefix);
      checkTemplate(d, { ...t, ...defined(input) });
      const updated: CreationTemplateRecord = {
        ...t,
        ...defined({
          description: input.description,
          encryptionConfiguration: input.encryptionConfiguration,
          resourceTags: input.resourceTags,
          imageTagMutability: input.imageTagMutability,
          imageTagMutabilityExclusionFilters: input.imageTagMutabilityExclusionFilters,
          repositoryPolicy: input.repositoryPolicy,
          lifecyclePolicy: input.lifecyclePolicy,
          appliedFor: input.appliedFor && [...new Set(input.appliedFor)],
          customRoleArn: input.customRoleArn,
        }),
        updatedAt: d.now(),
      };
      templates.put(ctx, updated);
      return { registryId: ctx.account, repositoryCreationTemplate: templateView(updated) };
    },

    DeleteRepositoryCreationTemplate: (input, ctx) => {
      const t = getTemplate(d, ctx, input.prefix);
      templates.delete(ctx, t.prefix);
      return { registryId: ctx.account, repositoryCreationTemplate: templateView(t) };
    },
  };
}

function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function checkTemplatePrefix(prefix: string): string {
  const n = normalizePrefix(prefix, 256, 1);
  if ("problem" in n) throw invalid(`Invalid parameter at 'prefix' failed to satisfy constraint: ${n.problem}`);
  return n.prefix;
}

function getTemplate(d: PullThroughOpsDeps, scope: Scope, prefix: string): CreationTemplateRecord {
  const key = checkTemplatePrefix(prefix);
  const t = d.collections.templates.get(scope, key);
  if (!t)
    throw ecrErrors.TemplateNotFoundException(
      `The repository creation template with prefix '${key}' does not exist in the registry with id '${scope.account}'.`,
    );
  return t;
}

/** The model's pattern for a template's KMS key, matched whole. */
const TEMPLATE_KMS_KEY = /^(?:$|arn:aws[a-z0-9-]*:kms:[a-z0-9-]+:[0-9]{12}:key\/[a-z0-9-]+)$/;
const ROLE_ARN = /^arn:aws[a-z0-9-]*:iam::[0-9]{12}:role\/[\w+=,.@/-]{1,512}$/;

function checkTemplate(
  d: PullThroughOpsDeps,
  t: {
    appliedFor?: string[];
    imageTagMutability?: string;
    imageTagMutabilityExclusionFilters?: unknown[];
    repositoryPolicy?: string;
    lifecyclePolicy?: string;
    resourceTags?: Tag[];
    customRoleArn?: string;
    encryptionConfiguration?: { kmsKey?: string };
  },
) {
  const kmsKey = t.encryptionConfiguration?.kmsKey;
  if (kmsKey !== undefined && !TEMPLATE_KMS_KEY.test(kmsKey))
    throw invalid(
      `Invalid parameter at 'encryptionConfiguration.kmsKey' failed to satisfy constraint: 'must be empty or a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)'`,
    );
  if (t.customRoleArn !== undefined && !ROLE_ARN.test(t.customRoleArn))
    throw invalid(
      `Invalid parameter at 'customRoleArn' failed to satisfy constraint: 'must be an IAM role ARN (arn:aws:iam::<account>:role/<name>)'`,
    );
  if (!t.appliedFor?.length)
    throw invalid("appliedFor must name at least one of REPLICATION, PULL_THROUGH_CACHE, CREATE_ON_PUSH.");
  const m = t.imageTagMutability ?? "MUTABLE";
  const filters = t.imageTagMutabilityExclusionFilters?.length ?? 0;
  if (m.endsWith("_WITH_EXCLUSION") !== filters > 0)
    throw invalid(
      m.endsWith("_WITH_EXCLUSION")
        ? `imageTagMutability ${m} needs imageTagMutabilityExclusionFilters.`
        : "imageTagMutabilityExclusionFilters are only allowed with *_WITH_EXCLUSION mutability.",
    );
  if (t.repositoryPolicy !== undefined) {
    try {
      JSON.parse(t.repositoryPolicy);
    } catch {
      throw invalid(
        "Invalid parameter at 'repositoryPolicy' failed to satisfy constraint: 'Invalid repository policy provided'",
      );
    }
  }
  if (t.lifecyclePolicy !== undefined) d.checkLifecyclePolicy(t.lifecyclePolicy);
  for (const tag of t.resourceTags ?? [])
    if (!tag.Key || tag.Key.startsWith("aws:"))
      throw ecrErrors.InvalidTagParameterException(
        `Invalid tag key '${tag.Key}': keys are required and may not start with 'aws:'.`,
      );
}
