import type {
  Action,
  AvailabilityZone,
  IpAddressType,
  LoadBalancerSchemeEnum,
  RuleCondition,
  Tag,
  TargetHealthReasonEnum,
} from "../../protocol/generated/types/elbv2.js";

/** Resource kinds in the document store. */
export const LOAD_BALANCER_KIND = "elbv2.loadBalancer";
export const LISTENER_KIND = "elbv2.listener";
export const RULE_KIND = "elbv2.rule";
export const TARGET_GROUP_KIND = "elbv2.targetGroup";
/** One registered (or draining) target; its store id is `<target group ARN>|<id>|<port>`. */
export const TARGET_KIND = "elbv2.target";

export type LoadBalancerType = "application" | "network";

export interface LoadBalancerRecord {
  arn: string;
  name: string;
  type: LoadBalancerType;
  scheme: LoadBalancerSchemeEnum;
  ipAddressType: IpAddressType;
  createdTime: Date;
  vpcId: string;
  availabilityZones: AvailabilityZone[];
  securityGroups: string[];
  /** The loopback address this load balancer's listeners bind (its DNSName). */
  address: string;
  attributes: Record<string, string>;
  tags: Tag[];
  /** Observed: set by the data plane once it has reconciled this load balancer (State active). */
  provisionedAt?: Date;
}

export interface ListenerRecord {
  arn: string;
  loadBalancerArn: string;
  port: number;
  protocol: "HTTP" | "TCP";
  defaultActions: Action[];
  /** The ARN DescribeRules reports for the listener's default rule. */
  defaultRuleArn: string;
  tags: Tag[];
  defaultRuleTags?: Tag[];
}

export interface RuleRecord {
  arn: string;
  listenerArn: string;
  loadBalancerArn: string;
  priority: number;
  conditions: RuleCondition[];
  actions: Action[];
  tags: Tag[];
}

export interface HealthCheckSettings {
  enabled: boolean;
  protocol: "HTTP" | "HTTPS" | "TCP";
  /** "traffic-port" or a port number as text. */
  port: string;
  path?: string;
  intervalSeconds: number;
  timeoutSeconds: number;
  healthyThresholdCount: number;
  unhealthyThresholdCount: number;
  /** HttpCode matcher for HTTP(S) checks. */
  matcher?: string;
}

export interface TargetGroupRecord {
  arn: string;
  name: string;
  protocol: "HTTP" | "TCP";
  protocolVersion?: string;
  port: number;
  vpcId: string;
  targetType: "ip" | "instance";
  ipAddressType: "ipv4";
  healthCheck: HealthCheckSettings;
  attributes: Record<string, string>;
  tags: Tag[];
}

/** Health as last observed by the data plane's checks (draining and unused are derived). */
export interface StoredHealth {
  state: "initial" | "healthy" | "unhealthy";
  reason?: TargetHealthReasonEnum;
  description?: string;
}

export interface TargetRecord {
  targetGroupArn: string;
  id: string;
  port: number;
  availabilityZone?: string;
  registeredAt: Date;
  health: StoredHealth;
  /** Set by DeregisterTargets: the target drains until drainEndsAt, then its record is removed. */
  drainStartedAt?: Date;
  drainEndsAt?: Date;
}

export const targetKey = (targetGroupArn: string, id: string, port: number) => `${targetGroupArn}|${id}|${port}`;

export const REGISTERING: StoredHealth = {
  state: "initial",
  reason: "Elb.RegistrationInProgress",
  description: "Target registration is in progress",
};
