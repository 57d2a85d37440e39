import { type TaskNeeds, type TaskSize, taskNeeds } from "./reservation.js";

/**
 * A host as placement sees it: what it has left after the tasks on it, and what it is. Built from
 * a snapshot of the store; placement never reads the store itself.
 */
export interface HostRoom {
  /** What the plan names the host by (for ECS, the container instance ARN). */
  id: string;
  cpu: number;
  memory: number;
  /** Host ports in use, as "tcp:22" / "udp:53": the host's reserved ones and its tasks' fixed ones. */
  ports: Set<string>;
  /** Tasks on it that are not STOPPED (spread, distinctInstance). */
  tasks: number;
  /** Attributes for constraints and spread ("ecs.availability-zone" → "us-east-1a"); name only → "". */
  attributes?: Record<string, string>;
}

/** What a host offers before any task: registered cpu units, memory (MiB) and reserved ports. */
export interface HostCapacity {
  id: string;
  cpu: number;
  memory: number;
  reservedPorts: string[];
  attributes?: Record<string, string>;
}

/** What a host has left, from its capacity and the live tasks placed on it (ports in use derive from them). */
export function hostRoom(host: HostCapacity, tasks: (TaskSize & { networkMode: string })[]): HostRoom {
  const room: HostRoom = {
    id: host.id,
    cpu: host.cpu,
    memory: host.memory,
    ports: new Set(host.reservedPorts),
    tasks: 0,
    attributes: host.attributes,
  };
  for (const t of tasks) take(room, taskNeeds(t));
  return room;
}

/** Takes one task's reservation from a room (mutates it: rooms are the planner's scratch copies). */
export function take(room: HostRoom, needs: TaskNeeds): void {
  room.cpu -= needs.cpu;
  room.memory -= needs.memory;
  for (const p of needs.ports) room.ports.add(p);
  room.tasks += 1;
}

/** A copy a plan can take from without touching the caller's rooms. */
export const copyRoom = (r: HostRoom): HostRoom => ({ ...r, ports: new Set(r.ports) });
