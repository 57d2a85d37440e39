import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { beforeEach, describe, expect, it } from "vitest";
import type { RegistryError, RepositoryInfo } from "../../src/registry/api.js";
import { digestOf, parseDigest } from "../../src/registry/digest.js";
import { walk } from "../../src/registry/driver/driver.js";
import { MemoryDriver } from "../../src/registry/driver/memory.js";
import { layout } from "../../src/registry/layout.js";
import { MEDIA_TYPES } from "../../src/registry/manifest.js";
import { OciRegistry } from "../../src/registry/registry.js";
import { type Db, openDb } from "../../src/store/db.js";

const HOUR = 3600_000;

const info = (
  name: string,
  m: RepositoryInfo["imageTagMutability"] = "MUTABLE",
  filters: string[] = [],
): RepositoryInfo => ({
  account: "000000000000",
  region: "us-east-1",
  name,
  public: false,
  imageTagMutability: m,
  mutabilityExclusionFilters: filters,
});

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return `${(e as RegistryError).code} ${(e as RegistryError).status}`;
  }
  return "ok";
}

async function readAll(r: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** A stream that sends `data` in pieces, then fails (a client that hangs up). */
function breaking(data: Buffer): Readable {
  let sent = false;
  return new Readable({
    read() {
      if (sent) this.destroy(new Error("aborted"));
      else {
        sent = true;
        this.push(data);
      }
    },
  });
}

describe("OciRegistry over a storage driver and SQLite", () => {
  let db: Db;
  let driver: MemoryDriver;
  let t: number;
  let reg: OciRegistry;
  const app = info("app");
  const clock = { now: () => new Date(t) };
  const make = () => new OciRegistry({ db, driver, clock, gc: { graceMs: HOUR, uploadTtlMs: 24 * HOUR } });

  beforeEach(() => {
    db = openDb(":memory:");
    driver = new MemoryDriver();
    t = Date.now();
    reg = make();
  });

  async function pushBlob(repo: RepositoryInfo, data: Buffer) {
    const id = await reg.startUpload(repo);
    await reg.appendUpload(repo, id, 0, data);
    const digest = digestOf("sha256", data);
    await reg.completeUpload(repo, id, digest);
    return { digest, size: data.length };
  }

  async function pushImage(repo: RepositoryInfo, tag: string, layers = [randomBytes(100)]) {
    const config = await pushBlob(repo, Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux" })));
    const ls = [];
    for (const l of layers) ls.push(await pushBlob(repo, l));
    const body = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA_TYPES.dockerManifest,
        config: { mediaType: MEDIA_TYPES.dockerConfig, ...config },
        layers: ls.map((l) => ({ mediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip", ...l })),
      }),
    );
    const m = await reg.putManifest(repo, tag, MEDIA_TYPES.dockerManifest, body);
    return { ...m, config, layers: ls };
  }

  describe("uploads", () => {
    it("commits a chunked upload: verify, move, link; the content reads back", async () => {
      const data = randomBytes(300_000);
      const id = await reg.startUpload(app);
      expect(await reg.appendUpload(app, id, 0, data.subarray(0, 100_000))).toBe(100_000);
      expect(await reg.appendUpload(app, id, 100_000, Readable.from([data.subarray(100_000, 250_000)]))).toBe(250_000);
      expect(await reg.appendUpload(app, id, undefined, data.subarray(250_000))).toBe(300_000);
      const digest = digestOf("sha256", data);
      expect(await reg.statBlob(app, digest)).toBeUndefined();
      await reg.completeUpload(app, id, digest);
      expect(await reg.statBlob(app, digest)).toBe(300_000);
      const opened = await reg.openBlob(app, parseDigest(digest)!);
      expect((await readAll(opened!.stream)).equals(data)).toBe(true);
      const part = await reg.openBlob(app, parseDigest(digest)!, { start: 10, end: 19 });
      expect((await readAll(part!.stream)).equals(data.subarray(10, 20))).toBe(true);
      expect(await codeOf(reg.uploadStatus(app, id))).toBe("BLOB_UPLOAD_UNKNOWN 404");
      const paths: string[] = [];
      for await (const e of walk(driver, "/")) if (!e.isDir) paths.push(e.path);
      expect(paths).toEqual([layout.blobData(parseDigest(digest)!)]);
    });

    it("verifies sha512 digests, streamed or read back", async () => {
      const data = randomBytes(5000);
      const d512 = digestOf("sha512", data);
      const id = await reg.startUpload(app, "sha512");
      await reg.appendUpload(app, id, 0, data);
      await reg.completeUpload(app, id, d512);
      expect(await reg.statBlob(app, d512)).toBe(5000);
      const id2 = await reg.startUpload(info("other"));
      await reg.appendUpload(info("other"), id2, 0, data);
      await reg.completeUpload(info("other"), id2, d512);
      expect(await reg.statBlob(info("other"), d512)).toBe(5000);
    });

    it("a wrong digest commits nothing and ends the session", async () => {
      const id = await reg.startUpload(app);
      await reg.appendUpload(app, id, 0, Buffer.from("hello"));
      const wrong = digestOf("sha256", Buffer.from("hellO"));
      expect(await codeOf(reg.completeUpload(app, id, wrong))).toBe("DIGEST_INVALID 400");
      expect(await reg.statBlob(app, wrong)).toBeUndefined();
      expect(await reg.statBlob(app, digestOf("sha256", Buffer.from("hello")))).toBeUndefined();
      expect(await codeOf(reg.uploadStatus(app, id))).toBe("BLOB_UPLOAD_UNKNOWN 404");
      expect(await driver.list("/").catch(() => [])).toEqual([]);
      expect(await codeOf(reg.completeUpload(app, id, wrong))).toBe("BLOB_UPLOAD_UNKNOWN 404");
    });

    it("refuses out-of-order chunks with RANGE_INVALID and keeps the upload", async () => {
      const id = await reg.startUpload(app);
      await reg.appendUpload(app, id, 0, Buffer.from("abc"));
      expect(await codeOf(reg.appendUpload(app, id, 5, Buffer.from("x")))).toBe("RANGE_INVALID 416");
      expect(await codeOf(reg.appendUpload(app, id, 0, Buffer.from("x")))).toBe("RANGE_INVALID 416");
      expect((await reg.uploadStatus(app, id)).size).toBe(3);
      await reg.appendUpload(app, id, 3, Buffer.from("def"));
      await reg.completeUpload(app, id, digestOf("sha256", Buffer.from("abcdef")));
    });

    it("an interrupted body keeps what arrived, consistently, and the upload resumes from there", async () => {
      const data = randomBytes(50_000);
      const id = await reg.startUpload(app);
      expect(await codeOf(reg.appendUpload(app, id, 0, breaking(data.subarray(0, 20_000)), 50_000))).toBe(
        "BLOB_UPLOAD_INVALID 400",
      );
      const { size } = await reg.uploadStatus(app, id);
      expect(size).toBe(20_000);
      await reg.appendUpload(app, id, size, data.subarray(size));
      await reg.completeUpload(app, id, digestOf("sha256", data));
      expect(await reg.statBlob(app, digestOf("sha256", data))).toBe(50_000);
    });

    it("a body shorter than declared is SIZE_INVALID; the digest still guards the blob", async () => {
      const id = await reg.startUpload(app);
      expect(await codeOf(reg.appendUpload(app, id, 0, Readable.from([Buffer.from("abc")]), 10))).toBe(
        "SIZE_INVALID 400",
      );
      expect(await codeOf(reg.completeUpload(app, id, digestOf("sha256", Buffer.from("abcdefghij"))))).toBe(
        "DIGEST_INVALID 400",
      );
    });

    it("one writer at a time; sessions belong to their repository", async () => {
      const id = await reg.startUpload(app);
      const slow = new Readable({ read() {} });
      const first = reg.appendUpload(app, id, 0, slow);
      await new Promise((r) => setTimeout(r, 5));
      expect(await codeOf(reg.appendUpload(app, id, 0, Buffer.from("x")))).toBe("BLOB_UPLOAD_INVALID 400");
      slow.push(Buffer.from("abc"));
      slow.push(null);
      expect(await first).toBe(3);
      expect(await codeOf(reg.uploadStatus(info("other"), id))).toBe("BLOB_UPLOAD_UNKNOWN 404");
      expect(await codeOf(reg.uploadStatus(app, "../../etc"))).toBe("BLOB_UPLOAD_UNKNOWN 404");
      await reg.cancelUpload(app, id);
      expect(await codeOf(reg.uploadStatus(app, id))).toBe("BLOB_UPLOAD_UNKNOWN 404");
    });

    it("a session survives a restart: the hash is rebuilt from the data", async () => {
      const id = await reg.startUpload(app);
      await reg.appendUpload(app, id, 0, Buffer.from("before restart, "));
      reg = make();
      expect((await reg.uploadStatus(app, id)).size).toBe(16);
      await reg.appendUpload(app, id, 16, Buffer.from("after"));
      await reg.completeUpload(app, id, digestOf("sha256", Buffer.from("before restart, after")));
    });

    it("committing content the store already has links it without a second copy", async () => {
      const data = Buffer.from("shared layer");
      const a = await pushBlob(app, data);
      const b = await pushBlob(info("other"), data);
      expect(a.digest).toBe(b.digest);
      expect(await reg.statBlob(info("other"), a.digest)).toBe(data.length);
      expect(await driver.list("/uploads").catch(() => [])).toEqual([]);
    });
  });

  describe("manifests", () => {
    it("stores an image by tag after checking its blobs, and reads it back by tag and digest", async () => {
      const m = await pushImage(app, "v1", [randomBytes(10), randomBytes(20)]);
      expect(m.digest).toBe(digestOf("sha256", m.body));
      expect((await reg.getManifest(app, "v1"))?.digest).toBe(m.digest);
      expect((await reg.getManifest(app, m.digest))?.body.equals(m.body)).toBe(true);
      expect(await reg.getManifest(app, "v2")).toBeUndefined();
      expect(await reg.getManifest(info("other"), "v1")).toBeUndefined();
      const [img] = await reg.listImages(app);
      expect(img).toMatchObject({ digest: m.digest, mediaType: MEDIA_TYPES.dockerManifest, size: 30, tags: ["v1"] });
      expect(img.pushedAt.getTime()).toBe(t);
      expect(img.lastPulledAt).toBeUndefined();
    });

    it("refuses a manifest whose blobs are not in the repository, storing nothing", async () => {
      const m = await pushImage(app, "v1");
      const other = info("other");
      expect(await codeOf(reg.putManifest(other, "v1", m.mediaType, m.body))).toBe("MANIFEST_BLOB_UNKNOWN 400");
      expect(await reg.listImages(other)).toEqual([]);
      expect(await reg.mountBlob(other, app, m.config.digest)).toBe(true);
      for (const l of m.layers) await reg.mountBlob(other, app, l.digest);
      expect((await reg.putManifest(other, "v1", m.mediaType, m.body)).digest).toBe(m.digest);
      expect(await reg.mountBlob(other, info("nope"), m.config.digest)).toBe(false);
    });

    it("checks a pushed-by-digest manifest against its digest", async () => {
      const m = await pushImage(app, "v1");
      expect(await codeOf(reg.putManifest(app, digestOf("sha256", Buffer.from("x")), m.mediaType, m.body))).toBe(
        "DIGEST_INVALID 400",
      );
      expect((await reg.putManifest(app, m.digest, m.mediaType, m.body)).digest).toBe(m.digest);
      const d512 = digestOf("sha512", m.body);
      expect((await reg.putManifest(app, d512, m.mediaType, m.body)).digest).toBe(d512);
    });

    it("indexes need their children; sizes add up", async () => {
      const a = await pushImage(app, "a");
      const child = {
        mediaType: a.mediaType,
        digest: a.digest,
        size: a.body.length,
        platform: { os: "linux", architecture: "amd64" },
      };
      const missing = { ...child, digest: digestOf("sha256", Buffer.from("missing")) };
      const index = (ms: object[]) =>
        Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: ms }));
      expect(await codeOf(reg.putManifest(app, "multi", MEDIA_TYPES.ociIndex, index([child, missing])))).toBe(
        "MANIFEST_BLOB_UNKNOWN 400",
      );
      const ok = await reg.putManifest(app, "multi", MEDIA_TYPES.ociIndex, index([child]));
      expect((await reg.listImages(app)).find((i) => i.digest === ok.digest)?.size).toBe(a.body.length);
    });

    it("moves mutable tags; refuses to move immutable ones but allows re-pushing the same manifest", async () => {
      const a = await pushImage(app, "v1");
      const b = await pushImage(app, "v1");
      expect((await reg.getManifest(app, "v1"))?.digest).toBe(b.digest);
      const locked = info("locked", "IMMUTABLE");
      const c = await pushImage(locked, "v1");
      expect((await reg.putManifest(locked, "v1", c.mediaType, c.body)).digest).toBe(c.digest);
      for (const d of [a.config.digest, ...a.layers.map((l) => l.digest)]) await reg.mountBlob(locked, app, d);
      let err: RegistryError | undefined;
      await reg.putManifest(locked, "v1", a.mediaType, a.body).catch((e) => {
        err = e;
      });
      expect(err?.code).toBe("TAG_INVALID");
      expect(err?.message).toContain("The image tag 'v1' already exists in the 'locked' repository");
      expect((await reg.getManifest(locked, "v1"))?.digest).toBe(c.digest);
      expect(await reg.getManifest(locked, a.digest)).toBeUndefined();
      const some = info("some", "IMMUTABLE_WITH_EXCLUSION", ["latest"]);
      await pushImage(some, "latest");
      await pushImage(some, "latest");
      await pushImage(some, "v1");
      expect(await codeOf(pushImage(some, "v1"))).toBe("TAG_INVALID 400");
    });

    it("deletes a tag, or a manifest with every tag; records pulls", async () => {
      const m = await pushImage(app, "v1");
      await reg.putManifest(app, "v2", m.mediaType, m.body);
      expect(await reg.listTags(app)).toEqual(["v1", "v2"]);
      expect(await reg.deleteManifest(app, "v1")).toBe(true);
      expect(await reg.deleteManifest(app, "v1")).toBe(false);
      expect((await reg.listImages(app))[0].tags).toEqual(["v2"]);
      t += 5000;
      await reg.getManifest(app, "v2", true);
      expect((await reg.listImages(app))[0].lastPulledAt?.getTime()).toBe(t);
      expect(await reg.deleteManifest(app, m.digest)).toBe(true);
      expect(await reg.listTags(app)).toEqual([]);
      expect(await reg.listImages(app)).toEqual([]);
      expect(await reg.deleteManifest(app, m.digest)).toBe(false);
    });

    it("lists referrers by subject, filtered by artifactType", async () => {
      const img = await pushImage(app, "v1");
      const empty = await pushBlob(app, Buffer.from("{}"));
      const artifact = (type: string, n: string) =>
        Buffer.from(
          JSON.stringify({
            schemaVersion: 2,
            mediaType: MEDIA_TYPES.ociManifest,
            artifactType: type,
            config: { mediaType: "application/vnd.oci.empty.v1+json", ...empty },
            layers: [],
            subject: { mediaType: img.mediaType, digest: img.digest, size: img.body.length },
            annotations: { n },
          }),
        );
      const sig = await reg.putManifest(
        app,
        digestOf("sha256", artifact("application/vnd.example.sig", "1")),
        MEDIA_TYPES.ociManifest,
        artifact("application/vnd.example.sig", "1"),
      );
      expect(sig.subject).toBe(img.digest);
      await reg.putManifest(app, "sbom", MEDIA_TYPES.ociManifest, artifact("application/vnd.example.sbom", "2"));
      expect(
        reg
          .referrers(app, img.digest)
          .map((d) => d.artifactType)
          .sort(),
      ).toEqual(["application/vnd.example.sbom", "application/vnd.example.sig"]);
      expect(reg.referrers(app, img.digest, "application/vnd.example.sig")).toEqual([
        {
          mediaType: MEDIA_TYPES.ociManifest,
          digest: sig.digest,
          size: sig.body.length,
          artifactType: "application/vnd.example.sig",
          annotations: { n: "1" },
        },
      ]);
      expect(reg.referrers(app, digestOf("sha256", Buffer.from("none")))).toEqual([]);
      const listed = await reg.listImages(app);
      expect(listed.find((i) => i.digest === sig.digest)).toMatchObject({
        subject: img.digest,
        artifactMediaType: "application/vnd.example.sig",
      });
    });

    it("paginates tags", async () => {
      const m = await pushImage(app, "a");
      for (const tag of ["b", "c", "d"]) await reg.putManifest(app, tag, m.mediaType, m.body);
      expect(reg.tagsPage(app, "", 2)).toEqual({ tags: ["a", "b"], more: true });
      expect(reg.tagsPage(app, "b", 2)).toEqual({ tags: ["c", "d"], more: false });
      expect(reg.tagsPage(app, "d", 2)).toEqual({ tags: [], more: false });
    });

    it("deleteRepository forgets everything of the repository only", async () => {
      await pushImage(app, "v1");
      const other = await pushImage(info("other"), "v1");
      const id = await reg.startUpload(app);
      await reg.deleteRepository(app);
      expect(await reg.listImages(app)).toEqual([]);
      expect(await codeOf(reg.uploadStatus(app, id))).toBe("BLOB_UPLOAD_UNKNOWN 404");
      expect((await reg.getManifest(info("other"), "v1"))?.digest).toBe(other.digest);
    });
  });

  describe("garbage collection", () => {
    const blobFiles = async () => {
      const out: string[] = [];
      for await (const e of walk(driver, "/blobs")) if (!e.isDir) out.push(e.path);
      return out.sort();
    };

    it("keeps referenced and recent blobs, removes unreferenced ones after the grace period", async () => {
      const kept = await pushImage(app, "v1");
      const loose = await pushBlob(app, Buffer.from("never referenced"));
      const orphan = await pushImage(app, "gone");
      await reg.deleteManifest(app, orphan.digest);
      expect(await reg.collectGarbage()).toMatchObject({ linksRemoved: 0, blobsRemoved: 0 });
      t += 2 * HOUR;
      const r = await reg.collectGarbage();
      expect(r).toMatchObject({ linksRemoved: 2, blobsRemoved: 2 });
      expect(await reg.statBlob(app, loose.digest)).toBeUndefined();
      expect(await reg.statBlob(app, kept.layers[0].digest)).toBe(100);
      // The config blob is shared (same bytes) between the two images and so kept.
      expect(await reg.statBlob(app, kept.config.digest)).toBeDefined();
      expect((await blobFiles()).length).toBe(2);
      const opened = await reg.openBlob(app, parseDigest(kept.layers[0].digest)!);
      expect((await readAll(opened!.stream)).length).toBe(100);
    });

    it("leaves a push in progress alone: blobs uploaded before its manifest, and a blob just HEADed", async () => {
      const early = await pushBlob(app, Buffer.from("layer pushed long ago"));
      t += 2 * HOUR;
      const fresh = await pushBlob(app, Buffer.from("layer pushed now"));
      await reg.statBlob(app, early.digest); // the client checks it exists and skips uploading it
      await reg.collectGarbage();
      expect(await reg.statBlob(app, early.digest)).toBeDefined();
      expect(await reg.statBlob(app, fresh.digest)).toBeDefined();
      t += 2 * HOUR;
      await reg.collectGarbage();
      expect(await reg.statBlob(app, early.digest)).toBeUndefined();
    });

    it("expires abandoned uploads but not recent or busy ones", async () => {
      const old = await reg.startUpload(app);
      await reg.appendUpload(app, old, 0, Buffer.from("x"));
      t += 25 * HOUR;
      const recent = await reg.startUpload(app);
      const r = await reg.collectGarbage();
      expect(r.uploadsExpired).toBe(1);
      expect(await codeOf(reg.uploadStatus(app, old))).toBe("BLOB_UPLOAD_UNKNOWN 404");
      expect((await reg.uploadStatus(app, recent)).size).toBe(0);
    });

    it("removes blob files no row knows of (a crash between move and link)", async () => {
      const d = parseDigest(digestOf("sha256", Buffer.from("stray")))!;
      await driver.putContent(layout.blobData(d), Buffer.from("stray"));
      expect((await reg.collectGarbage()).strayFilesRemoved).toBe(0);
      t += 2 * HOUR;
      expect((await reg.collectGarbage()).strayFilesRemoved).toBe(1);
      expect(await blobFiles()).toEqual([]);
    });

    it("a commit racing the collector for the same digest ends with the blob present and linked", async () => {
      const data = Buffer.from("contended");
      const digest = digestOf("sha256", data);
      await pushBlob(app, data);
      t += 2 * HOUR;
      const other = info("other");
      const id = await reg.startUpload(other);
      await reg.appendUpload(other, id, 0, data);
      await Promise.all([reg.collectGarbage(), reg.completeUpload(other, id, digest)]);
      expect(await reg.statBlob(other, digest)).toBe(data.length);
      const opened = await reg.openBlob(other, parseDigest(digest)!);
      expect((await readAll(opened!.stream)).equals(data)).toBe(true);
    });

    it("under random interleavings of pushes, deletes and collections, every stored manifest's blobs stay readable", async () => {
      for (let round = 0; round < 30; round++) {
        const ops: Promise<unknown>[] = [];
        for (let i = 0; i < 4; i++) {
          const roll = Math.random();
          if (roll < 0.5) ops.push(pushImage(app, `t${i}`, [Buffer.from(`layer ${round % 3} ${i}`)]).catch(() => {}));
          else if (roll < 0.7) ops.push(reg.deleteManifest(app, `t${i}`));
          else ops.push(reg.collectGarbage());
        }
        t += Math.random() < 0.3 ? 2 * HOUR : 1000;
        await Promise.all(ops);
        for (const img of await reg.listImages(app)) {
          const m = JSON.parse((await reg.getManifest(app, img.digest))!.body.toString()) as {
            config: { digest: string };
            layers: { digest: string }[];
          };
          for (const d of [m.config.digest, ...m.layers.map((l) => l.digest)]) {
            const opened = await reg.openBlob(app, parseDigest(d)!);
            expect(opened, `round ${round}: ${d}`).toBeDefined();
            await readAll(opened!.stream);
          }
        }
      }
    });
  });
});
