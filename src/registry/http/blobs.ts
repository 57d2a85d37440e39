import { requireDigest } from "../registry.js";
import { registryError } from "../errors.js";
import type { RouteContext } from "./context.js";
import { send, sendError } from "./respond.js";

/** `Range: bytes=a-b | a- | -n` → inclusive bounds; null when absent or not a single range (serve it all). */
export function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | null | "unsatisfiable" {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header?.trim() ?? "");
  if (!m || (m[1] === "" && m[2] === "")) return null;
  let start: number;
  let end: number;
  if (m[1] === "") {
    const suffix = Number(m[2]);
    if (suffix === 0) return "unsatisfiable";
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
    if (m[2] !== "" && Number(m[2]) < start) return null;
  }
  if (start >= size) return "unsatisfiable";
  return { start, end };
}

const blobHeaders = (digest: string) => ({
  "docker-content-digest": digest,
  etag: `"${digest}"`,
  "accept-ranges": "bytes",
  "cache-control": "max-age=31536000",
});

/** GET / HEAD / DELETE /v2/<name>/blobs/<digest> */
export async function blobRoute(ctx: RouteContext, digestParam: string) {
  const { req, res, registry, repo } = ctx;
  const digest = requireDigest(digestParam);
  if (req.method === "DELETE") {
    if (!(await registry.deleteBlob(repo, digest.value)))
      throw registryError("BLOB_UNKNOWN", `blob ${digest.value} is not in repository ${repo.name}`, {
        digest: digest.value,
      });
    return send(res, 202, {});
  }
  const size = await registry.statBlob(repo, digest.value);
  if (size === undefined) {
    // A manifest is content too: distribution serves it from the blob endpoint.
    const m = registry.meta.manifest(repo, digest.value);
    if (m) return send(res, 200, { ...blobHeaders(digest.value), "content-type": m.mediaType }, m.body);
    throw registryError("BLOB_UNKNOWN", `blob ${digest.value} is not in repository ${repo.name}`, {
      digest: digest.value,
    });
  }
  const headers = { ...blobHeaders(digest.value), "content-type": "application/octet-stream" };
  const range = parseRange(req.headers.range, size);
  if (range === "unsatisfiable")
    return sendError(
      res,
      registryError("RANGE_INVALID", `the range ${req.headers.range} is outside the blob's ${size} bytes`),
      {
        "content-range": `bytes */${size}`,
      },
    );
  if (req.method === "HEAD") return send(res, 200, { ...headers, "content-length": size });
  if (range) {
    res.writeHead(206, {
      ...ctx.baseHeaders,
      ...headers,
      "content-length": range.end - range.start + 1,
      "content-range": `bytes ${range.start}-${range.end}/${size}`,
    });
  } else res.writeHead(200, { ...ctx.baseHeaders, ...headers, "content-length": size });
  try {
    await registry.copyBlob(digest, res, range ?? undefined);
    res.end();
  } catch (e) {
    // The client went away mid-transfer, or the content is gone: cut the response short.
    if (!res.destroyed) ctx.logError?.(e);
    res.destroy();
  }
}
