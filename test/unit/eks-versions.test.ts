import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DEFAULT_VERSION, EKS_VERSIONS, checkUpgrade, chooseVersion } from "../../src/services/eks/versions.js";

describe("EKS Kubernetes versions", () => {
  it("defaults to the newest standard-support version", () => {
    expect(DEFAULT_VERSION).toBe("1.33");
    expect(chooseVersion(undefined)).toEqual({ version: "1.33" });
    expect(chooseVersion("1.30")).toEqual({ version: "1.30" });
    expect(chooseVersion("1.20")).toEqual({ error: "unsupported Kubernetes version 1.20" });
    expect(chooseVersion("1.34")).toMatchObject({ error: expect.any(String) });
  });

  it.each([
    ["1.32", "1.33", true],
    ["1.28", "1.29", true],
    ["1.31", "1.33", false],
    ["1.33", "1.32", false],
    ["1.33", "1.34", false],
    ["1.33", "1.33", false],
    ["1.32", "banana", false],
  ])("%s → %s allowed: %s", (from, to, ok) => {
    expect("ok" in checkUpgrade(from, to)).toBe(ok);
  });

  it("allows exactly one minor version up to a supported version", () => {
    const supported = EKS_VERSIONS.map((v) => v.version);
    const minor = (v: string) => Number(v.split(".")[1]);
    fc.assert(
      fc.property(fc.constantFrom(...supported), fc.integer({ min: 20, max: 40 }), (from, m) => {
        const to = `1.${m}`;
        const allowed = "ok" in checkUpgrade(from, to);
        expect(allowed).toBe(m === minor(from) + 1 && supported.includes(to));
      }),
    );
  });

  it("lists every version with a platform version eks.N and patch release", () => {
    for (const v of EKS_VERSIONS) {
      expect(v.platformVersion).toMatch(/^eks\.\d+$/);
      expect(v.patch.startsWith(`${v.version}.`)).toBe(true);
    }
  });
});
