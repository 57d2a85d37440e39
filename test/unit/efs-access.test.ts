import { describe, expect, it } from "vitest";
import { anonymousAccess } from "../../src/services/efs/volumes.js";
import type { FileSystemRecord } from "../../src/store/schema/efs.js";

const arn = "arn:aws:elasticfilesystem:us-east-1:000000000000:file-system/fs-0123456789abcdef0";
const fsWith = (statements?: unknown[]): FileSystemRecord => ({
  FileSystemId: "fs-0123456789abcdef0",
  FileSystemArn: arn,
  CreationToken: "t",
  OwnerId: "000000000000",
  CreationTime: new Date(0),
  PerformanceMode: "generalPurpose",
  ThroughputMode: "bursting",
  Encrypted: false,
  Tags: [],
  LifecyclePolicies: [],
  BackupPolicy: { Status: "DISABLED" },
  availableAt: new Date(0),
  ...(statements ? { Policy: JSON.stringify({ Version: "2012-10-17", Statement: statements }) } : {}),
});
const allow = (principal: unknown, action: string | string[]) => ({
  Effect: "Allow",
  Principal: principal,
  Action: action,
  Resource: arn,
});
const denyInsecure = {
  Effect: "Deny",
  Principal: { AWS: "*" },
  Action: "*",
  Condition: { Bool: { "aws:SecureTransport": "false" } },
};
const mountWrite = ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"];
const all = [...mountWrite, "elasticfilesystem:ClientRootAccess"];

/** An anonymous NFS client (no IAM authorization): the file system policy decides for `*`. */
describe("anonymousAccess", () => {
  it.each<[string, FileSystemRecord, boolean, [boolean, boolean, boolean]]>([
    ["no policy: the default policy, full access", fsWith(), false, [true, true, true]],
    [
      "a policy for a role only: anonymous cannot mount",
      fsWith([allow({ AWS: "arn:aws:iam::000000000000:role/r" }, all)]),
      true,
      [false, false, false],
    ],
    ['"Prevent root access by default"', fsWith([allow({ AWS: "*" }, mountWrite)]), false, [true, true, false]],
    [
      '"Enforce read-only access by default"',
      fsWith([allow("*", "elasticfilesystem:ClientMount")]),
      false,
      [true, false, false],
    ],
    [
      '"Enforce in-transit encryption", without TLS',
      fsWith([allow({ AWS: "*" }, all), denyInsecure]),
      false,
      [false, false, false],
    ],
    [
      '"Enforce in-transit encryption", with TLS',
      fsWith([allow({ AWS: "*" }, all), denyInsecure]),
      true,
      [true, true, true],
    ],
    ["a wildcard action", fsWith([allow({ AWS: "*" }, "elasticfilesystem:Client*")]), false, [true, true, true]],
  ])("%s", (_name, fs, secure, [mount, write, root]) => {
    expect(anonymousAccess(fs, secure)).toEqual({ mount, write, root });
  });

  it("scopes by access point ARN", () => {
    const ap = "arn:aws:elasticfilesystem:us-east-1:000000000000:access-point/fsap-0123456789abcdef0";
    const fs = fsWith([
      {
        ...allow({ AWS: "*" }, mountWrite),
        Condition: { StringEquals: { "elasticfilesystem:AccessPointArn": ap } },
      },
    ]);
    expect(anonymousAccess(fs, true, ap)).toEqual({ mount: true, write: true, root: false });
    expect(anonymousAccess(fs, true)).toEqual({ mount: false, write: false, root: false });
  });
});
