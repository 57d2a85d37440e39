import { describe, expect, it } from "vitest";
import {
  HttpDate,
  elbClosesConnection,
  elbErrorBody,
  elbResponse,
  fixedResponseOptions,
} from "../../src/lb/elb-responses.js";

const DATE = "Thu, 01 Jan 2026 00:00:00 GMT";
const text = (r: { head: string; body: Buffer | null }) => r.head + (r.body ? r.body.toString("latin1") : "");

describe("the load balancer's own responses", () => {
  it.each<[number, string]>([
    [502, "502 Bad Gateway"],
    [503, "503 Service Temporarily Unavailable"],
    [504, "504 Gateway Time-out"],
    [400, "400 Bad Request"],
    [460, "460"],
    [463, "463"],
    [599, "599"],
  ])("%s has the title %j", (status, title) => {
    expect(elbErrorBody(status)).toBe(
      `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n</body>\r\n</html>\r\n`,
    );
  });

  it("an error: ALB's head, an HTML body, keep-alive unless closing", () => {
    const body = elbErrorBody(503);
    expect(text(elbResponse(503, { body: true }, DATE))).toBe(
      `HTTP/1.1 503 Service Temporarily Unavailable\r\nServer: awselb/2.0\r\nDate: ${DATE}\r\nContent-Type: text/html\r\nContent-Length: ${body.length}\r\nConnection: keep-alive\r\n\r\n${body}`,
    );
    expect(elbResponse(400, { body: true, close: true }, DATE).head).toMatch(/\r\nConnection: close\r\n\r\n$/);
  });

  it("a HEAD request gets the same head without body bytes", () => {
    const get = elbResponse(502, { body: true }, DATE);
    const head = elbResponse(502, { body: true, head: true }, DATE);
    expect(head.head).toBe(get.head);
    expect(head.body).toBeNull();
  });

  it("a redirect carries Location and the Set-Cookie lines before Connection", () => {
    const r = elbResponse(
      301,
      { location: "https://h:443/", body: true, extra: "Set-Cookie: AWSALB=x; Path=/\r\n" },
      DATE,
    );
    expect(r.head).toBe(
      `HTTP/1.1 301 Moved Permanently\r\nServer: awselb/2.0\r\nDate: ${DATE}\r\nContent-Type: text/html\r\nContent-Length: ${elbErrorBody(301).length}\r\nLocation: https://h:443/\r\nSet-Cookie: AWSALB=x; Path=/\r\nConnection: keep-alive\r\n\r\n`,
    );
  });

  it("a fixed response: its body and type (plain UTF-8 text by default); an empty one has no body bytes", () => {
    const r = elbResponse(
      200,
      fixedResponseOptions({
        kind: "fixed",
        status: 200,
        contentType: "application/json",
        body: Buffer.from('{"ok":1}'),
      }),
      DATE,
    );
    expect(text(r)).toBe(
      `HTTP/1.1 200 OK\r\nServer: awselb/2.0\r\nDate: ${DATE}\r\nContent-Type: application/json\r\nContent-Length: 8\r\nConnection: keep-alive\r\n\r\n{"ok":1}`,
    );
    const empty = elbResponse(204, fixedResponseOptions({ kind: "fixed", status: 204, body: Buffer.alloc(0) }), DATE);
    expect(empty.head).toContain("Content-Type: text/plain; charset=utf-8\r\nContent-Length: 0\r\n");
    expect(empty.body).toBeNull();
  });

  it.each<[boolean, string, boolean, boolean]>([
    [false, "none", false, false],
    [true, "none", false, true],
    [false, "length", true, false],
    [false, "chunked", true, true],
    [false, "chunked", false, false],
  ])("client close %s, framing %s, body still arriving %s → close %s", (close, kind, bodyOpen, expected) => {
    expect(elbClosesConnection({ close, framing: { kind } }, bodyOpen)).toBe(expected);
  });

  it("the Date header is the IMF-fixdate of the current second", () => {
    const d = new HttpDate();
    const t = Date.UTC(2026, 0, 1, 12, 0, 0);
    expect(d.at(t)).toBe("Thu, 01 Jan 2026 12:00:00 GMT");
    expect(d.at(t + 999)).toBe("Thu, 01 Jan 2026 12:00:00 GMT");
    expect(d.at(t + 1000)).toBe("Thu, 01 Jan 2026 12:00:01 GMT");
  });
});
