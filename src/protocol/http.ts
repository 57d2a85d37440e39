/** The request as the protocols see it: already read, never a stream. */
export interface WireRequest {
  method: string;
  /** Raw (still percent-encoded) path, without the query string. */
  path: string;
  query: URLSearchParams;
  /** The query string as sent (without `?`), where it matters how it was encoded (SigV4). */
  rawQuery?: string;
  /** Lower-case header names. */
  headers: Record<string, string | undefined>;
  body: Buffer;
  /** The client's address (aws:SourceIp), when the request came over a socket. */
  sourceIp?: string;
}

export interface WireResponse {
  status: number;
  headers: Record<string, string>;
  body: string | Buffer;
}

export interface ParsedRequest {
  operation: string;
  input: Record<string, unknown>;
}

/** Wire protocols by the names Berth uses (the botocore model's `protocol` values, CBOR by its Smithy name). */
export type ProtocolKind = "json" | "query" | "ec2" | "rest-json" | "rpc-v2-cbor";

/** One wire protocol: finds the operation, parses input, serializes output and errors. */
export interface Protocol {
  readonly kind: ProtocolKind;
  /**
   * For a service reachable in several protocols: the one this request was sent in, which is
   * the one to answer it in (errors included). Absent: always this protocol.
   */
  forRequest?(req: WireRequest): Protocol;
  parse(req: WireRequest): ParsedRequest;
  serialize(operation: string, output: unknown, requestId: string): WireResponse;
  renderError(
    code: string,
    message: string,
    status: number,
    fault: "Sender" | "Receiver",
    requestId: string,
    fields?: Record<string, unknown>,
  ): WireResponse;
}

/**
 * Reads a request body whole, refusing once it passes maxBytes. The refusal stops reading but
 * leaves the connection open long enough for the caller to answer (413), then drops it: a
 * connection reset instead of an answer is what clients saw before.
 */
export function readBody(
  req: import("node:http").IncomingMessage,
  maxBytes: number,
  tooLarge: () => Error,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > maxBytes) {
        req.off("data", onData);
        req.pause();
        chunks.length = 0;
        reject(tooLarge());
        setTimeout(() => req.destroy(), DROP_AFTER_REFUSAL_MS).unref();
      } else chunks.push(c);
    };
    req.on("data", onData);
    req.on("end", () => resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** How long a refused upload's connection stays open for the answer to be written. */
const DROP_AFTER_REFUSAL_MS = 1000;
