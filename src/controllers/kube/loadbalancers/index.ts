/** Services of type LoadBalancer and Ingresses of class alb on ELBv2: what the composition root wires. */
export type { Elbv2Api } from "./api.js";
export {
  INGRESS_CLASSES,
  INGRESSES,
  type LoadBalancerControllerDeps,
  type LoadBalancerControllers,
  startLoadBalancerControllers,
} from "./controller.js";
