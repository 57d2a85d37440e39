import { awsManagedPolicy } from "../../iam/managed-policies.js";
import { policySize } from "../../iam/policy.js";
import { iamScope } from "../../iam/store.js";
import type { Operations } from "../../protocol/generated/types/iam.js";
import type { Provider, RequestContext } from "../../protocol/service.js";
import {
  type IamContext,
  checkName,
  checkPolicyDocument,
  deleteConflict,
  encodeDocument,
  invalidInput,
  limitExceeded,
  noSuchEntity,
  page,
} from "./common.js";

/** Roles, users and groups hold policies the same way. */
interface Holder {
  attached: string[];
  inline: Record<string, string>;
}

/** A managed policy (customer or AWS managed) that exists; NoSuchEntity otherwise. */
export function requirePolicy(c: IamContext, arn: string) {
  if (awsManagedPolicy(arn)) return;
  const m = /^arn:aws:iam::(\d{12}):policy\//.exec(arn);
  if (!m || !c.iam.policies.get(iamScope(m[1]), arn))
    throw noSuchEntity(`Policy ${arn} does not exist or is not attachable.`);
}

export function attach<T extends Holder>(c: IamContext, h: T, arn: string, q: { quotaName: string; quota: number }): T {
  requirePolicy(c, arn);
  if (h.attached.includes(arn)) return h;
  if (h.attached.length >= q.quota) throw limitExceeded(`Cannot exceed quota for ${q.quotaName}: ${q.quota}`);
  return { ...h, attached: [...h.attached, arn] };
}

export function detach<T extends Holder>(h: T, arn: string): T {
  if (!h.attached.includes(arn)) throw noSuchEntity(`Policy ${arn} was not found.`);
  return { ...h, attached: h.attached.filter((a) => a !== arn) };
}

/** DeleteConflict unless the holder has no attached and no inline policies (checked in IAM's order). */
export function checkHoldsNoPolicies(h: Holder) {
  if (h.attached.length) throw deleteConflict("Cannot delete entity, must detach all policies first.");
  if (Object.keys(h.inline).length) throw deleteConflict("Cannot delete entity, must delete policies first.");
}

/** Inline policy names are case-insensitive; the first spelling is kept. */
const findInline = (h: Holder, name: string) =>
  Object.keys(h.inline).find((k) => k.toLowerCase() === name.toLowerCase());

export function inlinePut<T extends Holder>(
  h: T,
  name: string,
  text: string,
  who: { kind: "role" | "user" | "group"; name: string; quota: number },
): T {
  checkPolicyDocument(text, "identity", { name: "PolicySize", size: who.quota });
  const key = findInline(h, name) ?? name;
  const inline = { ...h.inline, [key]: text };
  const total = Object.values(inline).reduce((n, t) => n + policySize(t), 0);
  if (total > who.quota)
    throw limitExceeded(`Maximum policy size of ${who.quota} bytes exceeded for ${who.kind} ${who.name}`);
  return { ...h, inline };
}

export function inlineGet(h: Holder, name: string, owner: string): { name: string; text: string } {
  const key = findInline(h, name);
  if (!key) throw noSuchEntity(`The ${owner.split(" ")[0]} policy with name ${name} cannot be found.`);
  return { name: key, text: h.inline[key] };
}

export const inlineList = (h: Holder) => Object.keys(h.inline).sort();

/** The managed policies attached to a holder as ListAttached*Policies returns them. */
export function attachedList(
  arns: string[],
  pathPrefix: string | undefined,
  marker: string | undefined,
  maxItems: number | undefined,
) {
  const list = arns
    .map((arn) => ({
      PolicyArn: arn,
      PolicyName: arn.split("/").pop()!,
      path: arn.replace(/^arn:aws:iam::[^:]*:policy/, ""),
    }))
    .filter((p) => !pathPrefix || p.path.startsWith(pathPrefix))
    .map(({ PolicyArn, PolicyName }) => ({ PolicyArn, PolicyName }));
  if (pathPrefix && !pathPrefix.startsWith("/")) throw invalidInput("PathPrefix must begin with a slash.");
  const p = page(list, marker, maxItems);
  return { AttachedPolicies: p.items, IsTruncated: p.IsTruncated, Marker: p.Marker };
}

/** How one kind of holder (role, user, group) is found, named, saved and limited. */
export interface HolderKind<T extends Holder> {
  kind: "role" | "user" | "group";
  /** The holder by name; NoSuchEntity otherwise. */
  find(account: string, name: string): T;
  nameOf(h: T): string;
  save(account: string, h: T): void;
  /** Total inline policy size (bytes). */
  inlineQuota: number;
  /** Attached managed policies: the quota's name and size. */
  attachQuota: { quotaName: string; quota: number };
}

/**
 * The inline and attached policy operations every holder kind has (Put/Get/List/Delete<Kind>Policy,
 * Attach/Detach/ListAttached<Kind>Policies), once; each provider maps its own member names.
 */
export function holderPolicies<T extends Holder>(c: IamContext, k: HolderKind<T>) {
  return {
    put(account: string, holder: string, policyName: string, document: string) {
      checkName(policyName, "policyName");
      const h = k.find(account, holder);
      k.save(account, inlinePut(h, policyName, document, { kind: k.kind, name: k.nameOf(h), quota: k.inlineQuota }));
    },
    get(account: string, holder: string, policyName: string) {
      const h = k.find(account, holder);
      const doc = inlineGet(h, policyName, `${k.kind} ${k.nameOf(h)}`);
      return { holder: k.nameOf(h), PolicyName: doc.name, PolicyDocument: encodeDocument(doc.text) };
    },
    list(account: string, holder: string, marker: string | undefined, maxItems: number | undefined) {
      const p = page(inlineList(k.find(account, holder)), marker, maxItems);
      return { PolicyNames: p.items, IsTruncated: p.IsTruncated, Marker: p.Marker };
    },
    remove(account: string, holder: string, policyName: string) {
      const h = k.find(account, holder);
      const doc = inlineGet(h, policyName, `${k.kind} ${k.nameOf(h)}`);
      const inline = { ...h.inline };
      delete inline[doc.name];
      k.save(account, { ...h, inline });
    },
    attach(account: string, holder: string, arn: string) {
      k.save(account, attach(c, k.find(account, holder), arn, k.attachQuota));
    },
    detach(account: string, holder: string, arn: string) {
      k.save(account, detach(k.find(account, holder), arn));
    },
    listAttached(account: string, holder: string, input: { PathPrefix?: string; Marker?: string; MaxItems?: number }) {
      return attachedList(k.find(account, holder).attached, input.PathPrefix, input.Marker, input.MaxItems);
    },
  };
}

type HolderInput = Record<string, unknown> & {
  PolicyName: string;
  PolicyDocument: string;
  PolicyArn: string;
  PathPrefix?: string;
  Marker?: string;
  MaxItems?: number;
};
type HolderHandler = (input: HolderInput, ctx: RequestContext) => unknown;

/**
 * The seven policy operations of one holder kind under IAM's names, from the kind's name:
 * "Role" → Put/Get/Delete RolePolicy, ListRolePolicies, Attach/Detach RolePolicy and
 * ListAttachedRolePolicies, the holder named by the input's RoleName.
 */
export function holderPolicyOperations<T extends Holder>(
  c: IamContext,
  name: "Role" | "User" | "Group",
  k: HolderKind<T>,
): Provider<Operations> {
  const p = holderPolicies(c, k);
  const member = `${name}Name`;
  const holder = (input: HolderInput) => input[member] as string;
  const handlers: Record<string, HolderHandler> = {
    [`Put${name}Policy`]: (input, ctx) => {
      p.put(ctx.account, holder(input), input.PolicyName, input.PolicyDocument);
      return {};
    },
    [`Get${name}Policy`]: (input, ctx) => {
      const { holder: h, ...doc } = p.get(ctx.account, holder(input), input.PolicyName);
      return { [member]: h, ...doc };
    },
    [`List${name}Policies`]: (input, ctx) => p.list(ctx.account, holder(input), input.Marker, input.MaxItems),
    [`Delete${name}Policy`]: (input, ctx) => {
      p.remove(ctx.account, holder(input), input.PolicyName);
      return {};
    },
    [`Attach${name}Policy`]: (input, ctx) => {
      p.attach(ctx.account, holder(input), input.PolicyArn);
      return {};
    },
    [`Detach${name}Policy`]: (input, ctx) => {
      p.detach(ctx.account, holder(input), input.PolicyArn);
      return {};
    },
    [`ListAttached${name}Policies`]: (input, ctx) => p.listAttached(ctx.account, holder(input), input),
  };
  return handlers as Provider<Operations>;
}
