import type { Clock } from "../../core/clock.js";
import type { Logger } from "../../core/logger.js";
import { periodic } from "../../core/periodic.js";
import type { KeyLookup, KeyRules } from "../../iam/credentials.js";
import type { ClusterEndpoint, KubeApiEndpoints } from "../../kube/contracts.js";
import { ObjectStore } from "../../kube/objects.js";
import type { ClusterRef } from "../../kube/types.js";
import type { DocumentStore } from "../../store/documents.js";
import { serviceModule } from "../module.js";
import { eksAuthenticator } from "./authenticator.js";
import type { DeletionGuard, EksConfig } from "./context.js";
import { eksService } from "./provider.js";
import { serviceAccountTokens } from "./service-account-tokens.js";
import { eksResources } from "./resources.js";

/** Until the Kubernetes API server is wired in: endpoints are recorded, nothing listens. */
export const noKubeApiEndpoints: KubeApiEndpoints = {
  serve: async (_e: ClusterEndpoint) => {},
  close: async (_c: ClusterRef) => {},
};

export interface EksDeps {
  store: DocumentStore;
  clock: Clock;
  logger: Logger;
  config: EksConfig;
  /** The edge's key rules and IAM's key lookup: EKS tokens are recognised exactly as API calls are. */
  keys: KeyRules;
  lookup: (accessKeyId: string, sessionToken?: string) => KeyLookup;
  /** Berth's own endpoint(s) (host:port) a token may be presigned for besides AWS's STS hosts. */
  ownHosts?: () => string[];
  /** The API server's listeners; a no-op by default (see `useEndpoints`). */
  endpoints?: KubeApiEndpoints;
  /** How often CREATING/DELETING clusters and InProgress updates are moved along (ms). */
  tickMs?: number;
}

/**
 * EKS as a service module: the AWS API (clusters, updates, access entries, tags), each cluster's
 * CA and API server endpoint (handed to the KubeApiEndpoints when ACTIVE and at start, closed on
 * delete), and the Authenticator of the Kubernetes API with the access policy associations.
 */
export function eksModule(deps: EksDeps) {
  let endpoints = deps.endpoints ?? noKubeApiEndpoints;
  const eks = eksService({
    store: deps.store,
    clock: deps.clock,
    config: deps.config,
    endpoints: () => endpoints,
    onError: (err, what) => deps.logger.warn({ err: (err as Error).message }, `${what} failed`),
  });
  const { context, fargate, addons, nodegroups } = eks;
  const settleAll = async () => {
    for (const { scope, doc } of context.records.clusters.listAll()) await context.settle(scope, doc.name);
    fargate.settleAll();
    nodegroups.settleAll();
    addons.settleAll();
  };
  context.guards.push((cluster) => nodegroups.deletionGuard(cluster));
  context.deletedHooks.push((cluster) => addons.purge(cluster));
  context.guards.push((cluster) => fargate.deletionGuard(cluster));
  const loop = periodic(settleAll, {
    name: "EKS cluster lifecycle",
    everyMs: deps.tickMs ?? 250,
    logger: deps.logger,
    clock: deps.clock,
  });
  const authenticator = eksAuthenticator({
    records: context.records,
    rules: deps.keys,
    lookup: deps.lookup,
    clock: deps.clock,
    ownHosts: deps.ownHosts,
    objects: new ObjectStore(deps.store),
  });
  const serviceAccounts = serviceAccountTokens({
    store: deps.store,
    records: context.records,
    objects: new ObjectStore(deps.store),
    clock: deps.clock,
    endpointUrl: (_ref, c) => `https://${deps.config.host}:${c.port}`,
  });
  context.deletedHooks.push((ref) => serviceAccounts.forget(ref));
  // Compute sources (node groups, Fargate profiles): "this cluster has compute of mine".
  const compute: ((cluster: ClusterRef) => boolean)[] = [];
  compute.push((cluster) => fargate.hasActive(cluster));
  compute.push((cluster) => nodegroups.hasNodes(cluster));
  return serviceModule({
    name: "eks",
    definitions: [eks.service],
    iam: { prefixes: { eks: "eks" }, resources: { eks: eksResources } },
    async start() {
      await settleAll();
      for (const { scope, doc } of context.records.clusters.listAll())
        if (doc.status === "ACTIVE" || doc.status === "UPDATING") await context.serve({ scope, name: doc.name }, doc);
      await loop.start();
    },
    async stop() {
      loop.stop();
      await context.closeAll();
    },
    /** The Kubernetes API's Authenticator (bearer tokens from `aws eks get-token`). */
    authenticator,
    /** Service account tokens: the TokenRequest API, their authenticator, OIDC discovery, the kubelet's projected tokens. */
    serviceAccountTokens: serviceAccounts,
    /** The access policies of a user's access entry, for the Authorizer (access policies, then RBAC). */
    associationsFor: authenticator.associationsFor,
    /** The cluster records (the API server, controllers and kubelet read clusters here). */
    records: context.records,
    /** The clusters whose Kubernetes side runs (ACTIVE or UPDATING), with their version (the kubelet's `clusters`). */
    activeClusters: (): (ClusterRef & { version: string })[] =>
      context.records.clusters
        .listAll()
        .filter(({ doc }) => doc.status === "ACTIVE" || doc.status === "UPDATING")
        .map(({ scope, doc }) => ({ scope, name: doc.name, version: doc.version })),
    /** The endpoint a cluster's API server serves (undefined for an unknown cluster). */
    endpointOf: (ref: ClusterRef) => {
      const c = context.records.clusters.get(ref.scope, ref.name);
      return c ? context.endpointOf(ref.scope, c) : undefined;
    },
    /** The CSI drivers the clusters' add-ons install (aws-ebs-csi-driver, aws-efs-csi-driver), for the storage controllers. */
    csiDrivers: { drivers: (cluster: ClusterRef) => addons.csiDrivers(cluster) },
    /** The clusters' Fargate profiles, as EKS's Fargate admission and fargate-scheduler read them. */
    fargateProfiles: fargate.source(),
    /** The clusters' managed node groups, as the node group controller reads them. */
    nodegroups: nodegroups.source(),
    /** Wires the API server's listeners in (before start). */
    useEndpoints(e: KubeApiEndpoints) {
      endpoints = e;
    },
    /** Adds a compute source: while any says the cluster has compute of its own, it gets no stand-in node. */
    registerCompute(hasCompute: (cluster: ClusterRef) => boolean) {
      compute.push(hasCompute);
    },
    /** Whether a cluster has compute of its own (node groups, Fargate profiles). */
    hasOwnCompute: (cluster: ClusterRef) => compute.some((has) => has(cluster)),
    /** Adds a check DeleteCluster makes (node groups, Fargate profiles): a message refuses with ResourceInUseException. */
    addDeletionGuard(guard: DeletionGuard) {
      context.guards.push(guard);
    },
    /** Adds what runs once a deleted cluster is gone (removing its Kubernetes objects, pods, networks). */
    onClusterDeleted(hook: (cluster: ClusterRef) => Promise<void> | void) {
      context.deletedHooks.push(hook);
    },
  });
}

export type EksModule = ReturnType<typeof eksModule>;
