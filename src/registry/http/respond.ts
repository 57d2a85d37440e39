import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import { RegistryError } from "../api.js";
import { registryError } from "../errors.js";

/** Response helpers of the /v2/ routes: every answer carries the API version header. */

export const API_VERSION = { "docker-distribution-api-version": "registry/2.0" };

export function send(res: ServerResponse, status: number, headers: OutgoingHttpHeaders, body?: Buffer | string) {
  const payload = body === undefined ? undefined : typeof body === "string" ? Buffer.from(body) : body;
  res.writeHead(status, { ...API_VERSION, "content-length": payload?.length ?? 0, ...headers });
  res.end(res.req.method === "HEAD" ? undefined : payload);
}

export function sendJson(res: ServerResponse, status: number, value: unknown, headers: OutgoingHttpHeaders = {}) {
  send(res, status, { "content-type": "application/json; charset=utf-8", ...headers }, JSON.stringify(value));
}

/** The OCI error envelope `{"errors":[{"code","message","detail"}]}`. */
export function sendError(res: ServerResponse, err: RegistryError, headers: OutgoingHttpHeaders = {}) {
  const entry: { code: string; message: string; detail?: unknown } = { code: err.code, message: err.message };
  if (err.detail !== undefined) entry.detail = err.detail;
  sendJson(res, err.status, { errors: [entry] }, headers);
}

/** Path of the token service the challenge points at (under /v2/ so the edge hands it to the registry). */
export const TOKEN_PATH = "/v2/token";

/**
 * The challenge of a 401. ECR's private registry challenges with Basic; Berth serves ECR Public
 * repositories on the same host, and docker cannot pull anonymously from a host that challenges
 * with Basic (it refuses to send a request without credentials). So Berth challenges with Bearer,
 * like public.ecr.aws, at a token service that takes the same `AWS:<password>` credentials as
 * Basic (or none, for public pulls). Basic credentials sent directly are accepted everywhere.
 */
export function challenge(req: IncomingMessage, scope?: string) {
  const host = req.headers.host ?? "localhost";
  const proto = String(req.headers["x-forwarded-proto"] ?? "http")
    .split(",")[0]
    .trim();
  return {
    "www-authenticate": `Bearer realm="${proto}://${host}${TOKEN_PATH}",service="ecr.amazonaws.com"${scope ? `,scope="${scope}"` : ""}`,
  };
}

export const unauthorized = () => registryError("UNAUTHORIZED", "authentication required");

/**
 * Reads a body of at most `limit` bytes; MANIFEST_INVALID (413) beyond it. The rest of an
 * oversize body is read and dropped (up to 4× the limit) so the client, still sending, gets the
 * answer rather than a broken pipe.
 */
export async function readLimited(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"]);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > limit * 4) break;
    if (size <= limit && !(declared > limit)) chunks.push(c as Buffer);
  }
  if (size > limit || declared > limit) throw tooLarge(Math.max(size, Number.isFinite(declared) ? declared : 0), limit);
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
}

const tooLarge = (size: number, limit: number) =>
  registryError(
    "MANIFEST_INVALID",
    `manifest is ${size} bytes or more; the limit is ${limit} bytes (4 MiB)`,
    { limit },
    413,
  );

/** A request body the route does not use, read and dropped so the connection can be reused. */
export async function drain(req: IncomingMessage) {
  if (req.readableEnded) return;
  for await (const _ of req) {
    // discard
  }
}

/** Content-Length as a number, undefined when absent; SIZE_INVALID when malformed. */
export function contentLength(req: IncomingMessage): number | undefined {
  const v = req.headers["content-length"];
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw registryError("SIZE_INVALID", `invalid Content-Length '${v}'`);
  return Number(v);
}

/** Whether the request carries a body (a Content-Length above 0, or a chunked one). */
export const hasBody = (req: IncomingMessage) =>
  (contentLength(req) ?? 0) > 0 || /chunked/i.test(String(req.headers["transfer-encoding"] ?? ""));

export const isRegistryError = (e: unknown): e is RegistryError => e instanceof RegistryError;

/** Pagination parameters `n` and `last`; PAGINATION_NUMBER_INVALID for a bad `n`. */
export function pagination(url: URL): { n?: number; last: string } {
  const raw = url.searchParams.get("n");
  let n: number | undefined;
  if (raw !== null && raw !== "") {
    if (!/^\d+$/.test(raw)) throw registryError("PAGINATION_NUMBER_INVALID", `invalid number of results '${raw}'`);
    n = Number(raw);
  }
  return { n, last: url.searchParams.get("last") ?? "" };
}

/** RFC 5988 `Link` to the next page. */
export const nextLink = (path: string, n: number, last: string) => ({
  link: `<${path}?n=${n}&last=${encodeURIComponent(last)}>; rel="next"`,
});
