import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { redirectLocation } from "../../src/lb/redirect.js";
import type { RedirectAction } from "../../src/lb/routing.js";
import { normalizeActions } from "../../src/services/elbv2/validate.js";

type Parts = Omit<RedirectAction, "kind" | "status">;
const DEFAULTS: Parts = {
  protocol: "#{protocol}",
  host: "#{host}",
  port: "#{port}",
  path: "/#{path}",
  query: "#{query}",
};
const at = (over: Partial<Parts>) => ({ ...DEFAULTS, ...over });
const req = { target: "/a/b?x=1", host: "shop.example.com:8080", listenerPort: 8080 };

describe("redirect location", () => {
  it.each<[string, Partial<Parts>, { target: string; host: string; listenerPort: number }, string]>([
    ["HTTPS on 443, the rest kept", { protocol: "HTTPS", port: "443" }, req, "https://shop.example.com:443/a/b?x=1"],
    ["another host", { host: "www.example.com" }, req, "http://www.example.com:8080/a/b?x=1"],
    ["a fixed path drops the request path", { path: "/moved" }, req, "http://shop.example.com:8080/moved?x=1"],
    [
      "keywords inside a path",
      { path: "/new/#{path}/#{host}" },
      req,
      "http://shop.example.com:8080/new/a/b/shop.example.com?x=1",
    ],
    ["an empty query leaves no '?'", { port: "81" }, { ...req, target: "/a" }, "http://shop.example.com:81/a"],
    [
      "a query keyword extended",
      { port: "81", query: "#{query}&from=lb" },
      req,
      "http://shop.example.com:81/a/b?x=1&from=lb",
    ],
    [
      "an absolute-form target is reduced to its path",
      { port: "81" },
      { ...req, target: "http://h/p?q=2" },
      "http://shop.example.com:81/p?q=2",
    ],
    [
      "a fragment is not part of the query",
      { port: "81" },
      { ...req, target: "/p?q=2#frag" },
      "http://shop.example.com:81/p?q=2",
    ],
    ["an IPv6 Host keeps its brackets", { port: "81" }, { ...req, host: "[::1]:8080" }, "http://[::1]:81/a/b?x=1"],
    ["protocol is lowercased", { protocol: "HTTP", host: "h" }, req, "http://h:8080/a/b?x=1"],
    ["#{protocol} inside a host is http", { host: "#{protocol}.example" }, req, "http://http.example:8080/a/b?x=1"],
  ])("%s", (_name, over, request, expected) => {
    expect(redirectLocation(at(over), request)).toBe(expected);
  });

  const targets = fc
    .tuple(
      fc.stringMatching(/^(\/[a-z0-9._~-]{0,8}){1,3}$/),
      fc.stringMatching(/^([a-z0-9]{1,5}=[a-z0-9]{0,5}(&|$)){0,3}$/),
    )
    .map(([p, q]) => (q ? `${p}?${q.replace(/&$/, "")}` : p));
  const hosts = fc.stringMatching(/^[a-z0-9]{1,10}(\.[a-z0-9]{1,10}){0,2}$/);
  const requests = fc.record({ target: targets, host: hosts, listenerPort: fc.integer({ min: 1, max: 65535 }) });
  const selfUrl = (r: { target: string; host: string; listenerPort: number }) =>
    `http://${r.host}:${r.listenerPort}${r.target}`;

  it("the all-keywords configuration points back at the request itself, which is why it is refused", () => {
    fc.assert(fc.property(requests, (r) => redirectLocation(DEFAULTS, r) === selfUrl(r)));
    const ctx = {
      loadBalancerArn: "lb",
      loadBalancerType: "application" as const,
      listenerProtocol: "HTTP" as const,
      targetGroup: () => undefined,
    };
    expect(() => normalizeActions([{ Type: "redirect", RedirectConfig: { StatusCode: "HTTP_301" } }], ctx)).toThrow(
      /redirect loop/,
    );
  });

  it("never loops back to the request when protocol, port or host is changed to something else", () => {
    const change = fc.oneof(
      fc.constant<Partial<Parts>>({ protocol: "HTTPS" }),
      fc.integer({ min: 1, max: 65535 }).map((p): Partial<Parts> => ({ port: String(p) })),
      fc.constant<Partial<Parts>>({ host: "elsewhere.example" }),
    );
    fc.assert(
      fc.property(requests, change, (r, over) => {
        fc.pre(!(over.port && Number(over.port) === r.listenerPort) && r.host !== "elsewhere.example");
        return redirectLocation(at(over), r) !== selfUrl(r);
      }),
    );
  });

  it("never puts a CR, LF or space into the Location header", () => {
    fc.assert(
      fc.property(requests, fc.stringMatching(/^\/[a-z#{}]{0,20}$/), (r, path) => {
        const location = redirectLocation(at({ path, port: "81" }), r);
        return !/[\r\n ]/.test(location);
      }),
    );
  });
});
