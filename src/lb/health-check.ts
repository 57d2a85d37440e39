import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { connect } from "node:net";
import type { HealthCheckSettings } from "../store/schema/elbv2.js";
import { parseHttpCodeMatcher } from "../services/elbv2/validate.js";
import { type CheckResult, codeMismatch, failedCheck, timedOut } from "./health.js";

/** Where and how to check one target: the target group's settings resolved for it. */
export interface CheckTarget {
  address: string;
  /** The port the target receives traffic on (used for "traffic-port"). */
  trafficPort: number;
  settings: HealthCheckSettings;
  /** The target group's protocol decides the matcher's range (HTTP 200–499, TCP 200–599). */
  groupProtocol: "HTTP" | "TCP";
}

export const checkPort = (t: CheckTarget) =>
  t.settings.port === "traffic-port" ? t.trafficPort : Number(t.settings.port);

/** Runs one health check, as ELB does: an HTTP(S) GET of the path, or a TCP connect. Never rejects. */
export function runHealthCheck(t: CheckTarget): Promise<CheckResult> {
  const port = checkPort(t);
  const timeoutMs = t.settings.timeoutSeconds * 1000;
  if (t.settings.protocol === "TCP") return tcpCheck(t.address, port, timeoutMs);
  const [lo, hi] = t.groupProtocol === "HTTP" ? [200, 499] : [200, 599];
  const matches = parseHttpCodeMatcher(t.settings.matcher ?? "200", lo, hi) ?? ((c: number) => c === 200);
  return new Promise((resolve) => {
    let settled = false;
    const done = (r: CheckResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(r);
    };
    const options = {
      host: t.address,
      port,
      method: "GET",
      path: t.settings.path ?? "/",
      agent: false as const,
      headers: { host: `${t.address}:${port}`, "user-agent": "ELB-HealthChecker/2.0", connection: "close" },
      rejectUnauthorized: false,
    };
    const req = (t.settings.protocol === "HTTPS" ? httpsRequest : httpRequest)(options, (res) => {
      const code = res.statusCode ?? 0;
      res.resume();
      done(matches(code) ? { ok: true } : codeMismatch(code));
    });
    const timer = setTimeout(() => done(timedOut), timeoutMs);
    req.on("error", () => done(failedCheck));
    req.end();
  });
}

function tcpCheck(address: string, port: number, timeoutMs: number): Promise<CheckResult> {
  return new Promise((resolve) => {
    const socket = connect({ host: address, port });
    const timer = setTimeout(() => finish(timedOut), timeoutMs);
    const finish = (r: CheckResult) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(r);
    };
    socket.once("connect", () => finish({ ok: true }));
    socket.once("error", () => finish(failedCheck));
  });
}
