/**
 * Pure validation and normalization of ELBv2 input, with AWS's error codes, one file per concern
 * in validate/; this module is what the operations import.
 */
export { type ActionContext, forwardedTargetGroups, normalizeActions } from "./validate/actions.js";
export { normalizeConditions } from "./validate/conditions.js";
export { defaultHealthCheck, healthCheckSettings, parseHttpCodeMatcher } from "./validate/health-checks.js";
export { INSTANCE_ID, checkLoadBalancerName, checkTargetGroupName, isIpv4 } from "./validate/names.js";
