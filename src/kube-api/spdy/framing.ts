/**
 * SPDY/3.1 framing (what kubectl's port-forward, and exec/attach before 1.30, speak): control
 * frames (SYN_STREAM, SYN_REPLY, RST_STREAM, SETTINGS, PING, GOAWAY, HEADERS, WINDOW_UPDATE) and
 * data frames, and the uncompressed name/value header block. PURE; compression is the connection's.
 */

export const SPDY_VERSION = 3;
export const FLAG_FIN = 0x01;

export const FrameType = {
  SYN_STREAM: 1,
  SYN_REPLY: 2,
  RST_STREAM: 3,
  SETTINGS: 4,
  PING: 6,
  GOAWAY: 7,
  HEADERS: 8,
  WINDOW_UPDATE: 9,
} as const;

export type Frame =
  | { control: true; type: number; flags: number; payload: Buffer }
  | { control: false; streamId: number; flags: number; payload: Buffer };

/** Splits bytes into whole frames; what is left is the start of the next one. */
export function parseFrames(buf: Buffer): { frames: Frame[]; rest: Buffer } {
  const frames: Frame[] = [];
  let at = 0;
  while (buf.length - at >= 8) {
    const length = buf.readUIntBE(at + 5, 3);
    if (buf.length - at < 8 + length) break;
    const flags = buf[at + 4];
    const payload = buf.subarray(at + 8, at + 8 + length);
    if (buf[at] & 0x80) frames.push({ control: true, type: buf.readUInt16BE(at + 2), flags, payload });
    else frames.push({ control: false, streamId: buf.readUInt32BE(at) & 0x7fffffff, flags, payload });
    at += 8 + length;
  }
  return { frames, rest: buf.subarray(at) };
}

function header(first: number, second: number, flags: number, length: number): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(first, 0);
  h.writeUInt16BE(second, 2);
  h[4] = flags;
  h.writeUIntBE(length, 5, 3);
  return h;
}

export function controlFrame(type: number, flags: number, payload: Buffer): Buffer {
  return Buffer.concat([header(0x8000 | SPDY_VERSION, type, flags, payload.length), payload]);
}

export function dataFrame(streamId: number, flags: number, data: Buffer): Buffer {
  const h = header(0, 0, flags, data.length);
  h.writeUInt32BE(streamId & 0x7fffffff, 0);
  return Buffer.concat([h, data]);
}

const u32 = (...values: number[]) => {
  const b = Buffer.alloc(4 * values.length);
  for (const [i, v] of values.entries()) b.writeUInt32BE(v >>> 0, 4 * i);
  return b;
};

export const synReply = (streamId: number, compressedHeaders: Buffer, flags = 0) =>
  controlFrame(FrameType.SYN_REPLY, flags, Buffer.concat([u32(streamId & 0x7fffffff), compressedHeaders]));
export const rstStream = (streamId: number, status: number) =>
  controlFrame(FrameType.RST_STREAM, 0, u32(streamId, status));
export const ping = (id: number) => controlFrame(FrameType.PING, 0, u32(id));
export const goAway = (lastStreamId: number, status = 0) =>
  controlFrame(FrameType.GOAWAY, 0, u32(lastStreamId, status));
export const windowUpdate = (streamId: number, delta: number) =>
  controlFrame(FrameType.WINDOW_UPDATE, 0, u32(streamId, delta));

/** SYN_STREAM's fixed part: the stream, and where its compressed header block starts. */
export function readSynStream(payload: Buffer): { streamId: number; headerBlock: Buffer } {
  return { streamId: payload.readUInt32BE(0) & 0x7fffffff, headerBlock: payload.subarray(10) };
}

/** The stream id the first four payload bytes name (SYN_REPLY, RST_STREAM, HEADERS, WINDOW_UPDATE). */
export const streamIdOf = (payload: Buffer) => payload.readUInt32BE(0) & 0x7fffffff;

/** A name/value header block, uncompressed: count, then length-prefixed names and values (NUL joins repeated values). */
export function encodeHeaders(headers: Record<string, string>): Buffer {
  const parts: Buffer[] = [u32(Object.keys(headers).length)];
  for (const [k, v] of Object.entries(headers)) {
    const name = Buffer.from(k.toLowerCase());
    const value = Buffer.from(v);
    parts.push(u32(name.length), name, u32(value.length), value);
  }
  return Buffer.concat(parts);
}

export function decodeHeaders(block: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  if (block.length < 4) return out;
  const n = block.readUInt32BE(0);
  let at = 4;
  for (let i = 0; i < n && at + 4 <= block.length; i++) {
    const nl = block.readUInt32BE(at);
    const name = block.subarray(at + 4, at + 4 + nl).toString("utf8");
    at += 4 + nl;
    const vl = block.readUInt32BE(at);
    const value = block.subarray(at + 4, at + 4 + vl).toString("utf8");
    at += 4 + vl;
    out[name.toLowerCase()] = value;
  }
  return out;
}
