/**
 * The registry's contract with the rest of Berth. The OCI distribution routes (/v2/) and the ECR
 * API provider both work through `Registry`; ECR owns repositories and credentials and hands the
 * registry the small `RegistryPolicy` below.
 *
 * A repository is addressed by (account, region, name). Names follow ECR's pattern
 * ([a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*, 2–256 chars).
 */

export interface RepoRef {
  account: string;
  region: string;
  name: string;
}

/** What the registry needs to know about a repository; ECR stores the rest. */
export interface RepositoryInfo extends RepoRef {
  /** Anonymous pull allowed (ECR Public). */
  public: boolean;
  imageTagMutability: "MUTABLE" | "IMMUTABLE" | "IMMUTABLE_WITH_EXCLUSION" | "MUTABLE_WITH_EXCLUSION";
  /** Tag filters (wildcards `*`) that are exceptions to the mutability setting. */
  mutabilityExclusionFilters: string[];
}

export type Access = "pull" | "push" | "delete";

/** Supplied by ECR: repository lookup, credentials, and notification of pushes and pulls. */
export interface RegistryPolicy {
  /**
   * Which account and region a registry request addresses, from its Host header
   * (`localhost:4566` → the defaults; `<account>.dkr.ecr.<region>.localhost:4566` → those).
   */
  scopeForHost(host: string | undefined): { account: string; region: string };
  /** The repository, or undefined when it does not exist (→ NAME_UNKNOWN). */
  repository(ref: RepoRef): RepositoryInfo | undefined;
  /**
   * Checks the request's `Authorization` header for this access. Returns "ok", "unauthenticated"
   * (no or bad credentials → 401 UNAUTHORIZED with the Basic challenge) or "denied" (→ 403 DENIED).
   */
  authorize(
    authorization: string | undefined,
    repo: RepositoryInfo,
    access: Access,
  ): "ok" | "unauthenticated" | "denied";
  /** Lists the repositories of a scope (for `_catalog`). */
  repositories(scope: { account: string; region: string }): string[];
  /** ECR's pull-through cache rules, when the registry caches upstream images. */
  pullThrough?: PullThroughPolicy;
}

/** Where a cached repository's images come from: its rule's upstream and the upstream name. */
export interface PullThroughTarget {
  /** `https://registry-1.docker.io`, `http://127.0.0.1:5000`. */
  endpoint: string;
  /** The upstream repository (`library/nginx`). */
  repository: string;
  /** Resolves the rule's secret when a fetch needs it (throws a RegistryError when it cannot be read). */
  credentials(): { username: string; password: string } | undefined;
  /** The rule's prefix and upstream URL, for messages. */
  rule: string;
  upstreamUrl: string;
}

/** Supplied by ECR: which names are cached from upstreams, and the repositories their first pull creates. */
export interface PullThroughPolicy {
  /** The upstream a repository name is cached from, or undefined when no rule covers it. */
  target(ref: RepoRef): PullThroughTarget | undefined;
  /** Creates the repository of a first pull (as the rule's creation template says); returns it. */
  createRepository(ref: RepoRef): RepositoryInfo;
  /** When a cached tag was last compared with its upstream (ms since the epoch), if ever. */
  lastChecked(ref: RepoRef, tag: string): number | undefined;
  recordCheck(ref: RepoRef, tag: string, at: number): void;
  /** How long a cached tag is served before the upstream is asked again (ECR: 24 hours). */
  recheckMs: number;
  /**
   * Registry mirror mode (Docker Engine's `registry-mirrors`): the cached repository a Docker Hub
   * name (`library/nginx`) is served from, when a mirror rule is configured and the name is
   * neither a repository nor under a rule; anyone may pull it, as from Docker Hub.
   */
  mirrorOf?(ref: RepoRef): RepoRef | undefined;
}

export interface ImageSummary {
  digest: string;
  mediaType: string;
  /** OCI `artifactType`, or the config media type for non-image artifacts. */
  artifactMediaType?: string;
  /** Sum of the layer (and for indexes, child manifest) sizes, as ECR reports imageSizeInBytes. */
  size: number;
  tags: string[];
  pushedAt: Date;
  lastPulledAt?: Date;
  /** The `subject` digest of a referrer (OCI 1.1), if any. */
  subject?: string;
}

export interface ManifestContent {
  digest: string;
  mediaType: string;
  body: Buffer;
}

/** A registry error with the OCI spec's code (BLOB_UNKNOWN, MANIFEST_INVALID, TAG_INVALID, …). */
export class RegistryError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
    readonly detail?: unknown,
  ) {
    super(message);
  }
}

/** Manifest store and blob store of all repositories, independent of HTTP. */
export interface Registry {
  /** Stores a manifest (validating it and that every blob/child it references exists in the repo),
   *  under its digest and, if given, a tag. Enforces tag immutability from RepositoryInfo:
   *  an existing tag pointing elsewhere → RegistryError("TAG_INVALID" … 400) for IMMUTABLE. */
  putManifest(repo: RepositoryInfo, reference: string, mediaType: string, body: Buffer): Promise<ManifestContent>;
  /** By tag or digest; undefined when unknown. Records the pull time when `recordPull`. */
  getManifest(repo: RepoRef, reference: string, recordPull?: boolean): Promise<ManifestContent | undefined>;
  /** Deletes by digest (all tags pointing at it) or removes one tag; false when unknown. */
  deleteManifest(repo: RepoRef, reference: string): Promise<boolean>;
  listImages(repo: RepoRef): Promise<ImageSummary[]>;
  listTags(repo: RepoRef): Promise<string[]>;
  /** Size of a blob linked into the repository, or undefined. */
  statBlob(repo: RepoRef, digest: string): Promise<number | undefined>;
  /** Starts an upload session; returns its id. */
  startUpload(repo: RepoRef): Promise<string>;
  /** Appends bytes at `offset` (must equal the current size); returns the new size. */
  appendUpload(repo: RepoRef, uploadId: string, offset: number, data: NodeJS.ReadableStream | Buffer): Promise<number>;
  /** Verifies the digest, moves the blob into place and links it into the repository. */
  completeUpload(repo: RepoRef, uploadId: string, digest: string): Promise<void>;
  /** Removes every manifest, tag and blob link of a repository (DeleteRepository --force). */
  deleteRepository(repo: RepoRef): Promise<void>;
}
