import type { Clock } from "../core/clock.js";
import { ServiceError, commonErrors } from "../core/errors.js";
import { type Scope, rootArn } from "../core/ids.js";
import type { RequestContext as ConditionContext } from "./conditions.js";
import { type Evaluation, type PolicySet, evaluate, evaluateTrust } from "./evaluate.js";
import { type CallerIdentity, requestPrincipal } from "./identity.js";
import { type Policy, readStoredPolicy } from "./policy.js";
import { type ResourceResolver, genericResolver } from "./resources.js";
import type { IamStore } from "./store.js";

/** A resource policy by resource ARN (ECR repository policies, Secrets Manager secret policies). */
export type ResourcePolicyLookup = (resourceArn: string) => string | undefined;

export interface AuthorizationResult {
  allowed: boolean;
  evaluation: Evaluation;
  /** AWS's sentence: "User: … is not authorized to perform: … on resource: … because …". */
  message: string;
}

/** Calls that every caller may make whatever its policies say (as in AWS). */
const ALWAYS_ALLOWED = new Set(["sts:GetCallerIdentity"]);
/** Roles a call hands to a service: the caller needs iam:PassRole on each (iam:PassedToService set). */
const PASSES_ROLES: Record<string, { service: string; roles: (input: Record<string, unknown>) => unknown[] }> = {
  "ecs:RegisterTaskDefinition": {
    service: "ecs-tasks.amazonaws.com",
    roles: (i) => [i.taskRoleArn, i.executionRoleArn],
  },
  "ecs:RunTask": {
    service: "ecs-tasks.amazonaws.com",
    roles: (i) => {
      const o = (i.overrides ?? {}) as Record<string, unknown>;
      return [o.taskRoleArn, o.executionRoleArn];
    },
  },
};
PASSES_ROLES["ecs:StartTask"] = PASSES_ROLES["ecs:RunTask"];

/** Calls whose provider decides (AssumeRole checks the trust policy itself). */
const PROVIDER_DECIDES = new Set(["sts:AssumeRole", "sts:GetSessionToken"]);

export function deniedMessage(callerArn: string, action: string, resource: string, e: Evaluation): string {
  const why =
    e.decision === "ExplicitDeny"
      ? `with an explicit deny in a${e.source === "identity-based policy" ? "n" : ""} ${e.source}`
      : `because no ${e.source ?? "identity-based policy"} allows the ${action} action`;
  return `User: ${callerArn} is not authorized to perform: ${action} on resource: ${resource} ${why}`;
}

/** The error code and status AWS uses for an authorisation failure in each wire protocol. */
export function accessDenied(protocol: string, message: string): ServiceError {
  if (protocol === "query") return commonErrors.AccessDenied(message);
  if (protocol === "ec2") return new ServiceError("UnauthorizedOperation", message, 403);
  if (protocol === "rest-json") return commonErrors.RestJsonAccessDeniedException(message);
  return commonErrors.AccessDeniedException(message);
}

/**
 * Decides every call: identity policies from IAM, the resource's policy when it has one, and the
 * standard request context (principal, time, region, tags). Root and permissive callers are
 * allowed without evaluation.
 */
export class Authorizer {
  private readonly prefixes = new Map<string, string>();
  private readonly resolvers = new Map<string, ResourceResolver>();
  private readonly resourcePolicies = new Map<string, ResourcePolicyLookup>();

  constructor(
    readonly iam: IamStore,
    private readonly clock: Clock,
  ) {}

  /** Sets the IAM action prefix of a Berth service id (`elbv2` → `elasticloadbalancing`). */
  actionPrefix(serviceId: string, prefix: string) {
    this.prefixes.set(serviceId, prefix);
  }

  /** Adds (or replaces) how a service's calls name their resources. */
  resolveResourcesWith(serviceId: string, resolver: ResourceResolver) {
    this.resolvers.set(serviceId, resolver);
  }

  /** Adds where a service's resource policies come from (by IAM prefix: `ecr`, `secretsmanager`). */
  resourcePoliciesFrom(prefix: string, lookup: ResourcePolicyLookup) {
    this.resourcePolicies.set(prefix, lookup);
  }

  /** `prefix:Operation` for a Berth service id; the SigV4 signing name when the service set no prefix. */
  action(serviceId: string, signingName: string, operation: string): string {
    return `${this.prefixes.get(serviceId) ?? signingName}:${operation}`;
  }

  resources(
    serviceId: string,
    operation: string,
    input: Record<string, unknown>,
    scope: Scope,
    caller?: CallerIdentity,
  ) {
    const list = (this.resolvers.get(serviceId) ?? genericResolver)(operation, input, scope, caller);
    return list.length ? list : ["*"];
  }

  /** The request context condition keys read (lower-cased keys). */
  context(caller: CallerIdentity, region: string | undefined, extra: ConditionContext = {}): ConditionContext {
    const now = this.clock.now();
    const ctx: ConditionContext = {
      "aws:currenttime": [now.toISOString()],
      "aws:epochtime": [String(Math.floor(now.getTime() / 1000))],
      "aws:principalaccount": [caller.account],
      "aws:principalarn": [caller.roleArn ?? caller.arn],
      "aws:principaltype": [caller.kind === "root" ? "Account" : caller.kind === "user" ? "User" : "AssumedRole"],
      "aws:userid": [caller.userId],
      "aws:securetransport": ["false"],
      "aws:viaawsservice": ["false"],
    };
    if (region) ctx["aws:requestedregion"] = [region];
    if (caller.userName) ctx["aws:username"] = [caller.userName];
    if (caller.session) {
      ctx["aws:tokenissuetime"] = [new Date(caller.session.issuedAt).toISOString()];
      ctx["aws:multifactorauthpresent"] = ["false"];
      if (caller.session.sourceIdentity) ctx["aws:sourceidentity"] = [caller.session.sourceIdentity];
    }
    for (const [k, v] of Object.entries(this.iam.principalTags(caller)))
      ctx[`aws:principaltag/${k.toLowerCase()}`] = [v];
    for (const [k, v] of Object.entries(extra)) ctx[k.toLowerCase()] = v;
    return ctx;
  }

  private resourcePolicyOf(resource: string): { policy?: Policy; account?: string } {
    const m = /^arn:aws[a-z-]*:([^:]+):[^:]*:(\d{12})?:/.exec(resource);
    if (!m) return {};
    const lookup = this.resourcePolicies.get(m[1]);
    const text = lookup?.(resource);
    return { policy: readStoredPolicy(text, "resource"), account: m[2] || undefined };
  }

  /** One action on one resource by a caller, with its policies. */
  check(
    caller: CallerIdentity,
    action: string,
    resource: string,
    opts: { region?: string; context?: ConditionContext; policies?: PolicySet } = {},
  ): AuthorizationResult {
    const set = { ...(opts.policies ?? this.iam.policySetOf(caller)) };
    const rp = this.resourcePolicyOf(resource);
    if (rp.policy) set.resource = rp.policy;
    set.resourceAccount = rp.account ?? caller.account;
    const evaluation = evaluate(
      {
        principal: requestPrincipal(caller),
        action,
        resource,
        context: this.context(caller, opts.region, opts.context),
      },
      set,
    );
    return {
      allowed: evaluation.decision === "Allow",
      evaluation,
      message: evaluation.decision === "Allow" ? "" : deniedMessage(caller.arn, action, resource, evaluation),
    };
  }

  /**
   * The edge's authorisation step: throws AccessDenied (in the service's protocol) unless the
   * caller may make this call on every resource it names.
   */
  authorizeCall(
    caller: CallerIdentity,
    service: { id: string; signingName: string; protocol: string },
    operation: string,
    input: Record<string, unknown>,
    scope: Scope & { sourceIp?: string },
  ): void {
    if (caller.permissive) return;
    const action = this.action(service.id, service.signingName, operation);
    if (ALWAYS_ALLOWED.has(action) || PROVIDER_DECIDES.has(action)) return;
    const policies = this.iam.policySetOf(caller);
    const context: ConditionContext = scope.sourceIp ? { "aws:sourceip": [scope.sourceIp] } : {};
    for (const resource of this.resources(service.id, operation, input, scope, caller)) {
      const r = this.check(caller, action, resource, { region: scope.region, policies, context });
      if (!r.allowed) throw accessDenied(service.protocol, r.message);
    }
    const passes = PASSES_ROLES[action];
    for (const role of passes?.roles(input) ?? []) {
      if (typeof role !== "string" || !role) continue;
      const r = this.check(caller, "iam:PassRole", role, {
        region: scope.region,
        policies,
        context: { ...context, "iam:passedtoservice": [passes!.service] },
      });
      if (!r.allowed) throw accessDenied(service.protocol, r.message);
    }
  }

  /**
   * Whether `caller` may assume `roleArn` (trust policy + the caller's own permissions), with
   * the extra context AssumeRole provides (sts:ExternalId, sts:RoleSessionName, aws:SourceArn…).
   */
  checkAssumeRole(
    caller: CallerIdentity | { kind: "service"; service: string; account: string },
    roleArn: string,
    trustText: string | undefined,
    extra: ConditionContext,
    action = "sts:AssumeRole",
  ): AuthorizationResult {
    const trust = readStoredPolicy(trustText, "trust");
    const roleAccount = /^arn:aws:iam::(\d{12}):/.exec(roleArn)?.[1];
    if (caller.kind === "service") {
      const now = this.clock.now();
      const context: ConditionContext = {
        "aws:currenttime": [now.toISOString()],
        "aws:epochtime": [String(Math.floor(now.getTime() / 1000))],
        "aws:sourceaccount": [caller.account],
        "aws:principalservicename": [caller.service],
      };
      for (const [k, v] of Object.entries(extra)) context[k.toLowerCase()] = v;
      const evaluation = evaluateTrust(
        { principal: { kind: "service", arn: caller.service }, action, resource: roleArn, context },
        trust,
        { identity: [], resourceAccount: roleAccount },
      );
      return {
        allowed: evaluation.decision === "Allow",
        evaluation,
        message: `${caller.service} is not authorized to perform: ${action} on resource: ${roleArn}`,
      };
    }
    const policies = { ...this.iam.policySetOf(caller), resourceAccount: roleAccount };
    const evaluation = evaluateTrust(
      {
        principal: requestPrincipal(caller),
        action,
        resource: roleArn,
        context: this.context(caller, undefined, extra),
      },
      trust,
      policies,
    );
    return {
      allowed: evaluation.decision === "Allow",
      evaluation,
      message: `User: ${caller.arn} is not authorized to perform: ${action} on resource: ${roleArn}`,
    };
  }
}

/**
 * Whether a resource policy lets another account's root (a credential that names only its
 * account, like an ECR registry token) perform `action` on the resource. Pure.
 */
export function resourcePolicyGrantsAccount(
  policyText: string | undefined,
  callerAccount: string,
  action: string,
  resourceArn: string,
  ownerAccount: string,
): boolean {
  const policy = readStoredPolicy(policyText, "resource");
  if (!policy) return false;
  return (
    evaluate(
      {
        principal: { kind: "root", arn: rootArn(callerAccount), account: callerAccount },
        action,
        resource: resourceArn,
        context: {},
      },
      { identity: [], rootIdentity: true, resource: policy, resourceAccount: ownerAccount },
    ).decision === "Allow"
  );
}
