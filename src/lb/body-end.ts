import { ChunkedScanner, type Framing } from "./http1.js";

/**
 * Finds where a message body ends while its bytes stream through unchanged, by the message's
 * framing: a Content-Length counts down, chunked bodies are scanned, and a response without
 * either ends only when the target closes. Feed it each piece of the body in order.
 */
export class BodyEnd {
  /** Bytes still to come under a Content-Length; -1 for a chunked or close-delimited body. */
  private remaining: number;
  private readonly scanner: ChunkedScanner | null;

  constructor(framing: Framing) {
    this.remaining = framing.kind === "length" ? framing.length : -1;
    this.scanner = framing.kind === "chunked" ? new ChunkedScanner() : null;
  }

  /**
   * The offset in `chunk` just past the body's last byte (bytes after it belong to the next
   * message), or -1 when the body goes on. Throws HttpError when the chunking is malformed.
   */
  find(chunk: Buffer): number {
    if (this.scanner) return this.scanner.scan(chunk);
    if (this.remaining < 0) return -1;
    if (chunk.length >= this.remaining) {
      const end = this.remaining;
      this.remaining = 0;
      return end;
    }
    this.remaining -= chunk.length;
    return -1;
  }
}
