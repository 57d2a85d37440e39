/** pods/log and pods/exec on the kubelet side: a pod container's output and processes, through the runtime. */
import type { Clock, TimerClock } from "../../../core/clock.js";
import type { ExecSession, PodExec, PodLogOptions, PodLogs } from "../../../kube/contracts.js";
import { kubeErrors } from "../../../kube/errors.js";
import type { ObjectStore } from "../../../kube/objects.js";
import { R } from "../../../kube/resources.js";
import type { ClusterRef } from "../../../kube/types.js";
import { KUBE_LABEL as L, LABEL } from "../../../runtime/labels.js";
import { type ContainerRuntime, isUp, type ObservedContainer } from "../../../runtime/runtime.js";
import type { Pod } from "./types.js";

export interface StreamDeps {
  objects: ObjectStore;
  runtime: ContainerRuntime;
  clock: Clock | TimerClock;
  dataDir: string;
}

const clusterKey = (c: ClusterRef) => `${c.scope.account}/${c.scope.region}/${c.name}`;

/** The container a request means: the one named, the pod's only one, or its default-container annotation. */
export function chooseContainer(pod: Pod, requested: string | undefined): string {
  const name = pod.metadata.name ?? "";
  const apps = pod.spec.containers.map((c) => c.name);
  const inits = (pod.spec.initContainers ?? []).map((c) => c.name);
  if (requested) {
    if (!apps.includes(requested) && !inits.includes(requested))
      throw kubeErrors.badRequest(`container ${requested} is not valid for pod ${name}`);
    return requested;
  }
  const annotated = pod.metadata.annotations?.["kubectl.kubernetes.io/default-container"];
  if (annotated && apps.includes(annotated)) return annotated;
  if (apps.length === 1) return apps[0];
  throw kubeErrors.badRequest(
    `a container name must be specified for pod ${name}, choose one of: [${apps.join(" ")}]${inits.length ? ` or one of the init containers: [${inits.join(" ")}]` : ""}`,
  );
}

export function kubeletStreams(d: StreamDeps): { logs: PodLogs; exec: PodExec } {
  const find = async (cluster: ClusterRef, namespace: string, podName: string, container: string | undefined) => {
    const pod = d.objects.get(cluster, R.pods, namespace, podName) as Pod | undefined;
    if (!pod) throw kubeErrors.notFound("", "pods", podName);
    const name = chooseContainer(pod, container);
    const list = await d.runtime.list({
      [L.kind]: "pod",
      [L.cluster]: clusterKey(cluster),
      [L.namespace]: namespace,
      [L.pod]: podName,
      [L.container]: name,
    });
    const instances = list
      .filter((c: ObservedContainer) => c.labels[L.uid] === pod.metadata.uid && c.labels[LABEL.dataDir] === d.dataDir)
      .sort((a, b) => Number(b.labels[L.attempt] ?? 0) - Number(a.labels[L.attempt] ?? 0));
    return { pod, name, instances };
  };

  const logs: PodLogs = {
    async *logs(cluster, namespace, podName, opts: PodLogOptions, signal) {
      const { pod, name, instances } = await find(cluster, namespace, podName, opts.container);
      const target = opts.previous ? instances[1] : instances[0];
      if (!target) {
        if (opts.previous)
          throw kubeErrors.badRequest(`previous terminated container "${name}" in pod "${podName}" not found`);
        const statuses = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])];
        const reason = statuses.find((s) => s.name === name)?.state.waiting?.reason ?? "ContainerCreating";
        throw kubeErrors.badRequest(`container "${name}" in pod "${podName}" is waiting to start: ${reason}`);
      }
      const now = d.clock.now().getTime();
      const stream = await d.runtime.readLogs(
        target.id,
        {
          follow: (opts.follow ?? false) && !opts.previous,
          tail: opts.tailLines,
          sinceSec: opts.sinceSeconds !== undefined ? now / 1000 - opts.sinceSeconds : undefined,
          timestamps: opts.timestamps ?? false,
        },
        signal,
      );
      let left = opts.limitBytes ?? Number.POSITIVE_INFINITY;
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        if (signal.aborted) break;
        const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
        if (b.length >= left) {
          yield b.subarray(0, left);
          break;
        }
        left -= b.length;
        yield b;
      }
      (stream as unknown as { destroy?: () => void }).destroy?.();
    },
  };

  const exec: PodExec = {
    async exec(cluster, namespace, podName, opts): Promise<ExecSession> {
      const { name, instances } = await find(cluster, namespace, podName, opts.container);
      const target = instances[0];
      if (!target || !isUp(target)) throw kubeErrors.badRequest(`container not found ("${name}")`);
      const p = await d.runtime.exec(target.id, { command: opts.command, stdin: opts.stdin, tty: opts.tty });
      if (!opts.stdout) p.stdout.resume();
      if (!opts.stderr) p.stderr.resume();
      return {
        stdin: p.stdin,
        stdout: opts.stdout ? p.stdout : undefined,
        stderr: opts.stderr ? p.stderr : undefined,
        resize: (cols, rows) => void p.resize(cols, rows),
        exit: p.exit,
      };
    },
  };
  return { logs, exec };
}
