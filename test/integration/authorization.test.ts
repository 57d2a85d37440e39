// biome-ignore-all lint/suspicious/noTemplateCurlyInString: IAM policy variables look like template placeholders
import { CloudWatchLogsClient, DescribeLogGroupsCommand } from "@aws-sdk/client-cloudwatch-logs";
import {
  CreateClusterCommand,
  ECSClient,
  ListClustersCommand,
  RegisterTaskDefinitionCommand,
} from "@aws-sdk/client-ecs";
import {
  AddUserToGroupCommand,
  AttachGroupPolicyCommand,
  CreateAccessKeyCommand,
  CreateGroupCommand,
  CreatePolicyCommand,
  CreateUserCommand,
  DeleteUserPolicyCommand,
  type IAMClient,
  ListRolesCommand,
  PutUserPermissionsBoundaryCommand,
  PutUserPolicyCommand,
} from "@aws-sdk/client-iam";
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  PutResourcePolicyCommand,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { GetParameterCommand, PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import type { AwsCredentialIdentity } from "@smithy/types";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { allow, awsCli, clientOptions, iamClient, newAccount, rootOf } from "../support/identity.js";

const account = newAccount();

/** Every call is authorised: IAM users only do what their policies allow; root anything. */
describe("authorisation of every call", () => {
  const endpoint = inject("endpoint");
  const root = rootOf(account);
  let iam: IAMClient;
  let dev: AwsCredentialIdentity;
  const devArn = `arn:aws:iam::${account}:user/dev`;
  const param = (name: string) => `arn:aws:ssm:us-east-1:${account}:parameter${name}`;

  beforeAll(async () => {
    iam = iamClient(endpoint, root);
    const ssm = new SSMClient(clientOptions(endpoint, root));
    for (const Name of ["/app/db", "/app/secret", "/other/x", "/home/dev/note", "/home/eve/note"])
      await ssm.send(new PutParameterCommand({ Name, Value: `value of ${Name}`, Type: "String" }));
    await iam.send(new CreateUserCommand({ UserName: "dev" }));
    await iam.send(
      new PutUserPolicyCommand({
        UserName: "dev",
        PolicyName: "work",
        PolicyDocument: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            { Effect: "Allow", Action: ["ssm:GetParameter"], Resource: `arn:aws:ssm:*:${account}:parameter/app/*` },
            { Effect: "Deny", Action: "ssm:*", Resource: `arn:aws:ssm:*:*:parameter/app/secret` },
            {
              Effect: "Allow",
              Action: "ssm:GetParameter",
              Resource: "arn:aws:ssm:*:*:parameter/home/${aws:username}/*",
            },
            { Effect: "Allow", Action: ["ecs:List*", "logs:Describe*", "secretsmanager:CreateSecret"], Resource: "*" },
          ],
        }),
      }),
    );
    const key = (await iam.send(new CreateAccessKeyCommand({ UserName: "dev" }))).AccessKey!;
    dev = { accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! };
  });

  it("allows what the user's policies allow, in each service", async () => {
    const ssm = new SSMClient(clientOptions(endpoint, dev));
    expect((await ssm.send(new GetParameterCommand({ Name: "/app/db" }))).Parameter!.Value).toBe("value of /app/db");
    expect(
      (await new ECSClient(clientOptions(endpoint, dev)).send(new ListClustersCommand({}))).clusterArns,
    ).toBeDefined();
    expect(
      (await new CloudWatchLogsClient(clientOptions(endpoint, dev)).send(new DescribeLogGroupsCommand({}))).logGroups,
    ).toBeDefined();
  });

  it("denies the rest with AccessDenied naming principal, action and resource", async () => {
    const ssm = new SSMClient(clientOptions(endpoint, dev));
    await expect(ssm.send(new GetParameterCommand({ Name: "/other/x" }))).rejects.toMatchObject({
      name: "AccessDeniedException",
      $metadata: { httpStatusCode: 400 },
      message: `User: ${devArn} is not authorized to perform: ssm:GetParameter on resource: ${param("/other/x")} because no identity-based policy allows the ssm:GetParameter action`,
    });
    await expect(
      ssm.send(new PutParameterCommand({ Name: "/app/new", Value: "v", Type: "String" })),
    ).rejects.toMatchObject({
      name: "AccessDeniedException",
    });
    await expect(
      new ECSClient(clientOptions(endpoint, dev)).send(new CreateClusterCommand({ clusterName: "nope" })),
    ).rejects.toMatchObject({
      name: "AccessDeniedException",
      message: `User: ${devArn} is not authorized to perform: ecs:CreateCluster on resource: arn:aws:ecs:us-east-1:${account}:cluster/nope because no identity-based policy allows the ecs:CreateCluster action`,
    });
    await expect(iamClient(endpoint, dev).send(new ListRolesCommand({}))).rejects.toMatchObject({
      name: "AccessDenied",
      $metadata: { httpStatusCode: 403 },
      message: `User: ${devArn} is not authorized to perform: iam:ListRoles on resource: arn:aws:iam::${account}:role/ because no identity-based policy allows the iam:ListRoles action`,
    });
    // nothing was created
    expect(
      (await new ECSClient(clientOptions(endpoint, root)).send(new ListClustersCommand({}))).clusterArns,
    ).not.toContain(`arn:aws:ecs:us-east-1:${account}:cluster/nope`);
  });

  it("an explicit deny wins over an allow", async () => {
    await expect(
      new SSMClient(clientOptions(endpoint, dev)).send(new GetParameterCommand({ Name: "/app/secret" })),
    ).rejects.toMatchObject({
      name: "AccessDeniedException",
      message: `User: ${devArn} is not authorized to perform: ssm:GetParameter on resource: ${param("/app/secret")} with an explicit deny in an identity-based policy`,
    });
  });

  it("conditions on aws:SourceIp see the client's address", async () => {
    await iam.send(
      new PutUserPolicyCommand({
        UserName: "dev",
        PolicyName: "by-address",
        PolicyDocument: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Action: "ssm:GetParameter",
              Resource: param("/other/x"),
              Condition: { IpAddress: { "aws:SourceIp": "127.0.0.0/8" } },
            },
            {
              Effect: "Allow",
              Action: "ssm:GetParameter",
              Resource: param("/home/eve/note"),
              Condition: { IpAddress: { "aws:SourceIp": "10.0.0.0/8" } },
            },
          ],
        }),
      }),
    );
    const ssm = new SSMClient(clientOptions(endpoint, dev));
    expect((await ssm.send(new GetParameterCommand({ Name: "/other/x" }))).Parameter!.Value).toBe("value of /other/x");
    await expect(ssm.send(new GetParameterCommand({ Name: "/home/eve/note" }))).rejects.toMatchObject({
      name: "AccessDeniedException",
      message: `User: ${devArn} is not authorized to perform: ssm:GetParameter on resource: ${param("/home/eve/note")} because no identity-based policy allows the ssm:GetParameter action`,
    });
    await iam.send(new DeleteUserPolicyCommand({ UserName: "dev", PolicyName: "by-address" }));
  });

  it("substitutes policy variables such as ${aws:username}", async () => {
    const ssm = new SSMClient(clientOptions(endpoint, dev));
    expect((await ssm.send(new GetParameterCommand({ Name: "/home/dev/note" }))).Parameter!.Value).toBe(
      "value of /home/dev/note",
    );
    await expect(ssm.send(new GetParameterCommand({ Name: "/home/eve/note" }))).rejects.toMatchObject({
      name: "AccessDeniedException",
    });
  });

  it("adds group policies, and a permissions boundary caps them", async () => {
    await iam.send(new CreateGroupCommand({ GroupName: "readers" }));
    await iam.send(new AddUserToGroupCommand({ GroupName: "readers", UserName: "dev" }));
    const readOther = await iam.send(
      new CreatePolicyCommand({
        PolicyName: "ReadOther",
        PolicyDocument: allow("ssm:GetParameter", "arn:aws:ssm:*:*:parameter/other/*"),
      }),
    );
    await iam.send(new AttachGroupPolicyCommand({ GroupName: "readers", PolicyArn: readOther.Policy!.Arn! }));
    const ssm = new SSMClient(clientOptions(endpoint, dev));
    expect((await ssm.send(new GetParameterCommand({ Name: "/other/x" }))).Parameter!.Value).toBe("value of /other/x");

    await iam.send(
      new CreatePolicyCommand({
        PolicyName: "OnlyAppParams",
        PolicyDocument: allow("ssm:*", "arn:aws:ssm:*:*:parameter/app/*"),
      }),
    );
    await iam.send(
      new PutUserPermissionsBoundaryCommand({
        UserName: "dev",
        PermissionsBoundary: `arn:aws:iam::${account}:policy/OnlyAppParams`,
      }),
    );
    await expect(ssm.send(new GetParameterCommand({ Name: "/other/x" }))).rejects.toMatchObject({
      name: "AccessDeniedException",
      message: expect.stringContaining("because no permissions boundary allows the ssm:GetParameter action"),
    });
    expect((await ssm.send(new GetParameterCommand({ Name: "/app/db" }))).Parameter!.Value).toBe("value of /app/db");
  });

  it("a secret's resource policy grants a principal it names, on its own", async () => {
    const sm = new SecretsManagerClient(clientOptions(endpoint, root));
    const shared = await sm.send(new CreateSecretCommand({ Name: "shared", SecretString: "s1" }));
    await sm.send(new CreateSecretCommand({ Name: "private", SecretString: "s2" }));
    await sm.send(
      new PutResourcePolicyCommand({
        SecretId: "shared",
        ResourcePolicy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            { Effect: "Allow", Principal: { AWS: devArn }, Action: "secretsmanager:GetSecretValue", Resource: "*" },
          ],
        }),
      }),
    );
    const asDev = new SecretsManagerClient(clientOptions(endpoint, dev));
    expect((await asDev.send(new GetSecretValueCommand({ SecretId: "shared" }))).SecretString).toBe("s1");
    await expect(asDev.send(new GetSecretValueCommand({ SecretId: "private" }))).rejects.toMatchObject({
      name: "AccessDeniedException",
      message: expect.stringMatching(
        new RegExp(`on resource: arn:aws:secretsmanager:us-east-1:${account}:secret:private-[A-Za-z0-9]{6} because`),
      ),
    });
    expect(shared.ARN).toBeDefined();
  });

  it("handing a role to ECS needs iam:PassRole on it", async () => {
    await iam.send(new CreateUserCommand({ UserName: "deployer" }));
    await iam.send(
      new PutUserPolicyCommand({
        UserName: "deployer",
        PolicyName: "deploy",
        PolicyDocument: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            { Effect: "Allow", Action: "ecs:RegisterTaskDefinition", Resource: "*" },
            {
              Effect: "Allow",
              Action: "iam:PassRole",
              Resource: `arn:aws:iam::${account}:role/app-*`,
              Condition: { StringEquals: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } },
            },
          ],
        }),
      }),
    );
    const k = (await iam.send(new CreateAccessKeyCommand({ UserName: "deployer" }))).AccessKey!;
    const ecs = new ECSClient(
      clientOptions(endpoint, { accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey! }),
    );
    const register = (taskRoleArn: string) =>
      ecs.send(
        new RegisterTaskDefinitionCommand({
          family: "passrole",
          taskRoleArn,
          containerDefinitions: [{ name: "c", image: "busybox", memory: 64 }],
        }),
      );
    await expect(register(`arn:aws:iam::${account}:role/app-task`)).resolves.toBeDefined();
    await expect(register(`arn:aws:iam::${account}:role/admin`)).rejects.toMatchObject({
      name: "AccessDeniedException",
      message: `User: arn:aws:iam::${account}:user/deployer is not authorized to perform: iam:PassRole on resource: arn:aws:iam::${account}:role/admin because no identity-based policy allows the iam:PassRole action`,
    });
  });

  it("root and unknown keys (the permissive default) may do anything", async () => {
    const unknown = { accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "whatever" };
    await expect(iamClient(endpoint, unknown).send(new ListRolesCommand({}))).resolves.toBeDefined();
    await expect(iamClient(endpoint, root).send(new ListRolesCommand({}))).resolves.toBeDefined();
  });

  it("the AWS CLI v2 shows the denial as AWS does", async () => {
    const out = await awsCli(endpoint, dev, ["ssm", "get-parameter", "--name", "/other/none"]);
    expect(!out.ok && out.stderr).toContain(
      `An error occurred (AccessDeniedException) when calling the GetParameter operation: User: ${devArn} is not authorized to perform: ssm:GetParameter on resource: ${param("/other/none")}`,
    );
  });
});
