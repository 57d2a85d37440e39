/** EKS Fargate on Kubernetes: the admission step, fargate-scheduler, and what they share (services/eks wires them). */
export { admitFargatePod, fargateAdmission } from "./admission.js";
export {
  CAPACITY_ANNOTATION,
  FARGATE_PROFILE_ANNOTATION,
  type FargateAction,
  planFargate,
  TOO_BIG,
  unsupportedOnFargate,
} from "./plan.js";
export {
  chooseProfile,
  FARGATE_PROFILE_LABEL,
  FARGATE_SCHEDULER,
  type FargateProfileSource,
  type FargateProfileView,
  type FargateSelector,
  selectorMatches,
  wildcardMatch,
} from "./profiles.js";
export { type FargateScheduler, type FargateSchedulerDeps, startFargateScheduler } from "./scheduler.js";
export { capacityProvisioned, FARGATE_SIZES, type FargateSize, fargateSize, podFargateSize } from "./size.js";
