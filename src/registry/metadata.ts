import type { Db } from "../store/db.js";
import type { RepoRef } from "./api.js";

/**
 * The registry's metadata in SQLite: blobs known to the store, repository→blob links,
 * manifests (their bytes, media type, subject, size, push and pull times), tags, and which
 * blobs and manifests each manifest references. Content lives in the storage driver.
 *
 * Every method is synchronous (better-sqlite3): a method, or a `transaction`, is atomic with
 * respect to every other request this process serves. The SQL is plain and portable.
 */

export interface ManifestRow {
  digest: string;
  mediaType: string;
  artifactType?: string;
  subject?: string;
  /** Sum of layer (or child manifest) sizes. */
  size: number;
  body: Buffer;
  pushedAt: number;
  lastPulledAt?: number;
}

export interface LinkRow extends RepoRef {
  digest: string;
}

type RawManifest = {
  digest: string;
  media_type: string;
  artifact_type: string | null;
  subject: string | null;
  size: number;
  body: string;
  pushed_at: number;
  last_pulled_at: number | null;
};

const toManifest = (r: RawManifest): ManifestRow => ({
  digest: r.digest,
  mediaType: r.media_type,
  artifactType: r.artifact_type ?? undefined,
  subject: r.subject ?? undefined,
  size: r.size,
  body: Buffer.from(r.body, "utf8"),
  pushedAt: r.pushed_at,
  lastPulledAt: r.last_pulled_at ?? undefined,
});

const key = (r: RepoRef) => [r.account, r.region, r.name] as const;
const REPO = "account = ? AND region = ? AND repo = ?";

export class RegistryMetadata {
  private readonly s;

  constructor(private readonly db: Db) {
    const p = (sql: string) => db.prepare(sql);
    this.s = {
      blob: p("SELECT size, created_at FROM registry_blobs WHERE digest = ?"),
      insertBlob: p(
        "INSERT INTO registry_blobs (digest, size, created_at) VALUES (?, ?, ?) ON CONFLICT (digest) DO NOTHING",
      ),
      deleteBlob: p("DELETE FROM registry_blobs WHERE digest = ?"),
      linkedSize: p(
        `SELECT b.size FROM registry_blob_links l JOIN registry_blobs b ON b.digest = l.digest
         WHERE l.account = ? AND l.region = ? AND l.repo = ? AND l.digest = ?`,
      ),
      link: p(
        `INSERT INTO registry_blob_links (account, region, repo, digest, linked_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (account, region, repo, digest) DO UPDATE SET linked_at = excluded.linked_at`,
      ),
      unlink: p(`DELETE FROM registry_blob_links WHERE ${REPO} AND digest = ?`),
      manifest: p(`SELECT * FROM registry_manifests WHERE ${REPO} AND digest = ?`),
      hasManifest: p(`SELECT 1 FROM registry_manifests WHERE ${REPO} AND digest = ?`),
      insertManifest: p(
        `INSERT INTO registry_manifests
           (account, region, repo, digest, media_type, artifact_type, subject, size, body, pushed_at, last_pulled_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)
         ON CONFLICT (account, region, repo, digest) DO NOTHING`,
      ),
      insertRef: p(
        `INSERT INTO registry_manifest_refs (account, region, repo, manifest, ref, kind) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (account, region, repo, manifest, ref) DO NOTHING`,
      ),
      deleteManifest: p(`DELETE FROM registry_manifests WHERE ${REPO} AND digest = ?`),
      deleteRefs: p(`DELETE FROM registry_manifest_refs WHERE ${REPO} AND manifest = ?`),
      deleteTagsOf: p(`DELETE FROM registry_tags WHERE ${REPO} AND digest = ?`),
      tag: p(`SELECT digest FROM registry_tags WHERE ${REPO} AND tag = ?`),
      upsertTag: p(
        `INSERT INTO registry_tags (account, region, repo, tag, digest, updated_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (account, region, repo, tag) DO UPDATE SET digest = excluded.digest, updated_at = excluded.updated_at`,
      ),
      deleteTag: p(`DELETE FROM registry_tags WHERE ${REPO} AND tag = ?`),
      touch: p(
        // A digest looked at again within a minute changes no row, so a burst of HEADs writes once.
        `INSERT INTO registry_recent (digest, touched_at) VALUES (?, ?) ON CONFLICT (digest) DO UPDATE
         SET touched_at = excluded.touched_at WHERE excluded.touched_at >= registry_recent.touched_at + 60000`,
      ),
      touchedAt: p("SELECT touched_at FROM registry_recent WHERE digest = ?"),
      forgetTouched: p("DELETE FROM registry_recent WHERE touched_at < ?"),
      tags: p(`SELECT tag, digest FROM registry_tags WHERE ${REPO} ORDER BY tag`),
      tagsAfter: p(`SELECT tag FROM registry_tags WHERE ${REPO} AND tag > ? ORDER BY tag LIMIT ?`),
      manifests: p(`SELECT * FROM registry_manifests WHERE ${REPO} ORDER BY pushed_at, digest`),
      referrers: p(`SELECT * FROM registry_manifests WHERE ${REPO} AND subject = ? ORDER BY pushed_at, digest`),
      recordPull: p(`UPDATE registry_manifests SET last_pulled_at = ? WHERE ${REPO} AND digest = ?`),
      dropManifests: p(`DELETE FROM registry_manifests WHERE ${REPO}`),
      dropTags: p(`DELETE FROM registry_tags WHERE ${REPO}`),
      dropRefs: p(`DELETE FROM registry_manifest_refs WHERE ${REPO}`),
      dropLinks: p(`DELETE FROM registry_blob_links WHERE ${REPO}`),
      unreferencedLinks: p(
        `SELECT l.account, l.region, l.repo, l.digest FROM registry_blob_links l
         WHERE l.linked_at < ? AND NOT EXISTS (
           SELECT 1 FROM registry_manifest_refs r
           WHERE r.ref = l.digest AND r.account = l.account AND r.region = l.region AND r.repo = l.repo)`,
      ),
      orphanBlobs: p(
        `SELECT b.digest, b.size FROM registry_blobs b
         WHERE b.created_at < ?
           AND NOT EXISTS (SELECT 1 FROM registry_blob_links l WHERE l.digest = b.digest)
           AND NOT EXISTS (SELECT 1 FROM registry_manifest_refs r WHERE r.ref = b.digest)`,
      ),
      isOrphan: p(
        `SELECT 1 FROM registry_blobs b WHERE b.digest = ? AND b.created_at < ?
           AND NOT EXISTS (SELECT 1 FROM registry_blob_links l WHERE l.digest = b.digest)
           AND NOT EXISTS (SELECT 1 FROM registry_manifest_refs r WHERE r.ref = b.digest)`,
      ),
    };
  }

  /** Records that a request looked at a digest (ms). */
  touch(digest: string, at: number) {
    this.s.touch.run(digest, at);
  }

  touchedSince(digest: string, since: number): boolean {
    return ((this.s.touchedAt.get(digest) as { touched_at: number } | undefined)?.touched_at ?? 0) >= since;
  }

  forgetTouchedBefore(before: number) {
    this.s.forgetTouched.run(before);
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  // Blobs and links

  blob(digest: string): { size: number; createdAt: number } | undefined {
    const r = this.s.blob.get(digest) as { size: number; created_at: number } | undefined;
    return r && { size: r.size, createdAt: r.created_at };
  }

  /** Records a committed blob and links it into a repository, in one transaction. */
  addBlob(repo: RepoRef, digest: string, size: number, now: number) {
    this.transaction(() => {
      this.s.insertBlob.run(digest, size, now);
      this.s.link.run(...key(repo), digest, now);
    });
  }

  /** Size of a blob linked into the repository. */
  linkedSize(repo: RepoRef, digest: string): number | undefined {
    return (this.s.linkedSize.get(...key(repo), digest) as { size: number } | undefined)?.size;
  }

  /** Links a known blob into a repository; false if the store does not hold it. */
  link(repo: RepoRef, digest: string, now: number): boolean {
    return this.transaction(() => {
      if (!this.s.blob.get(digest)) return false;
      this.s.link.run(...key(repo), digest, now);
      return true;
    });
  }

  unlink(repo: RepoRef, digest: string): boolean {
    return this.s.unlink.run(...key(repo), digest).changes > 0;
  }

  // Manifests and tags

  manifest(repo: RepoRef, digest: string): ManifestRow | undefined {
    const r = this.s.manifest.get(...key(repo), digest) as RawManifest | undefined;
    return r && toManifest(r);
  }

  hasManifest(repo: RepoRef, digest: string): boolean {
    return this.s.hasManifest.get(...key(repo), digest) !== undefined;
  }

  tagDigest(repo: RepoRef, tag: string): string | undefined {
    return (this.s.tag.get(...key(repo), tag) as { digest: string } | undefined)?.digest;
  }

  /** Inserts a manifest (keeping the first push time if it exists), its references and a tag. Call inside a transaction. */
  insertManifest(
    repo: RepoRef,
    m: Omit<ManifestRow, "lastPulledAt">,
    refs: { ref: string; kind: "blob" | "manifest" }[],
    tag: string | undefined,
  ) {
    const k = key(repo);
    this.s.insertManifest.run(
      ...k,
      m.digest,
      m.mediaType,
      m.artifactType ?? null,
      m.subject ?? null,
      m.size,
      m.body.toString("utf8"),
      m.pushedAt,
    );
    for (const r of refs) this.s.insertRef.run(...k, m.digest, r.ref, r.kind);
    if (tag !== undefined) this.s.upsertTag.run(...k, tag, m.digest, m.pushedAt);
  }

  /** Deletes a manifest with its tags and references. */
  deleteManifest(repo: RepoRef, digest: string): boolean {
    return this.transaction(() => {
      const k = key(repo);
      this.s.deleteTagsOf.run(...k, digest);
      this.s.deleteRefs.run(...k, digest);
      return this.s.deleteManifest.run(...k, digest).changes > 0;
    });
  }

  deleteTag(repo: RepoRef, tag: string): boolean {
    return this.s.deleteTag.run(...key(repo), tag).changes > 0;
  }

  /** Every tag with its digest, sorted by tag. */
  tags(repo: RepoRef): { tag: string; digest: string }[] {
    return this.s.tags.all(...key(repo)) as { tag: string; digest: string }[];
  }

  /** Up to `limit` tags after `last` in lexical order. */
  tagsAfter(repo: RepoRef, last: string, limit: number): string[] {
    return (this.s.tagsAfter.all(...key(repo), last, limit) as { tag: string }[]).map((r) => r.tag);
  }

  manifests(repo: RepoRef): ManifestRow[] {
    return (this.s.manifests.all(...key(repo)) as RawManifest[]).map(toManifest);
  }

  referrers(repo: RepoRef, subject: string): ManifestRow[] {
    return (this.s.referrers.all(...key(repo), subject) as RawManifest[]).map(toManifest);
  }

  recordPull(repo: RepoRef, digest: string, now: number) {
    this.s.recordPull.run(now, ...key(repo), digest);
  }

  /** Forgets every manifest, tag, reference and link of a repository (blobs stay for the GC). */
  dropRepository(repo: RepoRef) {
    this.transaction(() => {
      const k = key(repo);
      this.s.dropTags.run(...k);
      this.s.dropRefs.run(...k);
      this.s.dropManifests.run(...k);
      this.s.dropLinks.run(...k);
    });
  }

  // Garbage collection

  /** Links older than `before` that no manifest of their repository references. */
  unreferencedLinks(before: number): LinkRow[] {
    return (
      this.s.unreferencedLinks.all(before) as { account: string; region: string; repo: string; digest: string }[]
    ).map((r) => ({ account: r.account, region: r.region, name: r.repo, digest: r.digest }));
  }

  /** Blobs committed before `before` that nothing links or references. */
  orphanBlobs(before: number): { digest: string; size: number }[] {
    return this.s.orphanBlobs.all(before) as { digest: string; size: number }[];
  }

  isOrphan(digest: string, before: number): boolean {
    return this.s.isOrphan.get(digest, before) !== undefined;
  }

  deleteBlob(digest: string) {
    this.s.deleteBlob.run(digest);
  }
}
