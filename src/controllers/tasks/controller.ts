import { type ImageSources, pullFromSources } from "../../runtime/image-pull.js";
import type { Clock } from "../../core/clock.js";
import { type Scope, parseArn } from "../../core/ids.js";
import type { Logger } from "../../core/logger.js";
import type { ContainerRuntime, LogFollower, ObservedContainer, RegistryAuth } from "../../runtime/runtime.js";
import { type Collection, type DocumentStore, RevisionConflict, type Versioned } from "../../store/documents.js";
import { TASK_KIND, type TaskRecord } from "../../store/schema/ecs.js";
import type { Watch } from "../../store/watch.js";
import type { PreparedContainer, TaskIdentityHooks } from "../../task-endpoint/task-identity.js";
import type { LogsBackend } from "./logs-backend.js";
import { WorkQueue } from "../work-queue.js";
import { LABEL } from "../../runtime/labels.js";
import { ownerGone } from "../../runtime/ownership.js";
import { PAUSE, type Placement, containerSpec, pauseSpec, taskId, taskVolumeName } from "./container-spec.js";
import { EFS_UNAVAILABLE, type EfsMounts, efsVolumeRequests } from "./efs-mounts.js";
import { type EfsMount, EfsMountError, type EfsVolumes } from "./efs-volumes.js";
import { type Action, type ObservedTask, failed, planTask } from "./plan.js";
import { type Periodic, periodic } from "../../core/periodic.js";
import type { HostRegistry } from "../../hosts/registry.js";

/** AWS keeps stopped tasks describable for at least an hour; Berth keeps them three. */
const STOPPED_RETENTION_MS = 3 * 60 * 60 * 1000;

/** How often a task whose agent host is away is looked at again. */
const AGENT_WAIT_MS = 5000;

/** A start-up failure that stops the task with TaskFailedToStart and this reason. */
class StartFailure extends Error {}

type TaskVolume = NonNullable<TaskRecord["spec"]["volumes"]>[number];

/** A volume Berth creates for the task alone (no host path, no named Docker volume, no EFS). */
const taskScoped = (v: TaskVolume) => !v.host?.sourcePath && !v.dockerVolumeConfiguration && !v.efsVolumeConfiguration;

interface LogCursor {
  id: string;
  ms: number;
}

export interface TaskControllerDeps {
  store: DocumentStore;
  tasks: Collection<TaskRecord>;
  runtime: ContainerRuntime;
  logs: LogsBackend;
  clock: Clock;
  logger: Logger;
  storeId: string;
  dataDir: string;
  publishHost: string;
  network: string;
  resyncIntervalMs: number;
  /** Credentials for images in Berth's own registry (ECR), minted for the image's account. */
  registryAuth?: (image: string) => RegistryAuth | undefined;
  /** The mirror list: where an image is pulled from, in order (default: the image itself). */
  imageSources?: ImageSources;
  /** Execution-role checks, secrets and the credential/metadata endpoint env (src/task-endpoint). */
  identity?: TaskIdentityHooks;
  /** EFS volumes (services/efs); without it a task mounting one fails to start. */
  efs?: EfsVolumes;
  /** The hosts besides the local one (agent hosts); tasks placed on them run on their runtimes. */
  hosts?: HostRegistry;
  /** The host a task was placed on (its container instance's host); undefined for the local host. */
  hostOf?: (task: TaskRecord) => string | undefined;
}

/** Where one task's containers run: a host's runtime and how containers are placed on it. */
interface TaskHost {
  id: string;
  runtime: ContainerRuntime;
  placement: Placement;
  /** The pause image on that host, built (or found) once per host. */
  pauseImage?: Promise<string>;
  unwatch?: () => void;
}

/** The local Docker host's key among the task hosts. */
const LOCAL = "local";

const scopeOf = (taskArn: string): Scope => {
  const p = parseArn(taskArn)!;
  return { account: p.account, region: p.region };
};

/**
 * Converges Docker to the stored tasks. Level-based: every pass re-reads the task and the
 * containers carrying its label, asks the pure planner what to do, and does it. Survives
 * restarts because all it needs is in the store and in Docker's labels.
 */
export class TaskController {
  private readonly queue: WorkQueue;
  private readonly followers = new Map<string, LogFollower>();
  /** The host each log follower reads from (they end with their host's channel). */
  private readonly followerHost = new Map<string, string>();
  private readonly cursors: Collection<LogCursor>;
  private readonly placement: Placement;
  /** The local host and every connected agent host. */
  private readonly hosts = new Map<string, TaskHost>();
  private unfollowHosts?: () => void;
  private changes?: Watch;
  private resync?: Periodic;
  /** Each starting task's prepared EFS volumes, made once for all its containers; dropped at cleanup. */
  private readonly efsMounts = new Map<string, Promise<EfsMounts>>();

  constructor(private readonly d: TaskControllerDeps) {
    this.queue = new WorkQueue(
      (key) => this.reconcile(key),
      32,
      (key, err) => d.logger.warn({ task: key, err: (err as Error).message }, "task reconcile failed; retrying"),
      d.clock,
    );
    this.cursors = d.store.collection<LogCursor>("berth.logCursor", { id: (c) => c.id });
    this.placement = {
      instanceLabels: { [LABEL.managed]: "true", [LABEL.store]: d.storeId, [LABEL.dataDir]: d.dataDir },
      publishHost: d.publishHost,
      network: d.network,
    };
  }

  async start() {
    await this.d.runtime.ping();
    await this.d.runtime.ensureNetwork(this.d.network);
    const local: TaskHost = { id: LOCAL, runtime: this.d.runtime, placement: this.placement };
    local.pauseImage = this.d.runtime.ensurePauseImage();
    await local.pauseImage;
    this.hosts.set(LOCAL, local);
    // From the head: the sweep below queues every live task, the change log what follows.
    this.changes = this.d.store.watch(
      {
        kinds: [TASK_KIND],
        onError: (err) => this.d.logger.warn({ err: (err as Error).message }, "task change feed"),
      },
      (changes) => {
        for (const c of changes) this.queue.add(c.id);
      },
    );
    local.unwatch = this.watchHost(local);
    this.followHosts();
    await this.sweep();
    this.resync = periodic(() => this.sweep(), {
      name: "task resync",
      everyMs: this.d.resyncIntervalMs,
      logger: this.d.logger,
      clock: this.d.clock,
    });
    void this.resync.start();
  }

  async stop() {
    this.resync?.stop();
    this.changes?.stop();
    this.unfollowHosts?.();
    for (const h of this.hosts.values()) h.unwatch?.();
    this.queue.close();
    for (const f of this.followers.values()) f.stop();
  }

  /** For tests and benchmarks: resolves when no reconcile is queued or running. */
  idle() {
    return this.queue.idle();
  }

  /**
   * Queues every live task and every Berth container, removes containers that belong to no
   * Berth, and forgets STOPPED tasks once they are past STOPPED_RETENTION_MS.
   */
  private async sweep() {
    const forgetBefore = this.d.clock.now().getTime() - STOPPED_RETENTION_MS;
    for (const { scope, doc } of this.d.tasks.listAll()) {
      if (doc.lastStatus !== "STOPPED") this.queue.add(doc.taskArn);
      else if (doc.stoppedAt && doc.stoppedAt.getTime() < forgetBefore) this.d.tasks.delete(scope, doc.taskArn);
    }
    for (const host of this.hosts.values()) {
      try {
        await this.sweepHost(host);
      } catch (err) {
        if (host.id === LOCAL) throw err;
        this.d.logger.warn({ host: host.id, err: (err as Error).message }, "task sweep of an agent host failed");
      }
    }
  }

  private async sweepHost(host: TaskHost) {
    const all = await host.runtime.list({ [LABEL.managed]: "true" });
    for (const c of all) {
      // Only ECS task containers (they all carry a task ARN): pods and others are their controllers' to sweep.
      const arn = c.labels[LABEL.taskArn];
      if (!arn) continue;
      if (c.labels[LABEL.store] === this.d.storeId) {
        this.queue.add(arn);
        continue;
      }
      const dir = c.labels[LABEL.dataDir];
      const abandoned = dir && (dir === this.d.dataDir || ownerGone(dir));
      if (abandoned) {
        this.d.logger.info({ container: c.name, dataDir: dir }, "removing a container no Berth owns any more");
        await host.runtime.removeContainer(c.id);
      }
    }
  }

  private observe(list: ObservedContainer[]): ObservedTask {
    const obs: ObservedTask = { containers: new Map() };
    for (const c of list) {
      const name = c.labels[LABEL.container];
      if (name === PAUSE) obs.pause = c;
      else if (name) obs.containers.set(name, c);
    }
    return obs;
  }

  /** Writes the next task state unless someone (StopTask) changed it since we read it (compare-and-put). */
  private save(scope: Scope, read: Versioned<TaskRecord>, next: TaskRecord): TaskRecord | undefined {
    try {
      return this.d.tasks.put(scope, { ...next, version: (read.doc.version ?? 1) + 1 }, { expect: read.rev });
    } catch (err) {
      if (err instanceof RevisionConflict) return undefined;
      throw err;
    }
  }

  private async reconcile(arn: string): Promise<{ requeueAfterMs?: number } | undefined> {
    const scope = scopeOf(arn);
    const labels = { [LABEL.store]: this.d.storeId, [LABEL.taskArn]: arn };
    const read = this.d.tasks.getVersioned(scope, arn);
    if (!read) {
      // Forgotten: whatever host still has its containers removes them.
      for (const host of this.hosts.values()) {
        const list = await host.runtime.list(labels).catch(() => []);
        await Promise.all(list.map((c) => host.runtime.removeContainer(c.id)));
      }
      return undefined;
    }
    const task = read.doc;
    const host = this.hostFor(task);
    if (!host) {
      // Its agent host is not connected: nothing to observe or do until it is (or the task is stopped for it).
      return task.lastStatus === "STOPPED" ? undefined : { requeueAfterMs: AGENT_WAIT_MS };
    }
    const list = await host.runtime.list(labels);
    const obs = this.observe(list);
    const plan = planTask(task, obs, this.d.clock.now());
    let current = task;
    if (plan.next) {
      const saved = this.save(scope, read, plan.next);
      if (!saved) return { requeueAfterMs: 0 };
      current = saved;
      if (saved.lastStatus !== task.lastStatus)
        this.d.logger.info(
          { task: arn, lastStatus: saved.lastStatus, stoppedReason: saved.stoppedReason },
          "task status",
        );
    }
    if (current.lastStatus === "STOPPED") this.efsMounts.delete(arn);
    this.followLogs(host, current, scope, obs);
    if (plan.actions.length === 0) return plan.next ? { requeueAfterMs: 0 } : undefined;
    try {
      await this.apply(host, current, scope, obs, plan.actions);
    } catch (err) {
      if (!(err instanceof StartFailure)) throw err;
      const reread = this.d.tasks.getVersioned(scope, arn);
      if (reread) this.save(scope, reread, failed(reread.doc, this.d.clock.now(), "TaskFailedToStart", err.message));
    }
    return { requeueAfterMs: 0 };
  }

  private async apply(host: TaskHost, task: TaskRecord, scope: Scope, obs: ObservedTask, actions: Action[]) {
    const rt = host.runtime;
    const stops: Promise<void>[] = [];
    const runs: Promise<void>[] = [];
    // EFS first: a volume that cannot be mounted stops the task before anything is created.
    const creates = actions.some((a) => a.type === "createPause" || a.type === "runContainer");
    const efs = creates ? await this.prepareEfs(task, scope) : new Map();
    for (const a of actions) {
      switch (a.type) {
        case "createPause": {
          const image = await this.pauseImageOf(host);
          const id = obs.pause?.id ?? (await rt.createContainer(pauseSpec(task, scope, host.placement, image)));
          await rt.startContainer(id);
          break;
        }
        case "runContainer":
          runs.push(this.runContainer(host, task, scope, obs, a.name, efs));
          break;
        case "startContainer":
          runs.push(
            rt.startContainer(a.id).catch((e) => {
              throw new StartFailure(`CannotStartContainerError: ${a.name}: ${(e as Error).message}`);
            }),
          );
          break;
        case "stopContainer":
          stops.push(rt.stopContainer(a.id, a.timeoutSec));
          break;
        case "cleanup":
          await this.cleanup(host, task, obs);
          break;
      }
    }
    const settled = await Promise.allSettled([...runs, ...stops]);
    const failure = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
    if (failure) throw failure.reason;
  }

  /** Prepares every EFS volume the task's containers mount (once per task); StartFailure when one cannot be. */
  private prepareEfs(task: TaskRecord, scope: Scope): Promise<EfsMounts> {
    const requests = efsVolumeRequests(task);
    if (requests.length === 0) return Promise.resolve(new Map());
    let prepared = this.efsMounts.get(task.taskArn);
    if (!prepared) {
      const efs = this.d.efs;
      prepared = (async () => {
        if (!efs) throw new StartFailure(EFS_UNAVAILABLE);
        const mounts = new Map<string, EfsMount>();
        for (const { volume, request } of requests) {
          try {
            mounts.set(volume, await efs.prepare(scope, request));
          } catch (e) {
            if (e instanceof EfsMountError) throw new StartFailure(e.reason);
            throw e;
          }
        }
        return mounts;
      })();
      this.efsMounts.set(task.taskArn, prepared);
      // A failure is not kept: the task stops (StartFailure) or the pass is retried (anything else).
      prepared.catch(() => this.efsMounts.delete(task.taskArn));
    }
    return prepared;
  }

  private awslogs(task: TaskRecord, scope: Scope, name: string) {
    const def = task.spec.containers.find((c) => c.name === name);
    const cfg = def?.logConfiguration;
    if (cfg?.logDriver !== "awslogs") return undefined;
    const o = cfg.options ?? {};
    const group = o["awslogs-group"];
    const prefix = o["awslogs-stream-prefix"];
    const stream = prefix ? `${prefix}/${name}/${taskId(task.taskArn)}` : `${name}/${taskId(task.taskArn)}`;
    return {
      scope: { account: scope.account, region: o["awslogs-region"] ?? scope.region },
      group,
      stream,
      create: o["awslogs-create-group"] === "true",
    };
  }

  private async runContainer(
    host: TaskHost,
    task: TaskRecord,
    scope: Scope,
    obs: ObservedTask,
    name: string,
    efs: EfsMounts,
  ) {
    const rt = host.runtime;
    const def = task.spec.containers.find((c) => c.name === name)!;
    const image = def.image!;
    let prepared: PreparedContainer | undefined;
    if (this.d.identity) {
      try {
        prepared = await this.d.identity.prepareContainer(task, scope, name);
      } catch (e) {
        throw new StartFailure((e as Error).message);
      }
    }
    if (!(await rt.hasImage(image))) {
      try {
        const sources = prepared?.registryAuth
          ? [{ ref: image, auth: prepared.registryAuth }]
          : (this.d.imageSources?.(image, scope) ?? [{ ref: image, auth: this.d.registryAuth?.(image) }]);
        await pullFromSources(rt, image, sources).catch((e) => this.copyFromLocal(host, image, e));
      } catch (e) {
        throw new StartFailure(
          `CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to resolve ref ${image}: ${(e as Error).message}`,
        );
      }
    }
    const logs = this.awslogs(task, scope, name);
    if (logs) {
      if (!logs.group)
        throw new StartFailure(`ResourceInitializationError: container '${name}': awslogs-group is required.`);
      try {
        this.d.logs.ensureGroup(logs.scope, logs.group, logs.create);
        this.d.logs.ensureStream(logs.scope, logs.group, logs.stream);
      } catch (e) {
        throw new StartFailure(
          `ResourceInitializationError: failed to validate logger args: ${(e as Error).message} (log group '${logs.group}'; set awslogs-create-group to "true" to create it)`,
        );
      }
    }
    for (const m of def.mountPoints ?? []) {
      const v = task.spec.volumes?.find((x) => x.name === m.sourceVolume);
      if (v && taskScoped(v)) await rt.ensureVolume(taskVolumeName(task, v.name!), host.placement.instanceLabels);
    }
    let id: string;
    try {
      id = await rt.createContainer(containerSpec(task, def, scope, host.placement, obs.pause?.id, prepared, efs));
    } catch (e) {
      throw new StartFailure(`CannotCreateContainerError: ${name}: ${(e as Error).message}`);
    }
    try {
      await rt.startContainer(id);
    } catch (e) {
      throw new StartFailure(`CannotStartContainerError: ${name}: ${(e as Error).message}`);
    }
  }

  private followLogs(host: TaskHost, task: TaskRecord, scope: Scope, obs: ObservedTask) {
    for (const [name, o] of obs.containers) {
      if (!o.startedAt || this.followers.has(o.id)) continue;
      const logs = this.awslogs(task, scope, name);
      if (!logs?.group) continue;
      const since = this.cursors.get(scope, o.id)?.ms ?? 0;
      const follower = host.runtime.followLogs(o.id, since, (lines) => {
        try {
          this.d.logs.append(
            logs.scope,
            logs.group,
            logs.stream,
            lines.map((l) => ({ timestamp: l.timestamp, message: l.message })),
          );
          this.cursors.put(scope, { id: o.id, ms: lines[lines.length - 1].timestamp });
        } catch (e) {
          this.d.logger.warn({ task: task.taskArn, container: name, err: (e as Error).message }, "dropping log lines");
        }
      });
      this.followers.set(o.id, follower);
      this.followerHost.set(o.id, host.id);
    }
  }

  private async cleanup(host: TaskHost, task: TaskRecord, obs: ObservedTask) {
    const rt = host.runtime;
    const scope = scopeOf(task.taskArn);
    const containers = [...obs.containers.values()];
    // Let log followers deliver the last lines before the containers disappear.
    await Promise.all(
      containers.map(async (c) => {
        const f = this.followers.get(c.id);
        if (!f) return;
        await Promise.race([f.done, new Promise((r) => setTimeout(r, 3000))]);
        f.stop();
        this.followers.delete(c.id);
        this.followerHost.delete(c.id);
        this.cursors.delete(scope, c.id);
      }),
    );
    await Promise.all(containers.map((c) => rt.removeContainer(c.id)));
    if (obs.pause) await rt.removeContainer(obs.pause.id);
    for (const v of task.spec.volumes ?? []) if (taskScoped(v)) await rt.removeVolume(taskVolumeName(task, v.name!));
    this.efsMounts.delete(task.taskArn);
  }

  /**
   * An image no registry has but the local Docker Engine does (built there, as tests and
   * `docker build` users have it) is copied to an agent host, so a task runs the same wherever it
   * is placed; otherwise the pull's failure stands.
   */
  private async copyFromLocal(host: TaskHost, image: string, pullFailure: unknown): Promise<void> {
    const local = this.hosts.get(LOCAL)?.runtime;
    if (host.id === LOCAL || !local || !(await local.hasImage(image).catch(() => false))) throw pullFailure;
    this.d.logger.info(
      { host: host.id, image },
      "copying an image the registries do not have from the local Docker host",
    );
    await host.runtime.importImage(await local.exportImage(image));
  }

  /** The host a task runs on: the local one, or its agent host while that is connected. */
  private hostFor(task: TaskRecord): TaskHost | undefined {
    const id = this.d.hostOf?.(task);
    return this.hosts.get(id ?? LOCAL);
  }

  private pauseImageOf(host: TaskHost): Promise<string> {
    if (!host.pauseImage) {
      const made = (async () => {
        await host.runtime.ensureNetwork(this.d.network);
        return host.runtime.ensurePauseImage();
      })();
      host.pauseImage = made;
      made.catch(() => {
        if (host.pauseImage === made) host.pauseImage = undefined;
      });
    }
    return host.pauseImage;
  }

  /** Queues a task whenever one of its containers changes on this host. */
  private watchHost(host: TaskHost): () => void {
    return host.runtime.watch({ [LABEL.store]: this.d.storeId }, (e) => {
      const arn = e.labels[LABEL.taskArn];
      if (arn) this.queue.add(arn);
    });
  }

  /** Agent hosts join and leave the registry as their channels connect and close. */
  private followHosts() {
    const registry = this.d.hosts;
    if (!registry) return;
    const join = (h: { id: string; runtime: ContainerRuntime; publishHost?: string }) => {
      if (h.id === LOCAL) return;
      this.hosts.get(h.id)?.unwatch?.();
      const host: TaskHost = {
        id: h.id,
        runtime: h.runtime,
        placement: { ...this.placement, publishHost: h.publishHost ?? this.placement.publishHost },
      };
      host.unwatch = this.watchHost(host);
      this.hosts.set(h.id, host);
      // Its tasks were waiting for it (or ran on while it was away): look at them all again.
      void this.sweepHost(host).catch((err) =>
        this.d.logger.warn({ host: h.id, err: (err as Error).message }, "task sweep of an agent host failed"),
      );
      for (const { doc } of this.d.tasks.listAll())
        if (doc.lastStatus !== "STOPPED" && this.d.hostOf?.(doc) === h.id) this.queue.add(doc.taskArn);
    };
    for (const h of registry.list()) join(h);
    this.unfollowHosts = registry.onChange((change) => {
      if (change.type === "added") join(change.host);
      else if (change.host.id !== LOCAL) {
        const gone = this.hosts.get(change.host.id);
        if (gone?.runtime === change.host.runtime) {
          gone.unwatch?.();
          this.hosts.delete(change.host.id);
          for (const [id, f] of this.followers)
            if (this.followerHost.get(id) === gone.id) {
              f.stop();
              this.followers.delete(id);
              this.followerHost.delete(id);
            }
        }
      }
    });
  }
}
