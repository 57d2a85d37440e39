import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  capacityProvisioned,
  FARGATE_SIZES,
  fargateSize,
  podFargateSize,
} from "../../src/controllers/kube/fargate/size.js";

const MiB = 2 ** 20;
const GiB = 2 ** 30;

describe("Fargate pod sizing", () => {
  it.each([
    // [cpu millicores, memory bytes, provisioned]
    [0, 0, "0.25vCPU 0.5GB"],
    [250, 256 * MiB, "0.25vCPU 0.5GB"],
    [250, 257 * MiB, "0.25vCPU 1GB"],
    [100, 1 * GiB, "0.25vCPU 2GB"],
    [250, 2 * GiB, "0.5vCPU 3GB"],
    [500, 0, "0.5vCPU 1GB"],
    [501, 0, "1vCPU 2GB"],
    [1000, 4 * GiB, "1vCPU 5GB"],
    // The user guide's example: 1 vCPU and 8 GB + 256 MB has no 1 vCPU combination → 2 vCPU, 9 GB.
    [1000, 8 * GiB, "2vCPU 9GB"],
    [2000, 16 * GiB - 256 * MiB, "2vCPU 16GB"],
    [2000, 16 * GiB, "4vCPU 17GB"],
    [4000, 30 * GiB - 256 * MiB, "4vCPU 30GB"],
  ])("cpu %dm, memory %d bytes → %s", (cpuMilli, memoryBytes, want) => {
    const s = fargateSize({ cpuMilli, memoryBytes });
    expect(s && capacityProvisioned(s)).toBe(want);
  });

  it.each([
    [4001, 0],
    [4000, 30 * GiB],
    [250, 64 * GiB],
  ])("cpu %dm, memory %d bytes fits no combination", (cpuMilli, memoryBytes) => {
    expect(fargateSize({ cpuMilli, memoryBytes })).toBeUndefined();
  });

  it("takes the larger of the largest init container and the sum of the containers", () => {
    const spec = {
      initContainers: [
        { name: "i1", resources: { requests: { cpu: "1", memory: "512Mi" } } },
        { name: "i2", resources: { requests: { cpu: "250m", memory: "3Gi" } } },
      ],
      containers: [
        { name: "a", resources: { requests: { cpu: "300m", memory: "1Gi" } } },
        { name: "b", resources: { limits: { cpu: "300m", memory: "1Gi" } } },
      ],
    };
    // cpu max(1000, 600) = 1 vCPU; memory max(3Gi, 2Gi) + 256Mi → 4 GB.
    expect(capacityProvisioned(podFargateSize(spec)!)).toBe("1vCPU 4GB");
  });

  it("has the documented table: .25 vCPU 0.5–2 GB … 4 vCPU 8–30 GB", () => {
    const byCpu = new Map<number, number[]>();
    for (const s of FARGATE_SIZES) byCpu.set(s.cpuMilli, [...(byCpu.get(s.cpuMilli) ?? []), s.memoryMiB / 1024]);
    expect(Object.fromEntries(byCpu)).toEqual({
      250: [0.5, 1, 2],
      500: [1, 2, 3, 4],
      1000: [2, 3, 4, 5, 6, 7, 8],
      2000: [4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16],
      4000: Array.from({ length: 23 }, (_, i) => i + 8),
    });
  });

  it("property: the size holds the request plus 256 MiB, is a valid combination, and none smaller does", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 0, max: 32 * 1024 }), (cpuMilli, memMiB) => {
        const s = fargateSize({ cpuMilli, memoryBytes: memMiB * MiB });
        const fits = (x: { cpuMilli: number; memoryMiB: number }) =>
          x.cpuMilli >= cpuMilli && x.memoryMiB >= memMiB + 256;
        if (!s) return !FARGATE_SIZES.some(fits);
        return (
          fits(s) &&
          FARGATE_SIZES.some((x) => x.cpuMilli === s.cpuMilli && x.memoryMiB === s.memoryMiB) &&
          !FARGATE_SIZES.some(
            (x) => fits(x) && (x.cpuMilli < s.cpuMilli || (x.cpuMilli === s.cpuMilli && x.memoryMiB < s.memoryMiB)),
          )
        );
      }),
      { numRuns: 2000 },
    );
  });
});
