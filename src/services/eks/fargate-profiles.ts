/**
 * EKS Fargate profiles: CreateFargateProfile / DescribeFargateProfile / ListFargateProfiles /
 * DeleteFargateProfile. A profile is CREATING, then ACTIVE (its selectors place new pods on
 * Fargate), then DELETING (fargate-scheduler deletes the pods it placed) and gone. As in EKS, a
 * cluster has one profile CREATING or DELETING at a time, profiles are immutable, and a cluster
 * with profiles cannot be deleted.
 */
import { type Scope, arn, uuid } from "../../core/ids.js";
import type { FargateProfileSource, FargateProfileView } from "../../controllers/kube/fargate/index.js";
import type { ClusterRef } from "../../kube/types.js";
import { eksErrors } from "../../protocol/generated/errors/eks.js";
import type { FargateProfile, Operations } from "../../protocol/generated/types/eks.js";
import type { Provider } from "../../protocol/service.js";
import type { DocumentStore } from "../../store/documents.js";
import {
  type EksFargateProfileRecord,
  fargateProfileCollection,
  fargateProfileKey,
} from "../../store/schema/eks-fargate.js";
import { subnetPlacement } from "../efs/validate.js";
import { type EksContext, invalidParameter, namePage, resourceInUse } from "./context.js";
import { checkFargateProfileName, checkSelectors, checkSubnets, MAX_FARGATE_PROFILES } from "./fargate-validate.js";
import { checkRoleArn } from "./validate.js";
import { checkTagMap } from "./tags.js";

export const profileNotFound = (clusterName: string, name: string) =>
  eksErrors.ResourceNotFoundException(`No Fargate Profile found with name: ${name}.`, {
    clusterName,
    fargateProfileName: name,
  });

const busy = (p: EksFargateProfileRecord) => p.status === "CREATING" || p.status === "DELETING";

export function fargateProfileView(p: EksFargateProfileRecord): FargateProfile {
  return {
    fargateProfileName: p.fargateProfileName,
    fargateProfileArn: p.fargateProfileArn,
    clusterName: p.clusterName,
    createdAt: p.createdAt,
    podExecutionRoleArn: p.podExecutionRoleArn,
    subnets: p.subnets,
    selectors: p.selectors,
    status: p.status,
    tags: p.tags,
    health: { issues: [] },
  };
}

/** The profiles of an EKS cluster as the store holds them, moved along when a phase is due. */
export class FargateProfiles {
  readonly records;

  constructor(
    private readonly store: DocumentStore,
    private readonly now: () => Date,
  ) {
    this.records = fargateProfileCollection(store);
  }

  /**
   * Ends due phases: CREATING → ACTIVE, DELETING → gone. One transaction on fresh reads, so
   * concurrent callers apply each change once.
   */
  settle(scope: Scope, clusterName: string): EksFargateProfileRecord[] {
    const now = this.now().getTime();
    const due = (p: EksFargateProfileRecord) => busy(p) && (p.transitionAt?.getTime() ?? 0) <= now;
    const list = this.records.children(scope, clusterName);
    if (!list.some(due)) return list;
    return this.store.transaction(() => {
      const out: EksFargateProfileRecord[] = [];
      for (const p of this.records.children(scope, clusterName)) {
        if (!due(p)) out.push(p);
        else if (p.status === "DELETING")
          this.records.delete(scope, fargateProfileKey(clusterName, p.fargateProfileName));
        else {
          const { transitionAt: _, ...rest } = p;
          out.push(this.records.put(scope, { ...rest, status: "ACTIVE" }));
        }
      }
      return out;
    });
  }

  settleAll() {
    const clusters = new Map<string, { scope: Scope; name: string }>();
    for (const { scope, doc } of this.records.listAll())
      clusters.set(`${scope.account}/${scope.region}/${doc.clusterName}`, { scope, name: doc.clusterName });
    for (const c of clusters.values()) this.settle(c.scope, c.name);
  }

  of(cluster: ClusterRef): EksFargateProfileRecord[] {
    return this.settle(cluster.scope, cluster.name);
  }

  /** Whether the cluster has a profile that places pods (the cluster has Fargate compute). */
  hasActive(cluster: ClusterRef): boolean {
    return this.of(cluster).some((p) => p.status === "ACTIVE");
  }

  /** What Kubernetes' side (admission, fargate-scheduler) reads. */
  source(): FargateProfileSource {
    return {
      profiles: (cluster) =>
        this.of(cluster).map(
          (p): FargateProfileView => ({
            name: p.fargateProfileName,
            status: p.status,
            selectors: p.selectors,
            zones: [...new Set(p.subnets.map((s) => subnetPlacement(cluster.scope, s).availabilityZoneName))].sort(),
          }),
        ),
    };
  }

  /** DeleteCluster's guard: EKS refuses while the cluster has profiles. */
  deletionGuard(cluster: ClusterRef): string | undefined {
    const left = this.of(cluster).filter((p) => p.status !== "DELETING");
    return left.length ? "Cluster has Fargate Profiles in ACTIVE/CREATING state" : undefined;
  }
}

export interface FargateDelays {
  createDelayMs: number;
  deleteDelayMs: number;
}

export function fargateProfileOperations(
  eks: EksContext,
  profiles: FargateProfiles,
  delays: FargateDelays,
): Provider<Operations> {
  const { records } = profiles;
  const requireProfile = async (scope: Scope, clusterName: string, name: string) => {
    await eks.requireCluster(scope, clusterName);
    const p = profiles.settle(scope, clusterName).find((x) => x.fargateProfileName === name);
    if (!p) throw profileNotFound(clusterName, name);
    return p;
  };

  return {
    CreateFargateProfile: async (input, ctx) => {
      const c = await eks.requireCluster(ctx, input.clusterName);
      const name = input.fargateProfileName;
      const existing = profiles.settle(ctx, c.name);
      const same = existing.find((p) => p.fargateProfileName === name);
      if (same) {
        if (input.clientRequestToken && same.clientRequestToken === input.clientRequestToken)
          return { fargateProfile: fargateProfileView(same) };
        throw resourceInUse("A Fargate Profile already exists with this name in this cluster.", c.name);
      }
      const nameErr = checkFargateProfileName(name);
      if (nameErr) throw invalidParameter(nameErr, c.name);
      const roleErr = checkRoleArn(input.podExecutionRoleArn, "podExecutionRoleArn");
      if (roleErr) throw invalidParameter(roleErr, c.name);
      const selectorErr = checkSelectors(input.selectors);
      if (selectorErr) throw invalidParameter(selectorErr, c.name);
      const subnets = input.subnets?.length ? [...new Set(input.subnets)] : (c.resourcesVpcConfig.subnetIds ?? []);
      const subnetErr = checkSubnets(subnets);
      if (subnetErr) throw invalidParameter(subnetErr, c.name);
      if (input.tags) checkTagMap(input.tags);
      if (c.status !== "ACTIVE")
        throw resourceInUse(
          c.status === "UPDATING"
            ? `Cannot create Fargate Profile ${name} because cluster ${c.name} currently has an update in progress`
            : `Cannot create Fargate Profile ${name} because cluster ${c.name} is in status ${c.status}`,
          c.name,
        );
      const record: EksFargateProfileRecord = {
        clusterName: c.name,
        fargateProfileName: name,
        fargateProfileArn: arn("eks", ctx, `fargateprofile/${c.name}/${name}/${uuid()}`),
        createdAt: eks.clock.now(),
        podExecutionRoleArn: input.podExecutionRoleArn,
        subnets,
        selectors: input.selectors!.map((s) => ({
          namespace: s.namespace,
          ...(s.labels && Object.keys(s.labels).length ? { labels: s.labels } : {}),
        })),
        status: "CREATING",
        transitionAt: eks.after(delays.createDelayMs),
        tags: input.tags ?? {},
        ...(input.clientRequestToken ? { clientRequestToken: input.clientRequestToken } : {}),
      };
      eks.store.transaction(() => {
        const now = records.children(ctx, c.name);
        if (now.some((p) => p.fargateProfileName === name))
          throw resourceInUse("A Fargate Profile already exists with this name in this cluster.", c.name);
        const inFlight = now.find(busy);
        if (inFlight)
          throw resourceInUse(
            `Cannot create Fargate Profile ${name} because cluster ${c.name} currently has Fargate profile ${inFlight.fargateProfileName} in status ${inFlight.status}`,
            c.name,
          );
        if (now.length >= MAX_FARGATE_PROFILES)
          throw eksErrors.ResourceLimitExceededException(
            `Cluster ${c.name} already has ${now.length} Fargate profiles, the most a cluster can have.`,
            { clusterName: c.name },
          );
        records.put(ctx, record);
      });
      const settled =
        delays.createDelayMs <= 0 ? profiles.settle(ctx, c.name).find((p) => p.fargateProfileName === name) : undefined;
      return { fargateProfile: fargateProfileView(settled ?? record) };
    },

    DescribeFargateProfile: async (input, ctx) => ({
      fargateProfile: fargateProfileView(await requireProfile(ctx, input.clusterName, input.fargateProfileName)),
    }),

    ListFargateProfiles: async (input, ctx) => {
      await eks.requireCluster(ctx, input.clusterName);
      const names = profiles
        .settle(ctx, input.clusterName)
        .map((p) => p.fargateProfileName)
        .sort();
      const { page, nextToken } = namePage(names, input.nextToken, input.maxResults);
      return { fargateProfileNames: page, ...(nextToken ? { nextToken } : {}) };
    },

    DeleteFargateProfile: async (input, ctx) => {
      const p = await requireProfile(ctx, input.clusterName, input.fargateProfileName);
      const c = await eks.requireCluster(ctx, p.clusterName);
      if (c.status === "UPDATING")
        throw resourceInUse(
          `Cannot Delete Fargate Profile ${p.fargateProfileName} because cluster ${c.name} currently has an update in progress`,
          c.name,
        );
      const deleting = eks.store.transaction(() => {
        const inFlight = records.children(ctx, p.clusterName).find(busy);
        if (inFlight)
          throw resourceInUse(
            `Cannot Delete Fargate Profile ${p.fargateProfileName} because cluster ${p.clusterName} currently has Fargate profile ${inFlight.fargateProfileName} in status ${inFlight.status}`,
            p.clusterName,
          );
        const next: EksFargateProfileRecord = {
          ...p,
          status: "DELETING",
          transitionAt: eks.after(delays.deleteDelayMs),
        };
        records.put(ctx, next);
        return next;
      });
      return { fargateProfile: fargateProfileView(deleting) };
    },
  };
}
