import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { arn, globalArn, parseArn, rootArn } from "../../src/core/ids.js";

describe("ARN builders and parser", () => {
  it.each([
    [
      arn("ssm", { region: "us-east-1", account: "111122223333" }, "parameter/db"),
      "arn:aws:ssm:us-east-1:111122223333:parameter/db",
    ],
    [globalArn("iam", "111122223333", "role/app"), "arn:aws:iam::111122223333:role/app"],
    [globalArn("iam", "aws", "policy/AdministratorAccess"), "arn:aws:iam::aws:policy/AdministratorAccess"],
    [rootArn("111122223333"), "arn:aws:iam::111122223333:root"],
  ])("%s", (built, expected) => {
    expect(built).toBe(expected);
  });

  it("property: parseArn reads back what arn builds (resources may hold colons)", () => {
    const part = fc.stringMatching(/^[a-z0-9-]{1,12}$/);
    fc.assert(
      fc.property(
        part,
        part,
        fc.stringMatching(/^\d{12}$/),
        fc.stringMatching(/^[a-z0-9:/_-]{1,30}$/),
        (service, region, account, resource) => {
          expect(parseArn(arn(service, { region, account }, resource))).toEqual({ service, region, account, resource });
        },
      ),
    );
  });
});
