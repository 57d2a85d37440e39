import type { Clock } from "../../core/clock.js";
import type { Scope } from "../../core/ids.js";
import type { Logger } from "../../core/logger.js";
import type { EcsContext } from "../../services/ecs/context.js";
import { SERVICE_KIND, type ServiceRecord, TASK_KIND, type TaskRecord } from "../../services/ecs/records.js";
import type { ServiceLoadBalancing } from "../../services/ecs/services.js";
import { checkLaunch, newTask, stopping } from "../../services/ecs/tasks.js";
import type { Change } from "../../store/documents.js";
import { WorkQueue } from "../work-queue.js";
import { type TargetState, planService } from "./plan.js";

export interface ServiceControllerDeps {
  ecs: EcsContext;
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
  private timer?: NodeJS.Timeout;

  constructor(private readonly d: ServiceControllerDeps) {
    this.queue = new WorkQueue(
      (key) => this.reconcile(key),
      4,
      (key, err) => d.logger.warn({ service: key, err: (err as Error).message }, "service reconcile failed; retrying"),
    );
  }

  start() {
    this.d.ecs.store.changes.on("change", (c: Change) => {
      if (c.kind === SERVICE_KIND) this.queue.add(keyOf(c, c.id));
      else if (c.kind === TASK_KIND) {
        const t = this.d.ecs.tasks.get(c, c.id);
        if (t?.group?.startsWith("service:"))
          this.queue.add(keyOf(c, `${t.clusterArn.split("/").pop()}/${t.group.slice("service:".length)}`));
      }
    });
    const resync = () => {
      for (const { scope, doc } of this.d.ecs.services.listAll())
        if (doc.status !== "INACTIVE")
          this.queue.add(keyOf(scope, `${doc.clusterArn.split("/").pop()}/${doc.serviceName}`));
    };
    resync();
    this.timer = setInterval(resync, this.d.resyncIntervalMs);
    this.timer.unref();
  }

  stop() {
    clearInterval(this.timer);
    this.queue.close();
  }

  private async reconcile(key: string) {
    const { scope, id } = parseKey(key);
    const { ecs } = this.d;
    const service = ecs.services.get(scope, id);
    if (!service || service.status === "INACTIVE") return undefined;
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
      const saved = ecs.store.transaction(() => {
        const current = ecs.services.get(scope, id);
        if (JSON.stringify(current) !== JSON.stringify(service)) return false; // changed by the API meanwhile
        ecs.services.put(scope, plan.next!);
        return true;
      });
      if (!saved) return { requeueAfterMs: 0 };
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
    if (plan.start.length) this.launch(scope, plan.next ?? service, plan.start, now);
    const busy = plan.start.length + plan.stop.length + plan.register.length + plan.deregister.length > 0;
    return { requeueAfterMs: busy ? 0 : 1000 };
  }

  private launch(scope: Scope, service: ServiceRecord, starts: { deploymentId: string; count: number }[], now: Date) {
    const { ecs } = this.d;
    const cluster = ecs.activeCluster(scope, service.clusterArn);
    const created: TaskRecord[] = [];
    for (const s of starts) {
      const deployment = service.deployments.find((d) => d.id === s.deploymentId);
      if (!deployment) continue;
      const def = ecs.taskDefinition(scope, deployment.taskDefinition);
      const input = {
        taskDefinition: def.taskDefinitionArn,
        networkConfiguration: deployment.networkConfiguration,
        group: `service:${service.serviceName}`,
        startedBy: deployment.id,
        launchType: "FARGATE" as const,
        tags: service.propagateTags === "SERVICE" ? service.tags : undefined,
      };
      const spec = checkLaunch(def, input);
      ecs.store.transaction(() => {
        for (let i = 0; i < s.count; i++)
          created.push(ecs.tasks.put(scope, newTask(scope, cluster, def, spec, input, now)));
      });
    }
    this.d.logger.info({ service: service.serviceArn, started: created.length }, "service started tasks");
  }
}
