import { HttpResponse } from "@smithy/protocol-http";
import type { HttpRequest } from "@smithy/protocol-http";
import type { WireRequest, WireResponse } from "../../src/protocol/http.js";

/**
 * An SDK v3 `requestHandler` that never touches the network: it records each request the
 * client sends and answers with a canned response, so tests can see exactly what the SDK
 * put on the wire and feed Berth-made responses back into the SDK's deserializers.
 */
export class WireHandler {
  readonly requests: HttpRequest[] = [];
  /** Responses to give, in order; when none is queued the answer is `200 {}`. */
  private readonly queue: WireResponse[] = [];

  reply(response: WireResponse) {
    this.queue.push(response);
    return this;
  }

  get last(): HttpRequest {
    const req = this.requests.at(-1);
    if (!req) throw new Error("the client sent no request");
    return req;
  }

  async handle(request: HttpRequest) {
    this.requests.push(request);
    const next = this.queue.shift() ?? { status: 200, headers: {}, body: "{}" };
    const body = typeof next.body === "string" ? Buffer.from(next.body) : next.body;
    return {
      response: new HttpResponse({ statusCode: next.status, headers: next.headers, body }),
    };
  }

  updateHttpClientConfig() {}
  httpHandlerConfigs() {
    return {};
  }
}

/** The configuration every SDK client in the round-trip tests gets. */
export const clientOptions = (handler: WireHandler) => ({
  region: "us-east-1",
  credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" },
  requestHandler: handler,
  maxAttempts: 1,
});

/** An SDK HttpRequest as Berth's edge would hand it to a protocol. */
export function toWire(req: HttpRequest): WireRequest {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) headers[k.toLowerCase()] = v;
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(req.query ?? {})) {
    if (Array.isArray(v)) for (const item of v) query.append(k, item);
    else query.append(k, v ?? "");
  }
  const body: unknown = req.body;
  return {
    method: req.method,
    path: req.path,
    query,
    headers,
    body:
      body === undefined || body === null
        ? Buffer.alloc(0)
        : typeof body === "string"
          ? Buffer.from(body)
          : Buffer.copyBytesFrom(body as Uint8Array),
  };
}

/** The body of an SDK HttpRequest as text. */
export const bodyText = (req: HttpRequest) => toWire(req).body.toString("utf8");
