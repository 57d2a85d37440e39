import type { Clock } from "../../core/clock.js";
import type { Scope } from "../../core/ids.js";
import type { Logger } from "../../core/logger.js";
import type { Failure, RunTaskRequest } from "../../protocol/generated/types/ecs.js";
import { RevisionConflict } from "../../store/documents.js";
import {
  type ClusterRecord,
  type EcsCollections,
  SERVICE_KIND,
  type ServiceRecord,
  TASK_KIND,
  type TaskDefinitionRecord,
  type TaskRecord,
  serviceLaunchType,
  stopping,
} from "../../store/schema/ecs.js";
import type { Watch } from "../../store/watch.js";
import { TARGET_KIND, type TargetRecord } from "../../store/schema/elbv2.js";
import { serviceInFlight } from "./in-flight.js";
import type { ServiceLoadBalancing } from "./load-balancing.js";
import { WorkQueue } from "../work-queue.js";
import { type TargetState, planService } from "./plan.js";
import { type Periodic, periodic } from "../../core/periodic.js";

/** What the scheduler needs of ECS beyond its collections (the ECS context provides it). */
export interface SchedulerEcs extends EcsCollections {
  activeCluster(scope: Scope, ref: string | undefined): ClusterRecord;
  taskDefinition(scope: Scope, ref: string): TaskDefinitionRecord;
}

/** Creates tasks as RunTask does (the ECS module's launchTasks): the created tasks and AWS's placement failures. */
export type LaunchTasks = (
  scope: Scope,
  cluster: ClusterRecord,
  def: TaskDefinitionRecord,
  input: RunTaskRequest,
  count: number,
) => { tasks: TaskRecord[]; failures: Failure[] };

export interface ServiceControllerDeps {
  ecs: SchedulerEcs;
  launchTasks: LaunchTasks;
  clock: Clock;
  logger: Logger;
  loadBalancing: () => ServiceLoadBalancing | undefined;
  /** A RUNNING task without load balancer or health check counts as healthy after this long (AWS: 40 s). */
  healthyAfterMs: number;
  resyncIntervalMs: number;
}

const keyOf = (scope: Scope, id: string) => `${scope.account}|${scope.region}|${id}`;
const parseKey = (key: string) => {
  const [account, region, id] = key.split("|");
  return { scope: { account, region }, id };
};

/**
 * The service scheduler: keeps each service's desired count of tasks running through rolling
 * deployments. Each pass re-reads the service, its tasks and its targets' health, asks the pure
 * planner, writes the service's new state (only if nobody changed it meanwhile) and acts.
 */
export class ServiceController {
  private readonly queue: WorkQueue;
  private resync?: Periodic;
  private changes?: Watch;

  constructor(private readonly d: ServiceControllerDeps) {
    this.queue = new WorkQueue(
      (key) => this.reconcile(key),
      4,
      (key, err) => d.logger.warn({ service: key, err: (err as Error).message }, "service reconcile failed; retrying"),
      d.clock,
    );
  }

  start() {
    this.changes = this.d.ecs.store.watch(
      {
        kinds: [SERVICE_KIND, TASK_KIND, TARGET_KIND],
        onError: (err) => this.d.logger.warn({ err: (err as Error).message }, "service change feed"),
      },
      (changes) => {
        for (const c of changes) {
          if (c.kind === SERVICE_KIND) this.queue.add(keyOf(c, c.id));
          else if (c.kind === TARGET_KIND) this.addServicesOf((c.doc as TargetRecord | undefined)?.targetGroupArn);
          else {
            const t = c.doc as TaskRecord;
            if (t.group?.startsWith("service:"))
              this.queue.add(keyOf(c, `${t.clusterArn.split("/").pop()}/${t.group.slice("service:".length)}`));
          }
        }
      },
    );
    const resync = () => {
      for (const { scope, doc } of this.d.ecs.services.listAll())
        if (doc.status !== "INACTIVE")
          this.queue.add(keyOf(scope, `${doc.clusterArn.split("/").pop()}/${doc.serviceName}`));
    };
    resync();
    this.resync = periodic(resync, {
      name: "service resync",
      everyMs: this.d.resyncIntervalMs,
      logger: this.d.logger,
      clock: this.d.clock,
    });
    void this.resync.start();
  }

  stop() {
    this.resync?.stop();
    this.changes?.stop();
    this.queue.close();
  }

  private async reconcile(key: string) {
    const { scope, id } = parseKey(key);
    const { ecs } = this.d;
    const read = ecs.services.getVersioned(scope, id);
    if (!read || read.doc.status === "INACTIVE") return undefined;
    const service = read.doc;
    const tasks = ecs.tasks
      .children(scope, service.clusterArn)
      .filter((t) => t.group === `service:${service.serviceName}`);
    const elb = this.d.loadBalancing();
    const targets = new Map<string, TargetState[]>();
    for (const lb of service.loadBalancers ?? [])
      if (lb.targetGroupArn) targets.set(lb.targetGroupArn, elb?.health(lb.targetGroupArn) ?? []);
    const now = this.d.clock.now();
    const plan = planService({ service, tasks, targets, now, healthyAfterMs: this.d.healthyAfterMs });

    if (plan.next) {
      try {
        ecs.services.put(scope, plan.next, { expect: read.rev });
      } catch (err) {
        if (err instanceof RevisionConflict) return { requeueAfterMs: 0 }; // changed by the API meanwhile
        throw err;
      }
    }
    for (const r of plan.register) elb?.register(r.targetGroupArn, [{ id: r.id, port: r.port }]);
    for (const r of plan.deregister) elb?.deregister(r.targetGroupArn, [{ id: r.id, port: r.port }]);
    if (plan.stop.length)
      ecs.store.transaction(() => {
        for (const s of plan.stop) {
          const t = ecs.tasks.get(scope, s.taskArn);
          if (t) ecs.tasks.put(scope, stopping(t, "ServiceSchedulerInitiated", s.reason, now));
        }
      });
    const placed = plan.start.length ? this.launch(scope, id, plan.next ?? service, plan.start, now) : true;
    // Tasks that found no room wait for some: retry in a few seconds, not in a tight loop.
    if (!placed) return { requeueAfterMs: UNPLACED_RETRY_MS };
    const busy = plan.start.length + plan.stop.length + plan.register.length + plan.deregister.length > 0;
    if (busy) return { requeueAfterMs: 0 };
    // Idle services wait for a change (feed) or the resync; only work in flight is looked at again soon.
    return serviceInFlight(plan.next ?? service, tasks, now) ? { requeueAfterMs: IN_FLIGHT_RECHECK_MS } : undefined;
  }

  /** Queues the services whose load balancers use a target group (its targets' health changed). */
  private addServicesOf(targetGroupArn: string | undefined) {
    if (!targetGroupArn) return;
    for (const { scope, doc } of this.d.ecs.services.listAll())
      if (doc.status !== "INACTIVE" && doc.loadBalancers?.some((lb) => lb.targetGroupArn === targetGroupArn))
        this.queue.add(keyOf(scope, `${doc.clusterArn.split("/").pop()}/${doc.serviceName}`));
  }

  /** Starts the planned tasks; false when some could not be placed (recorded as a service event). */
  private launch(
    scope: Scope,
    id: string,
    service: ServiceRecord,
    starts: { deploymentId: string; count: number }[],
    now: Date,
  ): boolean {
    const { ecs } = this.d;
    const cluster = ecs.activeCluster(scope, service.clusterArn);
    const created: TaskRecord[] = [];
    const unplaced: string[] = [];
    for (const s of starts) {
      const deployment = service.deployments.find((d) => d.id === s.deploymentId);
      if (!deployment) continue;
      const def = ecs.taskDefinition(scope, deployment.taskDefinition);
      const input = {
        taskDefinition: def.taskDefinitionArn,
        networkConfiguration: deployment.networkConfiguration,
        group: `service:${service.serviceName}`,
        startedBy: deployment.id,
        // Services on capacity providers launch through their strategy (each task gets a provider).
        ...(service.capacityProviderStrategy?.length
          ? { capacityProviderStrategy: service.capacityProviderStrategy }
          : { launchType: serviceLaunchType(service) }),
        placementConstraints: service.placementConstraints,
        placementStrategy: service.placementStrategy,
        tags: service.propagateTags === "SERVICE" ? service.tags : undefined,
      };
      const out = this.d.launchTasks(scope, cluster, def, input, s.count);
      created.push(...out.tasks);
      for (const f of out.failures) unplaced.push(unplacedMessage(service.serviceName, f));
    }
    this.d.logger.info({ service: service.serviceArn, started: created.length }, "service started tasks");
    if (unplaced.length === 0) return true;
    ecs.store.transaction(() => {
      const current = ecs.services.get(scope, id);
      const message = unplaced[0];
      if (!current || current.events[0]?.message === message) return;
      const event = { id: `${now.getTime()}-unplaced-${message.length}`, createdAt: now, message };
      ecs.services.put(scope, { ...current, events: [event, ...current.events].slice(0, 100) });
    });
    return false;
  }
}

const UNPLACED_RETRY_MS = 5000;
/** How soon a service with work in flight (a rollout, tasks starting or draining) is looked at again. */
const IN_FLIGHT_RECHECK_MS = 1000;

const RESOURCE_WORDS: Record<string, string> = {
  "RESOURCE:CPU": "insufficient CPU units available",
  "RESOURCE:MEMORY": "insufficient memory available",
  "RESOURCE:PORTS": "the required ports already in use",
  DistinctInstance: "a task of this placement already (distinctInstance)",
};

/** AWS's service event when the scheduler cannot place a task. */
export function unplacedMessage(serviceName: string, f: { arn?: string; reason?: string }): string {
  if (!f.arn?.includes(":container-instance/"))
    return `(service ${serviceName}) was unable to place a task because no container instance met all of its requirements. Reason: ${f.reason ?? "No Container Instances were found in your cluster."}`;
  const instance = f.arn.split("/").pop();
  return `(service ${serviceName}) was unable to place a task because no container instance met all of its requirements. The closest matching (container-instance ${instance}) has ${RESOURCE_WORDS[f.reason ?? ""] ?? f.reason}. For more information, see the Troubleshooting section of the Amazon ECS Developer Guide.`;
}
