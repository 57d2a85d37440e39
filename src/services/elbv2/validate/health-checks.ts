import type { CreateTargetGroupInput, ModifyTargetGroupInput } from "../../../protocol/generated/types/elbv2.js";
import type { HealthCheckSettings } from "../../../store/schema/elbv2.js";
import { invalid } from "./invalid.js";
import { parseHttpCodeMatcher } from "../../../lb/http-codes.js";

/** Target group health checks: AWS's defaults per protocol, and the settings after a change. */

type HealthCheckInput = Pick<
  CreateTargetGroupInput & ModifyTargetGroupInput,
  | "HealthCheckProtocol"
  | "HealthCheckPort"
  | "HealthCheckEnabled"
  | "HealthCheckPath"
  | "HealthCheckIntervalSeconds"
  | "HealthCheckTimeoutSeconds"
  | "HealthyThresholdCount"
  | "UnhealthyThresholdCount"
  | "Matcher"
>;

/** AWS's health check defaults for a target group protocol (AWS-FACTS §7). */
export function defaultHealthCheck(protocol: "HTTP" | "TCP"): HealthCheckSettings {
  return protocol === "HTTP"
    ? {
        enabled: true,
        protocol: "HTTP",
        port: "traffic-port",
        path: "/",
        intervalSeconds: 30,
        timeoutSeconds: 6,
        healthyThresholdCount: 5,
        unhealthyThresholdCount: 2,
        matcher: "200",
      }
    : {
        enabled: true,
        protocol: "TCP",
        port: "traffic-port",
        intervalSeconds: 30,
        timeoutSeconds: 10,
        healthyThresholdCount: 5,
        unhealthyThresholdCount: 2,
      };
}

/**
 * The health check settings after applying `input` to `base` (AWS defaults for a new target
 * group), validated against the target group's protocol and type.
 */
export function healthCheckSettings(
  input: HealthCheckInput,
  tg: { protocol: "HTTP" | "TCP"; targetType: string },
  base: HealthCheckSettings = defaultHealthCheck(tg.protocol),
): HealthCheckSettings {
  const protocol = (input.HealthCheckProtocol ?? base.protocol) as string;
  if (tg.protocol === "HTTP" && protocol !== "HTTP" && protocol !== "HTTPS")
    throw invalid(`Health check protocol '${protocol}' is not supported for target groups with the protocol 'HTTP'`);
  if (tg.protocol === "TCP" && !["TCP", "HTTP", "HTTPS"].includes(protocol))
    throw invalid(`Health check protocol '${protocol}' is not supported for target groups with the protocol 'TCP'`);
  const http = protocol !== "TCP";
  const wasHttp = base.protocol !== "TCP";
  const enabled = input.HealthCheckEnabled ?? base.enabled;
  if (!enabled) throw invalid(`Health checks cannot be disabled for target groups with target type '${tg.targetType}'`);
  const port = input.HealthCheckPort ?? base.port;
  if (port !== "traffic-port" && !(/^\d{1,5}$/.test(port) && Number(port) >= 1 && Number(port) <= 65535))
    throw invalid(`Health check port must be 'traffic-port' or from 1 to 65535; got '${port}'`);
  if (!http && input.HealthCheckPath !== undefined)
    throw invalid("A health check path can only be specified for HTTP and HTTPS health checks");
  if (!http && input.Matcher !== undefined)
    throw invalid("A health check matcher can only be specified for HTTP and HTTPS health checks");
  const path = http ? (input.HealthCheckPath ?? (wasHttp ? base.path : undefined) ?? "/") : undefined;
  if (path !== undefined && !path.startsWith("/"))
    throw invalid(`Health check path must start with '/'; got '${path}'`);
  if (input.Matcher?.GrpcCode !== undefined) throw invalid("gRPC health check matchers need protocol version GRPC");
  const [lo, hi] = tg.protocol === "HTTP" ? [200, 499] : [200, 599];
  const matcher = http
    ? (input.Matcher?.HttpCode ?? (wasHttp ? base.matcher : undefined) ?? (tg.protocol === "HTTP" ? "200" : "200-399"))
    : undefined;
  if (matcher !== undefined && !parseHttpCodeMatcher(matcher, lo, hi))
    throw invalid(
      `Health check matcher '${matcher}' must be codes from ${lo} to ${hi}, e.g. 200 or 200,202 or 200-299`,
    );
  const intervalSeconds = input.HealthCheckIntervalSeconds ?? base.intervalSeconds;
  const timeoutSeconds =
    input.HealthCheckTimeoutSeconds ??
    (input.HealthCheckProtocol !== undefined && input.HealthCheckProtocol !== base.protocol
      ? tg.protocol === "HTTP"
        ? 6
        : http
          ? 6
          : 10
      : base.timeoutSeconds);
  // NLB target groups take a timeout equal to the interval (the AWS Load Balancer Controller's default is 10 and 10).
  if (tg.protocol === "TCP" ? timeoutSeconds > intervalSeconds : timeoutSeconds >= intervalSeconds)
    throw invalid(
      tg.protocol === "TCP"
        ? `Health check timeout '${timeoutSeconds}' must not be greater than the interval '${intervalSeconds}'`
        : `Health check timeout '${timeoutSeconds}' must be smaller than the interval '${intervalSeconds}'`,
    );
  return {
    enabled,
    protocol: protocol as HealthCheckSettings["protocol"],
    port,
    ...(path !== undefined ? { path } : {}),
    intervalSeconds,
    timeoutSeconds,
    healthyThresholdCount: input.HealthyThresholdCount ?? base.healthyThresholdCount,
    unhealthyThresholdCount: input.UnhealthyThresholdCount ?? base.unhealthyThresholdCount,
    ...(matcher !== undefined ? { matcher } : {}),
  };
}
