import type { InstanceRecord } from "../../store/schema/ec2.js";

export type InstanceStateName = InstanceRecord["State"]["Name"];

/** EC2's state codes (the low byte of `State.Code`). */
export const STATE_CODE: Record<InstanceStateName, number> = {
  pending: 0,
  running: 16,
  "shutting-down": 32,
  terminated: 48,
  stopping: 64,
  stopped: 80,
};

export const stateOf = (Name: InstanceStateName) => ({ Code: STATE_CODE[Name], Name });

export type StateRequest = "start" | "stop" | "terminate";

/**
 * PURE: the state a Start/Stop/TerminateInstances call moves an instance to, or the message of
 * EC2's IncorrectInstanceState when it cannot. Asking for the state an instance is already in
 * (or heading to) changes nothing, as on EC2.
 */
export function requestedState(
  id: string,
  current: InstanceStateName,
  request: StateRequest,
): InstanceStateName | { incorrect: string } {
  switch (request) {
    case "terminate":
      return current === "terminated" ? "terminated" : "shutting-down";
    case "stop":
      if (current === "pending" || current === "running") return "stopping";
      if (current === "stopping" || current === "stopped") return current;
      return { incorrect: `This instance '${id}' is not in a state from which it can be stopped.` };
    case "start":
      if (current === "stopped") return "pending";
      if (current === "pending" || current === "running") return current;
      return { incorrect: `The instance '${id}' is not in a state from which it can be started.` };
  }
}

/** What the instance controller does for an instance, given its host. */
export type HostStep =
  | { do: "start-host"; next: "running" }
  | { do: "stop-host"; next?: "stopped" }
  | { do: "destroy-host"; next?: "terminated" }
  | { do: "host-lost" }
  | { do: "forget" }
  | { do: "nothing" };

/** How long terminated instances stay visible (EC2: about an hour). */
export const TERMINATED_VISIBLE_MS = 60 * 60 * 1000;

/**
 * PURE: converging an instance's host to its state. `host` is what the provisioner reports
 * (undefined: there is none). At Berth's start (`booting`) a running instance whose host is down
 * is booted again (the machine restarted); later, a running instance whose host died is lost.
 */
export function hostStep(
  state: InstanceStateName,
  host: { running: boolean } | undefined,
  opts: { booting: boolean; terminatedForMs: number },
): HostStep {
  switch (state) {
    case "pending":
      return { do: "start-host", next: "running" };
    case "running":
      if (host?.running) return { do: "nothing" };
      return opts.booting || !host ? { do: "start-host", next: "running" } : { do: "host-lost" };
    case "stopping":
      return { do: "stop-host", next: "stopped" };
    case "stopped":
      return host?.running ? { do: "stop-host" } : { do: "nothing" };
    case "shutting-down":
      return { do: "destroy-host", next: "terminated" };
    case "terminated":
      if (host) return { do: "destroy-host" };
      return opts.terminatedForMs >= TERMINATED_VISIBLE_MS ? { do: "forget" } : { do: "nothing" };
  }
}

/** EC2's StateTransitionReason for a user's request: `User initiated (2026-12-04 06:00:00 GMT)`. */
export const userInitiated = (at: Date) => `User initiated (${at.toISOString().slice(0, 19).replace("T", " ")} GMT)`;
