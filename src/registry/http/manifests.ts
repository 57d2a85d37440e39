import { registryError } from "../errors.js";
import { MAX_MANIFEST_BYTES, MEDIA_TYPES, negotiate } from "../manifest.js";
import { parseReference, requireDigest } from "../registry.js";
import type { RouteContext } from "./context.js";
import { nextLink, pagination, readLimited, send, sendJson } from "./respond.js";

const unknown = (ctx: RouteContext, reference: string, why?: string) =>
  registryError("MANIFEST_UNKNOWN", why ?? `manifest '${reference}' is not in repository ${ctx.repo.name}`, {
    name: ctx.repo.name,
    reference,
  });

const manifestHeaders = (digest: string, mediaType: string) => ({
  "content-type": mediaType,
  "docker-content-digest": digest,
  etag: `"${digest}"`,
});

/** GET / HEAD / PUT / DELETE /v2/<name>/manifests/<reference> */
export async function manifestRoute(ctx: RouteContext, reference: string) {
  const { req, res, registry, repo } = ctx;
  const ref = parseReference(reference);
  switch (req.method) {
    case "GET":
    case "HEAD": {
      // A HEAD is a pull too: docker only HEADs a manifest it already has the layers of.
      const pull = true;
      let m = await registry.getManifest(repo, reference, pull);
      if (!m) throw unknown(ctx, reference);
      const choice = negotiate(req.headers.accept, m, "tag" in ref);
      if (!choice.serve) {
        const child = choice.child ? await registry.getManifest(repo, choice.child, pull) : undefined;
        if (!child) throw unknown(ctx, reference, choice.reason);
        m = child;
      }
      return send(res, 200, manifestHeaders(m.digest, m.mediaType), m.body);
    }
    case "PUT": {
      const body = await readLimited(req, MAX_MANIFEST_BYTES);
      const stored = await registry.putManifest(repo, reference, req.headers["content-type"] ?? "", body);
      const headers: Record<string, string> = {
        location: `${ctx.base}/manifests/${stored.digest}`,
        "docker-content-digest": stored.digest,
      };
      if (stored.subject) headers["oci-subject"] = stored.subject;
      return send(res, 201, headers);
    }
    case "DELETE":
      if (!(await registry.deleteManifest(repo, reference))) throw unknown(ctx, reference);
      return send(res, 202, {});
  }
  throw registryError("UNSUPPORTED", `${req.method} is not supported on a manifest`, undefined, 405);
}

/** GET /v2/<name>/referrers/<digest>[?artifactType=…] — an OCI index of the manifests whose subject it is. */
export async function referrersRoute(ctx: RouteContext, digestParam: string) {
  if (ctx.req.method !== "GET" && ctx.req.method !== "HEAD")
    throw registryError("UNSUPPORTED", `${ctx.req.method} is not supported on referrers`, undefined, 405);
  const d = requireDigest(digestParam);
  const artifactType = ctx.url.searchParams.get("artifactType") ?? undefined;
  const manifests = ctx.registry.referrers(ctx.repo, d.value, artifactType);
  const body = JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests });
  return send(
    ctx.res,
    200,
    {
      "content-type": MEDIA_TYPES.ociIndex,
      ...(artifactType !== undefined ? { "oci-filters-applied": "artifactType" } : {}),
    },
    body,
  );
}

/** GET /v2/<name>/tags/list[?n=&last=] */
export async function tagsRoute(ctx: RouteContext) {
  if (ctx.req.method !== "GET" && ctx.req.method !== "HEAD")
    throw registryError("UNSUPPORTED", `${ctx.req.method} is not supported on tags`, undefined, 405);
  const { n, last } = pagination(ctx.url);
  const name = ctx.repo.name;
  if (n === undefined) {
    const all = (await ctx.registry.listTags(ctx.repo)).filter((t) => t > last);
    return sendJson(ctx.res, 200, { name, tags: all });
  }
  const page = ctx.registry.tagsPage(ctx.repo, last, n);
  const headers = page.more && page.tags.length > 0 ? nextLink(`${ctx.base}/tags/list`, n, page.tags.at(-1)!) : {};
  return sendJson(ctx.res, 200, { name, tags: page.tags }, headers);
}
