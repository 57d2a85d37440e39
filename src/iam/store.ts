import type { Scope } from "../core/ids.js";
import type { Tag } from "../protocol/generated/types/iam.js";
import type { Collection, DocumentStore } from "../store/documents.js";
import type { PolicySet } from "./evaluate.js";
import type { CallerIdentity } from "./identity.js";
import { AWS_MANAGED_POLICIES, awsManagedPolicy, awsManagedPolicyArn } from "./managed-policies.js";
import { type Policy, readStoredPolicy } from "./policy.js";
import { globalArn } from "../core/ids.js";

/** IAM is global: every IAM resource of an account lives in this pseudo-region. */
export const IAM_REGION = "global";
export const iamScope = (account: string): Scope => ({ account, region: IAM_REGION });
const SYSTEM: Scope = { account: "-", region: "-" };

/** Inline policies by name, and attached managed policy ARNs, shared by roles, users and groups. */
interface PolicyHolder {
  attached: string[];
  inline: Record<string, string>;
  permissionsBoundary?: string;
}

export interface RoleRecord extends PolicyHolder {
  RoleName: string;
  RoleId: string;
  Arn: string;
  Path: string;
  CreateDate: Date;
  AssumeRolePolicyDocument: string;
  Description?: string;
  MaxSessionDuration: number;
  Tags: Tag[];
  RoleLastUsedDate?: Date;
  RoleLastUsedRegion?: string;
}

export interface UserRecord extends PolicyHolder {
  UserName: string;
  UserId: string;
  Arn: string;
  Path: string;
  CreateDate: Date;
  Tags: Tag[];
}

export interface GroupRecord extends PolicyHolder {
  GroupName: string;
  GroupId: string;
  Arn: string;
  Path: string;
  CreateDate: Date;
  members: string[];
}

export interface PolicyVersionRecord {
  VersionId: string;
  Document: string;
  CreateDate: Date;
}

export interface ManagedPolicyRecord {
  PolicyName: string;
  PolicyId: string;
  Arn: string;
  Path: string;
  Description?: string;
  CreateDate: Date;
  UpdateDate: Date;
  DefaultVersionId: string;
  versions: PolicyVersionRecord[];
  nextVersion: number;
  Tags: Tag[];
}

export interface AccessKeyRecord {
  AccessKeyId: string;
  account: string;
  UserName: string;
  Status: "Active" | "Inactive";
  CreateDate: Date;
  /** The secret, sealed with the data directory's key. */
  sealedSecret: string;
  LastUsedDate?: Date;
  lastUsedService?: string;
  lastUsedRegion?: string;
}

export interface InstanceProfileRecord {
  InstanceProfileName: string;
  InstanceProfileId: string;
  Arn: string;
  Path: string;
  CreateDate: Date;
  roles: string[];
  Tags: Tag[];
}

const iamArn = (type: string) => (account: string, path: string, name: string) =>
  globalArn("iam", account, `${type}${path}${name}`);
export const roleArn = iamArn("role");
export const userArn = iamArn("user");
export const groupArn = iamArn("group");
export const policyArn = iamArn("policy");
export const instanceProfileArn = iamArn("instance-profile");

/** `arn:aws:iam::<acct>:role/<path>/<name>` → { account, name }. */
export function parseRoleArn(arn: string): { account: string; name: string } | undefined {
  const m = /^arn:aws:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(arn);
  return m ? { account: m[1], name: m[2] } : undefined;
}

/**
 * The IAM data every part of Berth reads: the IAM provider writes it, STS and the authorizer
 * read it. IAM names are case-insensitive and unique per account, so records are keyed by the
 * lower-cased name.
 */
export class IamStore {
  readonly roles: Collection<RoleRecord>;
  readonly users: Collection<UserRecord>;
  readonly groups: Collection<GroupRecord>;
  readonly policies: Collection<ManagedPolicyRecord>;
  readonly instanceProfiles: Collection<InstanceProfileRecord>;
  readonly accessKeys: Collection<AccessKeyRecord>;

  constructor(readonly store: DocumentStore) {
    this.roles = store.collection<RoleRecord>("iam.role", { id: (r) => r.RoleName.toLowerCase(), arn: (r) => r.Arn });
    this.users = store.collection<UserRecord>("iam.user", { id: (u) => u.UserName.toLowerCase(), arn: (u) => u.Arn });
    this.groups = store.collection<GroupRecord>("iam.group", {
      id: (g) => g.GroupName.toLowerCase(),
      arn: (g) => g.Arn,
    });
    this.policies = store.collection<ManagedPolicyRecord>("iam.policy", { id: (p) => p.Arn, arn: (p) => p.Arn });
    this.instanceProfiles = store.collection<InstanceProfileRecord>("iam.instanceProfile", {
      id: (p) => p.InstanceProfileName.toLowerCase(),
      arn: (p) => p.Arn,
    });
    // Access keys are found by id alone when a request arrives, so they live outside accounts.
    this.accessKeys = store.collection<AccessKeyRecord>("iam.accessKey", {
      id: (k) => k.AccessKeyId,
      parent: (k) => `${k.account}/${k.UserName.toLowerCase()}`,
    });
  }

  role(account: string, name: string) {
    return this.roles.get(iamScope(account), name.toLowerCase());
  }
  user(account: string, name: string) {
    return this.users.get(iamScope(account), name.toLowerCase());
  }
  group(account: string, name: string) {
    return this.groups.get(iamScope(account), name.toLowerCase());
  }
  instanceProfile(account: string, name: string) {
    return this.instanceProfiles.get(iamScope(account), name.toLowerCase());
  }

  roleByArn(arn: string): RoleRecord | undefined {
    const p = parseRoleArn(arn);
    if (!p) return undefined;
    const r = this.role(p.account, p.name);
    return r && r.Arn === arn ? r : undefined;
  }

  accessKey(id: string) {
    return this.accessKeys.get(SYSTEM, id);
  }
  keysOf(account: string, userName: string) {
    return this.accessKeys.children(SYSTEM, `${account}/${userName.toLowerCase()}`);
  }
  putAccessKey(k: AccessKeyRecord) {
    return this.accessKeys.put(SYSTEM, k);
  }
  deleteAccessKey(id: string) {
    return this.accessKeys.delete(SYSTEM, id);
  }

  /** The default version's document of a managed policy (customer or AWS managed), by ARN. */
  managedPolicyDocument(arn: string): string | undefined {
    const aws = awsManagedPolicy(arn);
    if (aws) return JSON.stringify(aws.document);
    const m = /^arn:aws:iam::(\d{12}):policy\//.exec(arn);
    if (!m) return undefined;
    const p = this.policies.get(iamScope(m[1]), arn);
    return p?.versions.find((v) => v.VersionId === p.DefaultVersionId)?.Document;
  }

  private documentsOf(holder: PolicyHolder): Policy[] {
    const docs: Policy[] = [];
    for (const arn of holder.attached) {
      const p = readStoredPolicy(this.managedPolicyDocument(arn), "identity");
      if (p) docs.push(p);
    }
    for (const text of Object.values(holder.inline)) {
      const p = readStoredPolicy(text, "identity");
      if (p) docs.push(p);
    }
    return docs;
  }

  /**
   * The policies that decide what a caller may do. Root gets implicit full identity permissions;
   * a user its own and its groups' policies; a role session its role's policies narrowed by the
   * session's policies. A deleted user or role holds nothing.
   */
  policySetOf(caller: CallerIdentity): PolicySet {
    if (caller.kind === "root") return { identity: [], rootIdentity: true };
    let set: PolicySet;
    if (caller.kind === "user") {
      const u = caller.userName ? this.user(caller.account, caller.userName) : undefined;
      if (!u || u.Arn !== caller.arn) return { identity: [] };
      const identity = this.documentsOf(u);
      for (const g of this.groups.list(iamScope(caller.account)))
        if (g.members.includes(u.UserName.toLowerCase())) identity.push(...this.documentsOf(g));
      set = { identity, boundary: this.boundaryOf(u) };
    } else {
      const r = caller.roleArn ? this.roleByArn(caller.roleArn) : undefined;
      if (!r || (caller.roleId && r.RoleId !== caller.roleId)) return { identity: [] };
      set = { identity: this.documentsOf(r), boundary: this.boundaryOf(r) };
    }
    const s = caller.session;
    if (s && (s.policy || s.policyArns?.length)) {
      const session: Policy[] = [];
      const inline = readStoredPolicy(s.policy, "identity");
      if (inline) session.push(inline);
      for (const arn of s.policyArns ?? []) {
        const p = readStoredPolicy(this.managedPolicyDocument(arn), "identity");
        if (p) session.push(p);
      }
      // A session policy that no longer parses (or a deleted policy) grants nothing.
      set.session = session.length ? session : [{ version: "2012-10-17", statements: [] }];
    }
    return set;
  }

  private boundaryOf(holder: PolicyHolder): Policy | undefined {
    if (!holder.permissionsBoundary) return undefined;
    return (
      readStoredPolicy(this.managedPolicyDocument(holder.permissionsBoundary), "identity") ?? {
        version: "2012-10-17",
        statements: [],
      }
    );
  }

  /** Tags of the caller's user or role (aws:PrincipalTag/…), with session tags winning. */
  principalTags(caller: CallerIdentity): Record<string, string> {
    const out: Record<string, string> = {};
    const tags =
      caller.kind === "user" && caller.userName
        ? this.user(caller.account, caller.userName)?.Tags
        : caller.kind === "assumed-role" && caller.roleArn
          ? this.roleByArn(caller.roleArn)?.Tags
          : undefined;
    for (const t of tags ?? []) out[t.Key] = t.Value;
    Object.assign(out, caller.session?.tags ?? {});
    return out;
  }

  /** Every AWS managed policy ARN (for listing). */
  static awsManagedArns(): string[] {
    return AWS_MANAGED_POLICIES.map(awsManagedPolicyArn);
  }
}
