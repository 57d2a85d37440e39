import { describe, expect, it } from "vitest";
import { hostCapacity } from "../../src/hosts/host.js";
import { LOCAL_HOST_ID, localDockerHost } from "../../src/hosts/local.js";
import { HostRegistry } from "../../src/hosts/registry.js";
import type { ContainerRuntime } from "../../src/runtime/runtime.js";
import { hostRoom } from "../../src/scheduler/room.js";

const runtime = {} as ContainerRuntime;

describe("hosts", () => {
  it("the local Docker host: its resources, the ECS agent's reserved ports, its runtime", () => {
    const host = localDockerHost(runtime, { cpuUnits: 4096, memoryMiB: 8000 });
    expect(host).toMatchObject({ id: LOCAL_HOST_ID, kind: "local-docker", runtime });
    expect(hostCapacity(host)).toEqual({
      id: "local",
      cpu: 4096,
      memory: 8000,
      reservedPorts: ["tcp:22", "tcp:2375", "tcp:2376", "tcp:51678", "tcp:51679"],
      attributes: {},
    });
  });

  it("ports in use derive from the tasks on a host", () => {
    const host = localDockerHost(runtime, { cpuUnits: 1024, memoryMiB: 1024 });
    const room = hostRoom(hostCapacity(host), [
      { networkMode: "host", containers: [{ memory: 100, portMappings: [{ containerPort: 80 }] }] },
    ]);
    expect([...room.ports]).toContain("tcp:80");
    expect(room.memory).toBe(924);
  });

  it("one registry: ids are unique, hosts listed in the order they joined", () => {
    const registry = new HostRegistry([localDockerHost(runtime)]);
    const other = { ...localDockerHost(runtime), id: "agent-1" };
    registry.add(other);
    expect(registry.list().map((h) => h.id)).toEqual(["local", "agent-1"]);
    expect(registry.get("agent-1")).toBe(other);
    expect(() => registry.add(localDockerHost(runtime))).toThrow(/already registered/);
  });
});
