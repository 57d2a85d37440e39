import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type ForwardContext,
  TraceIds,
  clientResponseHead,
  forwardRequestHead,
  forwardedLines,
  forwardedSuffix,
  responseConnectionLine,
} from "../../src/lb/forward-head.js";
import { scanRequestHead, scanResponseHead } from "../../src/lb/http1.js";

const scan = (text: string) => {
  const buf = Buffer.from(text, "latin1");
  return scanRequestHead(buf, 0, buf.indexOf("\r\n\r\n"));
};
const ctx = (over: Partial<ForwardContext> = {}): ForwardContext => ({
  xffMode: "append",
  xffClientPort: false,
  remoteAddress: "10.1.2.3",
  remotePort: 50123,
  localAddress: "127.0.0.1",
  listenerPort: 8080,
  suffix: forwardedSuffix(8080),
  traceId: () => "Root=1-00000001-000000000000000000000001",
  ...over,
});
const TRACE = "X-Amzn-Trace-Id: Root=1-00000001-000000000000000000000001\r\n";
const PROTO_PORT = "X-Forwarded-Proto: http\r\nX-Forwarded-Port: 8080\r\n";

describe("forwarded request lines", () => {
  it.each<[string, string, Partial<ForwardContext>, string]>([
    [
      "append: the client address",
      "GET / HTTP/1.1\r\nHost: h\r\n\r\n",
      {},
      `X-Forwarded-For: 10.1.2.3\r\n${PROTO_PORT}${TRACE}\r\n`,
    ],
    [
      "append after what the client sent",
      "GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 1.1.1.1\r\nX-Forwarded-For: 2.2.2.2\r\n\r\n",
      {},
      `X-Forwarded-For: 1.1.1.1, 2.2.2.2, 10.1.2.3\r\n${PROTO_PORT}${TRACE}\r\n`,
    ],
    [
      "append with the client port",
      "GET / HTTP/1.1\r\nHost: h\r\n\r\n",
      { xffClientPort: true },
      `X-Forwarded-For: 10.1.2.3:50123\r\n${PROTO_PORT}${TRACE}\r\n`,
    ],
    [
      "preserve: only what the client sent",
      "GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 1.1.1.1\r\n\r\n",
      { xffMode: "preserve" },
      `X-Forwarded-For: 1.1.1.1\r\n${PROTO_PORT}${TRACE}\r\n`,
    ],
    [
      "preserve, none sent: no line",
      "GET / HTTP/1.1\r\nHost: h\r\n\r\n",
      { xffMode: "preserve" },
      `${PROTO_PORT}${TRACE}\r\n`,
    ],
    [
      "remove",
      "GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 1.1.1.1\r\n\r\n",
      { xffMode: "remove" },
      `${PROTO_PORT}${TRACE}\r\n`,
    ],
    [
      "HTTP/1.0 without Host gets the listener's",
      "GET / HTTP/1.0\r\n\r\n",
      { xffMode: "remove" },
      `${PROTO_PORT}Host: 127.0.0.1:8080\r\n${TRACE}\r\n`,
    ],
    [
      "a client trace id is kept (no new one)",
      "GET / HTTP/1.1\r\nHost: h\r\nX-Amzn-Trace-Id: Root=x\r\n\r\n",
      { xffMode: "remove" },
      `${PROTO_PORT}\r\n`,
    ],
  ])("%s", (_name, request, over, expected) => {
    expect(forwardedLines(scan(request), ctx(over))).toBe(expected);
  });

  it("the request head: HTTP/1.1 request line, the client's end-to-end lines as sent, then ours", () => {
    const head = scan(
      "GET /p?q=1 HTTP/1.0\r\nHost: h\r\nConnection: keep-alive\r\nX-Forwarded-Proto: https\r\nX-A: 1\r\nKeep-Alive: 5\r\n\r\n",
    );
    expect(forwardRequestHead(head, "X-B: 2\r\n\r\n").toString("latin1")).toBe(
      "GET /p?q=1 HTTP/1.1\r\nHost: h\r\nX-A: 1\r\nX-B: 2\r\n\r\n",
    );
  });

  const name = fc.stringMatching(/^X-[A-Za-z0-9-]{1,12}$/);
  const value = fc.stringMatching(/^[!-~]([ -~]{0,20}[!-~])?$/);
  const hop = fc.constantFrom(
    "Connection: close",
    "Keep-Alive: timeout=5",
    "TE: trailers",
    "Trailer: X-T",
    "Proxy-Connection: keep-alive",
    "X-Forwarded-For: 9.9.9.9",
    "X-Forwarded-Port: 1",
    "X-Forwarded-Proto: https",
    "X-Amzn-Trace-Id: Root=1-abc",
    "Transfer-Encoding: chunked",
  );
  const line = fc.oneof(
    fc.tuple(name, value).map(([n, v]) => `${n}: ${v}`),
    hop,
  );
  const request = fc.record({
    method: fc.constantFrom("GET", "POST", "PUT", "DELETE", "OPTIONS"),
    target: fc.stringMatching(/^\/[!-~]{0,20}$/),
    minor: fc.constantFrom(0, 1),
    host: fc.option(fc.stringMatching(/^[a-z0-9.]{1,12}(:[0-9]{1,5})?$/), { nil: undefined }),
    lines: fc.array(line, { maxLength: 12 }),
    xffMode: fc.constantFrom<ForwardContext["xffMode"]>("append", "preserve", "remove"),
    xffClientPort: fc.boolean(),
  });

  it("never emits a bare CR or LF, ends in exactly one blank line and re-scans as the same request", () => {
    fc.assert(
      fc.property(request, (r) => {
        const host = r.host !== undefined ? [`Host: ${r.host}`] : r.minor === 1 ? ["Host: h"] : [];
        const text = `${r.method} ${r.target} HTTP/1.${r.minor}\r\n${[...host, ...r.lines].map((l) => `${l}\r\n`).join("")}\r\n`;
        const head = scan(text);
        const out = forwardRequestHead(
          head,
          forwardedLines(head, ctx({ xffMode: r.xffMode, xffClientPort: r.xffClientPort })),
        );
        const s = out.toString("latin1");
        for (let i = 0; i < s.length; i++) {
          if (s[i] === "\r" && s[i + 1] !== "\n") return false;
          if (s[i] === "\n" && s[i - 1] !== "\r") return false;
        }
        if (s.indexOf("\r\n\r\n") !== s.length - 4) return false;
        const again = scanRequestHead(out, 0, out.length - 4);
        expect(again.method).toBe(head.method);
        expect(again.target).toBe(head.target);
        expect(again.minor).toBe(1);
        expect(again.framing).toEqual(head.framing);
        expect(again.trace).toBe(true);
        expect(again.host !== "").toBe(true);
        // Hop-by-hop lines never reach the target.
        return !/^(connection|keep-alive|te|trailer|proxy-connection|x-forwarded-port: 1|x-forwarded-proto: https)\b/im.test(
          s,
        );
      }),
    );
  });
});

describe("response head to the client", () => {
  it.each<[boolean, boolean, number, string]>([
    [false, false, 1, ""],
    [false, false, 0, "Connection: keep-alive\r\n"],
    [true, false, 1, "Connection: close\r\n"],
    [true, false, 0, "Connection: close\r\n"],
    [true, true, 1, ""],
    [false, true, 0, ""],
  ])("close %s, tunnel %s, HTTP/1.%s → %j", (close, tunnel, minor, expected) => {
    expect(responseConnectionLine(close, tunnel, minor)).toBe(expected);
  });

  const response = (text: string) => {
    const buf = Buffer.from(text, "latin1");
    return { buf, head: scanResponseHead(buf, buf.indexOf("\r\n\r\n"), "GET") };
  };

  it("rewrites the status line to HTTP/1.1, keeps the reason, drops hop-by-hop lines, adds ours", () => {
    const { buf, head } = response("HTTP/1.0 404 Nope\r\nKeep-Alive: 5\r\nContent-Length: 2\r\nX-A: 1\r\n\r\nhi");
    const { bytes, withBody } = clientResponseHead(buf, head, "Set-Cookie: a=b\r\n", Buffer.from("hi"), 16384);
    expect(withBody).toBe(true);
    expect(bytes.toString("latin1")).toBe(
      "HTTP/1.1 404 Nope\r\nContent-Length: 2\r\nX-A: 1\r\nSet-Cookie: a=b\r\n\r\nhi",
    );
  });

  it("leaves a body out of the head's buffer when the whole would exceed the limit", () => {
    const { buf, head } = response("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n");
    const body = Buffer.alloc(100, 97);
    const { bytes, withBody } = clientResponseHead(buf, head, "", body, 64);
    expect(withBody).toBe(false);
    expect(bytes.toString("latin1")).toBe("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n");
    expect(clientResponseHead(buf, head, "", null, 64).withBody).toBe(false);
  });
});

describe("trace ids", () => {
  it("look like ALB's and never repeat", () => {
    const ids = new TraceIds("0123456789ab");
    expect(ids.next(0x5f5e1000 * 1000)).toBe("Root=1-5f5e1000-0123456789ab000000000001");
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1_600_000_000_000, max: 4_000_000_000_000 }), { minLength: 1, maxLength: 20 }),
        (times) => {
          const gen = new TraceIds();
          const got = times.map((t) => gen.next(t));
          return got.every((id) => /^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$/.test(id)) && new Set(got).size === got.length;
        },
      ),
    );
  });
});
