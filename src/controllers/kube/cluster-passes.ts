/**
 * One level-based pass per cluster, woken by changes of some kinds and by a resync (for state
 * outside Kubernetes, and timers): what fargate-scheduler, the disruption controller and the node
 * group controller each run. Every pass re-reads what it needs, so a restart carries on.
 */
import type { Clock } from "../../core/clock.js";
import type { Logger } from "../../core/logger.js";
import { type Periodic, periodic } from "../../core/periodic.js";
import type { ObjectStore } from "../../kube/objects.js";
import { type ClusterRef, clusterKey, type ResourceType } from "../../kube/types.js";
import type { Watch } from "../../store/watch.js";
import { WorkQueue } from "../work-queue.js";

export interface ClusterPassesDeps {
  name: string;
  objects: ObjectStore;
  clusters: () => ClusterRef[];
  /** The kinds whose changes wake a cluster's pass. */
  kinds: ResourceType[];
  pass: (cluster: ClusterRef) => void | Promise<void>;
  clock: Clock;
  logger: Logger;
  resyncMs: number;
}

export interface ClusterPasses {
  stop(): Promise<void>;
  /** Resolves when no pass is queued or running (tests). */
  idle(): Promise<void>;
  /** Runs a cluster's pass soon. */
  poke(cluster: ClusterRef): void;
}

export function startClusterPasses(deps: ClusterPassesDeps): ClusterPasses {
  const { objects, logger, clock } = deps;
  const known = new Map<string, { ref: ClusterRef; watch: Watch }>();
  const queue = new WorkQueue(
    async (key) => {
      const c = known.get(key);
      if (c) await deps.pass(c.ref);
      return undefined;
    },
    2,
    (key, err) => logger.warn({ cluster: key, err: (err as Error).message }, `${deps.name} pass failed; retrying`),
    clock,
  );
  const sync = () => {
    const want = new Map(deps.clusters().map((c) => [clusterKey(c), c]));
    for (const [key, ref] of want) {
      if (!known.has(key)) {
        const watch = objects.watch(ref, deps.kinds, { from: objects.head() }, () => queue.add(key));
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
    name: `${deps.name} resync`,
    everyMs: deps.resyncMs,
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
    poke: (cluster) => queue.add(clusterKey(cluster)),
  };
}
