/**
 * CloudWatch SEARCH expressions, pure: `{Namespace,DimName,…}` schemas, `Property="exact"` and
 * `Property=partial` terms (MetricName, Namespace or a dimension name), bare terms matching any
 * of them (quoted: exactly), AND (the default between terms), OR, NOT and parentheses.
 * Partial matches are case-insensitive substrings (CloudWatch matches tokens; close enough).
 */
import { MathError } from "./math.js";
import type { MetricKey } from "./store.js";

export interface SearchSchema {
  namespace: string;
  dimensions: string[];
}

export type SearchTerm =
  | { t: "term"; property?: string; value: string; exact: boolean }
  | { t: "not"; e: SearchTerm }
  | { t: "and" | "or"; l: SearchTerm; r: SearchTerm }
  | { t: "all" };

export interface SearchQuery {
  schema?: SearchSchema;
  terms: SearchTerm;
}

const TOKEN = /\s*(?:(\{[^}]*\})|("(?:[^"\\]|\\.)*")|([^\s()="{}]+)|(=|\(|\)))/y;

function tokenize(text: string): string[] {
  const out: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < text.length) {
    const start = TOKEN.lastIndex;
    const m = TOKEN.exec(text);
    if (!m) {
      if (/^\s*$/.test(text.slice(start))) break;
      throw new MathError(`SEARCH: unexpected character at position ${start + 1} of the search expression.`);
    }
    out.push(m[1] ?? m[2] ?? m[3] ?? m[4]);
  }
  return out;
}

const isQuoted = (t: string) => t.startsWith('"');
const unquote = (t: string) => (isQuoted(t) ? t.slice(1, -1).replace(/\\(.)/g, "$1") : t);

function parseSchema(token: string): SearchSchema {
  const parts = token
    .slice(1, -1)
    .split(",")
    .map((p) => unquote(p.trim()));
  if (!parts[0]) throw new MathError("SEARCH: a schema names its namespace first: {AWS/ECS,ClusterName}.");
  return { namespace: parts[0], dimensions: parts.slice(1).filter((d) => d !== "") };
}

export function parseSearch(text: string): SearchQuery {
  const tokens = tokenize(text);
  let i = 0;
  let schema: SearchSchema | undefined;
  const rest: string[] = [];
  for (const t of tokens) {
    if (t.startsWith("{")) {
      if (schema) throw new MathError("SEARCH: at most one schema {…} per search expression.");
      schema = parseSchema(t);
    } else rest.push(t);
  }
  const peek = () => rest[i];
  const or = (): SearchTerm => {
    let l = and();
    while (peek() === "OR") {
      i++;
      l = { t: "or", l, r: and() };
    }
    return l;
  };
  const and = (): SearchTerm => {
    let l = not();
    while (peek() !== undefined && peek() !== ")" && peek() !== "OR") {
      if (peek() === "AND") i++;
      l = { t: "and", l, r: not() };
    }
    return l;
  };
  const not = (): SearchTerm => {
    if (peek() === "NOT") {
      i++;
      return { t: "not", e: not() };
    }
    return atom();
  };
  const atom = (): SearchTerm => {
    const t = rest[i++];
    if (t === undefined) throw new MathError("SEARCH: the search expression ends too early.");
    if (t === "(") {
      const e = or();
      if (rest[i++] !== ")") throw new MathError('SEARCH: expected ")" in the search expression.');
      return e;
    }
    if (t === ")" || t === "=") throw new MathError(`SEARCH: unexpected "${t}" in the search expression.`);
    if (peek() === "=") {
      i++;
      const v = rest[i++];
      if (v === undefined || v === "(" || v === ")" || v === "=")
        throw new MathError(`SEARCH: ${unquote(t)}= needs a value.`);
      return { t: "term", property: unquote(t), value: unquote(v), exact: isQuoted(v) };
    }
    return { t: "term", value: unquote(t), exact: isQuoted(t) };
  };
  const terms = rest.length ? or() : ({ t: "all" } as const);
  if (i < rest.length) throw new MathError(`SEARCH: unexpected "${rest[i]}" in the search expression.`);
  if (!schema && terms.t === "all") throw new MathError("SEARCH: the search expression is empty.");
  return { schema, terms };
}

const matches = (candidate: string, value: string, exact: boolean) =>
  exact ? candidate === value : candidate.toLowerCase().includes(value.toLowerCase());

function termMatches(term: SearchTerm, key: MetricKey): boolean {
  switch (term.t) {
    case "all":
      return true;
    case "not":
      return !termMatches(term.e, key);
    case "and":
      return termMatches(term.l, key) && termMatches(term.r, key);
    case "or":
      return termMatches(term.l, key) || termMatches(term.r, key);
    case "term": {
      const { property, value, exact } = term;
      if (property === "MetricName") return matches(key.name, value, exact);
      if (property === "Namespace") return matches(key.namespace, value, exact);
      if (property !== undefined)
        return key.dimensions.some((d) => d.Name === property && matches(d.Value, value, exact));
      return [key.namespace, key.name, ...key.dimensions.flatMap((d) => [d.Name, d.Value])].some((c) =>
        matches(c, value, exact),
      );
    }
  }
}

/** Whether a metric is one a search finds. */
export function searchMatches(q: SearchQuery, key: MetricKey): boolean {
  if (q.schema) {
    if (key.namespace !== q.schema.namespace) return false;
    const names = key.dimensions.map((d) => d.Name).sort();
    const want = [...q.schema.dimensions].sort();
    if (names.length !== want.length || names.some((n, i) => n !== want[i])) return false;
  }
  return termMatches(q.terms, key);
}

/** The label CloudWatch-style for a search result: metric name, then dimension values. */
export const searchLabel = (key: MetricKey) => [key.name, ...key.dimensions.map((d) => d.Value)].join(" ");
