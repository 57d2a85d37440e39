import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { MEDIA_TYPES } from "../manifest.js";
import { parseChallenges, tokenRequestUrl } from "./www-authenticate.js";

/**
 * An OCI distribution client for pull-through caching: GETs manifests and blobs from an upstream
 * registry, answering its challenge as docker does — a `Bearer` challenge with a token from the
 * realm (Basic credentials to the token service when it has them), a `Basic` one with the
 * credentials directly. Tokens are kept per repository until they expire.
 */

export interface UpstreamCredentials {
  username: string;
  password: string;
}

export interface Upstream {
  /** `https://registry-1.docker.io`, `http://127.0.0.1:5000`. */
  endpoint: string;
  credentials?: UpstreamCredentials;
}

/** Why an upstream did not give what was asked. */
export class UpstreamError extends Error {
  constructor(
    /** `unreachable` (network, timeout, 5xx), `unauthorized` (401/403), `not-found` (404), `invalid`. */
    readonly kind: "unreachable" | "unauthorized" | "not-found" | "invalid" | "too-many-requests",
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

export const MANIFEST_ACCEPT = [
  MEDIA_TYPES.ociIndex,
  MEDIA_TYPES.ociManifest,
  MEDIA_TYPES.dockerList,
  MEDIA_TYPES.dockerManifest,
].join(", ");

const TOKEN_DEFAULT_TTL_S = 60;
const REQUEST_TIMEOUT_MS = 30_000;

export interface FetchedManifest {
  digest?: string;
  mediaType: string;
  body: Buffer;
}

/** Tokens are kept per upstream, repository and credentials: two rules' secrets never share one. */
const tokenKey = (up: Upstream, repo: string) =>
  `${up.endpoint}|${repo}|${
    up.credentials
      ? createHash("sha256").update(`${up.credentials.username}\0${up.credentials.password}`).digest("hex")
      : "anonymous"
  }`;

export class UpstreamClient {
  private readonly tokens = new Map<string, { header: string; until: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  /** GET (or HEAD: no body) a manifest; throws UpstreamError. */
  async manifest(up: Upstream, repo: string, reference: string, method: "GET" | "HEAD"): Promise<FetchedManifest> {
    const res = await this.request(up, repo, `/v2/${repo}/manifests/${reference}`, method, {
      accept: MANIFEST_ACCEPT,
    });
    const mediaType = (res.headers.get("content-type") ?? "").split(";")[0].trim();
    const digest = res.headers.get("docker-content-digest") ?? undefined;
    if (method === "HEAD") {
      await res.body?.cancel();
      return { digest, mediaType, body: Buffer.alloc(0) };
    }
    const body = Buffer.from(await res.arrayBuffer());
    return { digest, mediaType, body };
  }

  /** A blob's bytes as a stream, with its declared length when the upstream sent one. */
  async blob(up: Upstream, repo: string, digest: string): Promise<{ stream: Readable; size?: number }> {
    const res = await this.request(up, repo, `/v2/${repo}/blobs/${digest}`, "GET", {});
    if (!res.body) throw new UpstreamError("invalid", `the upstream sent no body for blob ${digest}`);
    const length = res.headers.get("content-length");
    return {
      stream: Readable.fromWeb(res.body as unknown as WebReadableStream),
      size: length === null ? undefined : Number(length),
    };
  }

  /** Reaches `/v2/` and authenticates as a pull of `repo` would; throws UpstreamError. */
  async check(up: Upstream, repo: string): Promise<void> {
    const res = await this.request(up, repo, "/v2/", "GET", {});
    await res.body?.cancel();
  }

  private async request(
    up: Upstream,
    repo: string,
    path: string,
    method: string,
    headers: Record<string, string>,
  ): Promise<Response> {
    const key = tokenKey(up, repo);
    const cached = this.tokens.get(key);
    const auth = cached && cached.until > this.now() ? cached.header : undefined;
    let res = await this.send(up, path, method, { ...headers, ...(auth ? { authorization: auth } : {}) });
    if (res.status === 401) {
      await res.body?.cancel();
      const header = await this.answer(up, repo, res.headers.get("www-authenticate"));
      res = await this.send(up, path, method, { ...headers, authorization: header });
    }
    if (res.ok) return res;
    await res.body?.cancel().catch(() => {});
    const what = `${method} ${up.endpoint}${path}`;
    if (res.status === 401 || res.status === 403)
      throw new UpstreamError("unauthorized", `the upstream refused ${what} (${res.status})`, res.status);
    if (res.status === 404) throw new UpstreamError("not-found", `the upstream has no ${what} (404)`, 404);
    if (res.status === 429) throw new UpstreamError("too-many-requests", `the upstream throttled ${what} (429)`, 429);
    if (res.status >= 500)
      throw new UpstreamError("unreachable", `the upstream failed ${what} (${res.status})`, res.status);
    throw new UpstreamError("invalid", `the upstream answered ${what} with ${res.status}`, res.status);
  }

  /** The Authorization header that answers a challenge; caches Bearer tokens. */
  private async answer(up: Upstream, repo: string, header: string | null): Promise<string> {
    const challenges = parseChallenges(header);
    const basic = up.credentials
      ? `Basic ${Buffer.from(`${up.credentials.username}:${up.credentials.password}`).toString("base64")}`
      : undefined;
    const bearer = challenges.find((c) => c.scheme === "bearer");
    if (bearer) {
      const url = tokenRequestUrl(bearer, `repository:${repo}:pull`);
      if (!url) throw new UpstreamError("invalid", `the upstream's challenge has no usable realm: ${header}`);
      const res = await this.fetchWithTimeout(url, { headers: basic ? { authorization: basic } : {} });
      if (res.status === 401 || res.status === 403) {
        await res.body?.cancel();
        throw new UpstreamError(
          "unauthorized",
          `the upstream's token service refused ${up.credentials ? "the credentials" : "an anonymous pull"} (${res.status})`,
          res.status,
        );
      }
      if (!res.ok) {
        await res.body?.cancel();
        throw new UpstreamError("unreachable", `the upstream's token service answered ${res.status}`, res.status);
      }
      const doc = (await res.json().catch(() => ({}))) as {
        token?: string;
        access_token?: string;
        expires_in?: number;
      };
      const token = doc.token ?? doc.access_token;
      if (!token) throw new UpstreamError("invalid", "the upstream's token service returned no token");
      const value = `Bearer ${token}`;
      const ttl = (doc.expires_in ?? TOKEN_DEFAULT_TTL_S) * 1000;
      this.tokens.set(tokenKey(up, repo), { header: value, until: this.now() + ttl * 0.9 });
      return value;
    }
    if (challenges.some((c) => c.scheme === "basic") && basic) return basic;
    throw new UpstreamError("unauthorized", "the upstream requires credentials and the rule has none", 401);
  }

  private send(up: Upstream, path: string, method: string, headers: Record<string, string>) {
    return this.fetchWithTimeout(`${up.endpoint}${path}`, { method, headers, redirect: "follow" });
  }

  /** The timeout covers the answer's head only: a blob's body may take as long as it takes. */
  private async fetchWithTimeout(url: string, init: RequestInit): Promise<Response> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
    try {
      return await fetch(url, { ...init, signal: controller.signal });
    } catch (e) {
      const cause = (e as Error & { cause?: Error }).cause;
      throw new UpstreamError(
        "unreachable",
        `cannot reach ${new URL(url).host}: ${cause?.message ?? (e as Error).message}`,
      );
    } finally {
      clearTimeout(timer);
    }
  }
}
