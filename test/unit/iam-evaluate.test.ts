// biome-ignore-all lint/suspicious/noTemplateCurlyInString: IAM policy variables look like template placeholders
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { conditionHolds, substituteVariables } from "../../src/iam/conditions.js";
import {
  type AuthorizationRequest,
  type PolicySet,
  type RequestPrincipal,
  evaluate,
  evaluateTrust,
} from "../../src/iam/evaluate.js";
import { resourcePolicyGrantsAccount } from "../../src/iam/authorizer.js";
import { MalformedPolicy, type Policy, parsePolicy } from "../../src/iam/policy.js";
import { arnMatches, globMatch } from "../../src/iam/wildcard.js";

const ACCOUNT = "111122223333";
const user: RequestPrincipal = { kind: "user", arn: `arn:aws:iam::${ACCOUNT}:user/alice`, account: ACCOUNT };
const session: RequestPrincipal = {
  kind: "assumed-role",
  arn: `arn:aws:sts::${ACCOUNT}:assumed-role/app/task1`,
  roleArn: `arn:aws:iam::${ACCOUNT}:role/app`,
  account: ACCOUNT,
};
const root: RequestPrincipal = { kind: "root", arn: `arn:aws:iam::${ACCOUNT}:root`, account: ACCOUNT };
const ecsTasks: RequestPrincipal = { kind: "service", arn: "ecs-tasks.amazonaws.com" };

const identity = (doc: unknown) => parsePolicy(JSON.stringify(doc), "identity");
const resourcePolicy = (doc: unknown) => parsePolicy(JSON.stringify(doc), "resource");
const trust = (doc: unknown) => parsePolicy(JSON.stringify(doc), "trust");
const stmt = (s: Record<string, unknown>) => ({ Version: "2012-10-17", Statement: [s] });

const req = (
  action: string,
  resource = "*",
  principal: RequestPrincipal = user,
  context: Record<string, string[]> = {},
): AuthorizationRequest => ({ principal, action, resource, context });

const PARAM = `arn:aws:ssm:us-east-1:${ACCOUNT}:parameter/app/db`;

describe("wildcards", () => {
  it.each([
    ["*", "anything", true],
    ["ecs:*", "ecs:RunTask", true],
    ["ecs:Describe*", "ecs:DescribeTasks", true],
    ["ecs:Describe*", "ecs:ListTasks", false],
    ["ecs:Run?ask", "ecs:RunTask", true],
    ["ecs:Run?ask", "ecs:RunTTask", false],
    ["a.b", "axb", false],
  ])("glob %s ~ %s → %s", (p, v, want) => expect(globMatch(p, v)).toBe(want));

  it("matches ARNs component by component", () => {
    expect(arnMatches("arn:aws:ssm:*:*:parameter/app/*", PARAM)).toBe(true);
    expect(arnMatches("arn:aws:ssm:*:999999999999:parameter/app/*", PARAM)).toBe(false);
    expect(arnMatches("arn:aws:ssm:us-east-1:*:parameter/other/*", PARAM)).toBe(false);
    expect(
      arnMatches(
        "arn:aws:secretsmanager:*:*:secret:db-??????",
        `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:db-AbCdEf`,
      ),
    ).toBe(true);
    // `*` in the region never reaches into the account
    expect(arnMatches("arn:aws:ssm:*:parameter/app/db", PARAM)).toBe(false);
  });

  it("property: a pattern without wildcards matches exactly itself", () => {
    fc.assert(
      fc.property(
        fc.string().filter((s) => !s.includes("*") && !s.includes("?")),
        fc.string(),
        (p, v) => {
          expect(globMatch(p, v)).toBe(p === v);
          expect(globMatch(p, p)).toBe(true);
        },
      ),
    );
  });

  it("property: `*` around any literal matches every string containing it", () => {
    fc.assert(
      fc.property(
        fc.string().filter((s) => !/[*?]/.test(s)),
        fc.string(),
        fc.string(),
        (mid, a, b) => {
          expect(globMatch(`*${mid}*`, `${a}${mid}${b}`)).toBe(true);
        },
      ),
    );
  });
});

describe("parsePolicy refuses malformed documents like IAM", () => {
  it.each([
    ["not json", "{", "This policy contains invalid Json"],
    ["no statement", { Version: "2012-10-17" }, "Missing required field Statement"],
    ["bad version", { Version: "2020-01-01", Statement: [] }, "The policy failed legacy parsing"],
    ["no effect", stmt({ Action: "s3:*", Resource: "*" }), "Missing required field Effect"],
    ["bad effect", stmt({ Effect: "Maybe", Action: "s3:*", Resource: "*" }), "Invalid effect: Maybe"],
    ["no action", stmt({ Effect: "Allow", Resource: "*" }), "Policy statement must contain actions."],
    ["no resource", stmt({ Effect: "Allow", Action: "s3:*" }), "Policy statement must contain resources."],
    ["action without vendor", stmt({ Effect: "Allow", Action: "GetObject", Resource: "*" }), "prefaced by a vendor"],
    ["resource not an ARN", stmt({ Effect: "Allow", Action: "s3:*", Resource: "bucket" }), "must be in ARN format"],
    [
      "principal in identity policy",
      stmt({ Effect: "Allow", Action: "s3:*", Resource: "*", Principal: "*" }),
      "should not specify a principal",
    ],
    [
      "unknown condition operator",
      stmt({ Effect: "Allow", Action: "s3:*", Resource: "*", Condition: { StringSorta: { "aws:username": "x" } } }),
      "Invalid Condition type : StringSorta",
    ],
    [
      "duplicate sids",
      {
        Version: "2012-10-17",
        Statement: [
          { Sid: "A", Effect: "Allow", Action: "s3:*", Resource: "*" },
          { Sid: "A", Effect: "Deny", Action: "s3:*", Resource: "*" },
        ],
      },
      "must be unique",
    ],
    ["unknown field", { Version: "2012-10-17", Statement: [], Foo: 1 }, "Syntax errors in policy"],
  ])("%s", (_name, doc, message) => {
    const text = typeof doc === "string" ? doc : JSON.stringify(doc);
    expect(() => parsePolicy(text, "identity")).toThrow(MalformedPolicy);
    expect(() => parsePolicy(text, "identity")).toThrow(message);
  });

  it("refuses trust policies with a Resource and without a Principal", () => {
    expect(() =>
      parsePolicy(
        JSON.stringify(stmt({ Effect: "Allow", Action: "sts:AssumeRole", Resource: "*", Principal: "*" })),
        "trust",
      ),
    ).toThrow("Has prohibited field Resource");
    expect(() => parsePolicy(JSON.stringify(stmt({ Effect: "Allow", Action: "sts:AssumeRole" })), "trust")).toThrow(
      "Missing required field Principal",
    );
  });

  it("accepts single strings or lists, booleans and numbers in conditions", () => {
    const p = identity(
      stmt({
        Effect: "Allow",
        Action: ["ssm:GetParameter"],
        Resource: PARAM,
        Condition: { Bool: { "aws:SecureTransport": false }, NumericLessThan: { "s3:max-keys": 10 } },
      }),
    );
    expect(p.statements[0].condition).toEqual({
      Bool: { "aws:SecureTransport": ["false"] },
      NumericLessThan: { "s3:max-keys": ["10"] },
    });
    expect(p.statements[0].resource).toEqual([PARAM]);
  });
});

describe("evaluate: explicit deny > allow > implicit deny", () => {
  const allowSsm = identity(stmt({ Effect: "Allow", Action: "ssm:GetParameter*", Resource: "*" }));
  const denyDb = identity(stmt({ Effect: "Deny", Action: "ssm:*", Resource: "arn:aws:ssm:*:*:parameter/app/db" }));

  it.each<[string, Policy[], AuthorizationRequest, string]>([
    ["no policy → implicit deny", [], req("ssm:GetParameter", PARAM), "ImplicitDeny"],
    ["allow", [allowSsm], req("ssm:GetParameter", PARAM), "Allow"],
    ["allow with wildcard suffix", [allowSsm], req("ssm:GetParametersByPath", PARAM), "Allow"],
    ["action case-insensitive", [allowSsm], req("SSM:getparameter", PARAM), "Allow"],
    ["other action", [allowSsm], req("ssm:PutParameter", PARAM), "ImplicitDeny"],
    ["deny beats allow", [allowSsm, denyDb], req("ssm:GetParameter", PARAM), "ExplicitDeny"],
    [
      "deny elsewhere does not apply",
      [allowSsm, denyDb],
      req("ssm:GetParameter", `arn:aws:ssm:us-east-1:${ACCOUNT}:parameter/app/web`),
      "Allow",
    ],
  ])("%s", (_n, policies, r, want) => expect(evaluate(r, { identity: policies }).decision).toBe(want));

  it("NotAction allows everything but the listed actions", () => {
    const p = identity(stmt({ Effect: "Allow", NotAction: ["iam:*", "sts:*"], Resource: "*" }));
    expect(evaluate(req("ecs:RunTask"), { identity: [p] }).decision).toBe("Allow");
    expect(evaluate(req("iam:CreateUser"), { identity: [p] }).decision).toBe("ImplicitDeny");
  });

  it("NotResource denies everything but the listed resources", () => {
    const p = identity({
      Version: "2012-10-17",
      Statement: [
        { Effect: "Allow", Action: "ssm:*", Resource: "*" },
        { Effect: "Deny", Action: "ssm:*", NotResource: "arn:aws:ssm:*:*:parameter/app/*" },
      ],
    });
    expect(evaluate(req("ssm:GetParameter", PARAM), { identity: [p] }).decision).toBe("Allow");
    expect(
      evaluate(req("ssm:GetParameter", `arn:aws:ssm:us-east-1:${ACCOUNT}:parameter/secret`), { identity: [p] })
        .decision,
    ).toBe("ExplicitDeny");
  });

  it("names the policy kind that denied", () => {
    const deny = identity(stmt({ Effect: "Deny", Action: "*", Resource: "*" }));
    expect(evaluate(req("ssm:GetParameter"), { identity: [deny] })).toEqual({
      decision: "ExplicitDeny",
      source: "identity-based policy",
    });
    expect(evaluate(req("ssm:GetParameter"), { identity: [] })).toEqual({
      decision: "ImplicitDeny",
      source: "identity-based policy",
    });
  });

  it("root may do anything in its account unless a policy explicitly denies", () => {
    const set: PolicySet = { identity: [], rootIdentity: true };
    expect(evaluate(req("iam:DeleteRole", "*", root), set).decision).toBe("Allow");
    const denying = resourcePolicy(stmt({ Effect: "Deny", Principal: "*", Action: "*", Resource: "*" }));
    expect(evaluate(req("ecr:BatchGetImage", "*", root), { ...set, resource: denying }).decision).toBe("ExplicitDeny");
  });
});

describe("evaluate: resource policies", () => {
  const REPO = `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/app`;
  const grantUser = resourcePolicy(
    stmt({ Effect: "Allow", Principal: { AWS: user.arn }, Action: "ecr:BatchGetImage", Resource: REPO }),
  );
  const grantAccount = resourcePolicy(
    stmt({ Effect: "Allow", Principal: { AWS: ACCOUNT }, Action: "ecr:BatchGetImage", Resource: REPO }),
  );

  it("a same-account resource policy naming the principal grants alone", () => {
    expect(evaluate(req("ecr:BatchGetImage", REPO), { identity: [], resource: grantUser }).decision).toBe("Allow");
  });

  it("one naming only the account delegates to identity policies", () => {
    expect(evaluate(req("ecr:BatchGetImage", REPO), { identity: [], resource: grantAccount }).decision).toBe(
      "ImplicitDeny",
    );
  });

  it("a role ARN in the Principal grants to the role's sessions", () => {
    const p = resourcePolicy(
      stmt({ Effect: "Allow", Principal: { AWS: session.roleArn }, Action: "*", Resource: "*" }),
    );
    expect(evaluate(req("ecr:BatchGetImage", REPO, session), { identity: [], resource: p }).decision).toBe("Allow");
  });

  it("cross-account access needs both sides", () => {
    const other: RequestPrincipal = {
      kind: "user",
      arn: "arn:aws:iam::999999999999:user/bob",
      account: "999999999999",
    };
    const allowAll = identity(stmt({ Effect: "Allow", Action: "ecr:*", Resource: "*" }));
    const grantOther = resourcePolicy(
      stmt({ Effect: "Allow", Principal: { AWS: "999999999999" }, Action: "ecr:*", Resource: "*" }),
    );
    const r = req("ecr:BatchGetImage", REPO, other);
    expect(evaluate(r, { identity: [allowAll], resourceAccount: ACCOUNT }).decision).toBe("ImplicitDeny");
    expect(evaluate(r, { identity: [allowAll], resourceAccount: ACCOUNT }).source).toBe("resource-based policy");
    expect(evaluate(r, { identity: [], resource: grantOther, resourceAccount: ACCOUNT }).decision).toBe("ImplicitDeny");
    expect(evaluate(r, { identity: [allowAll], resource: grantOther, resourceAccount: ACCOUNT }).decision).toBe(
      "Allow",
    );
  });

  it("an explicit deny in the resource policy beats an identity allow", () => {
    const deny = resourcePolicy(stmt({ Effect: "Deny", Principal: { AWS: user.arn }, Action: "ecr:*", Resource: "*" }));
    const allowAll = identity(stmt({ Effect: "Allow", Action: "*", Resource: "*" }));
    expect(evaluate(req("ecr:BatchGetImage", REPO), { identity: [allowAll], resource: deny })).toEqual({
      decision: "ExplicitDeny",
      source: "resource-based policy",
    });
  });

  it("NotPrincipal applies to everyone else", () => {
    const p = resourcePolicy(stmt({ Effect: "Deny", NotPrincipal: { AWS: user.arn }, Action: "*", Resource: "*" }));
    const allowAll = identity(stmt({ Effect: "Allow", Action: "*", Resource: "*" }));
    expect(evaluate(req("ecr:BatchGetImage", REPO, user), { identity: [allowAll], resource: p }).decision).toBe(
      "Allow",
    );
    expect(evaluate(req("ecr:BatchGetImage", REPO, session), { identity: [allowAll], resource: p }).decision).toBe(
      "ExplicitDeny",
    );
  });
});

describe("evaluate: boundaries and session policies narrow identity permissions", () => {
  const allowAll = identity(stmt({ Effect: "Allow", Action: "*", Resource: "*" }));
  const onlySsm = identity(stmt({ Effect: "Allow", Action: "ssm:*", Resource: "*" }));

  it("permissions boundary", () => {
    expect(evaluate(req("ssm:GetParameter"), { identity: [allowAll], boundary: onlySsm }).decision).toBe("Allow");
    expect(evaluate(req("ecs:RunTask"), { identity: [allowAll], boundary: onlySsm })).toEqual({
      decision: "ImplicitDeny",
      source: "permissions boundary",
    });
  });

  it("session policy", () => {
    expect(evaluate(req("ecs:RunTask", "*", session), { identity: [allowAll], session: [onlySsm] })).toEqual({
      decision: "ImplicitDeny",
      source: "session policy",
    });
    expect(evaluate(req("ecs:RunTask", "*", session), { identity: [onlySsm], session: [allowAll] }).decision).toBe(
      "ImplicitDeny",
    );
  });
});

describe("evaluateTrust: AssumeRole", () => {
  const ROLE = `arn:aws:iam::${ACCOUNT}:role/app`;
  const assume = (p: RequestPrincipal) => req("sts:AssumeRole", ROLE, p);
  const ecsTrust = trust(
    stmt({ Effect: "Allow", Principal: { Service: "ecs-tasks.amazonaws.com" }, Action: "sts:AssumeRole" }),
  );
  const accountTrust = trust(
    stmt({ Effect: "Allow", Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: "sts:AssumeRole" }),
  );
  const userTrust = trust(stmt({ Effect: "Allow", Principal: { AWS: user.arn }, Action: "sts:AssumeRole" }));
  const caller = (identityPolicies: Policy[] = [], rootIdentity = false): PolicySet => ({
    identity: identityPolicies,
    resourceAccount: ACCOUNT,
    rootIdentity,
  });

  it("a service principal is trusted only when named", () => {
    expect(evaluateTrust(assume(ecsTasks), ecsTrust, caller()).decision).toBe("Allow");
    expect(evaluateTrust(assume(ecsTasks), accountTrust, caller()).decision).toBe("ImplicitDeny");
    expect(evaluateTrust(assume(user), ecsTrust, caller()).decision).toBe("ImplicitDeny");
  });

  it("trusting the account delegates to the caller's own policies", () => {
    expect(evaluateTrust(assume(user), accountTrust, caller()).decision).toBe("ImplicitDeny");
    const mayAssume = identity(stmt({ Effect: "Allow", Action: "sts:AssumeRole", Resource: ROLE }));
    expect(evaluateTrust(assume(user), accountTrust, caller([mayAssume])).decision).toBe("Allow");
    expect(evaluateTrust(assume(root), accountTrust, caller([], true)).decision).toBe("Allow");
  });

  it("naming the user is enough in the same account, unless the user is denied", () => {
    expect(evaluateTrust(assume(user), userTrust, caller()).decision).toBe("Allow");
    const deny = identity(stmt({ Effect: "Deny", Action: "sts:*", Resource: "*" }));
    expect(evaluateTrust(assume(user), userTrust, caller([deny])).decision).toBe("ExplicitDeny");
  });

  it("conditions such as sts:ExternalId apply", () => {
    const t = trust(
      stmt({
        Effect: "Allow",
        Principal: { AWS: ACCOUNT },
        Action: "sts:AssumeRole",
        Condition: { StringEquals: { "sts:ExternalId": "s3cret" } },
      }),
    );
    const r = assume(root);
    expect(evaluateTrust(r, t, caller([], true)).decision).toBe("ImplicitDeny");
    expect(evaluateTrust({ ...r, context: { "sts:externalid": ["s3cret"] } }, t, caller([], true)).decision).toBe(
      "Allow",
    );
  });

  it("across accounts both the trust policy and the caller's own policies must allow", () => {
    const other: RequestPrincipal = {
      kind: "user",
      arn: "arn:aws:iam::999999999999:user/bob",
      account: "999999999999",
    };
    const trustOther = trust(stmt({ Effect: "Allow", Principal: { AWS: "999999999999" }, Action: "sts:AssumeRole" }));
    const mayAssume = identity(stmt({ Effect: "Allow", Action: "sts:AssumeRole", Resource: ROLE }));
    expect(evaluateTrust(assume(other), trustOther, caller([mayAssume])).decision).toBe("Allow");
    expect(evaluateTrust(assume(other), trustOther, caller([])).decision).toBe("ImplicitDeny");
    expect(evaluateTrust(assume(other), accountTrust, caller([mayAssume])).decision).toBe("ImplicitDeny");
    // naming the user directly does not spare it its own permission across accounts
    const trustBob = trust(stmt({ Effect: "Allow", Principal: { AWS: other.arn }, Action: "sts:AssumeRole" }));
    expect(evaluateTrust(assume(other), trustBob, caller([])).decision).toBe("ImplicitDeny");
    expect(evaluateTrust(assume(other), trustBob, caller([mayAssume])).decision).toBe("Allow");
  });

  it("no trust policy trusts nobody", () => {
    expect(evaluateTrust(assume(root), undefined, caller([], true)).decision).toBe("ImplicitDeny");
  });
});

describe("conditions", () => {
  const ctx = {
    "aws:username": ["alice"],
    "aws:principaltag/team": ["blue"],
    "aws:currenttime": ["2024-06-01T12:00:00Z"],
    "aws:epochtime": ["1717243200"],
    "aws:sourceip": ["10.1.2.3"],
    "aws:securetransport": ["false"],
    "aws:tagkeys": ["env", "team"],
    "aws:principalarn": [session.roleArn!],
    "s3:max-keys": ["5"],
  };

  it.each<[string, string, string[], boolean]>([
    ["StringEquals", "aws:username", ["alice"], true],
    ["StringEquals", "aws:UserName", ["alice"], true],
    ["StringEquals", "aws:username", ["Alice"], false],
    ["StringEqualsIgnoreCase", "aws:username", ["ALICE"], true],
    ["StringNotEquals", "aws:username", ["bob"], true],
    ["StringNotEquals", "aws:username", ["alice", "bob"], false],
    ["StringNotEqualsIgnoreCase", "aws:username", ["ALICE"], false],
    ["StringLike", "aws:username", ["al*"], true],
    ["StringLike", "aws:username", ["b*", "?lice"], true],
    ["StringNotLike", "aws:username", ["al*"], false],
    ["NumericLessThan", "s3:max-keys", ["10"], true],
    ["NumericLessThanEquals", "s3:max-keys", ["5"], true],
    ["NumericGreaterThan", "s3:max-keys", ["5"], false],
    ["NumericGreaterThanEquals", "s3:max-keys", ["5"], true],
    ["NumericEquals", "s3:max-keys", ["5.0"], true],
    ["NumericNotEquals", "s3:max-keys", ["5"], false],
    ["NumericEquals", "s3:max-keys", ["five"], false],
    ["DateGreaterThan", "aws:CurrentTime", ["2024-01-01T00:00:00Z"], true],
    ["DateLessThan", "aws:CurrentTime", ["2024-01-01T00:00:00Z"], false],
    ["DateLessThanEquals", "aws:EpochTime", ["2024-06-01T12:00:00Z"], true],
    ["DateEquals", "aws:CurrentTime", ["1717243200"], true],
    ["DateNotEquals", "aws:CurrentTime", ["1717243200"], false],
    ["DateGreaterThanEquals", "aws:CurrentTime", ["2024-06-01T12:00:00Z"], true],
    ["Bool", "aws:SecureTransport", ["false"], true],
    ["Bool", "aws:SecureTransport", ["true"], false],
    ["IpAddress", "aws:SourceIp", ["10.0.0.0/8"], true],
    ["IpAddress", "aws:SourceIp", ["10.1.2.3"], true],
    ["IpAddress", "aws:SourceIp", ["192.168.0.0/16"], false],
    ["NotIpAddress", "aws:SourceIp", ["192.168.0.0/16"], true],
    ["ArnLike", "aws:PrincipalArn", ["arn:aws:iam::*:role/app"], true],
    ["ArnEquals", "aws:PrincipalArn", [session.roleArn!], true],
    ["ArnNotLike", "aws:PrincipalArn", ["arn:aws:iam::*:role/other"], true],
    ["ArnNotEquals", "aws:PrincipalArn", [session.roleArn!], false],
    ["Null", "aws:username", ["false"], true],
    ["Null", "aws:username", ["true"], false],
    ["Null", "aws:missing", ["true"], true],
    ["StringEquals", "aws:missing", ["x"], false],
    ["StringEqualsIfExists", "aws:missing", ["x"], true],
    ["StringEqualsIfExists", "aws:username", ["bob"], false],
    ["StringNotEquals", "aws:missing", ["x"], true],
    ["ForAllValues:StringEquals", "aws:TagKeys", ["env", "team", "owner"], true],
    ["ForAllValues:StringEquals", "aws:TagKeys", ["env"], false],
    ["ForAllValues:StringEquals", "aws:missing", ["env"], true],
    ["ForAnyValue:StringEquals", "aws:TagKeys", ["team"], true],
    ["ForAnyValue:StringEquals", "aws:TagKeys", ["owner"], false],
    ["ForAnyValue:StringEquals", "aws:missing", ["owner"], false],
    ["StringEquals", "aws:username", ["${aws:username}"], true],
    ["StringEquals", "aws:PrincipalTag/team", ["${aws:PrincipalTag/team}"], true],
  ])("%s %s %j → %s", (op, key, values, want) => expect(conditionHolds(op, key, values, ctx)).toBe(want));

  it("substitutes policy variables, defaults and the escapes", () => {
    expect(substituteVariables("arn:aws:s3:::home/${aws:username}/*", ctx)).toBe("arn:aws:s3:::home/alice/*");
    expect(substituteVariables("${aws:missing, 'none'}", ctx)).toBe("none");
    expect(substituteVariables("${aws:missing}", ctx)).toBeUndefined();
    expect(substituteVariables("a${*}b${?}${$}", ctx)).toBe("a*b?$");
  });

  it("policy variables in Resource: a missing value matches nothing; 2008-10-17 keeps them literal", () => {
    const doc = (version: string) =>
      parsePolicy(
        JSON.stringify({
          Version: version,
          Statement: [{ Effect: "Allow", Action: "ssm:*", Resource: "arn:aws:ssm:*:*:parameter/${aws:username}/*" }],
        }),
        "identity",
      );
    const mine = `arn:aws:ssm:us-east-1:${ACCOUNT}:parameter/alice/key`;
    const context = { "aws:username": ["alice"] };
    expect(evaluate(req("ssm:GetParameter", mine, user, context), { identity: [doc("2012-10-17")] }).decision).toBe(
      "Allow",
    );
    expect(evaluate(req("ssm:GetParameter", mine, user, {}), { identity: [doc("2012-10-17")] }).decision).toBe(
      "ImplicitDeny",
    );
    expect(evaluate(req("ssm:GetParameter", mine, user, context), { identity: [doc("2008-10-17")] }).decision).toBe(
      "ImplicitDeny",
    );
  });
});

describe("evaluate: properties", () => {
  const actions = fc.constantFrom(
    "ssm:GetParameter",
    "ssm:PutParameter",
    "ecs:RunTask",
    "iam:CreateRole",
    "logs:PutLogEvents",
  );
  const actionPatterns = fc.constantFrom("*", "ssm:*", "ssm:Get*", "ecs:RunTask", "iam:*", "logs:Put*", "ec2:*");
  const resources = fc.constantFrom("*", PARAM, `arn:aws:ecs:us-east-1:${ACCOUNT}:cluster/default`);
  const resourcePatterns = fc.constantFrom("*", "arn:aws:ssm:*:*:parameter/*", "arn:aws:ecs:*:*:cluster/*", PARAM);
  const statementArb = fc.record({
    Effect: fc.constantFrom("Allow", "Deny"),
    Action: fc.array(actionPatterns, { minLength: 1, maxLength: 3 }),
    Resource: fc.array(resourcePatterns, { minLength: 1, maxLength: 2 }),
  });
  const policyArb = fc
    .array(statementArb, { minLength: 1, maxLength: 5 })
    .map((Statement) => identity({ Version: "2012-10-17", Statement }));

  it("an explicit deny of everything always wins", () => {
    const denyAll = identity(stmt({ Effect: "Deny", Action: "*", Resource: "*" }));
    fc.assert(
      fc.property(fc.array(policyArb, { maxLength: 3 }), actions, resources, (policies, action, resource) => {
        expect(evaluate(req(action, resource), { identity: [...policies, denyAll] }).decision).toBe("ExplicitDeny");
      }),
    );
  });

  it("the order of policies and statements never matters", () => {
    fc.assert(
      fc.property(fc.array(policyArb, { maxLength: 4 }), actions, resources, (policies, action, resource) => {
        const a = evaluate(req(action, resource), { identity: policies }).decision;
        const reversed = policies.map((p) => ({ ...p, statements: [...p.statements].reverse() })).reverse();
        expect(evaluate(req(action, resource), { identity: reversed }).decision).toBe(a);
      }),
    );
  });

  it("adding an Allow never turns an allow into a deny; adding a Deny never turns a deny into an allow", () => {
    fc.assert(
      fc.property(policyArb, statementArb, actions, resources, (policy, extra, action, resource) => {
        const before = evaluate(req(action, resource), { identity: [policy] }).decision;
        const after = evaluate(req(action, resource), {
          identity: [policy, identity({ Version: "2012-10-17", Statement: [extra] })],
        }).decision;
        if (extra.Effect === "Allow" && before === "Allow") expect(after).toBe("Allow");
        if (extra.Effect === "Deny" && before !== "Allow") expect(after).not.toBe("Allow");
        if (before === "ExplicitDeny") expect(after).toBe("ExplicitDeny");
      }),
    );
  });

  it("Action and NotAction with the same list split every action between them", () => {
    fc.assert(
      fc.property(fc.array(actionPatterns, { minLength: 1, maxLength: 3 }), actions, (list, action) => {
        const yes = evaluate(req(action), {
          identity: [identity(stmt({ Effect: "Allow", Action: list, Resource: "*" }))],
        });
        const no = evaluate(req(action), {
          identity: [identity(stmt({ Effect: "Allow", NotAction: list, Resource: "*" }))],
        });
        expect([yes.decision, no.decision].sort()).toEqual(["Allow", "ImplicitDeny"]);
      }),
    );
  });

  it("with no policies nothing is allowed, except to root", () => {
    fc.assert(
      fc.property(actions, resources, (action, resource) => {
        expect(evaluate(req(action, resource), { identity: [] }).decision).toBe("ImplicitDeny");
        expect(evaluate(req(action, resource, root), { identity: [], rootIdentity: true }).decision).toBe("Allow");
      }),
    );
  });
});

describe("resourcePolicyGrantsAccount (ECR registry tokens of another account)", () => {
  const REPO = `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/app`;
  const grant = (principal: unknown, action = "ecr:BatchGetImage") =>
    JSON.stringify(stmt({ Effect: "Allow", Principal: principal, Action: action }));

  it("grants what the repository policy allows the other account, nothing else", () => {
    expect(
      resourcePolicyGrantsAccount(grant({ AWS: "999999999999" }), "999999999999", "ecr:BatchGetImage", REPO, ACCOUNT),
    ).toBe(true);
    expect(
      resourcePolicyGrantsAccount(
        grant({ AWS: "arn:aws:iam::999999999999:root" }),
        "999999999999",
        "ecr:PutImage",
        REPO,
        ACCOUNT,
      ),
    ).toBe(false);
    expect(
      resourcePolicyGrantsAccount(grant({ AWS: "888888888888" }), "999999999999", "ecr:BatchGetImage", REPO, ACCOUNT),
    ).toBe(false);
    expect(resourcePolicyGrantsAccount(undefined, "999999999999", "ecr:BatchGetImage", REPO, ACCOUNT)).toBe(false);
    expect(resourcePolicyGrantsAccount("{bad", "999999999999", "ecr:BatchGetImage", REPO, ACCOUNT)).toBe(false);
  });
});
