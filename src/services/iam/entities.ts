import type { Operations, Tag } from "../../protocol/generated/types/iam.js";
import type { Provider, RequestContext } from "../../protocol/service.js";
import { type IamContext, byName, mergeTags, page, removeTags } from "./common.js";
import { requirePolicy } from "./policy-holders.js";

/**
 * What IAM's entity kinds (roles, users, groups, instance profiles, policies) share: listing by
 * path prefix in name order, and the Tag/Untag/List…Tags operations. The operations are built
 * from the kind's name, as IAM names them (TagRole, UntagRole, ListRoleTags, …).
 */

type Input = Record<string, unknown>;
type Handler = (input: never, ctx: RequestContext) => unknown;

/** One page of `records` under `PathPrefix` (default "/"), sorted by name as IAM sorts (case-insensitive). */
export function pageByPath<T extends { Path: string }>(
  records: T[],
  nameOf: (r: T) => string,
  input: { PathPrefix?: string; Marker?: string; MaxItems?: number },
) {
  const prefix = input.PathPrefix ?? "/";
  const found = records.filter((r) => r.Path.startsWith(prefix)).sort(byName(nameOf));
  return page(found, input.Marker, input.MaxItems);
}

/** How a taggable entity kind is named in requests, found and saved. */
export interface TaggedKind<R extends { Tags: Tag[] }> {
  /** The operations' infix: "Role" → TagRole, UntagRole, ListRoleTags. */
  kind: "Role" | "User" | "InstanceProfile" | "Policy" | "ServerCertificate";
  /** The input member that names the entity (RoleName, …, PolicyArn). */
  member: string;
  /** The entity to tag or untag; NoSuchEntity otherwise. */
  find(account: string, id: string): R;
  /** The entity whose tags are listed, when another lookup applies (AWS managed policies list, not tag). */
  findForList?(account: string, id: string): { Tags: Tag[] };
  save(account: string, r: R): void;
}

/** Tag<Kind>, Untag<Kind>, List<Kind>Tags for one entity kind. */
export function tagOperations<R extends { Tags: Tag[] }>(k: TaggedKind<R>): Provider<Operations> {
  const id = (input: Input) => input[k.member] as string;
  const handlers: Record<string, Handler> = {
    [`Tag${k.kind}`]: (input: Input & { Tags: Tag[] }, ctx: RequestContext) => {
      const r = k.find(ctx.account, id(input));
      k.save(ctx.account, { ...r, Tags: mergeTags(r.Tags, input.Tags) });
      return {};
    },
    [`Untag${k.kind}`]: (input: Input & { TagKeys: string[] }, ctx: RequestContext) => {
      const r = k.find(ctx.account, id(input));
      k.save(ctx.account, { ...r, Tags: removeTags(r.Tags, input.TagKeys) });
      return {};
    },
    [`List${k.kind}Tags`]: (input: Input & { Marker?: string; MaxItems?: number }, ctx: RequestContext) => {
      const r = (k.findForList ?? k.find)(ctx.account, id(input));
      const p = page(r.Tags, input.Marker, input.MaxItems);
      return { Tags: p.items, IsTruncated: p.IsTruncated, Marker: p.Marker };
    },
  };
  return handlers as Provider<Operations>;
}

/** How a kind that can carry a permissions boundary (roles, users) is named, found and saved. */
export interface BoundedKind<R extends { permissionsBoundary?: string }> {
  kind: "Role" | "User";
  member: string;
  find(account: string, id: string): R;
  save(account: string, r: R): void;
  /** The error for deleting a boundary the entity does not have (roles); without one, it is a no-op. */
  noBoundary?: (r: R) => Error;
}

/** Put<Kind>PermissionsBoundary, Delete<Kind>PermissionsBoundary. */
export function boundaryOperations<R extends { permissionsBoundary?: string }>(
  c: IamContext,
  k: BoundedKind<R>,
): Provider<Operations> {
  const id = (input: Input) => input[k.member] as string;
  const handlers: Record<string, Handler> = {
    [`Put${k.kind}PermissionsBoundary`]: (input: Input & { PermissionsBoundary: string }, ctx: RequestContext) => {
      requirePolicy(c, input.PermissionsBoundary);
      const r = k.find(ctx.account, id(input));
      k.save(ctx.account, { ...r, permissionsBoundary: input.PermissionsBoundary });
      return {};
    },
    [`Delete${k.kind}PermissionsBoundary`]: (input: Input, ctx: RequestContext) => {
      const r = k.find(ctx.account, id(input));
      if (!r.permissionsBoundary && k.noBoundary) throw k.noBoundary(r);
      k.save(ctx.account, { ...r, permissionsBoundary: undefined });
      return {};
    },
  };
  return handlers as Provider<Operations>;
}
