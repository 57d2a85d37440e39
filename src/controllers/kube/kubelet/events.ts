/** core/v1 Events as the kubelet and the scheduler record them; repeats of one event count up (kube's aggregation). */
import { createHash } from "node:crypto";
import { KubeError } from "../../../kube/errors.js";
import type { ObjectStore } from "../../../kube/objects.js";
import { R } from "../../../kube/resources.js";
import type { ClusterRef, KubeObject } from "../../../kube/types.js";

export interface EventSource {
  component: string;
  host?: string;
}

export function recordEvent(
  objects: ObjectStore,
  cluster: ClusterRef,
  about: KubeObject,
  type: "Normal" | "Warning",
  reason: string,
  message: string,
  source: EventSource,
  now: Date,
) {
  const ns = about.metadata.namespace ?? "default";
  const hash = createHash("sha1")
    .update(`${about.metadata.uid}\0${reason}\0${message}\0${source.component}`)
    .digest("hex")
    .slice(0, 16);
  const name = `${about.metadata.name}.${hash}`;
  const ts = `${now.toISOString().slice(0, 19)}Z`;
  try {
    const bumped = objects.mutate(cluster, R.events, ns, name, (e) => ({
      ...e,
      count: ((e.count as number | undefined) ?? 1) + 1,
      lastTimestamp: ts,
    }));
    if (bumped) return;
    objects.create(cluster, R.events, {
      apiVersion: "v1",
      kind: "Event",
      metadata: { name, namespace: ns },
      involvedObject: {
        kind: about.kind,
        namespace: ns,
        name: about.metadata.name,
        uid: about.metadata.uid,
        apiVersion: about.apiVersion,
        resourceVersion: about.metadata.resourceVersion,
      },
      reason,
      message,
      source,
      firstTimestamp: ts,
      lastTimestamp: ts,
      count: 1,
      type,
      eventTime: null,
      reportingComponent: source.component,
      reportingInstance: source.host ?? "",
    });
  } catch (e) {
    // Events are best effort (a race on the same event, a namespace being deleted).
    if (!(e instanceof KubeError)) throw e;
  }
}
