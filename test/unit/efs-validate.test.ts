import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { EfsStorage } from "../../src/services/efs/storage.js";
import {
  allocateIp,
  checkCreationInfo,
  checkRootPath,
  fileSystemIdOf,
  inSubnet,
  subnetPlacement,
} from "../../src/services/efs/validate.js";

const scope = { account: "000000000000", region: "us-east-1" };

describe("EFS validation", () => {
  it.each([
    ["/", true],
    ["/data", true],
    ["/a/b/c/d", true],
    ["/a/b/c/d/e", false],
    ["data", false],
    ["/a/./b", false],
    ["/a/../b", false],
    ["/a;b", false],
    [`/${"x".repeat(100)}`, false],
  ])("root directory path %s valid: %s", (path, ok) => {
    if (ok) expect(checkRootPath(path)).toBe(path);
    else expect(() => checkRootPath(path)).toThrow(expect.objectContaining({ code: "BadRequest" }));
  });

  it.each([
    ["755", 0o755],
    ["0750", 0o750],
  ])("permissions %s are mode %o", (p, mode) => {
    expect(checkCreationInfo({ OwnerUid: 0, OwnerGid: 0, Permissions: p })).toBe(mode);
  });

  it.each(["75", "888", "07777", "rwx"])("permissions %s are rejected", (p) => {
    expect(() => checkCreationInfo({ OwnerUid: 0, OwnerGid: 0, Permissions: p })).toThrow();
  });

  it("reads file system ids and ARNs", () => {
    expect(fileSystemIdOf("fs-0123456789abcdef0")).toBe("fs-0123456789abcdef0");
    expect(fileSystemIdOf("arn:aws:elasticfilesystem:us-east-1:000000000000:file-system/fs-01234567")).toBe(
      "fs-01234567",
    );
    expect(fileSystemIdOf("fs-XYZ")).toBeUndefined();
  });

  it("places a subnet in one zone, always, and allocates addresses inside it", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9a-f]{17}$/), (hex) => {
        const id = `subnet-${hex}`;
        const a = subnetPlacement(scope, id);
        expect(subnetPlacement(scope, id)).toEqual(a);
        expect(a.availabilityZoneName).toMatch(/^us-east-1[abc]$/);
        expect(inSubnet(a.cidrBase, allocateIp(a.cidrBase, new Set()))).toBe(true);
      }),
    );
  });

  it("never lets a path leave the file system", () => {
    const storage = new EfsStorage("/data", { now: () => new Date() });
    const root = storage.root(scope, "fs-1");
    fc.assert(
      fc.property(fc.array(fc.constantFrom("..", ".", "a", "b", ""), { maxLength: 8 }), (parts) => {
        expect(storage.pathIn(scope, "fs-1", parts.join("/")).startsWith(root)).toBe(true);
      }),
    );
  });
});
