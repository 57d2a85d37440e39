import type { Scope } from "../../core/ids.js";
import { pageByKey, pageSize } from "../../core/paginate.js";
import { type TagLimit, mergeTags, removeTags } from "../../core/tags.js";
import type { Operations, Repository, Tag } from "../../protocol/generated/types/ecr.js";
import type { Provider } from "../../protocol/service.js";
import { type EcrContext, PUBLIC_PREFIX, REPOSITORY_NAME, type RepositoryRecord } from "./context.js";
import { ecrErrors } from "../../protocol/generated/errors/ecr.js";

export function checkRepositoryName(name: string) {
  if (!REPOSITORY_NAME.test(name) || name.startsWith(`${PUBLIC_PREFIX}/`))
    throw ecrErrors.InvalidParameterException(
      `Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy regular expression '[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*(\\/[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*)*' and be 2 to 256 characters' (got '${name}')`,
    );
}

/** ECR's quota of 50 tags a repository. */
const TAG_LIMIT: TagLimit = {
  max: 50,
  tooMany: () => ecrErrors.TooManyTagsException("A resource can have at most 50 tags."),
};

export function checkTags(tags: Tag[] | undefined) {
  if (!tags) return;
  if (tags.length > TAG_LIMIT.max) throw TAG_LIMIT.tooMany(tags.length);
  for (const t of tags)
    if (!t.Key || t.Key.startsWith("aws:"))
      throw ecrErrors.InvalidTagParameterException(
        `Invalid tag key '${t.Key}': keys are required and may not start with 'aws:'.`,
      );
}

/** The API view of a stored repository. */
export function repositoryView(ecr: EcrContext, scope: Scope, r: RepositoryRecord): Repository {
  return {
    repositoryArn: r.repositoryArn,
    registryId: r.registryId,
    repositoryName: r.repositoryName,
    repositoryUri: ecr.uri(scope, r),
    createdAt: r.createdAt,
    imageTagMutability: r.imageTagMutability,
    imageTagMutabilityExclusionFilters: r.imageTagMutabilityExclusionFilters,
    imageScanningConfiguration: r.imageScanningConfiguration ?? { scanOnPush: false },
    encryptionConfiguration: r.encryptionConfiguration ?? { encryptionType: "AES256" },
  };
}

const mutabilityNeedsFilters = (m: string) => m.endsWith("_WITH_EXCLUSION");

function checkMutability(mutability: string, filters: { filter: string }[] | undefined) {
  if (mutabilityNeedsFilters(mutability) && !filters?.length)
    throw ecrErrors.InvalidParameterException(
      `imageTagMutability ${mutability} needs imageTagMutabilityExclusionFilters.`,
    );
  if (!mutabilityNeedsFilters(mutability) && filters?.length)
    throw ecrErrors.InvalidParameterException(
      `imageTagMutabilityExclusionFilters are only allowed with *_WITH_EXCLUSION mutability.`,
    );
}

/** Repository operations shared by ECR and ECR Public (`isPublic` picks which kind). */
export function repositoryOperations(ecr: EcrContext): Provider<Operations> {
  return {
    CreateRepository: (input, ctx) => {
      checkRepositoryName(input.repositoryName);
      checkTags(input.tags);
      if (input.registryId && input.registryId !== ctx.account)
        throw ecrErrors.InvalidParameterException(
          `registryId ${input.registryId} is not your account (${ctx.account}).`,
        );
      const mutability = input.imageTagMutability ?? "MUTABLE";
      checkMutability(mutability, input.imageTagMutabilityExclusionFilters);
      if (ecr.find(ctx, input.repositoryName, false))
        throw ecrErrors.RepositoryAlreadyExistsException(
          `The repository with name '${input.repositoryName}' already exists in the registry with id '${ctx.account}'`,
        );
      const record: RepositoryRecord = {
        ...ecr.newRecord(ctx, input.repositoryName, false),
        imageTagMutability: mutability,
        imageTagMutabilityExclusionFilters: input.imageTagMutabilityExclusionFilters,
        imageScanningConfiguration: input.imageScanningConfiguration ?? { scanOnPush: false },
        encryptionConfiguration: input.encryptionConfiguration ?? { encryptionType: "AES256" },
        tags: input.tags ?? [],
      };
      ecr.save(ctx, record);
      return { repository: repositoryView(ecr, ctx, record) };
    },

    DescribeRepositories: (input, ctx) => {
      let repos: RepositoryRecord[];
      if (input.repositoryNames?.length)
        repos = input.repositoryNames.map((n) => ecr.get(ctx, n, input.registryId, false));
      else repos = ecr.repositories.list(ctx).filter((r) => !r.public);
      const { page, nextToken } = pageByKey(repos, (r) => [r.repositoryName], {
        nextToken: input.nextToken,
        limit: pageSize(input.maxResults, { default: 100, max: 1000 }),
      });
      return { repositories: page.map((r) => repositoryView(ecr, ctx, r)), nextToken };
    },

    DeleteRepository: async (input, ctx) => {
      const r = ecr.get(ctx, input.repositoryName, input.registryId, false);
      const images = await ecr.deps.registry.listImages(ecr.ref(ctx, r));
      if (images.length > 0 && !input.force)
        throw ecrErrors.RepositoryNotEmptyException(
          `The repository with name '${r.repositoryName}' in registry with id '${ctx.account}' cannot be deleted because it still contains images (use --force to delete them too)`,
        );
      await ecr.deps.registry.deleteRepository(ecr.ref(ctx, r));
      ecr.repositories.delete(ctx, ecr.key(r.repositoryName, false));
      return { repository: repositoryView(ecr, ctx, r) };
    },

    PutImageTagMutability: (input, ctx) => {
      const r = ecr.get(ctx, input.repositoryName, input.registryId, false);
      checkMutability(input.imageTagMutability, input.imageTagMutabilityExclusionFilters);
      ecr.save(ctx, {
        ...r,
        imageTagMutability: input.imageTagMutability,
        imageTagMutabilityExclusionFilters: input.imageTagMutabilityExclusionFilters,
      });
      return {
        registryId: r.registryId,
        repositoryName: r.repositoryName,
        imageTagMutability: input.imageTagMutability,
        imageTagMutabilityExclusionFilters: input.imageTagMutabilityExclusionFilters,
      };
    },

    PutImageScanningConfiguration: (input, ctx) => {
      const r = ecr.get(ctx, input.repositoryName, input.registryId, false);
      ecr.save(ctx, { ...r, imageScanningConfiguration: input.imageScanningConfiguration });
      return {
        registryId: r.registryId,
        repositoryName: r.repositoryName,
        imageScanningConfiguration: input.imageScanningConfiguration,
      };
    },

    SetRepositoryPolicy: (input, ctx) => {
      const r = ecr.get(ctx, input.repositoryName, input.registryId, false);
      try {
        JSON.parse(input.policyText);
      } catch {
        throw ecrErrors.InvalidParameterException(
          "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid repository policy provided'",
        );
      }
      ecr.save(ctx, { ...r, repositoryPolicyText: input.policyText });
      return { registryId: r.registryId, repositoryName: r.repositoryName, policyText: input.policyText };
    },

    GetRepositoryPolicy: (input, ctx) => {
      const r = ecr.get(ctx, input.repositoryName, input.registryId, false);
      if (!r.repositoryPolicyText)
        throw ecrErrors.RepositoryPolicyNotFoundException(
          `Repository policy does not exist for the repository with name '${r.repositoryName}' in the registry with id '${ctx.account}'`,
        );
      return { registryId: r.registryId, repositoryName: r.repositoryName, policyText: r.repositoryPolicyText };
    },

    DeleteRepositoryPolicy: (input, ctx) => {
      const r = ecr.get(ctx, input.repositoryName, input.registryId, false);
      if (!r.repositoryPolicyText)
        throw ecrErrors.RepositoryPolicyNotFoundException(
          `Repository policy does not exist for the repository with name '${r.repositoryName}' in the registry with id '${ctx.account}'`,
        );
      ecr.save(ctx, { ...r, repositoryPolicyText: undefined });
      return { registryId: r.registryId, repositoryName: r.repositoryName, policyText: r.repositoryPolicyText };
    },

    DescribeRegistry: (_input, ctx) => ({ registryId: ctx.account, replicationConfiguration: { rules: [] } }),

    ...repositoryTagOperations(ecr),
  };
}

/**
 * TagResource / UntagResource / ListTagsForResource on a repository named by its ARN, the same
 * for ECR and ECR Public (their inputs and outputs have the same members).
 */
export function repositoryTagOperations(ecr: EcrContext) {
  return {
    TagResource: (input: { resourceArn: string; tags: Tag[] }, ctx: Scope) => {
      checkTags(input.tags);
      const r = byArn(ecr, ctx, input.resourceArn);
      ecr.save(ctx, { ...r, tags: mergeTags(r.tags, input.tags, TAG_LIMIT) });
      return {};
    },
    UntagResource: (input: { resourceArn: string; tagKeys: string[] }, ctx: Scope) => {
      const r = byArn(ecr, ctx, input.resourceArn);
      ecr.save(ctx, { ...r, tags: removeTags(r.tags, input.tagKeys) });
      return {};
    },
    ListTagsForResource: (input: { resourceArn: string }, ctx: Scope) => ({
      tags: byArn(ecr, ctx, input.resourceArn).tags,
    }),
  } satisfies Partial<Provider<Operations>>;
}

export function byArn(ecr: EcrContext, scope: Scope, resourceArn: string): RepositoryRecord {
  const hit = ecr.repositories.byArn(resourceArn);
  if (!hit || hit.scope.account !== scope.account)
    throw ecrErrors.RepositoryNotFoundException(`The repository with ARN '${resourceArn}' does not exist.`);
  return hit.doc;
}
