/**
 * What the load balancer controllers need of ELBv2: its API, called as the AWS Load Balancer
 * Controller calls it (one operation at a time, in the cluster's account and region). The ELBv2
 * service module implements it over its provider (services/elbv2/kube.ts); errors are the
 * provider's ServiceErrors (their `code` is AWS's).
 */
import type { Scope } from "../../../core/ids.js";
import type { Operations } from "../../../protocol/generated/types/elbv2.js";

export interface Elbv2Api {
  send<K extends keyof Operations>(
    scope: Scope,
    operation: K,
    input: Operations[K]["input"],
  ): Promise<Operations[K]["output"]>;
}
