import { elbv2Errors } from "../../protocol/generated/errors/elbv2.js";
import { commonErrors } from "../../core/errors.js";
import type { LoadBalancerType } from "../../store/schema/elbv2.js";

/**
 * Load balancer and target group attributes: AWS's keys with their defaults, and validation of
 * new values. Pure. Which of them the data plane honours is listed in docs/elbv2.md.
 */

type Check = (value: string) => string | undefined;

const bool: Check = (v) => (v === "true" || v === "false" ? undefined : "must be true or false");
const intIn =
  (min: number, max: number): Check =>
  (v) =>
    /^\d+$/.test(v) && Number(v) >= min && Number(v) <= max ? undefined : `must be an integer from ${min} to ${max}`;
const oneOf =
  (...values: string[]): Check =>
  (v) =>
    values.includes(v) ? undefined : `must be one of ${values.join(", ")}`;
const any: Check = () => undefined;
const offOrIntIn =
  (min: number, max: number): Check =>
  (v) =>
    v === "off" ? undefined : intIn(min, max)(v) && `must be off or an integer from ${min} to ${max}`;

interface Spec {
  default: string;
  check: Check;
}

const LB_COMMON: Record<string, Spec> = {
  "deletion_protection.enabled": { default: "false", check: bool },
  "access_logs.s3.enabled": { default: "false", check: bool },
  "access_logs.s3.bucket": { default: "", check: any },
  "access_logs.s3.prefix": { default: "", check: any },
  "ipv6.deny_all_igw_traffic": { default: "false", check: bool },
  "zonal_shift.config.enabled": { default: "false", check: bool },
};

const LB_APPLICATION: Record<string, Spec> = {
  ...LB_COMMON,
  "idle_timeout.timeout_seconds": { default: "60", check: intIn(1, 4000) },
  "client_keep_alive.seconds": { default: "3600", check: intIn(60, 604800) },
  "connection_logs.s3.enabled": { default: "false", check: bool },
  "connection_logs.s3.bucket": { default: "", check: any },
  "connection_logs.s3.prefix": { default: "", check: any },
  "health_check_logs.s3.enabled": { default: "false", check: bool },
  "health_check_logs.s3.bucket": { default: "", check: any },
  "health_check_logs.s3.prefix": { default: "", check: any },
  "load_balancing.cross_zone.enabled": { default: "true", check: oneOf("true") },
  "routing.http.desync_mitigation_mode": { default: "defensive", check: oneOf("monitor", "defensive", "strictest") },
  "routing.http.drop_invalid_header_fields.enabled": { default: "false", check: bool },
  "routing.http.preserve_host_header.enabled": { default: "false", check: bool },
  "routing.http.x_amzn_tls_version_and_cipher_suite.enabled": { default: "false", check: bool },
  "routing.http.xff_client_port.enabled": { default: "false", check: bool },
  "routing.http.xff_header_processing.mode": { default: "append", check: oneOf("append", "preserve", "remove") },
  "routing.http2.enabled": { default: "true", check: bool },
  "waf.fail_open.enabled": { default: "false", check: bool },
};

const LB_NETWORK: Record<string, Spec> = {
  ...LB_COMMON,
  "load_balancing.cross_zone.enabled": { default: "false", check: bool },
  "dns_record.client_routing_policy": {
    default: "any_availability_zone",
    check: oneOf("availability_zone_affinity", "partial_availability_zone_affinity", "any_availability_zone"),
  },
};

const TG_COMMON: Record<string, Spec> = {
  "deregistration_delay.timeout_seconds": { default: "300", check: intIn(0, 3600) },
  "stickiness.enabled": { default: "false", check: bool },
  "load_balancing.cross_zone.enabled": {
    default: "use_load_balancer_configuration",
    check: oneOf("true", "false", "use_load_balancer_configuration"),
  },
  "target_group_health.dns_failover.minimum_healthy_targets.count": { default: "1", check: offOrIntIn(1, 10000) },
  "target_group_health.dns_failover.minimum_healthy_targets.percentage": { default: "off", check: offOrIntIn(1, 100) },
  "target_group_health.unhealthy_state_routing.minimum_healthy_targets.count": {
    default: "1",
    check: intIn(1, 10000),
  },
  "target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage": {
    default: "off",
    check: offOrIntIn(1, 100),
  },
};

const TG_HTTP: Record<string, Spec> = {
  ...TG_COMMON,
  // app_cookie stickiness is not routed by Berth's data plane; refusing it beats ignoring it.
  "stickiness.type": { default: "lb_cookie", check: oneOf("lb_cookie") },
  "stickiness.lb_cookie.duration_seconds": { default: "86400", check: intIn(1, 604800) },
  "stickiness.app_cookie.cookie_name": { default: "", check: any },
  "stickiness.app_cookie.duration_seconds": { default: "86400", check: intIn(1, 604800) },
  "slow_start.duration_seconds": {
    default: "0",
    check: (v) => (v === "0" ? undefined : intIn(30, 900)(v) && "must be 0 or an integer from 30 to 900"),
  },
  "load_balancing.algorithm.type": {
    default: "round_robin",
    check: oneOf("round_robin", "least_outstanding_requests", "weighted_random"),
  },
  "load_balancing.algorithm.anomaly_mitigation": { default: "off", check: oneOf("on", "off") },
};

const TG_TCP: Record<string, Spec> = {
  ...TG_COMMON,
  "stickiness.type": { default: "source_ip", check: oneOf("source_ip") },
  "deregistration_delay.connection_termination.enabled": { default: "false", check: bool },
  "preserve_client_ip.enabled": { default: "false", check: bool },
  "proxy_protocol_v2.enabled": { default: "false", check: oneOf("false") },
  "target_health_state.unhealthy.connection_termination.enabled": { default: "true", check: bool },
  "target_health_state.unhealthy.draining_interval_seconds": { default: "0", check: intIn(0, 360000) },
};

const defaults = (specs: Record<string, Spec>) =>
  Object.fromEntries(Object.entries(specs).map(([k, s]) => [k, s.default]));

export const loadBalancerAttributeDefaults = (type: LoadBalancerType) =>
  defaults(type === "application" ? LB_APPLICATION : LB_NETWORK);

export const targetGroupAttributeDefaults = (protocol: "HTTP" | "TCP") =>
  defaults(protocol === "HTTP" ? TG_HTTP : TG_TCP);

function apply(
  specs: Record<string, Spec>,
  current: Record<string, string>,
  changes: { Key?: string; Value?: string }[],
  what: string,
): Record<string, string> {
  const next = { ...current };
  const seen = new Set<string>();
  for (const { Key, Value } of changes) {
    if (!Key) throw commonErrors.ValidationError(`${what} attribute key must be specified`);
    if (seen.has(Key)) throw commonErrors.ValidationError(`${what} attribute '${Key}' is specified more than once`);
    seen.add(Key);
    const spec = Object.hasOwn(specs, Key) ? specs[Key] : undefined;
    if (!spec) throw commonErrors.ValidationError(`${what} attribute key '${Key}' is not recognized`);
    const value = Value ?? "";
    const problem = spec.check(value);
    if (problem) throw commonErrors.ValidationError(`${what} attribute '${Key}' ${problem}; got '${value}'`);
    next[Key] = value;
  }
  return next;
}

export function modifyLoadBalancerAttributes(
  type: LoadBalancerType,
  current: Record<string, string>,
  changes: { Key?: string; Value?: string }[],
) {
  return apply(type === "application" ? LB_APPLICATION : LB_NETWORK, current, changes, "Load balancer");
}

export function modifyTargetGroupAttributes(
  protocol: "HTTP" | "TCP",
  current: Record<string, string>,
  changes: { Key?: string; Value?: string }[],
) {
  const next = apply(protocol === "HTTP" ? TG_HTTP : TG_TCP, current, changes, "Target group");
  if (
    protocol === "HTTP" &&
    next["slow_start.duration_seconds"] !== "0" &&
    next["load_balancing.algorithm.type"] !== "round_robin"
  )
    throw elbv2Errors.InvalidConfigurationRequestException(
      "Slow start mode is supported only with the round_robin load balancing algorithm",
    );
  return next;
}

/** Attributes as the API lists them: every key with its current value, in key order. */
export const attributeList = (attributes: Record<string, string>) =>
  Object.keys(attributes)
    .sort()
    .map((Key) => ({ Key, Value: attributes[Key] }));
