import { type RequestContext, conditionsHold, substituteVariables } from "./conditions.js";
import type { Policy, PrincipalSpec, Statement } from "./policy.js";
import { actionMatches, arnMatches } from "./wildcard.js";
import { rootArn } from "../core/ids.js";

/**
 * The policy evaluator: AWS's decision logic over identity, resource, boundary, session and
 * trust policies. Pure: `(request, policies) → decision`, no I/O and no clock (time arrives as
 * the aws:CurrentTime / aws:EpochTime context keys).
 */

/** Who makes a request, as policies see it. */
export interface RequestPrincipal {
  kind: "root" | "user" | "assumed-role" | "service";
  /** Root `arn:aws:iam::<acct>:root`, user ARN, session `arn:aws:sts::<acct>:assumed-role/<role>/<session>`, or the service name. */
  arn: string;
  account?: string;
  /** For role sessions: the role's ARN (with its path). */
  roleArn?: string;
}

export interface AuthorizationRequest {
  principal: RequestPrincipal;
  /** `service:Operation`, e.g. `ssm:GetParameter`. */
  action: string;
  /** The resource ARN, or `*` when the action has no resource. */
  resource: string;
  /** Condition keys (lower case) → values. */
  context: RequestContext;
}

export type Decision = "Allow" | "ExplicitDeny" | "ImplicitDeny";

/** How a policy's statements applied to one request. */
export interface PolicyOutcome {
  allowed: boolean;
  denied: boolean;
  /** An Allow whose Principal named this exact principal (user ARN or session ARN), not just its account or role. */
  directAllow: boolean;
}

export type PolicySource =
  | "identity-based policy"
  | "resource-based policy"
  | "permissions boundary"
  | "session policy";

export interface Evaluation {
  decision: Decision;
  /** Which kind of policy decided a denial (for AccessDenied messages). */
  source?: PolicySource;
}

/** What applies to a request: the principal's own policies and, when the resource has one, its policy. */
export interface PolicySet {
  identity: Policy[];
  /** A permissions boundary caps identity-based permissions. */
  boundary?: Policy;
  /** Session policies (AssumeRole's Policy/PolicyArns) cap a role session. */
  session?: Policy[];
  /** The resource's policy (ECR repository policy, secret policy, a role's trust policy). */
  resource?: Policy;
  /** The account owning the resource (defaults to the principal's: same-account access). */
  resourceAccount?: string;
  /** The root user's identity permissions are implicit: everything in its own account. */
  rootIdentity?: boolean;
}

function actionApplies(st: Statement, action: string): boolean {
  if (st.action) return st.action.some((p) => actionMatches(p, action));
  return !st.notAction!.some((p) => actionMatches(p, action));
}

function resourceApplies(st: Statement, resource: string, ctx: RequestContext, variables: boolean): boolean {
  const matches = (pattern: string) => {
    const p = variables ? substituteVariables(pattern, ctx) : pattern;
    return p !== undefined && arnMatches(p, resource);
  };
  if (st.resource) return st.resource.some(matches);
  if (st.notResource) return !st.notResource.some(matches);
  return true; // resource and trust policies may omit Resource: the resource is the policy's owner
}

/**
 * How a Principal element matches: "none"; "account" (it names the principal's account, which
 * delegates to that account's own policies); or "direct" (it names this principal, its role, or
 * everyone with `*`).
 */
export function principalMatch(spec: PrincipalSpec | undefined, p: RequestPrincipal): "none" | "account" | "direct" {
  if (spec === undefined) return "none";
  if (spec === "*") return "direct";
  let best: "none" | "account" | "direct" = "none";
  if (p.kind === "service") {
    for (const s of spec.Service ?? []) if (s === "*" || s === p.arn) best = "direct";
    return best;
  }
  for (const id of spec.AWS ?? []) {
    if (id === "*") {
      best = "direct";
    } else if (id === p.arn || (p.roleArn && id === p.roleArn)) {
      best = "direct";
    } else if (p.account && (id === p.account || id === rootArn(p.account))) {
      if (p.kind === "root") best = "direct";
      else if (best === "none") best = "account";
    }
  }
  return best;
}

function principalApplies(st: Statement, p: RequestPrincipal): "none" | "account" | "direct" {
  if (st.principal !== undefined) return principalMatch(st.principal, p);
  if (st.notPrincipal !== undefined) return principalMatch(st.notPrincipal, p) === "none" ? "direct" : "none";
  return "account"; // identity policies: the principal is whoever holds them
}

/** Applies one policy's statements to a request. */
export function evaluatePolicy(policy: Policy, req: AuthorizationRequest, withPrincipal = false): PolicyOutcome {
  const out: PolicyOutcome = { allowed: false, denied: false, directAllow: false };
  const variables = policy.version === "2012-10-17";
  for (const st of policy.statements) {
    if (!actionApplies(st, req.action)) continue;
    if (!resourceApplies(st, req.resource, req.context, variables)) continue;
    const who = withPrincipal ? principalApplies(st, req.principal) : "account";
    if (who === "none") continue;
    if (!conditionsHold(st.condition, req.context, variables)) continue;
    if (st.effect === "Deny") out.denied = true;
    else {
      out.allowed = true;
      if (who === "direct") out.directAllow = true;
    }
  }
  return out;
}

const combine = (policies: Policy[], req: AuthorizationRequest, withPrincipal = false): PolicyOutcome => {
  const out: PolicyOutcome = { allowed: false, denied: false, directAllow: false };
  for (const p of policies) {
    const o = evaluatePolicy(p, req, withPrincipal);
    out.allowed ||= o.allowed;
    out.denied ||= o.denied;
    out.directAllow ||= o.directAllow;
  }
  return out;
};

/**
 * AWS's order: an explicit Deny anywhere wins; then an Allow is needed from the identity-based
 * policies or (same account) from the resource-based policy; a boundary and session policies can
 * only narrow identity-based permissions; cross-account access needs both sides to allow.
 */
export function evaluate(req: AuthorizationRequest, set: PolicySet): Evaluation {
  const identity = set.rootIdentity
    ? { allowed: true, denied: combine(set.identity, req).denied, directAllow: false }
    : combine(set.identity, req);
  const resource = set.resource ? evaluatePolicy(set.resource, req, true) : undefined;
  const boundary = set.boundary ? evaluatePolicy(set.boundary, req) : undefined;
  const session = set.session?.length ? combine(set.session, req) : undefined;

  if (identity.denied) return { decision: "ExplicitDeny", source: "identity-based policy" };
  if (resource?.denied) return { decision: "ExplicitDeny", source: "resource-based policy" };
  if (boundary?.denied) return { decision: "ExplicitDeny", source: "permissions boundary" };
  if (session?.denied) return { decision: "ExplicitDeny", source: "session policy" };

  const principalAccount = req.principal.account;
  const sameAccount = !set.resourceAccount || !principalAccount || set.resourceAccount === principalAccount;
  if (!sameAccount) {
    if (!resource?.allowed) return { decision: "ImplicitDeny", source: "resource-based policy" };
    if (!identity.allowed) return { decision: "ImplicitDeny", source: "identity-based policy" };
  } else if (resource?.directAllow) {
    // A resource policy naming this principal (or everyone) grants on its own; one naming only
    // the account delegates to the account's identity-based policies.
    return { decision: "Allow" };
  } else if (!identity.allowed) {
    return { decision: "ImplicitDeny", source: "identity-based policy" };
  }
  if (boundary && !boundary.allowed) return { decision: "ImplicitDeny", source: "permissions boundary" };
  if (session && !session.allowed) return { decision: "ImplicitDeny", source: "session policy" };
  return { decision: "Allow" };
}

/**
 * AssumeRole's check: the role's trust policy must allow the caller, and unless it names the
 * caller directly (same account) or the caller is a service, the caller's own policies must
 * allow sts:AssumeRole on the role too.
 */
export function evaluateTrust(
  req: AuthorizationRequest,
  trust: Policy | undefined,
  callerPolicies: PolicySet,
): Evaluation {
  if (!trust) return { decision: "ImplicitDeny", source: "resource-based policy" };
  const t = evaluatePolicy(trust, req, true);
  if (t.denied) return { decision: "ExplicitDeny", source: "resource-based policy" };
  if (!t.allowed) return { decision: "ImplicitDeny", source: "resource-based policy" };
  if (req.principal.kind === "service") return { decision: "Allow" };
  const sameAccount = callerPolicies.resourceAccount === req.principal.account;
  // The trust policy is the resource side; what is left is the caller's own identity side.
  const own = evaluate(req, { ...callerPolicies, resource: undefined, resourceAccount: undefined });
  if (t.directAllow && sameAccount) return own.decision === "ExplicitDeny" ? own : { decision: "Allow" };
  return own;
}
