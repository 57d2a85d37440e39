/**
 * pods/portforward as the kubelet serves it (protocol `portforward.k8s.io`): SPDY/3.1, either on
 * the upgraded connection (kubectl before 1.31) or tunnelled in a WebSocket whose subprotocol is
 * `SPDY/3.1+portforward.k8s.io` (kubectl 1.31+). The client opens a pair of streams per
 * connection — `streamType: error` and `streamType: data`, with the same `requestID` and `port` —
 * and the data stream is joined to a TCP connection to the pod's IP at that port; a failure is
 * written to the error stream, which kubectl prints.
 */
import type { IncomingMessage } from "node:http";
import { connect } from "node:net";
import type { Duplex } from "node:stream";
import { createWebSocketStream, WebSocketServer } from "ws";
import { kubeErrors } from "../kube/errors.js";
import type { KubeObject } from "../kube/types.js";
import type { Call } from "./context.js";
import { SpdyServerConnection, type SpdyStream } from "./spdy/connection.js";

export const PORT_FORWARD_PROTOCOL = "portforward.k8s.io";
const TUNNEL_PROTOCOL = `SPDY/3.1+${PORT_FORWARD_PROTOCOL}`;

/**
 * `ws` refuses subprotocols that are not RFC 7230 tokens, and `SPDY/3.1+portforward.k8s.io` has a
 * `/`: the request carries a stand-in through the handshake, and the answer names the real one.
 */
const STAND_IN = "berth-spdy-tunnel";
const tunnels = new WebSocketServer({
  noServer: true,
  handleProtocols: (protocols) => (protocols.has(STAND_IN) ? STAND_IN : false),
});
tunnels.on("headers", (headers) => {
  for (const [i, h] of headers.entries())
    if (/^sec-websocket-protocol:/i.test(h)) headers[i] = `Sec-WebSocket-Protocol: ${TUNNEL_PROTOCOL}`;
});

/** A stream pair's port, as the kubelet validates it. PURE. */
export function forwardedPort(headers: Record<string, string>): number | undefined {
  const raw = headers.port ?? "";
  if (!/^\d+$/.test(raw)) return undefined;
  const port = Number(raw);
  return port >= 1 && port <= 65535 ? port : undefined;
}

export async function handlePortForwardUpgrade(c: Call, pod: KubeObject, socket: Duplex, head: Buffer) {
  const req: IncomingMessage = c.req;
  const podIP = (pod.status as { podIP?: string } | undefined)?.podIP;
  const phase = (pod.status as { phase?: string } | undefined)?.phase;
  if (!podIP || phase !== "Running")
    throw kubeErrors.badRequest(
      `unable to upgrade connection: pod ${pod.metadata.name} is not running (phase ${phase ?? "Pending"})`,
    );
  const upgrade = String(req.headers.upgrade ?? "").toLowerCase();
  const target = { name: pod.metadata.name ?? "", uid: pod.metadata.uid ?? "", ip: podIP };
  if (upgrade === "spdy/3.1") {
    const versions = String(req.headers["x-stream-protocol-version"] ?? "")
      .split(",")
      .map((v) => v.trim());
    if (versions.length && versions[0] !== "" && !versions.includes(PORT_FORWARD_PROTOCOL))
      throw kubeErrors.badRequest(
        `unable to upgrade connection: none of the protocols ${versions.join(", ")} is supported`,
      );
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${PORT_FORWARD_PROTOCOL}\r\n\r\n`,
    );
    if (head.length) socket.unshift(head);
    return serveForwarding(socket, target);
  }
  if (upgrade === "websocket") {
    const offered = String(req.headers["sec-websocket-protocol"] ?? "")
      .split(",")
      .map((s) => s.trim());
    if (!offered.includes(TUNNEL_PROTOCOL))
      throw kubeErrors.badRequest(
        `unable to upgrade connection: pods/portforward over WebSocket needs the ${TUNNEL_PROTOCOL} subprotocol (kubectl 1.31+)`,
      );
    req.headers["sec-websocket-protocol"] = STAND_IN;
    const ws = await new Promise<import("ws").WebSocket>((resolve) =>
      tunnels.handleUpgrade(req, socket, head, resolve),
    );
    const stream = createWebSocketStream(ws);
    stream.on("error", () => stream.destroy());
    return serveForwarding(stream, target);
  }
  throw kubeErrors.badRequest(`unable to upgrade connection: unsupported upgrade ${upgrade || "none"}`);
}

interface Target {
  name: string;
  uid: string;
  ip: string;
}

/** Pairs the client's streams by requestID and forwards each data stream to the pod. */
function serveForwarding(conn: Duplex, target: Target) {
  const pairs = new Map<string, { error?: SpdyStream; data?: SpdyStream }>();
  const sockets = new Set<import("node:net").Socket>();
  const spdy = new SpdyServerConnection(
    conn,
    (stream) => {
      const type = stream.headers.streamtype;
      const id = stream.headers.requestid ?? String(type === "error" ? stream.id + 2 : stream.id);
      if (type !== "error" && type !== "data") return stream.reset();
      const pair = pairs.get(id) ?? {};
      pair[type] = stream;
      pairs.set(id, pair);
      // The client closes its side of the error stream at once; keep reading so it ends.
      if (type === "error") stream.incoming.resume();
      if (pair.error && pair.data) {
        pairs.delete(id);
        forward(pair.error, pair.data);
      }
    },
    () => {
      for (const s of sockets) s.destroy();
    },
  );

  function forward(errorStream: SpdyStream, data: SpdyStream) {
    const port = forwardedPort(data.headers);
    if (port === undefined) {
      errorStream.write(Buffer.from(`invalid port header ${JSON.stringify(data.headers.port ?? "")}`));
      errorStream.end();
      data.end();
      return;
    }
    const sock = connect({ host: target.ip, port });
    sockets.add(sock);
    let failed = false;
    sock.on("connect", () => {
      data.incoming.pipe(sock);
    });
    sock.on("data", (d: Buffer) => data.write(d));
    sock.on("error", (e: NodeJS.ErrnoException) => {
      failed = true;
      const why = e.code === "ECONNREFUSED" ? "connect: connection refused" : e.message;
      errorStream.write(
        Buffer.from(
          `error forwarding port ${port} to pod ${target.name}, uid ${target.uid}: dial tcp4 ${target.ip}:${port}: ${why}`,
        ),
      );
    });
    sock.on("close", () => {
      sockets.delete(sock);
      data.end();
      errorStream.end();
      if (failed) data.incoming.resume();
    });
    data.incoming.on("end", () => {
      if (!sock.destroyed) sock.end();
    });
  }
  return spdy;
}
