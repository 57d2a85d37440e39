import { elbv2Errors } from "../../../protocol/generated/errors/elbv2.js";
import type { Action } from "../../../protocol/generated/types/elbv2.js";
import type { LoadBalancerType } from "../../../store/schema/elbv2.js";
import { invalid } from "./invalid.js";

/** Listener and rule actions: forward (target groups, weights, stickiness), redirect, fixed-response. */

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

const badAction = (message: string) => elbv2Errors.InvalidLoadBalancerActionException(message);

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
    throw elbv2Errors.TooManyActionsException(
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
    throw elbv2Errors.TargetGroupNotFoundException(
      `Target groups '${missing.map((t) => t.TargetGroupArn).join(", ")}' not found`,
    );
  const allowedProtocols = ctx.listenerProtocol === "HTTP" ? ["HTTP", "HTTPS"] : ["TCP", "TCP_UDP"];
  for (const t of list) {
    const tg = ctx.targetGroup(t.TargetGroupArn)!;
    if (!allowedProtocols.includes(tg.protocol))
      throw elbv2Errors.IncompatibleProtocolsException(
        `Listener protocol '${ctx.listenerProtocol}' is not supported with a target group with the protocol '${tg.protocol}'`,
      );
  }
  const taken = list.filter((t) =>
    ctx.targetGroup(t.TargetGroupArn)!.loadBalancerArns.some((lb) => lb !== ctx.loadBalancerArn),
  );
  if (taken.length)
    throw elbv2Errors.TargetGroupAssociationLimitException(
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
