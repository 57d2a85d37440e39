import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { backoffMs } from "../../src/agent/agent.js";
import { clusterFromUserData, hostAddress, hostTaskSubnet } from "../../src/hosts/instance-hosts.js";
import { HostRegistry } from "../../src/hosts/registry.js";
import { localDockerHost } from "../../src/hosts/local.js";
import type { ContainerRuntime } from "../../src/runtime/runtime.js";
import { FRAME, MuxSession, decodeFrame, encodeFrame, type MessageChannel } from "../../src/runtime/channel-mux.js";
import { readIdentityDocument } from "../../src/services/ecs/agent-operations.js";
import { lostVerdict, stoppedWithHost } from "../../src/services/ecs/lost-hosts.js";
import type { TaskRecord } from "../../src/store/schema/ecs.js";

/** Two channel ends wired to each other, delivering asynchronously like a socket. */
function linked(): [MessageChannel, MessageChannel, () => void] {
  const listeners: [((m: Buffer) => void)[], ((m: Buffer) => void)[]] = [[], []];
  const closers: [(() => void)[], (() => void)[]] = [[], []];
  const end = (me: 0 | 1): MessageChannel => ({
    send: (m) =>
      setImmediate(() => {
        for (const l of listeners[1 - me]) l(Buffer.from(m));
      }),
    onMessage: (l) => listeners[me].push(l),
    onClose: (l) => closers[me].push(l),
  });
  return [
    end(0),
    end(1),
    () => {
      for (const c of closers.flat()) c();
    },
  ];
}

const collect = (s: NodeJS.ReadableStream) =>
  new Promise<string>((resolve, reject) => {
    const parts: Buffer[] = [];
    s.on("data", (d: Buffer) => parts.push(d));
    s.on("end", () => resolve(Buffer.concat(parts).toString()));
    s.on("error", reject);
  });

describe("agent channel multiplexing", () => {
  it("frames round-trip: type, stream id and payload", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(FRAME.open, FRAME.data, FRAME.end, FRAME.reset),
        fc.integer({ min: 0, max: 0xffff_ffff }),
        fc.uint8Array({ maxLength: 64 }),
        (type, stream, bytes) => {
          const payload = Buffer.from(bytes);
          expect(decodeFrame(encodeFrame({ type, stream, payload }))).toEqual({ type, stream, payload });
        },
      ),
    );
  });

  it("refuses what is not a frame", () => {
    expect(decodeFrame(Buffer.from([1, 0, 0]))).toBeUndefined();
    expect(decodeFrame(Buffer.from([9, 0, 0, 0, 1]))).toBeUndefined();
  });

  it("streams carry bytes both ways, many at once, each ending on its own", async () => {
    const [a, b] = linked();
    const plane = new MuxSession(a, "odd");
    const agent = new MuxSession(b, "even");
    // The agent echoes each stream back in upper case.
    agent.onStream((s) => {
      const parts: Buffer[] = [];
      s.on("data", (d: Buffer) => parts.push(d));
      s.on("end", () => s.end(Buffer.concat(parts).toString().toUpperCase()));
    });
    const texts = ["GET /_ping", "docker says hello", "x".repeat(100_000)];
    const replies = await Promise.all(
      texts.map((t) => {
        const s = plane.open();
        const reply = collect(s);
        s.end(t);
        return reply;
      }),
    );
    expect(replies).toEqual(texts.map((t) => t.toUpperCase()));
    await new Promise((r) => setTimeout(r, 10));
    expect(plane.size).toBe(0);
    expect(agent.size).toBe(0);
  });

  it("a stream the other side cannot take is reset; a closed channel fails every stream", async () => {
    const [a, b, close] = linked();
    const plane = new MuxSession(a, "odd");
    new MuxSession(b, "even"); // accepts nothing
    const refused = plane.open();
    await new Promise<void>((resolve) => refused.on("close", () => resolve()));
    const open = plane.open();
    const failed = new Promise<Error>((resolve) => open.on("error", resolve));
    close();
    expect((await failed).message).toMatch(/closed/);
    const late = plane.open();
    await expect(new Promise((_, reject) => late.on("error", reject))).rejects.toThrow(/closed/);
  });
});

describe("instance hosts", () => {
  it("addresses count up from the gateway's network", () => {
    expect(hostAddress("10.254.0.1", 2)).toBe("10.254.0.2");
    expect(hostAddress("10.254.0.1", 300)).toBe("10.254.1.44");
  });

  it("each host's task bridge is a /24 of its own", () => {
    expect(hostTaskSubnet(2)).toEqual({ subnet: "10.160.2.0/24", bip: "10.160.2.1/24" });
    expect(hostTaskSubnet(300)).toEqual({ subnet: "10.161.44.0/24", bip: "10.161.44.1/24" });
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 20_000 }), fc.integer({ min: 2, max: 20_000 }), (a, b) => {
        if (a !== b) expect(hostTaskSubnet(a).subnet).not.toBe(hostTaskSubnet(b).subnet);
      }),
    );
  });

  it("user data names the cluster as the ECS-optimized AMI reads it", () => {
    expect(clusterFromUserData("#!/bin/bash\necho ECS_CLUSTER=prod >> /etc/ecs/ecs.config")).toBe("prod");
    expect(clusterFromUserData("#!/bin/bash\necho 'ECS_CLUSTER=my-cluster_2' >> /etc/ecs/ecs.config")).toBe(
      "my-cluster_2",
    );
    expect(clusterFromUserData("#!/bin/bash\nyum update -y")).toBeUndefined();
    expect(clusterFromUserData(undefined)).toBeUndefined();
  });

  it("the agent backs off from 1 s to at most 30 s", () => {
    fc.assert(
      fc.property(fc.nat(100), fc.double({ min: 0, max: 1, noNaN: true }), (attempt, r) => {
        const ms = backoffMs(attempt, () => r);
        expect(ms).toBeGreaterThanOrEqual(500);
        expect(ms).toBeLessThanOrEqual(30_000);
      }),
    );
    expect(backoffMs(0, () => 1)).toBe(1000);
    expect(backoffMs(10, () => 1)).toBe(30_000);
  });

  it("the registry tells its followers which hosts come and go", () => {
    const registry = new HostRegistry([localDockerHost({} as ContainerRuntime, { cpuUnits: 1024, memoryMiB: 512 })]);
    const seen: string[] = [];
    const stop = registry.onChange((c) => seen.push(`${c.type}:${c.host.id}`));
    const agent = { ...localDockerHost({} as ContainerRuntime), id: "i-0abc", kind: "agent" as const };
    registry.add(agent);
    registry.remove("i-0abc");
    registry.remove("i-0abc");
    stop();
    registry.add(agent);
    expect(seen).toEqual(["added:i-0abc", "removed:i-0abc"]);
    expect(registry.list().map((h) => h.id)).toEqual(["local", "i-0abc"]);
  });
});

describe("RegisterContainerInstance's identity document", () => {
  const doc = {
    instanceId: "i-0123456789abcdef0",
    instanceType: "t3.medium",
    availabilityZone: "us-east-1a",
    region: "us-east-1",
    accountId: "000000000000",
  };
  it.each([
    [undefined, /is required/],
    ["{not json", /not valid JSON/],
    [JSON.stringify({ ...doc, instanceType: undefined }), /has no instanceType/],
    [JSON.stringify({ ...doc, instanceId: "web-1" }), /invalid instanceId/],
  ])("%s is refused", (text, why) => {
    expect(readIdentityDocument(text)).toMatch(why);
  });
  it("a document IMDS serves is read", () => {
    expect(readIdentityDocument(JSON.stringify(doc))).toEqual(doc);
  });
});

describe("lost agent hosts", () => {
  const opts = { graceMs: 10_000, lostAfterMs: 600_000 };
  const id = "i-0123456789abcdef0";
  it.each([
    [{ instanceState: "terminated", absentMs: 0 }, `Host EC2 (instance ${id}) terminated.`, true],
    [{ instanceState: "shutting-down", absentMs: 0 }, `Host EC2 (instance ${id}) terminated.`, true],
    [{ instanceState: "stopped", absentMs: 0 }, `Host EC2 (instance ${id}) stopped.`, false],
    [{ hostAlive: false, absentMs: 10_000 }, `Host EC2 (instance ${id}) stopped.`, false],
    [{ hostAlive: false, absentMs: 5_000 }, undefined, undefined],
    [{ hostAlive: true, absentMs: 60_000 }, undefined, undefined],
    [{ instanceState: "running", absentMs: 599_999 }, undefined, undefined],
    [{ absentMs: 600_000 }, /disconnected for 600 s/, false],
  ])("%o → %s", (facts, reason, deregister) => {
    const v = lostVerdict({ ec2InstanceId: id, ...facts }, opts);
    if (reason === undefined) expect(v).toBeUndefined();
    else
      expect(v).toMatchObject({
        reason: typeof reason === "string" ? reason : expect.stringMatching(reason),
        deregister,
      });
  });

  it("a lost host's task stops where it stood and keeps an earlier reason", () => {
    const now = new Date("2026-12-04T06:00:00Z");
    const task = {
      taskArn: "arn:aws:ecs:us-east-1:000000000000:task/c1/abc",
      lastStatus: "RUNNING",
      desiredStatus: "RUNNING",
      version: 3,
      containers: [{ name: "web", lastStatus: "RUNNING" }],
    } as unknown as TaskRecord;
    const stopped = stoppedWithHost(task, now, `Host EC2 (instance ${id}) terminated.`);
    expect(stopped).toMatchObject({
      lastStatus: "STOPPED",
      desiredStatus: "STOPPED",
      stopCode: "TerminationNotice",
      stoppedReason: `Host EC2 (instance ${id}) terminated.`,
      stoppedAt: now,
      version: 4,
      containers: [{ name: "web", lastStatus: "STOPPED" }],
    });
    expect(stoppedWithHost({ ...task, stoppedReason: "Scaling activity" }, now, "x").stoppedReason).toBe(
      "Scaling activity",
    );
  });
});
