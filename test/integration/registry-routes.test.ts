import { randomBytes } from "node:crypto";
import { connect } from "node:net";
import { CreateRepositoryCommand, DeleteRepositoryCommand, ECRClient } from "@aws-sdk/client-ecr";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { clientConfig } from "../support/berth.js";
import {
  MT,
  type RegistryFixture as Fixture,
  RegistryFixture,
  type Reply,
  http,
  sha256,
  sha512,
} from "../support/registry.js";

/**
 * Conformance of every /v2/ route and error, over plain HTTP against a real Berth: the
 * repositories come from the ECR API and the credentials from GetAuthorizationToken.
 */

const suffix = Date.now().toString(36);
const errorCode = (r: Reply) => (r.json<{ errors: { code: string }[] }>().errors ?? [])[0]?.code;
const expectError = (r: Reply, status: number, code: string) => {
  expect({ status: r.status, code: errorCode(r) }, r.text).toEqual({ status, code });
  expect(r.headers["content-type"]).toMatch(/^application\/json/);
  expect(r.headers["docker-distribution-api-version"]).toBe("registry/2.0");
};

describe("registry: OCI distribution routes", () => {
  let f: Fixture;
  let endpoint: string;
  const repo = `reg/routes-${suffix}`;
  const other = `reg/other-${suffix}`;
  const locked = `reg/locked-${suffix}`;
  const partly = `reg/partly-${suffix}`;
  const foreignAccount = "111111111111";
  const foreign = `reg/foreign-${suffix}`;
  let foreignEcr: ECRClient;

  beforeAll(async () => {
    endpoint = inject("endpoint");
    f = new RegistryFixture(endpoint);
    await f.createRepository(repo);
    await f.createRepository(other);
    await f.createRepository(locked, "IMMUTABLE");
    await f.createRepository(partly, "IMMUTABLE_WITH_EXCLUSION", ["latest", "dev-*"]);
    foreignEcr = new ECRClient({
      ...clientConfig(endpoint),
      credentials: { accessKeyId: foreignAccount, secretAccessKey: "x" },
    });
    await foreignEcr.send(new CreateRepositoryCommand({ repositoryName: foreign }));
  });

  afterAll(async () => {
    for (const name of [repo, other, locked, partly])
      await f.ecr.send(new DeleteRepositoryCommand({ repositoryName: name, force: true })).catch(() => {});
    await foreignEcr.send(new DeleteRepositoryCommand({ repositoryName: foreign, force: true })).catch(() => {});
  });

  describe("version check and access", () => {
    it("challenges an anonymous client with Bearer at the token service, and answers {} once logged in", async () => {
      const anon = await http(endpoint, "GET", "/v2/", { headers: { host: f.host } });
      expectError(anon, 401, "UNAUTHORIZED");
      expect(anon.headers["www-authenticate"]).toBe(
        `Bearer realm="http://${f.host}/v2/token",service="ecr.amazonaws.com"`,
      );
      const bad = await http(endpoint, "GET", "/v2/", {
        headers: { authorization: `Basic ${Buffer.from("AWS:forged.token").toString("base64")}` },
      });
      expectError(bad, 401, "UNAUTHORIZED");
      const ok = await f.req("GET", "/v2/");
      expect(ok.status).toBe(200);
      expect(ok.json()).toEqual({});
      expect(ok.headers["docker-distribution-api-version"]).toBe("registry/2.0");
      expect((await f.req("GET", "/v2")).status).toBe(200);
      expectError(await f.req("POST", "/v2/"), 405, "UNSUPPORTED");
    });

    it("the token service turns ECR credentials into a Bearer token, and no credentials into an anonymous one", async () => {
      const scope = `?service=ecr.amazonaws.com&scope=repository:${repo}:pull,push`;
      const granted = await f.req("GET", `/v2/token${scope}`);
      expect(granted.status).toBe(200);
      const { token, access_token, expires_in } = granted.json<{
        token: string;
        access_token: string;
        expires_in: number;
      }>();
      expect(access_token).toBe(token);
      expect(expires_in).toBe(43200);
      const bearer = { authorization: `Bearer ${token}` };
      expect((await http(endpoint, "GET", "/v2/", { headers: bearer })).status).toBe(200);
      expect((await http(endpoint, "GET", `/v2/${repo}/tags/list`, { headers: bearer })).status).toBe(200);

      const forged = { authorization: `Basic ${Buffer.from("AWS:forged.token").toString("base64")}` };
      expectError(await http(endpoint, "GET", `/v2/token${scope}`, { headers: forged }), 401, "UNAUTHORIZED");

      const anon = await http(endpoint, "GET", `/v2/token${scope}`);
      expect(anon.status).toBe(200);
      const anonymous = { authorization: `Bearer ${anon.json<{ token: string }>().token}` };
      expectError(await http(endpoint, "GET", "/v2/", { headers: anonymous }), 401, "UNAUTHORIZED");
      const refused = await http(endpoint, "GET", `/v2/${repo}/tags/list`, { headers: anonymous });
      expectError(refused, 401, "UNAUTHORIZED");
      expect(refused.headers["www-authenticate"]).toContain(`scope="repository:${repo}:pull"`);
      expectError(await http(endpoint, "POST", "/v2/token"), 405, "UNSUPPORTED");
    });

    it("NAME_INVALID for a malformed name, NAME_UNKNOWN for a repository ECR does not have", async () => {
      expectError(await f.req("GET", "/v2/Upper/Case/tags/list"), 400, "NAME_INVALID");
      expectError(await f.req("GET", "/v2/a/tags/list"), 400, "NAME_INVALID");
      const missing = await f.req("GET", `/v2/nope-${suffix}/tags/list`);
      expectError(missing, 404, "NAME_UNKNOWN");
      expect(missing.json<{ errors: { message: string }[] }>().errors[0].message).toBe(
        `The repository with name 'nope-${suffix}' does not exist in the registry with id '000000000000'`,
      );
      // ECR never creates a repository on push.
      expectError(await f.req("POST", `/v2/nope-${suffix}/blobs/uploads/`), 404, "NAME_UNKNOWN");
    });

    it("UNAUTHORIZED with the challenge without credentials; DENIED for another account's repository", async () => {
      const anon = await http(endpoint, "GET", `/v2/${repo}/tags/list`);
      expectError(anon, 401, "UNAUTHORIZED");
      expect(anon.headers["www-authenticate"]).toMatch(
        /^Bearer realm="http:\/\/[^"]+\/v2\/token",service="ecr.amazonaws.com",scope="repository:reg\/routes-[a-z0-9]+:pull"$/,
      );
      const host = `${foreignAccount}.dkr.ecr.us-east-1.localhost:${new URL(endpoint).port}`;
      const denied = await f.req("GET", `/v2/${foreign}/tags/list`, { headers: { host } });
      expectError(denied, 403, "DENIED");
      expectError(await f.req("GET", `/v2/${repo}/tags/list`, { headers: { host } }), 404, "NAME_UNKNOWN");
    });

    it("unsupported methods are UNSUPPORTED 405; unknown paths 404", async () => {
      expectError(await f.req("POST", `/v2/${repo}/manifests/latest`), 405, "UNSUPPORTED");
      expectError(await f.req("PUT", `/v2/${repo}/tags/list`), 405, "UNSUPPORTED");
      expect((await f.req("GET", `/v2/${repo}/nothing/here`)).status).toBe(404);
    });
  });

  describe("blobs", () => {
    it("monolithic POST ?digest=: 201 with Location and Docker-Content-Digest; HEAD and GET serve it", async () => {
      const data = randomBytes(200_000);
      const digest = sha256(data);
      const r = await f.req("POST", `/v2/${repo}/blobs/uploads/?digest=${digest}`, { body: data });
      expect(r.status).toBe(201);
      expect(r.headers.location).toBe(`/v2/${repo}/blobs/${digest}`);
      expect(r.headers["docker-content-digest"]).toBe(digest);
      const head = await f.req("HEAD", `/v2/${repo}/blobs/${digest}`);
      expect(head.status).toBe(200);
      expect(head.headers["content-length"]).toBe("200000");
      expect(head.headers["docker-content-digest"]).toBe(digest);
      expect(head.body.length).toBe(0);
      const get = await f.req("GET", `/v2/${repo}/blobs/${digest}`);
      expect(get.status).toBe(200);
      expect(get.headers["content-type"]).toBe("application/octet-stream");
      expect(get.body.equals(data)).toBe(true);
    });

    it("an empty blob uploads and reads back; any Range of it is unsatisfiable", async () => {
      const empty = Buffer.alloc(0);
      const { digest } = await f.pushBlob(repo, empty);
      expect(digest).toBe("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
      const get = await f.req("GET", `/v2/${repo}/blobs/${digest}`);
      expect([get.status, get.headers["content-length"], get.body.length]).toEqual([200, "0", 0]);
      expectError(
        await f.req("GET", `/v2/${repo}/blobs/${digest}`, { headers: { range: "bytes=0-" } }),
        416,
        "RANGE_INVALID",
      );
    });

    it("Range: 206 with Content-Range for a span, a suffix or an open end; 416 RANGE_INVALID beyond the end", async () => {
      const data = randomBytes(1000);
      const { digest } = await f.pushBlob(repo, data);
      const part = await f.req("GET", `/v2/${repo}/blobs/${digest}`, { headers: { range: "bytes=100-199" } });
      expect(part.status).toBe(206);
      expect(part.headers["content-range"]).toBe("bytes 100-199/1000");
      expect(part.body.equals(data.subarray(100, 200))).toBe(true);
      const tail = await f.req("GET", `/v2/${repo}/blobs/${digest}`, { headers: { range: "bytes=-10" } });
      expect(tail.body.equals(data.subarray(990))).toBe(true);
      const open = await f.req("GET", `/v2/${repo}/blobs/${digest}`, { headers: { range: "bytes=995-" } });
      expect([open.status, open.body.length]).toEqual([206, 5]);
      const beyond = await f.req("GET", `/v2/${repo}/blobs/${digest}`, { headers: { range: "bytes=1000-" } });
      expectError(beyond, 416, "RANGE_INVALID");
      expect(beyond.headers["content-range"]).toBe("bytes */1000");
    });

    it("BLOB_UNKNOWN for a blob the repository does not have; DIGEST_INVALID for a malformed digest", async () => {
      const { digest } = await f.pushBlob(other, randomBytes(10));
      expectError(await f.req("GET", `/v2/${repo}/blobs/${digest}`), 404, "BLOB_UNKNOWN");
      expect((await f.req("HEAD", `/v2/${repo}/blobs/${digest}`)).status).toBe(404);
      expectError(await f.req("GET", `/v2/${repo}/blobs/sha256:abc`), 400, "DIGEST_INVALID");
      expectError(await f.req("GET", `/v2/${repo}/blobs/md5:${"a".repeat(32)}`), 400, "DIGEST_INVALID");
    });

    it("DELETE removes the blob from the repository: 202, then BLOB_UNKNOWN", async () => {
      const { digest } = await f.pushBlob(repo, randomBytes(10));
      expect((await f.req("DELETE", `/v2/${repo}/blobs/${digest}`)).status).toBe(202);
      expectError(await f.req("GET", `/v2/${repo}/blobs/${digest}`), 404, "BLOB_UNKNOWN");
      expectError(await f.req("DELETE", `/v2/${repo}/blobs/${digest}`), 404, "BLOB_UNKNOWN");
    });

    it("serves a manifest's bytes from the blob endpoint too", async () => {
      const img = await f.pushImage(repo, "as-blob");
      const r = await f.req("GET", `/v2/${repo}/blobs/${img.digest}`);
      expect(r.status).toBe(200);
      expect(r.body.equals(img.body)).toBe(true);
    });
  });

  describe("uploads", () => {
    const start = async (name = repo) => {
      const r = await f.req("POST", `/v2/${name}/blobs/uploads/`);
      expect(r.status).toBe(202);
      return r;
    };

    it("POST starts a session: 202, Location, Range 0-0, Docker-Upload-UUID", async () => {
      const r = await start();
      const id = r.headers["docker-upload-uuid"] as string;
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      expect(r.headers.location).toBe(`/v2/${repo}/blobs/uploads/${id}`);
      expect(r.headers.range).toBe("0-0");
      expect(r.headers["content-length"]).toBe("0");
    });

    it("chunked PATCHes with Content-Range, status GET, then PUT ?digest= commits", async () => {
      const data = randomBytes(300_000);
      const loc = (await start()).headers.location as string;
      const p1 = await f.req("PATCH", loc, {
        headers: { "content-range": "0-99999", "content-type": "application/octet-stream" },
        body: data.subarray(0, 100_000),
      });
      expect(p1.status).toBe(202);
      expect(p1.headers.range).toBe("0-99999");
      expect(p1.headers.location).toBe(loc);
      const status = await f.req("GET", loc);
      expect([status.status, status.headers.range]).toEqual([204, "0-99999"]);
      expect(status.headers["docker-upload-uuid"]).toBe(loc.split("/").at(-1));
      const outOfOrder = await f.req("PATCH", loc, {
        headers: { "content-range": "200000-299999" },
        body: data.subarray(200_000),
      });
      expectError(outOfOrder, 416, "RANGE_INVALID");
      expect(outOfOrder.headers.range).toBe("0-99999");
      const p2 = await f.req("PATCH", loc, {
        headers: { "content-range": "100000-299999" },
        body: data.subarray(100_000),
      });
      expect(p2.headers.range).toBe("0-299999");
      const digest = sha256(data);
      const done = await f.req("PUT", `${loc}?digest=${digest}`);
      expect(done.status).toBe(201);
      expect(done.headers.location).toBe(`/v2/${repo}/blobs/${digest}`);
      expect(done.headers["docker-content-digest"]).toBe(digest);
      expect((await f.req("GET", `/v2/${repo}/blobs/${digest}`)).body.equals(data)).toBe(true);
      expectError(await f.req("GET", loc), 404, "BLOB_UPLOAD_UNKNOWN");
    });

    it("a streamed PATCH (no Content-Range, chunked encoding) and a PUT carrying the last chunk", async () => {
      const data = randomBytes(70_000);
      const loc = (await start()).headers.location as string;
      const stream = await new Promise<Reply>((resolve, reject) => {
        import("node:http").then(({ request }) => {
          const req = request(new URL(loc, endpoint), { method: "PATCH", agent: false }, (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("end", () => {
              const body = Buffer.concat(chunks);
              resolve({
                status: res.statusCode ?? 0,
                headers: res.headers,
                body,
                text: body.toString(),
                json: () => JSON.parse(body.toString()),
              });
            });
          });
          req.on("error", reject);
          f.auth().then((a) => {
            req.setHeader("authorization", a);
            req.write(data.subarray(0, 30_000));
            req.write(data.subarray(30_000, 50_000));
            req.end();
          });
        });
      });
      expect([stream.status, stream.headers.range]).toEqual([202, "0-49999"]);
      const digest = sha256(data);
      const done = await f.req("PUT", `${loc}?digest=${digest}`, {
        headers: { "content-range": "50000-69999" },
        body: data.subarray(50_000),
      });
      expect(done.status).toBe(201);
      expect((await f.req("HEAD", `/v2/${repo}/blobs/${digest}`)).headers["content-length"]).toBe("70000");
    });

    it("POST then PUT with the whole body (two-step monolithic); sha512 digests", async () => {
      const data = randomBytes(5000);
      const loc = (await start()).headers.location as string;
      const digest = sha512(data);
      const done = await f.req("PUT", `${loc}?digest=${digest}`, { body: data });
      expect([done.status, done.headers["docker-content-digest"]]).toEqual([201, digest]);
      expect((await f.req("GET", `/v2/${repo}/blobs/${digest}`)).body.equals(data)).toBe(true);
      const mono = randomBytes(3000);
      const r = await f.req("POST", `/v2/${repo}/blobs/uploads/?digest=${sha512(mono)}`, { body: mono });
      expect(r.status).toBe(201);
    });

    it("a wrong digest is DIGEST_INVALID and stores nothing under either digest", async () => {
      const data = randomBytes(1000);
      const wrong = sha256(randomBytes(10));
      const loc = (await start()).headers.location as string;
      await f.req("PATCH", loc, { body: data });
      expectError(await f.req("PUT", `${loc}?digest=${wrong}`), 400, "DIGEST_INVALID");
      for (const d of [wrong, sha256(data)]) expect((await f.req("HEAD", `/v2/${repo}/blobs/${d}`)).status).toBe(404);
      expectError(await f.req("GET", loc), 404, "BLOB_UPLOAD_UNKNOWN");
      const mono = await f.req("POST", `/v2/${repo}/blobs/uploads/?digest=${wrong}`, { body: data });
      expectError(mono, 400, "DIGEST_INVALID");
      expect((await f.req("HEAD", `/v2/${repo}/blobs/${wrong}`)).status).toBe(404);
    });

    it("DIGEST_INVALID for a missing, malformed or unsupported digest on PUT; the session survives", async () => {
      const loc = (await start()).headers.location as string;
      await f.req("PATCH", loc, { body: "abc" });
      expectError(await f.req("PUT", loc), 400, "DIGEST_INVALID");
      expectError(await f.req("PUT", `${loc}?digest=sha256:xyz`), 400, "DIGEST_INVALID");
      expectError(await f.req("PUT", `${loc}?digest=sha384:${"a".repeat(96)}`), 400, "DIGEST_INVALID");
      expect((await f.req("PUT", `${loc}?digest=${sha256("abc")}`)).status).toBe(201);
    });

    it("BLOB_UPLOAD_INVALID for a Content-Range that disagrees with Content-Length", async () => {
      const loc = (await start()).headers.location as string;
      expectError(
        await f.req("PATCH", loc, { headers: { "content-range": "0-9" }, body: "abc" }),
        400,
        "BLOB_UPLOAD_INVALID",
      );
      expectError(
        await f.req("PATCH", loc, { headers: { "content-range": "bogus" }, body: "abc" }),
        400,
        "BLOB_UPLOAD_INVALID",
      );
    });

    it("DELETE cancels: 204, then BLOB_UPLOAD_UNKNOWN; unknown and foreign ids are BLOB_UPLOAD_UNKNOWN", async () => {
      const loc = (await start()).headers.location as string;
      expect((await f.req("DELETE", loc)).status).toBe(204);
      expectError(await f.req("GET", loc), 404, "BLOB_UPLOAD_UNKNOWN");
      expectError(await f.req("DELETE", loc), 404, "BLOB_UPLOAD_UNKNOWN");
      expectError(
        await f.req("PATCH", `/v2/${repo}/blobs/uploads/not-a-uuid`, { body: "x" }),
        404,
        "BLOB_UPLOAD_UNKNOWN",
      );
      const theirs = (await start(other)).headers["docker-upload-uuid"] as string;
      expectError(await f.req("GET", `/v2/${repo}/blobs/uploads/${theirs}`), 404, "BLOB_UPLOAD_UNKNOWN");
    });

    it("a body cut off mid-upload leaves no blob and a session that reports what arrived", async () => {
      const data = randomBytes(100_000);
      const loc = (await start()).headers.location as string;
      const auth = await f.auth();
      await new Promise<void>((resolve) => {
        const sock = connect(Number(new URL(endpoint).port), "127.0.0.1", () => {
          sock.write(
            `PATCH ${loc} HTTP/1.1\r\nHost: ${f.host}\r\nAuthorization: ${auth}\r\nContent-Length: 100000\r\n\r\n`,
          );
          sock.write(data.subarray(0, 40_000), () => setTimeout(() => sock.destroy(), 100));
        });
        sock.on("close", () => resolve());
        sock.on("error", () => resolve());
      });
      await new Promise((r) => setTimeout(r, 100));
      const status = await f.req("GET", loc);
      expect(status.status).toBe(204);
      const received = Number((status.headers.range as string).split("-")[1]) + 1;
      expect(received).toBeLessThanOrEqual(40_000);
      expect((await f.req("HEAD", `/v2/${repo}/blobs/${sha256(data)}`)).status).toBe(404);
      expectError(await f.req("PUT", `${loc}?digest=${sha256(data)}`), 400, "DIGEST_INVALID");
      expect((await f.req("HEAD", `/v2/${repo}/blobs/${sha256(data)}`)).status).toBe(404);
    });

    it("cross-repository mount: 201 when the caller may pull from the source, else an ordinary 202 upload", async () => {
      const { digest } = await f.pushBlob(other, randomBytes(500));
      const mounted = await f.req("POST", `/v2/${repo}/blobs/uploads/?mount=${digest}&from=${other}`);
      expect(mounted.status).toBe(201);
      expect(mounted.headers.location).toBe(`/v2/${repo}/blobs/${digest}`);
      expect(mounted.headers["docker-content-digest"]).toBe(digest);
      expect((await f.req("HEAD", `/v2/${repo}/blobs/${digest}`)).status).toBe(200);
      const absent = sha256(randomBytes(8));
      for (const from of [other, `missing-${suffix}`, foreign]) {
        const r = await f.req(
          "POST",
          `/v2/${partly}/blobs/uploads/?mount=${from === other ? absent : digest}&from=${from}`,
        );
        expect(r.status, from).toBe(202);
        expect(r.headers["docker-upload-uuid"]).toBeTruthy();
      }
      expectError(await f.req("POST", `/v2/${repo}/blobs/uploads/?mount=bad&from=${other}`), 400, "DIGEST_INVALID");
    });
  });

  describe("manifests", () => {
    it("PUT by tag: 201 with Location and Docker-Content-Digest; GET and HEAD by tag and by digest", async () => {
      const img = await f.pushImage(repo, "v1");
      const get = await f.req("GET", `/v2/${repo}/manifests/v1`, { headers: { accept: MT.dockerManifest } });
      expect(get.status).toBe(200);
      expect(get.body.equals(img.body)).toBe(true);
      expect(get.headers["content-type"]).toBe(MT.dockerManifest);
      expect(get.headers["docker-content-digest"]).toBe(img.digest);
      const head = await f.req("HEAD", `/v2/${repo}/manifests/${img.digest}`);
      expect([head.status, head.headers["content-length"], head.body.length]).toEqual([
        200,
        String(img.body.length),
        0,
      ]);
      const put = await f.putManifest(repo, "v1-again", img.mediaType, img.body);
      expect(put.headers.location).toBe(`/v2/${repo}/manifests/${img.digest}`);
      expect(put.headers["docker-content-digest"]).toBe(img.digest);
    });

    it("PUT by digest must match the content: DIGEST_INVALID otherwise", async () => {
      const img = await f.pushImage(repo, "by-digest");
      expect((await f.putManifest(repo, img.digest, img.mediaType, img.body)).status).toBe(201);
      expectError(await f.putManifest(repo, sha256("other"), img.mediaType, img.body), 400, "DIGEST_INVALID");
    });

    it("MANIFEST_BLOB_UNKNOWN when a referenced blob is not in the repository; nothing is stored", async () => {
      const img = await f.pushImage(other, "source");
      const r = await f.putManifest(repo, "orphan", img.mediaType, img.body);
      expectError(r, 400, "MANIFEST_BLOB_UNKNOWN");
      expectError(await f.req("GET", `/v2/${repo}/manifests/orphan`), 404, "MANIFEST_UNKNOWN");
      expectError(await f.req("GET", `/v2/${repo}/manifests/${img.digest}`), 404, "MANIFEST_UNKNOWN");
    });

    it("MANIFEST_INVALID for malformed manifests, 413 for one over 4 MiB; TAG_INVALID for a bad tag", async () => {
      const img = await f.pushImage(repo, "valid");
      const doc = JSON.parse(img.body.toString());
      expectError(await f.putManifest(repo, "bad", MT.dockerManifest, "{not json"), 400, "MANIFEST_INVALID");
      expectError(
        await f.putManifest(repo, "bad", MT.dockerManifest, JSON.stringify({ ...doc, layers: "x" })),
        400,
        "MANIFEST_INVALID",
      );
      expectError(await f.putManifest(repo, "bad", MT.ociManifest, img.body), 400, "MANIFEST_INVALID");
      expectError(
        await f.putManifest(repo, "bad", MT.dockerManifest, JSON.stringify({ ...doc, schemaVersion: 1 })),
        400,
        "MANIFEST_INVALID",
      );
      const huge = JSON.stringify({ ...doc, annotations: { pad: "x".repeat(4 * 1024 * 1024) } });
      expectError(await f.putManifest(repo, "huge", MT.dockerManifest, huge), 413, "MANIFEST_INVALID");
      expectError(await f.putManifest(repo, ".bad-tag", img.mediaType, img.body), 400, "TAG_INVALID");
      expectError(await f.putManifest(repo, "t".repeat(301), img.mediaType, img.body), 400, "TAG_INVALID");
      expectError(await f.req("GET", `/v2/${repo}/manifests/bad`), 404, "MANIFEST_UNKNOWN");
    });

    it("OCI image manifests, OCI indexes and Docker manifest lists; an index needs its children", async () => {
      const oci = await f.pushImage(repo, "oci", { mediaType: MT.ociManifest });
      expect((await f.req("GET", `/v2/${repo}/manifests/oci`)).headers["content-type"]).toBe(MT.ociManifest);
      const amd = await f.pushImage(repo, "amd");
      const child = (m: { digest: string; body: Buffer; mediaType: string }, arch: string) => ({
        mediaType: m.mediaType,
        digest: m.digest,
        size: m.body.length,
        platform: { os: "linux", architecture: arch },
      });
      const index = JSON.stringify({ schemaVersion: 2, mediaType: MT.ociIndex, manifests: [child(oci, "arm64")] });
      expect((await f.putManifest(repo, "index", MT.ociIndex, index)).status).toBe(201);
      const missing = { ...child(amd, "s390x"), digest: sha256("not pushed") };
      const list = (ms: object[]) => JSON.stringify({ schemaVersion: 2, mediaType: MT.dockerList, manifests: ms });
      expectError(
        await f.putManifest(repo, "list", MT.dockerList, list([child(amd, "amd64"), missing])),
        400,
        "MANIFEST_BLOB_UNKNOWN",
      );
      expect((await f.putManifest(repo, "list", MT.dockerList, list([child(amd, "amd64")]))).status).toBe(201);
      const got = await f.req("GET", `/v2/${repo}/manifests/list`, {
        headers: { accept: `${MT.dockerList}, ${MT.dockerManifest}` },
      });
      expect(got.headers["content-type"]).toBe(MT.dockerList);
      // A client that takes no lists gets the linux/amd64 image by tag, never a converted manifest.
      const legacy = await f.req("GET", `/v2/${repo}/manifests/list`, { headers: { accept: MT.dockerManifest } });
      expect([legacy.status, legacy.headers["docker-content-digest"]]).toEqual([200, amd.digest]);
      expectError(
        await f.req("GET", `/v2/${repo}/manifests/oci`, { headers: { accept: MT.dockerManifest } }),
        404,
        "MANIFEST_UNKNOWN",
      );
    });

    it("DELETE by tag untags; by digest deletes the manifest and its tags; MANIFEST_UNKNOWN after", async () => {
      const img = await f.pushImage(repo, "del-a");
      await f.putManifest(repo, "del-b", img.mediaType, img.body);
      expect((await f.req("DELETE", `/v2/${repo}/manifests/del-a`)).status).toBe(202);
      expectError(await f.req("GET", `/v2/${repo}/manifests/del-a`), 404, "MANIFEST_UNKNOWN");
      expect((await f.req("GET", `/v2/${repo}/manifests/del-b`)).status).toBe(200);
      expect((await f.req("DELETE", `/v2/${repo}/manifests/${img.digest}`)).status).toBe(202);
      expectError(await f.req("GET", `/v2/${repo}/manifests/del-b`), 404, "MANIFEST_UNKNOWN");
      expectError(await f.req("GET", `/v2/${repo}/manifests/${img.digest}`), 404, "MANIFEST_UNKNOWN");
      expectError(await f.req("DELETE", `/v2/${repo}/manifests/${img.digest}`), 404, "MANIFEST_UNKNOWN");
      expectError(await f.req("DELETE", `/v2/${repo}/manifests/sha256:zz`), 400, "DIGEST_INVALID");
    });

    it("IMMUTABLE refuses moving a tag with ECR's message; the same manifest may be pushed again", async () => {
      const a = await f.pushImage(locked, "v1");
      expect((await f.putManifest(locked, "v1", a.mediaType, a.body)).status).toBe(201);
      const b = await f.pushImage(locked, "v2");
      const r = await f.putManifest(locked, "v1", b.mediaType, b.body);
      expectError(r, 400, "TAG_INVALID");
      expect(r.json<{ errors: { message: string }[] }>().errors[0].message).toBe(
        `The image tag 'v1' already exists in the '${locked}' repository and cannot be overwritten because the repository is immutable.`,
      );
      expect((await f.req("GET", `/v2/${locked}/manifests/v1`)).headers["docker-content-digest"]).toBe(a.digest);
    });

    it("IMMUTABLE_WITH_EXCLUSION lets excluded tags move, and no others", async () => {
      const a = await f.pushImage(partly, "latest");
      const b = await f.pushImage(partly, "v1");
      expect((await f.putManifest(partly, "latest", b.mediaType, b.body)).status).toBe(201);
      expect((await f.putManifest(partly, "dev-1", a.mediaType, a.body)).status).toBe(201);
      expect((await f.putManifest(partly, "dev-1", b.mediaType, b.body)).status).toBe(201);
      expectError(await f.putManifest(partly, "v1", a.mediaType, a.body), 400, "TAG_INVALID");
    });
  });

  describe("referrers", () => {
    it("a manifest with a subject gets OCI-Subject; the referrers API lists it, filtered by artifactType", async () => {
      const img = await f.pushImage(repo, "signed", { mediaType: MT.ociManifest });
      const empty = await f.pushBlob(repo, Buffer.from("{}"));
      const artifact = (type: string, n: string) =>
        JSON.stringify({
          schemaVersion: 2,
          mediaType: MT.ociManifest,
          artifactType: type,
          config: { mediaType: MT.empty, ...empty },
          layers: [{ mediaType: MT.empty, ...empty }],
          subject: { mediaType: MT.ociManifest, digest: img.digest, size: img.body.length },
          annotations: { n },
        });
      const sig = artifact("application/vnd.example.signature", "1");
      const put = await f.putManifest(repo, sha256(sig), MT.ociManifest, sig);
      expect(put.status).toBe(201);
      expect(put.headers["oci-subject"]).toBe(img.digest);
      const sbom = artifact("application/vnd.example.sbom", "2");
      expect((await f.putManifest(repo, sha256(sbom), MT.ociManifest, sbom)).status).toBe(201);

      const all = await f.req("GET", `/v2/${repo}/referrers/${img.digest}`);
      expect(all.status).toBe(200);
      expect(all.headers["content-type"]).toBe(MT.ociIndex);
      const index = all.json<{ schemaVersion: number; mediaType: string; manifests: Record<string, unknown>[] }>();
      expect(index.schemaVersion).toBe(2);
      expect(index.mediaType).toBe(MT.ociIndex);
      expect(index.manifests.map((m) => m.artifactType).sort()).toEqual([
        "application/vnd.example.sbom",
        "application/vnd.example.signature",
      ]);
      const filtered = await f.req(
        "GET",
        `/v2/${repo}/referrers/${img.digest}?artifactType=application/vnd.example.sbom`,
      );
      expect(filtered.headers["oci-filters-applied"]).toBe("artifactType");
      expect(filtered.json<{ manifests: unknown[] }>().manifests).toEqual([
        {
          mediaType: MT.ociManifest,
          digest: sha256(sbom),
          size: Buffer.byteLength(sbom),
          artifactType: "application/vnd.example.sbom",
          annotations: { n: "2" },
        },
      ]);
      const none = await f.req("GET", `/v2/${repo}/referrers/${sha256("no subject")}`);
      expect([none.status, none.json<{ manifests: unknown[] }>().manifests]).toEqual([200, []]);
      expectError(await f.req("GET", `/v2/${repo}/referrers/sha256:bad`), 400, "DIGEST_INVALID");
    });
  });

  describe("listing", () => {
    it("tags/list, with n and last pagination and a Link to the next page", async () => {
      const name = `reg/tags-${suffix}`;
      await f.createRepository(name);
      try {
        const img = await f.pushImage(name, "a");
        for (const t of ["b", "c", "d", "e"]) await f.putManifest(name, t, img.mediaType, img.body);
        expect((await f.req("GET", `/v2/${name}/tags/list`)).json()).toEqual({ name, tags: ["a", "b", "c", "d", "e"] });
        const p1 = await f.req("GET", `/v2/${name}/tags/list?n=2`);
        expect(p1.json()).toEqual({ name, tags: ["a", "b"] });
        expect(p1.headers.link).toBe(`</v2/${name}/tags/list?n=2&last=b>; rel="next"`);
        const next = /<([^>]+)>/.exec(p1.headers.link as string)![1];
        const p2 = await f.req("GET", next);
        expect(p2.json()).toEqual({ name, tags: ["c", "d"] });
        const p3 = await f.req("GET", `/v2/${name}/tags/list?n=2&last=d`);
        expect(p3.json()).toEqual({ name, tags: ["e"] });
        expect(p3.headers.link).toBeUndefined();
        expect((await f.req("GET", `/v2/${name}/tags/list?last=c`)).json()).toEqual({ name, tags: ["d", "e"] });
        expect((await f.req("GET", `/v2/${name}/tags/list?n=0`)).json()).toEqual({ name, tags: [] });
        expectError(await f.req("GET", `/v2/${name}/tags/list?n=-1`), 400, "PAGINATION_NUMBER_INVALID");
        expectError(await f.req("GET", `/v2/${name}/tags/list?n=x`), 400, "PAGINATION_NUMBER_INVALID");
      } finally {
        await f.ecr.send(new DeleteRepositoryCommand({ repositoryName: name, force: true }));
      }
    });

    it("_catalog lists the account's repositories, paginated; anonymous callers are challenged", async () => {
      const all = (await f.req("GET", "/v2/_catalog")).json<{ repositories: string[] }>().repositories;
      expect(all).toEqual(expect.arrayContaining([repo, other, locked, partly]));
      expect(all).not.toContain(foreign);
      expect([...all].sort()).toEqual(all);
      const page = await f.req("GET", `/v2/_catalog?n=1&last=${encodeURIComponent(other)}`);
      expect(page.json<{ repositories: string[] }>().repositories).toEqual([all[all.indexOf(other) + 1]]);
      if (all.indexOf(other) + 2 < all.length)
        expect(page.headers.link).toMatch(/^<\/v2\/_catalog\?n=1&last=.+>; rel="next"$/);
      expectError(await http(endpoint, "GET", "/v2/_catalog"), 401, "UNAUTHORIZED");
    });
  });
});
