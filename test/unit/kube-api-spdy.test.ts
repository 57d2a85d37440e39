import { Duplex, PassThrough } from "node:stream";
import zlib from "node:zlib";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { expectedStreams } from "../../src/kube-api/exec-spdy.js";
import { forwardedPort } from "../../src/kube-api/portforward.js";
import { SpdyServerConnection, type SpdyStream } from "../../src/kube-api/spdy/connection.js";
import { SPDY3_DICTIONARY } from "../../src/kube-api/spdy/dictionary.js";
import {
  controlFrame,
  dataFrame,
  decodeHeaders,
  encodeHeaders,
  FLAG_FIN,
  type Frame,
  FrameType,
  parseFrames,
} from "../../src/kube-api/spdy/framing.js";

describe("SPDY/3.1 framing", () => {
  it("round-trips header blocks", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/), fc.string({ maxLength: 40 })), (h) => {
        expect(decodeHeaders(encodeHeaders(h))).toEqual(h);
      }),
    );
  });

  it("parses frames however the bytes are split", () => {
    const frames = [
      controlFrame(FrameType.PING, 0, Buffer.from([0, 0, 0, 1])),
      dataFrame(3, 0, Buffer.from("hello")),
      dataFrame(3, FLAG_FIN, Buffer.alloc(0)),
    ];
    const all = Buffer.concat(frames);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: all.length }), { maxLength: 5 }), (cuts) => {
        const points = [...new Set(cuts)].sort((a, b) => a - b);
        const got: Frame[] = [];
        let rest = Buffer.alloc(0);
        let at = 0;
        for (const p of [...points, all.length]) {
          const r = parseFrames(Buffer.concat([rest, all.subarray(at, p)]));
          got.push(...r.frames);
          rest = Buffer.from(r.rest);
          at = p;
        }
        expect(rest.length).toBe(0);
        expect(got.map((f) => (f.control ? `c${f.type}` : `d${f.streamId}:${f.payload}:${f.flags}`))).toEqual([
          "c6",
          "d3:hello:0",
          "d3::1",
        ]);
      }),
      { numRuns: 50 },
    );
  });

  it.each([
    ["8080", 8080],
    ["1", 1],
    ["65535", 65535],
    ["0", undefined],
    ["65536", undefined],
    ["http", undefined],
    ["", undefined],
  ])("port header %j → %s", (port, want) => {
    expect(forwardedPort({ port })).toBe(want);
  });
});

describe("SPDY exec streams (the kubelet's expected streams)", () => {
  const o = (stdin: boolean, stdout: boolean, stderr: boolean, tty: boolean) => ({ stdin, stdout, stderr, tty });
  it.each([
    [o(false, true, true, false), "v4.channel.k8s.io", ["error", "stdout", "stderr"]],
    [o(true, true, true, false), "v4.channel.k8s.io", ["error", "stdin", "stdout", "stderr"]],
    [o(true, true, true, true), "v4.channel.k8s.io", ["error", "stdin", "stdout", "resize"]],
    [o(true, true, false, true), "v2.channel.k8s.io", ["error", "stdin", "stdout"]],
  ])("%j over %s → %j", (opts, protocol, streams) => {
    expect(expectedStreams(opts, protocol)).toEqual(streams);
  });
});

/** A SPDY client as kubectl's: compresses its headers with the dictionary on one zlib stream. */
function client() {
  const deflate = zlib.createDeflate({ dictionary: SPDY3_DICTIONARY });
  const compress = (b: Buffer) =>
    new Promise<Buffer>((resolve) => {
      const out: Buffer[] = [];
      const on = (c: Buffer) => out.push(c);
      deflate.on("data", on);
      deflate.write(b);
      deflate.flush(zlib.constants.Z_SYNC_FLUSH, () => {
        deflate.off("data", on);
        resolve(Buffer.concat(out));
      });
    });
  const synStream = async (id: number, headers: Record<string, string>) => {
    const fixed = Buffer.alloc(10);
    fixed.writeUInt32BE(id, 0);
    return controlFrame(FrameType.SYN_STREAM, 0, Buffer.concat([fixed, await compress(encodeHeaders(headers))]));
  };
  return { synStream };
}

describe("SPDY server connection", () => {
  it("answers streams with SYN_REPLY, delivers data in order, echoes pings, sends FIN", async () => {
    const toServer = new PassThrough();
    const toClient = new PassThrough();
    const conn = new Duplex({
      read() {},
      write(chunk, _enc, cb) {
        toClient.write(chunk);
        cb();
      },
    });
    toServer.on("data", (d) => conn.push(d));
    const streams: SpdyStream[] = [];
    new SpdyServerConnection(conn, (s) => {
      streams.push(s);
      s.incoming.on("data", (d: Buffer) => s.write(Buffer.from(d.toString().toUpperCase())));
      s.incoming.on("end", () => s.end());
    });
    const c = client();
    toServer.write(await c.synStream(1, { streamtype: "error", port: "80", requestid: "0" }));
    toServer.write(await c.synStream(3, { streamtype: "data", port: "80", requestid: "0" }));
    toServer.write(Buffer.concat([dataFrame(3, 0, Buffer.from("abc")), dataFrame(3, FLAG_FIN, Buffer.alloc(0))]));
    toServer.write(controlFrame(FrameType.PING, 0, Buffer.from([0, 0, 0, 7])));
    const received: Frame[] = [];
    let rest = Buffer.alloc(0);
    const deadline = Date.now() + 3000;
    while (Date.now() < deadline && !received.some((f) => !f.control && f.streamId === 3 && f.flags & FLAG_FIN)) {
      await new Promise((r) => setTimeout(r, 10));
      const chunk = toClient.read() as Buffer | null;
      if (!chunk) continue;
      const r = parseFrames(Buffer.concat([rest, chunk]));
      received.push(...r.frames);
      rest = Buffer.from(r.rest);
    }
    expect(streams.map((s) => s.headers.streamtype)).toEqual(["error", "data"]);
    const replies = received.filter((f) => f.control && f.type === FrameType.SYN_REPLY);
    expect(replies.map((f) => f.payload.readUInt32BE(0))).toEqual([1, 3]);
    const data = received.filter((f) => !f.control && f.streamId === 3);
    expect(Buffer.concat(data.map((f) => f.payload)).toString()).toBe("ABC");
    expect(received.some((f) => f.control && f.type === FrameType.PING && f.payload.readUInt32BE(0) === 7)).toBe(true);
  });
});
