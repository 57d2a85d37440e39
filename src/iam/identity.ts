import type { Principal, RequestContext } from "../protocol/service.js";
import type { RequestPrincipal } from "./evaluate.js";
import type { SecretBox } from "./secret-box.js";

/**
 * Who a request comes from, once its access key is known. The edge puts this object in
 * `ctx.principal` (it extends the provider-facing Principal), so providers that care about
 * identity (STS, IAM) read it with `callerOf(ctx)`.
 */
export interface CallerIdentity extends Principal {
  kind: "root" | "user" | "assumed-role";
  account: string;
  /** aws:userid: the account id for root, AIDA… for users, `AROA…:session` for role sessions. */
  userId: string;
  userName?: string;
  roleArn?: string;
  roleName?: string;
  roleId?: string;
  sessionName?: string;
  /** Temporary credentials: the session they belong to. */
  session?: SessionClaims;
  /** Whether the credentials are root (or an unknown key taken as root): everything allowed. */
  permissive: boolean;
}

/** A root identity for an account (the root key, unknown keys in lenient mode, 12-digit keys). */
export const rootIdentity = (account: string, accessKeyId: string): CallerIdentity => ({
  kind: "root",
  account,
  arn: `arn:aws:iam::${account}:root`,
  userId: account,
  accessKeyId,
  permissive: true,
});

/** The caller of a request as the edge established it. */
export function callerOf(ctx: RequestContext): CallerIdentity {
  const p = ctx.principal as Partial<CallerIdentity>;
  if (p.kind && p.userId && p.account) return p as CallerIdentity;
  return rootIdentity(ctx.account, ctx.principal.accessKeyId);
}

/** The principal as the policy evaluator sees it. */
export const requestPrincipal = (c: CallerIdentity): RequestPrincipal => ({
  kind: c.kind,
  arn: c.arn,
  account: c.account,
  roleArn: c.roleArn,
});

/** What a session token carries (sealed, so only this Berth can read or mint one). */
export interface SessionClaims {
  v: 1;
  accessKeyId: string;
  secretAccessKey: string;
  account: string;
  kind: "root" | "user" | "assumed-role";
  /** The principal ARN the session acts as. */
  arn: string;
  userId: string;
  userName?: string;
  roleArn?: string;
  roleName?: string;
  roleId?: string;
  sessionName?: string;
  /** Issued and expiry times (epoch ms). */
  issuedAt: number;
  expiresAt: number;
  /** Session policy documents (AssumeRole's Policy) and managed policy ARNs (PolicyArns). */
  policy?: string;
  policyArns?: string[];
  tags?: Record<string, string>;
  sourceIdentity?: string;
}

const PURPOSE = "berth-sts-session";

export const sealSession = (box: SecretBox, claims: SessionClaims) => box.seal(JSON.stringify(claims), PURPOSE);

export function openSession(box: SecretBox, token: string): SessionClaims | undefined {
  // The token travels as standard base64 would; accept it with or without URL-safe characters.
  const text = box.openText(token.trim(), PURPOSE);
  if (!text) return undefined;
  try {
    const claims = JSON.parse(text) as SessionClaims;
    return claims.v === 1 ? claims : undefined;
  } catch {
    return undefined;
  }
}

/** The identity a valid session token stands for. */
export function sessionIdentity(claims: SessionClaims): CallerIdentity {
  return {
    kind: claims.kind,
    account: claims.account,
    arn: claims.arn,
    userId: claims.userId,
    userName: claims.userName,
    roleArn: claims.roleArn,
    roleName: claims.roleName,
    roleId: claims.roleId,
    sessionName: claims.sessionName,
    accessKeyId: claims.accessKeyId,
    session: claims,
    permissive: claims.kind === "root",
  };
}
