import { cpus, totalmem } from "node:os";
import type { ContainerRuntime } from "../runtime/runtime.js";
import type { Host, HostResources } from "./host.js";

/** The id of the Docker Engine Berth itself talks to. */
export const LOCAL_HOST_ID = "local";

/** What this machine offers: every core (1024 units each) and all its memory. */
export const localHostResources = (): HostResources => ({
  cpuUnits: cpus().length * 1024,
  memoryMiB: Math.floor(totalmem() / 1024 / 1024),
});

/** Ports the ECS agent reserves on every instance (SSH, Docker, the agent's own). */
const RESERVED_PORTS = ["22", "2375", "2376", "51678", "51679"];

/** The local Docker host as a Host. */
export function localDockerHost(runtime: ContainerRuntime, resources: HostResources = localHostResources()): Host {
  return {
    id: LOCAL_HOST_ID,
    kind: "local-docker",
    resources,
    reservedPorts: { tcp: RESERVED_PORTS, udp: [] },
    platform: { os: "linux", arch: process.arch === "arm64" ? "arm64" : "x86_64", instanceType: "berth.local" },
    attributes: [],
    runtime,
  };
}
