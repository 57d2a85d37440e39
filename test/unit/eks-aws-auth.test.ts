import { describe, expect, it } from "vitest";
import type { CallerIdentity } from "../../src/iam/identity.js";
import { awsAuthUser, readAwsAuth } from "../../src/services/eks/aws-auth.js";

const ACCT = "111122223333";
const auth = readAwsAuth({
  mapRoles: `
- rolearn: arn:aws:iam::${ACCT}:role/ci/deployer
  username: deployer:{{SessionName}}
  groups: [system:masters]
- rolearn: arn:aws:iam::${ACCT}:role/node
  username: system:node:{{EC2PrivateDNSName}}
  groups:
    - system:bootstrappers
    - system:nodes
- not: a mapping
`,
  mapUsers: `
- userarn: arn:aws:iam::${ACCT}:user/alice
  username: alice
  groups: [dev]
- userarn: arn:aws:iam::${ACCT}:user/bob
`,
  mapAccounts: `
- "444455556666"
`,
});

const role = (roleArn: string, sessionName: string): CallerIdentity => ({
  kind: "assumed-role",
  account: ACCT,
  arn: `arn:aws:sts::${ACCT}:assumed-role/${roleArn.split("/").pop()}/${sessionName}`,
  roleArn,
  sessionName,
  userId: `AROA:${sessionName}`,
  accessKeyId: "ASIA",
  permissive: false,
});
const user = (name: string, account = ACCT): CallerIdentity => ({
  kind: "user",
  account,
  arn: `arn:aws:iam::${account}:user/${name}`,
  userId: `AIDA${name}`,
  accessKeyId: "AKIA",
  permissive: false,
});

describe("the aws-auth ConfigMap", () => {
  it("skips malformed entries", () => {
    expect(auth.roles).toHaveLength(2);
    expect(auth.users).toHaveLength(2);
    expect(auth.accounts).toEqual(["444455556666"]);
    expect(readAwsAuth({ mapRoles: "{not yaml" })).toEqual({ roles: [], users: [], accounts: [] });
    expect(readAwsAuth(undefined)).toEqual({ roles: [], users: [], accounts: [] });
  });

  it.each([
    [
      "a role session (path ignored)",
      role(`arn:aws:iam::${ACCT}:role/deployer`, "ci@x"),
      "deployer:ci-x",
      ["system:masters"],
    ],
    [
      "a node",
      role(`arn:aws:iam::${ACCT}:role/node`, "i-0abc"),
      "system:node:i-0abc",
      ["system:bootstrappers", "system:nodes"],
    ],
    ["a mapped user", user("alice"), "alice", ["dev"]],
    ["a mapped user without a username", user("bob"), `arn:aws:iam::${ACCT}:user/bob`, []],
    ["a principal of a mapped account", user("carol", "444455556666"), "arn:aws:iam::444455556666:user/carol", []],
  ])("maps %s", (_what, identity, username, groups) => {
    expect(awsAuthUser(auth, identity, "uid", {})).toEqual({
      username,
      uid: "uid",
      groups: [...groups, "system:authenticated"],
      extra: {},
    });
  });

  it("maps nobody else", () => {
    expect(awsAuthUser(auth, user("mallory"), "uid", {})).toBeUndefined();
    expect(awsAuthUser(auth, role(`arn:aws:iam::${ACCT}:role/other`, "s"), "uid", {})).toBeUndefined();
  });
});
