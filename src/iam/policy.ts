/**
 * IAM policy documents: the grammar, a strict parser with AWS's MalformedPolicyDocument messages,
 * and the normalised form the evaluator reads (every list an array of strings). Pure.
 */

export type Effect = "Allow" | "Deny";

/** `"*"` or a map of principal kinds to lists of identifiers. */
export type PrincipalSpec =
  | "*"
  | { AWS?: string[]; Service?: string[]; Federated?: string[]; CanonicalUser?: string[] };

/** Operator (with any ForAllValues:/ForAnyValue: prefix and IfExists suffix) → key → values. */
export type ConditionBlock = Record<string, Record<string, string[]>>;

export interface Statement {
  sid?: string;
  effect: Effect;
  action?: string[];
  notAction?: string[];
  resource?: string[];
  notResource?: string[];
  principal?: PrincipalSpec;
  notPrincipal?: PrincipalSpec;
  condition?: ConditionBlock;
}

export interface Policy {
  version: "2012-10-17" | "2008-10-17";
  id?: string;
  statements: Statement[];
}

/**
 * What a document is for: `identity` (attached to users, roles, groups; no Principal),
 * `resource` (ECR repository, secret; needs a Principal), `trust` (a role's assume-role policy).
 */
export type PolicyKind = "identity" | "resource" | "trust";

export class MalformedPolicy extends Error {}

const STATEMENT_KEYS = new Set([
  "Sid",
  "Effect",
  "Action",
  "NotAction",
  "Resource",
  "NotResource",
  "Principal",
  "NotPrincipal",
  "Condition",
]);
const PRINCIPAL_KINDS = new Set(["AWS", "Service", "Federated", "CanonicalUser"]);
const ACTION = /^(\*|[a-zA-Z0-9-]+:[a-zA-Z0-9*?_-]*)$/;
const SID = /^[a-zA-Z0-9]*$/;

export const CONDITION_OPERATORS = [
  "StringEquals",
  "StringNotEquals",
  "StringEqualsIgnoreCase",
  "StringNotEqualsIgnoreCase",
  "StringLike",
  "StringNotLike",
  "NumericEquals",
  "NumericNotEquals",
  "NumericLessThan",
  "NumericLessThanEquals",
  "NumericGreaterThan",
  "NumericGreaterThanEquals",
  "DateEquals",
  "DateNotEquals",
  "DateLessThan",
  "DateLessThanEquals",
  "DateGreaterThan",
  "DateGreaterThanEquals",
  "Bool",
  "BinaryEquals",
  "IpAddress",
  "NotIpAddress",
  "ArnEquals",
  "ArnLike",
  "ArnNotEquals",
  "ArnNotLike",
  "Null",
] as const;
const OPERATORS = new Set<string>(CONDITION_OPERATORS);

/** Splits `ForAnyValue:StringLikeIfExists` into its parts; undefined when the operator is unknown. */
export function parseOperator(
  name: string,
): { base: string; set?: "ForAllValues" | "ForAnyValue"; ifExists: boolean } | undefined {
  let rest = name;
  let set: "ForAllValues" | "ForAnyValue" | undefined;
  const colon = rest.indexOf(":");
  if (colon >= 0) {
    const q = rest.slice(0, colon);
    if (q !== "ForAllValues" && q !== "ForAnyValue") return undefined;
    set = q;
    rest = rest.slice(colon + 1);
  }
  let ifExists = false;
  if (rest.endsWith("IfExists") && rest !== "IfExists") {
    ifExists = true;
    rest = rest.slice(0, -"IfExists".length);
  }
  if (!OPERATORS.has(rest) || (ifExists && rest === "Null")) return undefined;
  return { base: rest, set, ifExists };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function stringList(value: unknown, field: string): string[] {
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) throw new MalformedPolicy(`Syntax errors in policy: ${field} must not be empty.`);
  return list.map((v) => {
    if (typeof v !== "string")
      throw new MalformedPolicy(`Syntax errors in policy: ${field} must be a string or list of strings.`);
    return v;
  });
}

function conditionValues(value: unknown, op: string, key: string): string[] {
  const list = Array.isArray(value) ? value : [value];
  return list.map((v) => {
    if (typeof v === "string") return v;
    if (typeof v === "number" || typeof v === "boolean") return String(v);
    throw new MalformedPolicy(`Syntax errors in policy: the values of condition ${op} ${key} must be strings.`);
  });
}

function principal(value: unknown, field: string): PrincipalSpec {
  if (value === "*") return "*";
  if (!isObject(value)) throw new MalformedPolicy(`Invalid principal in policy: ${field} must be "*" or an object.`);
  const out: Exclude<PrincipalSpec, "*"> = {};
  for (const [kind, ids] of Object.entries(value)) {
    if (!PRINCIPAL_KINDS.has(kind)) throw new MalformedPolicy(`Invalid principal in policy: unknown kind "${kind}".`);
    const list = stringList(ids, `${field}.${kind}`);
    if (kind === "AWS")
      for (const id of list)
        if (id !== "*" && !/^\d{12}$/.test(id) && !/^arn:aws[a-z-]*:(iam|sts)::\d{12}:/.test(id))
          throw new MalformedPolicy(`Invalid principal in policy: "AWS":"${id}"`);
    if (kind === "Service")
      for (const id of list)
        if (!/^[a-z0-9.-]+$/.test(id) && id !== "*")
          throw new MalformedPolicy(`Invalid principal in policy: "SERVICE":"${id}"`);
    out[kind as keyof typeof out] = list;
  }
  return out;
}

function statement(raw: unknown, kind: PolicyKind): Statement {
  if (!isObject(raw)) throw new MalformedPolicy("Syntax errors in policy: each Statement must be an object.");
  for (const key of Object.keys(raw))
    if (!STATEMENT_KEYS.has(key)) throw new MalformedPolicy(`Syntax errors in policy: unknown field ${key}.`);
  const st: Statement = { effect: "Allow" };
  if (raw.Sid !== undefined) {
    if (typeof raw.Sid !== "string" || (kind === "identity" && !SID.test(raw.Sid)))
      throw new MalformedPolicy(
        "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*",
      );
    st.sid = raw.Sid;
  }
  if (raw.Effect === undefined) throw new MalformedPolicy("Missing required field Effect");
  if (raw.Effect !== "Allow" && raw.Effect !== "Deny")
    throw new MalformedPolicy(`Invalid effect: ${String(raw.Effect)}`);
  st.effect = raw.Effect;
  if ((raw.Action === undefined) === (raw.NotAction === undefined))
    throw new MalformedPolicy(
      raw.Action === undefined
        ? "Policy statement must contain actions."
        : "Policy statement must contain either Action or NotAction, not both.",
    );
  const actions = stringList(raw.Action ?? raw.NotAction, raw.Action ? "Action" : "NotAction");
  for (const a of actions)
    if (!ACTION.test(a))
      throw new MalformedPolicy(
        `Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc. (got "${a}")`,
      );
  if (raw.Action !== undefined) st.action = actions;
  else st.notAction = actions;

  const hasResource = raw.Resource !== undefined || raw.NotResource !== undefined;
  if (raw.Resource !== undefined && raw.NotResource !== undefined)
    throw new MalformedPolicy("Policy statement must contain either Resource or NotResource, not both.");
  if (kind === "trust" && hasResource) throw new MalformedPolicy("Has prohibited field Resource");
  if (kind === "identity" && !hasResource) throw new MalformedPolicy("Policy statement must contain resources.");
  if (hasResource) {
    const list = stringList(raw.Resource ?? raw.NotResource, raw.Resource ? "Resource" : "NotResource");
    for (const r of list)
      if (r !== "*" && !r.startsWith("arn:") && !r.startsWith("${"))
        throw new MalformedPolicy(`Resource ${r} must be in ARN format or "*".`);
    if (raw.Resource !== undefined) st.resource = list;
    else st.notResource = list;
  }

  const hasPrincipal = raw.Principal !== undefined || raw.NotPrincipal !== undefined;
  if (kind === "identity" && hasPrincipal) throw new MalformedPolicy("Policy document should not specify a principal.");
  if (kind !== "identity" && !hasPrincipal) throw new MalformedPolicy("Missing required field Principal");
  if (raw.Principal !== undefined) st.principal = principal(raw.Principal, "Principal");
  if (raw.NotPrincipal !== undefined) st.notPrincipal = principal(raw.NotPrincipal, "NotPrincipal");

  if (raw.Condition !== undefined) {
    if (!isObject(raw.Condition)) throw new MalformedPolicy("Syntax errors in policy: Condition must be an object.");
    const block: ConditionBlock = {};
    for (const [op, keys] of Object.entries(raw.Condition)) {
      if (!parseOperator(op)) throw new MalformedPolicy(`Invalid Condition type : ${op}.`);
      if (!isObject(keys)) throw new MalformedPolicy(`Syntax errors in policy: Condition ${op} must be an object.`);
      block[op] = {};
      for (const [key, values] of Object.entries(keys)) {
        if (!/^[a-zA-Z0-9-]+:[^\s]+$/.test(key))
          throw new MalformedPolicy(
            `Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc. (condition key "${key}")`,
          );
        block[op][key] = conditionValues(values, op, key);
      }
    }
    st.condition = block;
  }
  return st;
}

/**
 * Parses a policy document (JSON text) of the given kind. Throws MalformedPolicy with a message
 * like AWS's for anything IAM would refuse.
 */
export function parsePolicy(text: string, kind: PolicyKind): Policy {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new MalformedPolicy("This policy contains invalid Json");
  }
  if (!isObject(raw)) throw new MalformedPolicy("Syntax errors in policy.");
  for (const key of Object.keys(raw))
    if (key !== "Version" && key !== "Id" && key !== "Statement")
      throw new MalformedPolicy(`Syntax errors in policy: unknown field ${key}.`);
  const version = raw.Version ?? "2008-10-17";
  if (version !== "2012-10-17" && version !== "2008-10-17")
    throw new MalformedPolicy("The policy failed legacy parsing");
  if (raw.Statement === undefined) throw new MalformedPolicy("Missing required field Statement");
  const list = Array.isArray(raw.Statement) ? raw.Statement : [raw.Statement];
  if (list.length === 0) throw new MalformedPolicy("Syntax errors in policy: Statement must not be empty.");
  const statements = list.map((s) => statement(s, kind));
  const sids = statements.map((s) => s.sid).filter((s): s is string => !!s);
  if (new Set(sids).size !== sids.length)
    throw new MalformedPolicy("Statement IDs (SID) in a single policy must be unique.");
  return { version, id: typeof raw.Id === "string" ? raw.Id : undefined, statements };
}

/** parsePolicy for documents already accepted once (stored); never throws, a broken one grants nothing. */
export function readStoredPolicy(text: string | undefined, kind: PolicyKind): Policy | undefined {
  if (!text) return undefined;
  try {
    return parsePolicy(text, kind);
  } catch {
    return undefined;
  }
}

/** Characters that count against IAM's policy size quotas (whitespace does not). */
export const policySize = (text: string) => text.replace(/\s/g, "").length;
