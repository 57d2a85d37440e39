/**
 * pods/exec and pods/attach over SPDY/3.1 (kubectl before 1.30, e.g. Debian's 1.20), as the
 * kubelet's remotecommand server: the client names its streams by `streamType` (error, stdin,
 * stdout, stderr, resize); once all that the request asks for are open the process starts, its
 * output goes to stdout/stderr, and its exit is a Status on the error stream (v4.channel.k8s.io).
 */
import type { Duplex } from "node:stream";
import { kubeErrors } from "../kube/errors.js";
import type { KubeObject } from "../kube/types.js";
import type { Call } from "./context.js";
import { exitStatus, execOptions, startSession } from "./exec.js";
import { SpdyServerConnection, type SpdyStream } from "./spdy/connection.js";

/** What the server speaks, best first: v4 carries the exit code as a Status. */
const PROTOCOLS = ["v4.channel.k8s.io", "v3.channel.k8s.io", "v2.channel.k8s.io", "channel.k8s.io"];
const STREAMS_TIMEOUT_MS = 30_000;

/** The streams a request needs (the kubelet's expected count). PURE. */
export function expectedStreams(
  opts: { stdin: boolean; stdout: boolean; stderr: boolean; tty: boolean },
  protocol: string,
) {
  const names = ["error"];
  if (opts.stdin) names.push("stdin");
  if (opts.stdout) names.push("stdout");
  if (opts.stderr && !opts.tty) names.push("stderr");
  if (opts.tty && protocol !== "channel.k8s.io" && protocol !== "v2.channel.k8s.io") names.push("resize");
  return names;
}

export async function handleSpdyExec(c: Call, pod: KubeObject, socket: Duplex, head: Buffer): Promise<void> {
  const offered = String(c.req.headers["x-stream-protocol-version"] ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const protocol = PROTOCOLS.find((p) => offered.includes(p));
  if (!protocol)
    throw kubeErrors.badRequest(
      `unable to upgrade connection: none of the requested protocols (${offered.join(", ")}) is supported: use one of ${PROTOCOLS.join(", ")}`,
    );
  const opts = execOptions(c, pod);
  const wanted = expectedStreams(opts, protocol);
  socket.write(
    `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${protocol}\r\n\r\n`,
  );
  if (head.length) socket.unshift(head);
  const streams = new Map<string, SpdyStream>();
  let started = false;
  const spdy = new SpdyServerConnection(socket, (s) => {
    const type = s.headers.streamtype ?? "";
    if (!wanted.includes(type) || streams.has(type)) return s.reset();
    streams.set(type, s);
    if (type !== "stdin" && type !== "resize") s.incoming.resume();
    if (!started && wanted.every((w) => streams.has(w))) {
      started = true;
      clearTimeout(timer);
      void run();
    }
  });
  const timer = setTimeout(() => {
    if (!started) spdy.shutdown();
  }, STREAMS_TIMEOUT_MS);

  async function run() {
    const error = streams.get("error") as SpdyStream;
    const finish = () => {
      for (const s of streams.values()) s.end();
      setTimeout(() => spdy.shutdown(), 100);
    };
    let session: Awaited<ReturnType<typeof startSession>>;
    try {
      session = await startSession(c, pod, opts);
    } catch (e) {
      error.write(Buffer.from(JSON.stringify(failure(String((e as Error)?.message ?? e)))));
      return finish();
    }
    const stdout = streams.get("stdout");
    const stderr = streams.get("stderr");
    const stdin = streams.get("stdin");
    const resize = streams.get("resize");
    const ended = (r?: NodeJS.ReadableStream) =>
      new Promise<void>((done) => {
        if (!r) return done();
        r.once("end", done);
        r.once("close", done);
        r.once("error", () => done());
      });
    const drained = Promise.all([ended(session.stdout), ended(session.stderr)]);
    session.stdout?.on("data", (d: Buffer) => stdout?.write(d));
    session.stderr?.on("data", (d: Buffer) => (stderr ?? stdout)?.write(d));
    if (stdin && session.stdin) {
      stdin.incoming.on("data", (d: Buffer) => session.stdin?.write(d));
      stdin.incoming.on("end", () => session.stdin?.end());
    }
    if (resize) {
      let pending = "";
      resize.incoming.on("data", (d: Buffer) => {
        pending += d.toString("utf8");
        const lines = pending.split("\n");
        pending = lines.pop() ?? "";
        for (const line of lines) {
          try {
            const r = JSON.parse(line) as { Width?: number; Height?: number };
            if (r.Width && r.Height) session.resize?.(r.Width, r.Height);
          } catch {
            // a malformed resize is ignored, as the kubelet does
          }
        }
      });
    }
    try {
      const code = await session.exit;
      await Promise.race([drained, new Promise((r) => setTimeout(r, 2000))]);
      if (protocol === "v4.channel.k8s.io") error.write(Buffer.from(JSON.stringify(exitStatus(code, opts.command))));
      else if (code !== 0) error.write(Buffer.from(`command terminated with non-zero exit code: ${code}`));
    } catch (e) {
      error.write(Buffer.from(JSON.stringify(failure(String((e as Error)?.message ?? e)))));
    }
    finish();
  }
}

const failure = (message: string) => ({ metadata: {}, status: "Failure", message, reason: "InternalError" });
