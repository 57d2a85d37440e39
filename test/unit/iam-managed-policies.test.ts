import { describe, expect, it } from "vitest";
import {
  AWS_MANAGED_POLICIES,
  awsManagedPolicy,
  awsManagedPolicyArn,
  parseManagedPolicies,
} from "../../src/iam/managed-policies.js";
import { parsePolicy } from "../../src/iam/policy.js";

describe("AWS managed policies (data file + loader)", () => {
  it("loads every policy with a unique ARN that looks it up again", () => {
    expect(AWS_MANAGED_POLICIES.length).toBeGreaterThan(20);
    const arns = AWS_MANAGED_POLICIES.map(awsManagedPolicyArn);
    expect(new Set(arns).size).toBe(arns.length);
    for (const p of AWS_MANAGED_POLICIES) expect(awsManagedPolicy(awsManagedPolicyArn(p))).toBe(p);
  });

  it("keeps AWS's ARNs and versions", () => {
    const exec = awsManagedPolicy("arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy");
    expect(exec?.versionId).toBe("v1");
    expect(awsManagedPolicy("arn:aws:iam::aws:policy/PowerUserAccess")?.versionId).toBe("v5");
    expect(awsManagedPolicy("arn:aws:iam::aws:policy/AdministratorAccess")?.document.Statement).toEqual([
      { Effect: "Allow", Action: "*", Resource: "*" },
    ]);
  });

  it("holds only documents the policy grammar accepts", () => {
    for (const p of AWS_MANAGED_POLICIES)
      expect(() => parsePolicy(JSON.stringify(p.document), "identity")).not.toThrow();
  });

  it.each([
    ["not an array", "{}"],
    ["an entry without a document", JSON.stringify([{ name: "a", path: "/", description: "", versionId: "v1" }])],
    [
      "a wrong policy version",
      JSON.stringify([
        { name: "a", path: "/", description: "", versionId: "v1", document: { Version: "2008-10-17", Statement: [] } },
      ]),
    ],
  ])("rejects %s", (_what, text) => {
    expect(() => parseManagedPolicies(text)).toThrow(/managed-policies.json/);
  });
});
