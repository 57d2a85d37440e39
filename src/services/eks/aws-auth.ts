/**
 * The `aws-auth` ConfigMap (kube-system) of CONFIG_MAP and API_AND_CONFIG_MAP clusters, as
 * aws-iam-authenticator reads it: mapRoles, mapUsers and mapAccounts. PURE.
 */
import { parse } from "yaml";
import type { CallerIdentity } from "../../iam/identity.js";
import type { UserInfo } from "../../kube/contracts.js";
import { withoutPath } from "./arns.js";
import { expandUsername } from "./validate.js";

export const AWS_AUTH_NAMESPACE = "kube-system";
export const AWS_AUTH_NAME = "aws-auth";

interface Mapping {
  arn: string;
  username?: string;
  groups: string[];
}

export interface AwsAuth {
  roles: Mapping[];
  users: Mapping[];
  accounts: string[];
}

function list(text: string | undefined): unknown[] {
  if (!text) return [];
  try {
    const v = parse(text) as unknown;
    return Array.isArray(v) ? v : [];
  } catch {
    return [];
  }
}

const mapping =
  (arnKey: string) =>
  (v: unknown): Mapping[] => {
    if (!v || typeof v !== "object") return [];
    const o = v as Record<string, unknown>;
    const arn = o[arnKey];
    if (typeof arn !== "string" || !arn) return [];
    const groups = Array.isArray(o.groups) ? o.groups.filter((g): g is string => typeof g === "string") : [];
    return [{ arn, ...(typeof o.username === "string" ? { username: o.username } : {}), groups }];
  };

/** The ConfigMap's data as mappings; malformed entries are skipped, as the authenticator does. */
export function readAwsAuth(data: Record<string, string> | undefined): AwsAuth {
  return {
    roles: list(data?.mapRoles).flatMap(mapping("rolearn")),
    users: list(data?.mapUsers).flatMap(mapping("userarn")),
    accounts: list(data?.mapAccounts).map(String),
  };
}

/**
 * The user an identity is through aws-auth: a role session by its role (path ignored), a user by
 * its ARN, else any principal of a mapped account as its ARN. Undefined when nothing maps it.
 */
export function awsAuthUser(
  auth: AwsAuth,
  identity: CallerIdentity,
  uid: string,
  extra: Record<string, string[]>,
): UserInfo | undefined {
  const values = { accountId: identity.account, sessionName: identity.sessionName, accessKeyId: identity.accessKeyId };
  const done = (username: string | undefined, groups: string[]) =>
    username ? { username, uid, groups: [...new Set([...groups, "system:authenticated"])], extra } : undefined;
  if (identity.kind === "assumed-role" && identity.roleArn) {
    const role = withoutPath(identity.roleArn);
    const m = auth.roles.find((r) => withoutPath(r.arn) === role);
    if (m) return done(expandUsername(m.username ?? identity.arn, values), m.groups);
  }
  if (identity.kind === "user") {
    const m = auth.users.find((u) => u.arn === identity.arn);
    if (m) return done(expandUsername(m.username ?? identity.arn, values), m.groups);
  }
  if (auth.accounts.includes(identity.account)) return done(identity.arn, []);
  return undefined;
}
