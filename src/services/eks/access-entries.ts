import { type Scope, arn, uuid } from "../../core/ids.js";
import { ACCESS_POLICIES } from "../../kube/access-policies.js";
import { eksErrors } from "../../protocol/generated/errors/eks.js";
import type { AccessEntry, Operations } from "../../protocol/generated/types/eks.js";
import type { Provider } from "../../protocol/service.js";
import { type EksAccessEntryRecord, type EksClusterRecord, accessEntryKey } from "../../store/schema/eks.js";
import { type EksContext, invalidParameter, invalidRequest, namePage, resourceInUse } from "./context.js";
import { checkTagMap } from "./tags.js";
import {
  ACCESS_ENTRY_TYPES,
  type ParsedPrincipal,
  checkAccessScope,
  checkKubernetesGroups,
  checkUsername,
  defaultUsername,
  parsePrincipalArn,
} from "./validate.js";

export const CLUSTER_ADMIN_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";

const entryNotFound = (clusterName: string, principalArn: string) =>
  eksErrors.ResourceNotFoundException(
    `The specified principalArn could not be found: ${principalArn}. You can view your available access entries with 'list-access-entries'.`,
    { clusterName },
  );

function entryArn(scope: Scope, cluster: string, p: ParsedPrincipal) {
  return arn("eks", scope, `access-entry/${cluster}/${p.kind}/${p.account}/${p.name}/${uuid()}`);
}

/** An access entry for a principal (defaults applied). PURE but for the id and clock. */
function newEntry(
  eks: EksContext,
  scope: Scope,
  cluster: string,
  principalArn: string,
  p: ParsedPrincipal,
  init: { type: string; username?: string; kubernetesGroups?: string[]; tags?: Record<string, string> },
): EksAccessEntryRecord {
  const now = eks.clock.now();
  return {
    clusterName: cluster,
    principalArn,
    accessEntryArn: entryArn(scope, cluster, p),
    kubernetesGroups: init.kubernetesGroups ?? [],
    username: init.username ?? defaultUsername(init.type, p, principalArn),
    type: init.type,
    createdAt: now,
    modifiedAt: now,
    tags: init.tags ?? {},
    policies: [],
  };
}

/** The creator's admin entry a new cluster gets (bootstrapClusterCreatorAdminPermissions, not in CONFIG_MAP mode). */
export function bootstrapCreatorEntry(
  eks: EksContext,
  scope: Scope,
  c: EksClusterRecord,
): EksAccessEntryRecord | undefined {
  if (!c.accessConfig.bootstrapClusterCreatorAdminPermissions || c.accessConfig.authenticationMode === "CONFIG_MAP")
    return undefined;
  const principalArn = c.creatorArn;
  const p = principalArn ? parsePrincipalArn(principalArn) : undefined;
  if (!principalArn || !p) return undefined;
  const entry = newEntry(eks, scope, c.name, principalArn, p, { type: "STANDARD" });
  const now = eks.clock.now();
  entry.policies = [
    {
      policyArn: CLUSTER_ADMIN_POLICY,
      accessScope: { type: "cluster", namespaces: [] },
      associatedAt: now,
      modifiedAt: now,
    },
  ];
  return entry;
}

const view = (e: EksAccessEntryRecord): AccessEntry => ({
  clusterName: e.clusterName,
  principalArn: e.principalArn,
  kubernetesGroups: e.kubernetesGroups,
  accessEntryArn: e.accessEntryArn,
  createdAt: e.createdAt,
  modifiedAt: e.modifiedAt,
  tags: e.tags,
  username: e.username,
  type: e.type,
});

/** Access entries and their access policy associations. */
export function accessEntryOperations(eks: EksContext): Provider<Operations> {
  const { accessEntries } = eks.records;

  /** The cluster, when its authentication mode uses access entries. */
  const clusterWithEntries = async (scope: Scope, name: string) => {
    const c = await eks.requireCluster(scope, name);
    if (c.accessConfig.authenticationMode === "CONFIG_MAP")
      throw invalidRequest(
        "The cluster's authentication mode must be set to one of [API, API_AND_CONFIG_MAP] to perform this operation.",
        name,
      );
    return c;
  };
  const requireEntry = async (scope: Scope, cluster: string, principalArn: string) => {
    await clusterWithEntries(scope, cluster);
    const e = accessEntries.get(scope, accessEntryKey(cluster, principalArn));
    if (!e) throw entryNotFound(cluster, principalArn);
    return e;
  };

  return {
    CreateAccessEntry: async (input, ctx) => {
      const c = await clusterWithEntries(ctx, input.clusterName);
      const p = parsePrincipalArn(input.principalArn);
      if (!p || p.kind === "root")
        throw invalidParameter(
          `The specified principalArn is invalid: ${input.principalArn} is not an IAM user or role ARN.`,
          c.name,
        );
      const type = input.type ?? "STANDARD";
      if (!(ACCESS_ENTRY_TYPES as readonly string[]).includes(type))
        throw invalidParameter(
          `The access entry type ${type} is invalid; use ${ACCESS_ENTRY_TYPES.join(", ")}.`,
          c.name,
        );
      if (type !== "STANDARD") {
        if (p.kind !== "role")
          throw invalidParameter(`Access entries of type ${type} need an IAM role principal.`, c.name);
        if (input.username !== undefined || input.kubernetesGroups?.length)
          throw invalidParameter(
            `username and kubernetesGroups cannot be specified for access entries of type ${type}.`,
            c.name,
          );
      }
      if (input.username !== undefined) {
        const err = checkUsername(input.username);
        if (err) throw invalidParameter(err, c.name);
      }
      const groups = [...new Set(input.kubernetesGroups ?? [])];
      const groupErr = checkKubernetesGroups(groups);
      if (groupErr) throw invalidParameter(groupErr, c.name);
      if (input.tags) checkTagMap(input.tags);
      const key = accessEntryKey(c.name, input.principalArn);
      if (accessEntries.get(ctx, key))
        throw resourceInUse("The specified access entry resource is already in use on this cluster.", c.name);
      const entry = newEntry(eks, ctx, c.name, input.principalArn, p, {
        type,
        username: input.username,
        kubernetesGroups: groups,
        tags: input.tags,
      });
      accessEntries.put(ctx, entry);
      return { accessEntry: view(entry) };
    },

    DescribeAccessEntry: async (input, ctx) => ({
      accessEntry: view(await requireEntry(ctx, input.clusterName, input.principalArn)),
    }),

    ListAccessEntries: async (input, ctx) => {
      await clusterWithEntries(ctx, input.clusterName);
      let list = accessEntries.children(ctx, input.clusterName);
      if (input.associatedPolicyArn) {
        if (!ACCESS_POLICIES.some((p) => p.arn === input.associatedPolicyArn))
          throw invalidParameter(`The specified policyArn is invalid: ${input.associatedPolicyArn}`, input.clusterName);
        list = list.filter((e) => e.policies.some((p) => p.policyArn === input.associatedPolicyArn));
      }
      const { page, nextToken } = namePage(
        list.map((e) => e.principalArn),
        input.nextToken,
        input.maxResults,
      );
      return { accessEntries: page, ...(nextToken ? { nextToken } : {}) };
    },

    UpdateAccessEntry: async (input, ctx) => {
      const e = await requireEntry(ctx, input.clusterName, input.principalArn);
      if (e.type !== "STANDARD" && (input.username !== undefined || input.kubernetesGroups !== undefined))
        throw invalidParameter(
          `username and kubernetesGroups cannot be updated for access entries of type ${e.type}.`,
          e.clusterName,
        );
      if (input.username !== undefined) {
        const err = checkUsername(input.username);
        if (err) throw invalidParameter(err, e.clusterName);
      }
      const groups = input.kubernetesGroups ? [...new Set(input.kubernetesGroups)] : e.kubernetesGroups;
      const groupErr = checkKubernetesGroups(groups);
      if (groupErr) throw invalidParameter(groupErr, e.clusterName);
      const updated: EksAccessEntryRecord = {
        ...e,
        kubernetesGroups: groups,
        username: input.username ?? e.username,
        modifiedAt: eks.clock.now(),
      };
      accessEntries.put(ctx, updated);
      return { accessEntry: view(updated) };
    },

    DeleteAccessEntry: async (input, ctx) => {
      const e = await requireEntry(ctx, input.clusterName, input.principalArn);
      accessEntries.delete(ctx, accessEntryKey(e.clusterName, e.principalArn));
      return {};
    },

    AssociateAccessPolicy: async (input, ctx) => {
      const e = await requireEntry(ctx, input.clusterName, input.principalArn);
      if (!ACCESS_POLICIES.some((p) => p.arn === input.policyArn))
        throw eksErrors.ResourceNotFoundException(`The specified policyArn could not be found: ${input.policyArn}`, {
          clusterName: e.clusterName,
        });
      if (e.type !== "STANDARD")
        throw invalidRequest(
          `Access policies can only be associated with access entries of type STANDARD; this one is ${e.type}.`,
          e.clusterName,
        );
      const scopeErr = checkAccessScope(input.accessScope);
      if (scopeErr) throw invalidParameter(scopeErr, e.clusterName);
      const now = eks.clock.now();
      const prior = e.policies.find((p) => p.policyArn === input.policyArn);
      const association = {
        policyArn: input.policyArn,
        accessScope: { type: input.accessScope.type, namespaces: input.accessScope.namespaces ?? [] },
        associatedAt: prior?.associatedAt ?? now,
        modifiedAt: now,
      };
      accessEntries.put(ctx, {
        ...e,
        policies: [...e.policies.filter((p) => p.policyArn !== input.policyArn), association],
        modifiedAt: now,
      });
      return { clusterName: e.clusterName, principalArn: e.principalArn, associatedAccessPolicy: association };
    },

    DisassociateAccessPolicy: async (input, ctx) => {
      const e = await requireEntry(ctx, input.clusterName, input.principalArn);
      if (!e.policies.some((p) => p.policyArn === input.policyArn))
        throw eksErrors.ResourceNotFoundException(
          `The specified policyArn ${input.policyArn} is not associated with ${e.principalArn}.`,
          { clusterName: e.clusterName },
        );
      accessEntries.put(ctx, {
        ...e,
        policies: e.policies.filter((p) => p.policyArn !== input.policyArn),
        modifiedAt: eks.clock.now(),
      });
      return {};
    },

    ListAssociatedAccessPolicies: async (input, ctx) => {
      const e = await requireEntry(ctx, input.clusterName, input.principalArn);
      const byArn = new Map(e.policies.map((p) => [p.policyArn!, p]));
      const { page, nextToken } = namePage([...byArn.keys()], input.nextToken, input.maxResults);
      return {
        clusterName: e.clusterName,
        principalArn: e.principalArn,
        associatedAccessPolicies: page.map((a) => byArn.get(a)!),
        ...(nextToken ? { nextToken } : {}),
      };
    },

    ListAccessPolicies: (input) => {
      const byArn = new Map(ACCESS_POLICIES.map((p) => [p.arn, p]));
      const { page, nextToken } = namePage([...byArn.keys()], input.nextToken, input.maxResults);
      return {
        accessPolicies: page.map((a) => ({ name: byArn.get(a)!.name, arn: a })),
        ...(nextToken ? { nextToken } : {}),
      };
    },
  };
}
