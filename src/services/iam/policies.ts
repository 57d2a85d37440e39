import type { RequestContext as ConditionContext } from "../../iam/conditions.js";
import { type PolicySet, evaluate } from "../../iam/evaluate.js";
import { fixedUniqueId, newUniqueId } from "../../iam/keys.js";
import {
  AWS_MANAGED_CREATED,
  AWS_MANAGED_POLICIES,
  type AwsManagedPolicy,
  awsManagedPolicy,
  awsManagedPolicyArn,
} from "../../iam/managed-policies.js";
import { MalformedPolicy, parsePolicy } from "../../iam/policy.js";
import { type ManagedPolicyRecord, iamScope, policyArn, userArn } from "../../iam/store.js";
import type {
  ContextEntry,
  EvaluationResult,
  Operations,
  Policy,
  PolicyVersion,
} from "../../protocol/generated/types/iam.js";
import { iamErrors } from "../../protocol/generated/errors/iam.js";
import type { Provider } from "../../protocol/service.js";
import {
  type IamContext,
  alreadyExists,
  byName,
  checkName,
  checkNewTags,
  checkPath,
  checkPolicyDocument,
  deleteConflict,
  encodeDocument,
  invalidInput,
  limitExceeded,
  noSuchEntity,
  page,
} from "./common.js";
import { tagOperations } from "./entities.js";

const MANAGED_QUOTA = { name: "PolicySize", size: 6144 };

/** A managed policy as both kinds look in responses: the stored record's fields, and whether AWS owns it. */
type AnyPolicy = Omit<ManagedPolicyRecord, "nextVersion"> & { aws: boolean };

const fromAws = (p: AwsManagedPolicy): AnyPolicy => ({
  PolicyName: p.name,
  PolicyId: fixedUniqueId("ANPA", p.name),
  Arn: awsManagedPolicyArn(p),
  Path: p.path,
  Description: p.description,
  CreateDate: AWS_MANAGED_CREATED,
  UpdateDate: AWS_MANAGED_CREATED,
  DefaultVersionId: p.versionId,
  versions: [
    { VersionId: p.versionId, Document: JSON.stringify(p.document, null, 4), CreateDate: AWS_MANAGED_CREATED },
  ],
  Tags: [],
  aws: true,
});

const fromRecord = (p: ManagedPolicyRecord): AnyPolicy => ({ ...p, aws: false });

export function policyOperations(c: IamContext): Provider<Operations> {
  const find = (account: string, arn: string): AnyPolicy | undefined => {
    const aws = awsManagedPolicy(arn);
    if (aws) return fromAws(aws);
    const m = /^arn:aws:iam::(\d{12}):policy\//.exec(arn);
    if (!m || m[1] !== account) return undefined;
    const r = c.iam.policies.get(iamScope(account), arn);
    return r ? fromRecord(r) : undefined;
  };
  const requireFound = (account: string, arn: string) => {
    const p = find(account, arn);
    if (!p) throw noSuchEntity(`Policy ${arn} does not exist or is not attachable.`);
    return p;
  };
  const requireCustomer = (account: string, arn: string) => {
    const p = requireFound(account, arn);
    if (p.aws) throw invalidInput(`Policy ${arn} is an AWS managed policy and cannot be modified.`);
    return c.iam.policies.get(iamScope(account), arn)!;
  };
  const save = (account: string, p: ManagedPolicyRecord) => c.iam.policies.put(iamScope(account), p);

  /** Who in the account has the policy attached (or as a boundary). */
  const usage = (account: string, arn: string) => {
    const s = iamScope(account);
    const roles = c.iam.roles.list(s);
    const users = c.iam.users.list(s);
    const groups = c.iam.groups.list(s);
    return {
      roles: roles.filter((r) => r.attached.includes(arn)),
      users: users.filter((u) => u.attached.includes(arn)),
      groups: groups.filter((g) => g.attached.includes(arn)),
      boundaries:
        roles.filter((r) => r.permissionsBoundary === arn).length +
        users.filter((u) => u.permissionsBoundary === arn).length,
    };
  };

  const view = (account: string, p: AnyPolicy, full: boolean): Policy => {
    const u = usage(account, p.Arn);
    return {
      PolicyName: p.PolicyName,
      PolicyId: p.PolicyId,
      Arn: p.Arn,
      Path: p.Path,
      DefaultVersionId: p.DefaultVersionId,
      AttachmentCount: u.roles.length + u.users.length + u.groups.length,
      PermissionsBoundaryUsageCount: u.boundaries,
      IsAttachable: true,
      Description: full ? p.Description : undefined,
      CreateDate: p.CreateDate,
      UpdateDate: p.UpdateDate,
      Tags: full && p.Tags.length ? p.Tags : undefined,
    };
  };

  const versionView = (p: AnyPolicy, v: AnyPolicy["versions"][number], withDocument: boolean): PolicyVersion => ({
    Document: withDocument ? encodeDocument(v.Document) : undefined,
    VersionId: v.VersionId,
    IsDefaultVersion: v.VersionId === p.DefaultVersionId,
    CreateDate: v.CreateDate,
  });

  return {
    ...tagOperations({
      kind: "Policy",
      member: "PolicyArn",
      find: requireCustomer,
      findForList: requireFound,
      save,
    }),
    CreatePolicy: (input, ctx) => {
      const name = checkName(input.PolicyName, "policyName");
      const path = checkPath(input.Path);
      const doc = checkPolicyDocument(input.PolicyDocument, "identity", MANAGED_QUOTA);
      const tags = checkNewTags(input.Tags);
      const arn = policyArn(ctx.account, path, name);
      return c.iam.store.transaction(() => {
        const clash = c.iam.policies
          .list(iamScope(ctx.account))
          .find((p) => p.Arn === arn || (p.PolicyName.toLowerCase() === name.toLowerCase() && p.Path === path));
        if (clash) throw alreadyExists(`A policy called ${name} already exists. Duplicate names are not allowed.`);
        const now = c.clock.now();
        const p: ManagedPolicyRecord = {
          PolicyName: name,
          PolicyId: newUniqueId("ANPA"),
          Arn: arn,
          Path: path,
          Description: input.Description,
          CreateDate: now,
          UpdateDate: now,
          DefaultVersionId: "v1",
          versions: [{ VersionId: "v1", Document: doc, CreateDate: now }],
          nextVersion: 2,
          Tags: tags,
        };
        save(ctx.account, p);
        // CreatePolicy answers with the tags it was given (ListPolicies never shows tags).
        return { Policy: { ...view(ctx.account, fromRecord(p), false), Tags: tags.length ? tags : undefined } };
      });
    },
    GetPolicy: (input, ctx) => ({ Policy: view(ctx.account, requireFound(ctx.account, input.PolicyArn), true) }),
    ListPolicies: (input, ctx) => {
      const scope = input.Scope ?? "All";
      const prefix = input.PathPrefix ?? "/";
      let all: AnyPolicy[] = [];
      if (scope !== "Local") all.push(...AWS_MANAGED_POLICIES.map(fromAws));
      if (scope !== "AWS") all.push(...c.iam.policies.list(iamScope(ctx.account)).map(fromRecord));
      all = all.filter((p) => p.Path.startsWith(prefix)).sort(byName((p) => p.PolicyName));
      let views = all.map((p) => view(ctx.account, p, false));
      if (input.OnlyAttached) views = views.filter((v) => (v.AttachmentCount ?? 0) > 0);
      if (input.PolicyUsageFilter === "PermissionsBoundary")
        views = views.filter((v) => (v.PermissionsBoundaryUsageCount ?? 0) > 0);
      const p = page(views, input.Marker, input.MaxItems);
      return { Policies: p.items, IsTruncated: p.IsTruncated, Marker: p.Marker };
    },
    DeletePolicy: (input, ctx) =>
      c.iam.store.transaction(() => {
        const p = requireCustomer(ctx.account, input.PolicyArn);
        const u = usage(ctx.account, p.Arn);
        if (u.roles.length + u.users.length + u.groups.length + u.boundaries > 0)
          throw deleteConflict("Cannot delete a policy attached to entities.");
        if (p.versions.length > 1)
          throw deleteConflict(
            "Cannot delete a policy with non-default versions. Delete them with DeletePolicyVersion first.",
          );
        c.iam.policies.delete(iamScope(ctx.account), p.Arn);
        return {};
      }),
    CreatePolicyVersion: (input, ctx) => {
      const doc = checkPolicyDocument(input.PolicyDocument, "identity", MANAGED_QUOTA);
      return c.iam.store.transaction(() => {
        const p = requireCustomer(ctx.account, input.PolicyArn);
        if (p.versions.length >= 5)
          throw limitExceeded(
            "A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version.",
          );
        const now = c.clock.now();
        const v = { VersionId: `v${p.nextVersion}`, Document: doc, CreateDate: now };
        const next = save(ctx.account, {
          ...p,
          versions: [...p.versions, v],
          nextVersion: p.nextVersion + 1,
          DefaultVersionId: input.SetAsDefault ? v.VersionId : p.DefaultVersionId,
          UpdateDate: now,
        });
        return { PolicyVersion: versionView(fromRecord(next), v, false) };
      });
    },
    GetPolicyVersion: (input, ctx) => {
      const p = requireFound(ctx.account, input.PolicyArn);
      const v = p.versions.find((x) => x.VersionId === input.VersionId);
      if (!v) throw noSuchEntity(`Policy ${p.Arn} version ${input.VersionId} does not exist or is not attachable.`);
      return { PolicyVersion: versionView(p, v, true) };
    },
    ListPolicyVersions: (input, ctx) => {
      const p = requireFound(ctx.account, input.PolicyArn);
      const versions = [...p.versions].reverse().map((v) => versionView(p, v, false));
      const pg = page(versions, input.Marker, input.MaxItems);
      return { Versions: pg.items, IsTruncated: pg.IsTruncated, Marker: pg.Marker };
    },
    DeletePolicyVersion: (input, ctx) =>
      c.iam.store.transaction(() => {
        const p = requireCustomer(ctx.account, input.PolicyArn);
        if (!p.versions.some((v) => v.VersionId === input.VersionId))
          throw noSuchEntity(`Policy ${p.Arn} version ${input.VersionId} does not exist or is not attachable.`);
        if (input.VersionId === p.DefaultVersionId)
          throw deleteConflict("Cannot delete the default version of a policy.");
        save(ctx.account, { ...p, versions: p.versions.filter((v) => v.VersionId !== input.VersionId) });
        return {};
      }),
    SetDefaultPolicyVersion: (input, ctx) =>
      c.iam.store.transaction(() => {
        const p = requireCustomer(ctx.account, input.PolicyArn);
        if (!p.versions.some((v) => v.VersionId === input.VersionId))
          throw noSuchEntity(`Policy ${p.Arn} version ${input.VersionId} does not exist or is not attachable.`);
        save(ctx.account, { ...p, DefaultVersionId: input.VersionId, UpdateDate: c.clock.now() });
        return {};
      }),
    ListEntitiesForPolicy: (input, ctx) => {
      requireFound(ctx.account, input.PolicyArn);
      const u = usage(ctx.account, input.PolicyArn);
      const prefix = input.PathPrefix ?? "/";
      const f = input.EntityFilter;
      const want = (kind: string) => !f || f === kind;
      return {
        PolicyRoles: want("Role")
          ? u.roles.filter((r) => r.Path.startsWith(prefix)).map((r) => ({ RoleName: r.RoleName, RoleId: r.RoleId }))
          : [],
        PolicyUsers: want("User")
          ? u.users.filter((x) => x.Path.startsWith(prefix)).map((x) => ({ UserName: x.UserName, UserId: x.UserId }))
          : [],
        PolicyGroups: want("Group")
          ? u.groups
              .filter((g) => g.Path.startsWith(prefix))
              .map((g) => ({ GroupName: g.GroupName, GroupId: g.GroupId }))
          : [],
        IsTruncated: false,
      };
    },
    // ---- the policy simulator: Berth's evaluator, answering like IAM's ----
    SimulatePrincipalPolicy: (input, ctx) => {
      const arn = input.PolicySourceArn;
      let set: PolicySet;
      const m = /^arn:aws:iam::(\d{12}):(user|role|group)\/(?:.*\/)?([^/]+)$/.exec(arn);
      if (!m || m[1] !== ctx.account) throw invalidInput(`Invalid ARN: ${arn}`);
      if (m[2] === "user") {
        const u = c.iam.user(ctx.account, m[3]);
        if (!u) throw noSuchEntity(`The user with name ${m[3]} cannot be found.`);
        set = c.iam.policySetOf({
          kind: "user",
          account: ctx.account,
          arn: u.Arn,
          userId: u.UserId,
          userName: u.UserName,
          accessKeyId: "",
          permissive: false,
        });
      } else if (m[2] === "role") {
        const r = c.iam.role(ctx.account, m[3]);
        if (!r) throw noSuchEntity(`The role with name ${m[3]} cannot be found.`);
        set = c.iam.policySetOf({
          kind: "assumed-role",
          account: ctx.account,
          arn: r.Arn,
          roleArn: r.Arn,
          roleId: r.RoleId,
          userId: r.RoleId,
          accessKeyId: "",
          permissive: false,
        });
      } else {
        const g = c.iam.group(ctx.account, m[3]);
        if (!g) throw noSuchEntity(`The group with name ${m[3]} cannot be found.`);
        set = { identity: [] };
        for (const a of g.attached) {
          const d = c.iam.managedPolicyDocument(a);
          if (d) set.identity.push(parseInput(d));
        }
        for (const d of Object.values(g.inline)) set.identity.push(parseInput(d));
      }
      for (const text of input.PolicyInputList ?? []) set.identity.push(parseInput(text));
      return simulate(set, input, arn, ctx.account, m[2] === "role" ? "assumed-role" : "user");
    },
    SimulateCustomPolicy: (input, ctx) => {
      const set: PolicySet = { identity: input.PolicyInputList.map(parseInput) };
      const boundary = input.PermissionsBoundaryPolicyInputList?.[0];
      if (boundary) set.boundary = parseInput(boundary);
      return simulate(set, input, input.CallerArn ?? userArn(ctx.account, "/", "simulated"), ctx.account, "user");
    },
  };
}

function parseInput(text: string) {
  try {
    return parsePolicy(text, "identity");
  } catch (e) {
    if (e instanceof MalformedPolicy) throw iamErrors.MalformedPolicyDocumentException(e.message);
    throw e;
  }
}

function contextOf(entries: ContextEntry[] | undefined): ConditionContext {
  const out: ConditionContext = {};
  for (const e of entries ?? []) if (e.ContextKeyName) out[e.ContextKeyName.toLowerCase()] = e.ContextKeyValues ?? [];
  return out;
}

function simulate(
  set: PolicySet,
  input: { ActionNames: string[]; ResourceArns?: string[]; ResourcePolicy?: string; ContextEntries?: ContextEntry[] },
  callerArn: string,
  account: string,
  kind: "user" | "assumed-role",
) {
  const resources = input.ResourceArns?.length ? input.ResourceArns : ["*"];
  let resource: ReturnType<typeof parsePolicy> | undefined;
  try {
    resource = input.ResourcePolicy ? parsePolicy(input.ResourcePolicy, "resource") : undefined;
  } catch (e) {
    if (e instanceof MalformedPolicy) throw iamErrors.MalformedPolicyDocumentException(e.message);
    throw e;
  }
  const results: EvaluationResult[] = [];
  const decisionName = { Allow: "allowed", ExplicitDeny: "explicitDeny", ImplicitDeny: "implicitDeny" } as const;
  for (const action of input.ActionNames)
    for (const r of resources) {
      const e = evaluate(
        {
          principal: { kind, arn: callerArn, account, roleArn: kind === "assumed-role" ? callerArn : undefined },
          action,
          resource: r,
          context: contextOf(input.ContextEntries),
        },
        { ...set, resource },
      );
      results.push({
        EvalActionName: action,
        EvalResourceName: r,
        EvalDecision: decisionName[e.decision],
        MatchedStatements: [],
        MissingContextValues: [],
      });
    }
  return { EvaluationResults: results, IsTruncated: false };
}
