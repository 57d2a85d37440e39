import type { Digest } from "./digest.js";

/**
 * The one module that knows where things live in the storage driver's namespace (rooted at
 * `<dataDir>/registry/` for the filesystem driver). Metadata (manifests, tags, links) lives in
 * SQLite; the driver holds only content and in-progress uploads:
 *
 *   /blobs/<algorithm>/<first two hex>/<hex>/data    committed, verified content
 *   /uploads/<uuid>/data                              bytes received so far
 *   /uploads/<uuid>/info                              JSON: repository and start time
 */
export const layout = {
  blobsRoot: "/blobs",
  /** The directory of one blob (deleting it removes the blob). */
  blobDir: (d: Digest) => `/blobs/${d.algorithm}/${d.hex.slice(0, 2)}/${d.hex}`,
  blobData: (d: Digest) => `/blobs/${d.algorithm}/${d.hex.slice(0, 2)}/${d.hex}/data`,
  uploadsRoot: "/uploads",
  uploadDir: (id: string) => `/uploads/${id}`,
  uploadData: (id: string) => `/uploads/${id}/data`,
  uploadInfo: (id: string) => `/uploads/${id}/info`,
  /** The digest a `/blobs/<alg>/<xx>/<hex>` directory holds, from its path (for the GC's walk). */
  digestOfBlobDir(path: string): string | undefined {
    const m = /^\/blobs\/([a-z0-9]+)\/([a-f0-9]{2})\/([a-f0-9]+)$/.exec(path);
    if (!m?.[3].startsWith(m[2])) return undefined;
    return `${m[1]}:${m[3]}`;
  },
} as const;

/** Upload ids are UUIDs; anything else in a URL is an unknown upload, never a path. */
export const UPLOAD_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
