import { describe, expect, it } from "vitest";
import { loadModel } from "../../src/protocol/model.js";
import type { IamContext } from "../../src/services/iam/common.js";
import { instanceProfileOperations } from "../../src/services/iam/instance-profiles.js";
import { policyOperations } from "../../src/services/iam/policies.js";
import { roleOperations } from "../../src/services/iam/roles.js";
import { userOperations } from "../../src/services/iam/users.js";

// The shared tag and policy-holder operations are built from the kind's name: every name they
// produce must be an IAM operation, and every one IAM has for those kinds must be there.
describe("IAM operations built from kind names", () => {
  const c = {} as IamContext;
  const provider = {
    ...roleOperations(c),
    ...userOperations(c),
    ...policyOperations(c),
    ...instanceProfileOperations(c),
  };
  const modelOps = Object.keys(loadModel("iam").operations);

  it("are all IAM operations", () => {
    for (const op of Object.keys(provider)) expect(modelOps).toContain(op);
  });

  it.each(["Role", "User", "InstanceProfile", "Policy"])("%s has its tag operations", (kind) => {
    for (const op of [`Tag${kind}`, `Untag${kind}`, `List${kind}Tags`]) expect(provider).toHaveProperty(op);
  });

  it.each(["Role", "User", "Group"])("%s has its seven policy operations", (kind) => {
    const ops = ["Put", "Get", "Delete", "Attach", "Detach"].map((v) => `${v}${kind}Policy`);
    for (const op of [...ops, `List${kind}Policies`, `ListAttached${kind}Policies`])
      expect(provider).toHaveProperty(op);
  });

  it.each(["Role", "User"])("%s has its permissions boundary operations", (kind) => {
    for (const op of [`Put${kind}PermissionsBoundary`, `Delete${kind}PermissionsBoundary`])
      expect(provider).toHaveProperty(op);
  });
});
