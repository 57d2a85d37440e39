import { type Digest, digestProblem, parseDigest } from "./digest.js";
import { registryError } from "./errors.js";

/** Pure manifest rules: parsing and validating what clients PUT, and content negotiation on GET. */

export const MEDIA_TYPES = {
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerList: "application/vnd.docker.distribution.manifest.list.v2+json",
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociIndex: "application/vnd.oci.image.index.v1+json",
  dockerConfig: "application/vnd.docker.container.image.v1+json",
  ociConfig: "application/vnd.oci.image.config.v1+json",
} as const;

const SCHEMA1 = new Set([
  "application/vnd.docker.distribution.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.v1+prettyjws",
]);
const IMAGE_TYPES = new Set<string>([MEDIA_TYPES.dockerManifest, MEDIA_TYPES.ociManifest]);
const INDEX_TYPES = new Set<string>([MEDIA_TYPES.dockerList, MEDIA_TYPES.ociIndex]);
export const MANIFEST_TYPES: ReadonlySet<string> = new Set([...IMAGE_TYPES, ...INDEX_TYPES]);
const IMAGE_CONFIG_TYPES = new Set<string>([MEDIA_TYPES.dockerConfig, MEDIA_TYPES.ociConfig]);
/** Layers that may live elsewhere (their `urls`); the registry need not hold them. */
const FOREIGN_LAYERS =
  /^application\/vnd\.(docker\.image\.rootfs\.foreign\.diff|oci\.image\.layer\.nondistributable\.v1)/;

/** The largest manifest Berth (like ECR and distribution) accepts: 4 MiB. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
  urls?: string[];
  platform?: { os?: string; architecture?: string; variant?: string };
}

export interface ParsedManifest {
  mediaType: string;
  kind: "image" | "index";
  /** Blobs that must be in the repository (config and layers, less foreign layers with URLs). */
  blobs: string[];
  /** Manifests that must be in the repository (an index's children). */
  manifests: Descriptor[];
  subject?: Descriptor;
  /** The referrers API's `artifactType`: the manifest's, else an image's config media type. */
  referrerArtifactType?: string;
  /** ECR's artifactMediaType: `artifactType`, or the config media type of a non-image artifact. */
  artifactMediaType?: string;
  annotations?: Record<string, string>;
  /** Sum of layer sizes (images) or of child manifest sizes (indexes). */
  size: number;
}

const invalid = (message: string, detail?: unknown) => registryError("MANIFEST_INVALID", message, detail);

/** `type/subtype` without parameters, lowercased; undefined for an empty header. */
export function bareMediaType(contentType: string | undefined): string | undefined {
  const t = contentType?.split(";")[0].trim().toLowerCase();
  return t ? t : undefined;
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function stringMap(v: unknown, where: string): Record<string, string> | undefined {
  if (v === undefined) return undefined;
  if (!isObject(v) || Object.values(v).some((x) => typeof x !== "string"))
    throw invalid(`${where} must be an object of strings`);
  return v as Record<string, string>;
}

function descriptor(v: unknown, where: string): Descriptor {
  if (!isObject(v)) throw invalid(`${where} must be a descriptor object`);
  const { mediaType, digest, size, artifactType, urls, platform } = v;
  if (typeof mediaType !== "string" || mediaType === "") throw invalid(`${where}.mediaType must be a non-empty string`);
  if (typeof digest !== "string") throw invalid(`${where}.digest must be a string`);
  const d = parseDigest(digest);
  if (!d) throw invalid(`${where}.digest: ${digestProblem(digest)}`);
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0)
    throw invalid(`${where}.size must be a non-negative integer`);
  if (artifactType !== undefined && typeof artifactType !== "string")
    throw invalid(`${where}.artifactType must be a string`);
  if (urls !== undefined && (!Array.isArray(urls) || urls.some((u) => typeof u !== "string")))
    throw invalid(`${where}.urls must be an array of strings`);
  if (platform !== undefined && !isObject(platform)) throw invalid(`${where}.platform must be an object`);
  return {
    mediaType,
    digest,
    size,
    artifactType: artifactType as string | undefined,
    annotations: stringMap(v.annotations, `${where}.annotations`),
    urls: urls as string[] | undefined,
    platform: platform as Descriptor["platform"],
  };
}

/**
 * Validates a manifest body and works out what it references. `contentType` is the request's
 * Content-Type; when it names a manifest type the body's own `mediaType` (if any) must agree,
 * otherwise the body's `mediaType` (or its shape) decides. Throws MANIFEST_INVALID.
 */
export function parseManifest(contentType: string | undefined, body: Buffer): ParsedManifest {
  if (body.length > MAX_MANIFEST_BYTES)
    throw registryError(
      "MANIFEST_INVALID",
      `manifest is ${body.length} bytes; the limit is ${MAX_MANIFEST_BYTES} bytes (4 MiB)`,
      undefined,
      413,
    );
  let doc: unknown;
  try {
    doc = JSON.parse(utf8.decode(body));
  } catch (e) {
    throw invalid(`manifest is not valid UTF-8 JSON: ${(e as Error).message}`);
  }
  if (!isObject(doc)) throw invalid("manifest must be a JSON object");
  const declared = bareMediaType(contentType);
  if (doc.mediaType !== undefined && typeof doc.mediaType !== "string") throw invalid("mediaType must be a string");
  const own = doc.mediaType as string | undefined;
  if ((declared && SCHEMA1.has(declared)) || (own && SCHEMA1.has(own)) || doc.schemaVersion === 1)
    throw invalid("Docker image manifest schema 1 is not supported; push with a current client (schema 2 or OCI)");
  if (doc.schemaVersion !== 2) throw invalid("schemaVersion must be 2");

  let mediaType: string;
  if (declared && MANIFEST_TYPES.has(declared)) {
    if (own !== undefined && own !== declared)
      throw invalid(`the manifest's mediaType ${own} does not match its Content-Type ${declared}`);
    mediaType = declared;
  } else if (own !== undefined) {
    if (!MANIFEST_TYPES.has(own)) throw invalid(`unsupported manifest media type ${own}`);
    mediaType = own;
  } else if (Array.isArray(doc.manifests)) mediaType = MEDIA_TYPES.ociIndex;
  else if (isObject(doc.config)) mediaType = MEDIA_TYPES.ociManifest;
  else throw invalid(`cannot tell the manifest's type from Content-Type ${declared ?? "(none)"} or its content`);

  if (doc.artifactType !== undefined && typeof doc.artifactType !== "string")
    throw invalid("artifactType must be a string");
  const artifactType = doc.artifactType as string | undefined;
  const subject = doc.subject === undefined ? undefined : descriptor(doc.subject, "subject");
  const annotations = stringMap(doc.annotations, "annotations");

  if (IMAGE_TYPES.has(mediaType)) {
    const config = descriptor(doc.config, "config");
    if (!Array.isArray(doc.layers)) throw invalid("layers must be an array");
    const layers = doc.layers.map((l, i) => descriptor(l, `layers[${i}]`));
    const blobs = [config.digest];
    for (const l of layers) if (!(l.urls?.length && FOREIGN_LAYERS.test(l.mediaType))) blobs.push(l.digest);
    return {
      mediaType,
      kind: "image",
      blobs: [...new Set(blobs)],
      manifests: [],
      subject,
      referrerArtifactType: artifactType ?? config.mediaType,
      artifactMediaType: artifactType ?? (IMAGE_CONFIG_TYPES.has(config.mediaType) ? undefined : config.mediaType),
      annotations,
      size: layers.reduce((n, l) => n + l.size, 0),
    };
  }
  if (!Array.isArray(doc.manifests)) throw invalid("manifests must be an array");
  const manifests = doc.manifests.map((m, i) => descriptor(m, `manifests[${i}]`));
  return {
    mediaType,
    kind: "index",
    blobs: [],
    manifests,
    subject,
    referrerArtifactType: artifactType,
    artifactMediaType: artifactType,
    annotations,
    size: manifests.reduce((n, m) => n + m.size, 0),
  };
}

/** What a GET of a stored manifest should answer, given the client's Accept header. */
export type Negotiation = { serve: true } | { serve: false; child?: string; reason: string };

/**
 * Content negotiation as distribution does it. No Accept header, `*\/*` or the stored type: serve
 * it. A Docker manifest list to a client that does not take lists, fetched by tag: the
 * linux/amd64 child. Otherwise MANIFEST_UNKNOWN with the reason (a manifest is never converted).
 */
export function negotiate(
  accept: string | string[] | undefined,
  stored: { mediaType: string; body: Buffer },
  byTag: boolean,
): Negotiation {
  const values = (Array.isArray(accept) ? accept.join(",") : (accept ?? ""))
    .split(",")
    .map((v) => bareMediaType(v))
    .filter((v): v is string => !!v);
  if (values.length === 0 || values.includes("*/*") || values.includes(stored.mediaType)) return { serve: true };
  if (stored.mediaType === MEDIA_TYPES.dockerList && byTag) {
    try {
      const doc = JSON.parse(stored.body.toString("utf8")) as { manifests?: Descriptor[] };
      const child = doc.manifests?.find(
        (m) => m.platform?.os === "linux" && m.platform?.architecture === "amd64" && values.includes(m.mediaType),
      );
      if (child) return { serve: false, child: child.digest, reason: "" };
    } catch {
      // stored manifests are valid JSON
    }
  }
  return {
    serve: false,
    reason: `the manifest is ${stored.mediaType}, which the request's Accept header (${values.join(", ")}) does not include`,
  };
}

/** The descriptor of a manifest as the referrers API lists it. */
export function referrerDescriptor(digest: string, stored: { mediaType: string; body: Buffer }): Descriptor {
  const m = parseManifest(stored.mediaType, stored.body);
  const d: Descriptor = { mediaType: stored.mediaType, digest, size: stored.body.length };
  if (m.referrerArtifactType !== undefined) d.artifactType = m.referrerArtifactType;
  if (m.annotations !== undefined) d.annotations = m.annotations;
  return d;
}

export type { Digest };
