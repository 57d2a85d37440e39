import { Duplex } from "node:stream";
import type { WebSocket } from "ws";

/**
 * Many byte streams over one message channel (the agent's WebSocket): each Docker Engine API
 * connection the control plane opens to an agent host becomes one stream. A frame is one
 * message: [type (1 byte) | stream id (uint32 BE) | payload]. The side that opens a stream picks
 * its id; ids opened by the control plane are odd, so the two sides never collide.
 */
export const FRAME = { open: 1, data: 2, end: 3, reset: 4 } as const;
export type FrameType = (typeof FRAME)[keyof typeof FRAME];

export interface Frame {
  type: FrameType;
  stream: number;
  payload: Buffer;
}

export function encodeFrame(f: Frame): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt8(f.type, 0);
  head.writeUInt32BE(f.stream, 1);
  return f.payload.length ? Buffer.concat([head, f.payload]) : head;
}

/** The frame in a message, or undefined when it is not one (too short, unknown type). */
export function decodeFrame(message: Buffer): Frame | undefined {
  if (message.length < 5) return undefined;
  const type = message.readUInt8(0);
  if (type < FRAME.open || type > FRAME.reset) return undefined;
  return { type: type as FrameType, stream: message.readUInt32BE(1), payload: message.subarray(5) };
}

/** What a session needs of its channel. */
export interface MessageChannel {
  send(message: Buffer): void;
  onMessage(listener: (message: Buffer) => void): void;
  onClose(listener: () => void): void;
}

/** One end of the multiplexed channel. */
export class MuxSession {
  private readonly streams = new Map<number, Duplex>();
  private nextId: number;
  private closed = false;
  private accept?: (stream: Duplex) => void;

  constructor(
    private readonly channel: MessageChannel,
    /** The opener of odd ids (the control plane) or of even ones (the agent). */
    side: "odd" | "even",
  ) {
    this.nextId = side === "odd" ? 1 : 2;
    channel.onMessage((m) => this.receive(m));
    channel.onClose(() => this.close());
  }

  /** Streams the other side opens. */
  onStream(accept: (stream: Duplex) => void) {
    this.accept = accept;
  }

  /** Opens a stream to the other side. */
  open(): Duplex {
    const id = this.nextId;
    this.nextId = (this.nextId + 2) % 0x1_0000_0000;
    const stream = this.stream(id);
    if (this.closed) stream.destroy(new Error("the agent channel is closed"));
    else this.send({ type: FRAME.open, stream: id, payload: Buffer.alloc(0) });
    return stream;
  }

  /** Ends every stream (the channel went away). */
  close() {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.streams.values()) s.destroy(new Error("the agent channel closed"));
    this.streams.clear();
  }

  get size() {
    return this.streams.size;
  }

  private send(f: Frame) {
    if (!this.closed) this.channel.send(encodeFrame(f));
  }

  private stream(id: number): Duplex {
    let ended = false;
    const stream = new Duplex({
      read: () => {},
      write: (chunk: Buffer, _enc, done) => {
        this.send({ type: FRAME.data, stream: id, payload: chunk });
        done();
      },
      final: (done) => {
        this.send({ type: FRAME.end, stream: id, payload: Buffer.alloc(0) });
        done();
      },
      destroy: (err, done) => {
        if (this.streams.get(id) === stream) {
          this.streams.delete(id);
          if (!ended || err) this.send({ type: FRAME.reset, stream: id, payload: Buffer.alloc(0) });
        }
        done(err);
      },
    });
    // Both halves done: forget the stream without a reset.
    const forgetWhenDone = () => {
      if (stream.writableFinished && stream.readableEnded) {
        ended = true;
        this.streams.delete(id);
      }
    };
    stream.on("end", forgetWhenDone);
    stream.on("finish", forgetWhenDone);
    this.streams.set(id, stream);
    return stream;
  }

  private receive(message: Buffer) {
    const f = decodeFrame(message);
    if (!f) return;
    const existing = this.streams.get(f.stream);
    switch (f.type) {
      case FRAME.open: {
        if (existing || !this.accept) {
          this.send({ type: FRAME.reset, stream: f.stream, payload: Buffer.alloc(0) });
          return;
        }
        this.accept(this.stream(f.stream));
        return;
      }
      case FRAME.data:
        existing?.push(Buffer.from(f.payload));
        return;
      case FRAME.end:
        existing?.push(null);
        return;
      case FRAME.reset:
        if (existing) {
          this.streams.delete(f.stream);
          existing.destroy();
        }
        return;
    }
  }
}

/** A WebSocket as a session's message channel (binary messages). */
export const webSocketChannel = (ws: WebSocket): MessageChannel => ({
  send: (m) => ws.send(m),
  onMessage: (l) => ws.on("message", (data: Buffer) => l(data)),
  onClose: (l) => ws.on("close", l),
});

/** Joins two byte streams both ways; either one failing or closing ends the other. */
export function splice(a: Duplex, b: Duplex) {
  a.pipe(b);
  b.pipe(a);
  const end = () => {
    a.destroy();
    b.destroy();
  };
  a.on("error", end);
  b.on("error", end);
  b.on("close", () => a.end());
}
