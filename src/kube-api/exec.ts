/**
 * pods/exec and pods/attach over WebSocket with the Kubernetes channel protocol (`v5.channel.k8s.io`,
 * `v4.channel.k8s.io`): each binary message is a channel byte (0 stdin, 1 stdout, 2 stderr, 3 error
 * Status, 4 resize) then data; v5 adds 255 to close a channel. SPDY (kubectl before 1.30 — Debian's
 * 1.20) is not supported: those requests get a 400 Status that says so.
 */
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { type WebSocket, WebSocketServer } from "ws";
import type { ExecSession } from "../kube/contracts.js";
import { KubeError, kubeErrors } from "../kube/errors.js";
import type { KubeObject } from "../kube/types.js";
import type { Call } from "./context.js";
import { statusOf } from "./http.js";
import { handleSpdyExec } from "./exec-spdy.js";
import { containerOf } from "./subresources.js";

export const CHANNEL_PROTOCOLS = ["v5.channel.k8s.io", "v4.channel.k8s.io"];
const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const ERROR = 3;
const RESIZE = 4;
const CLOSE = 255;

export const SPDY_MESSAGE =
  "Berth serves pods/exec, pods/attach and pods/portforward over WebSocket only (v5.channel.k8s.io / v4.channel.k8s.io, kubectl 1.30 and newer); SPDY/3.1 (older kubectl) is not supported";

/** Writes an HTTP error with a Status body on a socket that asked to upgrade. */
export function rejectUpgrade(socket: Duplex, err: unknown) {
  const e = statusOf(err);
  const body = JSON.stringify(e.toStatus());
  const reason =
    e.code === 401 ? "Unauthorized" : e.code === 403 ? "Forbidden" : e.code === 404 ? "Not Found" : "Bad Request";
  socket.end(
    `HTTP/1.1 ${e.code} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

const wss = new WebSocketServer({
  noServer: true,
  handleProtocols: (protocols) => CHANNEL_PROTOCOLS.find((p) => protocols.has(p)) ?? false,
});

const flag = (q: URLSearchParams, k: string) => q.get(k) === "true" || q.get(k) === "1";

/** The Status an exit code ends the stream with (client-go turns NonZeroExitCode into kubectl's exit code). */
export function exitStatus(code: number, command: string[]) {
  if (code === 0) return { metadata: {}, status: "Success" };
  return {
    metadata: {},
    status: "Failure",
    message: `command terminated with non-zero exit code: error executing command [${command.join(" ")}], exit code ${code}`,
    reason: "NonZeroExitCode",
    details: { causes: [{ reason: "ExitCode", message: String(code) }] },
  };
}

export async function handleExecUpgrade(c: Call, pod: KubeObject, socket: Duplex, head: Buffer): Promise<void> {
  const req: IncomingMessage = c.req;
  const upgrade = String(req.headers.upgrade ?? "").toLowerCase();
  if (upgrade === "spdy/3.1") return handleSpdyExec(c, pod, socket, head);
  if (upgrade.startsWith("spdy")) throw kubeErrors.badRequest(SPDY_MESSAGE);
  if (upgrade !== "websocket") throw kubeErrors.badRequest(`unsupported upgrade: ${upgrade || "none"}`);
  const offered = String(req.headers["sec-websocket-protocol"] ?? "")
    .split(",")
    .map((s) => s.trim());
  if (!CHANNEL_PROTOCOLS.some((p) => offered.includes(p)))
    throw kubeErrors.badRequest(
      `none of the offered subprotocols is supported: use one of ${CHANNEL_PROTOCOLS.join(", ")}`,
    );
  const opts = execOptions(c, pod);
  const session = await startSession(c, pod, opts);
  const ws = await new Promise<WebSocket>((resolve) => wss.handleUpgrade(req, socket, head, resolve));
  pipeSession(ws, session, opts.command);
}

export type ExecOptions = ReturnType<typeof execOptions>;

/** The exec/attach request's options from its query, checked as the kubelet does. */
export function execOptions(c: Call, pod: KubeObject) {
  const sub = c.info.subresource;
  const q = c.query;
  const command = q.getAll("command");
  if (sub === "exec" && command.length === 0) throw kubeErrors.badRequest("you must specify at least 1 command");
  const opts = {
    container: containerOf(pod, q.get("container")),
    command,
    stdin: flag(q, "stdin"),
    stdout: flag(q, "stdout") || (!q.has("stdout") && sub === "attach"),
    stderr: flag(q, "stderr"),
    tty: flag(q, "tty"),
  };
  if (!opts.stdin && !opts.stdout && !opts.stderr)
    throw kubeErrors.badRequest("you must specify at least 1 of stdin, stdout, stderr");
  return opts;
}

/** Starts the process (exec) or attaches to the container's (attach). */
export async function startSession(c: Call, pod: KubeObject, opts: ExecOptions): Promise<ExecSession> {
  const exec = c.deps.exec;
  if (!exec) throw new KubeError(503, "InternalError", "pods/exec is not available on this server");
  const ns = pod.metadata.namespace ?? "default";
  const name = pod.metadata.name ?? "";
  if (c.info.subresource !== "attach") return exec.exec(c.cluster, ns, name, opts);
  if (!exec.attach) throw kubeErrors.badRequest("pods/attach is not supported by this node");
  return exec.attach(c.cluster, ns, name, opts);
}

function pipeSession(ws: WebSocket, s: ExecSession, command: string[]) {
  const v5 = ws.protocol === "v5.channel.k8s.io";
  const send = (channel: number, data: Buffer | string) => {
    if (ws.readyState !== ws.OPEN) return;
    const payload = typeof data === "string" ? Buffer.from(data) : data;
    ws.send(Buffer.concat([Buffer.from([channel]), payload]));
  };
  const ended = (stream?: NodeJS.ReadableStream) =>
    stream
      ? new Promise<void>((r) => {
          stream.once("end", r);
          stream.once("close", r);
          stream.once("error", () => r());
        })
      : Promise.resolve();
  // Registered before any output flows: the status goes out once both streams ended.
  const drained = Promise.all([ended(s.stdout), ended(s.stderr)]);
  s.stdout?.on("data", (d: Buffer) => send(STDOUT, d));
  s.stderr?.on("data", (d: Buffer) => send(STDERR, d));
  ws.on("message", (data: Buffer, isBinary: boolean) => {
    const buf = isBinary ? data : Buffer.from(data);
    if (!buf.length) return;
    const channel = buf[0];
    const rest = buf.subarray(1);
    if (channel === STDIN) s.stdin?.write(rest);
    else if (channel === RESIZE) {
      try {
        const r = JSON.parse(rest.toString("utf8")) as { Width?: number; Height?: number };
        if (r.Width && r.Height) s.resize?.(r.Width, r.Height);
      } catch {
        // a malformed resize is ignored, as the kubelet does
      }
    } else if (channel === CLOSE && v5 && rest[0] === STDIN) s.stdin?.end();
  });
  ws.on("close", () => {
    s.stdin?.end();
  });
  void s.exit
    .then(async (code) => {
      // Let the output drain before the status (bounded: a stream that never ends does not hold the status back).
      await Promise.race([drained, new Promise((r) => setTimeout(r, 2000))]);
      send(ERROR, JSON.stringify(exitStatus(code, command)));
    })
    .catch((e: unknown) => {
      send(
        ERROR,
        JSON.stringify({
          metadata: {},
          status: "Failure",
          message: String((e as Error)?.message ?? e),
          reason: "InternalError",
        }),
      );
    })
    .finally(() => ws.close(1000));
}
