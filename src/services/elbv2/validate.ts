/**
 * Pure validation and normalization of ELBv2 input, with AWS's error codes, one file per concern
 * in validate/; this module is what the operations import.
 */
export { type ActionContext, forwardedTargetGroups, normalizeActions } from "./validate/actions.js";
export { normalizeConditions } from "./validate/conditions.js";
export { parseHttpCodeMatcher } from "../../lb/http-codes.js";
export { defaultHealthCheck, healthCheckSettings } from "./validate/health-checks.js";
export { checkResourceArn } from "./validate/arns.js";
export { INSTANCE_ID, checkLoadBalancerName, checkTargetGroupName, checkVpcId, isIpv4 } from "./validate/names.js";
