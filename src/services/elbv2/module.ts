import type { TimerClock } from "../../core/clock.js";
import type { Logger } from "../../core/logger.js";
import { DataPlane } from "../../lb/plane.js";
import type { DocumentStore } from "../../store/documents.js";
import { serviceModule } from "../module.js";
import { elbv2ApiOf } from "./kube.js";
import { elbv2Service } from "./provider.js";

/**
 * ELBv2 as a service module: the API and its data plane (src/lb), where each load balancer
 * listens on its own loopback address. `loadBalancing` is the contract ECS services use;
 * `plane` counts requests for the AWS/ApplicationELB and AWS/NetworkELB metrics.
 */
export function elbv2Module(deps: {
  store: DocumentStore;
  clock: TimerClock;
  logger: Logger;
  publishHost: string;
  /** The address of an EC2 instance's host (agent hosts); the local host's publish address otherwise. */
  instanceAddress?: (instanceId: string) => string | undefined;
}) {
  const elbv2 = elbv2Service({
    store: deps.store,
    clock: deps.clock,
    // The plane below exists before any call can arrive.
    probePort: async (address, port) => plane.probe(address, port),
    settle: async () => plane.reconcile(),
    resolveInstance: (id) => deps.instanceAddress?.(id) ?? deps.publishHost,
  });
  const plane = new DataPlane({ source: elbv2.planeSource, logger: deps.logger, clock: deps.clock });
  return serviceModule({
    name: "elbv2",
    definitions: [elbv2.service],
    iam: { prefixes: { elbv2: "elasticloadbalancing" } },
    loadBalancing: elbv2.loadBalancing,
    /** The API as the Kubernetes load balancer controllers call it (Services of type LoadBalancer, Ingresses). */
    kubeApi: elbv2ApiOf(elbv2.service),
    /** The typed ELBv2 operations (ECS Express Mode creates its load balancers through them). */
    api: elbv2.provider,
    plane,
    start: () => plane.start(),
    stop: () => plane.stop(),
  });
}
