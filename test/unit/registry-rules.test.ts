import { describe, expect, it } from "vitest";
import fc from "fast-check";
import type { RegistryError } from "../../src/registry/api.js";
import { digestOf, parseDigest } from "../../src/registry/digest.js";
import { parseRange } from "../../src/registry/http/blobs.js";
import { parseContentRange } from "../../src/registry/http/uploads.js";
import { layout } from "../../src/registry/layout.js";
import { MEDIA_TYPES, negotiate, parseManifest, referrerDescriptor } from "../../src/registry/manifest.js";
import { checkTagMove, isTagImmutable, wildcardMatch } from "../../src/registry/mutability.js";
import { parseReference } from "../../src/registry/registry.js";

const d256 = (s: string) => digestOf("sha256", Buffer.from(s));
const desc = (mediaType: string, s: string, extra: object = {}) => ({
  mediaType,
  digest: d256(s),
  size: s.length,
  ...extra,
});
const json = (v: unknown) => Buffer.from(JSON.stringify(v));

const catchErr = (f: () => unknown): RegistryError => {
  try {
    f();
  } catch (e) {
    return e as RegistryError;
  }
  throw new Error("expected an error");
};

describe("digests", () => {
  it.each([
    ["sha256:" + "a".repeat(64), true],
    ["sha512:" + "0".repeat(128), true],
    ["sha256:" + "A".repeat(64), false],
    ["sha256:" + "a".repeat(63), false],
    ["sha512:" + "a".repeat(64), false],
    ["sha384:" + "a".repeat(96), false],
    ["sha256" + "a".repeat(64), false],
    ["", false],
    [":", false],
  ])("%s → %s", (s, ok) => {
    expect(parseDigest(s) !== undefined).toBe(ok);
  });

  it("parses every digest it computes", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 200 }),
        fc.constantFrom("sha256", "sha512") as fc.Arbitrary<"sha256" | "sha512">,
        (bytes, alg) => {
          const d = digestOf(alg, Buffer.from(bytes));
          expect(parseDigest(d)?.value).toBe(d);
          expect(layout.digestOfBlobDir(layout.blobDir(parseDigest(d)!))).toBe(d);
        },
      ),
    );
  });
});

describe("references", () => {
  it.each([
    ["latest", "tag"],
    ["v1.2.3-rc_1", "tag"],
    ["_x", "tag"],
    ["a".repeat(300), "tag"],
    [d256("x"), "digest"],
  ])("%s is a %s", (r, kind) => {
    expect(kind in (parseReference(r) as object)).toBe(true);
  });
  it.each([
    ["a".repeat(301), "TAG_INVALID"],
    [".hidden", "TAG_INVALID"],
    ["-x", "TAG_INVALID"],
    ["a/b", "TAG_INVALID"],
    ["sha256:nothex", "DIGEST_INVALID"],
    ["md5:" + "a".repeat(32), "DIGEST_INVALID"],
  ])("%s → %s", (r, code) => {
    expect(catchErr(() => parseReference(r)).code).toBe(code);
  });
});

describe("manifest validation", () => {
  const config = desc(MEDIA_TYPES.dockerConfig, "config");
  const layer = desc("application/vnd.docker.image.rootfs.diff.tar.gzip", "layer1", {});
  const docker = { schemaVersion: 2, mediaType: MEDIA_TYPES.dockerManifest, config, layers: [layer] };

  it("reads a Docker v2 schema 2 manifest: blobs, size, no artifact type", () => {
    const m = parseManifest(MEDIA_TYPES.dockerManifest, json(docker));
    expect(m).toMatchObject({ kind: "image", mediaType: MEDIA_TYPES.dockerManifest, size: 6, manifests: [] });
    expect(m.blobs).toEqual([config.digest, layer.digest]);
    expect(m.artifactMediaType).toBeUndefined();
    expect(m.referrerArtifactType).toBe(MEDIA_TYPES.dockerConfig);
  });

  it("takes the media type from the body when Content-Type is generic or absent, and infers OCI types", () => {
    expect(parseManifest("application/json", json(docker)).mediaType).toBe(MEDIA_TYPES.dockerManifest);
    expect(parseManifest(undefined, json({ schemaVersion: 2, config, layers: [] })).mediaType).toBe(
      MEDIA_TYPES.ociManifest,
    );
    expect(parseManifest("", json({ schemaVersion: 2, manifests: [] })).mediaType).toBe(MEDIA_TYPES.ociIndex);
    expect(
      parseManifest(`${MEDIA_TYPES.ociManifest}; charset=utf-8`, json({ schemaVersion: 2, config, layers: [] })).kind,
    ).toBe("image");
  });

  it("reads indexes and manifest lists: children, size", () => {
    const child = desc(MEDIA_TYPES.dockerManifest, "child", { platform: { os: "linux", architecture: "amd64" } });
    const m = parseManifest(
      MEDIA_TYPES.dockerList,
      json({ schemaVersion: 2, mediaType: MEDIA_TYPES.dockerList, manifests: [child] }),
    );
    expect(m).toMatchObject({ kind: "index", blobs: [], size: 5 });
    expect(m.manifests.map((c) => c.digest)).toEqual([child.digest]);
  });

  it("reads OCI artifacts: artifactType, subject, annotations, empty config", () => {
    const subject = desc(MEDIA_TYPES.ociManifest, "subject");
    const body = {
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociManifest,
      artifactType: "application/vnd.example.sbom",
      config: desc("application/vnd.oci.empty.v1+json", "{}"),
      layers: [desc("application/json", "sbom")],
      subject,
      annotations: { "org.opencontainers.image.created": "2026-01-01T00:00:00Z" },
    };
    const m = parseManifest(MEDIA_TYPES.ociManifest, json(body));
    expect(m.subject?.digest).toBe(subject.digest);
    expect(m.artifactMediaType).toBe("application/vnd.example.sbom");
    expect(referrerDescriptor(d256("x"), { mediaType: m.mediaType, body: json(body) })).toMatchObject({
      artifactType: "application/vnd.example.sbom",
      annotations: body.annotations,
    });
    const noType = { ...body, artifactType: undefined, config: desc("application/vnd.example.config", "c") };
    expect(parseManifest(MEDIA_TYPES.ociManifest, json(noType)).artifactMediaType).toBe(
      "application/vnd.example.config",
    );
  });

  it("does not require foreign layers with URLs to be in the registry", () => {
    const foreign = desc("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", "win", { urls: ["https://x/y"] });
    const m = parseManifest(MEDIA_TYPES.dockerManifest, json({ ...docker, layers: [layer, foreign] }));
    expect(m.blobs).toEqual([config.digest, layer.digest]);
    expect(m.size).toBe(6 + 3);
  });

  it.each([
    ["not JSON", Buffer.from("{"), "MANIFEST_INVALID", 400],
    ["an array", json([]), "MANIFEST_INVALID", 400],
    ["invalid UTF-8", Buffer.from([0x7b, 0xff, 0x7d]), "MANIFEST_INVALID", 400],
    ["schema 1", json({ schemaVersion: 1, name: "x", tag: "y", fsLayers: [] }), "MANIFEST_INVALID", 400],
    ["schemaVersion 3", json({ ...docker, schemaVersion: 3 }), "MANIFEST_INVALID", 400],
    ["no config", json({ ...docker, config: undefined }), "MANIFEST_INVALID", 400],
    ["layers not an array", json({ ...docker, layers: {} }), "MANIFEST_INVALID", 400],
    ["a bad layer digest", json({ ...docker, layers: [{ ...layer, digest: "sha256:zz" }] }), "MANIFEST_INVALID", 400],
    ["a negative size", json({ ...docker, layers: [{ ...layer, size: -1 }] }), "MANIFEST_INVALID", 400],
    ["a fractional size", json({ ...docker, layers: [{ ...layer, size: 1.5 }] }), "MANIFEST_INVALID", 400],
    [
      "a layer without mediaType",
      json({ ...docker, layers: [{ digest: layer.digest, size: 1 }] }),
      "MANIFEST_INVALID",
      400,
    ],
    [
      "a mediaType unlike Content-Type",
      json({ ...docker, mediaType: MEDIA_TYPES.ociManifest }),
      "MANIFEST_INVALID",
      400,
    ],
    ["an unknown mediaType", json({ ...docker, mediaType: "text/plain" }), "MANIFEST_INVALID", 400],
    ["annotations that are not strings", json({ ...docker, annotations: { a: 1 } }), "MANIFEST_INVALID", 400],
    ["over 4 MiB", Buffer.alloc(4 * 1024 * 1024 + 1, 0x20), "MANIFEST_INVALID", 413],
  ])("refuses %s", (_what, body, code, status) => {
    const e = catchErr(() => parseManifest(MEDIA_TYPES.dockerManifest, body));
    expect([e.code, e.status]).toEqual([code, status]);
  });
});

describe("content negotiation", () => {
  const list = {
    mediaType: MEDIA_TYPES.dockerList,
    body: json({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.dockerList,
      manifests: [
        desc(MEDIA_TYPES.dockerManifest, "arm", { platform: { os: "linux", architecture: "arm64" } }),
        desc(MEDIA_TYPES.dockerManifest, "amd", { platform: { os: "linux", architecture: "amd64" } }),
      ],
    }),
  };
  it("serves what the client accepts, or everything without an Accept header", () => {
    expect(negotiate(undefined, list, true)).toEqual({ serve: true });
    expect(negotiate("*/*", list, true)).toEqual({ serve: true });
    expect(negotiate([`${MEDIA_TYPES.dockerManifest}, ${MEDIA_TYPES.dockerList}`], list, true)).toEqual({
      serve: true,
    });
  });
  it("gives a client that takes no lists the linux/amd64 image, by tag only", () => {
    expect(negotiate(MEDIA_TYPES.dockerManifest, list, true)).toMatchObject({ serve: false, child: d256("amd") });
    expect(negotiate(MEDIA_TYPES.dockerManifest, list, false)).not.toHaveProperty("child");
  });
  it("never converts an OCI manifest for a Docker-only client", () => {
    const oci = { mediaType: MEDIA_TYPES.ociManifest, body: json({}) };
    expect(negotiate(MEDIA_TYPES.dockerManifest, oci, true).serve).toBe(false);
  });
});

describe("tag immutability", () => {
  it.each([
    ["*", "anything", true],
    ["", "", true],
    ["", "x", false],
    ["v*", "v1", true],
    ["v*", "xv1", false],
    ["*-dev", "a-dev", true],
    ["*-dev", "a-dev2", false],
    ["a*b*c", "abc", true],
    ["a*b*c", "axxbyyc", true],
    ["a*b*c", "acb", false],
    ["a*a", "a", false],
    ["latest", "latest", true],
    ["latest", "latest2", false],
  ])("%s matches %s: %s", (p, v, ok) => {
    expect(wildcardMatch(p, v)).toBe(ok);
  });

  it("agrees with a regular expression built from the pattern", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[ab*]{0,6}$/), fc.stringMatching(/^[ab]{0,8}$/), (p, v) => {
        const re = new RegExp(`^${p.split("*").join(".*")}$`);
        expect(wildcardMatch(p, v)).toBe(re.test(v));
      }),
    );
  });

  const repo = (
    m: "MUTABLE" | "IMMUTABLE" | "IMMUTABLE_WITH_EXCLUSION" | "MUTABLE_WITH_EXCLUSION",
    f: string[] = [],
  ) => ({
    account: "000000000000",
    region: "us-east-1",
    name: "app",
    public: false,
    imageTagMutability: m,
    mutabilityExclusionFilters: f,
  });
  it.each([
    ["MUTABLE", [], "v1", false],
    ["IMMUTABLE", [], "v1", true],
    ["IMMUTABLE_WITH_EXCLUSION", ["latest", "dev-*"], "latest", false],
    ["IMMUTABLE_WITH_EXCLUSION", ["latest", "dev-*"], "dev-7", false],
    ["IMMUTABLE_WITH_EXCLUSION", ["latest", "dev-*"], "v1", true],
    ["MUTABLE_WITH_EXCLUSION", ["release-*"], "release-1", true],
    ["MUTABLE_WITH_EXCLUSION", ["release-*"], "latest", false],
  ] as const)("%s %j: %s immutable=%s", (m, f, tag, immutable) => {
    expect(isTagImmutable(repo(m, [...f]), tag)).toBe(immutable);
  });

  it("refuses moving an immutable tag with ECR's message, allows re-pushing the same digest", () => {
    const r = repo("IMMUTABLE");
    expect(() => checkTagMove(r, "v1", undefined, "sha256:a")).not.toThrow();
    expect(() => checkTagMove(r, "v1", "sha256:a", "sha256:a")).not.toThrow();
    const e = catchErr(() => checkTagMove(r, "v1", "sha256:a", "sha256:b"));
    expect([e.code, e.status]).toEqual(["TAG_INVALID", 400]);
    expect(e.message).toBe(
      "The image tag 'v1' already exists in the 'app' repository and cannot be overwritten because the repository is immutable.",
    );
  });
});

describe("ranges", () => {
  it.each([
    ["bytes=0-9", 100, { start: 0, end: 9 }],
    ["bytes=10-", 100, { start: 10, end: 99 }],
    ["bytes=-10", 100, { start: 90, end: 99 }],
    ["bytes=-500", 100, { start: 0, end: 99 }],
    ["bytes=90-500", 100, { start: 90, end: 99 }],
    ["bytes=100-", 100, "unsatisfiable"],
    ["bytes=-0", 100, "unsatisfiable"],
    ["bytes=5-1", 100, null],
    ["bytes=0-1,5-6", 100, null],
    ["items=0-1", 100, null],
    [undefined, 100, null],
  ] as const)("Range %s of %d → %j", (h, size, want) => {
    expect(parseRange(h, size)).toEqual(want);
  });

  it.each([
    ["0-99", { offset: 0, length: 100 }],
    ["100-199", { offset: 100, length: 100 }],
    ["bytes 0-9/10", { offset: 0, length: 10 }],
    ["bytes=5-5", { offset: 5, length: 1 }],
  ])("Content-Range %s", (h, want) => {
    expect(parseContentRange(h)).toEqual(want);
  });
  it.each(["", "5", "9-5", "a-b", "0-"])("refuses Content-Range %j", (h) => {
    expect(catchErr(() => parseContentRange(h)).code).toBe("BLOB_UPLOAD_INVALID");
  });
});
