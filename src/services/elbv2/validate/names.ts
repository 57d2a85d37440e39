import { parseIpv4 } from "../../../lb/rules.js";
import { invalid } from "./invalid.js";

/** Names of load balancers and target groups, and the ids targets are registered by. */

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
  if (name.startsWith("internal-")) throw invalid(`Target group name '${name}' cannot begin with 'internal-'`);
}

/** A VPC id as EC2 forms them (vpc- and 8 or 17 hex digits). */
export function checkVpcId(vpcId: string) {
  if (!/^vpc-([0-9a-f]{8}|[0-9a-f]{17})$/.test(vpcId))
    throw invalid(`The VPC ID '${vpcId.slice(0, 64)}${vpcId.length > 64 ? "..." : ""}' is not valid`);
}

export const isIpv4 = (text: string) => parseIpv4(text) !== undefined;
export const INSTANCE_ID = /^i-[0-9a-f]{8,17}$/;
