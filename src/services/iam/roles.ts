import { newUniqueId } from "../../iam/keys.js";
import { type RoleRecord, iamScope, roleArn } from "../../iam/store.js";
import type { Operations, Role } from "../../protocol/generated/types/iam.js";
import type { Provider } from "../../protocol/service.js";
import {
  type IamContext,
  byName,
  checkName,
  checkNewTags,
  checkPath,
  checkPolicyDocument,
  deleteConflict,
  alreadyExists,
  encodeDocument,
  mergeTags,
  noSuchEntity,
  page,
  removeTags,
  validationError,
} from "./common.js";
import { holderPolicies, requirePolicy } from "./policy-holders.js";

const TRUST_QUOTA = { name: "ACLSizePerRole", size: 2048 };

export function roleView(r: RoleRecord, full = true): Role {
  return {
    Path: r.Path,
    RoleName: r.RoleName,
    RoleId: r.RoleId,
    Arn: r.Arn,
    CreateDate: r.CreateDate,
    AssumeRolePolicyDocument: encodeDocument(r.AssumeRolePolicyDocument),
    Description: r.Description,
    MaxSessionDuration: r.MaxSessionDuration,
    PermissionsBoundary:
      full && r.permissionsBoundary
        ? { PermissionsBoundaryType: "PermissionsBoundaryPolicy", PermissionsBoundaryArn: r.permissionsBoundary }
        : undefined,
    Tags: full && r.Tags.length ? r.Tags : undefined,
    RoleLastUsed: full
      ? r.RoleLastUsedDate
        ? { LastUsedDate: r.RoleLastUsedDate, Region: r.RoleLastUsedRegion }
        : {}
      : undefined,
  };
}

export function requireRole(c: IamContext, account: string, name: string): RoleRecord {
  const r = c.iam.role(account, name);
  if (!r) throw noSuchEntity(`The role with name ${name} cannot be found.`);
  return r;
}

function checkDuration(value: number | undefined): number {
  const d = value ?? 3600;
  if (!Number.isInteger(d) || d < 3600 || d > 43200)
    throw validationError(
      `1 validation error detected: Value '${d}' at 'maxSessionDuration' failed to satisfy constraint: Member must have value less than or equal to 43200`,
    );
  return d;
}

export function roleOperations(c: IamContext): Provider<Operations> {
  const save = (account: string, r: RoleRecord) => c.iam.roles.put(iamScope(account), r);
  const policies = holderPolicies(c, {
    kind: "role",
    find: (account, name) => requireRole(c, account, name),
    nameOf: (r) => r.RoleName,
    save,
    inlineQuota: 10240,
    attachQuota: { quotaName: "PoliciesPerRole", quota: 20 },
  });
  return {
    CreateRole: (input, ctx) => {
      const name = checkName(input.RoleName, "roleName");
      const path = checkPath(input.Path);
      const doc = checkPolicyDocument(input.AssumeRolePolicyDocument, "trust", TRUST_QUOTA);
      const tags = checkNewTags(input.Tags);
      if (input.PermissionsBoundary) requirePolicy(c, input.PermissionsBoundary);
      if (input.Description !== undefined && input.Description.length > 1000)
        throw validationError("Description must be at most 1000 characters.");
      return c.iam.store.transaction(() => {
        if (c.iam.role(ctx.account, name)) throw alreadyExists(`Role with name ${name} already exists.`);
        const r: RoleRecord = {
          RoleName: name,
          RoleId: newUniqueId("AROA"),
          Arn: roleArn(ctx.account, path, name),
          Path: path,
          CreateDate: c.clock.now(),
          AssumeRolePolicyDocument: doc,
          Description: input.Description,
          MaxSessionDuration: checkDuration(input.MaxSessionDuration),
          Tags: tags,
          attached: [],
          inline: {},
          permissionsBoundary: input.PermissionsBoundary,
        };
        save(ctx.account, r);
        return { Role: roleView(r) };
      });
    },
    GetRole: (input, ctx) => ({ Role: roleView(requireRole(c, ctx.account, input.RoleName)) }),
    ListRoles: (input, ctx) => {
      const prefix = input.PathPrefix ?? "/";
      const all = c.iam.roles
        .list(iamScope(ctx.account))
        .filter((r) => r.Path.startsWith(prefix))
        .sort(byName((r) => r.RoleName));
      const p = page(all, input.Marker, input.MaxItems);
      return { Roles: p.items.map((r) => roleView(r, false)), IsTruncated: p.IsTruncated, Marker: p.Marker };
    },
    UpdateRole: (input, ctx) => {
      const r = requireRole(c, ctx.account, input.RoleName);
      save(ctx.account, {
        ...r,
        Description: input.Description ?? r.Description,
        MaxSessionDuration:
          input.MaxSessionDuration !== undefined ? checkDuration(input.MaxSessionDuration) : r.MaxSessionDuration,
      });
      return {};
    },
    UpdateRoleDescription: (input, ctx) => {
      const r = requireRole(c, ctx.account, input.RoleName);
      const next = save(ctx.account, { ...r, Description: input.Description });
      return { Role: roleView(next) };
    },
    UpdateAssumeRolePolicy: (input, ctx) => {
      const doc = checkPolicyDocument(input.PolicyDocument, "trust", TRUST_QUOTA);
      const r = requireRole(c, ctx.account, input.RoleName);
      save(ctx.account, { ...r, AssumeRolePolicyDocument: doc });
      return {};
    },
    DeleteRole: (input, ctx) =>
      c.iam.store.transaction(() => {
        const r = requireRole(c, ctx.account, input.RoleName);
        if (r.attached.length) throw deleteConflict("Cannot delete entity, must detach all policies first.");
        if (Object.keys(r.inline).length) throw deleteConflict("Cannot delete entity, must delete policies first.");
        const inProfile = c.iam.instanceProfiles
          .list(iamScope(ctx.account))
          .some((p) => p.roles.includes(r.RoleName.toLowerCase()));
        if (inProfile) throw deleteConflict("Cannot delete entity, must remove roles from instance profile first.");
        c.iam.roles.delete(iamScope(ctx.account), r.RoleName.toLowerCase());
        return {};
      }),
    TagRole: (input, ctx) => {
      const r = requireRole(c, ctx.account, input.RoleName);
      save(ctx.account, { ...r, Tags: mergeTags(r.Tags, input.Tags) });
      return {};
    },
    UntagRole: (input, ctx) => {
      const r = requireRole(c, ctx.account, input.RoleName);
      save(ctx.account, { ...r, Tags: removeTags(r.Tags, input.TagKeys) });
      return {};
    },
    ListRoleTags: (input, ctx) => {
      const r = requireRole(c, ctx.account, input.RoleName);
      const p = page(r.Tags, input.Marker, input.MaxItems);
      return { Tags: p.items, IsTruncated: p.IsTruncated, Marker: p.Marker };
    },
    PutRolePermissionsBoundary: (input, ctx) => {
      requirePolicy(c, input.PermissionsBoundary);
      const r = requireRole(c, ctx.account, input.RoleName);
      save(ctx.account, { ...r, permissionsBoundary: input.PermissionsBoundary });
      return {};
    },
    DeleteRolePermissionsBoundary: (input, ctx) => {
      const r = requireRole(c, ctx.account, input.RoleName);
      if (!r.permissionsBoundary) throw noSuchEntity(`The role with name ${r.RoleName} has no permissions boundary.`);
      save(ctx.account, { ...r, permissionsBoundary: undefined });
      return {};
    },
    PutRolePolicy: (input, ctx) => {
      policies.put(ctx.account, input.RoleName, input.PolicyName, input.PolicyDocument);
      return {};
    },
    GetRolePolicy: (input, ctx) => {
      const { holder, ...doc } = policies.get(ctx.account, input.RoleName, input.PolicyName);
      return { RoleName: holder, ...doc };
    },
    ListRolePolicies: (input, ctx) => policies.list(ctx.account, input.RoleName, input.Marker, input.MaxItems),
    DeleteRolePolicy: (input, ctx) => {
      policies.remove(ctx.account, input.RoleName, input.PolicyName);
      return {};
    },
    AttachRolePolicy: (input, ctx) => {
      policies.attach(ctx.account, input.RoleName, input.PolicyArn);
      return {};
    },
    DetachRolePolicy: (input, ctx) => {
      policies.detach(ctx.account, input.RoleName, input.PolicyArn);
      return {};
    },
    ListAttachedRolePolicies: (input, ctx) => policies.listAttached(ctx.account, input.RoleName, input),
  };
}
