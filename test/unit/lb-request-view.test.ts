import { describe, expect, it } from "vitest";
import { requestView, scanRequestHead } from "../../src/lb/http1.js";

const view = (text: string, sourceIp = "10.0.0.9") => {
  const buf = Buffer.from(text, "latin1");
  return requestView(scanRequestHead(buf, 0, buf.indexOf("\r\n\r\n")), sourceIp);
};

describe("the request as rule conditions see it", () => {
  it.each<[string, { method: string; path: string; query: string; host: string }]>([
    [
      "GET /a/b?x=1 HTTP/1.1\r\nHost: shop.example.com:8080\r\n\r\n",
      { method: "GET", path: "/a/b", query: "x=1", host: "shop.example.com" },
    ],
    ["POST / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n", { method: "POST", path: "/", query: "", host: "[::1]" }],
    ["GET http://h/p?q#f HTTP/1.1\r\nHost: h\r\n\r\n", { method: "GET", path: "/p", query: "q", host: "h" }],
    ["GET /x HTTP/1.0\r\n\r\n", { method: "GET", path: "/x", query: "", host: "" }],
  ])("%j", (text, expected) => {
    expect(view(text)).toMatchObject({ ...expected, sourceIp: "10.0.0.9" });
  });

  it("reads every value of a header, in order", () => {
    const v = view("GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\nx-a:  2 \r\nX-B: 3\r\n\r\n");
    expect(v.header("x-a")).toEqual(["1", "2"]);
    expect(v.header("x-c")).toEqual([]);
  });
});
