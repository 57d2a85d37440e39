import { awsManagedPolicy } from "../../iam/managed-policies.js";
import { policySize } from "../../iam/policy.js";
import { iamScope } from "../../iam/store.js";
import { type IamContext, checkPolicyDocument, limitExceeded, noSuchEntity } from "./common.js";

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
