/**
 * The kubelet's decisions for one pod, PURE: (pod, what Docker shows, what the kubelet has met
 * (pull errors, probe results), now) → the actions to take and the pod status to report. Like
 * controllers/tasks/plan.ts for ECS tasks: the applier (kubelet.ts) only does what this says.
 */
import { isDown, isUp, type ObservedContainer } from "../../../runtime/runtime.js";
import { qosClass } from "../../../scheduler/pods-resources.js";
import type { Container, ContainerState, ContainerStatus, Pod, PodCondition, PodStatus } from "./types.js";

/** One Docker container made for a pod container: the n-th start (restartCount) and the start its back-off counts from. */
export interface Instance {
  container: ObservedContainer;
  attempt: number;
  backoffBase: number;
}

export interface ObservedPod {
  /** The newest sandbox (the pause container holding the pod's network namespace). */
  sandbox?: ObservedContainer;
  /** Older sandboxes, to remove. */
  staleSandboxes: ObservedContainer[];
  /** Instances per pod container name (init and app), newest first. */
  containers: Map<string, Instance[]>;
}

/** What the kubelet met that Docker does not show: why a container could not be made yet, probe results. */
export interface PodRuntimeState {
  waiting: Map<string, { reason: string; message: string; retryAtMs: number }>;
  /** By Docker container id. */
  probes: Map<string, { ready: boolean; started: boolean }>;
}

export const emptyRuntimeState = (): PodRuntimeState => ({ waiting: new Map(), probes: new Map() });

export type PodAction =
  | { type: "createSandbox"; attempt: number }
  | { type: "runContainer"; name: string; init: boolean; attempt: number; backoffBase: number }
  | { type: "startContainer"; name: string; id: string }
  | { type: "stopContainer"; id: string; graceSec: number }
  | { type: "removeContainer"; id: string }
  /** Deletion: stop everything within the grace period, remove it, delete the pod object. */
  | { type: "terminate"; graceSec: number };

export interface PodPlan {
  actions: PodAction[];
  status: PodStatus;
  /** When to look again (a back-off ends). */
  requeueAfterMs?: number;
}

export interface PlanInput {
  pod: Pod;
  obs: ObservedPod;
  state: PodRuntimeState;
  now: Date;
  hostIP: string;
}

export const BACKOFF_INITIAL_SEC = 10;
export const BACKOFF_MAX_SEC = 300;
/** A container that ran this long resets its back-off. */
export const BACKOFF_RESET_MS = 10 * 60 * 1000;

/**
 * Seconds to wait before the next start after the k-th crash since the back-off was reset, as
 * kubelet's back-off: the first restart is immediate, then 10 s doubling up to 300 s.
 */
export function backoffSec(k: number, initial = BACKOFF_INITIAL_SEC, max = BACKOFF_MAX_SEC): number {
  if (k <= 1) return 0;
  return Math.min(max, initial * 2 ** (k - 2));
}

export const rfc3339 = (d: Date | number | undefined) =>
  d === undefined ? undefined : `${new Date(d).toISOString().slice(0, 19)}Z`;

const exited = (o: ObservedContainer) => isDown(o) || (o.state === "created" && o.error !== undefined);
const exitCodeOf = (o: ObservedContainer) => (o.state === "created" ? 128 : (o.exitCode ?? 0));

function terminatedState(o: ObservedContainer): ContainerState {
  const code = exitCodeOf(o);
  return {
    terminated: {
      exitCode: code,
      reason: o.oomKilled ? "OOMKilled" : o.state === "created" ? "StartError" : code === 0 ? "Completed" : "Error",
      ...(o.error ? { message: o.error } : {}),
      startedAt: rfc3339(o.startedAt) ?? rfc3339(o.finishedAt),
      finishedAt: rfc3339(o.finishedAt),
      containerID: `docker://${o.id}`,
    },
  };
}

const restartPolicyOf = (pod: Pod) => pod.spec.restartPolicy ?? "Always";

function shouldRestart(pod: Pod, init: boolean, code: number): boolean {
  const policy = restartPolicyOf(pod);
  if (init) return policy !== "Never" && code !== 0;
  return policy === "Always" || (policy === "OnFailure" && code !== 0);
}

interface Decision {
  status: ContainerStatus;
  action?: PodAction;
  requeueAfterMs?: number;
  /** Ran to completion with code 0 (init containers). */
  done: boolean;
  /** Failed for good (init container under restartPolicy Never). */
  failed: boolean;
}

/** One container: its status now and what to do next. */
function decide(
  input: PlanInput,
  c: Container,
  init: boolean,
  mayStart: boolean,
  notStartedReason: string,
  opts: BackoffOptions,
): Decision {
  const { pod, obs, state, now } = input;
  const instances = obs.containers.get(c.name) ?? [];
  const latest = instances[0];
  const previous = instances[1];
  const prior = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])].find(
    (s) => s.name === c.name,
  );
  const base: ContainerStatus = {
    name: c.name,
    state: {},
    lastState: {},
    ready: false,
    restartCount: latest?.attempt ?? prior?.restartCount ?? 0,
    image: c.image,
    imageID: latest ? latest.container.imageId && `docker://${latest.container.imageId}` : "",
    ...(latest ? { containerID: `docker://${latest.container.id}` } : {}),
    started: false,
  };
  if (previous && exited(previous.container)) base.lastState = terminatedState(previous.container);
  const waiting = state.waiting.get(c.name);
  const nowMs = now.getTime();

  if (!latest) {
    if (!mayStart)
      return { status: { ...base, state: { waiting: { reason: notStartedReason } } }, done: false, failed: false };
    // It ran before (a new sandbox replaced the old one): its restarts go on counting.
    const attempt = prior?.containerID ? prior.restartCount + 1 : 0;
    if (waiting && waiting.retryAtMs > nowMs)
      return {
        status: { ...base, state: { waiting: { reason: waiting.reason, message: waiting.message } } },
        requeueAfterMs: waiting.retryAtMs - nowMs,
        done: false,
        failed: false,
      };
    const reason = waiting?.reason ?? "ContainerCreating";
    return {
      status: { ...base, state: { waiting: waiting ? { reason, message: waiting.message } : { reason } } },
      action: { type: "runContainer", name: c.name, init, attempt, backoffBase: attempt },
      done: false,
      failed: false,
    };
  }
  const o = latest.container;
  if (isUp(o)) {
    const probe = state.probes.get(o.id);
    const started = c.startupProbe ? (probe?.started ?? false) : true;
    const ready = !init && started && (c.readinessProbe ? (probe?.ready ?? false) : true);
    return {
      status: { ...base, state: { running: { startedAt: rfc3339(o.startedAt) } }, ready, started },
      done: false,
      failed: false,
    };
  }
  if (!exited(o)) {
    // Created and not started yet (or being removed): start it.
    return {
      status: { ...base, state: { waiting: { reason: "ContainerCreating" } } },
      action: o.state === "created" && mayStart ? { type: "startContainer", name: c.name, id: o.id } : undefined,
      done: false,
      failed: false,
    };
  }
  const code = exitCodeOf(o);
  const terminated = terminatedState(o);
  if (!shouldRestart(pod, init, code)) {
    return {
      status: { ...base, state: terminated },
      done: init && code === 0,
      failed: init && code !== 0,
    };
  }
  if (!mayStart) return { status: { ...base, state: terminated }, done: false, failed: false };
  const ranMs = o.startedAt && o.finishedAt ? o.finishedAt.getTime() - o.startedAt.getTime() : 0;
  const reset = ranMs >= BACKOFF_RESET_MS;
  const k = reset ? 1 : latest.attempt - latest.backoffBase + 1;
  const delayMs = backoffSec(k, opts.initialSec, opts.maxSec) * 1000;
  const finished = o.finishedAt?.getTime() ?? nowMs;
  const waitMs = finished + delayMs - nowMs;
  const next = latest.attempt + 1;
  if (waitMs > 0 || (waiting && waiting.retryAtMs > nowMs)) {
    const w =
      waiting && waiting.retryAtMs > nowMs
        ? { reason: waiting.reason, message: waiting.message }
        : {
            reason: "CrashLoopBackOff",
            message: `back-off ${delayMs / 1000}s restarting failed container=${c.name} pod=${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})`,
          };
    return {
      status: { ...base, state: { waiting: w }, lastState: terminated },
      requeueAfterMs: Math.max(waitMs, waiting ? waiting.retryAtMs - nowMs : 0),
      done: false,
      failed: false,
    };
  }
  return {
    status: { ...base, state: terminated },
    action: { type: "runContainer", name: c.name, init, attempt: next, backoffBase: reset ? next : latest.backoffBase },
    done: false,
    failed: false,
  };
}

export interface BackoffOptions {
  initialSec?: number;
  maxSec?: number;
}

/** kubelet's getPhase over the app containers' statuses. */
export function podPhase(pod: Pod, statuses: ContainerStatus[]): NonNullable<PodStatus["phase"]> {
  let waiting = 0;
  let running = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const s of statuses) {
    if (s.state.running) running++;
    else if (s.state.terminated) {
      stopped++;
      if (s.state.terminated.exitCode === 0) succeeded++;
    } else if (s.lastState.terminated) stopped++;
    else waiting++;
  }
  if (waiting > 0) return "Pending";
  if (running > 0) return "Running";
  if (stopped === statuses.length && stopped > 0) {
    const policy = restartPolicyOf(pod);
    if (policy === "Always") return "Running";
    if (policy === "OnFailure") return succeeded === stopped ? "Succeeded" : "Running";
    return succeeded === stopped ? "Succeeded" : "Failed";
  }
  return "Pending";
}

function condition(
  prev: PodCondition[] | undefined,
  type: string,
  ok: boolean,
  now: Date,
  reason?: string,
  message?: string,
): PodCondition {
  const status = ok ? "True" : "False";
  const old = prev?.find((c) => c.type === type);
  return {
    type,
    status,
    lastProbeTime: null,
    lastTransitionTime: old && old.status === status ? old.lastTransitionTime : rfc3339(now),
    ...(reason ? { reason } : {}),
    ...(message ? { message } : {}),
  };
}

const terminal = (phase: string | undefined) => phase === "Succeeded" || phase === "Failed";

/** Grace for a pod being deleted: what the deletion asked, else the pod's terminationGracePeriodSeconds (30). */
export const deletionGraceSec = (pod: Pod) =>
  pod.metadata.deletionGracePeriodSeconds ?? pod.spec.terminationGracePeriodSeconds ?? 30;

/** The pod's next actions and status. */
export function planPod(input: PlanInput, opts: BackoffOptions = {}): PodPlan {
  const { pod, obs, now } = input;
  const prev = pod.status ?? {};
  if (pod.metadata.deletionTimestamp)
    return { actions: [{ type: "terminate", graceSec: deletionGraceSec(pod) }], status: prev };

  const actions: PodAction[] = [];
  let requeueAfterMs: number | undefined;
  const later = (ms: number | undefined) => {
    if (ms !== undefined && ms >= 0) requeueAfterMs = requeueAfterMs === undefined ? ms : Math.min(requeueAfterMs, ms);
  };
  const wasTerminal = terminal(prev.phase);
  const sandboxUp = obs.sandbox !== undefined && isUp(obs.sandbox);
  const grace = pod.spec.terminationGracePeriodSeconds ?? 30;

  for (const s of obs.staleSandboxes) actions.push({ type: "removeContainer", id: s.id });
  // Instances past the newest two (the running one and the previous one `kubectl logs -p` reads).
  for (const list of obs.containers.values())
    for (const i of list.slice(2)) actions.push({ type: "removeContainer", id: i.container.id });

  let mayStart = !wasTerminal;
  if (!wasTerminal && !sandboxUp) {
    mayStart = false;
    // A dead sandbox takes its pod's containers with it; a new one (new address) runs them again.
    const everything = [...obs.containers.values()].flatMap((l) => l.map((i) => i.container));
    for (const c of everything) actions.push({ type: "removeContainer", id: c.id });
    if (obs.sandbox) actions.push({ type: "removeContainer", id: obs.sandbox.id });
    if (everything.length === 0 && !obs.sandbox) actions.push({ type: "createSandbox", attempt: 0 });
    else later(0);
  }

  const inits = pod.spec.initContainers ?? [];
  const initStatuses: ContainerStatus[] = [];
  let initDone = true;
  let initFailed = false;
  for (const c of inits) {
    const d = decide(input, c, true, mayStart && initDone && !initFailed, "PodInitializing", opts);
    initStatuses.push(d.status);
    if (initDone && !initFailed) {
      if (d.action) actions.push(d.action);
      later(d.requeueAfterMs);
    }
    if (d.failed) initFailed = true;
    if (!d.done) initDone = false;
  }
  const appReason = inits.length > 0 && !initDone ? "PodInitializing" : "ContainerCreating";
  const statuses: ContainerStatus[] = [];
  for (const c of pod.spec.containers) {
    const d = decide(input, c, false, mayStart && initDone, appReason, opts);
    statuses.push(d.status);
    if (mayStart && initDone) {
      if (d.action) actions.push(d.action);
      later(d.requeueAfterMs);
    }
  }

  // activeDeadlineSeconds counts from the pod's start on the node.
  const startMs = prev.startTime ? Date.parse(prev.startTime) : now.getTime();
  const deadline = pod.spec.activeDeadlineSeconds;
  const overdue = !wasTerminal && deadline !== undefined && now.getTime() - startMs >= deadline * 1000;
  if (!wasTerminal && deadline !== undefined && !overdue) later(startMs + deadline * 1000 - now.getTime());
  if (overdue) {
    const starts = new Set(["runContainer", "startContainer", "createSandbox"]);
    for (let i = actions.length - 1; i >= 0; i--) if (starts.has(actions[i].type)) actions.splice(i, 1);
  }
  let phase: NonNullable<PodStatus["phase"]>;
  if (wasTerminal) phase = prev.phase!;
  else if (overdue) phase = "Failed";
  else if (initFailed) phase = "Failed";
  else if (!initDone) phase = "Pending";
  else phase = podPhase(pod, statuses);
  if (terminal(phase)) {
    for (const list of obs.containers.values()) {
      const o = list[0]?.container;
      if (o && isUp(o)) actions.push({ type: "stopContainer", id: o.id, graceSec: grace });
    }
    if (obs.sandbox && isUp(obs.sandbox)) actions.push({ type: "stopContainer", id: obs.sandbox.id, graceSec: 0 });
  }

  const done = terminal(phase);
  const incompleteInits = initStatuses.filter((s) => s.state.terminated?.exitCode !== 0);
  const unready = statuses.filter((s) => !s.ready).map((s) => s.name);
  const containersReady = !done && unready.length === 0;
  const notReadyWhy = done ? "PodCompleted" : "ContainersNotReady";
  const notReadyMsg = done ? undefined : `containers with unready status: [${unready.join(" ")}]`;
  const conditions = [
    condition(
      prev.conditions,
      "Initialized",
      initDone || done,
      now,
      done && phase === "Succeeded" ? "PodCompleted" : initDone ? undefined : "ContainersNotInitialized",
      initDone || done
        ? undefined
        : `containers with incomplete status: [${incompleteInits.map((s) => s.name).join(" ")}]`,
    ),
    condition(
      prev.conditions,
      "Ready",
      containersReady,
      now,
      containersReady ? undefined : notReadyWhy,
      containersReady ? undefined : notReadyMsg,
    ),
    condition(
      prev.conditions,
      "ContainersReady",
      containersReady,
      now,
      containersReady ? undefined : notReadyWhy,
      containersReady ? undefined : notReadyMsg,
    ),
    prev.conditions?.find((c) => c.type === "PodScheduled") ?? condition(undefined, "PodScheduled", true, now),
  ];
  const podIP = pod.spec.hostNetwork ? input.hostIP : sandboxUp ? obs.sandbox?.ipAddress : prev.podIP;
  const status: PodStatus = {
    ...prev,
    phase,
    conditions,
    hostIP: input.hostIP,
    hostIPs: [{ ip: input.hostIP }],
    ...(podIP ? { podIP, podIPs: [{ ip: podIP }] } : {}),
    startTime: prev.startTime ?? rfc3339(now),
    ...(inits.length ? { initContainerStatuses: initStatuses } : {}),
    containerStatuses: statuses,
    qosClass: qosClass(pod.spec),
    ...(overdue
      ? { reason: "DeadlineExceeded", message: "Pod was active on the node longer than the specified deadline" }
      : {}),
  };
  if (done) {
    for (const s of statuses) s.ready = false;
  }
  return { actions, status, ...(requeueAfterMs !== undefined ? { requeueAfterMs } : {}) };
}
