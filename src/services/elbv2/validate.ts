import { ServiceError } from "../../core/errors.js";
import { conditionRegexValues, conditionValues, parseCidr, parseIpv4 } from "../../lb/rules.js";
import type {
  Action,
  CreateTargetGroupInput,
  ModifyTargetGroupInput,
  RuleCondition,
} from "../../protocol/generated/types/elbv2.js";
import type { HealthCheckSettings, LoadBalancerType } from "../../store/schema/elbv2.js";

/** Pure validation and normalization of ELBv2 input, with AWS's error codes. */

const invalid = (message: string) => new ServiceError("ValidationError", message);

const NAME = /^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,30}[a-zA-Z0-9])?$/;

export function checkLoadBalancerName(name: string) {
  if (name.length > 32) throw invalid(`Load balancer name '${name}' cannot be longer than 32 characters`);
  if (!NAME.test(name))
    throw invalid(
      `Load balancer name '${name}' is not valid: use only alphanumeric characters and hyphens, and do not begin or end with a hyphen`,
    );
  if (name.startsWith("internal-")) throw invalid(`Load balancer name '${name}' cannot begin with 'internal-'`);
}

export function checkTargetGroupName(name: string) {
  if (name.length > 32) throw invalid(`Target group name '${name}' cannot be longer than 32 characters`);
  if (!NAME.test(name))
    throw invalid(
      `Target group name '${name}' can only contain characters that are alphanumeric characters or hyphens(-), and must not begin or end with a hyphen`,
    );
}

// ---------------------------------------------------------------------------------------------
// Rule conditions

const SINGLE_FIELDS = new Set(["host-header", "path-pattern", "http-request-method", "source-ip"]);
const FIELDS = new Set([...SINGLE_FIELDS, "http-header", "query-string"]);
const HOST_CHARS = /^[A-Za-z0-9\-.*?]+$/;
const PATH_CHARS = /^[A-Za-z0-9_\-.$/~"'@:+&*?]+$/;
const METHOD = /^[A-Z_-]{1,40}$/;
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,40}$/;
/** AWS: up to three values per condition and five per rule. */
const MAX_VALUES_PER_CONDITION = 3;
const MAX_VALUES_PER_RULE = 5;

function checkRegex(field: string, re: string) {
  if (re.length > 128) throw invalid(`A regular expression in a '${field}' condition cannot exceed 128 characters`);
  try {
    new RegExp(re);
  } catch {
    throw invalid(`'${re}' in a '${field}' condition is not a valid regular expression`);
  }
}

/**
 * Validates a rule's conditions and returns them as DescribeRules reports them (host-header
 * and path-pattern carry both Values and their Config, as AWS echoes them).
 */
export function normalizeConditions(conditions: RuleCondition[]): RuleCondition[] {
  if (conditions.length === 0) throw invalid("A rule must have at least one condition");
  const seen = new Set<string>();
  let total = 0;
  const out: RuleCondition[] = [];
  for (const c of conditions) {
    const field = c.Field;
    if (!field) throw invalid("A condition field must be specified");
    if (!FIELDS.has(field))
      throw invalid(
        `Condition field '${field}' is not valid; use one of host-header, path-pattern, http-header, http-request-method, query-string, source-ip`,
      );
    if (SINGLE_FIELDS.has(field) && seen.has(field)) throw invalid(`A rule can only have one '${field}' condition`);
    seen.add(field);
    const configs = {
      "host-header": c.HostHeaderConfig,
      "path-pattern": c.PathPatternConfig,
      "http-header": c.HttpHeaderConfig,
      "http-request-method": c.HttpRequestMethodConfig,
      "query-string": c.QueryStringConfig,
      "source-ip": c.SourceIpConfig,
    };
    for (const [f, cfg] of Object.entries(configs))
      if (cfg !== undefined && f !== field)
        throw invalid(`A '${field}' condition cannot have a configuration for '${f}'`);
    const hasConfig = configs[field as keyof typeof configs] !== undefined;
    if (c.Values !== undefined && c.Values.length > 0) {
      if (field !== "host-header" && field !== "path-pattern")
        throw invalid(
          `'Values' can only be specified for host-header and path-pattern conditions; use the ${field} configuration`,
        );
      if (hasConfig) throw invalid(`A '${field}' condition cannot have both 'Values' and a configuration`);
    }
    if (c.RegexValues !== undefined && c.RegexValues.length > 0 && hasConfig)
      throw invalid(`A '${field}' condition cannot have both 'RegexValues' and a configuration`);
    const values = conditionValues(c);
    const regexValues = conditionRegexValues(c);
    for (const re of regexValues) checkRegex(field, re);
    const count =
      field === "query-string" ? (c.QueryStringConfig?.Values ?? []).length : values.length + regexValues.length;
    if (count === 0) throw invalid(`A '${field}' condition must have at least one value`);
    if (count > MAX_VALUES_PER_CONDITION && field !== "source-ip")
      throw invalid(`A '${field}' condition can have at most ${MAX_VALUES_PER_CONDITION} values`);
    total += count;
    switch (field) {
      case "host-header":
        for (const v of values) {
          if (v.length > 128) throw invalid(`Host header value '${v}' cannot exceed 128 characters`);
          if (!HOST_CHARS.test(v))
            throw invalid(`Host header value '${v}' can only contain A-Z, a-z, 0-9, '-', '.', '*' and '?'`);
        }
        out.push(
          regexValues.length
            ? { Field: field, HostHeaderConfig: { RegexValues: regexValues } }
            : { Field: field, Values: values, HostHeaderConfig: { Values: values } },
        );
        break;
      case "path-pattern":
        for (const v of values) {
          if (v.length > 128) throw invalid(`Path pattern '${v}' cannot exceed 128 characters`);
          if (!PATH_CHARS.test(v))
            throw invalid(
              `Path pattern '${v}' can only contain A-Z, a-z, 0-9, _ - . $ / ~ " ' @ : + & and the wildcards * and ?`,
            );
        }
        out.push(
          regexValues.length
            ? { Field: field, PathPatternConfig: { RegexValues: regexValues } }
            : { Field: field, Values: values, PathPatternConfig: { Values: values } },
        );
        break;
      case "http-header": {
        const name = c.HttpHeaderConfig?.HttpHeaderName;
        if (!name) throw invalid("An http-header condition must name the header (HttpHeaderConfig.HttpHeaderName)");
        if (!HEADER_NAME.test(name))
          throw invalid(`HTTP header name '${name}' must be a valid header name of at most 40 characters`);
        if (name.toLowerCase() === "host")
          throw invalid("An http-header condition cannot use the Host header; use a host-header condition");
        for (const v of values)
          if (v.length > 128) throw invalid(`HTTP header value '${v}' cannot exceed 128 characters`);
        out.push({
          Field: field,
          HttpHeaderConfig: {
            HttpHeaderName: name,
            ...(values.length ? { Values: values } : {}),
            ...(regexValues.length ? { RegexValues: regexValues } : {}),
          },
        });
        break;
      }
      case "http-request-method":
        for (const v of values)
          if (!METHOD.test(v))
            throw invalid(`HTTP request method '${v}' can only contain A-Z, '-' and '_' (at most 40 characters)`);
        out.push({ Field: field, HttpRequestMethodConfig: { Values: values } });
        break;
      case "query-string": {
        const pairs = c.QueryStringConfig?.Values ?? [];
        for (const p of pairs) {
          if (p.Value === undefined || p.Value === "")
            throw invalid("Each query-string condition value must have a 'Value'");
          if (p.Value.length > 128 || (p.Key?.length ?? 0) > 128)
            throw invalid("Query string keys and values cannot exceed 128 characters");
        }
        out.push({
          Field: field,
          QueryStringConfig: {
            Values: pairs.map((p) => (p.Key === undefined ? { Value: p.Value } : { Key: p.Key, Value: p.Value })),
          },
        });
        break;
      }
      case "source-ip":
        for (const v of values)
          if (!parseCidr(v)) throw invalid(`Source IP '${v}' is not a valid CIDR block (for example 10.0.0.0/16)`);
        out.push({ Field: field, SourceIpConfig: { Values: values } });
        break;
    }
  }
  if (total > MAX_VALUES_PER_RULE)
    throw invalid(`A rule can have at most ${MAX_VALUES_PER_RULE} condition values in total; got ${total}`);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Actions

const FIXED_CONTENT_TYPES = ["text/plain", "text/css", "text/html", "application/javascript", "application/json"];
const TERMINAL = new Set(["forward", "redirect", "fixed-response"]);
const AUTH = new Set(["authenticate-oidc", "authenticate-cognito", "jwt-validation"]);

export interface ActionContext {
  loadBalancerArn: string;
  loadBalancerType: LoadBalancerType;
  listenerProtocol: "HTTP" | "TCP";
  /** Looks a target group up; undefined when it does not exist. */
  targetGroup(arn: string): { protocol: string; loadBalancerArns: string[] } | undefined;
}

const badAction = (message: string) => new ServiceError("InvalidLoadBalancerAction", message);

/**
 * Validates a listener's or rule's actions and returns them as DescribeListeners/DescribeRules
 * report them (a single-target-group forward also carries its ForwardConfig; redirects carry
 * every component with its #{…} default).
 */
export function normalizeActions(actions: Action[], ctx: ActionContext): Action[] {
  if (actions.length === 0) throw invalid("At least one action must be specified");
  for (const a of actions) {
    if (AUTH.has(a.Type))
      throw badAction(`The action type '${a.Type}' requires an HTTPS listener, which Berth does not serve yet`);
    if (!TERMINAL.has(a.Type)) throw invalid(`Action type '${a.Type}' is not valid`);
  }
  if (actions.length > 1) {
    const orders = actions.map((a) => a.Order);
    if (orders.some((o) => o === undefined))
      throw invalid("An order must be specified for every action when a rule has more than one action");
    if (new Set(orders).size !== orders.length) throw invalid("Action orders must be unique");
    throw new ServiceError(
      "TooManyActions",
      "A rule can have only one forward, redirect or fixed-response action (authentication actions need HTTPS)",
    );
  }
  const a = actions[0];
  if (ctx.loadBalancerType === "network" && a.Type !== "forward")
    throw badAction(`Network Load Balancer listeners support only forward actions; got '${a.Type}'`);
  const others = { RedirectConfig: a.RedirectConfig, FixedResponseConfig: a.FixedResponseConfig };
  switch (a.Type) {
    case "forward":
      if (others.RedirectConfig || others.FixedResponseConfig)
        throw invalid("A forward action cannot have a redirect or fixed-response configuration");
      return [withOrder(a, forward(a, ctx))];
    case "redirect":
      if (a.TargetGroupArn || a.ForwardConfig || a.FixedResponseConfig)
        throw invalid("A redirect action can only have a redirect configuration");
      return [withOrder(a, redirect(a))];
    default:
      if (a.TargetGroupArn || a.ForwardConfig || a.RedirectConfig)
        throw invalid("A fixed-response action can only have a fixed-response configuration");
      return [withOrder(a, fixedResponse(a))];
  }
}

const withOrder = (input: Action, out: Action): Action =>
  input.Order !== undefined ? { ...out, Order: input.Order } : out;

function forward(a: Action, ctx: ActionContext): Action {
  const tuples = a.ForwardConfig?.TargetGroups ?? [];
  if (!a.TargetGroupArn && tuples.length === 0)
    throw invalid("A forward action must specify a target group (TargetGroupArn or ForwardConfig.TargetGroups)");
  if (a.TargetGroupArn && tuples.length > 0) {
    if (tuples.length !== 1 || tuples[0].TargetGroupArn !== a.TargetGroupArn)
      throw invalid(
        "When both TargetGroupArn and ForwardConfig are specified, ForwardConfig must name only that target group",
      );
  }
  if (tuples.length > 5) throw invalid("A forward action can distribute traffic to at most 5 target groups");
  const list = tuples.length
    ? tuples.map((t) => ({ TargetGroupArn: t.TargetGroupArn ?? "", Weight: t.Weight ?? 1 }))
    : [{ TargetGroupArn: a.TargetGroupArn!, Weight: 1 }];
  const seen = new Set<string>();
  for (const t of list) {
    if (!t.TargetGroupArn) throw invalid("Every target group in a forward action must have a TargetGroupArn");
    if (seen.has(t.TargetGroupArn)) throw invalid(`Target group '${t.TargetGroupArn}' is listed more than once`);
    seen.add(t.TargetGroupArn);
    if (!Number.isInteger(t.Weight) || t.Weight < 0 || t.Weight > 999)
      throw invalid(`Target group weight must be an integer from 0 to 999; got ${t.Weight}`);
  }
  const missing = list.filter((t) => !ctx.targetGroup(t.TargetGroupArn));
  if (missing.length)
    throw new ServiceError(
      "TargetGroupNotFound",
      `Target groups '${missing.map((t) => t.TargetGroupArn).join(", ")}' not found`,
    );
  const allowedProtocols = ctx.listenerProtocol === "HTTP" ? ["HTTP", "HTTPS"] : ["TCP", "TCP_UDP"];
  for (const t of list) {
    const tg = ctx.targetGroup(t.TargetGroupArn)!;
    if (!allowedProtocols.includes(tg.protocol))
      throw new ServiceError(
        "IncompatibleProtocols",
        `Listener protocol '${ctx.listenerProtocol}' is not supported with a target group with the protocol '${tg.protocol}'`,
      );
  }
  const taken = list.filter((t) =>
    ctx.targetGroup(t.TargetGroupArn)!.loadBalancerArns.some((lb) => lb !== ctx.loadBalancerArn),
  );
  if (taken.length)
    throw new ServiceError(
      "TargetGroupAssociationLimit",
      `The following target groups cannot be associated with more than one load balancer: ${taken.map((t) => t.TargetGroupArn).join(", ")}`,
    );
  const sticky = a.ForwardConfig?.TargetGroupStickinessConfig;
  if (sticky?.Enabled) {
    if (ctx.loadBalancerType === "network")
      throw invalid("Target group stickiness is not supported for Network Load Balancers");
    const d = sticky.DurationSeconds;
    if (d === undefined) throw invalid("A duration must be specified when target group stickiness is enabled");
    if (!Number.isInteger(d) || d < 1 || d > 604800)
      throw invalid(`Target group stickiness duration must be from 1 to 604800 seconds; got ${d}`);
  }
  const out: Action = {
    Type: "forward",
    ForwardConfig: {
      TargetGroups: list,
      TargetGroupStickinessConfig: sticky?.Enabled
        ? { Enabled: true, DurationSeconds: sticky.DurationSeconds }
        : { Enabled: false },
    },
  };
  if (list.length === 1) out.TargetGroupArn = list[0].TargetGroupArn;
  return out;
}

function redirect(a: Action): Action {
  const c = a.RedirectConfig;
  if (!c) throw invalid("A redirect action must have a RedirectConfig");
  if (c.StatusCode !== "HTTP_301" && c.StatusCode !== "HTTP_302")
    throw invalid(`Redirect status code must be HTTP_301 or HTTP_302; got '${c.StatusCode}'`);
  const protocol = c.Protocol ?? "#{protocol}";
  if (!/^(HTTPS?|#\{protocol\})$/.test(protocol))
    throw invalid(`Redirect protocol must be HTTP, HTTPS or #{protocol}; got '${protocol}'`);
  const port = c.Port ?? "#{port}";
  if (port !== "#{port}" && !(/^\d{1,5}$/.test(port) && Number(port) >= 1 && Number(port) <= 65535))
    throw invalid(`Redirect port must be from 1 to 65535 or #{port}; got '${port}'`);
  const host = c.Host ?? "#{host}";
  const path = c.Path ?? "/#{path}";
  if (!path.startsWith("/")) throw invalid(`Redirect path must start with '/'; got '${path}'`);
  if (path.includes("#{query}") || path.includes("#{protocol}"))
    throw invalid("Redirect path can only contain the #{host}, #{path} and #{port} keywords");
  const query = c.Query ?? "#{query}";
  if (protocol === "#{protocol}" && port === "#{port}" && host === "#{host}" && path === "/#{path}")
    throw badAction(
      "The redirect configuration is not valid: to avoid a redirect loop, change at least one of protocol, port, host or path",
    );
  return {
    Type: "redirect",
    RedirectConfig: { Protocol: protocol, Port: port, Host: host, Path: path, Query: query, StatusCode: c.StatusCode },
  };
}

function fixedResponse(a: Action): Action {
  const c = a.FixedResponseConfig;
  if (!c) throw invalid("A fixed-response action must have a FixedResponseConfig");
  if (!/^(2|4|5)\d\d$/.test(c.StatusCode ?? ""))
    throw invalid(`Fixed response status code must be 2XX, 4XX or 5XX; got '${c.StatusCode}'`);
  if (c.ContentType !== undefined && !FIXED_CONTENT_TYPES.includes(c.ContentType))
    throw invalid(
      `Fixed response content type must be one of ${FIXED_CONTENT_TYPES.join(", ")}; got '${c.ContentType}'`,
    );
  if (c.MessageBody !== undefined && c.MessageBody.length > 1024)
    throw invalid("Fixed response message body cannot exceed 1024 characters");
  return {
    Type: "fixed-response",
    FixedResponseConfig: {
      StatusCode: c.StatusCode,
      ...(c.ContentType !== undefined ? { ContentType: c.ContentType } : {}),
      ...(c.MessageBody !== undefined ? { MessageBody: c.MessageBody } : {}),
    },
  };
}

/** Target group ARNs an action list forwards to. */
export const forwardedTargetGroups = (actions: Action[]): string[] =>
  actions.flatMap((a) =>
    a.Type === "forward"
      ? (a.ForwardConfig?.TargetGroups?.map((t) => t.TargetGroupArn ?? "") ?? [a.TargetGroupArn ?? ""]).filter(Boolean)
      : [],
  );

// ---------------------------------------------------------------------------------------------
// Target groups

/** "200", "200,202", "200-299" → whether a code is in the set; undefined when the text is not a matcher. */
export function parseHttpCodeMatcher(text: string, min: number, max: number): ((code: number) => boolean) | undefined {
  const parts = text.split(",");
  const ranges: [number, number][] = [];
  for (const part of parts) {
    const m = /^(\d{3})(?:-(\d{3}))?$/.exec(part.trim());
    if (!m) return undefined;
    const lo = Number(m[1]);
    const hi = m[2] ? Number(m[2]) : lo;
    if (lo < min || hi > max || lo > hi) return undefined;
    ranges.push([lo, hi]);
  }
  return (code) => ranges.some(([lo, hi]) => code >= lo && code <= hi);
}

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
  if (timeoutSeconds >= intervalSeconds)
    throw invalid(`Health check timeout '${timeoutSeconds}' must be smaller than the interval '${intervalSeconds}'`);
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

export const isIpv4 = (text: string) => parseIpv4(text) !== undefined;
export const INSTANCE_ID = /^i-[0-9a-f]{8,17}$/;
