import type { Clock } from "../../core/clock.js";
import type { KubeApiEndpoints } from "../../kube/contracts.js";
import type { Operations } from "../../protocol/generated/types/eks.js";
import type { Provider } from "../../protocol/service.js";
import type { DocumentStore } from "../../store/documents.js";
import { defineService } from "../define.js";
import { accessEntryOperations } from "./access-entries.js";
import { Addons, addonOperations, addonUpdateOperations } from "./addons.js";
import { clusterOperations } from "./clusters.js";
import { FargateProfiles, fargateProfileOperations } from "./fargate-profiles.js";
import { type EksConfig, EksContext } from "./context.js";
import { Nodegroups, nodegroupOperations } from "./nodegroups.js";
import { tagOperations } from "./tags.js";

/** How long an add-on is CREATING, UPDATING or DELETING (EKS: under a minute for these add-ons). */
const ADDON_DELAY_MS = 2000;

export interface EksServiceDeps {
  store: DocumentStore;
  clock: Clock;
  config: EksConfig;
  /** The Kubernetes API server's listeners (asked lazily: it may be wired after the service is built). */
  endpoints: () => KubeApiEndpoints;
  onError: (err: unknown, what: string) => void;
}

/** Amazon EKS (restJson): clusters, updates, access entries and tags. */
export function eksService(deps: EksServiceDeps) {
  const eks = new EksContext(deps.store, deps.clock, deps.config, deps.endpoints, deps.onError);
  const fargate = new FargateProfiles(deps.store, () => deps.clock.now());
  const addons = new Addons(deps.store, () => deps.clock.now());
  const nodegroups = new Nodegroups(deps.store, () => deps.clock.now(), nodegroupDelays(deps.config));
  const ng = nodegroupOperations(eks, nodegroups, nodegroupDelays(deps.config));
  const clusterOps = clusterOperations(eks);
  const base: Provider<Operations> = {
    ...clusterOps,
    ...accessEntryOperations(eks),
    ...tagOperations(eks),
    ...fargateProfileOperations(eks, fargate, {
      createDelayMs: deps.config.fargateCreateDelayMs ?? deps.config.createDelayMs,
      deleteDelayMs: deps.config.fargateDeleteDelayMs ?? deps.config.deleteDelayMs,
    }),
    ...ng.provider,
    // A node group's updates are asked for with nodegroupName; the cluster's own without.
    DescribeUpdate: (input, ctx) =>
      input.nodegroupName
        ? ng.describeUpdate(ctx, input.name, input.nodegroupName, input.updateId)
        : clusterOps.DescribeUpdate!(input, ctx),
    ListUpdates: (input, ctx) =>
      input.nodegroupName
        ? ng.listUpdates(ctx, input.name, input.nodegroupName, input.nextToken, input.maxResults)
        : clusterOps.ListUpdates!(input, ctx),
  };
  const provider: Provider<Operations> = {
    ...base,
    ...addonOperations(eks, addons, {
      createDelayMs: deps.config.addonDelayMs ?? ADDON_DELAY_MS,
      deleteDelayMs: deps.config.addonDelayMs ?? ADDON_DELAY_MS,
      updateDelayMs: deps.config.addonDelayMs ?? ADDON_DELAY_MS,
    }),
    ...addonUpdateOperations(eks, addons, base),
  };
  return {
    service: defineService("eks", provider, { validationCode: "InvalidParameterException" }),
    context: eks,
    fargate,
    addons,
    nodegroups,
  };
}

const nodegroupDelays = (c: EksConfig) => ({
  createDelayMs: c.nodegroupCreateDelayMs ?? c.createDelayMs,
  deleteDelayMs: c.deleteDelayMs,
  updateDelayMs: c.updateDelayMs,
  drainTimeoutMs: c.nodegroupDrainTimeoutMs ?? 900_000,
});
