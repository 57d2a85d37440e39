import type { Clock } from "../../core/clock.js";
import type { Scope } from "../../core/ids.js";
import type { Logger } from "../../core/logger.js";
import { type Periodic, periodic } from "../../core/periodic.js";
import type { HostProvisioner, InstanceHostSpec, InstanceHostState } from "../../hosts/provisioner.js";
import { WorkQueue } from "../../controllers/work-queue.js";
import { type Collection, type DocumentStore, RevisionConflict } from "../../store/documents.js";
import { INSTANCE_KIND, type InstanceRecord } from "../../store/schema/ec2.js";
import type { Watch } from "../../store/watch.js";
import { type InstanceStateName, hostStep, stateOf } from "./instance-states.js";
import { instanceTypeSize } from "./instances.js";

const key = (scope: Scope, id: string) => `${scope.account}/${scope.region}/${id}`;
const unkey = (k: string): { scope: Scope; id: string } => {
  const [account, region, id] = k.split("/");
  return { scope: { account, region }, id };
};

/**
 * Converges EC2 instances to their hosts: a pending instance's host boots and it runs, a
 * stopping one's host stops, a shutting-down one's host goes; a running instance whose host died
 * is stopped as EC2 stops an instance whose hardware failed. Level-based, like the task
 * controller: each pass re-reads the record and asks the provisioner; hosts no instance owns
 * are removed.
 */
export class InstanceController {
  private readonly queue: WorkQueue;
  private changes?: Watch;
  private resync?: Periodic;
  /** Until the first sweep is done, a running instance whose host is down is booted again (the machine restarted). */
  private booting = true;

  constructor(
    private readonly d: {
      store: DocumentStore;
      instances: Collection<InstanceRecord>;
      provisioner: HostProvisioner;
      clock: Clock;
      logger: Logger;
      resyncMs?: number;
    },
  ) {
    this.queue = new WorkQueue(
      (k) => this.reconcile(k),
      4,
      (k, err) => d.logger.warn({ instance: k, err: (err as Error).message }, "instance reconcile failed; retrying"),
      d.clock,
    );
  }

  async start() {
    this.changes = this.d.store.watch(
      {
        kinds: [INSTANCE_KIND],
        onError: (err) => this.d.logger.warn({ err: (err as Error).message }, "instance feed"),
      },
      (changes) => {
        for (const c of changes) this.queue.add(key({ account: c.account, region: c.region }, c.id));
      },
    );
    await this.sweep();
    this.booting = false;
    this.resync = periodic(() => this.sweep(), {
      name: "instance resync",
      everyMs: this.d.resyncMs ?? 5000,
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

  idle() {
    return this.queue.idle();
  }

  private async sweep() {
    const owned = new Set<string>();
    for (const { scope, doc } of this.d.instances.listAll()) {
      owned.add(doc.InstanceId);
      if (this.booting)
        await this.reconcile(key(scope, doc.InstanceId)).catch(() => this.queue.add(key(scope, doc.InstanceId)));
      else this.queue.add(key(scope, doc.InstanceId));
    }
    for (const host of await this.d.provisioner.list())
      if (!owned.has(host.instanceId)) {
        this.d.logger.info({ instance: host.instanceId }, "removing an instance host no instance owns");
        await this.d.provisioner.destroy(host.instanceId);
      }
  }

  /** Moves the record to `to` unless someone changed it meanwhile (then the next pass decides). */
  private advance(scope: Scope, from: InstanceRecord, to: InstanceStateName, extra: Partial<InstanceRecord> = {}) {
    const read = this.d.instances.getVersioned(scope, from.InstanceId);
    if (!read || read.doc.State.Name !== from.State.Name) return;
    try {
      this.d.instances.put(
        scope,
        {
          ...read.doc,
          ...extra,
          State: stateOf(to),
          stateChangedAt: this.d.clock.now(),
          version: read.doc.version + 1,
        },
        { expect: read.rev },
      );
      this.d.logger.info({ instance: from.InstanceId, state: to }, "instance state");
    } catch (err) {
      if (!(err instanceof RevisionConflict)) throw err;
    }
  }

  private async reconcile(k: string): Promise<{ requeueAfterMs?: number } | undefined> {
    const { scope, id } = unkey(k);
    const i = this.d.instances.get(scope, id);
    if (!i) {
      await this.d.provisioner.destroy(id);
      return undefined;
    }
    const host: InstanceHostState | undefined = await this.d.provisioner.state(id);
    const step = hostStep(i.State.Name, host, {
      booting: this.booting,
      terminatedForMs: this.d.clock.now().getTime() - i.stateChangedAt.getTime(),
    });
    switch (step.do) {
      case "nothing":
        return undefined;
      case "forget":
        this.d.instances.delete(scope, id);
        return undefined;
      case "start-host":
        try {
          await this.d.provisioner.start(this.spec(scope, i));
        } catch (err) {
          // EC2 ends an instance that cannot launch: terminated, with the reason.
          const message = (err as Error).message;
          this.d.logger.warn({ instance: id, err: message }, "instance host did not start");
          await this.d.provisioner.destroy(id).catch(() => undefined);
          this.advance(scope, i, "terminated", {
            StateReason: { Code: "Server.InternalError", Message: `Server.InternalError: ${message}` },
            StateTransitionReason: `Server.InternalError: ${message}`,
          });
          return undefined;
        }
        if (i.State.Name !== "running") this.advance(scope, i, "running");
        return undefined;
      case "stop-host":
        await this.d.provisioner.stop(id);
        if (step.next) this.advance(scope, i, step.next);
        return undefined;
      case "destroy-host":
        await this.d.provisioner.destroy(id);
        if (step.next) this.advance(scope, i, step.next);
        return undefined;
      case "host-lost":
        this.d.logger.warn({ instance: id }, "an instance's host stopped unexpectedly");
        await this.d.provisioner.stop(id).catch(() => undefined);
        this.advance(scope, i, "stopped", {
          StateReason: {
            Code: "Server.InternalError",
            Message: "Server.InternalError: The instance's host stopped unexpectedly",
          },
          StateTransitionReason: "Server.InternalError",
        });
        return undefined;
    }
  }

  private spec(scope: Scope, i: InstanceRecord): InstanceHostSpec {
    const size = instanceTypeSize(i.InstanceType ?? "") ?? { vcpus: 1, memoryMiB: 1024 };
    return {
      scope,
      instanceId: i.InstanceId,
      instanceType: i.InstanceType ?? "",
      vcpus: size.vcpus,
      memoryMiB: size.memoryMiB,
      privateIpAddress: i.PrivateIpAddress,
      availabilityZone: i.Placement?.AvailabilityZone ?? `${scope.region}a`,
      subnetId: i.SubnetId,
      userData: i.userData ? Buffer.from(i.userData, "base64").toString("utf8") : undefined,
      roleArn: i.roleArn,
      imageId: i.ImageId ?? "",
    };
  }
}
