/**
 * What a task reserves on the host it runs on, as ECS counts it. Placement and the ECS utilization
 * metrics both use this rule, so it lives here, below services/ (it sees only the task's shape).
 */

/** The container fields a reservation reads. */
export interface ContainerSize {
  name?: string;
  cpu?: number;
  memory?: number;
  memoryReservation?: number;
  portMappings?: { containerPort?: number; hostPort?: number; protocol?: string }[];
}

/** The task fields a reservation reads (the ECS task spec satisfies it). */
export interface TaskSize {
  cpuUnits?: number;
  memoryMiB?: number;
  containers: ContainerSize[];
}

/** What a task reserves on its host. */
export interface TaskNeeds {
  cpu: number;
  memory: number;
  /** Fixed host ports as "tcp:8080" / "udp:53" (bridge hostPort > 0, host mode every port). */
  ports: string[];
}

/**
 * A task's reservation as ECS counts it (placement, and utilization metrics): the task-level size
 * when given, else the sum of its containers' cpu and memory (memoryReservation when memory is unset).
 */
export function taskReservation(spec: TaskSize): { cpu: number; memory: number } {
  const sum = (f: (c: ContainerSize) => number | undefined) => spec.containers.reduce((n, c) => n + (f(c) ?? 0), 0);
  return {
    cpu: spec.cpuUnits ?? sum((c) => c.cpu),
    memory: spec.memoryMiB ?? sum((c) => c.memory ?? c.memoryReservation),
  };
}

/** What a task reserves on its host: its reservation and its fixed host ports. */
export function taskNeeds(spec: TaskSize & { networkMode: string }): TaskNeeds {
  const ports =
    spec.networkMode === "bridge" || spec.networkMode === "host"
      ? spec.containers.flatMap((c) =>
          (c.portMappings ?? []).flatMap((m) => {
            const port = spec.networkMode === "host" ? (m.hostPort ?? m.containerPort) : m.hostPort;
            return port ? [`${m.protocol ?? "tcp"}:${port}`] : [];
          }),
        )
      : [];
  return { ...taskReservation(spec), ports };
}
