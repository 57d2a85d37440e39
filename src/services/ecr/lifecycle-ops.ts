import type { Scope } from "../../core/ids.js";
import type { Logger } from "../../core/logger.js";
import type { Operations } from "../../protocol/generated/types/ecr.js";
import type { Provider } from "../../protocol/service.js";
import type { EcrContext, RepositoryRecord } from "./context.js";
import { expiredImages, parseLifecyclePolicy } from "./lifecycle.js";
import { periodic } from "../../core/periodic.js";
import { ecrErrors } from "../../protocol/generated/errors/ecr.js";

const noPolicy = (r: RepositoryRecord, account: string) =>
  ecrErrors.LifecyclePolicyNotFoundException(
    `Lifecycle policy does not exist for the repository with name '${r.repositoryName}' in the registry with id '${account}'`,
  );

/** What a policy would expire in a repository now. */
async function evaluate(ecr: EcrContext, scope: Scope, r: RepositoryRecord, policyText: string) {
  const rules = parseLifecyclePolicy(policyText);
  const images = await ecr.deps.registry.listImages(ecr.ref(scope, r));
  return expiredImages(
    rules,
    images.map((i) => ({ digest: i.digest, tags: i.tags, pushedAt: i.pushedAt })),
    ecr.deps.clock.now(),
  );
}

/** Expires what the repository's lifecycle policy selects; returns how many images went. */
export async function applyLifecyclePolicy(ecr: EcrContext, scope: Scope, r: RepositoryRecord): Promise<number> {
  if (!r.lifecyclePolicyText) return 0;
  const expired = await evaluate(ecr, scope, r, r.lifecyclePolicyText);
  for (const e of expired) await ecr.deps.registry.deleteManifest(ecr.ref(scope, r), e.image.digest);
  return expired.length;
}

/** Runs every repository's lifecycle policy on an interval (AWS applies them within 24 hours). */
export function startLifecycleRunner(ecr: EcrContext, everyMs: number, logger: Logger) {
  const runAll = async () => {
    for (const { scope, doc } of ecr.repositories.listAll()) {
      if (!doc.lifecyclePolicyText) continue;
      const n = await applyLifecyclePolicy(ecr, scope, doc);
      if (n > 0) logger.info({ repository: doc.repositoryName, expired: n }, "lifecycle policy expired images");
    }
  };
  const loop = periodic(runAll, { name: "lifecycle policy run", everyMs, logger, clock: ecr.deps.clock });
  void loop.start();
  return { runSoon: () => setTimeout(() => void loop.runNow(), 50).unref(), stop: loop.stop };
}

export function lifecycleOperations(ecr: EcrContext, runSoon: () => void): Provider<Operations> {
  return {
    PutLifecyclePolicy: (input, ctx) => {
      const r = ecr.get(ctx, input.repositoryName, input.registryId, false);
      parseLifecyclePolicy(input.lifecyclePolicyText);
      ecr.save(ctx, {
        ...r,
        lifecyclePolicyText: input.lifecyclePolicyText,
        lifecyclePolicyUpdatedAt: ecr.deps.clock.now(),
      });
      runSoon();
      return {
        registryId: r.registryId,
        repositoryName: r.repositoryName,
        lifecyclePolicyText: input.lifecyclePolicyText,
      };
    },
    GetLifecyclePolicy: (input, ctx) => {
      const r = ecr.get(ctx, input.repositoryName, input.registryId, false);
      if (!r.lifecyclePolicyText) throw noPolicy(r, ctx.account);
      return {
        registryId: r.registryId,
        repositoryName: r.repositoryName,
        lifecyclePolicyText: r.lifecyclePolicyText,
        lastEvaluatedAt: r.lifecyclePolicyUpdatedAt,
      };
    },
    DeleteLifecyclePolicy: (input, ctx) => {
      const r = ecr.get(ctx, input.repositoryName, input.registryId, false);
      if (!r.lifecyclePolicyText) throw noPolicy(r, ctx.account);
      ecr.save(ctx, { ...r, lifecyclePolicyText: undefined, lifecyclePolicyUpdatedAt: undefined });
      return {
        registryId: r.registryId,
        repositoryName: r.repositoryName,
        lifecyclePolicyText: r.lifecyclePolicyText,
        lastEvaluatedAt: r.lifecyclePolicyUpdatedAt,
      };
    },
    StartLifecyclePolicyPreview: async (input, ctx) => {
      const r = ecr.get(ctx, input.repositoryName, input.registryId, false);
      const text = input.lifecyclePolicyText ?? r.lifecyclePolicyText;
      if (!text) throw noPolicy(r, ctx.account);
      const expired = await evaluate(ecr, ctx, r, text);
      ecr.save(ctx, {
        ...r,
        preview: {
          policyText: text,
          results: expired.map((e) => ({
            digest: e.image.digest,
            tags: e.image.tags,
            pushedAt: e.image.pushedAt,
            rulePriority: e.rulePriority,
          })),
        },
      });
      return {
        registryId: r.registryId,
        repositoryName: r.repositoryName,
        lifecyclePolicyText: text,
        status: "IN_PROGRESS",
      };
    },
    GetLifecyclePolicyPreview: (input, ctx) => {
      const r = ecr.get(ctx, input.repositoryName, input.registryId, false);
      if (!r.preview)
        throw ecrErrors.LifecyclePolicyPreviewNotFoundException(
          `There is no lifecycle policy preview for the repository with name '${r.repositoryName}'; start one with StartLifecyclePolicyPreview.`,
        );
      const wanted = input.imageIds?.map((i) => i.imageDigest);
      const results = r.preview.results.filter((x) => !wanted?.length || wanted.includes(x.digest));
      return {
        registryId: r.registryId,
        repositoryName: r.repositoryName,
        lifecyclePolicyText: r.preview.policyText,
        status: "COMPLETE",
        previewResults: results.map((x) => ({
          imageDigest: x.digest,
          imageTags: x.tags,
          imagePushedAt: x.pushedAt,
          action: { type: "EXPIRE" },
          appliedRulePriority: x.rulePriority,
        })),
        summary: { expiringImageTotalCount: results.length },
      };
    },
  };
}
