/**
 * fargate-scheduler: the applier of plan.ts. One level-based pass per cluster, woken by the
 * cluster's pod and node changes and by a resync (profiles change outside Kubernetes); every pass
 * re-reads the pods, nodes and profiles, so a restart carries on from what the store holds (a
 * node made for a pod is found again by its pod's uid).
 */
import type { Clock } from "../../../core/clock.js";
import type { Logger } from "../../../core/logger.js";
import { type Periodic, periodic } from "../../../core/periodic.js";
import type { HostRegistry } from "../../../hosts/registry.js";
import { KubeError } from "../../../kube/errors.js";
import type { ObjectStore } from "../../../kube/objects.js";
import { R } from "../../../kube/resources.js";
import { type ClusterRef, clusterKey } from "../../../kube/types.js";
import type { Watch } from "../../../store/watch.js";
import { WorkQueue } from "../../work-queue.js";
import { recordEvent } from "../kubelet/events.js";
import { rfc3339 } from "../kubelet/plan.js";
import type { Pod, PodCondition } from "../kubelet/types.js";
import { CAPACITY_ANNOTATION, COMPUTE_TYPE_LABEL, type FargateAction, planFargate } from "./plan.js";
import { FARGATE_SCHEDULER, type FargateProfileSource } from "./profiles.js";
import { capacityProvisioned } from "./size.js";

export interface FargateSchedulerDeps {
  objects: ObjectStore;
  /** The clusters whose Kubernetes side runs. */
  clusters: () => ClusterRef[];
  profiles: FargateProfileSource;
  /** The local host runs the Fargate nodes (its id is their berth.dev/hosted-by). */
  hosts: HostRegistry;
  clock: Clock;
  logger: Logger;
  /** How often every cluster is looked at again without a change (profiles are not Kubernetes objects). */
  resyncMs?: number;
}

export interface FargateScheduler {
  stop(): Promise<void>;
  /** Resolves when no pass is queued or running (tests). */
  idle(): Promise<void>;
}

const SOURCE = { component: FARGATE_SCHEDULER };

export function startFargateScheduler(deps: FargateSchedulerDeps): FargateScheduler {
  const { objects, logger, clock } = deps;
  const known = new Map<string, { ref: ClusterRef; watch: Watch }>();
  const queue = new WorkQueue(
    async (key) => {
      const c = known.get(key);
      if (c) pass(c.ref);
      return undefined;
    },
    2,
    (key, err) => logger.warn({ cluster: key, err: (err as Error).message }, "fargate-scheduler pass failed; retrying"),
    clock,
  );

  const pass = (cluster: ClusterRef) => {
    const profiles = deps.profiles.profiles(cluster);
    const pods = objects.list(cluster, R.pods).items as Pod[];
    const nodes = objects.list(cluster, R.nodes).items;
    // Nothing of Fargate's here (no profile, pod or node): nothing to do.
    if (
      !profiles.length &&
      !pods.some((p) => p.spec?.schedulerName === FARGATE_SCHEDULER) &&
      !nodes.some((n) => n.metadata.labels?.[COMPUTE_TYPE_LABEL] === "fargate")
    )
      return;
    const host = deps.hosts.list()[0];
    if (!host) return;
    const actions = planFargate({
      pods,
      nodes,
      profiles,
      region: cluster.scope.region,
      hostId: host.id,
      arch: host.platform.arch === "arm64" ? "arm64" : "amd64",
    });
    for (const a of actions) {
      try {
        apply(cluster, a);
      } catch (e) {
        if (e instanceof KubeError && (e.reason === "NotFound" || e.reason === "Conflict")) continue;
        throw e;
      }
    }
  };

  const apply = (cluster: ClusterRef, a: FargateAction) => {
    const now = clock.now();
    switch (a.kind) {
      case "deletePod": {
        const { namespace, name, uid } = a.pod.metadata;
        objects.delete(cluster, R.pods, namespace, name ?? "", { uid });
        logger.info({ cluster: cluster.name, pod: `${namespace}/${name}` }, "Fargate profile gone: pod deleted");
        return;
      }
      case "deleteNode":
        objects.delete(cluster, R.nodes, undefined, a.node);
        logger.info({ cluster: cluster.name, node: a.node }, "Fargate node removed");
        return;
      case "unschedulable": {
        let changed = false;
        objects.mutate(
          cluster,
          R.pods,
          a.pod.metadata.namespace,
          a.pod.metadata.name ?? "",
          (p) => {
            if (p.metadata.uid !== a.pod.metadata.uid) return undefined;
            const next = withScheduled(
              p as Pod,
              { type: "PodScheduled", status: "False", reason: a.reason, message: a.message },
              now,
            );
            changed = next !== undefined;
            return next;
          },
          { subresource: "status" },
        );
        if (changed) recordEvent(objects, cluster, a.pod, "Warning", "FailedScheduling", a.message, SOURCE, now);
        return;
      }
      case "bind": {
        if (a.create) {
          try {
            objects.create(cluster, R.nodes, a.create);
            logger.info({ cluster: cluster.name, node: a.node }, "Fargate node registered");
          } catch (e) {
            if (!(e instanceof KubeError && e.reason === "AlreadyExists")) throw e;
          }
        }
        const { namespace, name, uid } = a.pod.metadata;
        const bound = objects.mutate(cluster, R.pods, namespace, name ?? "", (p) => {
          const pod = p as Pod;
          if (pod.spec.nodeName || pod.metadata.uid !== uid) return undefined;
          return {
            ...pod,
            metadata: {
              ...pod.metadata,
              annotations: { ...(pod.metadata.annotations ?? {}), [CAPACITY_ANNOTATION]: capacityProvisioned(a.size) },
            },
            spec: { ...pod.spec, nodeName: a.node },
          };
        }) as Pod | undefined;
        if (!bound || bound.metadata.uid !== uid || bound.spec.nodeName !== a.node) return;
        objects.mutate(
          cluster,
          R.pods,
          namespace,
          name ?? "",
          (p) => withScheduled(p as Pod, { type: "PodScheduled", status: "True" }, now),
          { subresource: "status" },
        );
        recordEvent(
          objects,
          cluster,
          bound,
          "Normal",
          "Scheduled",
          `Successfully assigned ${namespace}/${name} to ${a.node}`,
          SOURCE,
          now,
        );
        return;
      }
    }
  };

  const sync = () => {
    const want = new Map(deps.clusters().map((c) => [clusterKey(c), c]));
    for (const [key, ref] of want) {
      if (!known.has(key)) {
        const watch = objects.watch(ref, [R.pods, R.nodes], { from: objects.head() }, () => queue.add(key));
        known.set(key, { ref, watch });
      }
      queue.add(key);
    }
    for (const [key, c] of known)
      if (!want.has(key)) {
        c.watch.stop();
        known.delete(key);
      }
  };

  const loop: Periodic = periodic(sync, {
    name: "fargate-scheduler resync",
    everyMs: deps.resyncMs ?? 1000,
    logger,
    clock,
    runAtStart: true,
  });
  void loop.start();
  return {
    async stop() {
      loop.stop();
      for (const c of known.values()) c.watch.stop();
      known.clear();
      queue.close();
      await Promise.race([queue.idle(), new Promise((r) => setTimeout(r, 2000))]);
    },
    idle: () => queue.idle(),
  };
}

/** The pod with its PodScheduled condition set (undefined when it already says so). */
function withScheduled(pod: Pod, cond: Omit<PodCondition, "lastTransitionTime">, now: Date): Pod | undefined {
  const conditions = pod.status?.conditions ?? [];
  const old = conditions.find((c) => c.type === "PodScheduled");
  if (old && old.status === cond.status && old.reason === cond.reason && old.message === cond.message) return undefined;
  const next: PodCondition = {
    ...cond,
    lastProbeTime: null,
    lastTransitionTime: old && old.status === cond.status ? old.lastTransitionTime : rfc3339(now),
  };
  return {
    ...pod,
    status: {
      phase: "Pending",
      ...pod.status,
      conditions: [...conditions.filter((c) => c.type !== "PodScheduled"), next],
    },
  };
}
