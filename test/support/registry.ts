import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { type IncomingHttpHeaders, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateRepositoryCommand, ECRClient, GetAuthorizationTokenCommand } from "@aws-sdk/client-ecr";
import { clientConfig } from "./berth.js";

/** Helpers for the registry's integration tests: raw HTTP, blobs and manifests, and client tools. */

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  text: string;
  json<T = Record<string, unknown>>(): T;
}

/** One HTTP request with full control over headers (Host included) and the body. */
export function http(
  endpoint: string,
  method: string,
  path: string,
  opts: { headers?: Record<string, string>; body?: Buffer | string } = {},
): Promise<Reply> {
  const url = new URL(path, endpoint);
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers: { ...opts.headers }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const body = Buffer.concat(chunks);
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body,
          text: body.toString("utf8"),
          json: <T>() => JSON.parse(body.toString("utf8")) as T,
        });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(opts.body);
  });
}

export const sha256 = (data: Buffer | string) => `sha256:${createHash("sha256").update(data).digest("hex")}`;
export const sha512 = (data: Buffer | string) => `sha512:${createHash("sha512").update(data).digest("hex")}`;

export const MT = {
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerList: "application/vnd.docker.distribution.manifest.list.v2+json",
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociIndex: "application/vnd.oci.image.index.v1+json",
  dockerConfig: "application/vnd.docker.container.image.v1+json",
  ociConfig: "application/vnd.oci.image.config.v1+json",
  layer: "application/vnd.docker.image.rootfs.diff.tar.gzip",
  ociLayer: "application/vnd.oci.image.layer.v1.tar+gzip",
  empty: "application/vnd.oci.empty.v1+json",
} as const;

/** An ECR client, a token and repositories on a Berth. */
export class RegistryFixture {
  readonly ecr: ECRClient;
  readonly host: string;
  private tokenValue?: string;

  constructor(readonly endpoint: string) {
    this.ecr = new ECRClient(clientConfig(endpoint));
    this.host = `localhost:${new URL(endpoint).port}`;
  }

  /** `Basic <token>` from GetAuthorizationToken, as docker login would send it. */
  async auth(): Promise<string> {
    if (!this.tokenValue) {
      const out = await this.ecr.send(new GetAuthorizationTokenCommand({}));
      this.tokenValue = out.authorizationData![0].authorizationToken!;
    }
    return `Basic ${this.tokenValue}`;
  }

  /** The password half of the token (for `docker login` / skopeo `--creds AWS:<password>`). */
  async password(): Promise<string> {
    const token = (await this.auth()).slice("Basic ".length);
    return Buffer.from(token, "base64").toString("utf8").slice("AWS:".length);
  }

  async createRepository(
    name: string,
    mutability: "MUTABLE" | "IMMUTABLE" | "IMMUTABLE_WITH_EXCLUSION" | "MUTABLE_WITH_EXCLUSION" = "MUTABLE",
    filters: string[] = [],
  ) {
    await this.ecr.send(
      new CreateRepositoryCommand({
        repositoryName: name,
        imageTagMutability: mutability,
        imageTagMutabilityExclusionFilters: filters.length
          ? filters.map((filter) => ({ filter, filterType: "WILDCARD" as const }))
          : undefined,
      }),
    );
    return name;
  }

  /** An authenticated request. */
  async req(method: string, path: string, opts: { headers?: Record<string, string>; body?: Buffer | string } = {}) {
    return http(this.endpoint, method, path, {
      ...opts,
      headers: { authorization: await this.auth(), ...opts.headers },
    });
  }

  /** Uploads a blob in one request (POST ?digest=); returns its descriptor fields. */
  async pushBlob(repo: string, data: Buffer) {
    const digest = sha256(data);
    const r = await this.req("POST", `/v2/${repo}/blobs/uploads/?digest=${digest}`, {
      body: data,
      headers: { "content-type": "application/octet-stream" },
    });
    if (r.status !== 201) throw new Error(`blob push answered ${r.status}: ${r.text}`);
    return { digest, size: data.length };
  }

  /** Pushes random layers and a config, then a Docker v2 manifest under `reference`. */
  async pushImage(repo: string, reference: string, opts: { layers?: Buffer[]; mediaType?: string } = {}) {
    const layers = opts.layers ?? [randomBytes(1000)];
    const oci = opts.mediaType === MT.ociManifest;
    const config = await this.pushBlob(
      repo,
      Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", n: randomBytes(4).toString("hex") })),
    );
    const ls = [];
    for (const l of layers) ls.push(await this.pushBlob(repo, l));
    const mediaType = opts.mediaType ?? MT.dockerManifest;
    const body = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType,
        config: { mediaType: oci ? MT.ociConfig : MT.dockerConfig, ...config },
        layers: ls.map((l) => ({ mediaType: oci ? MT.ociLayer : MT.layer, ...l })),
      }),
    );
    const r = await this.putManifest(repo, reference, mediaType, body);
    if (r.status !== 201) throw new Error(`manifest push answered ${r.status}: ${r.text}`);
    return { digest: sha256(body), body, mediaType, config, layers: ls };
  }

  putManifest(repo: string, reference: string, mediaType: string, body: Buffer | string) {
    return this.req("PUT", `/v2/${repo}/manifests/${reference}`, { headers: { "content-type": mediaType }, body });
  }
}

/** The docker CLI with its own config dir, so logins in tests never touch the user's. */
export class Docker {
  readonly configDir = mkdtempSync(join(tmpdir(), "berth-registry-docker-"));

  run(args: string[], input?: string): string {
    return execFileSync("docker", args, {
      encoding: "utf8",
      input,
      env: { ...process.env, DOCKER_CONFIG: this.configDir },
      stdio: ["pipe", "pipe", "pipe"],
      timeout: 120_000,
    });
  }

  attempt(args: string[], input?: string): { ok: boolean; output: string } {
    try {
      return { ok: true, output: this.run(args, input) };
    } catch (e) {
      const err = e as { stdout?: string; stderr?: string };
      return { ok: false, output: `${err.stdout ?? ""}${err.stderr ?? ""}` };
    }
  }

  dispose() {
    rmSync(this.configDir, { recursive: true, force: true });
  }
}

/** skopeo with the given arguments; throws with its stderr on failure. */
export function skopeo(args: string[]): string {
  try {
    return execFileSync("skopeo", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 120_000 });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`skopeo ${args.join(" ")} failed: ${err.stderr || err.message}`);
  }
}
