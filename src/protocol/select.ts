import type { Protocol, ProtocolKind, WireRequest } from "./http.js";

/**
 * The protocol a request was sent in, from what every AWS client puts on the wire:
 * `smithy-protocol: rpc-v2-cbor` (Smithy RPC v2 CBOR), `X-Amz-Target` or an
 * `application/x-amz-json-*` body (awsJson), a form body or an `Action` query parameter
 * (awsQuery). Undefined when the request shows none of them.
 */
export function requestProtocolKind(req: WireRequest): ProtocolKind | undefined {
  const contentType = (req.headers["content-type"] ?? "").toLowerCase();
  if ((req.headers["smithy-protocol"] ?? "").toLowerCase() === "rpc-v2-cbor") return "rpc-v2-cbor";
  if (req.headers["x-amz-target"] !== undefined || contentType.startsWith("application/x-amz-json")) return "json";
  if (contentType.startsWith("application/x-www-form-urlencoded") || req.query.has("Action")) return "query";
  return undefined;
}

/**
 * One service served in several wire protocols (CloudWatch: awsJson1_0 with query-compatible
 * errors from current SDKs and CLIs, awsQuery from older ones). Each request is parsed and
 * answered in the protocol it was sent in; one that shows none gets the first (primary) one.
 */
export function perRequestProtocol(protocols: Protocol[]): Protocol {
  if (protocols.length === 0) throw new Error("perRequestProtocol needs at least one protocol");
  const [primary] = protocols;
  const forRequest = (req: WireRequest): Protocol => {
    const kind = requestProtocolKind(req);
    return protocols.find((p) => p.kind === kind) ?? primary;
  };
  return {
    kind: primary.kind,
    forRequest,
    parse: (req) => forRequest(req).parse(req),
    serialize: (operation, output, requestId) => primary.serialize(operation, output, requestId),
    renderError: (...args) => primary.renderError(...args),
  };
}
