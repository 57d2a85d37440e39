import { commonErrors } from "../../core/errors.js";
import { stsErrors } from "../../protocol/generated/errors/sts.js";
import type { Credentials } from "../../iam/credentials.js";
import { callerOf } from "../../iam/identity.js";
import { MalformedPolicy, parsePolicy, policySize } from "../../iam/policy.js";
import type { RoleSessions } from "../../iam/sessions.js";
import type { IamStore } from "../../iam/store.js";
import type { Operations } from "../../protocol/generated/types/sts.js";
import { defineService } from "../define.js";
import type { Provider } from "../../protocol/service.js";

export interface StsDeps {
  iam: IamStore;
  credentials: Credentials;
  sessions: RoleSessions;
}

const validation = commonErrors.ValidationError;
const SESSION_NAME = /^[\w+=,.@-]*$/;

/**
 * STS (awsQuery): who am I, AssumeRole (trust policy checked; session name, duration, policies,
 * tags) and GetSessionToken. Without deps (tests of the protocol alone) only GetCallerIdentity works.
 */
export function stsService(deps?: StsDeps) {
  const provider: Provider<Operations> = {
    GetCallerIdentity: (_input, ctx) => {
      const caller = callerOf(ctx);
      return { Account: caller.account, Arn: caller.arn, UserId: caller.userId };
    },
  };
  if (deps) {
    provider.AssumeRole = (input, ctx) => {
      const caller = callerOf(ctx);
      if (!SESSION_NAME.test(input.RoleSessionName))
        throw validation(
          `1 validation error detected: Value '${input.RoleSessionName}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*`,
        );
      if (input.Policy !== undefined) {
        try {
          parsePolicy(input.Policy, "identity");
        } catch (e) {
          if (e instanceof MalformedPolicy) throw stsErrors.MalformedPolicyDocumentException(e.message);
          throw e;
        }
        if (policySize(input.Policy) > 2048)
          throw stsErrors.PackedPolicyTooLargeException(
            "Packed policy consumes more than 100% of the allotted space (2048 characters of session policy).",
          );
      }
      const policyArns = (input.PolicyArns ?? []).map((p) => p.arn ?? "").filter(Boolean);
      for (const arn of policyArns)
        if (!deps.iam.managedPolicyDocument(arn))
          throw validation(`Policy ${arn} does not exist or is not attachable.`);
      const tags: Record<string, string> = {};
      for (const t of input.Tags ?? []) {
        if (Object.keys(tags).some((k) => k.toLowerCase() === t.Key.toLowerCase()))
          throw validation("Duplicate tag keys found. Please note that Tag keys are case insensitive.");
        tags[t.Key] = t.Value;
      }
      const role = deps.iam.roleByArn(input.RoleArn);
      const duration = input.DurationSeconds ?? 3600;
      if (role) {
        if (caller.kind === "assumed-role" && duration > 3600)
          throw validation(
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
          );
        if (duration > role.MaxSessionDuration)
          throw validation(
            `The requested DurationSeconds exceeds the MaxSessionDuration set for this role (${role.MaxSessionDuration} seconds).`,
          );
      }
      const out = deps.sessions.assume(caller, {
        roleArn: input.RoleArn,
        sessionName: input.RoleSessionName,
        durationSec: duration,
        policy: input.Policy,
        policyArns: policyArns.length ? policyArns : undefined,
        tags: Object.keys(tags).length ? tags : undefined,
        externalId: input.ExternalId,
        sourceIdentity: input.SourceIdentity,
        region: ctx.region,
      });
      if (!out.ok) throw commonErrors.AccessDenied(out.message);
      const packed = (input.Policy ? policySize(input.Policy) : 0) + JSON.stringify(tags).length;
      return {
        Credentials: out.credentials,
        AssumedRoleUser: { AssumedRoleId: out.assumedRoleId, Arn: out.assumedRoleArn },
        PackedPolicySize:
          input.Policy || input.Tags?.length ? Math.min(100, Math.ceil((packed / 2048) * 100)) : undefined,
        SourceIdentity: input.SourceIdentity,
      };
    };
    provider.GetSessionToken = (input, ctx) => {
      const caller = callerOf(ctx);
      if (caller.session) throw commonErrors.AccessDenied("Cannot call GetSessionToken with session credentials");
      const max = caller.kind === "root" ? 3600 : 129600;
      const duration = Math.min(input.DurationSeconds ?? 43200, max);
      if (input.DurationSeconds !== undefined && input.DurationSeconds > max)
        throw validation(`The requested DurationSeconds exceeds the ${max} seconds allowed for these credentials.`);
      const issued = deps.credentials.issueSession(
        {
          account: caller.account,
          kind: caller.kind === "root" ? "root" : "user",
          arn: caller.arn,
          userId: caller.userId,
          userName: caller.userName,
        },
        duration,
      );
      return { Credentials: issued.credentials };
    };
    provider.GetAccessKeyInfo = (input, ctx) => {
      const key = deps.iam.accessKey(input.AccessKeyId);
      if (key) return { Account: key.account };
      if (/^\d{12}$/.test(input.AccessKeyId)) return { Account: input.AccessKeyId };
      return { Account: ctx.account };
    };
  }
  return defineService("sts", provider, { validationCode: "ValidationError", typeErrorCode: "MalformedInput" });
}
