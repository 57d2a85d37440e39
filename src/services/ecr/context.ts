import type { Clock } from "../../core/clock.js";
import { type Scope, arn } from "../../core/ids.js";
import type { Repository, Tag } from "../../protocol/generated/types/ecr.js";
import { type RepoRef, type RepositoryInfo, type Registry, RegistryError } from "../../registry/api.js";
import type { Collection, DocumentStore } from "../../store/documents.js";
import { ecrErrors } from "../../protocol/generated/errors/ecr.js";
import type { UpstreamSecrets } from "./pull-through-ops.js";

/** A repository as stored (private or public); the API views are derived from it. */
export interface RepositoryRecord extends Repository {
  repositoryName: string;
  repositoryArn: string;
  registryId: string;
  createdAt: Date;
  public: boolean;
  imageTagMutability: RepositoryInfo["imageTagMutability"];
  tags: Tag[];
  lifecyclePolicyText?: string;
  lifecyclePolicyUpdatedAt?: Date;
  repositoryPolicyText?: string;
  preview?: { policyText: string; results: { digest: string; tags: string[]; pushedAt: Date; rulePriority: number }[] };
  catalogData?: Record<string, unknown>;
}

export const REPOSITORY_NAME =
  /^(?=.{2,256}$)[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;

/** Public repositories are served under this path prefix on the same registry host. */
export const PUBLIC_PREFIX = "public.ecr.aws";
export const publicAlias = (account: string, defaultAccount: string) =>
  account === defaultAccount ? "berth" : `berth-${account}`;

export interface EcrDeps {
  store: DocumentStore;
  clock: Clock;
  registry: Registry;
  /** `host:port` clients reach the registry on (known once Berth listens). */
  registryHost: () => string;
  defaultAccount: string;
  defaultRegion: string;
  /** Signs registry passwords; lives in the store so tokens survive restarts. */
  tokenSecret: string;
  /** Secrets Manager, for pull-through cache rules' upstream credentials. */
  secrets?: UpstreamSecrets;
  /** How long a pull-through cached tag is served before the upstream is asked again (ECR: 24 h). */
  pullThroughRecheckMs?: number;
  /** Registry mirror mode: the pull-through rule prefix that Docker Hub names (`/v2/library/…`) are served from. */
  registryMirrorRule?: string;
}

/** Shared by the ECR and ECR Public providers and the registry policy. */
export class EcrContext {
  readonly repositories: Collection<RepositoryRecord>;

  constructor(readonly deps: EcrDeps) {
    this.repositories = deps.store.collection<RepositoryRecord>("ecr.repository", {
      id: (r) => (r.public ? `public:${r.repositoryName}` : r.repositoryName),
      arn: (r) => r.repositoryArn,
    });
  }

  /** The registry host for a scope: the plain host for the default account and region. */
  hostFor(scope: Scope): string {
    const host = this.deps.registryHost();
    if (scope.account === this.deps.defaultAccount && scope.region === this.deps.defaultRegion) return host;
    const [name, port] = host.split(":");
    const base = name === "127.0.0.1" ? "localhost" : name;
    return `${scope.account}.dkr.ecr.${scope.region}.${base}${port ? `:${port}` : ""}`;
  }

  /** Full registry path of a repository ("name" or "public.ecr.aws/<alias>/name"). */
  path(scope: Scope, name: string, isPublic: boolean) {
    return isPublic ? `${PUBLIC_PREFIX}/${publicAlias(scope.account, this.deps.defaultAccount)}/${name}` : name;
  }

  uri(scope: Scope, r: { repositoryName: string; public: boolean }) {
    return `${this.hostFor(scope)}/${this.path(scope, r.repositoryName, r.public)}`;
  }

  ref(scope: Scope, r: { repositoryName: string; public: boolean }): RepoRef {
    return { account: scope.account, region: scope.region, name: this.path(scope, r.repositoryName, r.public) };
  }

  info(scope: Scope, r: RepositoryRecord): RepositoryInfo {
    return {
      ...this.ref(scope, r),
      public: r.public,
      imageTagMutability: r.imageTagMutability,
      mutabilityExclusionFilters: (r.imageTagMutabilityExclusionFilters ?? []).map((f) => f.filter),
    };
  }

  newRecord(scope: Scope, name: string, isPublic: boolean): RepositoryRecord {
    return {
      repositoryName: name,
      repositoryArn: arn(
        isPublic ? "ecr-public" : "ecr",
        isPublic ? { ...scope, region: "" } : scope,
        `repository/${name}`,
      ),
      registryId: scope.account,
      createdAt: this.deps.clock.now(),
      public: isPublic,
      imageTagMutability: "MUTABLE",
      tags: [],
    };
  }

  /** Stored repositories are keyed "public:<name>" for ECR Public so both kinds can share a name. */
  key(name: string, isPublic: boolean) {
    return isPublic ? `public:${name}` : name;
  }

  find(scope: Scope, name: string, isPublic: boolean): RepositoryRecord | undefined {
    const found = this.repositories.get(scope, this.key(name, isPublic));
    return found?.public === isPublic ? found : undefined;
  }

  /** The repository a request names, or RepositoryNotFoundException. */
  get(scope: Scope, name: string, registryId: string | undefined, isPublic: boolean): RepositoryRecord {
    const found = registryId && registryId !== scope.account ? undefined : this.find(scope, name, isPublic);
    if (!found)
      throw ecrErrors.RepositoryNotFoundException(
        `The repository with name '${name}' does not exist in the registry with id '${registryId ?? scope.account}'`,
      );
    return found;
  }

  save(scope: Scope, r: RepositoryRecord) {
    return this.repositories.put(scope, r);
  }
}

/** Registry errors seen through the ECR API. */
export function toEcrError(e: unknown, context: { repository: string; tag?: string; digest?: string }): unknown {
  if (!(e instanceof RegistryError)) return e;
  switch (e.code) {
    case "MANIFEST_BLOB_UNKNOWN":
      return ecrErrors.LayersNotFoundException(
        `Layers referenced by the manifest are not in repository '${context.repository}': ${e.message}`,
      );
    case "TAG_INVALID":
      return ecrErrors.ImageTagAlreadyExistsException(e.message);
    case "MANIFEST_INVALID":
    case "DIGEST_INVALID":
    case "UNSUPPORTED":
      return ecrErrors.InvalidParameterException(e.message);
    case "BLOB_UPLOAD_UNKNOWN":
      return ecrErrors.UploadNotFoundException(e.message);
    case "BLOB_UPLOAD_INVALID":
    case "RANGE_INVALID":
    case "SIZE_INVALID":
      return ecrErrors.InvalidLayerPartException(e.message);
    case "BLOB_UNKNOWN":
      return ecrErrors.LayersNotFoundException(e.message);
    case "NAME_UNKNOWN":
      return ecrErrors.RepositoryNotFoundException(e.message);
    default:
      return ecrErrors.ServerException(e.message);
  }
}
