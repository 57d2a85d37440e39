import type { Clock } from "../../core/clock.js";
import { type KeyLookup, type KeyRules, resolveAccessKey } from "../../iam/credentials.js";
import type { CallerIdentity } from "../../iam/identity.js";
import type { AccessPolicyAssociation } from "../../kube/access-policies.js";
import type { Authenticator, UserInfo } from "../../kube/contracts.js";
import type { ObjectStore } from "../../kube/objects.js";
import { R } from "../../kube/resources.js";
import type { ClusterRef } from "../../kube/types.js";
import { presignedSignatureMatches } from "../../protocol/sigv4.js";
import {
  type EksAccessEntryRecord,
  type EksClusterRecord,
  type EksRecords,
  accessEntryKey,
} from "../../store/schema/eks.js";
import { canonicalArn, withoutPath } from "./arns.js";
import { AWS_AUTH_NAME, AWS_AUTH_NAMESPACE, awsAuthUser, readAwsAuth } from "./aws-auth.js";
import { parseToken } from "./token.js";
import { expandUsername, implicitGroups } from "./validate.js";

export { canonicalArn, withoutPath } from "./arns.js";

const AUTHENTICATED = "system:authenticated";

/** The Kubernetes user an identity is through its access entry (PURE); undefined when the username cannot be filled. */
export function userFromEntry(identity: CallerIdentity, entry: EksAccessEntryRecord): UserInfo | undefined {
  const username = expandUsername(entry.username, {
    accountId: identity.account,
    sessionName: identity.sessionName,
    accessKeyId: identity.accessKeyId,
  });
  if (!username) return undefined;
  const groups = [...new Set([...entry.kubernetesGroups, ...implicitGroups(entry.type), AUTHENTICATED])];
  return { username, uid: uidOf(identity), groups, extra: extraOf(identity) };
}

const uidOf = (identity: CallerIdentity) => `aws-iam-authenticator:${identity.account}:${identity.userId}`;

/** aws-iam-authenticator's user extras: arn, canonicalArn, sessionName, accessKeyId, principalId. */
function extraOf(identity: CallerIdentity): Record<string, string[]> {
  return {
    arn: [identity.arn],
    canonicalArn: [canonicalArn(identity)],
    ...(identity.sessionName ? { sessionName: [identity.sessionName] } : {}),
    accessKeyId: [identity.accessKeyId],
    principalId: [identity.userId],
  };
}

export interface EksAuthenticatorDeps {
  records: EksRecords;
  rules: KeyRules;
  lookup: (accessKeyId: string, sessionToken?: string) => KeyLookup;
  clock: Clock;
  /** Berth's own endpoint (host:port) and its spellings: tokens presigned for Berth's STS are accepted. */
  ownHosts?: () => string[];
  /** The clusters' Kubernetes objects: the aws-auth ConfigMap of CONFIG_MAP and API_AND_CONFIG_MAP clusters. */
  objects?: ObjectStore;
}

/** The Authenticator of the Kubernetes API, plus the access policy associations the Authorizer needs. */
export interface EksAuthenticator extends Authenticator {
  /** The access policies associated with the user's access entry (the Authorizer checks them before RBAC). */
  associationsFor(cluster: ClusterRef, user: UserInfo): AccessPolicyAssociation[];
  /** The identity a token proves, or the reason it proves nothing (PURE checks + signature). */
  verify(cluster: ClusterRef, token: string): Promise<{ identity: CallerIdentity } | { reason: string }>;
}

/**
 * Authentication exactly like EKS: the bearer token is a presigned STS GetCallerIdentity URL
 * bound to the cluster by x-k8s-aws-id; its signature is checked with the secret Berth knows for
 * the access key (Berth's SigV4 verifier, the edge's key rules); the identity is then mapped to a
 * Kubernetes user through the cluster's access entries (a role session through its role's entry).
 */
export function eksAuthenticator(deps: EksAuthenticatorDeps): EksAuthenticator {
  const { records } = deps;
  const cluster = (ref: ClusterRef): EksClusterRecord | undefined => {
    const c = records.clusters.get(ref.scope, ref.name);
    return c && (c.status === "ACTIVE" || c.status === "UPDATING") ? c : undefined;
  };
  const entryFor = (ref: ClusterRef, principal: string) =>
    records.accessEntries.get(ref.scope, accessEntryKey(ref.name, principal)) ??
    records.accessEntries.get(ref.scope, accessEntryKey(ref.name, withoutPath(principal)));

  const verify: EksAuthenticator["verify"] = async (ref, token) => {
    const checked = parseToken(token, {
      clusterName: ref.name,
      now: deps.clock.now(),
      ownHosts: deps.ownHosts?.() ?? [],
    });
    if (!checked.ok) return { reason: checked.reason };
    const { claim, request } = checked;
    const key = resolveAccessKey(deps.rules, deps.lookup, claim.accessKeyId, claim.sessionToken);
    if (key.kind === "refused") return { reason: key.message };
    if (key.kind === "signed" && !(await presignedSignatureMatches(request, claim, key.secretAccessKey)))
      return { reason: "the pre-signed URL's signature does not match (wrong secret, another cluster, or altered)" };
    return { identity: key.identity };
  };

  return {
    verify,
    async authenticate(ref, token) {
      const c = cluster(ref);
      if (!c) return undefined;
      const result = await verify(ref, token);
      if (!("identity" in result)) return undefined;
      return entryUser(ref, c, result.identity);
    },
    associationsFor(ref, user) {
      const principal = user.extra?.canonicalArn?.[0];
      const entry = principal ? entryFor(ref, principal) : undefined;
      return (entry?.policies ?? []).map((p) => ({
        policyArn: p.policyArn ?? "",
        accessScope: {
          type: p.accessScope?.type === "namespace" ? "namespace" : "cluster",
          ...(p.accessScope?.type === "namespace" ? { namespaces: p.accessScope.namespaces ?? [] } : {}),
        },
      }));
    },
  };

  function entryUser(ref: ClusterRef, c: EksClusterRecord, identity: CallerIdentity): UserInfo | undefined {
    const principal = canonicalArn(identity);
    if (c.accessConfig.authenticationMode !== "CONFIG_MAP") {
      const entry = entryFor(ref, principal);
      if (entry) return userFromEntry(identity, entry);
    }
    // CONFIG_MAP mode: the creator is kubernetes-admin in system:masters, as EKS does without access entries.
    const bootstrapped = c.accessConfig.bootstrapClusterCreatorAdminPermissions;
    if (c.accessConfig.authenticationMode === "CONFIG_MAP" && bootstrapped && c.creatorArn === principal)
      return {
        username: "kubernetes-admin",
        uid: uidOf(identity),
        groups: ["system:masters", AUTHENTICATED],
        extra: extraOf(identity),
      };
    if (c.accessConfig.authenticationMode !== "API" && deps.objects) {
      const cm = deps.objects.get(ref, R.configmaps, AWS_AUTH_NAMESPACE, AWS_AUTH_NAME);
      const data = cm?.data as Record<string, string> | undefined;
      if (data) return awsAuthUser(readAwsAuth(data), identity, uidOf(identity), extraOf(identity));
    }
    return undefined;
  }
}
