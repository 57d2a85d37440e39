/**
 * CBOR (RFC 8949), the subset Smithy RPC v2 uses: integers, floats (half, single, double), byte
 * and text strings (definite and indefinite length), arrays, maps with text keys, true, false,
 * null, undefined, and tag 1 (epoch-seconds timestamps) decoded to Date. Other tags decode to
 * their content.
 */

export class CborError extends Error {}

const MAX_DEPTH = 64;

export function decodeCbor(buf: Uint8Array): unknown {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let pos = 0;
  const need = (n: number) => {
    if (pos + n > buf.length) throw new CborError("CBOR input ends early.");
  };
  const readArg = (info: number): number | bigint => {
    if (info < 24) return info;
    switch (info) {
      case 24:
        need(1);
        return buf[pos++];
      case 25:
        need(2);
        pos += 2;
        return view.getUint16(pos - 2);
      case 26:
        need(4);
        pos += 4;
        return view.getUint32(pos - 4);
      case 27: {
        need(8);
        pos += 8;
        const big = view.getBigUint64(pos - 8);
        return big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
      }
      default:
        throw new CborError(`Invalid CBOR additional information ${info}.`);
    }
  };
  const length = (info: number) => {
    const n = readArg(info);
    if (typeof n === "bigint" || n > buf.length) throw new CborError("CBOR length out of range.");
    return n;
  };
  const chunks = (major: number): Uint8Array[] => {
    const parts: Uint8Array[] = [];
    for (;;) {
      need(1);
      if (buf[pos] === 0xff) {
        pos++;
        return parts;
      }
      const b = buf[pos++];
      if (b >> 5 !== major || (b & 31) === 31)
        throw new CborError("Invalid chunk in an indefinite-length CBOR string.");
      const n = length(b & 31);
      need(n);
      parts.push(buf.subarray(pos, pos + n));
      pos += n;
    }
  };
  const item = (depth: number): unknown => {
    if (depth > MAX_DEPTH) throw new CborError("CBOR input nests too deeply.");
    need(1);
    const b = buf[pos++];
    const major = b >> 5;
    const info = b & 31;
    switch (major) {
      case 0: {
        const n = readArg(info);
        return typeof n === "bigint" ? Number(n) : n;
      }
      case 1: {
        const n = readArg(info);
        return typeof n === "bigint" ? -1 - Number(n) : -1 - n;
      }
      case 2:
      case 3: {
        let bytes: Uint8Array;
        if (info === 31) bytes = Buffer.concat(chunks(major));
        else {
          const n = length(info);
          need(n);
          bytes = buf.subarray(pos, pos + n);
          pos += n;
        }
        return major === 2 ? Buffer.from(bytes) : new TextDecoder("utf-8", { fatal: true }).decode(bytes);
      }
      case 4: {
        const out: unknown[] = [];
        if (info === 31) {
          for (;;) {
            need(1);
            if (buf[pos] === 0xff) {
              pos++;
              return out;
            }
            out.push(item(depth + 1));
          }
        }
        const n = length(info);
        for (let i = 0; i < n; i++) out.push(item(depth + 1));
        return out;
      }
      case 5: {
        const out: Record<string, unknown> = {};
        const entry = () => {
          const key = item(depth + 1);
          if (typeof key !== "string") throw new CborError("CBOR map keys must be text strings.");
          const value = item(depth + 1);
          Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
        };
        if (info === 31) {
          for (;;) {
            need(1);
            if (buf[pos] === 0xff) {
              pos++;
              return out;
            }
            entry();
          }
        }
        const n = length(info);
        for (let i = 0; i < n; i++) entry();
        return out;
      }
      case 6: {
        const tag = readArg(info);
        const content = item(depth + 1);
        if (tag === 1) {
          if (typeof content !== "number") throw new CborError("CBOR tag 1 must hold a number.");
          return new Date(Math.round(content * 1000));
        }
        return content;
      }
      default:
        switch (info) {
          case 20:
            return false;
          case 21:
            return true;
          case 22:
            return null;
          case 23:
            return undefined;
          case 25: {
            need(2);
            pos += 2;
            return halfToNumber(view.getUint16(pos - 2));
          }
          case 26:
            need(4);
            pos += 4;
            return view.getFloat32(pos - 4);
          case 27:
            need(8);
            pos += 8;
            return view.getFloat64(pos - 8);
          default:
            throw new CborError(`Unsupported CBOR simple value ${info}.`);
        }
    }
  };
  const value = item(0);
  if (pos !== buf.length) throw new CborError("Unexpected bytes after the CBOR value.");
  return value;
}

function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

/** Encodes a value: numbers as integers when they are safe integers, else doubles; Dates as tag 1. */
export function encodeCbor(value: unknown): Buffer {
  const parts: Buffer[] = [];
  const head = (major: number, n: number) => {
    if (n < 24) parts.push(Buffer.from([(major << 5) | n]));
    else if (n < 0x100) parts.push(Buffer.from([(major << 5) | 24, n]));
    else if (n < 0x10000) {
      const b = Buffer.alloc(3);
      b[0] = (major << 5) | 25;
      b.writeUInt16BE(n, 1);
      parts.push(b);
    } else if (n < 0x100000000) {
      const b = Buffer.alloc(5);
      b[0] = (major << 5) | 26;
      b.writeUInt32BE(n, 1);
      parts.push(b);
    } else {
      const b = Buffer.alloc(9);
      b[0] = (major << 5) | 27;
      b.writeBigUInt64BE(BigInt(n), 1);
      parts.push(b);
    }
  };
  const double = (n: number) => {
    const b = Buffer.alloc(9);
    b[0] = 0xfb;
    b.writeDoubleBE(n, 1);
    parts.push(b);
  };
  const write = (v: unknown) => {
    if (v === null) parts.push(Buffer.from([0xf6]));
    else if (v === undefined) parts.push(Buffer.from([0xf7]));
    else if (v === true) parts.push(Buffer.from([0xf5]));
    else if (v === false) parts.push(Buffer.from([0xf4]));
    else if (typeof v === "number") {
      if (Number.isSafeInteger(v) && !Object.is(v, -0)) {
        if (v >= 0) head(0, v);
        else head(1, -1 - v);
      } else double(v);
    } else if (typeof v === "string") {
      const bytes = Buffer.from(v, "utf8");
      head(3, bytes.length);
      parts.push(bytes);
    } else if (v instanceof Date) {
      parts.push(Buffer.from([0xc1]));
      double(v.getTime() / 1000);
    } else if (v instanceof Uint8Array) {
      head(2, v.length);
      parts.push(Buffer.from(v));
    } else if (Array.isArray(v)) {
      head(4, v.length);
      for (const item of v) write(item);
    } else if (typeof v === "object") {
      const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
      head(5, entries.length);
      for (const [k, x] of entries) {
        write(k);
        write(x);
      }
    } else throw new CborError(`Cannot encode a ${typeof v} as CBOR.`);
  };
  write(value);
  return Buffer.concat(parts);
}
