import { isError } from "../../core/errors.js";
import type { Layer, LayerFailure, Operations } from "../../protocol/generated/types/ecr.js";
import type { Provider, RequestContext } from "../../protocol/service.js";
import { type EcrContext, toEcrError } from "./context.js";
import { ecrErrors } from "../../protocol/generated/errors/ecr.js";

const LAYER_MEDIA_TYPE = "application/vnd.docker.image.rootfs.diff.tar.gzip";
const DIGEST = /^sha(256:[a-f0-9]{64}|512:[a-f0-9]{128})$/;

/** The layer-level upload API beside the registry protocol (ECR and ECR Public). */
export function layerOperations(ecr: EcrContext, isPublic: boolean): Provider<Operations> {
  const target = (ctx: RequestContext, name: string, registryId?: string) => {
    const r = ecr.get(ctx, name, registryId, isPublic);
    return { r, ref: ecr.ref(ctx, r) };
  };
  return {
    BatchCheckLayerAvailability: async (input, ctx) => {
      const { ref } = target(ctx, input.repositoryName, input.registryId);
      const layers: Layer[] = [];
      const failures: LayerFailure[] = [];
      for (const digest of input.layerDigests) {
        if (!DIGEST.test(digest)) {
          failures.push({
            layerDigest: digest,
            failureCode: "InvalidLayerDigest",
            failureReason: "Invalid layer digest",
          });
          continue;
        }
        const size = await ecr.deps.registry.statBlob(ref, digest);
        if (size === undefined)
          failures.push({
            layerDigest: digest,
            failureCode: "MissingLayerDigest",
            failureReason: "Could not find layer",
          });
        else
          layers.push({
            layerDigest: digest,
            layerAvailability: "AVAILABLE",
            layerSize: size,
            mediaType: LAYER_MEDIA_TYPE,
          });
      }
      return { layers, failures };
    },

    InitiateLayerUpload: async (input, ctx) => {
      const { ref } = target(ctx, input.repositoryName, input.registryId);
      return { uploadId: await ecr.deps.registry.startUpload(ref), partSize: 10_485_760 };
    },

    UploadLayerPart: async (input, ctx) => {
      const { r, ref } = target(ctx, input.repositoryName, input.registryId);
      const blob = Buffer.from(input.layerPartBlob);
      if (input.partLastByte - input.partFirstByte + 1 !== blob.length)
        throw ecrErrors.InvalidLayerPartException(
          `partFirstByte ${input.partFirstByte} and partLastByte ${input.partLastByte} do not span the ${blob.length} bytes sent.`,
        );
      try {
        const size = await ecr.deps.registry.appendUpload(ref, input.uploadId, input.partFirstByte, blob);
        return {
          registryId: r.registryId,
          repositoryName: r.repositoryName,
          uploadId: input.uploadId,
          lastByteReceived: size - 1,
        };
      } catch (e) {
        throw toEcrError(e, { repository: r.repositoryName });
      }
    },

    CompleteLayerUpload: async (input, ctx) => {
      const { r, ref } = target(ctx, input.repositoryName, input.registryId);
      const [digest] = input.layerDigests;
      if (!DIGEST.test(digest ?? "")) throw ecrErrors.InvalidLayerException(`Invalid layer digest '${digest}'.`);
      if ((await ecr.deps.registry.statBlob(ref, digest)) !== undefined)
        throw ecrErrors.LayerAlreadyExistsException(
          `The layer '${digest}' already exists in the repository with name '${r.repositoryName}'`,
        );
      try {
        await ecr.deps.registry.completeUpload(ref, input.uploadId, digest);
      } catch (e) {
        const mapped = toEcrError(e, { repository: r.repositoryName });
        if (isError(mapped, ecrErrors.InvalidParameterException))
          throw ecrErrors.InvalidLayerException(`The uploaded content does not match digest ${digest}.`);
        throw mapped;
      }
      return {
        registryId: r.registryId,
        repositoryName: r.repositoryName,
        uploadId: input.uploadId,
        layerDigest: digest,
      };
    },

    GetDownloadUrlForLayer: async (input, ctx) => {
      const { r, ref } = target(ctx, input.repositoryName, input.registryId);
      if ((await ecr.deps.registry.statBlob(ref, input.layerDigest)) === undefined)
        throw ecrErrors.LayersNotFoundException(
          `The layer '${input.layerDigest}' does not exist in the repository with name '${r.repositoryName}'`,
        );
      return {
        downloadUrl: `http://${ecr.hostFor(ctx)}/v2/${ref.name}/blobs/${input.layerDigest}`,
        layerDigest: input.layerDigest,
      };
    },
  };
}
