import type { Operations } from "../../protocol/generated/types/ecr.js";
import type { Operations as PublicOperations } from "../../protocol/generated/types/ecr-public.js";
import type { Logger } from "../../core/logger.js";
import { defineService } from "../define.js";
import type { Provider, RequestContext } from "../../protocol/service.js";
import { TOKEN_LIFETIME_MS, imageRegistryHost, mintPassword } from "./auth.js";
import { EcrContext, type EcrDeps, type RepositoryRecord } from "./context.js";
import { imageOperations } from "./images.js";
import { layerOperations } from "./layers.js";
import { lifecycleOperations, startLifecycleRunner } from "./lifecycle-ops.js";
import { registryPolicy } from "./policy.js";
import { checkRepositoryName, checkTags, repositoryOperations, repositoryTagOperations } from "./repositories.js";
import { globalArn } from "../../core/ids.js";
import { ecrErrors } from "../../protocol/generated/errors/ecr.js";
import { UpstreamClient } from "../../registry/upstream/client.js";
import { ecrPullThroughCollections } from "../../store/schema/ecr.js";
import { parseLifecyclePolicy } from "./lifecycle.js";
import { DEFAULT_RECHECK_MS, pullThroughPolicy } from "./pull-through.js";
import { pullThroughOperations } from "./pull-through-ops.js";
import { noTokenIssued } from "../../core/paginate.js";

/** ECR Public's repositories and registries come in one page: a token is one it never issued. */
const invalidPublicToken = () =>
  ecrErrors.InvalidParameterException("Invalid parameter at 'nextToken' failed to satisfy constraint: 'Invalid token'");

/** The `AWS:<password>` token for an account and region, valid 12 hours. */
function authorization(ecr: EcrContext, ctx: RequestContext) {
  const expiresAt = ecr.deps.clock.now().getTime() + TOKEN_LIFETIME_MS;
  const password = mintPassword(ecr.deps.tokenSecret, { account: ctx.account, region: ctx.region, expiresAt });
  return { token: Buffer.from(`AWS:${password}`).toString("base64"), expiresAt: new Date(expiresAt) };
}

/** ECR (awsJson1_1) and ECR Public over one registry; returns both services and the registry policy. */
export function ecrServices(deps: EcrDeps & { logger: Logger; lifecycleIntervalMs: number }) {
  const ecr = new EcrContext(deps);
  const lifecycle = startLifecycleRunner(ecr, deps.lifecycleIntervalMs, deps.logger);
  const pullThroughStore = ecrPullThroughCollections(deps.store);
  const upstreams = new UpstreamClient(() => deps.clock.now().getTime());

  const privateProvider: Provider<Operations> = {
    ...repositoryOperations(ecr),
    ...imageOperations(ecr, false),
    ...layerOperations(ecr, false),
    ...lifecycleOperations(ecr, lifecycle.runSoon),
    ...pullThroughOperations({
      collections: pullThroughStore,
      secrets: deps.secrets,
      client: upstreams,
      now: () => deps.clock.now(),
      checkLifecyclePolicy: (text) => void parseLifecyclePolicy(text),
    }),
    GetAuthorizationToken: (input, ctx) => {
      const { token, expiresAt } = authorization(ecr, ctx);
      const ids = input.registryIds?.length ? input.registryIds : [ctx.account];
      return {
        authorizationData: ids.map((id) => ({
          authorizationToken: token,
          expiresAt,
          proxyEndpoint: `http://${ecr.hostFor({ account: id, region: ctx.region })}`,
        })),
      };
    },
  };

  const publicView = (ctx: RequestContext, r: RepositoryRecord) => ({
    repositoryArn: r.repositoryArn,
    registryId: r.registryId,
    repositoryName: r.repositoryName,
    repositoryUri: ecr.uri(ctx, r),
    createdAt: r.createdAt,
  });
  const shared = {
    ...imageOperations(ecr, true),
    ...layerOperations(ecr, true),
  } as unknown as Provider<PublicOperations>;
  const publicProvider: Provider<PublicOperations> = {
    ...shared,
    CreateRepository: (input, ctx) => {
      checkRepositoryName(input.repositoryName);
      checkTags(input.tags as never);
      if (ecr.find(ctx, input.repositoryName, true))
        throw ecrErrors.RepositoryAlreadyExistsException(
          `The repository with name '${input.repositoryName}' already exists in the registry with id '${ctx.account}'`,
        );
      const { logoImageBlob: _logo, ...catalog } = input.catalogData ?? {};
      const r: RepositoryRecord = {
        ...ecr.newRecord(ctx, input.repositoryName, true),
        tags: (input.tags ?? []) as RepositoryRecord["tags"],
        catalogData: catalog,
      };
      ecr.save(ctx, r);
      return { repository: publicView(ctx, r), catalogData: r.catalogData };
    },
    DescribeRepositories: (input, ctx) => {
      noTokenIssued(input.nextToken, invalidPublicToken);
      const repos = input.repositoryNames?.length
        ? input.repositoryNames.map((n) => ecr.get(ctx, n, input.registryId, true))
        : ecr.repositories.list(ctx).filter((r) => r.public);
      return { repositories: repos.map((r) => publicView(ctx, r)) };
    },
    DeleteRepository: async (input, ctx) => {
      const r = ecr.get(ctx, input.repositoryName, input.registryId, true);
      if (!input.force && (await deps.registry.listImages(ecr.ref(ctx, r))).length > 0)
        throw ecrErrors.RepositoryNotEmptyException(
          `The repository with name '${r.repositoryName}' cannot be deleted because it still contains images (use --force)`,
        );
      await deps.registry.deleteRepository(ecr.ref(ctx, r));
      ecr.repositories.delete(ctx, ecr.key(r.repositoryName, true));
      return { repository: publicView(ctx, r) };
    },
    DescribeImageTags: async (input, ctx) => {
      const r = ecr.get(ctx, input.repositoryName, input.registryId, true);
      const images = await deps.registry.listImages(ecr.ref(ctx, r));
      return {
        imageTagDetails: images.flatMap((i) =>
          i.tags.map((t) => ({
            imageTag: t,
            createdAt: i.pushedAt,
            imageDetail: {
              imageDigest: i.digest,
              imageSizeInBytes: i.size,
              imagePushedAt: i.pushedAt,
              imageManifestMediaType: i.mediaType,
              artifactMediaType: i.artifactMediaType,
            },
          })),
        ),
      };
    },
    GetRepositoryCatalogData: (input, ctx) => ({
      catalogData: ecr.get(ctx, input.repositoryName, input.registryId, true).catalogData ?? {},
    }),
    PutRepositoryCatalogData: (input, ctx) => {
      const r = ecr.get(ctx, input.repositoryName, input.registryId, true);
      const { logoImageBlob: _logo, ...catalog } = input.catalogData;
      ecr.save(ctx, { ...r, catalogData: catalog });
      return { catalogData: catalog };
    },
    GetRegistryCatalogData: () => ({ registryCatalogData: { displayName: "Berth" } }),
    DescribeRegistries: (input, ctx) => {
      noTokenIssued(input.nextToken, invalidPublicToken);
      return {
        registries: [
          {
            registryId: ctx.account,
            registryArn: globalArn("ecr-public", ctx.account, `registry/${ctx.account}`),
            registryUri: `${ecr.hostFor(ctx)}/public.ecr.aws/${ecr.path(ctx, "", true).split("/")[1]}`,
            verified: false,
            aliases: [
              {
                name: ecr.path(ctx, "", true).split("/")[1],
                status: "ACTIVE",
                primaryRegistryAlias: true,
                defaultRegistryAlias: true,
              },
            ],
          },
        ],
      };
    },
    GetAuthorizationToken: (_input, ctx) => {
      const { token, expiresAt } = authorization(ecr, ctx);
      return { authorizationData: { authorizationToken: token, expiresAt } };
    },
    ...(repositoryTagOperations(ecr) as Pick<
      Provider<PublicOperations>,
      "TagResource" | "UntagResource" | "ListTagsForResource"
    >),
  };

  return {
    ecr: defineService("ecr", privateProvider, { validationCode: "InvalidParameterException" }),
    ecrPublic: defineService("ecr-public", publicProvider, { validationCode: "InvalidParameterException" }),
    policy: {
      ...registryPolicy(ecr),
      pullThrough: pullThroughPolicy(ecr, pullThroughStore, {
        secrets: deps.secrets,
        recheckMs: deps.pullThroughRecheckMs ?? DEFAULT_RECHECK_MS,
        mirrorRule: deps.registryMirrorRule,
      }),
    },
    context: ecr,
    stop: lifecycle.stop,
  };
}

/**
 * Docker credentials for pulling an image from Berth's registry, or undefined for other
 * registries. The host decides the account and region, as for `docker login`.
 */
export function pullCredentials(ecr: EcrContext, policy: ReturnType<typeof registryPolicy>, image: string) {
  const host = imageRegistryHost(image);
  if (!host) return undefined;
  const ours = ecr.deps.registryHost().split(":")[1];
  const [name, port] = host.split(":");
  const local = name === "localhost" || name === "127.0.0.1" || name.endsWith(".localhost");
  if (!local || port !== ours) return undefined;
  const scope = policy.scopeForHost(host);
  const expiresAt = ecr.deps.clock.now().getTime() + TOKEN_LIFETIME_MS;
  return {
    username: "AWS",
    password: mintPassword(ecr.deps.tokenSecret, { ...scope, expiresAt }),
    serveraddress: host,
  };
}
