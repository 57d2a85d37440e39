import type { ServiceLoadBalancing } from "../../controllers/services/load-balancing.js";
import type { Clock } from "../../core/clock.js";
import type { HostRegistry } from "../../hosts/registry.js";
import type { Operations } from "../../protocol/generated/types/ecs.js";
import type { DocumentStore } from "../../store/documents.js";
import { defineService } from "../define.js";
import type { Provider, ServiceState } from "../../protocol/service.js";
import { type AgentOperationDeps, agentOperations } from "./agent-operations.js";
import { clusterOperations } from "./clusters.js";
import { containerInstanceOperations } from "./container-instances.js";
import { EcsContext } from "./context.js";
import { type ExpressBackends, expressOperations } from "./express/operations.js";
import { serviceOperations } from "./services.js";
import { tagOperations } from "./tags.js";
import { taskDefinitionOperations } from "./task-definitions.js";
import { taskOperations } from "./tasks.js";

/** ECS (awsJson1_1): clusters, task definitions, tasks, tags. The task controller runs what this stores. */
export function ecsService(deps: {
  store: DocumentStore;
  clock: Clock;
  hosts: HostRegistry;
  state?: () => ServiceState;
  loadBalancing?: () => ServiceLoadBalancing | undefined;
  /** ECS Express Mode's view of ELBv2, Application Auto Scaling and Logs (without it, Express Mode is off). */
  express?: ExpressBackends;
  /** Agents' endpoint and their instances' capacity providers. */
  agents?: Partial<AgentOperationDeps>;
}) {
  const ecs = new EcsContext(deps.store, deps.clock, deps.hosts);
  const base: Provider<Operations> = {
    ...clusterOperations(ecs),
    ...taskDefinitionOperations(ecs),
    ...taskOperations(ecs),
    ...containerInstanceOperations(ecs),
    ...agentOperations(ecs, {
      pollEndpoint: deps.agents?.pollEndpoint ?? (() => "http://localhost:4566/"),
      capacityProviderOf: deps.agents?.capacityProviderOf,
    }),
    ...tagOperations(ecs),
    ...serviceOperations(ecs, deps.loadBalancing ?? (() => undefined)),
  };
  const express = expressOperations({ ecs, api: base, backends: deps.express, clock: deps.clock });
  const provider: Provider<Operations> = { ...base, ...express.operations };
  return {
    service: defineService("ecs", provider, { validationCode: "InvalidParameterException", state: deps.state }),
    ecs,
    express,
  };
}
