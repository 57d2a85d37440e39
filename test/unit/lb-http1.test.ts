import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ChunkedScanner,
  HttpError,
  hostOnly,
  headerValues,
  scanRequestHead,
  scanResponseHead,
  splitTarget,
} from "../../src/lb/http1.js";

const head = (...lines: string[]) => lines.join("\r\n");

describe("request heads", () => {
  const scan = (text: string) => {
    const buf = Buffer.from(`\r\n${text}\r\n\r\n`, "latin1"); // a stray CRLF first, as between requests
    return scanRequestHead(buf, 2, buf.length - 4);
  };
  /** The header lines the proxy would forward. */
  const forwarded = (text: string) => {
    const h = scan(text);
    const out: string[] = [];
    for (let i = 0; i < h.forward.length; i += 2)
      out.push(...h.buf.toString("latin1", h.forward[i], h.forward[i + 1] - 2).split("\r\n"));
    return out;
  };

  it("scans the request line, headers, framing and keep-alive", () => {
    const h = scan(head("POST /a?b=1 HTTP/1.1", "Host:  example.com:8080 ", "Content-Length: 5", "X-A:  v "));
    expect(h).toMatchObject({
      method: "POST",
      target: "/a?b=1",
      minor: 1,
      host: "example.com:8080",
      framing: { kind: "length", length: 5 },
      close: false,
      upgrade: false,
    });
    expect(headerValues(h, "x-a")).toEqual(["v"]);
  });

  it.each<[string, string, object]>([
    ["HTTP/1.0 closes unless keep-alive", head("GET / HTTP/1.0"), { close: true, minor: 0, host: "" }],
    ["HTTP/1.0 keep-alive", head("GET / HTTP/1.0", "Connection: Keep-Alive"), { close: false }],
    ["HTTP/1.1 Connection: close", head("GET / HTTP/1.1", "Host: a", "Connection: close"), { close: true }],
    ["chunked", head("POST / HTTP/1.1", "Host: a", "Transfer-Encoding: chunked"), { framing: { kind: "chunked" } }],
    ["no body", head("GET / HTTP/1.1", "Host: a"), { framing: { kind: "none" } }],
    ["upgrade", head("GET /ws HTTP/1.1", "Host: a", "Connection: Upgrade", "Upgrade: websocket"), { upgrade: true }],
    [
      "X-Forwarded-For values",
      head("GET / HTTP/1.1", "Host: a", "X-Forwarded-For: 1.2.3.4", "x-forwarded-for: 5.6.7.8"),
      { xff: "1.2.3.4, 5.6.7.8" },
    ],
    ["a trace id", head("GET / HTTP/1.1", "Host: a", "X-Amzn-Trace-Id: Root=1-x"), { trace: true }],
  ])("%s", (_, text, expected) => {
    expect(scan(text)).toMatchObject(expected);
  });

  it("forwards end-to-end headers and drops hop-by-hop and X-Forwarded-* ones", () => {
    expect(
      forwarded(
        head(
          "GET / HTTP/1.1",
          "Host: a",
          "Connection: keep-alive, X-Private",
          "Keep-Alive: 5",
          "X-Private: secret",
          "X-Forwarded-For: 1.1.1.1",
          "X-Forwarded-Proto: https",
          "X-Forwarded-Port: 443",
          "Accept: */*",
          "TE: trailers",
          "X-Amzn-Trace-Id: Root=1-x",
        ),
      ),
    ).toEqual(["Host: a", "Accept: */*", "X-Amzn-Trace-Id: Root=1-x"]);
  });

  it("keeps Connection and Upgrade (in place) on upgrade requests", () => {
    expect(
      forwarded(head("GET /ws HTTP/1.1", "Host: a", "Connection: Upgrade", "Upgrade: websocket", "X-A: 1")),
    ).toEqual(["Host: a", "Connection: Upgrade", "Upgrade: websocket", "X-A: 1"]);
  });

  it.each([
    ["a malformed request line", head("GET /")],
    ["HTTP/2 in a text head", head("GET / HTTP/2.0", "Host: a")],
    ["a missing Host on HTTP/1.1", head("GET / HTTP/1.1")],
    ["two Host headers", head("GET / HTTP/1.1", "Host: a", "Host: b")],
    ["a space before the colon", head("GET / HTTP/1.1", "Host : a")],
    ["folded header lines", head("GET / HTTP/1.1", "Host: a", " folded")],
    [
      "Content-Length and Transfer-Encoding together",
      head("POST / HTTP/1.1", "Host: a", "Content-Length: 1", "Transfer-Encoding: chunked"),
    ],
    ["conflicting Content-Lengths", head("POST / HTTP/1.1", "Host: a", "Content-Length: 1", "Content-Length: 2")],
    ["a non-numeric Content-Length", head("POST / HTTP/1.1", "Host: a", "Content-Length: 1x")],
    ["a Transfer-Encoding other than chunked last", head("POST / HTTP/1.1", "Host: a", "Transfer-Encoding: gzip")],
    ["a control character in the target", "GET /a\u0001b HTTP/1.1\r\nHost: a"],
    ["a bare LF inside a header line", "GET / HTTP/1.1\r\nHost: a\nX-Evil: 1"],
    ["a bare CR inside a header line", "GET / HTTP/1.1\r\nHost: a\rX-Evil: 1"],
    ["a NUL in a header value", "GET / HTTP/1.1\r\nHost: a\u0000b"],
  ])("rejects %s with 400", (_, text) => {
    expect(() => scan(text)).toThrow(HttpError);
    try {
      scan(text);
    } catch (e) {
      expect((e as HttpError).status).toBe(400);
    }
  });

  it("forwards exactly the end-to-end lines, for any mix of headers", () => {
    const dropped = [
      "Connection: keep-alive",
      "Keep-Alive: timeout=5",
      "TE: trailers",
      "X-Forwarded-For: 9.9.9.9",
      "X-Forwarded-Port: 1",
    ];
    const endToEnd = fc.stringMatching(/^X-[A-Za-z0-9]{1,10}: [a-z0-9 ]{0,10}[a-z0-9]$/);
    fc.assert(
      fc.property(fc.array(fc.oneof(endToEnd, fc.constantFrom(...dropped)), { maxLength: 10 }), (lines) => {
        const text = head("GET / HTTP/1.1", "Host: h", ...lines);
        expect(forwarded(text)).toEqual(["Host: h", ...lines.filter((l) => !dropped.includes(l))]);
      }),
    );
  });
});

describe("response heads", () => {
  const scan = (text: string, method = "GET") => {
    const buf = Buffer.from(`${text}\r\n\r\n`, "latin1");
    return { buf, r: scanResponseHead(buf, buf.length - 4, method) };
  };
  /** The header lines the proxy would forward. */
  const kept = (text: string, method = "GET") => {
    const { buf, r } = scan(text, method);
    const out: string[] = [];
    for (let i = 0; i < r.ranges.length; i += 2)
      out.push(...buf.toString("latin1", r.ranges[i], r.ranges[i + 1] - 2).split("\r\n"));
    return out;
  };

  it.each<[string, string, string, object]>([
    [
      "length",
      head("HTTP/1.1 200 OK", "Content-Length: 3"),
      "GET",
      { status: 200, framing: { kind: "length", length: 3 } },
    ],
    ["zero length", head("HTTP/1.1 200 OK", "Content-Length: 0"), "GET", { framing: { kind: "none" }, close: false }],
    ["chunked", head("HTTP/1.1 200 OK", "Transfer-Encoding: chunked"), "GET", { framing: { kind: "chunked" } }],
    ["until close", head("HTTP/1.1 200 OK"), "GET", { framing: { kind: "close" }, close: true }],
    ["HEAD has no body", head("HTTP/1.1 200 OK", "Content-Length: 10"), "HEAD", { framing: { kind: "none" } }],
    ["204 has no body", head("HTTP/1.1 204 No Content"), "GET", { framing: { kind: "none" } }],
    ["304 has no body", head("HTTP/1.1 304 Not Modified"), "GET", { framing: { kind: "none" } }],
    ["Connection: close", head("HTTP/1.1 200 OK", "Content-Length: 0", "Connection: close"), "GET", { close: true }],
    ["HTTP/1.0 closes by default", head("HTTP/1.0 200 OK", "Content-Length: 1"), "GET", { close: true, minor: 0 }],
    [
      "HTTP/1.0 keep-alive",
      head("HTTP/1.0 200 OK", "Content-Length: 1", "Connection: keep-alive"),
      "GET",
      { close: false },
    ],
    ["an empty reason", head("HTTP/1.1 418"), "GET", { status: 418, reasonEnd: 12 }],
    [
      "Content-Length with spaces",
      head("HTTP/1.1 200 OK", "Content-Length:  12 "),
      "GET",
      { framing: { kind: "length", length: 12 } },
    ],
  ])("%s", (_, text, method, expected) => {
    expect(scan(text, method).r).toMatchObject(expected);
  });

  it("keeps end-to-end headers and drops hop-by-hop ones, including those Connection names", () => {
    expect(
      kept(
        head(
          "HTTP/1.1 200 OK",
          "Content-Type: text/plain",
          "Connection: keep-alive, X-Hop",
          "Keep-Alive: timeout=5",
          "X-Hop: 1",
          "TE: trailers",
          "Content-Length: 2",
          "Set-Cookie: a=b",
        ),
      ),
    ).toEqual(["Content-Type: text/plain", "Content-Length: 2", "Set-Cookie: a=b"]);
  });

  it("keeps Upgrade and Connection on 101 Switching Protocols", () => {
    expect(kept(head("HTTP/1.1 101 Switching Protocols", "Upgrade: websocket", "Connection: Upgrade"))).toEqual([
      "Upgrade: websocket",
      "Connection: Upgrade",
    ]);
  });

  it.each([
    ["a bad status line", "HTTP/1.1 OK"],
    ["HTTP/2", "HTTP/2.0 200 OK"],
    ["a non-numeric Content-Length", head("HTTP/1.1 200 OK", "Content-Length: a")],
    ["conflicting Content-Lengths", head("HTTP/1.1 200 OK", "Content-Length: 1", "Content-Length: 2")],
    ["Content-Length and chunked", head("HTTP/1.1 200 OK", "Content-Length: 1", "Transfer-Encoding: chunked")],
    ["a folded line", head("HTTP/1.1 200 OK", "X-A: 1", " folded")],
    ["a line without a colon", head("HTTP/1.1 200 OK", "garbage")],
    ["whitespace before the colon", head("HTTP/1.1 200 OK", "X-A : 1")],
    ["a bare LF inside a header line", "HTTP/1.1 200 OK\r\nX-A: 1\nX-B: 2"],
    ["a bare CR after the status line", "HTTP/1.1 200 OK\rX-A: 1"],
  ])("rejects %s with 502", (_, text) => {
    expect(() => scan(text)).toThrow(HttpError);
    try {
      scan(text);
    } catch (e) {
      expect((e as HttpError).status).toBe(502);
    }
  });

  it("forwards exactly the lines that are not hop-by-hop, for any mix of headers", () => {
    const hop = [
      "Connection: keep-alive",
      "Keep-Alive: timeout=5",
      "Proxy-Connection: x",
      "TE: trailers",
      "Trailer: x",
      "Upgrade: h2c",
    ];
    const endToEnd = fc.stringMatching(/^X-[A-Za-z0-9-]{1,10}: [a-z0-9 ]{0,10}[a-z0-9]$/);
    fc.assert(
      fc.property(fc.array(fc.oneof(endToEnd, fc.constantFrom(...hop)), { maxLength: 10 }), (lines) => {
        const text = head("HTTP/1.1 200 OK", ...lines, "Content-Length: 0");
        expect(kept(text)).toEqual([...lines.filter((l) => !hop.includes(l)), "Content-Length: 0"]);
      }),
    );
  });
});

describe("targets and hosts", () => {
  it.each([
    ["/a/b?x=1", { path: "/a/b", query: "x=1" }],
    ["/a", { path: "/a", query: "" }],
    ["/a?x=1#frag", { path: "/a", query: "x=1" }],
    ["http://h:8/p?q", { path: "/p", query: "q" }],
    ["http://h", { path: "/", query: "" }],
  ])("splits %s", (target, expected) => {
    expect(splitTarget(target)).toEqual(expected);
  });

  it.each([
    ["example.com:8080", "example.com"],
    ["example.com", "example.com"],
    ["[::1]:80", "[::1]"],
  ])("host of %s is %s", (host, expected) => {
    expect(hostOnly(host)).toBe(expected);
  });
});

describe("chunked bodies", () => {
  const encode = (chunks: Buffer[], trailer = "") =>
    Buffer.concat([
      ...chunks.flatMap((c) => [Buffer.from(`${c.length.toString(16)};ext=1\r\n`), c, Buffer.from("\r\n")]),
      Buffer.from(`0\r\n${trailer}\r\n`),
    ]);

  it("finds the end of a body however it is split, and not before", () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: 1, maxLength: 40 }), { maxLength: 6 }),
        fc.boolean(),
        fc.uint8Array({ maxLength: 10 }),
        fc.array(fc.integer({ min: 1, max: 17 }), { minLength: 1, maxLength: 20 }),
        (chunks, withTrailer, after, cuts) => {
          const body = encode(
            chunks.map((c) => Buffer.from(c)),
            withTrailer ? "X-T: 1\r\n" : "",
          );
          const stream = Buffer.concat([body, Buffer.from(after)]);
          const scanner = new ChunkedScanner();
          let offset = 0;
          let end = -1;
          let i = 0;
          while (offset < stream.length && end < 0) {
            const size = cuts[i++ % cuts.length];
            const piece = stream.subarray(offset, offset + size);
            const at = scanner.scan(piece);
            if (at >= 0) end = offset + at;
            offset += piece.length;
          }
          expect(end).toBe(body.length);
          expect(scanner.done).toBe(true);
        },
      ),
    );
  });

  it.each(["zz\r\n", "5\r\nabcdeXX", "\r\n", "3\nabc"])("rejects malformed chunking %j", (text) => {
    expect(() => new ChunkedScanner().scan(Buffer.from(text))).toThrow(HttpError);
  });
});
