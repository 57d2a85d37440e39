import type { Action, RuleCondition } from "../protocol/generated/types/elbv2.js";
import type { HealthCheckSettings, StoredHealth } from "../store/schema/elbv2.js";

/**
 * The desired state the data plane runs on: plain data, rebuilt from the store whenever an
 * ELBv2 resource changes. The plane reconciles its sockets, routing tables and health checks
 * to it (level-based: the same snapshot twice changes nothing).
 */
export interface PlaneSnapshot {
  loadBalancers: PlaneLoadBalancer[];
  listeners: PlaneListener[];
  targetGroups: PlaneTargetGroup[];
}

export interface PlaneLoadBalancer {
  arn: string;
  type: "application" | "network";
  address: string;
  idleTimeoutSeconds: number;
  xffMode: "append" | "preserve" | "remove";
  xffClientPort: boolean;
  provisioned: boolean;
}

export interface PlaneRule {
  priority: number;
  conditions: RuleCondition[];
  action: Action;
}

export interface PlaneListener {
  arn: string;
  loadBalancerArn: string;
  address: string;
  port: number;
  protocol: "HTTP" | "TCP";
  rules: PlaneRule[];
  defaultAction: Action;
}

export interface PlaneTarget {
  /** The target's store id: `<target group ARN>|<id>|<port>`. */
  key: string;
  id: string;
  port: number;
  /** Where traffic goes (the id itself for ip targets); undefined when an instance cannot be resolved. */
  address?: string;
  health: StoredHealth;
  registeredAt: Date;
  drainEndsAt?: Date;
}

export interface PlaneTargetGroup {
  arn: string;
  protocol: "HTTP" | "TCP";
  port: number;
  healthCheck: HealthCheckSettings;
  algorithm: "round_robin" | "least_outstanding_requests" | "weighted_random";
  stickiness: { enabled: boolean; durationSeconds: number };
  slowStartSeconds: number;
  deregistrationDelaySeconds: number;
  /** NLB: close open connections when draining ends. */
  connectionTermination: boolean;
  loadBalancerArns: string[];
  targets: PlaneTarget[];
}

/** Where the plane reads desired state and writes what it observes. */
export interface PlaneSource {
  read(): PlaneSnapshot;
  /** Calls back after any ELBv2 resource changed; returns an unsubscribe function. */
  subscribe(onChange: () => void): () => void;
  /** Records a health transition (no-op when the target is gone or draining). */
  setHealth(targetGroupArn: string, targetKey: string, health: StoredHealth): void;
  /** Draining finished: the target is no longer registered. */
  removeTarget(targetGroupArn: string, targetKey: string): void;
  /** The load balancer's listeners are up: its State becomes active. */
  markProvisioned(loadBalancerArn: string): void;
}
