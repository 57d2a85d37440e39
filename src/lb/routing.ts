import type { LoadBalancerCounters, TargetGroupCounters } from "./metrics.js";
import type { CompiledRule } from "./rules.js";
import type { TargetGroupRuntime } from "./target-group.js";

/** What an ALB listener does with a request: its compiled rules and the actions they lead to. */

/** Per load balancer settings and counters, shared by its listeners. */
export interface LbRuntime {
  arn: string;
  idleTimeoutMs: number;
  xffMode: "append" | "preserve" | "remove";
  xffClientPort: boolean;
  counters: LoadBalancerCounters;
}

export interface ForwardGroup {
  tg: TargetGroupRuntime;
  counters: TargetGroupCounters;
}

export type ForwardAction = {
  kind: "forward";
  groups: ForwardGroup[];
  weights: number[];
  /** Smooth weighted round robin state, one per group. */
  current: number[];
  /** Forward-action target group stickiness (AWSALBTG cookie), seconds; 0 = off. */
  groupStickySeconds: number;
};

export type RedirectAction = {
  kind: "redirect";
  status: 301 | 302;
  protocol: string;
  host: string;
  port: string;
  path: string;
  query: string;
};

export type FixedAction = { kind: "fixed"; status: number; contentType?: string; body: Buffer };

export type RouteAction = ForwardAction | RedirectAction | FixedAction;

export interface Routing {
  /** In priority order. */
  rules: CompiledRule<RouteAction>[];
  fallback: RouteAction;
}
