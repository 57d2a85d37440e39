import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DeleteRepositoryCommand } from "@aws-sdk/client-ecr";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { startBerth } from "../support/berth.js";
import { BUSYBOX_IMAGE } from "../support/images.js";
import { Docker, RegistryFixture, skopeo } from "../support/registry.js";

/** The registry through real clients: skopeo (docker-archive, OCI, inspect, delete) and the docker CLI. */

const suffix = Date.now().toString(36);

/** A small image FROM the busybox test image with a file whose content is `variant`. */
function buildVariant(docker: Docker, tag: string, variant: string) {
  const dir = mkdtempSync(join(tmpdir(), "berth-reg-img-"));
  try {
    writeFileSync(join(dir, "variant.txt"), variant);
    writeFileSync(join(dir, "Dockerfile"), `FROM ${BUSYBOX_IMAGE}\nCOPY variant.txt /variant.txt\n`);
    docker.run(["build", "-q", "-t", tag, dir]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("registry: skopeo and docker", () => {
  let f: RegistryFixture;
  let port: string;
  const docker = new Docker();
  const work = mkdtempSync(join(tmpdir(), "berth-reg-clients-"));
  /** Image ids this suite created or pulled, removed at the end (tags and repo digests alike). */
  const images = new Set<string>();
  const track = (ref: string) => images.add(docker.run(["image", "inspect", "--format", "{{.Id}}", ref]).trim());
  const repos: string[] = [];
  let archive: string;
  const local = `berth-test/registry-a:${suffix}`;

  const creds = async () => `AWS:${await f.password()}`;

  beforeAll(async () => {
    f = new RegistryFixture(inject("endpoint"));
    port = new URL(f.endpoint).port;
    buildVariant(docker, local, "a");
    track(local);
    archive = join(work, "a.tar");
    docker.run(["save", "-o", archive, local]);
  });

  afterAll(async () => {
    if (images.size > 0) docker.attempt(["rmi", "-f", ...images]);
    docker.dispose();
    rmSync(work, { recursive: true, force: true });
    for (const r of repos)
      await f.ecr.send(new DeleteRepositoryCommand({ repositoryName: r, force: true })).catch(() => {});
  });

  it("skopeo copies a docker-archive in, inspects it, copies it out as OCI and deletes it", async () => {
    const repo = await f.createRepository(`clients/skopeo-${suffix}`);
    repos.push(repo);
    const ref = `docker://127.0.0.1:${port}/${repo}:v1`;
    skopeo([
      "copy",
      "--quiet",
      "--dest-tls-verify=false",
      "--dest-creds",
      await creds(),
      `docker-archive:${archive}`,
      ref,
    ]);
    const inspected = JSON.parse(skopeo(["inspect", "--tls-verify=false", "--creds", await creds(), ref])) as {
      Digest: string;
      Layers: string[];
      Os: string;
    };
    expect(inspected.Digest).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(inspected.Layers.length).toBeGreaterThanOrEqual(2);
    const raw = skopeo(["inspect", "--raw", "--tls-verify=false", "--creds", await creds(), ref]);
    expect(JSON.parse(raw).mediaType).toBe("application/vnd.docker.distribution.manifest.v2+json");

    // OCI format in, a second tag, then out to an OCI layout: the bytes survive the round trip.
    const oci = `docker://127.0.0.1:${port}/${repo}:oci`;
    skopeo([
      "copy",
      "--quiet",
      "--format",
      "oci",
      "--dest-tls-verify=false",
      "--dest-creds",
      await creds(),
      `docker-archive:${archive}`,
      oci,
    ]);
    const ociRaw = JSON.parse(skopeo(["inspect", "--raw", "--tls-verify=false", "--creds", await creds(), oci]));
    expect(ociRaw.mediaType).toBe("application/vnd.oci.image.manifest.v1+json");
    const out = join(work, "layout");
    skopeo(["copy", "--quiet", "--src-tls-verify=false", "--src-creds", await creds(), oci, `oci:${out}:x`]);
    const index = JSON.parse(readFileSync(join(out, "index.json"), "utf8"));
    expect(index.manifests[0].digest).toBe(
      `sha256:${
        execFileSync("sha256sum", {
          input: skopeo(["inspect", "--raw", "--tls-verify=false", "--creds", await creds(), oci]),
        })
          .toString()
          .split(" ")[0]
      }`,
    );

    const tags = JSON.parse(
      skopeo(["list-tags", "--tls-verify=false", "--creds", await creds(), `docker://127.0.0.1:${port}/${repo}`]),
    );
    expect(tags.Tags.sort()).toEqual(["oci", "v1"]);
    const c = await creds();
    skopeo(["delete", "--tls-verify=false", "--creds", c, ref]);
    expect(() => skopeo(["inspect", "--tls-verify=false", "--creds", c, ref])).toThrow(/manifest unknown/i);
  });

  it("skopeo copies between repositories with a cross-repository mount", async () => {
    const a = await f.createRepository(`clients/mount-a-${suffix}`);
    const b = await f.createRepository(`clients/mount-b-${suffix}`);
    repos.push(a, b);
    const c = await creds();
    skopeo([
      "copy",
      "--quiet",
      "--dest-tls-verify=false",
      "--dest-creds",
      c,
      `docker-archive:${archive}`,
      `docker://127.0.0.1:${port}/${a}:v1`,
    ]);
    skopeo([
      "copy",
      "--quiet",
      "--src-tls-verify=false",
      "--dest-tls-verify=false",
      "--src-creds",
      c,
      "--dest-creds",
      c,
      `docker://127.0.0.1:${port}/${a}:v1`,
      `docker://127.0.0.1:${port}/${b}:v1`,
    ]);
    const da = JSON.parse(
      skopeo(["inspect", "--tls-verify=false", "--creds", c, `docker://127.0.0.1:${port}/${a}:v1`]),
    ).Digest;
    const db = JSON.parse(
      skopeo(["inspect", "--tls-verify=false", "--creds", c, `docker://127.0.0.1:${port}/${b}:v1`]),
    ).Digest;
    expect(db).toBe(da);
  });

  it("docker logs in, pushes, removes, pulls and runs the image; an immutable tag refuses a different push", async () => {
    const repo = await f.createRepository(`clients/docker-${suffix}`, "IMMUTABLE");
    repos.push(repo);
    const remote = `${f.host}/${repo}`;
    expect(docker.run(["login", "-u", "AWS", "--password-stdin", f.host], await f.password())).toContain(
      "Login Succeeded",
    );
    docker.run(["tag", local, `${remote}:v1`]);
    const pushed = docker.attempt(["push", `${remote}:v1`]);
    expect(pushed.ok, pushed.output).toBe(true);
    expect(pushed.output).toMatch(/v1: digest: sha256:[a-f0-9]{64} size: \d+/);
    docker.run(["rmi", `${remote}:v1`]);
    docker.attempt(["rmi", local]);
    const pulled = docker.attempt(["pull", `${remote}:v1`]);
    expect(pulled.ok, pulled.output).toBe(true);
    track(`${remote}:v1`);
    expect(docker.run(["run", "--rm", `${remote}:v1`, "cat", "/variant.txt"])).toBe("a");
    docker.run(["tag", `${remote}:v1`, local]);

    buildVariant(docker, `berth-test/registry-b:${suffix}`, "b");
    track(`berth-test/registry-b:${suffix}`);
    docker.run(["tag", `berth-test/registry-b:${suffix}`, `${remote}:v1`]);
    const refused = docker.attempt(["push", `${remote}:v1`]);
    expect(refused.ok).toBe(false);
    expect(refused.output).toContain(
      `The image tag 'v1' already exists in the '${repo}' repository and cannot be overwritten because the repository is immutable.`,
    );
  });

  it("keeps images across a restart of Berth", async () => {
    const berth = await startBerth();
    try {
      const g = new RegistryFixture(berth.endpoint);
      const repo = await g.createRepository(`clients/durable-${suffix}`);
      const ref = `docker://127.0.0.1:${berth.port}/${repo}:v1`;
      const c = `AWS:${await g.password()}`;
      skopeo(["copy", "--quiet", "--dest-tls-verify=false", "--dest-creds", c, `docker-archive:${archive}`, ref]);
      const before = JSON.parse(skopeo(["inspect", "--tls-verify=false", "--creds", c, ref])).Digest;
      expect(await berth.stop()).toBe(0);
      const again = await startBerth({ dataDir: berth.dataDir, port: berth.port });
      try {
        const out = join(work, "after-restart");
        skopeo(["copy", "--quiet", "--src-tls-verify=false", "--src-creds", c, ref, `oci:${out}:x`]);
        expect(JSON.parse(skopeo(["inspect", "--tls-verify=false", "--creds", c, ref])).Digest).toBe(before);
      } finally {
        await again.stop();
      }
    } finally {
      rmSync(berth.dataDir, { recursive: true, force: true });
    }
  });
});
