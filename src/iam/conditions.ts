import { BlockList, isIP } from "node:net";
import { type ConditionBlock, parseOperator } from "./policy.js";
import { arnMatches, globMatch } from "./wildcard.js";

/**
 * The request context conditions read: condition key (lower case) → its values. A key that is
 * absent is not in the request; single-valued keys hold one value. Pure.
 */
export type RequestContext = Record<string, string[]>;

/** Keys are case-insensitive; values are looked up by the lower-cased key. */
export const contextValue = (ctx: RequestContext, key: string): string[] | undefined => ctx[key.toLowerCase()];

/**
 * Replaces policy variables (`${aws:username}`, `${aws:PrincipalTag/team}`, `${key, 'default'}`,
 * `${*}`, `${?}`, `${$}`) in a Resource or condition value. Returns undefined when a variable has
 * no value and no default: AWS then treats the element as not matching.
 */
export function substituteVariables(text: string, ctx: RequestContext): string | undefined {
  if (!text.includes("${")) return text;
  let failed = false;
  const out = text.replace(/\$\{([^}]*)\}/g, (_m, body: string) => {
    const inner = body.trim();
    if (inner === "*" || inner === "?" || inner === "$") return inner;
    const m = /^([^,]+?)\s*(?:,\s*'([^']*)')?$/.exec(inner);
    if (!m) {
      failed = true;
      return "";
    }
    const values = contextValue(ctx, m[1]);
    if (values && values.length === 1) return values[0];
    if (m[2] !== undefined) return m[2];
    failed = true;
    return "";
  });
  return failed ? undefined : out;
}

type Matcher = (contextValue: string, policyValue: string) => boolean;

const num = (v: string) => (/^-?\d+(\.\d+)?$/.test(v.trim()) ? Number(v) : Number.NaN);
const date = (v: string) => (/^\d+$/.test(v) ? Number(v) * 1000 : Date.parse(v));

function ipMatches(address: string, cidr: string): boolean {
  const [net, bits] = cidr.split("/");
  const type = isIP(net);
  const addrType = isIP(address);
  if (!type || !addrType || type !== addrType) return false;
  const family = type === 4 ? "ipv4" : "ipv6";
  const prefix = bits === undefined ? (type === 4 ? 32 : 128) : Number(bits);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > (type === 4 ? 32 : 128)) return false;
  const list = new BlockList();
  list.addSubnet(net, prefix, family);
  return list.check(address, family);
}

/** Positive matchers; the `Not` operators negate them over the whole value list. */
const MATCHERS: Record<string, { match: Matcher; negated: boolean }> = {
  StringEquals: { match: (c, p) => c === p, negated: false },
  StringNotEquals: { match: (c, p) => c === p, negated: true },
  StringEqualsIgnoreCase: { match: (c, p) => c.toLowerCase() === p.toLowerCase(), negated: false },
  StringNotEqualsIgnoreCase: { match: (c, p) => c.toLowerCase() === p.toLowerCase(), negated: true },
  StringLike: { match: (c, p) => globMatch(p, c), negated: false },
  StringNotLike: { match: (c, p) => globMatch(p, c), negated: true },
  NumericEquals: { match: (c, p) => num(c) === num(p), negated: false },
  NumericNotEquals: { match: (c, p) => num(c) === num(p), negated: true },
  NumericLessThan: { match: (c, p) => num(c) < num(p), negated: false },
  NumericLessThanEquals: { match: (c, p) => num(c) <= num(p), negated: false },
  NumericGreaterThan: { match: (c, p) => num(c) > num(p), negated: false },
  NumericGreaterThanEquals: { match: (c, p) => num(c) >= num(p), negated: false },
  DateEquals: { match: (c, p) => date(c) === date(p), negated: false },
  DateNotEquals: { match: (c, p) => date(c) === date(p), negated: true },
  DateLessThan: { match: (c, p) => date(c) < date(p), negated: false },
  DateLessThanEquals: { match: (c, p) => date(c) <= date(p), negated: false },
  DateGreaterThan: { match: (c, p) => date(c) > date(p), negated: false },
  DateGreaterThanEquals: { match: (c, p) => date(c) >= date(p), negated: false },
  Bool: { match: (c, p) => c.toLowerCase() === p.toLowerCase(), negated: false },
  BinaryEquals: { match: (c, p) => c === p, negated: false },
  IpAddress: { match: (c, p) => ipMatches(c, p), negated: false },
  NotIpAddress: { match: (c, p) => ipMatches(c, p), negated: true },
  ArnEquals: { match: (c, p) => arnMatches(p, c), negated: false },
  ArnLike: { match: (c, p) => arnMatches(p, c), negated: false },
  ArnNotEquals: { match: (c, p) => arnMatches(p, c), negated: true },
  ArnNotLike: { match: (c, p) => arnMatches(p, c), negated: true },
};

/** One operator on one key: does the request satisfy it? */
export function conditionHolds(
  operator: string,
  key: string,
  policyValues: string[],
  ctx: RequestContext,
  variables = true,
): boolean {
  const op = parseOperator(operator);
  if (!op) return false;
  const values = contextValue(ctx, key);
  const present = values !== undefined && values.length > 0;
  if (op.base === "Null") {
    // "true": the key must be absent; "false": present.
    return policyValues.some((v) => (v.toLowerCase() === "true" ? !present : present));
  }
  const { match, negated } = MATCHERS[op.base];
  if (!present) {
    if (op.ifExists) return true;
    if (op.set === "ForAllValues") return true;
    if (op.set === "ForAnyValue") return false;
    return negated;
  }
  const resolved = variables
    ? policyValues.map((v) => substituteVariables(v, ctx)).filter((v): v is string => v !== undefined)
    : policyValues;
  const valueOk = (c: string) => {
    const hit = resolved.some((p) => match(c, p));
    return negated ? !hit : hit;
  };
  if (op.set === "ForAllValues") return values.every(valueOk);
  return values.some(valueOk);
}

/**
 * Every operator and every key in the block must hold (values within a key are alternatives).
 * Policy variables are replaced only in 2012-10-17 documents (`variables`).
 */
export function conditionsHold(block: ConditionBlock | undefined, ctx: RequestContext, variables = true): boolean {
  if (!block) return true;
  for (const [operator, keys] of Object.entries(block))
    for (const [key, values] of Object.entries(keys))
      if (!conditionHolds(operator, key, values, ctx, variables)) return false;
  return true;
}
