/**
 * CloudWatch Logs filter patterns (FilterLogEvents, and later metric and subscription filters):
 * a pure parser and matcher, no I/O.
 *
 * Three forms, chosen by the first character:
 * - terms: `ERROR`, `"exact phrase"`, `?ERROR ?WARN` (either), `-DEBUG` (not), `%regex%`.
 *   Terms are case-sensitive substrings. A `?` term starts a new alternative: the pattern is an
 *   OR of groups, each group an AND of its terms (`?"a" "b" ?"c" "d"` = (a ∧ b) ∨ (c ∧ d), the
 *   way the AWS CDK writes term groups). The empty pattern matches every event.
 * - JSON: `{ $.level = "error" && ($.latency > 100 || $.retry IS TRUE) }`. Selectors `$.a.b`,
 *   `$.list[0]`, `$.list[*]`; operators `=` `!=` `<` `<=` `>` `>=`; `IS TRUE|FALSE|NULL`,
 *   `NOT EXISTS`; string values quoted or bare, `*` as a wildcard; `%regex%` values. Only events
 *   whose message is a JSON document can match.
 * - space-delimited: `[ip, user, ..., status = 4* || status = 5*, bytes > 1000]`. The message is
 *   split at spaces; text in "…" or […] is one field. `...` stands for any number of fields.
 */

export class FilterPatternError extends Error {}

type Comparator = "=" | "!=" | "<" | "<=" | ">" | ">=";
type Value =
  | { type: "string"; glob: RegExp; text: string }
  | { type: "number"; n: number }
  | { type: "regex"; re: RegExp };

export interface Term {
  negate: boolean;
  text?: string;
  regex?: RegExp;
}

type PathStep = { key: string } | { index: number } | { any: true };

export type JsonExpr =
  | { op: "and" | "or"; left: JsonExpr; right: JsonExpr }
  | { op: "cmp"; path: PathStep[]; cmp: Comparator; value: Value }
  | { op: "is"; path: PathStep[]; what: "TRUE" | "FALSE" | "NULL" }
  | { op: "notExists"; path: PathStep[] };

type FieldCond = { op: "and" | "or"; left: FieldCond; right: FieldCond } | { op: "cmp"; cmp: Comparator; value: Value };
export type DelimitedField = { kind: "ellipsis" } | { kind: "field"; name: string; cond?: FieldCond };

export type FilterPattern =
  | { kind: "all" }
  | { kind: "terms"; groups: Term[][] }
  | { kind: "json"; expr: JsonExpr }
  | { kind: "delimited"; fields: DelimitedField[] };

/** Parses a filter pattern; throws FilterPatternError with a readable reason. */
export function parseFilterPattern(pattern: string): FilterPattern {
  const text = pattern.trim();
  if (text === "" || text === '""') return { kind: "all" };
  if (text.startsWith("{")) {
    if (!text.endsWith("}")) throw new FilterPatternError("a JSON pattern must end with '}'");
    return { kind: "json", expr: parseJson(text.slice(1, -1)) };
  }
  if (text.startsWith("[")) {
    if (!text.endsWith("]")) throw new FilterPatternError("a space-delimited pattern must end with ']'");
    return { kind: "delimited", fields: parseDelimited(text.slice(1, -1)) };
  }
  return { kind: "terms", groups: parseTerms(text) };
}

/** Does the pattern match this event message? */
export function matchesFilterPattern(p: FilterPattern, message: string): boolean {
  switch (p.kind) {
    case "all":
      return true;
    case "terms":
      return p.groups.some((group) => group.every((t) => termMatches(t, message) !== t.negate));
    case "json": {
      let doc: unknown;
      try {
        doc = JSON.parse(message);
      } catch {
        return false;
      }
      if (doc === null || typeof doc !== "object") return false;
      return evalJson(p.expr, doc);
    }
    case "delimited":
      return matchFields(p.fields, 0, splitFields(message), 0);
  }
}

/** Parses once and returns a predicate over messages. */
export function compileFilterPattern(pattern: string): (message: string) => boolean {
  const p = parseFilterPattern(pattern);
  return (message) => matchesFilterPattern(p, message);
}

// ---- terms -------------------------------------------------------------------------------

function parseTerms(text: string): Term[][] {
  const groups: Term[][] = [];
  let current: Term[] = [];
  let i = 0;
  while (i < text.length) {
    if (/\s/.test(text[i])) {
      i++;
      continue;
    }
    let prefix = "";
    if ((text[i] === "?" || text[i] === "-") && i + 1 < text.length && !/\s/.test(text[i + 1])) prefix = text[i++];
    let term: Term;
    if (text[i] === '"') {
      const q = readQuoted(text, i);
      term = { negate: prefix === "-", text: q.value };
      i = q.end;
    } else if (text[i] === "%") {
      const end = text.indexOf("%", i + 1);
      if (end < 0)
        throw new FilterPatternError(`the regular expression starting at position ${i + 1} has no closing '%'`);
      term = { negate: prefix === "-", regex: compileRegex(text.slice(i + 1, end)) };
      i = end + 1;
    } else {
      const start = i;
      while (i < text.length && !/\s/.test(text[i])) i++;
      const word = text.slice(start, i);
      if (word.includes('"'))
        throw new FilterPatternError(`the term ${word} contains a quote; put the whole term in double quotes`);
      term = { negate: prefix === "-", text: word };
    }
    if (prefix === "?" && current.length > 0) {
      groups.push(current);
      current = [];
    }
    current.push(term);
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

function termMatches(t: Term, message: string): boolean {
  return t.regex ? t.regex.test(message) : message.includes(t.text ?? "");
}

function readQuoted(text: string, start: number): { value: string; end: number } {
  let value = "";
  let i = start + 1;
  while (i < text.length) {
    const c = text[i];
    if (c === "\\" && i + 1 < text.length) {
      value += text[i + 1];
      i += 2;
      continue;
    }
    if (c === '"') return { value, end: i + 1 };
    value += c;
    i++;
  }
  throw new FilterPatternError(`the quoted term starting at position ${start + 1} has no closing '"'`);
}

function compileRegex(body: string): RegExp {
  if (body === "") throw new FilterPatternError("a regular expression between % signs must not be empty");
  if (/[()]/.test(body.replace(/\\./g, "")))
    throw new FilterPatternError(
      `the regular expression %${body}% uses ( or ), which CloudWatch Logs does not support`,
    );
  try {
    return new RegExp(body);
  } catch (e) {
    throw new FilterPatternError(`the regular expression %${body}% is not valid: ${(e as Error).message}`);
  }
}

// ---- values shared by JSON and space-delimited patterns -----------------------------------

const NUMBER = /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

function globValue(text: string): Value {
  const source = text
    .split("*")
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
    .join(".*");
  return { type: "string", glob: new RegExp(`^${source}$`, "s"), text };
}

function compare(cmp: Comparator, actual: unknown, value: Value): boolean {
  if (value.type === "number") {
    if (typeof actual !== "number") return false;
    switch (cmp) {
      case "=":
        return actual === value.n;
      case "!=":
        return actual !== value.n;
      case "<":
        return actual < value.n;
      case "<=":
        return actual <= value.n;
      case ">":
        return actual > value.n;
      case ">=":
        return actual >= value.n;
    }
  }
  if (actual === null || actual === undefined || typeof actual === "object") return false;
  const s = String(actual);
  const hit = value.type === "regex" ? value.re.test(s) : value.glob.test(s);
  return cmp === "=" ? hit : !hit;
}

// ---- JSON patterns ------------------------------------------------------------------------

type Token = { t: "op" | "word" | "string" | "regex" | "selector"; v: string; at: number };

function tokenizeJson(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const two = text.slice(i, i + 2);
    if (two === "&&" || two === "||" || two === "!=" || two === "<=" || two === ">=") {
      out.push({ t: "op", v: two, at: i });
      i += 2;
    } else if ("()=<>".includes(c)) {
      out.push({ t: "op", v: c, at: i });
      i++;
    } else if (c === '"') {
      const q = readQuoted(text, i);
      out.push({ t: "string", v: q.value, at: i });
      i = q.end;
    } else if (c === "%") {
      const end = text.indexOf("%", i + 1);
      if (end < 0)
        throw new FilterPatternError(`the regular expression starting at position ${i + 1} has no closing '%'`);
      out.push({ t: "regex", v: text.slice(i + 1, end), at: i });
      i = end + 1;
    } else {
      const start = i;
      while (i < text.length && !/\s/.test(text[i]) && !"()=<>!".includes(text[i])) {
        const pair = text.slice(i, i + 2);
        if (pair === "&&" || pair === "||") break;
        i++;
      }
      if (i === start) throw new FilterPatternError(`unexpected '${c}' at position ${i + 1}`);
      const word = text.slice(start, i);
      out.push({ t: word.startsWith("$") ? "selector" : "word", v: word, at: start });
    }
  }
  return out;
}

function parseJson(body: string): JsonExpr {
  const tokens = tokenizeJson(body);
  let pos = 0;
  const peek = () => tokens[pos];
  const fail = (what: string): never => {
    const tok = peek();
    throw new FilterPatternError(tok ? `expected ${what} but found '${tok.v}'` : `expected ${what} at the end`);
  };

  const parseOr = (): JsonExpr => {
    let left = parseAnd();
    while (peek()?.t === "op" && peek().v === "||") {
      pos++;
      left = { op: "or", left, right: parseAnd() };
    }
    return left;
  };
  const parseAnd = (): JsonExpr => {
    let left = parseUnary();
    while (peek()?.t === "op" && peek().v === "&&") {
      pos++;
      left = { op: "and", left, right: parseUnary() };
    }
    return left;
  };
  const parseUnary = (): JsonExpr => {
    const tok = peek();
    if (tok?.t === "op" && tok.v === "(") {
      pos++;
      const inner = parseOr();
      if (peek()?.t !== "op" || peek().v !== ")") fail("')'");
      pos++;
      return inner;
    }
    if (tok?.t !== "selector") fail("a selector such as $.field");
    pos++;
    const path = parseSelector(tok.v);
    const next = peek();
    if (next?.t === "word" && next.v.toUpperCase() === "IS") {
      pos++;
      const what = peek()?.v.toUpperCase();
      if (peek()?.t !== "word" || (what !== "TRUE" && what !== "FALSE" && what !== "NULL")) fail("TRUE, FALSE or NULL");
      pos++;
      return { op: "is", path, what: what as "TRUE" | "FALSE" | "NULL" };
    }
    if (next?.t === "word" && next.v.toUpperCase() === "NOT") {
      pos++;
      if (peek()?.t !== "word" || peek().v.toUpperCase() !== "EXISTS") fail("EXISTS after NOT");
      pos++;
      return { op: "notExists", path };
    }
    if (next?.t !== "op" || !["=", "!=", "<", "<=", ">", ">="].includes(next.v))
      fail(`a comparison (=, !=, <, <=, >, >=, IS or NOT EXISTS) after ${tok.v}`);
    pos++;
    const cmp = next.v as Comparator;
    const value = parseValueToken(peek(), cmp, fail);
    pos++;
    return { op: "cmp", path, cmp, value };
  };

  if (tokens.length === 0) throw new FilterPatternError("a JSON pattern needs at least one condition");
  const expr = parseOr();
  if (pos < tokens.length) fail("&& or || or the end of the pattern");
  return expr;
}

function parseValueToken(tok: Token | undefined, cmp: Comparator, fail: (what: string) => never): Value {
  if (!tok || tok.t === "op" || tok.t === "selector") return fail("a value");
  let value: Value;
  if (tok.t === "regex") value = { type: "regex", re: compileRegex(tok.v) };
  else if (tok.t === "word" && NUMBER.test(tok.v)) value = { type: "number", n: Number(tok.v) };
  else value = globValue(tok.v);
  if (value.type !== "number" && cmp !== "=" && cmp !== "!=")
    throw new FilterPatternError(`the operator ${cmp} compares numbers, but '${tok.v}' is not a number`);
  return value;
}

function parseSelector(text: string): PathStep[] {
  if (!text.startsWith("$")) throw new FilterPatternError(`selector ${text} must start with $`);
  const steps: PathStep[] = [];
  let i = 1;
  while (i < text.length) {
    if (text[i] === ".") {
      const start = ++i;
      while (i < text.length && text[i] !== "." && text[i] !== "[") i++;
      const key = text.slice(start, i);
      if (!key) throw new FilterPatternError(`selector ${text} has an empty property name`);
      steps.push(key === "*" ? { any: true } : { key });
    } else if (text[i] === "[") {
      const end = text.indexOf("]", i);
      if (end < 0) throw new FilterPatternError(`selector ${text} has no closing ']'`);
      const inside = text.slice(i + 1, end);
      if (inside === "*") steps.push({ any: true });
      else if (/^\d+$/.test(inside)) steps.push({ index: Number(inside) });
      else throw new FilterPatternError(`selector ${text}: [${inside}] must be an index such as [0] or [*]`);
      i = end + 1;
    } else {
      throw new FilterPatternError(`selector ${text}: expected '.' or '[' at position ${i + 1}`);
    }
  }
  return steps;
}

/** Every value the path reaches ([*] and .* fan out). */
function resolve(doc: unknown, path: PathStep[]): unknown[] {
  let current: unknown[] = [doc];
  for (const step of path) {
    const next: unknown[] = [];
    for (const v of current) {
      if (v === null || typeof v !== "object") continue;
      if ("any" in step) next.push(...(Array.isArray(v) ? v : Object.values(v)));
      else if ("index" in step) {
        if (Array.isArray(v) && step.index < v.length) next.push(v[step.index]);
      } else if (!Array.isArray(v) && Object.hasOwn(v, step.key)) next.push((v as Record<string, unknown>)[step.key]);
    }
    current = next;
  }
  return current;
}

function evalJson(e: JsonExpr, doc: unknown): boolean {
  switch (e.op) {
    case "and":
      return evalJson(e.left, doc) && evalJson(e.right, doc);
    case "or":
      return evalJson(e.left, doc) || evalJson(e.right, doc);
    case "notExists":
      return resolve(doc, e.path).length === 0;
    case "is": {
      const want = e.what === "TRUE" ? true : e.what === "FALSE" ? false : null;
      return resolve(doc, e.path).some((v) => v === want);
    }
    case "cmp":
      return resolve(doc, e.path).some((v) => compare(e.cmp, v, e.value));
  }
}

// ---- space-delimited patterns -------------------------------------------------------------

function splitTopLevel(text: string, sep: string): string[] {
  const parts: string[] = [];
  let current = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "\\" && quoted && i + 1 < text.length) {
      current += c + text[i + 1];
      i++;
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (c === sep && !quoted) {
      parts.push(current);
      current = "";
    } else current += c;
  }
  if (quoted) throw new FilterPatternError("a quoted value has no closing '\"'");
  parts.push(current);
  return parts;
}

function parseDelimited(body: string): DelimitedField[] {
  const fields = splitTopLevel(body, ",").map((f) => f.trim());
  if (fields.length === 1 && fields[0] === "") throw new FilterPatternError("a space-delimited pattern needs fields");
  return fields.map((f, n): DelimitedField => {
    if (f === "") throw new FilterPatternError(`field ${n + 1} of the space-delimited pattern is empty`);
    if (f === "...") return { kind: "ellipsis" };
    if (/^[A-Za-z0-9_-]+$/.test(f)) return { kind: "field", name: f };
    const tokens = tokenizeJson(f);
    const name = tokens[0]?.t === "word" ? tokens[0].v : undefined;
    if (!name || !/^[A-Za-z0-9_-]+$/.test(name))
      throw new FilterPatternError(`field '${f}' must start with a name made of letters, digits, _ or -`);
    let pos = 0;
    const peek = () => tokens[pos];
    const fail = (what: string): never => {
      const tok = peek();
      throw new FilterPatternError(
        tok ? `in field '${f}': expected ${what} but found '${tok.v}'` : `in field '${f}': expected ${what}`,
      );
    };
    const parseCmp = (): FieldCond => {
      const tok = peek();
      if (tok?.t !== "word" || tok.v !== name) fail(`the field name ${name}`);
      pos++;
      const op = peek();
      if (op?.t !== "op" || !["=", "!=", "<", "<=", ">", ">="].includes(op.v)) fail("a comparison operator");
      pos++;
      const value = parseValueToken(peek(), op.v as Comparator, fail);
      pos++;
      return { op: "cmp", cmp: op.v as Comparator, value };
    };
    const parseAnd = (): FieldCond => {
      let left = parseCmp();
      while (peek()?.t === "op" && peek().v === "&&") {
        pos++;
        left = { op: "and", left, right: parseCmp() };
      }
      return left;
    };
    let cond = parseAnd();
    while (peek()?.t === "op" && peek().v === "||") {
      pos++;
      cond = { op: "or", left: cond, right: parseAnd() };
    }
    if (pos < tokens.length) fail("&&, || or ','");
    return { kind: "field", name, cond };
  });
}

/** Splits a message at spaces; "quoted" and [bracketed] text is one field, without its delimiters. */
export function splitFields(message: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < message.length) {
    if (/\s/.test(message[i])) {
      i++;
      continue;
    }
    const open = message[i];
    const close = open === '"' ? '"' : open === "[" ? "]" : undefined;
    if (close) {
      const end = message.indexOf(close, i + 1);
      if (end >= 0) {
        out.push(message.slice(i + 1, end));
        i = end + 1;
        continue;
      }
    }
    const start = i;
    while (i < message.length && !/\s/.test(message[i])) i++;
    out.push(message.slice(start, i));
  }
  return out;
}

function fieldValue(text: string): unknown {
  return NUMBER.test(text) ? Number(text) : text;
}

function evalField(c: FieldCond, text: string): boolean {
  switch (c.op) {
    case "and":
      return evalField(c.left, text) && evalField(c.right, text);
    case "or":
      return evalField(c.left, text) || evalField(c.right, text);
    case "cmp":
      return c.value.type === "number" ? compare(c.cmp, fieldValue(text), c.value) : compare(c.cmp, text, c.value);
  }
}

function matchFields(pattern: DelimitedField[], pi: number, fields: string[], fi: number): boolean {
  if (pi === pattern.length) return fi === fields.length;
  const p = pattern[pi];
  if (p.kind === "ellipsis") {
    for (let k = fi; k <= fields.length; k++) if (matchFields(pattern, pi + 1, fields, k)) return true;
    return false;
  }
  if (fi >= fields.length) return false;
  if (p.cond && !evalField(p.cond, fields[fi])) return false;
  return matchFields(pattern, pi + 1, fields, fi + 1);
}
