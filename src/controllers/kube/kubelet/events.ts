/** core/v1 Events as the kubelet and the scheduler record them: the controllers' recorder, with their source. */
import type { ObjectStore } from "../../../kube/objects.js";
import type { ClusterRef, KubeObject } from "../../../kube/types.js";
import { eventRecorder } from "../events.js";

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
  eventRecorder(objects, { component: source.component, host: source.host, clock: { now: () => now } }).event(
    cluster,
    about,
    type,
    reason,
    message,
  );
}
