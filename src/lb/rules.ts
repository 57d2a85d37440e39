import type { RuleCondition } from "../protocol/generated/types/elbv2.js";

/**
 * Listener rule matching, pure: conditions compile once to predicates over a request view; a
 * listener's rules are tried in priority order and the first match wins (AWS-FACTS §7).
 * Values within one condition are ORed, conditions of a rule are ANDed.
 */

/** What rule conditions can look at. Lazily computed by the proxy; header names are lowercase. */
export interface RequestView {
  method: string;
  /** The path without the query string, as sent (not percent-decoded). */
  path: string;
  /** The raw query string without "?", or "" when absent. */
  query: string;
  /** The Host header without a port. */
  host: string;
  /** Every value of a header (name lowercase), in request order. */
  header(name: string): string[];
  sourceIp: string;
}

export type Predicate = (r: RequestView) => boolean;

const REGEX_SPECIAL = /[.+^${}()|[\]\\/]/g;

/**
 * An ELB wildcard (`*` any run, `?` one character) as a RegExp. With `escapes`, `\*` and `\?`
 * stand for literal characters (query-string conditions).
 */
export function wildcard(pattern: string, opts: { caseInsensitive: boolean; escapes?: boolean }): RegExp {
  let out = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (opts.escapes && c === "\\" && i + 1 < pattern.length) {
      const next = pattern[++i];
      out += next.replace(REGEX_SPECIAL, "\\$&").replace(/[*?]/, "\\$&");
    } else if (c === "*") out += ".*";
    else if (c === "?") out += ".";
    else out += c.replace(REGEX_SPECIAL, "\\$&");
  }
  return new RegExp(`^${out}$`, opts.caseInsensitive ? "is" : "s");
}

/** A parsed CIDR block: IPv4 as 32-bit numbers, IPv6 as bigints. */
export type Cidr = { v: 4; base: number; mask: number } | { v: 6; base: bigint; mask: bigint };

export function parseIpv4(text: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  let n = 0;
  for (let i = 1; i <= 4; i++) {
    const part = m[i];
    if (part.length > 1 && part[0] === "0") return undefined;
    const o = Number(part);
    if (o > 255) return undefined;
    n = n * 256 + o;
  }
  return n;
}

export function parseIpv6(text: string): bigint | undefined {
  let s = text;
  const v4 = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const n = parseIpv4(v4[2]);
    if (n === undefined) return undefined;
    s = `${v4[1]}${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const halves = s.split("::");
  if (halves.length > 2) return undefined;
  const parse = (h: string) => (h === "" ? [] : h.split(":"));
  const head = parse(halves[0]);
  const rest = halves.length === 2 ? parse(halves[1]) : [];
  if (![...head, ...rest].every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  const total = head.length + rest.length;
  if (halves.length === 1 ? total !== 8 : total > 7) return undefined;
  const groups = [...head, ...Array<string>(8 - total).fill("0"), ...rest];
  let n = 0n;
  for (const g of groups) n = (n << 16n) | BigInt(Number.parseInt(g, 16));
  return n;
}

/** "10.0.0.0/8", "2001:db8::/32" → Cidr; undefined when not a valid CIDR block. */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf("/");
  if (slash < 0) return undefined;
  const addr = text.slice(0, slash);
  const bitsText = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(bitsText)) return undefined;
  const bits = Number(bitsText);
  const v4 = parseIpv4(addr);
  if (v4 !== undefined) {
    if (bits > 32) return undefined;
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    return { v: 4, base: (v4 & mask) >>> 0, mask };
  }
  const v6 = parseIpv6(addr);
  if (v6 === undefined || bits > 128) return undefined;
  const mask = bits === 0 ? 0n : ((1n << BigInt(bits)) - 1n) << BigInt(128 - bits);
  return { v: 6, base: v6 & mask, mask };
}

/** Whether an address (IPv4, IPv6, or IPv4-mapped IPv6) lies in a block. */
export function cidrContains(cidr: Cidr, address: string): boolean {
  let a = address;
  if (cidr.v === 4 && a.startsWith("::ffff:")) a = a.slice(7);
  if (cidr.v === 4) {
    const n = parseIpv4(a);
    return n !== undefined && (n & cidr.mask) >>> 0 === cidr.base;
  }
  const n = parseIpv6(a);
  return n !== undefined && (n & cidr.mask) === cidr.base;
}

const anyOf = (preds: Predicate[]): Predicate => (preds.length === 1 ? preds[0] : (r) => preds.some((p) => p(r)));

const safeDecode = (s: string) => {
  try {
    return decodeURIComponent(s.replace(/\+/g, " "));
  } catch {
    return s;
  }
};

/** The query string as decoded key/value pairs (a bare key has the value ""). */
export function queryPairs(query: string): { key: string; value: string }[] {
  if (!query) return [];
  return query
    .split("&")
    .filter((p) => p !== "")
    .map((p) => {
      const eq = p.indexOf("=");
      return eq < 0
        ? { key: safeDecode(p), value: "" }
        : { key: safeDecode(p.slice(0, eq)), value: safeDecode(p.slice(eq + 1)) };
    });
}

/** The values a condition lists, whichever way it was given (Values or the *Config). */
export function conditionValues(c: RuleCondition): string[] {
  switch (c.Field) {
    case "path-pattern":
      return c.PathPatternConfig?.Values ?? c.Values ?? [];
    case "host-header":
      return c.HostHeaderConfig?.Values ?? c.Values ?? [];
    case "http-header":
      return c.HttpHeaderConfig?.Values ?? [];
    case "http-request-method":
      return c.HttpRequestMethodConfig?.Values ?? [];
    case "source-ip":
      return c.SourceIpConfig?.Values ?? [];
    default:
      return c.Values ?? [];
  }
}

/** Regex values a condition lists (path-pattern, host-header, http-header). */
export function conditionRegexValues(c: RuleCondition): string[] {
  switch (c.Field) {
    case "path-pattern":
      return c.PathPatternConfig?.RegexValues ?? c.RegexValues ?? [];
    case "host-header":
      return c.HostHeaderConfig?.RegexValues ?? c.RegexValues ?? [];
    case "http-header":
      return c.HttpHeaderConfig?.RegexValues ?? c.RegexValues ?? [];
    default:
      return [];
  }
}

/** Compiles one validated condition. Unknown fields never match. */
export function compileCondition(c: RuleCondition): Predicate {
  const values = conditionValues(c);
  const regexes = conditionRegexValues(c).map((re) => new RegExp(re));
  switch (c.Field) {
    case "path-pattern": {
      const res = [...values.map((v) => wildcard(v, { caseInsensitive: false })), ...regexes];
      return anyOf(res.map((re) => (r) => re.test(r.path)));
    }
    case "host-header": {
      const res = [...values.map((v) => wildcard(v, { caseInsensitive: true })), ...regexes];
      return anyOf(res.map((re) => (r) => re.test(r.host)));
    }
    case "http-header": {
      const name = (c.HttpHeaderConfig?.HttpHeaderName ?? "").toLowerCase();
      const res = [...values.map((v) => wildcard(v, { caseInsensitive: true })), ...regexes];
      return (r) => {
        const got = r.header(name);
        return got.some((v) => res.some((re) => re.test(v)));
      };
    }
    case "http-request-method": {
      const set = new Set(values);
      return (r) => set.has(r.method);
    }
    case "query-string": {
      const pairs = (c.QueryStringConfig?.Values ?? []).map((p) => ({
        key: p.Key === undefined ? undefined : wildcard(p.Key, { caseInsensitive: true, escapes: true }),
        value: wildcard(p.Value ?? "", { caseInsensitive: true, escapes: true }),
      }));
      return (r) => {
        const got = queryPairs(r.query);
        return pairs.some((p) => got.some((g) => (p.key === undefined || p.key.test(g.key)) && p.value.test(g.value)));
      };
    }
    case "source-ip": {
      const blocks = values.map(parseCidr).filter((b): b is Cidr => b !== undefined);
      return (r) => blocks.some((b) => cidrContains(b, r.sourceIp));
    }
    default:
      return () => false;
  }
}

/** A rule's conditions ANDed (a rule without conditions matches everything). */
export function compileConditions(conditions: RuleCondition[]): Predicate {
  const preds = conditions.map(compileCondition);
  if (preds.length === 0) return () => true;
  if (preds.length === 1) return preds[0];
  return (r) => preds.every((p) => p(r));
}

export interface CompiledRule<A> {
  priority: number;
  match: Predicate;
  action: A;
}

/** Rules in priority order (lowest first). */
export const orderRules = <A>(rules: CompiledRule<A>[]) => [...rules].sort((a, b) => a.priority - b.priority);

/** The action of the first rule (in priority order) whose conditions hold, else the default action. */
export function selectAction<A>(ordered: CompiledRule<A>[], request: RequestView, fallback: A): A {
  for (const rule of ordered) if (rule.match(request)) return rule.action;
  return fallback;
}
