import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeContinue, encodeContinue, page } from "../../src/kube-api/paging.js";
import type { KubeObject } from "../../src/kube/types.js";

const obj = (ns: string, name: string) =>
  ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: ns } }) as KubeObject;

describe("limit and continue", () => {
  it("tokens round-trip and bad ones are a 400", () => {
    expect(decodeContinue(encodeContinue({ rv: 42, start: "a/b" }))).toEqual({ rv: 42, start: "a/b" });
    expect(() => decodeContinue("garbage")).toThrow(expect.objectContaining({ code: 400 }));
  });

  it("a token older than the change log is 410 Expired", () => {
    const t = encodeContinue({ rv: 5, start: "a/x" });
    expect(() => page([], "9", { continue: t, oldest: 6 })).toThrow(
      expect.objectContaining({ code: 410, reason: "Expired" }),
    );
  });

  it("pages cover the list exactly once, in order, at the first page's resourceVersion (property)", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.stringMatching(/^[a-z]{1,4}$/), { maxLength: 30 }),
        fc.integer({ min: 1, max: 7 }),
        (names, limit) => {
          const sorted = names.map((n) => obj("ns", n)).sort((a, b) => (a.metadata.name! < b.metadata.name! ? -1 : 1));
          const seen: string[] = [];
          let token: string | undefined;
          let pages = 0;
          do {
            const p = page(sorted, "17", { limit, continue: token });
            expect(p.resourceVersion).toBe("17");
            expect(p.items.length).toBeLessThanOrEqual(limit);
            if (p.continue) expect(p.remainingItemCount).toBe(sorted.length - seen.length - p.items.length);
            seen.push(...p.items.map((o) => o.metadata.name!));
            token = p.continue;
            pages++;
          } while (token && pages < 100);
          expect(seen).toEqual(sorted.map((o) => o.metadata.name));
        },
      ),
    );
  });
});
