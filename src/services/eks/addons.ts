/**
 * EKS add-ons: CreateAddon / DescribeAddon / ListAddons / UpdateAddon / DeleteAddon /
 * DescribeAddonVersions, and DescribeUpdate / ListUpdates of add-on updates. An add-on is
 * CREATING, then ACTIVE; UpdateAddon makes it UPDATING with an update InProgress, applied when it
 * completes; DeleteAddon makes it DELETING, then it is gone. What an installed add-on does in the
 * cluster is in addon-catalog.ts (the CSI drivers' provisioners; the rest recorded).
 */
import { type Scope, arn, uuid } from "../../core/ids.js";
import type { ClusterRef } from "../../kube/types.js";
import { eksErrors } from "../../protocol/generated/errors/eks.js";
import type { Addon, Operations, Update, UpdateParam } from "../../protocol/generated/types/eks.js";
import type { Provider } from "../../protocol/service.js";
import type { DocumentStore } from "../../store/documents.js";
import { addonCollection, addonKey, type EksAddonRecord, type EksAddonUpdate } from "../../store/schema/eks-addons.js";
import { ADDONS, addonInfo, addonSpec, defaultAddonVersion, isCompatible } from "./addon-catalog.js";
import { type EksContext, invalidParameter, namePage, resourceInUse } from "./context.js";
import { checkTagMap } from "./tags.js";
import { checkRoleArn } from "./validate.js";

export const addonNotFound = (clusterName: string, addonName: string) =>
  eksErrors.ResourceNotFoundException(`No addon: ${addonName} found in cluster: ${clusterName}`, {
    clusterName,
    addonName,
  });

const busy = (a: EksAddonRecord) => a.status === "CREATING" || a.status === "UPDATING" || a.status === "DELETING";

export function addonView(a: EksAddonRecord): Addon {
  return {
    addonName: a.addonName,
    clusterName: a.clusterName,
    status: a.status,
    addonVersion: a.addonVersion,
    health: { issues: [] },
    addonArn: a.addonArn,
    createdAt: a.createdAt,
    modifiedAt: a.modifiedAt,
    ...(a.serviceAccountRoleArn ? { serviceAccountRoleArn: a.serviceAccountRoleArn } : {}),
    tags: a.tags,
    ...(a.configurationValues !== undefined ? { configurationValues: a.configurationValues } : {}),
    podIdentityAssociations: [],
    namespaceConfig: { namespace: a.namespace },
  };
}

const updateView = (u: EksAddonUpdate): Update => ({
  id: u.id,
  status: u.status,
  type: "AddonUpdate",
  params: u.params,
  createdAt: u.createdAt,
  errors: u.errors,
});

/** Add-ons as the store holds them, moved along when a phase is due. */
export class Addons {
  readonly records;

  constructor(
    private readonly store: DocumentStore,
    private readonly now: () => Date,
  ) {
    this.records = addonCollection(store);
  }

  settle(scope: Scope, clusterName: string): EksAddonRecord[] {
    const now = this.now().getTime();
    const due = (a: EksAddonRecord) =>
      (busy(a) && (a.transitionAt?.getTime() ?? 0) <= now) ||
      a.updates.some((u) => u.status === "InProgress" && u.completeAt.getTime() <= now);
    const list = this.records.children(scope, clusterName);
    if (!list.some(due)) return list;
    return this.store.transaction(() => {
      const out: EksAddonRecord[] = [];
      for (const a of this.records.children(scope, clusterName)) {
        if (!due(a)) out.push(a);
        else if (a.status === "DELETING") this.records.delete(scope, addonKey(clusterName, a.addonName));
        else {
          let next: EksAddonRecord = { ...a, updates: a.updates.map((u) => ({ ...u })) };
          for (const u of next.updates)
            if (u.status === "InProgress" && u.completeAt.getTime() <= now) {
              u.status = "Successful";
              next = { ...next, ...u.change, modifiedAt: u.completeAt };
            }
          const { transitionAt: _, ...rest } = next;
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

  /** The CSI drivers the cluster's installed add-ons provide (the storage controllers' InstalledDrivers). */
  csiDrivers(cluster: ClusterRef): string[] {
    return this.settle(cluster.scope, cluster.name)
      .filter((a) => a.status === "ACTIVE" || a.status === "UPDATING" || a.status === "DEGRADED")
      .map((a) => addonSpec(a.addonName)?.csiDriver)
      .filter((d): d is string => !!d);
  }

  /** A deleted cluster's add-ons go with it. */
  purge(cluster: ClusterRef) {
    for (const a of this.records.children(cluster.scope, cluster.name))
      this.records.delete(cluster.scope, addonKey(cluster.name, a.addonName));
  }
}

export interface AddonDelays {
  createDelayMs: number;
  deleteDelayMs: number;
  updateDelayMs: number;
}

/** configurationValues must be JSON or YAML; Berth checks JSON (an object) and accepts YAML as given. */
function checkConfigurationValues(values: string | undefined, clusterName: string) {
  if (values === undefined || !values.trim().startsWith("{")) return;
  try {
    const v = JSON.parse(values);
    if (typeof v !== "object" || v === null || Array.isArray(v)) throw new Error("not an object");
  } catch {
    throw invalidParameter(
      "ConfigurationValue provided in request is not supported: Json schema validation failed",
      clusterName,
    );
  }
}

export function addonOperations(eks: EksContext, addons: Addons, delays: AddonDelays): Provider<Operations> {
  const { records } = addons;
  const requireAddon = async (scope: Scope, clusterName: string, name: string) => {
    await eks.requireCluster(scope, clusterName);
    const a = addons.settle(scope, clusterName).find((x) => x.addonName === name);
    if (!a) throw addonNotFound(clusterName, name);
    return a;
  };

  return {
    CreateAddon: async (input, ctx) => {
      const c = await eks.requireCluster(ctx, input.clusterName);
      const spec = addonSpec(input.addonName);
      if (!spec)
        throw invalidParameter(
          `Addon ${input.addonName} specified is not supported in ${c.version} kubernetes version`,
          c.name,
        );
      const existing = addons.settle(ctx, c.name).find((a) => a.addonName === input.addonName);
      if (existing) {
        if (input.clientRequestToken && existing.clientRequestToken === input.clientRequestToken)
          return { addon: addonView(existing) };
        throw resourceInUse("Addon already exists.", c.name);
      }
      const version = input.addonVersion ?? defaultAddonVersion(spec, c.version);
      if (!version || !isCompatible(spec, version, c.version))
        throw invalidParameter("Addon version specified is not supported", c.name);
      if (input.serviceAccountRoleArn) {
        const err = checkRoleArn(input.serviceAccountRoleArn, "serviceAccountRoleArn");
        if (err) throw invalidParameter(err, c.name);
      }
      checkConfigurationValues(input.configurationValues, c.name);
      if (input.tags) checkTagMap(input.tags);
      if (c.status !== "ACTIVE" && c.status !== "UPDATING")
        throw resourceInUse(
          `Cluster ${c.name} is in status ${c.status}; add-ons can be created on ACTIVE clusters.`,
          c.name,
        );
      const now = eks.clock.now();
      const record: EksAddonRecord = {
        clusterName: c.name,
        addonName: spec.name,
        addonArn: arn("eks", ctx, `addon/${c.name}/${spec.name}/${uuid()}`),
        addonVersion: version,
        status: "CREATING",
        transitionAt: eks.after(delays.createDelayMs),
        createdAt: now,
        modifiedAt: now,
        ...(input.serviceAccountRoleArn ? { serviceAccountRoleArn: input.serviceAccountRoleArn } : {}),
        ...(input.configurationValues !== undefined ? { configurationValues: input.configurationValues } : {}),
        namespace: input.namespaceConfig?.namespace ?? spec.defaultNamespace,
        tags: input.tags ?? {},
        ...(input.clientRequestToken ? { clientRequestToken: input.clientRequestToken } : {}),
        updates: [],
      };
      eks.store.transaction(() => {
        if (records.get(ctx, addonKey(c.name, spec.name))) throw resourceInUse("Addon already exists.", c.name);
        records.put(ctx, record);
      });
      const settled =
        delays.createDelayMs <= 0 ? addons.settle(ctx, c.name).find((a) => a.addonName === spec.name) : undefined;
      return { addon: addonView(settled ?? record) };
    },

    DescribeAddon: async (input, ctx) => ({
      addon: addonView(await requireAddon(ctx, input.clusterName, input.addonName)),
    }),

    ListAddons: async (input, ctx) => {
      await eks.requireCluster(ctx, input.clusterName);
      const names = addons
        .settle(ctx, input.clusterName)
        .map((a) => a.addonName)
        .sort();
      const { page, nextToken } = namePage(names, input.nextToken, input.maxResults);
      return { addons: page, ...(nextToken ? { nextToken } : {}) };
    },

    UpdateAddon: async (input, ctx) => {
      const a = await requireAddon(ctx, input.clusterName, input.addonName);
      const c = await eks.requireCluster(ctx, a.clusterName);
      const spec = addonSpec(a.addonName);
      if (!spec) throw addonNotFound(a.clusterName, a.addonName);
      if (input.addonVersion !== undefined && !isCompatible(spec, input.addonVersion, c.version))
        throw invalidParameter("Addon version specified is not supported", c.name);
      if (input.serviceAccountRoleArn) {
        const err = checkRoleArn(input.serviceAccountRoleArn, "serviceAccountRoleArn");
        if (err) throw invalidParameter(err, c.name);
      }
      checkConfigurationValues(input.configurationValues, c.name);
      const existing = a.updates.find(
        (u) => input.clientRequestToken && u.clientRequestToken === input.clientRequestToken,
      );
      if (existing) return { update: updateView(existing) };
      if (busy(a))
        throw resourceInUse(`Addon ${a.addonName} is in status ${a.status}; try again once it is ACTIVE.`, c.name);
      const params: UpdateParam[] = [];
      const change: EksAddonUpdate["change"] = {};
      if (input.addonVersion !== undefined) {
        params.push({ type: "AddonVersion", value: input.addonVersion });
        change.addonVersion = input.addonVersion;
      }
      if (input.serviceAccountRoleArn !== undefined) {
        params.push({ type: "ServiceAccountRoleArn", value: input.serviceAccountRoleArn });
        change.serviceAccountRoleArn = input.serviceAccountRoleArn;
      }
      if (input.configurationValues !== undefined) {
        params.push({ type: "ConfigurationValues", value: input.configurationValues });
        change.configurationValues = input.configurationValues;
      }
      if (input.resolveConflicts) params.push({ type: "ResolveConflicts", value: input.resolveConflicts });
      const update: EksAddonUpdate = {
        id: uuid(),
        status: "InProgress",
        params,
        createdAt: eks.clock.now(),
        completeAt: eks.after(delays.updateDelayMs),
        errors: [],
        change,
        ...(input.clientRequestToken ? { clientRequestToken: input.clientRequestToken } : {}),
      };
      eks.store.transaction(() => {
        const cur = records.get(ctx, addonKey(a.clusterName, a.addonName));
        if (!cur) throw addonNotFound(a.clusterName, a.addonName);
        if (busy(cur))
          throw resourceInUse(`Addon ${a.addonName} is in status ${cur.status}; try again once it is ACTIVE.`, c.name);
        records.put(ctx, {
          ...cur,
          status: "UPDATING",
          transitionAt: update.completeAt,
          updates: [...cur.updates, update],
        });
      });
      if (delays.updateDelayMs <= 0) addons.settle(ctx, a.clusterName);
      return { update: updateView(update) };
    },

    DeleteAddon: async (input, ctx) => {
      const a = await requireAddon(ctx, input.clusterName, input.addonName);
      if (a.status === "DELETING") return { addon: addonView(a) };
      const next = eks.store.transaction(() => {
        const cur = records.get(ctx, addonKey(a.clusterName, a.addonName));
        if (!cur) throw addonNotFound(a.clusterName, a.addonName);
        const d: EksAddonRecord = { ...cur, status: "DELETING", transitionAt: eks.after(delays.deleteDelayMs) };
        records.put(ctx, d);
        return d;
      });
      if (delays.deleteDelayMs <= 0) addons.settle(ctx, a.clusterName);
      return { addon: addonView(next) };
    },

    DescribeAddonVersions: (input) => {
      if (input.kubernetesVersion !== undefined && !/^\d+\.\d+$/.test(input.kubernetesVersion))
        throw invalidParameter(`Kubernetes version ${input.kubernetesVersion} is not valid.`);
      let list = ADDONS.filter((s) => !input.addonName || s.name === input.addonName);
      if (input.types?.length) list = list.filter((s) => input.types!.includes(s.type));
      if (input.publishers?.length) list = list.filter(() => input.publishers!.includes("eks"));
      if (input.owners?.length) list = list.filter(() => input.owners!.includes("aws"));
      const infos = list.map((s) => addonInfo(s, input.kubernetesVersion)).filter((i) => i.addonVersions?.length);
      const { page, nextToken } = namePage(
        infos.map((i) => i.addonName ?? ""),
        input.nextToken,
        input.maxResults,
      );
      return { addons: infos.filter((i) => page.includes(i.addonName ?? "")), ...(nextToken ? { nextToken } : {}) };
    },
  };
}

/** DescribeUpdate / ListUpdates with an addonName: the add-on's updates (the cluster's own are clusters.ts'). */
export function addonUpdateOperations(
  eks: EksContext,
  addons: Addons,
  base: Provider<Operations>,
): Provider<Operations> {
  return {
    DescribeUpdate: async (input, ctx) => {
      if (!input.addonName) return base.DescribeUpdate!(input, ctx);
      await eks.requireCluster(ctx, input.name);
      const a = addons.settle(ctx, input.name).find((x) => x.addonName === input.addonName);
      if (!a) throw addonNotFound(input.name, input.addonName);
      const u = a.updates.find((x) => x.id === input.updateId);
      if (!u)
        throw eksErrors.ResourceNotFoundException(`No update found for ID: ${input.updateId}`, {
          clusterName: input.name,
          addonName: input.addonName,
        });
      return { update: updateView(u) };
    },
    ListUpdates: async (input, ctx) => {
      if (!input.addonName) return base.ListUpdates!(input, ctx);
      await eks.requireCluster(ctx, input.name);
      const a = addons.settle(ctx, input.name).find((x) => x.addonName === input.addonName);
      if (!a) throw addonNotFound(input.name, input.addonName);
      const ids = a.updates.map((u) => u.id).sort();
      const { page, nextToken } = namePage(ids, input.nextToken, input.maxResults);
      return { updateIds: page, ...(nextToken ? { nextToken } : {}) };
    },
  };
}
