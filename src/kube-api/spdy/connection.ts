/**
 * The server side of a SPDY/3.1 connection over any byte stream (an upgraded socket, or a
 * WebSocket carrying SPDY as kubectl 1.31+ tunnels it): the client opens streams (SYN_STREAM with
 * headers), the server answers each with SYN_REPLY, data flows both ways until each side sends
 * FIN. Header blocks share one zlib context per direction (with SPDY/3's dictionary); PINGs are
 * echoed; received data is acknowledged with WINDOW_UPDATE. Frames are handled in order.
 */
import { PassThrough, type Duplex } from "node:stream";
import zlib from "node:zlib";
import { SPDY3_DICTIONARY } from "./dictionary.js";
import {
  dataFrame,
  decodeHeaders,
  encodeHeaders,
  FLAG_FIN,
  type Frame,
  FrameType,
  goAway,
  parseFrames,
  ping,
  readSynStream,
  rstStream,
  streamIdOf,
  synReply,
  windowUpdate,
} from "./framing.js";

const MAX_FRAME_DATA = 32 * 1024;
const MAX_BUFFERED = 16 * 1024 * 1024 + 8;

/** One client-opened stream: what the client sends (`incoming`), and writes back to it. */
export interface SpdyStream {
  id: number;
  headers: Record<string, string>;
  /** The client's data; ends at its FIN (or a reset). */
  incoming: PassThrough;
  write(data: Buffer): void;
  /** Sends FIN: this side is done writing. */
  end(): void;
  reset(): void;
}

/** A zlib context used for one header block at a time (sync flush), in order. */
function headerCoder(z: zlib.Inflate | zlib.Deflate) {
  let out: Buffer[] = [];
  z.on("data", (c: Buffer) => out.push(c));
  z.on("error", () => {});
  let chain: Promise<unknown> = Promise.resolve();
  return (b: Buffer): Promise<Buffer> => {
    const next = chain.then(
      () =>
        new Promise<Buffer>((resolve, reject) => {
          z.once("error", reject);
          z.write(b);
          z.flush(zlib.constants.Z_SYNC_FLUSH, () => {
            z.off("error", reject);
            const r = Buffer.concat(out);
            out = [];
            resolve(r);
          });
        }),
    );
    chain = next.catch(() => undefined);
    return next;
  };
}

export class SpdyServerConnection {
  private buffered: Buffer = Buffer.alloc(0);
  private readonly streams = new Map<number, SpdyStream & { finSent: boolean }>();
  private readonly inflate = headerCoder(zlib.createInflate({ dictionary: SPDY3_DICTIONARY }));
  private readonly deflate = headerCoder(zlib.createDeflate({ dictionary: SPDY3_DICTIONARY }));
  private incoming: Promise<void> = Promise.resolve();
  private outgoing: Promise<void> = Promise.resolve();
  private lastStream = 0;
  private closed = false;

  constructor(
    private readonly conn: Duplex,
    private readonly onStream: (s: SpdyStream) => void,
    private readonly onClose: () => void = () => {},
  ) {
    conn.on("data", (d: Buffer) => this.received(d));
    conn.on("error", () => this.close());
    conn.on("close", () => this.close());
    conn.on("end", () => this.close());
  }

  /** Sends GOAWAY and closes the connection (every stream ends). */
  shutdown() {
    if (this.closed) return;
    this.send(goAway(this.lastStream));
    void this.outgoing.then(() => this.conn.end());
    this.close();
  }

  private close() {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.streams.values()) s.incoming.end();
    this.streams.clear();
    this.onClose();
  }

  private send(frame: Buffer | (() => Promise<Buffer>)) {
    this.outgoing = this.outgoing
      .then(async () => {
        const b = typeof frame === "function" ? await frame() : frame;
        if (!this.conn.destroyed && this.conn.writable) this.conn.write(b);
      })
      .catch(() => {
        this.conn.destroy();
      });
  }

  private received(d: Buffer) {
    this.buffered = this.buffered.length ? Buffer.concat([this.buffered, d]) : d;
    if (this.buffered.length > MAX_BUFFERED) return this.conn.destroy();
    const { frames, rest } = parseFrames(this.buffered);
    this.buffered = Buffer.from(rest);
    for (const f of frames)
      this.incoming = this.incoming
        .then(() => this.handle(f))
        .catch(() => {
          this.conn.destroy();
        });
  }

  private async handle(f: Frame) {
    if (!f.control) {
      const s = this.streams.get(f.streamId);
      if (f.payload.length) {
        // Acknowledge what arrived (session and stream windows), so the client never stalls.
        this.send(windowUpdate(0, f.payload.length));
        if (s) this.send(windowUpdate(f.streamId, f.payload.length));
        s?.incoming.write(Buffer.from(f.payload));
      }
      if (s && f.flags & FLAG_FIN) s.incoming.end();
      return;
    }
    switch (f.type) {
      case FrameType.SYN_STREAM: {
        const { streamId, headerBlock } = readSynStream(f.payload);
        const headers = decodeHeaders(await this.inflate(Buffer.from(headerBlock)));
        this.lastStream = Math.max(this.lastStream, streamId);
        const stream = this.openStream(streamId, headers);
        if (f.flags & FLAG_FIN) stream.incoming.end();
        this.send(async () => synReply(streamId, await this.deflate(encodeHeaders({}))));
        this.onStream(stream);
        return;
      }
      case FrameType.HEADERS: {
        // Header blocks still go through the shared zlib context, or the next one would not decode.
        await this.inflate(Buffer.from(f.payload.subarray(4)));
        if (f.flags & FLAG_FIN) this.streams.get(streamIdOf(f.payload))?.incoming.end();
        return;
      }
      case FrameType.RST_STREAM: {
        const s = this.streams.get(streamIdOf(f.payload));
        if (s) {
          this.streams.delete(s.id);
          s.incoming.end();
        }
        return;
      }
      case FrameType.PING:
        this.send(ping(f.payload.readUInt32BE(0)));
        return;
      case FrameType.GOAWAY:
        this.close();
        return;
      default:
        // SETTINGS, WINDOW_UPDATE and anything newer: nothing to do for a server that sends little.
        return;
    }
  }

  private openStream(id: number, headers: Record<string, string>) {
    const incoming = new PassThrough();
    const stream: SpdyStream & { finSent: boolean } = {
      id,
      headers,
      incoming,
      finSent: false,
      write: (data: Buffer) => {
        if (stream.finSent || this.closed) return;
        for (let at = 0; at < data.length; at += MAX_FRAME_DATA)
          this.send(dataFrame(id, 0, data.subarray(at, at + MAX_FRAME_DATA)));
      },
      end: () => {
        if (stream.finSent || this.closed) return;
        stream.finSent = true;
        this.send(dataFrame(id, FLAG_FIN, Buffer.alloc(0)));
      },
      reset: () => {
        this.streams.delete(id);
        incoming.end();
        this.send(rstStream(id, 5 /* CANCEL */));
      },
    };
    this.streams.set(id, stream);
    return stream;
  }
}
