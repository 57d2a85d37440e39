/**
 * EKS managed node groups: CreateNodegroup / DescribeNodegroup / ListNodegroups /
 * UpdateNodegroupConfig / UpdateNodegroupVersion / DeleteNodegroup, and DescribeUpdate /
 * ListUpdates of node group updates. A node group is CREATING, then ACTIVE; an update makes it
 * UPDATING until the update is Successful (then its change applies); deleted, it is DELETING
 * until the node group controller has drained and removed its nodes. The controller reads the
 * node groups through `source()` and reports health issues back.
 */
import { type Scope, arn, uuid } from "../../core/ids.js";
import type { NodegroupIssue, NodegroupSource, NodegroupView } from "../../controllers/kube/nodegroups/source.js";
import type { ClusterRef } from "../../kube/types.js";
import { eksErrors } from "../../protocol/generated/errors/eks.js";
import type {
  Issue,
  Nodegroup,
  NodegroupUpdateConfig,
  Operations,
  UpdateParam,
  UpdateType,
} from "../../protocol/generated/types/eks.js";
import type { Provider, RequestContext } from "../../protocol/service.js";
import type { DocumentStore } from "../../store/documents.js";
import {
  type EksNodegroupRecord,
  type EksNodegroupUpdateRecord,
  type NodegroupChange,
  NodegroupRecords,
  nodegroupKey,
} from "../../store/schema/eks-nodegroups.js";
import { subnetPlacement } from "../efs/validate.js";
import { type EksContext, invalidParameter, namePage, resourceInUse } from "./context.js";
import { checkSubnets } from "./fargate-validate.js";
import {
  checkInstanceTypes,
  checkLabels,
  checkNodegroupName,
  checkNodegroupVersion,
  checkScaling,
  checkTaints,
  checkUpdateConfig,
  DEFAULT_DISK_SIZE,
  DEFAULT_INSTANCE_TYPE,
  DEFAULT_SCALING,
  defaultAmiType,
  MAX_NODEGROUPS,
  mergeScaling,
  mergeTaints,
  releaseVersionOf,
} from "./nodegroup-validate.js";
import { checkTagMap } from "./tags.js";
import { checkRoleArn } from "./validate.js";
import { versionInfo } from "./versions.js";

export const nodegroupNotFound = (clusterName: string, name: string) =>
  eksErrors.ResourceNotFoundException(`No node group found for name: ${name}.`, { clusterName, nodegroupName: name });
const ngInvalid = (message: string, clusterName: string, nodegroupName?: string) =>
  eksErrors.InvalidParameterException(message, { clusterName, ...(nodegroupName ? { nodegroupName } : {}) });
const ngInUse = (message: string, clusterName: string, nodegroupName: string) =>
  eksErrors.ResourceInUseException(message, { clusterName, nodegroupName });

const KUBE_EFFECT = {
  NO_SCHEDULE: "NoSchedule",
  NO_EXECUTE: "NoExecute",
  PREFER_NO_SCHEDULE: "PreferNoSchedule",
} as const;

export interface NodegroupDelays {
  createDelayMs: number;
  deleteDelayMs: number;
  updateDelayMs: number;
  /** How long a DELETING node group waits for its nodes to drain before it goes anyway (EKS: about 15 minutes). */
  drainTimeoutMs: number;
}

const maxUnavailableOf = (u: NodegroupUpdateConfig, desired: number) =>
  u.maxUnavailable ?? Math.max(1, Math.floor(((u.maxUnavailablePercentage ?? 0) * desired) / 100));

export function nodegroupView(n: EksNodegroupRecord): Nodegroup {
  const issues = n.issues ?? [];
  return {
    nodegroupName: n.nodegroupName,
    nodegroupArn: n.nodegroupArn,
    clusterName: n.clusterName,
    version: n.version,
    releaseVersion: n.releaseVersion,
    createdAt: n.createdAt,
    modifiedAt: n.modifiedAt,
    status: n.status === "ACTIVE" && issues.length ? "DEGRADED" : n.status,
    capacityType: n.capacityType,
    scalingConfig: n.scalingConfig,
    instanceTypes: n.instanceTypes,
    subnets: n.subnets,
    ...(n.remoteAccess ? { remoteAccess: n.remoteAccess } : {}),
    amiType: n.amiType,
    nodeRole: n.nodeRole,
    labels: n.labels,
    taints: n.taints,
    resources: {
      autoScalingGroups: [{ name: n.autoScalingGroupName }],
      ...(n.remoteAccess ? { remoteAccessSecurityGroup: `sg-${n.autoScalingGroupName.slice(-17)}` } : {}),
    },
    diskSize: n.diskSize,
    health: { issues },
    updateConfig: n.updateConfig,
    tags: n.tags,
  };
}

/** The node groups of the EKS clusters as the store holds them, moved along when a phase is due. */
export class Nodegroups {
  readonly records: NodegroupRecords;

  constructor(
    private readonly store: DocumentStore,
    private readonly now: () => Date,
    private readonly delays: NodegroupDelays,
  ) {
    this.records = new NodegroupRecords(store);
  }

  /**
   * Ends due phases: CREATING → ACTIVE, due updates applied (UPDATING → ACTIVE), a DELETING node
   * group past its drain timeout gone. One transaction on fresh reads.
   */
  settle(scope: Scope, clusterName: string): EksNodegroupRecord[] {
    const now = this.now().getTime();
    const list = this.records.nodegroups.children(scope, clusterName);
    const dueUpdates = (n: EksNodegroupRecord) =>
      this.records.updates
        .children(scope, nodegroupKey(clusterName, n.nodegroupName))
        .filter((u) => u.status === "InProgress" && u.completeAt.getTime() <= now);
    const due = (n: EksNodegroupRecord) =>
      (n.status === "CREATING" && (n.transitionAt?.getTime() ?? 0) <= now) ||
      (n.status === "DELETING" && (n.transitionAt?.getTime() ?? 0) + this.delays.drainTimeoutMs <= now) ||
      (n.status === "UPDATING" && dueUpdates(n).length > 0);
    if (!list.some(due)) return list;
    return this.store.transaction(() => {
      const out: EksNodegroupRecord[] = [];
      for (let n of this.records.nodegroups.children(scope, clusterName)) {
        if (!due(n)) {
          out.push(n);
          continue;
        }
        if (n.status === "DELETING") {
          this.remove(scope, n);
          continue;
        }
        if (n.status === "CREATING") {
          const { transitionAt: _, ...rest } = n;
          n = this.records.nodegroups.put(scope, { ...rest, status: "ACTIVE", modifiedAt: new Date(now) });
        } else {
          for (const u of dueUpdates(n)) {
            n = applyNodegroupChange(n, u.change);
            this.records.updates.put(scope, { ...u, status: "Successful" });
          }
          n = this.records.nodegroups.put(scope, { ...n, status: "ACTIVE", modifiedAt: new Date(now) });
        }
        out.push(n);
      }
      return out;
    });
  }

  private remove(scope: Scope, n: EksNodegroupRecord) {
    for (const u of this.records.updates.children(scope, nodegroupKey(n.clusterName, n.nodegroupName)))
      this.records.updates.delete(scope, u.id);
    this.records.nodegroups.delete(scope, nodegroupKey(n.clusterName, n.nodegroupName));
  }

  settleAll() {
    const clusters = new Map<string, { scope: Scope; name: string }>();
    for (const { scope, doc } of this.records.nodegroups.listAll())
      clusters.set(`${scope.account}/${scope.region}/${doc.clusterName}`, { scope, name: doc.clusterName });
    for (const c of clusters.values()) this.settle(c.scope, c.name);
  }

  of(cluster: ClusterRef): EksNodegroupRecord[] {
    return this.settle(cluster.scope, cluster.name);
  }

  /** Whether the cluster has a node group that is not being deleted (the cluster has compute of its own). */
  hasNodes(cluster: ClusterRef): boolean {
    return this.of(cluster).some((n) => n.status !== "DELETING" && n.scalingConfig.desiredSize > 0);
  }

  /** DeleteCluster's guard: EKS refuses while the cluster has node groups. */
  deletionGuard(cluster: ClusterRef): string | undefined {
    return this.of(cluster).length ? "Cluster has nodegroups attached" : undefined;
  }

  /** What the node group controller reads and reports. */
  source(): NodegroupSource {
    return {
      nodegroups: (cluster) => this.of(cluster).map((n) => this.viewForController(cluster, n)),
      reportIssues: (cluster, name, issues) => this.reportIssues(cluster, name, issues),
      finishDelete: (cluster, name) => {
        const now = this.now().getTime();
        this.store.transaction(() => {
          const n = this.records.nodegroups.get(cluster.scope, nodegroupKey(cluster.name, name));
          if (n?.status === "DELETING" && (n.transitionAt?.getTime() ?? 0) <= now) this.remove(cluster.scope, n);
        });
      },
    };
  }

  private viewForController(cluster: ClusterRef, n: EksNodegroupRecord): NodegroupView {
    return {
      name: n.nodegroupName,
      arn: n.nodegroupArn,
      status: n.status,
      desiredSize: n.scalingConfig.desiredSize,
      instanceTypes: n.instanceTypes,
      capacityType: n.capacityType,
      amiType: n.amiType,
      version: n.version,
      releaseVersion: n.releaseVersion,
      labels: n.labels,
      taints: n.taints.map((t) => ({
        key: t.key ?? "",
        ...(t.value ? { value: t.value } : {}),
        effect: KUBE_EFFECT[t.effect ?? "NO_SCHEDULE"],
      })),
      zones: [...new Set(n.subnets.map((s) => subnetPlacement(cluster.scope, s).availabilityZoneName))].sort(),
      maxUnavailable: maxUnavailableOf(n.updateConfig, n.scalingConfig.desiredSize),
    };
  }

  private reportIssues(cluster: ClusterRef, name: string, issues: NodegroupIssue[]) {
    const key = nodegroupKey(cluster.name, name);
    const cur = this.records.nodegroups.getVersioned(cluster.scope, key);
    if (!cur || JSON.stringify(cur.doc.issues ?? []) === JSON.stringify(issues)) return;
    try {
      this.records.nodegroups.put(cluster.scope, { ...cur.doc, issues: issues as Issue[] }, { expect: cur.rev });
    } catch {
      // written meanwhile: the controller reports again on its next pass
    }
  }
}

/** A node group with an update's change applied. PURE. */
export function applyNodegroupChange(n: EksNodegroupRecord, change: NodegroupChange): EksNodegroupRecord {
  return {
    ...n,
    ...(change.scalingConfig ? { scalingConfig: change.scalingConfig } : {}),
    ...(change.labels ? { labels: change.labels } : {}),
    ...(change.taints ? { taints: change.taints } : {}),
    ...(change.updateConfig ? { updateConfig: change.updateConfig } : {}),
    ...(change.version ? { version: change.version } : {}),
    ...(change.releaseVersion ? { releaseVersion: change.releaseVersion } : {}),
  };
}

export function nodegroupOperations(eks: EksContext, groups: Nodegroups, delays: NodegroupDelays) {
  const { nodegroups, updates } = groups.records;

  const requireNodegroup = async (scope: Scope, clusterName: string, name: string) => {
    await eks.requireCluster(scope, clusterName);
    const n = groups.settle(scope, clusterName).find((x) => x.nodegroupName === name);
    if (!n) throw nodegroupNotFound(clusterName, name);
    return n;
  };

  /** A node group that can take an update now, or the update a repeated token already made. */
  const updatable = async (ctx: RequestContext, clusterName: string, name: string, token: string | undefined) => {
    const n = await requireNodegroup(ctx, clusterName, name);
    const mine = updates.children(ctx, nodegroupKey(clusterName, name));
    const previous = token ? mine.find((u) => u.clientRequestToken === token) : undefined;
    if (previous) return { n, previous };
    const running = mine.find((u) => u.status === "InProgress");
    if (running)
      throw ngInUse(
        `Nodegroup ${name} has an update in progress (${running.id}); wait until it is Successful.`,
        clusterName,
        name,
      );
    if (n.status !== "ACTIVE")
      throw ngInUse(
        `Nodegroup ${name} is in status ${n.status}; updates need an ACTIVE node group.`,
        clusterName,
        name,
      );
    return { n };
  };

  const startUpdate = (
    ctx: RequestContext,
    n: EksNodegroupRecord,
    type: UpdateType,
    params: UpdateParam[],
    change: NodegroupChange,
    token: string | undefined,
  ) => {
    const record: EksNodegroupUpdateRecord = {
      id: uuid(),
      clusterName: n.clusterName,
      nodegroupName: n.nodegroupName,
      status: "InProgress",
      type,
      params,
      createdAt: eks.clock.now(),
      errors: [],
      ...(token ? { clientRequestToken: token } : {}),
      completeAt: eks.after(delays.updateDelayMs),
      change,
    };
    eks.store.transaction(() => {
      updates.put(ctx, record);
      nodegroups.put(ctx, { ...n, status: "UPDATING", modifiedAt: eks.clock.now() });
    });
    if (delays.updateDelayMs <= 0) groups.settle(ctx, n.clusterName);
    return { update: eks.updateView(updates.get(ctx, record.id) ?? record) };
  };

  const provider: Provider<Operations> = {
    CreateNodegroup: async (input, ctx) => {
      const c = await eks.requireCluster(ctx, input.clusterName);
      const name = input.nodegroupName;
      const same = groups.settle(ctx, c.name).find((n) => n.nodegroupName === name);
      if (same) {
        if (input.clientRequestToken && same.clientRequestToken === input.clientRequestToken)
          return { nodegroup: nodegroupView(same) };
        throw ngInUse(`NodeGroup already exists with name ${name} and cluster name ${c.name}`, c.name, name);
      }
      const fail = (msg: string | undefined) => {
        if (msg) throw ngInvalid(msg, c.name, name);
      };
      fail(checkNodegroupName(name));
      fail(checkRoleArn(input.nodeRole, "nodeRole"));
      if (!input.subnets?.length) fail("Subnets are required: give at least one subnet for the node group.");
      const subnets = [...new Set(input.subnets)];
      fail(checkSubnets(subnets));
      const scaling = mergeScaling(DEFAULT_SCALING, input.scalingConfig);
      // Only maxSize given below the default desired size: EKS's defaults follow it down.
      if (input.scalingConfig?.desiredSize === undefined && scaling.desiredSize > scaling.maxSize)
        scaling.desiredSize = Math.max(scaling.minSize, scaling.maxSize);
      if (input.scalingConfig?.minSize === undefined && scaling.minSize > scaling.desiredSize)
        scaling.minSize = scaling.desiredSize;
      fail(checkScaling(scaling));
      if (input.launchTemplate)
        fail("Berth's node groups do not support launch templates; give instanceTypes, amiType and diskSize instead.");
      if (input.warmPoolConfig) fail("Berth's node groups do not support warm pools.");
      const version = input.version ?? c.version;
      fail(checkNodegroupVersion(version, c.version));
      const info = versionInfo(version);
      if (!info) fail(`Requested Nodegroup Kubernetes version ${version} is not supported.`);
      const releaseVersion = input.releaseVersion ?? releaseVersionOf(info!.patch);
      if (input.releaseVersion !== undefined && input.releaseVersion !== releaseVersionOf(info!.patch))
        fail(
          `Requested release version ${input.releaseVersion} is not valid for Kubernetes version ${version}; Berth offers ${releaseVersionOf(info!.patch)}.`,
        );
      const instanceTypes = input.instanceTypes?.length ? input.instanceTypes : [DEFAULT_INSTANCE_TYPE];
      const amiType = input.amiType ?? defaultAmiType(instanceTypes, version);
      fail(checkInstanceTypes(instanceTypes, amiType));
      const capacityType = input.capacityType ?? "ON_DEMAND";
      if (capacityType === "CAPACITY_BLOCK")
        fail("capacityType CAPACITY_BLOCK needs a launch template, which Berth's node groups do not support.");
      const labels = input.labels ?? {};
      fail(checkLabels(labels));
      const taints = input.taints ?? [];
      fail(checkTaints(taints));
      const updateConfig = input.updateConfig ?? { maxUnavailable: 1 };
      fail(checkUpdateConfig(updateConfig, scaling.maxSize));
      const diskSize = input.diskSize ?? DEFAULT_DISK_SIZE;
      if (diskSize < 1 || diskSize > 16384) fail("diskSize must be between 1 and 16384 GiB.");
      if (input.tags) checkTagMap(input.tags);
      if (c.status !== "ACTIVE")
        throw resourceInUse(
          c.status === "UPDATING"
            ? `Cannot create node group ${name} because cluster ${c.name} currently has an update in progress`
            : `Cannot create node group ${name} because cluster ${c.name} is in status ${c.status}`,
          c.name,
        );
      const id = uuid();
      const record: EksNodegroupRecord = {
        clusterName: c.name,
        nodegroupName: name,
        nodegroupArn: arn("eks", ctx, `nodegroup/${c.name}/${name}/${id}`),
        createdAt: eks.clock.now(),
        modifiedAt: eks.clock.now(),
        status: "CREATING",
        transitionAt: eks.after(delays.createDelayMs),
        version,
        releaseVersion,
        capacityType,
        scalingConfig: scaling,
        instanceTypes,
        subnets,
        amiType,
        nodeRole: input.nodeRole,
        labels,
        taints,
        diskSize,
        updateConfig,
        ...(input.remoteAccess ? { remoteAccess: input.remoteAccess } : {}),
        autoScalingGroupName: `eks-${name}-${id}`,
        tags: input.tags ?? {},
        ...(input.clientRequestToken ? { clientRequestToken: input.clientRequestToken } : {}),
      };
      eks.store.transaction(() => {
        const now = nodegroups.children(ctx, c.name);
        if (now.some((n) => n.nodegroupName === name))
          throw ngInUse(`NodeGroup already exists with name ${name} and cluster name ${c.name}`, c.name, name);
        if (now.length >= MAX_NODEGROUPS)
          throw eksErrors.ResourceLimitExceededException(
            `Cluster ${c.name} already has ${now.length} node groups, the most a cluster can have.`,
            { clusterName: c.name, nodegroupName: name },
          );
        nodegroups.put(ctx, record);
      });
      const settled =
        delays.createDelayMs <= 0 ? groups.settle(ctx, c.name).find((n) => n.nodegroupName === name) : undefined;
      return { nodegroup: nodegroupView(settled ?? record) };
    },

    DescribeNodegroup: async (input, ctx) => ({
      nodegroup: nodegroupView(await requireNodegroup(ctx, input.clusterName, input.nodegroupName)),
    }),

    ListNodegroups: async (input, ctx) => {
      await eks.requireCluster(ctx, input.clusterName);
      const names = groups
        .settle(ctx, input.clusterName)
        .map((n) => n.nodegroupName)
        .sort();
      const { page, nextToken } = namePage(names, input.nextToken, input.maxResults);
      return { nodegroups: page, ...(nextToken ? { nextToken } : {}) };
    },

    DeleteNodegroup: async (input, ctx) => {
      const n = await requireNodegroup(ctx, input.clusterName, input.nodegroupName);
      if (n.status === "DELETING") return { nodegroup: nodegroupView(n) };
      const deleting = eks.store.transaction(() => {
        for (const u of updates.children(ctx, nodegroupKey(n.clusterName, n.nodegroupName)))
          if (u.status === "InProgress") updates.put(ctx, { ...u, status: "Cancelled" });
        const next: EksNodegroupRecord = {
          ...n,
          status: "DELETING",
          transitionAt: eks.after(delays.deleteDelayMs),
          modifiedAt: eks.clock.now(),
        };
        nodegroups.put(ctx, next);
        return next;
      });
      return { nodegroup: nodegroupView(deleting) };
    },

    UpdateNodegroupConfig: async (input, ctx) => {
      const { n, previous } = await updatable(ctx, input.clusterName, input.nodegroupName, input.clientRequestToken);
      if (previous) return { update: eks.updateView(previous) };
      const fail = (msg: string | undefined) => {
        if (msg) throw ngInvalid(msg, n.clusterName, n.nodegroupName);
      };
      if (input.nodeRepairConfig) fail("Berth's node groups do not update nodeRepairConfig.");
      if (input.warmPoolConfig) fail("Berth's node groups do not support warm pools.");
      const params: UpdateParam[] = [];
      const change: NodegroupChange = {};
      if (input.labels) {
        const add = input.labels.addOrUpdateLabels ?? {};
        const remove = input.labels.removeLabels ?? [];
        const both = remove.find((k) => k in add);
        if (both !== undefined) fail(`The label ${both} is both added and removed; name it in one of the two lists.`);
        fail(checkLabels(add));
        const labels = { ...n.labels, ...add };
        for (const k of remove) delete labels[k];
        if (Object.keys(add).length) params.push({ type: "LabelsToAdd", value: JSON.stringify(add) });
        if (remove.length) params.push({ type: "LabelsToRemove", value: JSON.stringify(remove) });
        change.labels = labels;
      }
      if (input.taints) {
        const add = input.taints.addOrUpdateTaints ?? [];
        const remove = input.taints.removeTaints ?? [];
        const taints = mergeTaints(n.taints, add, remove);
        fail(checkTaints(add));
        fail(checkTaints(taints));
        if (add.length) params.push({ type: "TaintsToAdd", value: JSON.stringify(add) });
        if (remove.length) params.push({ type: "TaintsToRemove", value: JSON.stringify(remove) });
        change.taints = taints;
      }
      if (input.scalingConfig) {
        const s = mergeScaling(n.scalingConfig, input.scalingConfig);
        fail(checkScaling(s));
        if (input.scalingConfig.minSize !== undefined) params.push({ type: "MinSize", value: String(s.minSize) });
        if (input.scalingConfig.maxSize !== undefined) params.push({ type: "MaxSize", value: String(s.maxSize) });
        if (input.scalingConfig.desiredSize !== undefined)
          params.push({ type: "DesiredSize", value: String(s.desiredSize) });
        change.scalingConfig = s;
      }
      const maxSize = change.scalingConfig?.maxSize ?? n.scalingConfig.maxSize;
      if (input.updateConfig) {
        const u = input.updateConfig;
        const next: NodegroupUpdateConfig = {
          ...(u.maxUnavailable !== undefined
            ? { maxUnavailable: u.maxUnavailable }
            : u.maxUnavailablePercentage !== undefined
              ? { maxUnavailablePercentage: u.maxUnavailablePercentage }
              : n.updateConfig),
          ...(u.updateStrategy ? { updateStrategy: u.updateStrategy } : {}),
        };
        if (u.maxUnavailable !== undefined && u.maxUnavailablePercentage !== undefined)
          fail("You can specify either maxUnavailable or maxUnavailablePercentage in updateConfig, not both.");
        fail(checkUpdateConfig(next, maxSize));
        if (next.maxUnavailable !== undefined)
          params.push({ type: "MaxUnavailable", value: String(next.maxUnavailable) });
        if (next.maxUnavailablePercentage !== undefined)
          params.push({ type: "MaxUnavailablePercentage", value: String(next.maxUnavailablePercentage) });
        if (u.updateStrategy) params.push({ type: "UpdateStrategy", value: u.updateStrategy });
        change.updateConfig = next;
      }
      if (Object.keys(change).length === 0)
        fail("No changes were requested: give labels, taints, scalingConfig or updateConfig.");
      return startUpdate(ctx, n, "ConfigUpdate", params, change, input.clientRequestToken);
    },

    UpdateNodegroupVersion: async (input, ctx) => {
      const { n, previous } = await updatable(ctx, input.clusterName, input.nodegroupName, input.clientRequestToken);
      if (previous) return { update: eks.updateView(previous) };
      const fail = (msg: string | undefined) => {
        if (msg) throw ngInvalid(msg, n.clusterName, n.nodegroupName);
      };
      if (input.launchTemplate) fail("Berth's node groups do not support launch templates.");
      const c = await eks.requireCluster(ctx, n.clusterName);
      const version = input.version ?? c.version;
      fail(checkNodegroupVersion(version, c.version));
      const info = versionInfo(version);
      if (!info) fail(`Requested Nodegroup Kubernetes version ${version} is not supported.`);
      const release = releaseVersionOf(info!.patch);
      if (input.releaseVersion !== undefined && input.releaseVersion !== release)
        fail(
          `Requested release version ${input.releaseVersion} is not valid for Kubernetes version ${version}; Berth offers ${release}.`,
        );
      if (Number(version.split(".")[1]) < Number(n.version.split(".")[1]))
        fail(`Nodegroup ${n.nodegroupName} is at version ${n.version}; it can't be downgraded to ${version}.`);
      if (version === n.version && release === n.releaseVersion)
        fail(`Nodegroup ${n.nodegroupName} is already at version ${version} and release version ${release}.`);
      return startUpdate(
        ctx,
        n,
        "VersionUpdate",
        [
          { type: "Version", value: version },
          { type: "ReleaseVersion", value: release },
        ],
        { version, releaseVersion: release },
        input.clientRequestToken,
      );
    },
  };

  /** DescribeUpdate / ListUpdates of a node group (the cluster's own are the cluster operations'). */
  const describeUpdate = async (ctx: RequestContext, cluster: string, nodegroup: string, id: string) => {
    await requireNodegroup(ctx, cluster, nodegroup);
    groups.settle(ctx, cluster);
    const u = updates.get(ctx, id);
    if (!u || u.clusterName !== cluster || u.nodegroupName !== nodegroup)
      throw eksErrors.ResourceNotFoundException(`No update found for ID: ${id}`, {
        clusterName: cluster,
        nodegroupName: nodegroup,
      });
    return { update: eks.updateView(u) };
  };
  const listUpdates = async (
    ctx: RequestContext,
    cluster: string,
    nodegroup: string,
    nextToken: string | undefined,
    maxResults: number | undefined,
  ) => {
    await requireNodegroup(ctx, cluster, nodegroup);
    const ordered = updates
      .children(ctx, nodegroupKey(cluster, nodegroup))
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime())
      .map((u) => u.id);
    const start = nextToken ? ordered.indexOf(nextToken) + 1 : 0;
    if (nextToken && start === 0) throw invalidParameter("The nextToken is not valid.", cluster);
    const page = ordered.slice(start, start + (maxResults ?? 100));
    const more = start + page.length < ordered.length;
    return { updateIds: page, ...(more ? { nextToken: page[page.length - 1] } : {}) };
  };
  return { provider, describeUpdate, listUpdates };
}
