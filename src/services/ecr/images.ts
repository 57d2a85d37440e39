import { createHash } from "node:crypto";
import { pageByKey, pageSize } from "../../core/paginate.js";
import type {
  Image,
  ImageDetail,
  ImageFailure,
  ImageIdentifier,
  Operations,
} from "../../protocol/generated/types/ecr.js";
import type { ImageSummary } from "../../registry/api.js";
import type { Provider, RequestContext } from "../../protocol/service.js";
import { type EcrContext, type RepositoryRecord, toEcrError } from "./context.js";
import { ecrErrors } from "../../protocol/generated/errors/ecr.js";

const DIGEST = /^sha(256:[a-f0-9]{64}|512:[a-f0-9]{128})$/;
const TAG = /^[\w][\w.-]{0,299}$/;

type Resolution = { image: ImageSummary; tag?: string } | { failure: ImageFailure };

/** Finds the image an ImageIdentifier names, or the BatchGetImage-style failure (AWS-FACTS §5). */
export function resolveImage(images: ImageSummary[], id: ImageIdentifier): Resolution {
  if (!id.imageDigest && !id.imageTag)
    return {
      failure: {
        imageId: id,
        failureCode: "MissingDigestAndTag",
        failureReason: "Requested image digest and tag are both missing",
      },
    };
  if (id.imageDigest && !DIGEST.test(id.imageDigest))
    return {
      failure: {
        imageId: id,
        failureCode: "InvalidImageDigest",
        failureReason: "Invalid request parameters: image digest should satisfy the regex 'sha256:[a-f0-9]{64}'",
      },
    };
  if (id.imageTag && !TAG.test(id.imageTag))
    return {
      failure: {
        imageId: id,
        failureCode: "InvalidImageTag",
        failureReason:
          "Invalid request parameters: image tag should satisfy the regex '[a-zA-Z0-9_][a-zA-Z0-9_.-]{0,299}'",
      },
    };
  const byDigest = id.imageDigest ? images.find((i) => i.digest === id.imageDigest) : undefined;
  const byTag = id.imageTag ? images.find((i) => i.tags.includes(id.imageTag!)) : undefined;
  if (id.imageDigest && id.imageTag) {
    if (byDigest && byTag && byDigest !== byTag)
      return {
        failure: {
          imageId: id,
          failureCode: "ImageTagDoesNotMatchDigest",
          failureReason: "Invalid request parameters: given tag and digest do not match",
        },
      };
  }
  const image = byDigest ?? byTag;
  if (!image || (id.imageDigest && id.imageTag && (!byDigest || !byTag)))
    return { failure: { imageId: id, failureCode: "ImageNotFound", failureReason: "Requested image not found" } };
  return { image, tag: id.imageTag };
}

const detail = (r: RepositoryRecord, i: ImageSummary): ImageDetail => ({
  registryId: r.registryId,
  repositoryName: r.repositoryName,
  imageDigest: i.digest,
  imageTags: i.tags.length ? [...i.tags].sort() : undefined,
  imageSizeInBytes: i.size,
  imagePushedAt: i.pushedAt,
  imageManifestMediaType: i.mediaType,
  artifactMediaType: i.artifactMediaType,
  lastRecordedPullTime: i.lastPulledAt,
  subjectManifestDigest: i.subject,
  imageStatus: "ACTIVE",
});

/** Reads the manifest's own mediaType member, when it declares one. */
function declaredMediaType(manifest: string): string | undefined {
  try {
    const m = JSON.parse(manifest) as { mediaType?: unknown };
    return typeof m.mediaType === "string" ? m.mediaType : undefined;
  } catch {
    throw ecrErrors.InvalidParameterException(
      "Invalid parameter at 'imageManifest' failed to satisfy constraint: 'Invalid JSON syntax'",
    );
  }
}

/** Image operations (ECR and ECR Public share them; `isPublic` picks the repository kind). */
export function imageOperations(ecr: EcrContext, isPublic: boolean): Provider<Operations> {
  const repo = (ctx: RequestContext, name: string, registryId?: string) => ecr.get(ctx, name, registryId, isPublic);
  const list = (ctx: RequestContext, r: RepositoryRecord) => ecr.deps.registry.listImages(ecr.ref(ctx, r));

  return {
    ListImages: async (input, ctx) => {
      const r = repo(ctx, input.repositoryName, input.registryId);
      const status = input.filter?.tagStatus ?? "ANY";
      const ids: ImageIdentifier[] = [];
      for (const i of await list(ctx, r)) {
        if (i.tags.length === 0) {
          if (status !== "TAGGED") ids.push({ imageDigest: i.digest });
        } else if (status !== "UNTAGGED") for (const t of i.tags) ids.push({ imageDigest: i.digest, imageTag: t });
      }
      const { page, nextToken } = pageByKey(ids, (id) => [id.imageDigest!, id.imageTag ?? ""], {
        nextToken: input.nextToken,
        limit: pageSize(input.maxResults, { default: 100, max: 1000 }),
      });
      return { imageIds: page, nextToken };
    },

    DescribeImages: async (input, ctx) => {
      const r = repo(ctx, input.repositoryName, input.registryId);
      const images = await list(ctx, r);
      let selected: ImageSummary[];
      if (input.imageIds?.length) {
        selected = [];
        for (const id of input.imageIds) {
          const res = resolveImage(images, id);
          if ("failure" in res)
            throw ecrErrors.ImageNotFoundException(
              `The image with imageId {imageDigest:'${id.imageDigest ?? "null"}', imageTag:'${id.imageTag ?? "null"}'} does not exist within the repository with name '${r.repositoryName}' in the registry with id '${ctx.account}'`,
            );
          if (!selected.includes(res.image)) selected.push(res.image);
        }
      } else {
        const status = input.filter?.tagStatus ?? "ANY";
        selected = images.filter((i) => status === "ANY" || (status === "TAGGED") === i.tags.length > 0);
      }
      const { page, nextToken } = pageByKey(selected, (i) => [i.digest], {
        nextToken: input.nextToken,
        limit: pageSize(input.maxResults, { default: 100, max: 1000 }),
      });
      return { imageDetails: page.map((i) => detail(r, i)), nextToken };
    },

    BatchGetImage: async (input, ctx) => {
      const r = repo(ctx, input.repositoryName, input.registryId);
      const images = await list(ctx, r);
      const out: Image[] = [];
      const failures: ImageFailure[] = [];
      for (const id of input.imageIds) {
        const res = resolveImage(images, id);
        if ("failure" in res) {
          failures.push(res.failure);
          continue;
        }
        if (input.acceptedMediaTypes?.length && !input.acceptedMediaTypes.includes(res.image.mediaType)) {
          failures.push({
            imageId: id,
            failureCode: "ImageNotFound",
            failureReason: `The image's manifest media type ${res.image.mediaType} is not among acceptedMediaTypes`,
          });
          continue;
        }
        const m = await ecr.deps.registry.getManifest(ecr.ref(ctx, r), res.image.digest, true);
        if (!m) {
          failures.push({ imageId: id, failureCode: "ImageNotFound", failureReason: "Requested image not found" });
          continue;
        }
        out.push({
          registryId: r.registryId,
          repositoryName: r.repositoryName,
          imageId: { imageDigest: m.digest, imageTag: res.tag },
          imageManifest: m.body.toString("utf8"),
          imageManifestMediaType: m.mediaType,
        });
      }
      return { images: out, failures };
    },

    BatchDeleteImage: async (input, ctx) => {
      const r = repo(ctx, input.repositoryName, input.registryId);
      const ref = ecr.ref(ctx, r);
      const imageIds: ImageIdentifier[] = [];
      const failures: ImageFailure[] = [];
      for (const id of input.imageIds) {
        const res = resolveImage(await list(ctx, r), id);
        if ("failure" in res) {
          failures.push(res.failure);
          continue;
        }
        // Removing a tag untags; removing the last tag (or naming the digest) deletes the image.
        if (id.imageTag && !id.imageDigest && res.image.tags.length > 1) {
          await ecr.deps.registry.deleteManifest(ref, id.imageTag);
          imageIds.push({ imageDigest: res.image.digest, imageTag: id.imageTag });
        } else {
          await ecr.deps.registry.deleteManifest(ref, res.image.digest);
          if (res.image.tags.length === 0) imageIds.push({ imageDigest: res.image.digest });
          for (const t of res.image.tags) imageIds.push({ imageDigest: res.image.digest, imageTag: t });
        }
      }
      return { imageIds, failures };
    },

    PutImage: async (input, ctx) => {
      const r = repo(ctx, input.repositoryName, input.registryId);
      const body = Buffer.from(input.imageManifest, "utf8");
      const digest = `sha256:${createHash("sha256").update(body).digest("hex")}`;
      if (input.imageDigest && input.imageDigest !== digest)
        throw ecrErrors.ImageDigestDoesNotMatchException(
          `The digest ${input.imageDigest} does not match the manifest's digest ${digest}.`,
        );
      if (input.imageTag && !TAG.test(input.imageTag))
        throw ecrErrors.InvalidParameterException(
          `Invalid parameter at 'imageTag' failed to satisfy constraint: '${input.imageTag}' is not a valid tag`,
        );
      const mediaType =
        input.imageManifestMediaType ??
        declaredMediaType(input.imageManifest) ??
        "application/vnd.docker.distribution.manifest.v2+json";
      const existing = (await list(ctx, r)).find((i) => i.digest === digest);
      if (existing && (input.imageTag ? existing.tags.includes(input.imageTag) : true))
        throw ecrErrors.ImageAlreadyExistsException(
          `Image with digest '${digest}'${input.imageTag ? ` and tag '${input.imageTag}'` : ""} already exists in the repository with name '${r.repositoryName}' in registry with id '${ctx.account}'`,
        );
      try {
        await ecr.deps.registry.putManifest(ecr.info(ctx, r), input.imageTag ?? digest, mediaType, body);
      } catch (e) {
        throw toEcrError(e, { repository: r.repositoryName, tag: input.imageTag, digest });
      }
      return {
        image: {
          registryId: r.registryId,
          repositoryName: r.repositoryName,
          imageId: { imageDigest: digest, imageTag: input.imageTag },
          imageManifest: input.imageManifest,
          imageManifestMediaType: mediaType,
        },
      };
    },
  };
}
