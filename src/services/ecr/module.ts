import type { Logger } from "../../core/logger.js";
import { ecrResources } from "../../iam/resources.js";
import { type OciRegistry, createRegistryRoute } from "../../registry/index.js";
import type { Scope } from "../../core/ids.js";
import type { EcrDeps } from "./context.js";
import { serviceModule } from "../module.js";
import { ecrServices, pullCredentials } from "./provider.js";
import type { ImageSources } from "../../runtime/image-pull.js";
import { ecrPullThroughCollections } from "../../store/schema/ecr.js";
import { DEFAULT_MIRRORS, mirrorCandidates } from "./mirrors.js";

/** How often the registry collects unreferenced blobs and expired uploads. */
const REGISTRY_GC_MS = 60 * 60 * 1000;

/**
 * ECR and ECR Public as one service module over Berth's registry: the two APIs, repository
 * policies for IAM, the registry's /v2/ route for the edge, pull credentials for tasks, and the
 * lifecycle-policy and garbage-collection loops.
 */
export function ecrModule(
  deps: EcrDeps & { registry: OciRegistry; logger: Logger; lifecycleIntervalMs: number; imageMirrors?: string[] },
) {
  const ecr = ecrServices(deps);
  const credentials = (image: string) => pullCredentials(ecr.context, ecr.policy, image);
  const rules = ecrPullThroughCollections(deps.store).rules;
  /** Where a task's or pod's image is pulled from: the mirror list, Berth's images with credentials. */
  const imageSources: ImageSources = (image, scope) => {
    const s = scope ?? { account: deps.defaultAccount, region: deps.defaultRegion };
    const refs = mirrorCandidates(image, {
      berthHost: ecr.context.hostFor(s),
      rules: rules.list(s),
      mirrors: deps.imageMirrors ?? DEFAULT_MIRRORS,
      publicRepository: (path) => ecr.policy.repository({ ...s, name: `public.ecr.aws/${path}` }) !== undefined,
    });
    return refs.map((ref) => ({ ref, auth: credentials(ref) }));
  };
  let stopGc: (() => void) | undefined;
  return serviceModule({
    name: "ecr",
    definitions: [ecr.ecr, ecr.ecrPublic],
    iam: {
      prefixes: { ecr: "ecr", "ecr-public": "ecr-public" },
      resources: { ecr: ecrResources },
      resourcePolicies: { ecr: (arn) => ecr.context.repositories.byArn(arn)?.doc.repositoryPolicyText },
    },
    /** The OCI distribution routes under /v2/, authorised by ECR's tokens and policies. */
    registryRoute: createRegistryRoute({
      registry: deps.registry,
      policy: ecr.policy,
      logger: deps.logger,
      now: () => deps.clock.now().getTime(),
    }),
    /** Docker credentials for an image in Berth's registry, minted for its account; else undefined. */
    pullCredentials: credentials,
    imageSources,
    /** The account and region of an image in Berth's registry, else undefined. */
    berthImage: (image: string): Scope | undefined => {
      const auth = credentials(image);
      return auth ? ecr.policy.scopeForHost(auth.serveraddress) : undefined;
    },
    start() {
      stopGc = deps.registry.startCollector(REGISTRY_GC_MS);
    },
    stop() {
      stopGc?.();
      ecr.stop();
    },
  });
}
