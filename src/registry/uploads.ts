import { randomUUID } from "node:crypto";
import type { Hash } from "node:crypto";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Clock } from "../core/clock.js";
import type { RepoRef } from "./api.js";
import { type Digest, type DigestAlgorithm, newHash } from "./digest.js";
import { type FileWriter, type StorageDriver, isNotFound } from "./driver/driver.js";
import { registryError } from "./errors.js";
import { UPLOAD_ID, layout } from "./layout.js";

/**
 * Upload sessions. A session hashes the bytes while it writes them, so completing an upload
 * needs no second read; the data file stays under /uploads/<id>/ until the digest is verified,
 * and only then does the caller move it into the blob store. A session survives a restart
 * (its info file and data are on disk; the hash is rebuilt from the data on first use).
 */

export interface UploadState {
  id: string;
  repo: RepoRef;
  /** Bytes received so far. */
  size: number;
}

interface Session extends UploadState {
  algorithm: DigestAlgorithm;
  /** Hash of bytes [0, size); undefined until rebuilt after a restart. */
  hash?: Hash;
  /** A request is writing to or completing the session. */
  busy: boolean;
  /** Last activity (ms), for the collector's expiry of abandoned uploads. */
  touched: number;
}

interface Info {
  account: string;
  region: string;
  name: string;
  algorithm: DigestAlgorithm;
  startedAt: number;
}

const sameRepo = (a: RepoRef, b: RepoRef) => a.account === b.account && a.region === b.region && a.name === b.name;

/**
 * Writes chunks to a FileWriter in vectored batches, hashing each batch while its write is in
 * flight. Only batches handed to `_writev` are hashed and written, so after the stream ends or is
 * destroyed (and `idle()` resolves) the hash covers exactly the bytes in the file — unless a write
 * failed, which `failed` reports.
 */
class HashingSink extends Writable {
  failed?: Error;
  private inflight: Promise<void> = Promise.resolve();

  constructor(
    private readonly file: FileWriter,
    private readonly hash: Hash,
  ) {
    super({ highWaterMark: 4 << 20 });
  }

  private push(chunks: Buffer[], cb: (e?: Error | null) => void) {
    const p = this.file.write(chunks);
    for (const c of chunks) this.hash.update(c);
    this.inflight = p.then(
      () => cb(),
      (e: Error) => {
        this.failed = e;
        cb(e);
      },
    );
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void) {
    this.push([chunk], cb);
  }

  override _writev(chunks: { chunk: Buffer }[], cb: (e?: Error | null) => void) {
    this.push(
      chunks.map((c) => c.chunk),
      cb,
    );
  }

  idle() {
    return this.inflight;
  }
}

export interface WriteOptions {
  /** Where the client says the bytes start (Content-Range); must equal the bytes received so far. */
  offset?: number;
  /** How many bytes the client says it sends (Content-Length / Content-Range). */
  length?: number;
}

export class UploadStore {
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly driver: StorageDriver,
    private readonly clock: Clock,
  ) {}

  /** Starts a session. `algorithm` picks the streaming hash when the digest is known up front. */
  async start(repo: RepoRef, algorithm: DigestAlgorithm = "sha256"): Promise<UploadState> {
    const id = randomUUID();
    const now = this.clock.now().getTime();
    const info: Info = { account: repo.account, region: repo.region, name: repo.name, algorithm, startedAt: now };
    await this.driver.putContent(layout.uploadInfo(id), Buffer.from(JSON.stringify(info)));
    const s: Session = { id, repo, size: 0, algorithm, hash: newHash(algorithm), busy: false, touched: now };
    this.sessions.set(id, s);
    return this.view(s);
  }

  /** The session's state; BLOB_UPLOAD_UNKNOWN when there is none for this repository. */
  async status(repo: RepoRef, id: string): Promise<UploadState> {
    return this.view(await this.session(repo, id));
  }

  /** Appends a body to the session; returns the bytes received so far. */
  async append(repo: RepoRef, id: string, source: Readable | Buffer, opts: WriteOptions = {}): Promise<number> {
    const s = await this.acquire(repo, id);
    try {
      await this.write(s, source, opts);
      return s.size;
    } finally {
      this.release(s);
    }
  }

  /**
   * Appends an optional last body, then verifies the content against `digest` and makes it
   * durable. On a mismatch the session is cancelled (DIGEST_INVALID). On success the session stays
   * reserved: the caller moves `layout.uploadData(id)` into the blob store, then calls `remove`.
   */
  async finish(
    repo: RepoRef,
    id: string,
    digest: Digest,
    last?: { source: Readable | Buffer; opts: WriteOptions },
  ): Promise<{ size: number; data: string }> {
    const s = await this.acquire(repo, id);
    try {
      if (last) await this.write(s, last.source, last.opts);
      const actual = await this.digestOf(s, digest.algorithm);
      if (actual !== digest.hex) {
        await this.discard(s);
        throw registryError(
          "DIGEST_INVALID",
          `the uploaded content (${s.size} bytes) has digest ${digest.algorithm}:${actual}, not ${digest.value}`,
          { expected: digest.value, actual: `${digest.algorithm}:${actual}`, size: s.size },
        );
      }
      const w = await this.driver.writer(layout.uploadData(id), true);
      await w.commit();
      return { size: s.size, data: layout.uploadData(id) };
    } catch (e) {
      this.release(s);
      throw e;
    }
  }

  /** Forgets a finished session and deletes what is left of it. */
  async remove(id: string): Promise<void> {
    this.sessions.delete(id);
    await this.deleteDir(id);
  }

  /** Cancels a session (DELETE); BLOB_UPLOAD_UNKNOWN when there is none. */
  async cancel(repo: RepoRef, id: string): Promise<void> {
    const s = await this.session(repo, id);
    await this.discard(s);
  }

  /** Cancels every session of a repository. */
  async cancelAll(repo: RepoRef): Promise<void> {
    for (const id of await this.ids()) {
      const s = await this.load(id).catch(() => undefined);
      if (s && sameRepo(s.repo, repo)) await this.discard(s);
    }
  }

  /** Deletes sessions with no activity since `before` (ms) that no request is using. Returns how many. */
  async expire(before: number): Promise<number> {
    let removed = 0;
    for (const id of await this.ids()) {
      const live = this.sessions.get(id);
      if (live?.busy || (live && live.touched >= before)) continue;
      let last = 0;
      for (const p of [layout.uploadInfo(id), layout.uploadData(id)]) {
        try {
          last = Math.max(last, (await this.driver.stat(p)).modTime.getTime());
        } catch (e) {
          if (!isNotFound(e)) throw e;
        }
      }
      if (last >= before || this.sessions.get(id)?.busy) continue;
      this.sessions.delete(id);
      await this.deleteDir(id);
      removed++;
    }
    return removed;
  }

  private view(s: Session): UploadState {
    return { id: s.id, repo: s.repo, size: s.size };
  }

  private async ids(): Promise<string[]> {
    try {
      return (await this.driver.list(layout.uploadsRoot)).map((p) => p.slice(layout.uploadsRoot.length + 1));
    } catch (e) {
      if (isNotFound(e)) return [];
      throw e;
    }
  }

  private async session(repo: RepoRef, id: string): Promise<Session> {
    const s = UPLOAD_ID.test(id) ? (this.sessions.get(id) ?? (await this.load(id))) : undefined;
    if (!s || !sameRepo(s.repo, repo))
      throw registryError("BLOB_UPLOAD_UNKNOWN", `upload ${id} is unknown to the repository ${repo.name}`);
    return s;
  }

  /** A session from its files (after a restart). */
  private async load(id: string): Promise<Session | undefined> {
    let info: Info;
    try {
      info = JSON.parse((await this.driver.getContent(layout.uploadInfo(id))).toString("utf8")) as Info;
    } catch (e) {
      if (isNotFound(e) || e instanceof SyntaxError) return undefined;
      throw e;
    }
    let size = 0;
    try {
      size = (await this.driver.stat(layout.uploadData(id))).size;
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    const existing = this.sessions.get(id);
    if (existing) return existing;
    const s: Session = {
      id,
      repo: { account: info.account, region: info.region, name: info.name },
      size,
      algorithm: info.algorithm === "sha512" ? "sha512" : "sha256",
      busy: false,
      touched: this.clock.now().getTime(),
    };
    this.sessions.set(id, s);
    return s;
  }

  private async acquire(repo: RepoRef, id: string): Promise<Session> {
    const s = await this.session(repo, id);
    if (s.busy)
      throw registryError(
        "BLOB_UPLOAD_INVALID",
        `another request is writing to upload ${id}; send chunks one at a time`,
      );
    s.busy = true;
    s.touched = this.clock.now().getTime();
    return s;
  }

  private release(s: Session) {
    s.busy = false;
    s.touched = this.clock.now().getTime();
  }

  private async write(s: Session, source: Readable | Buffer, opts: WriteOptions) {
    if (opts.offset !== undefined && opts.offset !== s.size)
      throw registryError(
        "RANGE_INVALID",
        `the chunk starts at byte ${opts.offset}, but the upload has ${s.size} bytes; send the chunk starting at ${s.size}`,
        { size: s.size },
      );
    const hash = await this.ensureHash(s);
    const file = await this.driver.writer(layout.uploadData(s.id), true);
    const start = s.size;
    if (file.size !== start) {
      // The file and the session disagree (a write failed earlier): the session cannot be trusted.
      await file.close();
      await this.discard(s);
      throw registryError(
        "BLOB_UPLOAD_INVALID",
        `upload ${s.id} was damaged by an earlier failure; start a new upload`,
      );
    }
    const sink = new HashingSink(file, hash);
    let interrupted: unknown;
    try {
      await pipeline(Buffer.isBuffer(source) ? Readable.from([source]) : source, sink);
    } catch (e) {
      interrupted = e;
    }
    await sink.idle();
    s.size = file.size;
    await file.close();
    if (sink.failed) {
      await this.discard(s);
      throw sink.failed;
    }
    const received = s.size - start;
    if (interrupted)
      throw registryError(
        "BLOB_UPLOAD_INVALID",
        `the request body ended early after ${received} bytes; the upload has ${s.size} bytes — resume from there`,
        { size: s.size },
      );
    if (opts.length !== undefined && received !== opts.length)
      throw registryError(
        "SIZE_INVALID",
        `the request declared ${opts.length} bytes but sent ${received}; the upload has ${s.size} bytes`,
        { size: s.size },
      );
  }

  /** The session's hash, rebuilt from its data after a restart. */
  private async ensureHash(s: Session): Promise<Hash> {
    if (s.hash) return s.hash;
    const hash = newHash(s.algorithm);
    if (s.size > 0) for await (const c of await this.driver.reader(layout.uploadData(s.id))) hash.update(c as Buffer);
    s.hash = hash;
    return hash;
  }

  /** Hex digest of the session's content with `algorithm` (a second read only when it is not the streamed one). */
  private async digestOf(s: Session, algorithm: DigestAlgorithm): Promise<string> {
    if (algorithm === s.algorithm) return (await this.ensureHash(s)).copy().digest("hex");
    const hash = newHash(algorithm);
    if (s.size > 0) for await (const c of await this.driver.reader(layout.uploadData(s.id))) hash.update(c as Buffer);
    return hash.digest("hex");
  }

  private async discard(s: Session) {
    this.sessions.delete(s.id);
    await this.deleteDir(s.id);
  }

  private async deleteDir(id: string) {
    try {
      await this.driver.delete(layout.uploadDir(id));
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
}
