import {
  AddRoleToInstanceProfileCommand,
  AddUserToGroupCommand,
  AttachRolePolicyCommand,
  AttachUserPolicyCommand,
  CreateAccessKeyCommand,
  CreateGroupCommand,
  CreateInstanceProfileCommand,
  CreatePolicyCommand,
  CreatePolicyVersionCommand,
  CreateRoleCommand,
  CreateUserCommand,
  DeleteAccessKeyCommand,
  DeleteGroupCommand,
  DeleteInstanceProfileCommand,
  DeletePolicyCommand,
  DeletePolicyVersionCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DeleteUserCommand,
  DetachRolePolicyCommand,
  DetachUserPolicyCommand,
  GetGroupCommand,
  GetInstanceProfileCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  GetUserCommand,
  type IAMClient,
  ListAccessKeysCommand,
  ListAttachedRolePoliciesCommand,
  ListEntitiesForPolicyCommand,
  ListInstanceProfilesForRoleCommand,
  ListPoliciesCommand,
  ListPolicyVersionsCommand,
  ListRolePoliciesCommand,
  ListRoleTagsCommand,
  ListRolesCommand,
  ListUsersCommand,
  PutRolePolicyCommand,
  RemoveRoleFromInstanceProfileCommand,
  RemoveUserFromGroupCommand,
  SetDefaultPolicyVersionCommand,
  SimulatePrincipalPolicyCommand,
  TagRoleCommand,
  UntagRoleCommand,
  UpdateAccessKeyCommand,
  UpdateAssumeRolePolicyCommand,
  UpdateRoleCommand,
} from "@aws-sdk/client-iam";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { allow, awsCli, iamClient, newAccount, rootOf, trustPolicy } from "../support/identity.js";

const account = newAccount();
const ecsTrust = trustPolicy({ Service: "ecs-tasks.amazonaws.com" });
const EXEC_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy";

describe("IAM over awsQuery", () => {
  const endpoint = inject("endpoint");
  let iam: IAMClient;

  beforeAll(() => {
    iam = iamClient(endpoint, rootOf(account));
  });

  describe("roles", () => {
    it("creates, reads, updates, tags and deletes a role; documents come back URL-encoded as in AWS", async () => {
      const created = await iam.send(
        new CreateRoleCommand({
          RoleName: "app",
          Path: "/service/",
          AssumeRolePolicyDocument: ecsTrust,
          Description: "the app",
          Tags: [{ Key: "team", Value: "blue" }],
        }),
      );
      expect(created.Role).toMatchObject({
        RoleName: "app",
        Path: "/service/",
        Arn: `arn:aws:iam::${account}:role/service/app`,
        Description: "the app",
        MaxSessionDuration: 3600,
      });
      expect(created.Role!.RoleId).toMatch(/^AROA[A-Z2-7]{17}$/);
      expect(created.Role!.CreateDate).toBeInstanceOf(Date);
      expect(decodeURIComponent(created.Role!.AssumeRolePolicyDocument!)).toBe(ecsTrust);

      const got = await iam.send(new GetRoleCommand({ RoleName: "APP" })); // names are case-insensitive
      expect(got.Role!.RoleId).toBe(created.Role!.RoleId);
      expect(got.Role!.Tags).toEqual([{ Key: "team", Value: "blue" }]);

      await iam.send(new UpdateRoleCommand({ RoleName: "app", Description: "new", MaxSessionDuration: 7200 }));
      const trust2 = trustPolicy({ AWS: `arn:aws:iam::${account}:root` });
      await iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: "app", PolicyDocument: trust2 }));
      await iam.send(new TagRoleCommand({ RoleName: "app", Tags: [{ Key: "env", Value: "dev" }] }));
      await iam.send(new UntagRoleCommand({ RoleName: "app", TagKeys: ["team"] }));
      const after = await iam.send(new GetRoleCommand({ RoleName: "app" }));
      expect(after.Role).toMatchObject({ Description: "new", MaxSessionDuration: 7200 });
      expect(decodeURIComponent(after.Role!.AssumeRolePolicyDocument!)).toBe(trust2);
      expect((await iam.send(new ListRoleTagsCommand({ RoleName: "app" }))).Tags).toEqual([
        { Key: "env", Value: "dev" },
      ]);

      await iam.send(new DeleteRoleCommand({ RoleName: "app" }));
      await expect(iam.send(new GetRoleCommand({ RoleName: "app" }))).rejects.toMatchObject({
        name: "NoSuchEntityException",
        $metadata: { httpStatusCode: 404 },
        message: "The role with name app cannot be found.",
      });
    });

    it("refuses duplicates, bad names and malformed trust policies, changing nothing", async () => {
      await iam.send(new CreateRoleCommand({ RoleName: "dup", AssumeRolePolicyDocument: ecsTrust }));
      await expect(
        iam.send(new CreateRoleCommand({ RoleName: "dup", AssumeRolePolicyDocument: ecsTrust })),
      ).rejects.toMatchObject({ name: "EntityAlreadyExistsException", $metadata: { httpStatusCode: 409 } });
      await expect(
        iam.send(new CreateRoleCommand({ RoleName: "bad name!", AssumeRolePolicyDocument: ecsTrust })),
      ).rejects.toMatchObject({ name: "ValidationError" });
      await expect(
        iam.send(new CreateRoleCommand({ RoleName: "broken", AssumeRolePolicyDocument: "{not json" })),
      ).rejects.toMatchObject({
        name: "MalformedPolicyDocumentException",
        message: "This policy contains invalid Json",
      });
      await expect(
        iam.send(
          new CreateRoleCommand({
            RoleName: "broken",
            AssumeRolePolicyDocument: JSON.stringify({
              Version: "2012-10-17",
              Statement: [{ Effect: "Allow", Action: "sts:AssumeRole", Resource: "*", Principal: "*" }],
            }),
          }),
        ),
      ).rejects.toMatchObject({ name: "MalformedPolicyDocumentException", message: "Has prohibited field Resource" });
      await expect(iam.send(new GetRoleCommand({ RoleName: "broken" }))).rejects.toMatchObject({
        name: "NoSuchEntityException",
      });
      await expect(
        iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: "dup", PolicyDocument: '{"Statement":[]}' })),
      ).rejects.toMatchObject({ name: "MalformedPolicyDocumentException" });
      await expect(iam.send(new UpdateRoleCommand({ RoleName: "missing", Description: "x" }))).rejects.toMatchObject({
        name: "NoSuchEntityException",
      });
      await iam.send(new DeleteRoleCommand({ RoleName: "dup" }));
    });

    it("lists roles by path prefix, paged with Marker and MaxItems", async () => {
      for (const n of ["l1", "l2", "l3"])
        await iam.send(new CreateRoleCommand({ RoleName: n, Path: "/list/", AssumeRolePolicyDocument: ecsTrust }));
      const first = await iam.send(new ListRolesCommand({ PathPrefix: "/list/", MaxItems: 2 }));
      expect(first.Roles!.map((r) => r.RoleName)).toEqual(["l1", "l2"]);
      expect(first.IsTruncated).toBe(true);
      const second = await iam.send(new ListRolesCommand({ PathPrefix: "/list/", Marker: first.Marker }));
      expect(second.Roles!.map((r) => r.RoleName)).toEqual(["l3"]);
      expect(second.IsTruncated).toBe(false);
      for (const n of ["l1", "l2", "l3"]) await iam.send(new DeleteRoleCommand({ RoleName: n }));
    });

    it("keeps inline policies; refuses malformed ones; DeleteRole needs them gone first", async () => {
      await iam.send(new CreateRoleCommand({ RoleName: "inline", AssumeRolePolicyDocument: ecsTrust }));
      const doc = allow("ssm:GetParameter", `arn:aws:ssm:*:${account}:parameter/app/*`);
      await iam.send(new PutRolePolicyCommand({ RoleName: "inline", PolicyName: "read", PolicyDocument: doc }));
      const got = await iam.send(new GetRolePolicyCommand({ RoleName: "inline", PolicyName: "read" }));
      expect(decodeURIComponent(got.PolicyDocument!)).toBe(doc);
      expect((await iam.send(new ListRolePoliciesCommand({ RoleName: "inline" }))).PolicyNames).toEqual(["read"]);
      await expect(
        iam.send(
          new PutRolePolicyCommand({
            RoleName: "inline",
            PolicyName: "bad",
            PolicyDocument: JSON.stringify({
              Version: "2012-10-17",
              Statement: [{ Effect: "Allow", Action: "ssm:*" }],
            }),
          }),
        ),
      ).rejects.toMatchObject({
        name: "MalformedPolicyDocumentException",
        message: "Policy statement must contain resources.",
      });
      await expect(iam.send(new DeleteRoleCommand({ RoleName: "inline" }))).rejects.toMatchObject({
        name: "DeleteConflictException",
        $metadata: { httpStatusCode: 409 },
      });
      await expect(
        iam.send(new GetRolePolicyCommand({ RoleName: "inline", PolicyName: "nope" })),
      ).rejects.toMatchObject({ name: "NoSuchEntityException" });
      await iam.send(new DeleteRolePolicyCommand({ RoleName: "inline", PolicyName: "read" }));
      await iam.send(new DeleteRoleCommand({ RoleName: "inline" }));
    });
  });

  describe("managed policies", () => {
    it("serves the AWS managed policies ECS users attach, under their real ARNs", async () => {
      const list = await iam.send(new ListPoliciesCommand({ Scope: "AWS", MaxItems: 1000 }));
      const arns = list.Policies!.map((p) => p.Arn);
      for (const name of [
        "service-role/AmazonECSTaskExecutionRolePolicy",
        "AmazonEC2ContainerRegistryReadOnly",
        "CloudWatchLogsFullAccess",
        "AmazonSSMReadOnlyAccess",
        "SecretsManagerReadWrite",
        "AdministratorAccess",
      ])
        expect(arns).toContain(`arn:aws:iam::aws:policy/${name}`);
      const p = await iam.send(new GetPolicyCommand({ PolicyArn: EXEC_POLICY }));
      expect(p.Policy).toMatchObject({
        PolicyName: "AmazonECSTaskExecutionRolePolicy",
        Path: "/service-role/",
        DefaultVersionId: "v1",
      });
      const v = await iam.send(new GetPolicyVersionCommand({ PolicyArn: EXEC_POLICY, VersionId: "v1" }));
      const doc = JSON.parse(decodeURIComponent(v.PolicyVersion!.Document!));
      expect(doc.Statement[0].Action).toEqual(
        expect.arrayContaining([
          "ecr:GetAuthorizationToken",
          "ecr:BatchGetImage",
          "logs:CreateLogStream",
          "logs:PutLogEvents",
        ]),
      );
    });

    it("creates customer policies with versions, attaches and detaches them, and guards deletion", async () => {
      const created = await iam.send(
        new CreatePolicyCommand({ PolicyName: "ReadApp", Path: "/app/", PolicyDocument: allow("ssm:GetParameter") }),
      );
      const arn = created.Policy!.Arn!;
      expect(arn).toBe(`arn:aws:iam::${account}:policy/app/ReadApp`);
      expect(created.Policy).toMatchObject({ DefaultVersionId: "v1", AttachmentCount: 0, IsAttachable: true });
      await expect(
        iam.send(new CreatePolicyCommand({ PolicyName: "ReadApp", Path: "/app/", PolicyDocument: allow("ssm:*") })),
      ).rejects.toMatchObject({ name: "EntityAlreadyExistsException" });

      const v2 = await iam.send(
        new CreatePolicyVersionCommand({ PolicyArn: arn, PolicyDocument: allow("ssm:Get*"), SetAsDefault: true }),
      );
      expect(v2.PolicyVersion).toMatchObject({ VersionId: "v2", IsDefaultVersion: true });
      const versions = await iam.send(new ListPolicyVersionsCommand({ PolicyArn: arn }));
      expect(versions.Versions!.map((x) => [x.VersionId, x.IsDefaultVersion])).toEqual([
        ["v2", true],
        ["v1", false],
      ]);
      await expect(iam.send(new DeletePolicyVersionCommand({ PolicyArn: arn, VersionId: "v2" }))).rejects.toMatchObject(
        { name: "DeleteConflictException" },
      );
      await iam.send(new SetDefaultPolicyVersionCommand({ PolicyArn: arn, VersionId: "v1" }));
      await iam.send(new DeletePolicyVersionCommand({ PolicyArn: arn, VersionId: "v2" }));

      await iam.send(new CreateRoleCommand({ RoleName: "holder", AssumeRolePolicyDocument: ecsTrust }));
      await iam.send(new AttachRolePolicyCommand({ RoleName: "holder", PolicyArn: arn }));
      await iam.send(new AttachRolePolicyCommand({ RoleName: "holder", PolicyArn: EXEC_POLICY }));
      const attached = await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: "holder" }));
      expect(attached.AttachedPolicies).toEqual([
        { PolicyName: "ReadApp", PolicyArn: arn },
        { PolicyName: "AmazonECSTaskExecutionRolePolicy", PolicyArn: EXEC_POLICY },
      ]);
      expect((await iam.send(new GetPolicyCommand({ PolicyArn: arn }))).Policy!.AttachmentCount).toBe(1);
      const entities = await iam.send(new ListEntitiesForPolicyCommand({ PolicyArn: EXEC_POLICY }));
      expect(entities.PolicyRoles!.map((r) => r.RoleName)).toEqual(["holder"]);
      await expect(iam.send(new DeletePolicyCommand({ PolicyArn: arn }))).rejects.toMatchObject({
        name: "DeleteConflictException",
      });
      await expect(
        iam.send(new AttachRolePolicyCommand({ RoleName: "holder", PolicyArn: `arn:aws:iam::${account}:policy/Nope` })),
      ).rejects.toMatchObject({ name: "NoSuchEntityException" });
      await expect(iam.send(new DeleteRoleCommand({ RoleName: "holder" }))).rejects.toMatchObject({
        name: "DeleteConflictException",
        message: "Cannot delete entity, must detach all policies first.",
      });

      const sim = await iam.send(
        new SimulatePrincipalPolicyCommand({
          PolicySourceArn: `arn:aws:iam::${account}:role/holder`,
          ActionNames: ["ssm:GetParameter", "ssm:PutParameter", "ecr:BatchGetImage"],
        }),
      );
      expect(sim.EvaluationResults!.map((r) => [r.EvalActionName, r.EvalDecision])).toEqual([
        ["ssm:GetParameter", "allowed"],
        ["ssm:PutParameter", "implicitDeny"],
        ["ecr:BatchGetImage", "allowed"],
      ]);

      await iam.send(new DetachRolePolicyCommand({ RoleName: "holder", PolicyArn: arn }));
      await iam.send(new DetachRolePolicyCommand({ RoleName: "holder", PolicyArn: EXEC_POLICY }));
      await iam.send(new DeleteRoleCommand({ RoleName: "holder" }));
      await iam.send(new DeletePolicyCommand({ PolicyArn: arn }));
      await expect(iam.send(new GetPolicyCommand({ PolicyArn: arn }))).rejects.toMatchObject({
        name: "NoSuchEntityException",
      });
    });

    it("refuses a malformed managed policy", async () => {
      await expect(
        iam.send(
          new CreatePolicyCommand({
            PolicyName: "Bad",
            PolicyDocument: JSON.stringify({
              Version: "2012-10-17",
              Statement: [{ Effect: "Perhaps", Action: "*", Resource: "*" }],
            }),
          }),
        ),
      ).rejects.toMatchObject({ name: "MalformedPolicyDocumentException", message: "Invalid effect: Perhaps" });
    });
  });

  describe("users, groups and access keys", () => {
    it("creates users with at most two access keys, deactivates and deletes keys, then the user", async () => {
      const u = await iam.send(new CreateUserCommand({ UserName: "alice", Path: "/dev/" }));
      expect(u.User).toMatchObject({ UserName: "alice", Arn: `arn:aws:iam::${account}:user/dev/alice` });
      expect(u.User!.UserId).toMatch(/^AIDA/);
      const k1 = await iam.send(new CreateAccessKeyCommand({ UserName: "alice" }));
      expect(k1.AccessKey!.AccessKeyId).toMatch(/^AKIA[A-Z2-7]{16}$/);
      expect(k1.AccessKey!.SecretAccessKey).toHaveLength(40);
      await iam.send(new CreateAccessKeyCommand({ UserName: "alice" }));
      await expect(iam.send(new CreateAccessKeyCommand({ UserName: "alice" }))).rejects.toMatchObject({
        name: "LimitExceededException",
        message: "Cannot exceed quota for AccessKeysPerUser: 2",
      });
      await iam.send(
        new UpdateAccessKeyCommand({ UserName: "alice", AccessKeyId: k1.AccessKey!.AccessKeyId, Status: "Inactive" }),
      );
      const keys = await iam.send(new ListAccessKeysCommand({ UserName: "alice" }));
      expect(keys.AccessKeyMetadata!.map((k) => k.Status)).toEqual(["Inactive", "Active"]);
      expect(keys.AccessKeyMetadata!.some((k) => "SecretAccessKey" in k)).toBe(false);
      await expect(iam.send(new DeleteUserCommand({ UserName: "alice" }))).rejects.toMatchObject({
        name: "DeleteConflictException",
      });
      for (const k of keys.AccessKeyMetadata!)
        await iam.send(new DeleteAccessKeyCommand({ UserName: "alice", AccessKeyId: k.AccessKeyId! }));

      await iam.send(new CreateGroupCommand({ GroupName: "devs" }));
      await iam.send(new AddUserToGroupCommand({ GroupName: "devs", UserName: "alice" }));
      expect((await iam.send(new GetGroupCommand({ GroupName: "devs" }))).Users!.map((x) => x.UserName)).toEqual([
        "alice",
      ]);
      await iam.send(new AttachUserPolicyCommand({ UserName: "alice", PolicyArn: EXEC_POLICY }));
      expect((await iam.send(new GetUserCommand({ UserName: "alice" }))).User!.UserName).toBe("alice");
      expect((await iam.send(new ListUsersCommand({ PathPrefix: "/dev/" }))).Users!.map((x) => x.UserName)).toEqual([
        "alice",
      ]);
      await iam.send(new DetachUserPolicyCommand({ UserName: "alice", PolicyArn: EXEC_POLICY }));
      await iam.send(new RemoveUserFromGroupCommand({ GroupName: "devs", UserName: "alice" }));
      await iam.send(new DeleteGroupCommand({ GroupName: "devs" }));
      await iam.send(new DeleteUserCommand({ UserName: "alice" }));
      await expect(iam.send(new GetUserCommand({ UserName: "alice" }))).rejects.toMatchObject({
        name: "NoSuchEntityException",
      });
    });
  });

  describe("instance profiles", () => {
    it("holds one role, lists profiles for the role, and refuses deleting one that still holds it", async () => {
      await iam.send(
        new CreateRoleCommand({
          RoleName: "ec2-host",
          AssumeRolePolicyDocument: trustPolicy({ Service: "ec2.amazonaws.com" }),
        }),
      );
      await iam.send(new CreateRoleCommand({ RoleName: "other", AssumeRolePolicyDocument: ecsTrust }));
      const p = await iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: "hosts" }));
      expect(p.InstanceProfile!.Arn).toBe(`arn:aws:iam::${account}:instance-profile/hosts`);
      expect(p.InstanceProfile!.InstanceProfileId).toMatch(/^AIPA/);
      await iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: "hosts", RoleName: "ec2-host" }));
      await expect(
        iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: "hosts", RoleName: "other" })),
      ).rejects.toMatchObject({ name: "LimitExceededException" });
      const got = await iam.send(new GetInstanceProfileCommand({ InstanceProfileName: "hosts" }));
      expect(got.InstanceProfile!.Roles!.map((r) => r.RoleName)).toEqual(["ec2-host"]);
      const forRole = await iam.send(new ListInstanceProfilesForRoleCommand({ RoleName: "ec2-host" }));
      expect(forRole.InstanceProfiles!.map((x) => x.InstanceProfileName)).toEqual(["hosts"]);
      await expect(iam.send(new DeleteInstanceProfileCommand({ InstanceProfileName: "hosts" }))).rejects.toMatchObject({
        name: "DeleteConflictException",
      });
      await expect(iam.send(new DeleteRoleCommand({ RoleName: "ec2-host" }))).rejects.toMatchObject({
        name: "DeleteConflictException",
      });
      await iam.send(new RemoveRoleFromInstanceProfileCommand({ InstanceProfileName: "hosts", RoleName: "ec2-host" }));
      await iam.send(new DeleteInstanceProfileCommand({ InstanceProfileName: "hosts" }));
      await iam.send(new DeleteRoleCommand({ RoleName: "ec2-host" }));
      await iam.send(new DeleteRoleCommand({ RoleName: "other" }));
    });
  });

  describe("AWS CLI v2", () => {
    it("creates a role, attaches the execution role policy and reads both back decoded", async () => {
      const creds = rootOf(account);
      const created = await awsCli(endpoint, creds, [
        "iam",
        "create-role",
        "--role-name",
        "cli-exec",
        "--assume-role-policy-document",
        ecsTrust,
      ]);
      expect(created.ok).toBe(true);
      expect(
        (
          await awsCli(endpoint, creds, [
            "iam",
            "attach-role-policy",
            "--role-name",
            "cli-exec",
            "--policy-arn",
            EXEC_POLICY,
          ])
        ).ok,
      ).toBe(true);
      const got = await awsCli(endpoint, creds, ["iam", "get-role", "--role-name", "cli-exec"]);
      expect(
        got.ok && (got.json as { Role: { AssumeRolePolicyDocument: unknown } }).Role.AssumeRolePolicyDocument,
      ).toEqual(JSON.parse(ecsTrust));
      const listed = await awsCli(endpoint, creds, ["iam", "list-attached-role-policies", "--role-name", "cli-exec"]);
      expect(listed.ok && listed.json).toEqual({
        AttachedPolicies: [{ PolicyName: "AmazonECSTaskExecutionRolePolicy", PolicyArn: EXEC_POLICY }],
      });
      const missing = await awsCli(endpoint, creds, ["iam", "get-role", "--role-name", "no-such-role"]);
      expect(!missing.ok && missing.stderr).toContain("(NoSuchEntity)");
      await awsCli(endpoint, creds, [
        "iam",
        "detach-role-policy",
        "--role-name",
        "cli-exec",
        "--policy-arn",
        EXEC_POLICY,
      ]);
      expect((await awsCli(endpoint, creds, ["iam", "delete-role", "--role-name", "cli-exec"])).ok).toBe(true);
    });
  });
});
