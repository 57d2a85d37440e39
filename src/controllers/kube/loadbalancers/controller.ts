/**
 * The AWS Load Balancer Controller of every cluster, in Berth's process: Services of type
 * LoadBalancer become NLBs, Ingresses of class `alb` become ALBs, on Berth's real ELBv2 (the
 * same data plane as ECS). Level-based: one keyed queue (a Service, an Ingress group, a
 * cluster's sweep), fed by a watch of Services, EndpointSlices, Nodes, Ingresses and
 * IngressClasses and a periodic resync; each pass re-reads the objects, builds the desired stack
 * (pure), and the deployer converges ELBv2 to it, finding its resources by their tags — so a
 * restart carries on where it stopped. Finalizers hold a Service or Ingress until its load
 * balancer and target groups are gone.
 */
import type { Clock, TimerClock } from "../../../core/clock.js";
import type { Logger } from "../../../core/logger.js";
import { periodic } from "../../../core/periodic.js";
import type { ObjectStore } from "../../../kube/objects.js";
import { builtin, R } from "../../../kube/resources.js";
import { type ClusterRef, clusterKey, type KubeObject, type WatchEvent } from "../../../kube/types.js";
import type { Watch } from "../../../store/watch.js";
import { WorkQueue } from "../../work-queue.js";
import { eventRecorder } from "../events.js";
import type { Elbv2Api } from "./api.js";
import { deleteStack, deployStack, readInventory } from "./deploy.js";
import {
  ALB_CONTROLLER,
  buildIngressStack,
  finalizerOf,
  groupIdOf,
  groupsHeldBy,
  isAlbIngress,
} from "./ingress-model.js";
import { buildServiceStack, isManagedService, SERVICE_FINALIZER } from "./service-model.js";
import { CLUSTER_TAG, INGRESS_STACK_TAG, SERVICE_STACK_TAG } from "./stack.js";
import { SERVICE_NAME_LABEL } from "./targets.js";

export const INGRESSES = builtin("networking.k8s.io", "ingresses");
export const INGRESS_CLASSES = builtin("networking.k8s.io", "ingressclasses");

export interface LoadBalancerControllerDeps {
  objects: ObjectStore;
  clusters: () => ClusterRef[];
  elbv2: Elbv2Api;
  clock: Clock | TimerClock;
  logger: Logger;
  /** Every object looked at again (and stray load balancers swept) this often; default 30 s. */
  resyncMs?: number;
}

export interface LoadBalancerControllers {
  stop(): Promise<void>;
  /** Resolves when nothing is queued or running (tests). */
  idle(): Promise<void>;
  /** Queues every object of every cluster now. */
  resyncNow(): Promise<void>;
}

type Key =
  | { cluster: ClusterRef; kind: "svc"; namespace: string; name: string }
  | { cluster: ClusterRef; kind: "ing"; group: string }
  | { cluster: ClusterRef; kind: "sweep" };

const SEP = "\u0001";

export function startLoadBalancerControllers(deps: LoadBalancerControllerDeps): LoadBalancerControllers {
  const { objects, logger, elbv2 } = deps;
  const watched = new Map<string, { ref: ClusterRef; watch: Watch }>();
  const classBootstrapped = new Set<string>();
  const serviceEvents = eventRecorder(objects, { component: "service-controller", clock: deps.clock, logger });
  const ingressEvents = eventRecorder(objects, { component: "ingress", clock: deps.clock, logger });

  const svcKey = (c: ClusterRef, ns: string, name: string) => [clusterKey(c), "svc", ns, name].join(SEP);
  const ingKey = (c: ClusterRef, group: string) => [clusterKey(c), "ing", group].join(SEP);
  const sweepKey = (c: ClusterRef) => [clusterKey(c), "sweep"].join(SEP);
  const parse = (k: string): Key | undefined => {
    const [ck, kind, a = "", b = ""] = k.split(SEP);
    const cluster = watched.get(ck ?? "")?.ref;
    if (!cluster) return undefined;
    if (kind === "svc") return { cluster, kind, namespace: a, name: b };
    if (kind === "ing") return { cluster, kind, group: a };
    return { cluster, kind: "sweep" };
  };

  const queue = new WorkQueue(
    async (k) => {
      const key = parse(k);
      if (!key) return undefined;
      if (key.kind === "svc") await syncService(key.cluster, key.namespace, key.name);
      else if (key.kind === "ing") await syncIngressGroup(key.cluster, key.group);
      else await sweep(key.cluster);
      return undefined;
    },
    4,
    (k, err) =>
      logger.warn(
        { key: k.replaceAll(SEP, "/"), err: (err as Error).message },
        "load balancer reconcile failed; retrying",
      ),
    deps.clock,
  );

  // --- Services ------------------------------------------------------------------------------

  const syncService = async (c: ClusterRef, ns: string, name: string) => {
    const svc = objects.get(c, R.services, ns, name);
    if (!svc) return;
    const identity = { [CLUSTER_TAG]: c.name, [SERVICE_STACK_TAG]: `${ns}/${name}` };
    const hasFinalizer = svc.metadata.finalizers?.includes(SERVICE_FINALIZER) ?? false;
    if (!isManagedService(svc) || svc.metadata.deletionTimestamp) {
      if (!hasFinalizer) return;
      const deleted = await deleteStack(elbv2, c.scope, identity, () =>
        serviceEvents.event(c, svc, "Normal", "DeletingLoadBalancer", "Deleting load balancer"),
      );
      if (deleted) serviceEvents.event(c, svc, "Normal", "DeletedLoadBalancer", "Deleted load balancer");
      writeServiceStatus(c, svc, undefined);
      removeFinalizer(c, R.services, svc, SERVICE_FINALIZER);
      return;
    }
    const model = buildServiceStack({
      clusterName: c.name,
      service: svc,
      slices: objects.list(c, R.endpointslices, ns).items,
      nodes: objects.list(c, R.nodes).items,
    });
    if ("error" in model) {
      serviceEvents.event(c, svc, "Warning", "SyncLoadBalancerFailed", ensureFailed(model.error));
      return;
    }
    addFinalizer(c, R.services, svc, SERVICE_FINALIZER);
    let changed = false;
    let result: Awaited<ReturnType<typeof deployStack>>;
    try {
      result = await deployStack(elbv2, c.scope, model.stack, () => {
        changed = true;
        serviceEvents.event(c, svc, "Normal", "EnsuringLoadBalancer", "Ensuring load balancer");
      });
    } catch (e) {
      serviceEvents.event(c, svc, "Warning", "SyncLoadBalancerFailed", ensureFailed((e as Error).message));
      throw e;
    }
    if (changed) serviceEvents.event(c, svc, "Normal", "EnsuredLoadBalancer", "Ensured load balancer");
    writeServiceStatus(c, svc, result.dnsName);
  };

  const ensureFailed = (msg: string) => `Error syncing load balancer: failed to ensure load balancer: ${msg}`;

  const writeServiceStatus = (c: ClusterRef, svc: KubeObject, hostname: string | undefined) =>
    writeLoadBalancerStatus(c, R.services, svc, hostname);

  const writeLoadBalancerStatus = (
    c: ClusterRef,
    type: typeof R.services,
    o: KubeObject,
    hostname: string | undefined,
  ) => {
    const want = hostname ? { ingress: [{ hostname }] } : {};
    objects.mutate(
      c,
      type,
      o.metadata.namespace,
      o.metadata.name ?? "",
      (cur) => {
        if (cur.metadata.uid !== o.metadata.uid) return undefined;
        const status = (cur.status ?? {}) as { loadBalancer?: unknown };
        if (JSON.stringify(status.loadBalancer ?? {}) === JSON.stringify(want)) return undefined;
        return { ...cur, status: { ...status, loadBalancer: want } };
      },
      { subresource: "status" },
    );
  };

  const addFinalizer = (c: ClusterRef, type: typeof R.services, o: KubeObject, finalizer: string) => {
    if (o.metadata.finalizers?.includes(finalizer)) return;
    objects.mutate(c, type, o.metadata.namespace, o.metadata.name ?? "", (cur) => {
      if (cur.metadata.uid !== o.metadata.uid || cur.metadata.finalizers?.includes(finalizer)) return undefined;
      cur.metadata.finalizers = [...(cur.metadata.finalizers ?? []), finalizer];
      return cur;
    });
  };

  const removeFinalizer = (c: ClusterRef, type: typeof R.services, o: KubeObject, finalizer: string) => {
    objects.mutate(c, type, o.metadata.namespace, o.metadata.name ?? "", (cur) => {
      if (cur.metadata.uid !== o.metadata.uid || !cur.metadata.finalizers?.includes(finalizer)) return undefined;
      const kept = cur.metadata.finalizers.filter((f) => f !== finalizer);
      if (kept.length) cur.metadata.finalizers = kept;
      else delete cur.metadata.finalizers;
      return cur;
    });
  };

  // --- Ingress groups ------------------------------------------------------------------------

  const syncIngressGroup = async (c: ClusterRef, groupId: string) => {
    const all = objects.list(c, INGRESSES).items;
    const classes = objects.list(c, INGRESS_CLASSES).items;
    const members = all.filter(
      (i) => !i.metadata.deletionTimestamp && isAlbIngress(i, classes) && groupIdOf(i) === groupId,
    );
    const memberUids = new Set(members.map((m) => m.metadata.uid));
    const leaving = all.filter((i) => groupsHeldBy(i).includes(groupId) && !memberUids.has(i.metadata.uid));
    const finalizer = finalizerOf(groupId);
    const identity = { [CLUSTER_TAG]: c.name, [INGRESS_STACK_TAG]: groupId };
    const release = () => {
      for (const i of leaving) {
        writeLoadBalancerStatus(c, INGRESSES, i, undefined);
        removeFinalizer(c, INGRESSES, i, finalizer);
      }
    };
    if (!members.length) {
      await deleteStack(elbv2, c.scope, identity);
      release();
      return;
    }
    const model = buildIngressStack({
      clusterName: c.name,
      groupId,
      members,
      services: objects.list(c, R.services).items,
      slices: objects.list(c, R.endpointslices).items,
      nodes: objects.list(c, R.nodes).items,
    });
    if ("error" in model) {
      for (const m of members)
        ingressEvents.event(c, m, "Warning", "FailedBuildModel", `Failed build model due to ${model.error}`);
      return;
    }
    for (const m of members) addFinalizer(c, INGRESSES, m, finalizer);
    let changed = false;
    let result: Awaited<ReturnType<typeof deployStack>>;
    try {
      result = await deployStack(elbv2, c.scope, model.stack, () => {
        changed = true;
      });
    } catch (e) {
      for (const m of members)
        ingressEvents.event(c, m, "Warning", "FailedDeployModel", `Failed deploy model due to ${(e as Error).message}`);
      throw e;
    }
    for (const m of members) {
      const had = ((m.status as { loadBalancer?: { ingress?: { hostname?: string }[] } } | undefined)?.loadBalancer
        ?.ingress ?? [])[0]?.hostname;
      writeLoadBalancerStatus(c, INGRESSES, m, result.dnsName);
      if (changed || had !== result.dnsName)
        ingressEvents.event(c, m, "Normal", "SuccessfullyReconciled", "Successfully reconciled");
    }
    release();
  };

  // --- strays: stacks whose Service or Ingress group is gone ---------------------------------

  const sweep = async (c: ClusterRef) => {
    ensureIngressClass(c);
    const inv = await readInventory(elbv2, c.scope, c.name);
    const stacks = new Set<string>();
    for (const x of [...inv.loadBalancers, ...inv.targetGroups]) {
      const s = x.tags[SERVICE_STACK_TAG];
      const g = x.tags[INGRESS_STACK_TAG];
      if (s !== undefined) stacks.add(`svc${SEP}${s}`);
      if (g !== undefined) stacks.add(`ing${SEP}${g}`);
    }
    const ingresses = objects.list(c, INGRESSES).items;
    const classes = objects.list(c, INGRESS_CLASSES).items;
    for (const s of stacks) {
      const [kind, id = ""] = s.split(SEP);
      if (kind === "svc") {
        const [ns = "", name = ""] = id.split("/");
        const svc = objects.get(c, R.services, ns, name);
        if (svc && (isManagedService(svc) || svc.metadata.finalizers?.includes(SERVICE_FINALIZER))) continue;
        await deleteStack(elbv2, c.scope, { [CLUSTER_TAG]: c.name, [SERVICE_STACK_TAG]: id }, undefined, inv);
      } else {
        const used = ingresses.some(
          (i) => (isAlbIngress(i, classes) && groupIdOf(i) === id) || groupsHeldBy(i).includes(id),
        );
        if (used) continue;
        await deleteStack(elbv2, c.scope, { [CLUSTER_TAG]: c.name, [INGRESS_STACK_TAG]: id }, undefined, inv);
      }
    }
  };

  /** The `alb` IngressClass the controller's Helm chart installs, once per cluster (a user may delete it). */
  const ensureIngressClass = (c: ClusterRef) => {
    const k = clusterKey(c);
    if (classBootstrapped.has(k)) return;
    classBootstrapped.add(k);
    const classes = objects.list(c, INGRESS_CLASSES).items;
    if (classes.some((x) => (x.spec as { controller?: string } | undefined)?.controller === ALB_CONTROLLER)) return;
    try {
      objects.create(c, INGRESS_CLASSES, {
        apiVersion: "networking.k8s.io/v1",
        kind: "IngressClass",
        metadata: { name: "alb", labels: { "app.kubernetes.io/name": "aws-load-balancer-controller" } },
        spec: { controller: ALB_CONTROLLER },
      });
    } catch {
      // created meanwhile, or a class named alb of another controller: leave it
    }
  };

  // --- what wakes what -----------------------------------------------------------------------

  const groupsUsing = (c: ClusterRef, ns: string, svcName: string): string[] => {
    const out = new Set<string>();
    for (const i of objects.list(c, INGRESSES, ns).items) {
      const spec = (i.spec ?? {}) as {
        defaultBackend?: { service?: { name?: string } };
        rules?: { http?: { paths?: { backend?: { service?: { name?: string } } }[] } }[];
      };
      const names = [
        spec.defaultBackend?.service?.name,
        ...(spec.rules ?? []).flatMap((r) => (r.http?.paths ?? []).map((p) => p.backend?.service?.name)),
      ];
      if (names.includes(svcName)) out.add(groupIdOf(i));
    }
    return [...out];
  };

  const enqueueAll = (c: ClusterRef) => {
    for (const s of objects.list(c, R.services).items)
      if (isManagedService(s) || s.metadata.finalizers?.includes(SERVICE_FINALIZER))
        queue.add(svcKey(c, s.metadata.namespace ?? "default", s.metadata.name ?? ""));
    const groups = new Set<string>();
    for (const i of objects.list(c, INGRESSES).items) {
      groups.add(groupIdOf(i));
      for (const g of groupsHeldBy(i)) groups.add(g);
    }
    for (const g of groups) queue.add(ingKey(c, g));
  };

  const onEvents = (c: ClusterRef, events: WatchEvent[]) => {
    let everything = false;
    for (const { object: o } of events) {
      const ns = o.metadata.namespace ?? "default";
      switch (o.kind) {
        case "Service":
          queue.add(svcKey(c, ns, o.metadata.name ?? ""));
          for (const g of groupsUsing(c, ns, o.metadata.name ?? "")) queue.add(ingKey(c, g));
          break;
        case "EndpointSlice": {
          const svc = o.metadata.labels?.[SERVICE_NAME_LABEL];
          if (!svc) break;
          const s = objects.get(c, R.services, ns, svc);
          if (s && isManagedService(s)) queue.add(svcKey(c, ns, svc));
          for (const g of groupsUsing(c, ns, svc)) queue.add(ingKey(c, g));
          break;
        }
        case "Ingress":
          queue.add(ingKey(c, groupIdOf(o)));
          for (const g of groupsHeldBy(o)) queue.add(ingKey(c, g));
          break;
        case "Node":
        case "IngressClass":
          everything = true;
          break;
      }
    }
    if (everything) enqueueAll(c);
  };

  /** New clusters are watched within seconds; every cluster is looked at again at each resync. */
  const discover = (all: boolean) => {
    const want = new Map(deps.clusters().map((c) => [clusterKey(c), c] as const));
    for (const [k, entry] of watched)
      if (!want.has(k)) {
        entry.watch.stop();
        watched.delete(k);
      }
    for (const [k, ref] of want) {
      if (!watched.has(k)) {
        const watch = objects.watch(
          ref,
          [R.services, R.endpointslices, R.nodes, INGRESSES, INGRESS_CLASSES],
          { from: objects.head() },
          (events) => onEvents(ref, events),
        );
        watched.set(k, { ref, watch });
      } else if (!all) continue;
      enqueueAll(ref);
      queue.add(sweepKey(ref));
    }
  };

  const discovery = periodic(() => discover(false), {
    name: "load balancer controllers cluster discovery",
    everyMs: 3000,
    logger,
    clock: deps.clock,
  });
  const resync = periodic(() => discover(true), {
    name: "load balancer controllers resync",
    everyMs: deps.resyncMs ?? 30_000,
    logger,
    clock: deps.clock,
    runAtStart: true,
  });
  void resync.start();
  void discovery.start();

  return {
    async stop() {
      resync.stop();
      discovery.stop();
      for (const { watch } of watched.values()) watch.stop();
      watched.clear();
      queue.close();
      await queue.idle();
    },
    idle: () => queue.idle(),
    async resyncNow() {
      await resync.runNow();
    },
  };
}
