import { createHash } from "node:crypto";
import type { Clock } from "../../core/clock.js";
import type { Logger } from "../../core/logger.js";
import type { ObjectStore } from "../../kube/objects.js";
import { R } from "../../kube/resources.js";
import type { ClusterRef, KubeObject } from "../../kube/types.js";
import { rfc3339 } from "./common.js";

export type EventType = "Normal" | "Warning";

/**
 * Records core/v1 Events about objects, as client-go's event recorder does: one Event per
 * (object, type, reason, message, source); a repeat bumps its count and lastTimestamp. Shared by
 * the controllers, the scheduler and the kubelet (each with its own source component).
 */
export interface EventRecorder {
  event(cluster: ClusterRef, involved: KubeObject, type: EventType, reason: string, message: string): void;
}

export interface EventRecorderOptions {
  /** source.component / reportingComponent: "deployment-controller", "default-scheduler", "kubelet". */
  component: string;
  /** source.host (the kubelet's node name). */
  host?: string;
  clock: Clock;
  logger?: Pick<Logger, "debug">;
}

export function eventRecorder(objects: ObjectStore, opts: EventRecorderOptions): EventRecorder {
  return {
    event(cluster, involved, type, reason, message) {
      const at = rfc3339(opts.clock.now().getTime());
      const namespace = involved.metadata.namespace ?? "default";
      const ref = {
        kind: involved.kind,
        namespace: involved.metadata.namespace,
        name: involved.metadata.name,
        uid: involved.metadata.uid,
        apiVersion: involved.apiVersion,
        resourceVersion: involved.metadata.resourceVersion,
      };
      // One name per (object, type, reason, message, source): a repeat finds its Event, after a restart too.
      const hash = createHash("sha1")
        .update([ref.uid, ref.kind, ref.name, type, reason, message, opts.component, opts.host ?? ""].join("\u0000"))
        .digest("hex")
        .slice(0, 16);
      const name = `${involved.metadata.name ?? "unknown"}.${hash}`;
      try {
        const bumped = objects.mutate(cluster, R.events, namespace, name, (e) => ({
          ...e,
          count: ((e.count as number | undefined) ?? 1) + 1,
          lastTimestamp: at,
        }));
        if (bumped) return;
        const ev: KubeObject = {
          apiVersion: "v1",
          kind: "Event",
          metadata: { name, namespace },
          involvedObject: stripUndefined(ref),
          reason,
          message,
          type,
          source: stripUndefined({ component: opts.component, host: opts.host }),
          firstTimestamp: at,
          lastTimestamp: at,
          count: 1,
          eventTime: null,
          reportingComponent: opts.component,
          reportingInstance: opts.host ?? "",
        };
        objects.create(cluster, R.events, ev);
      } catch (err) {
        // Events are best effort: a lost one never fails the caller (as client-go drops them).
        opts.logger?.debug({ err: (err as Error).message, reason }, "event not recorded");
      }
    },
  };
}

function stripUndefined<T extends Record<string, unknown>>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}
