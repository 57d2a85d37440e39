import { newUniqueId } from "../../iam/keys.js";
import { type InstanceProfileRecord, type RoleRecord, iamScope, instanceProfileArn } from "../../iam/store.js";
import type { InstanceProfile, Operations } from "../../protocol/generated/types/iam.js";
import type { Provider } from "../../protocol/service.js";
import {
  type IamContext,
  alreadyExists,
  byName,
  checkName,
  checkNewTags,
  checkPath,
  deleteConflict,
  limitExceeded,
  mergeTags,
  noSuchEntity,
  page,
  removeTags,
} from "./common.js";
import { requireRole, roleView } from "./roles.js";

/** Instance profiles: the EC2 launch type's container instances carry one (a role for the host). */
export function instanceProfileOperations(c: IamContext): Provider<Operations> {
  const save = (account: string, p: InstanceProfileRecord) => c.iam.instanceProfiles.put(iamScope(account), p);
  const view = (account: string, p: InstanceProfileRecord, tags = true): InstanceProfile => ({
    Path: p.Path,
    InstanceProfileName: p.InstanceProfileName,
    InstanceProfileId: p.InstanceProfileId,
    Arn: p.Arn,
    CreateDate: p.CreateDate,
    Roles: p.roles
      .map((r) => c.iam.role(account, r))
      .filter((r): r is RoleRecord => !!r)
      .map((r) => roleView(r, false)),
    Tags: tags && p.Tags.length ? p.Tags : undefined,
  });
  const requireProfile = (account: string, name: string) => {
    const p = c.iam.instanceProfile(account, name);
    if (!p) throw noSuchEntity(`Instance Profile ${name} cannot be found.`);
    return p;
  };
  return {
    CreateInstanceProfile: (input, ctx) => {
      const name = checkName(input.InstanceProfileName, "instanceProfileName");
      const path = checkPath(input.Path);
      const tags = checkNewTags(input.Tags);
      return c.iam.store.transaction(() => {
        if (c.iam.instanceProfile(ctx.account, name)) throw alreadyExists(`Instance Profile ${name} already exists.`);
        const p: InstanceProfileRecord = {
          InstanceProfileName: name,
          InstanceProfileId: newUniqueId("AIPA"),
          Arn: instanceProfileArn(ctx.account, path, name),
          Path: path,
          CreateDate: c.clock.now(),
          roles: [],
          Tags: tags,
        };
        save(ctx.account, p);
        return { InstanceProfile: view(ctx.account, p) };
      });
    },
    GetInstanceProfile: (input, ctx) => ({
      InstanceProfile: view(ctx.account, requireProfile(ctx.account, input.InstanceProfileName)),
    }),
    ListInstanceProfiles: (input, ctx) => {
      const prefix = input.PathPrefix ?? "/";
      const all = c.iam.instanceProfiles
        .list(iamScope(ctx.account))
        .filter((p) => p.Path.startsWith(prefix))
        .sort(byName((p) => p.InstanceProfileName));
      const pg = page(all, input.Marker, input.MaxItems);
      return {
        InstanceProfiles: pg.items.map((p) => view(ctx.account, p, false)),
        IsTruncated: pg.IsTruncated,
        Marker: pg.Marker,
      };
    },
    DeleteInstanceProfile: (input, ctx) => {
      const p = requireProfile(ctx.account, input.InstanceProfileName);
      if (p.roles.length) throw deleteConflict("Cannot delete entity, must remove roles from instance profile first.");
      c.iam.instanceProfiles.delete(iamScope(ctx.account), p.InstanceProfileName.toLowerCase());
      return {};
    },
    AddRoleToInstanceProfile: (input, ctx) =>
      c.iam.store.transaction(() => {
        const p = requireProfile(ctx.account, input.InstanceProfileName);
        const r = requireRole(c, ctx.account, input.RoleName);
        if (p.roles.length >= 1) throw limitExceeded("Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1");
        save(ctx.account, { ...p, roles: [r.RoleName.toLowerCase()] });
        return {};
      }),
    RemoveRoleFromInstanceProfile: (input, ctx) => {
      const p = requireProfile(ctx.account, input.InstanceProfileName);
      const r = requireRole(c, ctx.account, input.RoleName);
      const key = r.RoleName.toLowerCase();
      if (!p.roles.includes(key))
        throw noSuchEntity(`The role with name ${r.RoleName} is not in instance profile ${p.InstanceProfileName}.`);
      save(ctx.account, { ...p, roles: p.roles.filter((x) => x !== key) });
      return {};
    },
    ListInstanceProfilesForRole: (input, ctx) => {
      const r = requireRole(c, ctx.account, input.RoleName);
      const key = r.RoleName.toLowerCase();
      const all = c.iam.instanceProfiles
        .list(iamScope(ctx.account))
        .filter((p) => p.roles.includes(key))
        .sort(byName((p) => p.InstanceProfileName));
      const pg = page(all, input.Marker, input.MaxItems);
      return {
        InstanceProfiles: pg.items.map((p) => view(ctx.account, p, false)),
        IsTruncated: pg.IsTruncated,
        Marker: pg.Marker,
      };
    },
    TagInstanceProfile: (input, ctx) => {
      const p = requireProfile(ctx.account, input.InstanceProfileName);
      save(ctx.account, { ...p, Tags: mergeTags(p.Tags, input.Tags) });
      return {};
    },
    UntagInstanceProfile: (input, ctx) => {
      const p = requireProfile(ctx.account, input.InstanceProfileName);
      save(ctx.account, { ...p, Tags: removeTags(p.Tags, input.TagKeys) });
      return {};
    },
    ListInstanceProfileTags: (input, ctx) => {
      const p = requireProfile(ctx.account, input.InstanceProfileName);
      const pg = page(p.Tags, input.Marker, input.MaxItems);
      return { Tags: pg.items, IsTruncated: pg.IsTruncated, Marker: pg.Marker };
    },
  };
}
