import type { Clock } from "../core/clock.js";
import type { Authorizer } from "./authorizer.js";
import type { RequestContext as ConditionContext } from "./conditions.js";
import type { Credentials, TemporaryCredentials } from "./credentials.js";
import type { CallerIdentity, SessionClaims } from "./identity.js";
import { type IamStore, type RoleRecord, iamScope, parseRoleArn } from "./store.js";
import { globalArn } from "../core/ids.js";

export interface AssumeRoleParams {
  roleArn: string;
  sessionName: string;
  durationSec: number;
  policy?: string;
  policyArns?: string[];
  tags?: Record<string, string>;
  externalId?: string;
  sourceIdentity?: string;
  /** Extra condition keys (aws:SourceArn, aws:SourceAccount for services). */
  context?: ConditionContext;
  region?: string;
}

export type AssumeRoleOutcome =
  | {
      ok: true;
      role: RoleRecord;
      credentials: TemporaryCredentials;
      claims: SessionClaims;
      assumedRoleId: string;
      assumedRoleArn: string;
    }
  | { ok: false; reason: "denied"; message: string };

/**
 * Assuming a role, for STS (a caller assumes it) and for ECS (the ecs-tasks.amazonaws.com
 * service assumes task and execution roles). The trust policy decides; the session inherits the
 * role's policies, narrowed by any session policy.
 */
export class RoleSessions {
  constructor(
    private readonly iam: IamStore,
    private readonly credentials: Credentials,
    private readonly authorizer: Authorizer,
    private readonly clock: Clock,
  ) {}

  assume(
    caller: CallerIdentity | { kind: "service"; service: string; account: string },
    p: AssumeRoleParams,
  ): AssumeRoleOutcome {
    const role = this.iam.roleByArn(p.roleArn);
    const who = caller.kind === "service" ? caller.service : caller.arn;
    const denied = (): AssumeRoleOutcome => ({
      ok: false,
      reason: "denied",
      message: `User: ${who} is not authorized to perform: sts:AssumeRole on resource: ${p.roleArn}`,
    });
    if (!role) return denied();
    const context: ConditionContext = { "sts:rolesessionname": [p.sessionName], ...(p.context ?? {}) };
    if (p.externalId !== undefined) context["sts:externalid"] = [p.externalId];
    if (p.sourceIdentity !== undefined) context["sts:sourceidentity"] = [p.sourceIdentity];
    const tagKeys = Object.keys(p.tags ?? {});
    if (tagKeys.length) {
      context["aws:tagkeys"] = tagKeys;
      for (const [k, v] of Object.entries(p.tags ?? {})) context[`aws:requesttag/${k.toLowerCase()}`] = [v];
    }
    const trust = this.authorizer.checkAssumeRole(caller, role.Arn, role.AssumeRolePolicyDocument, context);
    if (!trust.allowed) return denied();
    if (tagKeys.length) {
      // Passing session tags needs sts:TagSession in the trust policy too.
      const tagging = this.authorizer.checkAssumeRole(
        caller,
        role.Arn,
        role.AssumeRolePolicyDocument,
        context,
        "sts:TagSession",
      );
      if (!tagging.allowed) return denied();
    }
    const account = parseRoleArn(role.Arn)!.account;
    const inheritedTags = caller.kind !== "service" ? (caller.session?.tags ?? {}) : {};
    const issued = this.credentials.issueSession(
      {
        account,
        kind: "assumed-role",
        arn: globalArn("sts", account, `assumed-role/${role.RoleName}/${p.sessionName}`),
        userId: `${role.RoleId}:${p.sessionName}`,
        roleArn: role.Arn,
        roleName: role.RoleName,
        roleId: role.RoleId,
        sessionName: p.sessionName,
        policy: p.policy,
        policyArns: p.policyArns,
        tags: { ...inheritedTags, ...(p.tags ?? {}) },
        sourceIdentity: p.sourceIdentity,
      },
      p.durationSec,
    );
    this.iam.store.transaction(() => {
      const current = this.iam.roleByArn(role.Arn);
      if (current)
        this.iam.roles.put(iamScope(account), {
          ...current,
          RoleLastUsedDate: this.clock.now(),
          RoleLastUsedRegion: p.region ?? current.RoleLastUsedRegion,
        });
    });
    return {
      ok: true,
      role,
      credentials: issued.credentials,
      claims: issued.claims,
      assumedRoleId: issued.claims.userId,
      assumedRoleArn: issued.claims.arn,
    };
  }
}
