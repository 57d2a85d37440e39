import type { Logger } from "../../core/logger.js";
import type { PullThroughPolicy, PullThroughTarget, RepoRef, RepositoryInfo } from "../api.js";
import { RegistryError } from "../api.js";
import { digestOf, looksLikeDigest, parseDigest } from "../digest.js";
import { registryError } from "../errors.js";
import { KeyedMutex } from "../locks.js";
import { parseManifest } from "../manifest.js";
import type { OciRegistry } from "../registry.js";
import { type FetchedManifest, type Upstream, UpstreamClient, UpstreamError } from "./client.js";
import { type CachedTag, freshness } from "./freshness.js";

/** How many blobs of one image are fetched from the upstream at once. */
const BLOB_FETCHES = 3;

/**
 * The pull-through cache: a pull of a name a rule covers is answered from the registry when it
 * has the image (and, for a tag, has compared it with the upstream within the recheck interval),
 * else fetched from the upstream first — every blob streamed into an upload session that checks
 * its digest, then the manifest, whose digest is checked too. Nothing of an image is visible
 * until all of it is stored; an upstream that fails leaves the cached copy served.
 */
export class PullThroughCache {
  private readonly locks = new KeyedMutex();

  constructor(
    private readonly deps: {
      registry: OciRegistry;
      policy: PullThroughPolicy;
      now: () => number;
      logger?: Logger;
      client?: UpstreamClient;
    },
    private readonly client = deps.client ?? new UpstreamClient(deps.now),
  ) {}

  /**
   * Makes sure the manifest a pull names is in the registry, fetching it when it is missing or
   * stale. `existing` is the repository when it exists already; returns it (created if new).
   */
  async ensureManifest(
    ref: RepoRef,
    target: PullThroughTarget,
    reference: string,
    existing: RepositoryInfo | undefined,
  ): Promise<RepositoryInfo> {
    return this.locks.run(`${ref.account}/${ref.region}/${ref.name}@${reference}`, async () => {
      const repo = existing;
      const isTag = !looksLikeDigest(reference);
      const local = repo ? this.deps.registry.resolve(repo, reference) : undefined;
      const present = local !== undefined && repo !== undefined && this.deps.registry.meta.hasManifest(repo, local);
      const cached: CachedTag = {
        present,
        isTag,
        checkedAt: present && isTag ? this.deps.policy.lastChecked(ref, reference) : undefined,
      };
      const decision = freshness(cached, this.deps.now(), this.deps.policy.recheckMs);
      if (decision === "serve") return repo!;
      const up = this.upstream(target);
      try {
        if (decision === "revalidate") {
          const head = await this.client.manifest(up, target.repository, reference, "HEAD");
          if (head.digest !== undefined && head.digest === local) {
            this.deps.policy.recordCheck(ref, reference, this.deps.now());
            return repo!;
          }
        }
        const fetched = await this.client.manifest(up, target.repository, reference, "GET");
        const stored = await this.store(ref, target, up, reference, fetched, repo);
        if (isTag) this.deps.policy.recordCheck(ref, reference, this.deps.now());
        return stored;
      } catch (e) {
        if (present && (e instanceof UpstreamError || e instanceof RegistryError)) {
          // ECR serves the cached image when the upstream cannot be reached or refuses.
          this.deps.logger?.warn(
            { repository: ref.name, reference, err: (e as Error).message },
            "pull-through: upstream check failed; serving the cached image",
          );
          return repo!;
        }
        throw this.asRegistryError(e, target, reference);
      }
    });
  }

  private upstream(target: PullThroughTarget): Upstream {
    return { endpoint: target.endpoint, credentials: target.credentials() };
  }

  /** Verifies and stores a fetched manifest with what it references; creates the repository last. */
  private async store(
    ref: RepoRef,
    target: PullThroughTarget,
    up: Upstream,
    reference: string,
    fetched: FetchedManifest,
    existing: RepositoryInfo | undefined,
  ): Promise<RepositoryInfo> {
    const expected = looksLikeDigest(reference) ? reference : fetched.digest;
    const algorithm = expected ? (parseDigest(expected)?.algorithm ?? "sha256") : "sha256";
    const actual = digestOf(algorithm, fetched.body);
    if (expected !== undefined && actual !== expected)
      throw registryError(
        "DIGEST_INVALID",
        `the upstream ${target.upstreamUrl} sent a manifest for ${target.repository}:${reference} whose digest is ${actual}, not ${expected}; nothing was stored`,
      );
    const parsed = parseManifest(fetched.mediaType, fetched.body);
    // A few blobs at a time, as docker pulls layers (3 at once by default).
    const queue = [...parsed.blobs];
    const worker = async () => {
      for (let d = queue.shift(); d !== undefined; d = queue.shift()) await this.fetchBlob(ref, target, up, d);
    };
    await Promise.all(Array.from({ length: Math.min(BLOB_FETCHES, queue.length) }, worker));
    const repo = existing ?? this.deps.policy.createRepository(ref);
    await this.deps.registry.putManifest(repo, reference, fetched.mediaType, fetched.body, {
      childManifestsLater: true,
    });
    return repo;
  }

  /** Streams one blob from the upstream into the registry (digest checked), unless it is there already. */
  private async fetchBlob(ref: RepoRef, target: PullThroughTarget, up: Upstream, digest: string) {
    const registry = this.deps.registry;
    if (registry.meta.linkedSize(ref, digest) !== undefined) return;
    if (registry.meta.link(ref, digest, this.deps.now())) return; // another repository has it
    const { stream, size } = await this.client.blob(up, target.repository, digest);
    const id = await registry.startUpload(ref, parseDigest(digest)?.algorithm);
    try {
      await registry.appendUpload(ref, id, 0, stream, size);
      await registry.completeUpload(ref, id, digest);
    } catch (e) {
      stream.destroy();
      await registry.cancelUpload(ref, id).catch(() => {});
      if (e instanceof RegistryError && e.code === "DIGEST_INVALID")
        throw registryError(
          "DIGEST_INVALID",
          `the upstream ${target.upstreamUrl} sent blob ${digest} of ${target.repository} with other content; nothing was stored`,
        );
      throw e;
    }
  }

  /** An upstream failure as the registry answers it (ECR's pull-through behaviour). */
  private asRegistryError(e: unknown, target: PullThroughTarget, reference: string): unknown {
    if (!(e instanceof UpstreamError)) return e;
    const what = `${target.repository}:${reference} from ${target.upstreamUrl} (pull through cache rule '${target.rule}')`;
    switch (e.kind) {
      case "not-found":
        return registryError("MANIFEST_UNKNOWN", `the upstream registry has no ${what}`, {
          name: target.repository,
          reference,
        });
      case "unauthorized":
        return registryError(
          "DENIED",
          `unable to pull ${what}: the upstream registry refused the rule's credentials (${e.status ?? 401}); update the secret or the rule's credentialArn`,
          undefined,
          403,
        );
      case "too-many-requests":
        return registryError("TOOMANYREQUESTS", `the upstream registry throttled the pull of ${what}`, undefined, 429);
      default:
        return registryError("UNKNOWN", `unable to pull ${what}: ${e.message}`, undefined, 502);
    }
  }
}
