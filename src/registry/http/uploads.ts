import { registryError } from "../errors.js";
import { REPOSITORY_NAME } from "./names.js";
import { requireDigest } from "../registry.js";
import type { RouteContext } from "./context.js";
import { contentLength, drain, hasBody, isRegistryError, send, sendError } from "./respond.js";

/** `Content-Range: <start>-<end>` (also tolerating `bytes ` and `/<total>`) → offset and length. */
export function parseContentRange(header: string | undefined): { offset: number; length: number } | undefined {
  if (header === undefined) return undefined;
  const m = /^(?:bytes[ =])?(\d+)-(\d+)(?:\/(?:\d+|\*))?$/.exec(header.trim());
  if (!m || Number(m[2]) < Number(m[1]))
    throw registryError("BLOB_UPLOAD_INVALID", `invalid Content-Range '${header}' (expected <start>-<end>)`);
  return { offset: Number(m[1]), length: Number(m[2]) - Number(m[1]) + 1 };
}

/** The `Range` header of an upload: bytes received so far, inclusive; `0-0` when none. */
const rangeOf = (size: number) => `0-${Math.max(0, size - 1)}`;

function uploadHeaders(ctx: RouteContext, id: string, size: number) {
  return {
    location: `${ctx.base}/blobs/uploads/${id}`,
    range: rangeOf(size),
    "docker-upload-uuid": id,
  };
}

/** Offset and length a chunk declares, from Content-Range and Content-Length. */
function chunkBounds(ctx: RouteContext): { offset?: number; length?: number } {
  const range = parseContentRange(ctx.req.headers["content-range"]);
  const length = contentLength(ctx.req);
  if (range && length !== undefined && length !== range.length)
    throw registryError(
      "BLOB_UPLOAD_INVALID",
      `Content-Range ${ctx.req.headers["content-range"]} spans ${range.length} bytes but Content-Length is ${length}`,
    );
  return { offset: range?.offset, length: range?.length ?? length };
}

/** POST /v2/<name>/blobs/uploads/ — start, monolithic upload (?digest=) or cross-repository mount (?mount=&from=). */
export async function startUploadRoute(ctx: RouteContext) {
  const { req, res, url, registry, repo, policy } = ctx;
  const mount = url.searchParams.get("mount");
  const from = url.searchParams.get("from");
  if (mount !== null) {
    const d = requireDigest(mount);
    let mounted = false;
    if (from !== null && REPOSITORY_NAME.test(from)) {
      const source = policy.repository({ account: repo.account, region: repo.region, name: from });
      if (source && policy.authorize(ctx.authorization, source, "pull") === "ok")
        mounted = await registry.mountBlob(repo, source, d.value);
    } else if (from === null) mounted = (await registry.statBlob(repo, d.value)) !== undefined;
    if (mounted) {
      await drain(req);
      return send(res, 201, { location: `${ctx.base}/blobs/${d.value}`, "docker-content-digest": d.value });
    }
  }
  const digestParam = url.searchParams.get("digest");
  if (digestParam !== null) {
    const d = requireDigest(digestParam);
    const id = await registry.startUpload(repo, d.algorithm);
    try {
      await registry.completeUpload(repo, id, d.value, { data: req, length: contentLength(req) });
    } catch (e) {
      await registry.cancelUpload(repo, id).catch(() => {});
      throw e;
    }
    return send(res, 201, { location: `${ctx.base}/blobs/${d.value}`, "docker-content-digest": d.value });
  }
  await drain(req);
  const id = await registry.startUpload(repo);
  return send(res, 202, uploadHeaders(ctx, id, 0));
}

/** GET / PATCH / PUT / DELETE /v2/<name>/blobs/uploads/<id> */
export async function uploadRoute(ctx: RouteContext, id: string) {
  const { req, res, url, registry, repo } = ctx;
  switch (req.method) {
    case "GET": {
      const s = await registry.uploadStatus(repo, id);
      return send(res, 204, uploadHeaders(ctx, id, s.size));
    }
    case "DELETE":
      await registry.cancelUpload(repo, id);
      return send(res, 204, {});
    case "PATCH": {
      const bounds = chunkBounds(ctx);
      try {
        const size = await registry.appendUpload(repo, id, bounds.offset, req, bounds.length);
        return send(res, 202, uploadHeaders(ctx, id, size));
      } catch (e) {
        return answerChunkError(ctx, id, e);
      }
    }
    case "PUT": {
      const d = requireDigest(url.searchParams.get("digest"));
      const last = hasBody(req) ? { data: req, ...chunkBounds(ctx) } : undefined;
      try {
        await registry.completeUpload(repo, id, d.value, last);
      } catch (e) {
        return answerChunkError(ctx, id, e);
      }
      return send(res, 201, { location: `${ctx.base}/blobs/${d.value}`, "docker-content-digest": d.value });
    }
  }
  throw registryError("UNSUPPORTED", `${req.method} is not supported on an upload`, undefined, 405);
}

/** Errors of a chunk carry the upload's state (Location, Range) so the client can resume. */
async function answerChunkError(ctx: RouteContext, id: string, e: unknown) {
  if (!isRegistryError(e) || e.code === "BLOB_UPLOAD_UNKNOWN" || e.code === "DIGEST_INVALID") throw e;
  const s = await ctx.registry.uploadStatus(ctx.repo, id).catch(() => undefined);
  return sendError(ctx.res, e, s ? uploadHeaders(ctx, id, s.size) : {});
}
