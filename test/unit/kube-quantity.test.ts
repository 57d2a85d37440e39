// biome-ignore-all lint/suspicious/noExplicitAny: fixtures are reached into by path
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalQuantity } from "../../src/kube/quantity.js";
import { defaultObject, loadOpenApi } from "../../src/kube/schema.js";

describe("kube quantities", () => {
  it.each([
    ["0.5", "500m"],
    [1, "1"],
    [0.25, "250m"],
    ["1024Mi", "1Gi"],
    ["1.5Gi", "1536Mi"],
    ["1500m", "1500m"],
    ["1000m", "1"],
    ["1000", "1k"],
    ["100M", "100M"],
    ["1.5Ki", "1536"],
    ["64Mi", "64Mi"],
    [128974848, "128974848"],
    ["0.1m", "100u"],
    ["1e3", "1e3"],
    ["0", "0"],
    ["-1", "-1"],
    ["lots", undefined],
  ])("%j → %j", (q, canonical) => expect(canonicalQuantity(q)).toBe(canonical));

  it("property: canonical forms are fixed points", () => {
    const q = fc.oneof(
      fc
        .tuple(fc.integer({ min: 0, max: 100000 }), fc.constantFrom("", "m", "k", "M", "G", "Ki", "Mi", "Gi"))
        .map(([n, s]) => `${n}${s}`),
      fc
        .tuple(fc.integer({ min: 0, max: 999 }), fc.integer({ min: 1, max: 999 }), fc.constantFrom("", "m", "Gi"))
        .map(([a, b, s]) => `${a}.${b}${s}`),
    );
    fc.assert(
      fc.property(q, (x) => {
        const c = canonicalQuantity(x) as string;
        expect(canonicalQuantity(c)).toBe(c);
      }),
    );
  });

  it("defaultObject stores a pod's resources canonical", () => {
    const ix = loadOpenApi();
    const p = defaultObject(
      ix,
      { group: "", version: "v1", kind: "Pod" },
      {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "p" },
        spec: {
          containers: [
            { name: "a", image: "x", resources: { requests: { cpu: 0.5, memory: "1024Mi" }, limits: { cpu: 1 } } },
          ],
        },
      },
    ) as any;
    expect(p.spec.containers[0].resources).toEqual({ requests: { cpu: "500m", memory: "1Gi" }, limits: { cpu: "1" } });
  });
});
