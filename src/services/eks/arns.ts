import type { CallerIdentity } from "../../iam/identity.js";

/** The principal an identity's access entry is found by: a role session counts as its role. */
export function canonicalArn(identity: Pick<CallerIdentity, "kind" | "arn" | "roleArn">): string {
  return identity.kind === "assumed-role" && identity.roleArn ? identity.roleArn : identity.arn;
}

/** A role ARN without its path (`role/a/b/name` → `role/name`), the other spelling an entry may use. */
export const withoutPath = (arn: string) => arn.replace(/:role\/(?:[^/]+\/)+([^/]+)$/, ":role/$1");
