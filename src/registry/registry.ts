import type { Readable, Writable } from "node:stream";
import type { Clock } from "../core/clock.js";
import type { Logger } from "../core/logger.js";
import type { Db } from "../store/db.js";
import type { ImageSummary, ManifestContent, Registry, RepoRef, RepositoryInfo } from "./api.js";
import { BlobStore } from "./blobs.js";
import { type Digest, type DigestAlgorithm, digestOf, digestProblem, looksLikeDigest, parseDigest } from "./digest.js";
import type { StorageDriver } from "./driver/driver.js";
import { isNotFound } from "./driver/driver.js";
import { registryError } from "./errors.js";
import { type GcOptions, type GcResult, collectGarbage } from "./gc.js";
import { KeyedMutex } from "./locks.js";
import { type Descriptor, parseManifest, referrerDescriptor } from "./manifest.js";
import { type ManifestRow, RegistryMetadata } from "./metadata.js";
import { checkTagMove } from "./mutability.js";
import { type UploadState, UploadStore, type WriteOptions } from "./uploads.js";
import { periodic } from "../core/periodic.js";

/** OCI tags; ECR allows up to 300 characters. */
export const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,299}$/;

/** A pull is recorded at most this often per manifest: pulls stay free of writes under load. */
const PULL_RECORD_INTERVAL_MS = 1000;

export const DEFAULT_GC: GcOptions = { graceMs: 60 * 60 * 1000, uploadTtlMs: 24 * 60 * 60 * 1000 };

export interface OciRegistryDeps {
  db: Db;
  driver: StorageDriver;
  clock: Clock;
  logger?: Logger;
  gc?: Partial<GcOptions>;
}

/** A reference is a tag or a digest; this says which, or throws TAG_INVALID / DIGEST_INVALID. */
export function parseReference(reference: string): { tag: string } | { digest: Digest } {
  if (looksLikeDigest(reference)) {
    const digest = parseDigest(reference);
    if (!digest) throw registryError("DIGEST_INVALID", digestProblem(reference));
    return { digest };
  }
  if (!TAG.test(reference))
    throw registryError(
      "TAG_INVALID",
      `'${reference}' is not a valid tag: 1–300 characters of letters, digits, '_', '.' and '-', not starting with '.' or '-'`,
    );
  return { tag: reference };
}

export function requireDigest(value: string | null | undefined): Digest {
  if (!value) throw registryError("DIGEST_INVALID", "a digest is required (?digest=<algorithm>:<hex>)");
  const d = parseDigest(value);
  if (!d) throw registryError("DIGEST_INVALID", digestProblem(value));
  return d;
}

/**
 * Berth's OCI registry: manifests and tags in SQLite, blobs behind a storage driver, uploads that
 * hash as they write and commit by verify → move → link. Implements the `Registry` contract used
 * by ECR, plus what the /v2/ routes need beyond it.
 */
export class OciRegistry implements Registry {
  readonly meta: RegistryMetadata;
  private readonly blobs: BlobStore;
  private readonly uploads: UploadStore;
  private readonly locks = new KeyedMutex();
  private readonly gcOptions: GcOptions;
  private gcRunning?: Promise<GcResult>;

  constructor(private readonly deps: OciRegistryDeps) {
    this.meta = new RegistryMetadata(deps.db);
    this.blobs = new BlobStore(deps.driver);
    this.uploads = new UploadStore(deps.driver, deps.clock);
    this.gcOptions = { ...DEFAULT_GC, ...deps.gc };
  }

  private now() {
    return this.deps.clock.now().getTime();
  }

  /** A request looked at the digest: the collector leaves it alone for its grace period. */
  private touch(digest: string) {
    this.meta.touch(digest, this.now());
  }

  // Manifests

  async putManifest(
    repo: RepositoryInfo,
    reference: string,
    mediaType: string,
    body: Buffer,
    opts: { childManifestsLater?: boolean } = {},
  ): Promise<ManifestContent & { subject?: string }> {
    const ref = parseReference(reference);
    const parsed = parseManifest(mediaType, body);
    let digest: string;
    if ("digest" in ref) {
      digest = digestOf(ref.digest.algorithm, body);
      if (digest !== ref.digest.value)
        throw registryError("DIGEST_INVALID", `the manifest's digest is ${digest}, not ${ref.digest.value}`, {
          expected: ref.digest.value,
          actual: digest,
        });
    } else digest = digestOf("sha256", body);
    const tag = "tag" in ref ? ref.tag : undefined;
    const now = this.now();
    this.meta.transaction(() => {
      const missing = [
        ...parsed.blobs.filter((b) => this.meta.linkedSize(repo, b) === undefined),
        // A pull-through cache stores an index first and fetches its children when asked for.
        ...(opts.childManifestsLater
          ? []
          : parsed.manifests.filter((m) => !this.meta.hasManifest(repo, m.digest)).map((m) => m.digest)),
      ];
      if (missing.length > 0)
        throw registryError(
          "MANIFEST_BLOB_UNKNOWN",
          `the manifest references ${missing.length === 1 ? "a blob" : `${missing.length} blobs`} not in repository ${repo.name}: ${missing.join(", ")}`,
          { digests: missing },
        );
      if (tag !== undefined) checkTagMove(repo, tag, this.meta.tagDigest(repo, tag), digest);
      this.meta.insertManifest(
        repo,
        {
          digest,
          mediaType: parsed.mediaType,
          artifactType: parsed.artifactMediaType,
          subject: parsed.subject?.digest,
          size: parsed.size,
          body,
          pushedAt: now,
        },
        [
          ...parsed.blobs.map((b) => ({ ref: b, kind: "blob" as const })),
          ...parsed.manifests.map((m) => ({ ref: m.digest, kind: "manifest" as const })),
        ],
        tag,
      );
    });
    const stored = this.meta.manifest(repo, digest);
    return { digest, mediaType: stored?.mediaType ?? parsed.mediaType, body, subject: parsed.subject?.digest };
  }

  /** The digest a reference names in the repository, if any. Malformed references name nothing. */
  resolve(repo: RepoRef, reference: string): string | undefined {
    if (looksLikeDigest(reference)) return parseDigest(reference) ? reference : undefined;
    return TAG.test(reference) ? this.meta.tagDigest(repo, reference) : undefined;
  }

  async getManifest(repo: RepoRef, reference: string, recordPull = false): Promise<ManifestContent | undefined> {
    const digest = this.resolve(repo, reference);
    const row = digest === undefined ? undefined : this.meta.manifest(repo, digest);
    if (!row) return undefined;
    if (recordPull) {
      const now = this.now();
      if (row.lastPulledAt === undefined || now - row.lastPulledAt >= PULL_RECORD_INTERVAL_MS)
        this.meta.recordPull(repo, row.digest, now);
    }
    return { digest: row.digest, mediaType: row.mediaType, body: row.body };
  }

  async deleteManifest(repo: RepoRef, reference: string): Promise<boolean> {
    if (looksLikeDigest(reference)) return parseDigest(reference) ? this.meta.deleteManifest(repo, reference) : false;
    return TAG.test(reference) ? this.meta.deleteTag(repo, reference) : false;
  }

  async listImages(repo: RepoRef): Promise<ImageSummary[]> {
    const tags = new Map<string, string[]>();
    for (const t of this.meta.tags(repo)) tags.set(t.digest, [...(tags.get(t.digest) ?? []), t.tag]);
    return this.meta.manifests(repo).map((m) => summary(m, tags.get(m.digest) ?? []));
  }

  async listTags(repo: RepoRef): Promise<string[]> {
    return this.meta.tags(repo).map((t) => t.tag);
  }

  /** Up to `n` tags after `last`, and whether more follow. */
  tagsPage(repo: RepoRef, last: string, n: number): { tags: string[]; more: boolean } {
    const rows = this.meta.tagsAfter(repo, last, n + 1);
    return { tags: rows.slice(0, n), more: rows.length > n };
  }

  /** Manifests whose `subject` is `digest`, as the referrers API lists them. */
  referrers(repo: RepoRef, digest: string, artifactType?: string): Descriptor[] {
    const out: Descriptor[] = [];
    for (const m of this.meta.referrers(repo, digest)) {
      const d = referrerDescriptor(m.digest, m);
      if (artifactType === undefined || d.artifactType === artifactType) out.push(d);
    }
    return out;
  }

  // Blobs

  async statBlob(repo: RepoRef, digest: string): Promise<number | undefined> {
    const size = this.meta.linkedSize(repo, digest);
    if (size !== undefined) this.touch(digest);
    return size;
  }

  /** A blob of the repository, whole or a byte range (inclusive), or undefined when unknown. */
  async openBlob(
    repo: RepoRef,
    digest: Digest,
    range?: { start: number; end: number },
  ): Promise<{ size: number; stream: Readable } | undefined> {
    const size = this.meta.linkedSize(repo, digest.value);
    if (size === undefined) return undefined;
    try {
      return { size, stream: await this.blobs.open(digest, range) };
    } catch (e) {
      if (!isNotFound(e)) throw e;
      this.deps.logger?.error({ digest: digest.value }, "registry: a linked blob's content is missing");
      return undefined;
    }
  }

  /**
   * Writes a blob of the repository (or a byte range, inclusive) into `out`, not ending it. The
   * caller has checked the blob is linked (statBlob) and sent its headers.
   */
  copyBlob(digest: Digest, out: Writable, range?: { start: number; end: number }): Promise<void> {
    return this.blobs.copyTo(digest, out, range);
  }

  /** Removes a blob from a repository (its content stays while other repositories or manifests use it). */
  async deleteBlob(repo: RepoRef, digest: string): Promise<boolean> {
    return this.meta.unlink(repo, digest);
  }

  /** Links a blob of `from` into `repo`; false when `from` does not have it. */
  async mountBlob(repo: RepoRef, from: RepoRef, digest: string): Promise<boolean> {
    if (this.meta.linkedSize(from, digest) === undefined) return false;
    this.touch(digest);
    return this.meta.link(repo, digest, this.now());
  }

  // Uploads

  async startUpload(repo: RepoRef, algorithm?: DigestAlgorithm): Promise<string> {
    return (await this.uploads.start(repo, algorithm)).id;
  }

  uploadStatus(repo: RepoRef, uploadId: string): Promise<UploadState> {
    return this.uploads.status(repo, uploadId);
  }

  async appendUpload(
    repo: RepoRef,
    uploadId: string,
    offset: number | undefined,
    data: NodeJS.ReadableStream | Buffer,
    length?: number,
  ): Promise<number> {
    const opts: WriteOptions = { offset, length: length ?? (Buffer.isBuffer(data) ? data.length : undefined) };
    return this.uploads.append(repo, uploadId, data as Readable | Buffer, opts);
  }

  /** Verifies the digest (after appending an optional last chunk), moves the blob into place and links it. */
  async completeUpload(
    repo: RepoRef,
    uploadId: string,
    digest: string,
    last?: { data: Readable | Buffer; offset?: number; length?: number },
  ): Promise<void> {
    const d = requireDigest(digest);
    const { size, data } = await this.uploads.finish(
      repo,
      uploadId,
      d,
      last && { source: last.data, opts: { offset: last.offset, length: last.length } },
    );
    try {
      await this.locks.run(d.value, async () => {
        await this.blobs.adopt(data, d, size);
        this.meta.addBlob(repo, d.value, size, this.now());
        this.touch(d.value);
      });
    } finally {
      await this.uploads.remove(uploadId);
    }
  }

  cancelUpload(repo: RepoRef, uploadId: string): Promise<void> {
    return this.uploads.cancel(repo, uploadId);
  }

  async deleteRepository(repo: RepoRef): Promise<void> {
    this.meta.dropRepository(repo);
    await this.uploads.cancelAll(repo);
  }

  // Garbage collection

  /** One collection (see gc.ts); concurrent calls share the run in progress. */
  collectGarbage(): Promise<GcResult> {
    if (!this.gcRunning)
      this.gcRunning = collectGarbage(
        {
          driver: this.deps.driver,
          meta: this.meta,
          blobs: this.blobs,
          uploads: this.uploads,
          locks: this.locks,
        },
        this.now(),
        this.gcOptions,
      ).finally(() => {
        this.gcRunning = undefined;
      });
    return this.gcRunning;
  }

  /** Collects every `intervalMs`; returns a function that stops it. */
  startCollector(intervalMs: number): () => void {
    const loop = periodic(
      () =>
        this.collectGarbage().then(
          (r) => {
            if (r.blobsRemoved + r.linksRemoved + r.uploadsExpired + r.strayFilesRemoved > 0)
              this.deps.logger?.info(r, "registry: garbage collected");
          },
          (e: Error) => this.deps.logger?.error({ err: e.message }, "registry: garbage collection failed"),
        ),
      { name: "registry garbage collection", everyMs: intervalMs, clock: this.deps.clock },
    );
    void loop.start();
    return loop.stop;
  }
}

function summary(m: ManifestRow, tags: string[]): ImageSummary {
  const s: ImageSummary = {
    digest: m.digest,
    mediaType: m.mediaType,
    size: m.size,
    tags,
    pushedAt: new Date(m.pushedAt),
  };
  if (m.artifactType !== undefined) s.artifactMediaType = m.artifactType;
  if (m.lastPulledAt !== undefined) s.lastPulledAt = new Date(m.lastPulledAt);
  if (m.subject !== undefined) s.subject = m.subject;
  return s;
}
