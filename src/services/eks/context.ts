import type { Clock } from "../../core/clock.js";
import type { ServiceError } from "../../core/errors.js";
import { type Scope, arn } from "../../core/ids.js";
import { pageByKey } from "../../core/paginate.js";
import type { ClusterEndpoint, KubeApiEndpoints } from "../../kube/contracts.js";
import type { ClusterRef } from "../../kube/types.js";
import { eksErrors } from "../../protocol/generated/errors/eks.js";
import type { Cluster, Update } from "../../protocol/generated/types/eks.js";
import type { DocumentStore } from "../../store/documents.js";
import { type ClusterChange, type EksClusterRecord, EksRecords, type EksUpdateRecord } from "../../store/schema/eks.js";
import { oidcIssuer } from "./oidc.js";
import { certificateAuthorityData } from "./pki.js";
import type { PortRange } from "./ports.js";

/** EKS's timings and addresses (config.ts: BERTH_EKS_*). */
export interface EksConfig {
  /** Where each cluster's API server listens (the endpoint's host). */
  host: string;
  ports: PortRange;
  /** How long a new cluster is CREATING (AWS: about 10 minutes). */
  createDelayMs: number;
  /** How long a deleted cluster is DELETING. */
  deleteDelayMs: number;
  /** How long an update is InProgress. */
  updateDelayMs: number;
  /** How long a new Fargate profile is CREATING (AWS: a few minutes; default: createDelayMs). */
  fargateCreateDelayMs?: number;
  /** How long a deleted Fargate profile is DELETING (default: deleteDelayMs). */
  fargateDeleteDelayMs?: number;
  /** How long an add-on is CREATING, UPDATING or DELETING (default 2 s). */
  addonDelayMs?: number;
  /** How long a new node group is CREATING (default: createDelayMs). */
  nodegroupCreateDelayMs?: number;
  /** How long a DELETING node group waits for its nodes to drain before it goes anyway (EKS: about 15 minutes). */
  nodegroupDrainTimeoutMs?: number;
}

export const clusterNotFound = (name: string) =>
  eksErrors.ResourceNotFoundException(`No cluster found for name: ${name}.`, { clusterName: name });
export const invalidParameter = (message: string, clusterName?: string) =>
  eksErrors.InvalidParameterException(message, clusterName ? { clusterName } : {});
export const invalidRequest = (message: string, clusterName?: string) =>
  eksErrors.InvalidRequestException(message, clusterName ? { clusterName } : {});
export const resourceInUse = (message: string, clusterName?: string) =>
  eksErrors.ResourceInUseException(message, clusterName ? { clusterName } : {});

/** Something that may keep a cluster from being deleted (node groups, Fargate profiles): a message, or undefined. */
export type DeletionGuard = (cluster: ClusterRef) => string | undefined;

/** What the EKS operations share: records, clock, config, the API server endpoints, views and lifecycle. */
export class EksContext {
  readonly records: EksRecords;
  readonly guards: DeletionGuard[] = [];
  /** Called once a cluster is gone (its Kubernetes objects, pods and networks are someone else's to remove). */
  readonly deletedHooks: ((cluster: ClusterRef) => Promise<void> | void)[] = [];
  /** Ports being handed out by a CreateCluster still in flight. */
  readonly reservedPorts = new Set<number>();
  private readonly served = new Set<string>();

  constructor(
    readonly store: DocumentStore,
    readonly clock: Clock,
    readonly config: EksConfig,
    private readonly endpoints: () => KubeApiEndpoints,
    private readonly onError: (err: unknown, what: string) => void,
  ) {
    this.records = new EksRecords(store);
  }

  clusterArn = (scope: Scope, name: string) => arn("eks", scope, `cluster/${name}`);

  /** The cluster, settled to now (a due CREATING is ACTIVE, due updates applied), or ResourceNotFoundException. */
  async requireCluster(scope: Scope, name: string): Promise<EksClusterRecord> {
    const c = await this.settle(scope, name);
    if (!c) throw clusterNotFound(name);
    return c;
  }

  after(ms: number) {
    return new Date(this.clock.now().getTime() + ms);
  }

  endpointOf(scope: Scope, c: EksClusterRecord): ClusterEndpoint {
    return {
      cluster: { scope: { account: scope.account, region: scope.region }, name: c.name },
      host: this.config.host,
      port: c.port,
      certPem: c.pki.serverCertPem,
      keyPem: c.pki.serverKeyPem,
      caPem: c.pki.caCertPem,
    };
  }

  /**
   * Moves a cluster along its lifecycle when a phase is due: CREATING → ACTIVE (its API server
   * starts serving), due updates applied and Successful (UPDATING → ACTIVE), DELETING → gone (its
   * records removed, its API server closed). The state change is one synchronous transaction on
   * a fresh read, so concurrent callers apply it once. Returns the cluster as it now is.
   */
  async settle(scope: Scope, name: string): Promise<EksClusterRecord | undefined> {
    const now = this.clock.now().getTime();
    const current = this.records.clusters.get(scope, name);
    // Nothing due: an ACTIVE cluster (updates make it UPDATING), or a phase not yet over.
    if (
      !current ||
      current.status === "ACTIVE" ||
      ((current.status === "CREATING" || current.status === "DELETING") && (current.transitionAt?.getTime() ?? 0) > now)
    )
      return current;
    let event: "activated" | "deleted" | undefined;
    const result = this.store.transaction(() => {
      let c = this.records.clusters.get(scope, name);
      if (!c) return undefined;
      if (c.status === "CREATING" && c.transitionAt && c.transitionAt.getTime() <= now) {
        const { transitionAt: _, ...rest } = c;
        c = this.records.clusters.put(scope, { ...rest, status: "ACTIVE" });
        event = "activated";
      }
      if (c.status === "DELETING" && c.transitionAt && c.transitionAt.getTime() <= now) {
        for (const e of this.records.accessEntries.children(scope, name))
          this.records.accessEntries.delete(scope, `${e.clusterName}|${e.principalArn}`);
        for (const u of this.records.updates.children(scope, name)) this.records.updates.delete(scope, u.id);
        this.records.clusters.delete(scope, name);
        event = "deleted";
        return undefined;
      }
      const due = this.records.updates
        .children(scope, name)
        .filter((u) => u.status === "InProgress" && u.completeAt.getTime() <= now);
      for (const u of due) {
        c = this.records.clusters.put(scope, { ...applyChange(c, u.change), status: "ACTIVE" });
        this.records.updates.put(scope, { ...u, status: "Successful" });
      }
      return c;
    });
    const ref = { scope: { account: scope.account, region: scope.region }, name };
    if (event === "activated" && result) await this.serve(ref, result);
    if (event === "deleted") {
      await this.close(ref);
      for (const hook of this.deletedHooks)
        await Promise.resolve()
          .then(() => hook(ref))
          .catch((err) => this.onError(err, `cleaning up after cluster ${name}`));
    }
    return result;
  }

  /** Hands the cluster's endpoint to the API server (once per process). */
  async serve(ref: ClusterRef, c: EksClusterRecord) {
    const key = refKey(ref);
    if (this.served.has(key)) return;
    this.served.add(key);
    try {
      await this.endpoints().serve(this.endpointOf(ref.scope, c));
    } catch (err) {
      this.served.delete(key);
      this.onError(err, `serving the Kubernetes API of cluster ${ref.name} on ${this.config.host}:${c.port}`);
    }
  }

  async close(ref: ClusterRef) {
    const key = refKey(ref);
    if (!this.served.delete(key)) return;
    try {
      await this.endpoints().close(ref);
    } catch (err) {
      this.onError(err, `closing the Kubernetes API of cluster ${ref.name}`);
    }
  }

  /** Closes every endpoint this process serves (shutdown). */
  async closeAll() {
    for (const key of [...this.served]) {
      const [account, region, name] = key.split("\u0000");
      await this.close({ scope: { account, region }, name });
    }
  }

  /** DescribeCluster's view: endpoint, CA and identity once the cluster exists. */
  view(scope: Scope, c: EksClusterRecord): Cluster {
    const ready = c.status !== "CREATING";
    return {
      name: c.name,
      arn: c.arn,
      createdAt: c.createdAt,
      version: c.version,
      ...(ready ? { endpoint: `https://${this.config.host}:${c.port}` } : {}),
      roleArn: c.roleArn,
      resourcesVpcConfig: c.resourcesVpcConfig,
      kubernetesNetworkConfig: c.kubernetesNetworkConfig,
      logging: c.logging,
      ...(ready ? { identity: { oidc: { issuer: oidcIssuer(scope.region, c.oidcId) } } } : {}),
      status: c.status,
      certificateAuthority: ready ? { data: certificateAuthorityData(c.pki) } : {},
      ...(c.clientRequestToken ? { clientRequestToken: c.clientRequestToken } : {}),
      platformVersion: c.platformVersion,
      tags: c.tags,
      id: c.id,
      health: { issues: [] },
      accessConfig: c.accessConfig,
      upgradePolicy: c.upgradePolicy,
      deletionProtection: c.deletionProtection,
    };
  }

  updateView(u: EksUpdateRecord): Update {
    return { id: u.id, status: u.status, type: u.type, params: u.params, createdAt: u.createdAt, errors: u.errors };
  }
}

const refKey = (ref: ClusterRef) => [ref.scope.account, ref.scope.region, ref.name].join("\u0000");

/** A cluster with an update's change applied. PURE. */
export function applyChange(c: EksClusterRecord, change: ClusterChange): EksClusterRecord {
  const vpc = { ...c.resourcesVpcConfig };
  if (change.endpointPublicAccess !== undefined) vpc.endpointPublicAccess = change.endpointPublicAccess;
  if (change.endpointPrivateAccess !== undefined) vpc.endpointPrivateAccess = change.endpointPrivateAccess;
  if (change.publicAccessCidrs !== undefined) vpc.publicAccessCidrs = change.publicAccessCidrs;
  return {
    ...c,
    ...(change.version ? { version: change.version } : {}),
    ...(change.platformVersion ? { platformVersion: change.platformVersion } : {}),
    ...(change.logging ? { logging: change.logging } : {}),
    ...(change.deletionProtection !== undefined ? { deletionProtection: change.deletionProtection } : {}),
    ...(change.authenticationMode
      ? { accessConfig: { ...c.accessConfig, authenticationMode: change.authenticationMode } }
      : {}),
    resourcesVpcConfig: vpc,
  };
}

/** One page of names (ListClusters, ListUpdates, ListAccessEntries) in name order. */
export function namePage(names: string[], nextToken: string | undefined, maxResults: number | undefined) {
  const { page, nextToken: next } = pageByKey(names, (n) => [n], {
    nextToken,
    limit: maxResults ?? 100,
    invalidToken: (): ServiceError => invalidParameter("The nextToken is not valid."),
  });
  return { page, ...(next ? { nextToken: next } : {}) };
}
