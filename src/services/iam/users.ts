import { callerOf } from "../../iam/identity.js";
import { newUniqueId } from "../../iam/keys.js";
import { type GroupRecord, type UserRecord, groupArn, iamScope, userArn } from "../../iam/store.js";
import type { Group, Operations, User } from "../../protocol/generated/types/iam.js";
import type { Provider, RequestContext } from "../../protocol/service.js";
import {
  type IamContext,
  alreadyExists,
  byName,
  checkName,
  checkNewTags,
  checkPath,
  deleteConflict,
  limitExceeded,
  noSuchEntity,
  page,
  validationError,
} from "./common.js";
import { hasSigningCertificates } from "./certificates.js";
import { boundaryOperations, pageByPath, tagOperations } from "./entities.js";
import { checkHoldsNoPolicies, holderPolicyOperations, requirePolicy } from "./policy-holders.js";

export const userView = (u: UserRecord, full = true): User => ({
  Path: u.Path,
  UserName: u.UserName,
  UserId: u.UserId,
  Arn: u.Arn,
  CreateDate: u.CreateDate,
  PermissionsBoundary:
    full && u.permissionsBoundary
      ? { PermissionsBoundaryType: "PermissionsBoundaryPolicy", PermissionsBoundaryArn: u.permissionsBoundary }
      : undefined,
  Tags: full && u.Tags.length ? u.Tags : undefined,
});

const groupView = (g: GroupRecord): Group => ({
  Path: g.Path,
  GroupName: g.GroupName,
  GroupId: g.GroupId,
  Arn: g.Arn,
  CreateDate: g.CreateDate,
});

export function requireUser(c: IamContext, account: string, name: string): UserRecord {
  const u = c.iam.user(account, name);
  if (!u) throw noSuchEntity(`The user with name ${name} cannot be found.`);
  return u;
}

function requireGroup(c: IamContext, account: string, name: string): GroupRecord {
  const g = c.iam.group(account, name);
  if (!g) throw noSuchEntity(`The group with name ${name} cannot be found.`);
  return g;
}

/** The user an access-key call is about: the one named, else the calling user. */
function subjectUser(c: IamContext, ctx: RequestContext, name: string | undefined): UserRecord {
  if (name) return requireUser(c, ctx.account, name);
  const caller = callerOf(ctx);
  if (caller.kind === "user" && caller.userName) return requireUser(c, ctx.account, caller.userName);
  throw validationError("Must specify userName when calling with non-User credentials");
}

export function userOperations(c: IamContext): Provider<Operations> {
  const scope = (account: string) => iamScope(account);
  const save = (account: string, u: UserRecord) => c.iam.users.put(scope(account), u);
  const saveGroup = (account: string, g: GroupRecord) => c.iam.groups.put(scope(account), g);
  const userPolicies = holderPolicyOperations(c, "User", {
    kind: "user",
    find: (account, name) => requireUser(c, account, name),
    nameOf: (u) => u.UserName,
    save,
    inlineQuota: 2048,
    attachQuota: { quotaName: "PoliciesPerUser", quota: 20 },
  });
  const groupPolicies = holderPolicyOperations(c, "Group", {
    kind: "group",
    find: (account, name) => requireGroup(c, account, name),
    nameOf: (g) => g.GroupName,
    save: saveGroup,
    inlineQuota: 5120,
    attachQuota: { quotaName: "PoliciesPerGroup", quota: 10 },
  });
  const groupsOf = (account: string, u: UserRecord) =>
    c.iam.groups.list(scope(account)).filter((g) => g.members.includes(u.UserName.toLowerCase()));

  return {
    ...userPolicies,
    ...groupPolicies,
    ...tagOperations({ kind: "User", member: "UserName", find: (a, n) => requireUser(c, a, n), save }),
    ...boundaryOperations(c, { kind: "User", member: "UserName", find: (a, n) => requireUser(c, a, n), save }),
    CreateUser: (input, ctx) => {
      const name = checkName(input.UserName, "userName");
      const path = checkPath(input.Path);
      const tags = checkNewTags(input.Tags);
      if (input.PermissionsBoundary) requirePolicy(c, input.PermissionsBoundary);
      return c.iam.store.transaction(() => {
        if (c.iam.user(ctx.account, name)) throw alreadyExists(`User with name ${name} already exists.`);
        const u: UserRecord = {
          UserName: name,
          UserId: newUniqueId("AIDA"),
          Arn: userArn(ctx.account, path, name),
          Path: path,
          CreateDate: c.clock.now(),
          Tags: tags,
          attached: [],
          inline: {},
          permissionsBoundary: input.PermissionsBoundary,
        };
        save(ctx.account, u);
        return { User: userView(u) };
      });
    },
    GetUser: (input, ctx) => {
      if (input.UserName) return { User: userView(requireUser(c, ctx.account, input.UserName)) };
      const caller = callerOf(ctx);
      if (caller.kind === "user" && caller.userName)
        return { User: userView(requireUser(c, ctx.account, caller.userName)) };
      if (caller.kind === "root")
        return {
          User: { Path: "/", UserName: "", UserId: caller.account, Arn: caller.arn, CreateDate: new Date(0) },
        };
      throw validationError("Must specify userName when calling with non-User credentials");
    },
    ListUsers: (input, ctx) => {
      const p = pageByPath(c.iam.users.list(scope(ctx.account)), (u) => u.UserName, input);
      return { Users: p.items.map((u) => userView(u, false)), IsTruncated: p.IsTruncated, Marker: p.Marker };
    },
    UpdateUser: (input, ctx) =>
      c.iam.store.transaction(() => {
        const u = requireUser(c, ctx.account, input.UserName);
        const name = input.NewUserName ? checkName(input.NewUserName, "newUserName") : u.UserName;
        const path = input.NewPath ? checkPath(input.NewPath) : u.Path;
        if (name.toLowerCase() !== u.UserName.toLowerCase()) {
          if (c.iam.user(ctx.account, name)) throw alreadyExists(`User with name ${name} already exists.`);
          c.iam.users.delete(scope(ctx.account), u.UserName.toLowerCase());
          for (const k of c.iam.keysOf(ctx.account, u.UserName)) c.iam.putAccessKey({ ...k, UserName: name });
          for (const g of groupsOf(ctx.account, u))
            saveGroup(ctx.account, {
              ...g,
              members: g.members.map((m) => (m === u.UserName.toLowerCase() ? name.toLowerCase() : m)),
            });
        }
        save(ctx.account, { ...u, UserName: name, Path: path, Arn: userArn(ctx.account, path, name) });
        return {};
      }),
    DeleteUser: (input, ctx) =>
      c.iam.store.transaction(() => {
        const u = requireUser(c, ctx.account, input.UserName);
        if (c.iam.keysOf(ctx.account, u.UserName).length)
          throw deleteConflict("Cannot delete entity, must delete access keys first.");
        if (hasSigningCertificates(c, ctx.account, u.UserName))
          throw deleteConflict("Cannot delete entity, must delete signing certificates first.");
        checkHoldsNoPolicies(u);
        if (groupsOf(ctx.account, u).length)
          throw deleteConflict("Cannot delete entity, must remove users from group first.");
        c.iam.users.delete(scope(ctx.account), u.UserName.toLowerCase());
        return {};
      }),
    // ---- access keys ----
    CreateAccessKey: (input, ctx) =>
      c.iam.store.transaction(() => {
        const u = subjectUser(c, ctx, input.UserName);
        if (c.iam.keysOf(ctx.account, u.UserName).length >= 2)
          throw limitExceeded("Cannot exceed quota for AccessKeysPerUser: 2");
        const key = c.credentials.newAccessKey();
        const created = c.clock.now();
        c.iam.putAccessKey({
          AccessKeyId: key.AccessKeyId,
          account: ctx.account,
          UserName: u.UserName,
          Status: "Active",
          CreateDate: created,
          sealedSecret: key.sealedSecret,
        });
        return {
          AccessKey: {
            UserName: u.UserName,
            AccessKeyId: key.AccessKeyId,
            Status: "Active",
            SecretAccessKey: key.SecretAccessKey,
            CreateDate: created,
          },
        };
      }),
    ListAccessKeys: (input, ctx) => {
      const u = subjectUser(c, ctx, input.UserName);
      const keys = c.iam
        .keysOf(ctx.account, u.UserName)
        .sort((a, b) => a.CreateDate.getTime() - b.CreateDate.getTime())
        .map((k) => ({ UserName: u.UserName, AccessKeyId: k.AccessKeyId, Status: k.Status, CreateDate: k.CreateDate }));
      const p = page(keys, input.Marker, input.MaxItems);
      return { AccessKeyMetadata: p.items, IsTruncated: p.IsTruncated, Marker: p.Marker };
    },
    UpdateAccessKey: (input, ctx) => {
      const u = subjectUser(c, ctx, input.UserName);
      const k = c.iam.accessKey(input.AccessKeyId);
      if (!k || k.account !== ctx.account || k.UserName.toLowerCase() !== u.UserName.toLowerCase())
        throw noSuchEntity(`The Access Key with id ${input.AccessKeyId} cannot be found.`);
      if (input.Status !== "Active" && input.Status !== "Inactive")
        throw validationError(
          `1 validation error detected: Value '${input.Status}' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]`,
        );
      c.iam.putAccessKey({ ...k, Status: input.Status });
      return {};
    },
    DeleteAccessKey: (input, ctx) => {
      const u = subjectUser(c, ctx, input.UserName);
      const k = c.iam.accessKey(input.AccessKeyId);
      if (!k || k.account !== ctx.account || k.UserName.toLowerCase() !== u.UserName.toLowerCase())
        throw noSuchEntity(`The Access Key with id ${input.AccessKeyId} cannot be found.`);
      c.iam.deleteAccessKey(k.AccessKeyId);
      return {};
    },
    GetAccessKeyLastUsed: (input, ctx) => {
      const k = c.iam.accessKey(input.AccessKeyId);
      if (!k || k.account !== ctx.account)
        throw noSuchEntity(`The Access Key with id ${input.AccessKeyId} cannot be found.`);
      return {
        UserName: k.UserName,
        AccessKeyLastUsed: k.LastUsedDate
          ? { LastUsedDate: k.LastUsedDate, ServiceName: k.lastUsedService ?? "N/A", Region: k.lastUsedRegion ?? "N/A" }
          : { ServiceName: "N/A", Region: "N/A" },
      };
    },

    // ---- groups ----
    CreateGroup: (input, ctx) => {
      const name = checkName(input.GroupName, "groupName");
      const path = checkPath(input.Path);
      return c.iam.store.transaction(() => {
        if (c.iam.group(ctx.account, name)) throw alreadyExists(`Group with name ${name} already exists.`);
        const g: GroupRecord = {
          GroupName: name,
          GroupId: newUniqueId("AGPA"),
          Arn: groupArn(ctx.account, path, name),
          Path: path,
          CreateDate: c.clock.now(),
          members: [],
          attached: [],
          inline: {},
        };
        saveGroup(ctx.account, g);
        return { Group: groupView(g) };
      });
    },
    GetGroup: (input, ctx) => {
      const g = requireGroup(c, ctx.account, input.GroupName);
      const users = g.members
        .map((m) => c.iam.user(ctx.account, m))
        .filter((u): u is UserRecord => !!u)
        .sort(byName((u) => u.UserName));
      const p = page(users, input.Marker, input.MaxItems);
      return {
        Group: groupView(g),
        Users: p.items.map((u) => userView(u, false)),
        IsTruncated: p.IsTruncated,
        Marker: p.Marker,
      };
    },
    ListGroups: (input, ctx) => {
      const p = pageByPath(c.iam.groups.list(scope(ctx.account)), (g) => g.GroupName, input);
      return { Groups: p.items.map(groupView), IsTruncated: p.IsTruncated, Marker: p.Marker };
    },
    DeleteGroup: (input, ctx) => {
      const g = requireGroup(c, ctx.account, input.GroupName);
      if (g.members.length) throw deleteConflict("Cannot delete entity, must remove users from group first.");
      checkHoldsNoPolicies(g);
      c.iam.groups.delete(scope(ctx.account), g.GroupName.toLowerCase());
      return {};
    },
    AddUserToGroup: (input, ctx) => {
      const g = requireGroup(c, ctx.account, input.GroupName);
      const u = requireUser(c, ctx.account, input.UserName);
      const m = u.UserName.toLowerCase();
      if (!g.members.includes(m)) saveGroup(ctx.account, { ...g, members: [...g.members, m] });
      return {};
    },
    RemoveUserFromGroup: (input, ctx) => {
      const g = requireGroup(c, ctx.account, input.GroupName);
      const u = requireUser(c, ctx.account, input.UserName);
      const m = u.UserName.toLowerCase();
      if (!g.members.includes(m)) throw noSuchEntity(`User ${u.UserName} is not in group ${g.GroupName}.`);
      saveGroup(ctx.account, { ...g, members: g.members.filter((x) => x !== m) });
      return {};
    },
    ListGroupsForUser: (input, ctx) => {
      const u = requireUser(c, ctx.account, input.UserName);
      const p = page(groupsOf(ctx.account, u).sort(byName((g) => g.GroupName)), input.Marker, input.MaxItems);
      return { Groups: p.items.map(groupView), IsTruncated: p.IsTruncated, Marker: p.Marker };
    },
  };
}
