import { describe, expect, it } from "vitest";
import type { CallerIdentity } from "../../src/iam/identity.js";
import { canonicalArn, userFromEntry, withoutPath } from "../../src/services/eks/authenticator.js";
import { candidatePorts } from "../../src/services/eks/ports.js";
import {
  checkAccessScope,
  checkAuthenticationModeChange,
  checkClusterName,
  checkKubernetesGroups,
  checkRoleArn,
  checkServiceCidr,
  checkUsername,
  defaultUsername,
  expandUsername,
  firstServiceIp,
  loggingOf,
  mergeLogging,
  parsePrincipalArn,
} from "../../src/services/eks/validate.js";
import type { EksAccessEntryRecord } from "../../src/store/schema/eks.js";

const ACCT = "111122223333";

describe("EKS access entry usernames", () => {
  it.each([
    ["STANDARD", `arn:aws:iam::${ACCT}:user/alice`, `arn:aws:iam::${ACCT}:user/alice`],
    ["STANDARD", `arn:aws:iam::${ACCT}:user/team/alice`, `arn:aws:iam::${ACCT}:user/team/alice`],
    ["STANDARD", `arn:aws:iam::${ACCT}:role/deployer`, `arn:aws:sts::${ACCT}:assumed-role/deployer/{{SessionName}}`],
    ["STANDARD", `arn:aws:iam::${ACCT}:role/ci/deployer`, `arn:aws:sts::${ACCT}:assumed-role/deployer/{{SessionName}}`],
    ["EC2_LINUX", `arn:aws:iam::${ACCT}:role/node`, "system:node:{{EC2PrivateDNSName}}"],
    ["FARGATE_LINUX", `arn:aws:iam::${ACCT}:role/pods`, "system:node:{{SessionName}}"],
  ])("a %s entry for %s defaults to %s", (type, arn, expected) => {
    expect(defaultUsername(type, parsePrincipalArn(arn)!, arn)).toBe(expected);
  });

  it.each([
    ["{{SessionName}}", { accountId: ACCT, sessionName: "jane@example.com" }, "jane-example.com"],
    ["{{SessionNameRaw}}", { accountId: ACCT, sessionName: "jane@example.com" }, "jane@example.com"],
    ["admin:{{AccountID}}:{{SessionName}}", { accountId: ACCT, sessionName: "s" }, `admin:${ACCT}:s`],
    ["key-{{AccessKeyID}}", { accountId: ACCT, accessKeyId: "AKIA1" }, "key-AKIA1"],
    ["system:node:{{EC2PrivateDNSName}}", { accountId: ACCT, sessionName: "i-0abc" }, "system:node:i-0abc"],
    ["plain", { accountId: ACCT }, "plain"],
    ["{{Unknown}}", { accountId: ACCT }, "{{Unknown}}"],
  ])("expands %s", (template, values, expected) => {
    expect(expandUsername(template, values)).toBe(expected);
  });

  it("cannot expand {{SessionName}} for an identity without a session", () => {
    expect(expandUsername("u-{{SessionName}}", { accountId: ACCT })).toBeUndefined();
  });

  it.each([
    ["jane", undefined],
    ["system:admin", /cannot start with system:/],
    ["eks:x", /eks:/],
    ["aws:x", /aws:/],
    ["", /1 to 1024/],
  ])("checks the username %s", (name, error) => {
    const r = checkUsername(name);
    if (error) expect(r).toMatch(error);
    else expect(r).toBeUndefined();
  });

  it("refuses system: groups as EKS does", () => {
    expect(checkKubernetesGroups(["dev", "ops"])).toBeUndefined();
    expect(checkKubernetesGroups(["system:masters"])).toMatch(/cannot start with system:/);
    expect(checkKubernetesGroups([""])).toMatch(/1 to 1024/);
  });
});

describe("EKS identities → Kubernetes users", () => {
  const entry = (over: Partial<EksAccessEntryRecord>): EksAccessEntryRecord => ({
    clusterName: "dev",
    principalArn: `arn:aws:iam::${ACCT}:role/deployer`,
    accessEntryArn: "x",
    kubernetesGroups: [],
    username: `arn:aws:sts::${ACCT}:assumed-role/deployer/{{SessionName}}`,
    type: "STANDARD",
    createdAt: new Date(0),
    modifiedAt: new Date(0),
    tags: {},
    policies: [],
    ...over,
  });
  const session: CallerIdentity = {
    kind: "assumed-role",
    account: ACCT,
    arn: `arn:aws:sts::${ACCT}:assumed-role/deployer/ci@build`,
    userId: "AROAEXAMPLE:ci@build",
    roleArn: `arn:aws:iam::${ACCT}:role/ci/deployer`,
    roleName: "deployer",
    sessionName: "ci@build",
    accessKeyId: "ASIAEXAMPLE",
    permissive: false,
  };

  it("looks a role session up by its role, with and without the role's path", () => {
    expect(canonicalArn(session)).toBe(`arn:aws:iam::${ACCT}:role/ci/deployer`);
    expect(withoutPath(canonicalArn(session))).toBe(`arn:aws:iam::${ACCT}:role/deployer`);
    expect(canonicalArn({ kind: "user", arn: `arn:aws:iam::${ACCT}:user/a` })).toBe(`arn:aws:iam::${ACCT}:user/a`);
  });

  it("fills the entry's username template and adds system:authenticated to its groups", () => {
    expect(userFromEntry(session, entry({ kubernetesGroups: ["deployers"] }))).toEqual({
      username: `arn:aws:sts::${ACCT}:assumed-role/deployer/ci-build`,
      uid: `aws-iam-authenticator:${ACCT}:AROAEXAMPLE:ci@build`,
      groups: ["deployers", "system:authenticated"],
      extra: {
        arn: [session.arn],
        canonicalArn: [session.roleArn!],
        sessionName: ["ci@build"],
        accessKeyId: ["ASIAEXAMPLE"],
        principalId: ["AROAEXAMPLE:ci@build"],
      },
    });
  });

  it("puts node entries in the node groups", () => {
    const user = userFromEntry(
      { ...session, sessionName: "i-0abc" },
      entry({ type: "EC2_LINUX", username: "system:node:{{EC2PrivateDNSName}}" }),
    );
    expect(user).toMatchObject({
      username: "system:node:i-0abc",
      groups: ["system:bootstrappers", "system:nodes", "system:authenticated"],
    });
  });
});

describe("EKS input rules", () => {
  it.each([
    ["dev", true],
    ["my_cluster-1", true],
    ["9lives", true],
    ["-dev", false],
    ["dev.cluster", false],
    ["a".repeat(100), true],
    ["a".repeat(101), false],
    ["", false],
  ])("cluster name %s valid: %s", (name, ok) => {
    expect(checkClusterName(name) === undefined).toBe(ok);
  });

  it("checks role and principal ARNs", () => {
    expect(checkRoleArn(`arn:aws:iam::${ACCT}:role/eks`)).toBeUndefined();
    expect(checkRoleArn(`arn:aws:iam::${ACCT}:role/service-role/eks`)).toBeUndefined();
    expect(checkRoleArn(`arn:aws:iam::${ACCT}:user/eks`)).toMatch(/not a valid IAM role ARN/);
    expect(checkRoleArn("eks-role")).toMatch(/not a valid/);
    expect(parsePrincipalArn(`arn:aws:iam::${ACCT}:root`)).toEqual({
      kind: "root",
      account: ACCT,
      path: "",
      name: "root",
    });
    expect(parsePrincipalArn(`arn:aws:sts::${ACCT}:assumed-role/r/s`)).toBeUndefined();
  });

  it.each([
    ["10.100.0.0/16", undefined],
    ["172.20.0.0/16", undefined],
    ["192.168.0.0/24", undefined],
    ["10.0.0.0/12", undefined],
    ["10.0.0.0/8", /between \/12 and \/24/],
    ["10.100.0.0/25", /between/],
    ["8.8.0.0/16", /within/],
    ["10.100.0.1/16", /network address/],
    ["10.300.0.0/16", /invalid/],
    ["nope", /invalid/],
  ])("service CIDR %s", (cidr, error) => {
    const r = checkServiceCidr(cidr);
    if (error) expect(r).toMatch(error);
    else expect(r).toBeUndefined();
  });

  it("names the kubernetes Service's ClusterIP", () => {
    expect(firstServiceIp("10.100.0.0/16")).toBe("10.100.0.1");
    expect(firstServiceIp("172.20.0.0/16")).toBe("172.20.0.1");
  });

  it("merges logging requests into enabled and disabled groups", () => {
    const off = loggingOf(new Set());
    expect(off).toEqual({
      clusterLogging: [{ types: ["api", "audit", "authenticator", "controllerManager", "scheduler"], enabled: false }],
    });
    const on = mergeLogging(off, { clusterLogging: [{ types: ["audit", "api"], enabled: true }] });
    expect(on).toEqual({
      clusterLogging: [
        { types: ["api", "audit"], enabled: true },
        { types: ["authenticator", "controllerManager", "scheduler"], enabled: false },
      ],
    });
    expect(mergeLogging(on as never, { clusterLogging: [{ types: ["api"], enabled: false }] })).toEqual({
      clusterLogging: [
        { types: ["audit"], enabled: true },
        { types: ["api", "authenticator", "controllerManager", "scheduler"], enabled: false },
      ],
    });
    expect(mergeLogging(off, { clusterLogging: [{ types: ["kubelet" as never], enabled: true }] })).toMatchObject({
      error: expect.stringMatching(/invalid/),
    });
    expect(
      mergeLogging(off, {
        clusterLogging: [
          { types: ["api"], enabled: true },
          { types: ["api"], enabled: false },
        ],
      }),
    ).toMatchObject({ error: expect.stringMatching(/more than once/) });
  });

  it.each([
    ["CONFIG_MAP", "API_AND_CONFIG_MAP", undefined],
    ["CONFIG_MAP", "API", undefined],
    ["API_AND_CONFIG_MAP", "API", undefined],
    ["API", "API_AND_CONFIG_MAP", /Unsupported/],
    ["API_AND_CONFIG_MAP", "CONFIG_MAP", /Unsupported/],
    ["API", "API", /already/],
    ["API", "OIDC", /invalid/],
  ])("authentication mode %s → %s", (from, to, error) => {
    const r = checkAuthenticationModeChange(from, to);
    if (error) expect(r).toMatch(error);
    else expect(r).toBeUndefined();
  });

  it.each([
    [{ type: "cluster" as const }, undefined],
    [{ type: "cluster" as const, namespaces: [] }, undefined],
    [{ type: "namespace" as const, namespaces: ["apps", "team-*"] }, undefined],
    [{ type: "namespace" as const, namespaces: [] }, /At least one namespace/],
    [{ type: "cluster" as const, namespaces: ["apps"] }, /cannot be specified/],
    [{ type: "namespace" as const, namespaces: ["Bad_NS"] }, /invalid/],
    [{ type: "global" as never }, /invalid/],
  ])("access scope %j", (scope, error) => {
    const r = checkAccessScope(scope);
    if (error) expect(r).toMatch(error);
    else expect(r).toBeUndefined();
  });

  it("offers the ports of the range no cluster holds", () => {
    expect(candidatePorts({ base: 4600, count: 4 }, new Set([4601]))).toEqual([4600, 4602, 4603]);
    expect(candidatePorts({ base: 65534, count: 5 }, new Set())).toEqual([65534, 65535]);
  });
});
