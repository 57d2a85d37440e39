import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BodyEnd } from "../../src/lb/body-end.js";
import type { Framing } from "../../src/lb/http1.js";

/** Feeds `bytes` in pieces cut at `cuts`; returns the absolute offset where the body ended, or -1. */
function endOf(framing: Framing, bytes: Buffer, cuts: number[]): number {
  const end = new BodyEnd(framing);
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  let from = 0;
  for (const to of [...points, bytes.length]) {
    if (to <= from) continue;
    const e = end.find(bytes.subarray(from, to));
    if (e >= 0) return from + e;
    from = to;
  }
  return -1;
}

const chunked = (parts: string[]) =>
  `${parts.map((p) => `${Buffer.byteLength(p).toString(16)}\r\n${p}\r\n`).join("")}0\r\n\r\n`;

describe("where a body ends", () => {
  it.each<[string, Framing, string, number]>([
    ["a length, exactly", { kind: "length", length: 5 }, "hello", 5],
    ["a length, with the next request after it", { kind: "length", length: 5 }, "helloGET / HTTP/1.1", 5],
    ["a length, not all there yet", { kind: "length", length: 10 }, "hello", -1],
    ["chunked", { kind: "chunked" }, `${chunked(["abc", "de"])}NEXT`, chunked(["abc", "de"]).length],
    ["chunked with a trailer", { kind: "chunked" }, "3\r\nabc\r\n0\r\nX-T: 1\r\n\r\nNEXT", 21],
    ["close-delimited never ends by itself", { kind: "close" }, "anything at all", -1],
  ])("%s", (_name, framing, text, expected) => {
    expect(endOf(framing, Buffer.from(text), [])).toBe(expected);
  });

  it("throws on malformed chunking", () => {
    expect(() => new BodyEnd({ kind: "chunked" }).find(Buffer.from("zz\r\n"))).toThrow(/chunk/);
  });

  it("finds the same end however the bytes are cut into pieces", () => {
    fc.assert(
      fc.property(
        fc.array(fc.stringMatching(/^[a-z\r\n]{1,20}$/), { maxLength: 5 }),
        fc.stringMatching(/^[A-Z]{0,10}$/),
        fc.array(fc.nat(), { maxLength: 8 }),
        (parts, after, cuts) => {
          const body = chunked(parts);
          const bytes = Buffer.from(body + after);
          expect(endOf({ kind: "chunked" }, bytes, cuts)).toBe(body.length);
          expect(endOf({ kind: "length", length: body.length }, bytes, cuts)).toBe(body.length);
        },
      ),
    );
  });
});
