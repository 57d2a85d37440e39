import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { periodic } from "../../src/core/periodic.js";

const logger = () => ({ warn: vi.fn() });

describe("periodic", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("runs at a fixed rate from start until stop", async () => {
    const task = vi.fn();
    const loop = periodic(task, { name: "t", everyMs: 100 });
    await loop.start();
    expect(task).toHaveBeenCalledTimes(0);
    await vi.advanceTimersByTimeAsync(350);
    expect(task).toHaveBeenCalledTimes(3);
    loop.stop();
    await vi.advanceTimersByTimeAsync(1000);
    expect(task).toHaveBeenCalledTimes(3);
  });

  it("runs once at start when asked, and start resolves after that run", async () => {
    let done = false;
    const loop = periodic(
      async () => {
        await new Promise((r) => setTimeout(r, 10));
        done = true;
      },
      { name: "t", everyMs: 100, runAtStart: true },
    );
    const started = loop.start();
    await vi.advanceTimersByTimeAsync(10);
    await started;
    expect(done).toBe(true);
    loop.stop();
  });

  it("never overlaps: a tick that finds a run going is skipped, runNow shares the run", async () => {
    let active = 0;
    let most = 0;
    let runs = 0;
    const loop = periodic(
      async () => {
        runs++;
        active++;
        most = Math.max(most, active);
        await new Promise((r) => setTimeout(r, 250));
        active--;
      },
      { name: "t", everyMs: 100 },
    );
    await loop.start();
    await vi.advanceTimersByTimeAsync(1000);
    expect(most).toBe(1);
    expect(runs).toBeLessThanOrEqual(4);
    const a = loop.runNow();
    const b = loop.runNow();
    expect(a).toBe(b);
    loop.stop();
  });

  it("logs a failed run and carries on", async () => {
    const log = logger();
    let n = 0;
    const loop = periodic(
      () => {
        n++;
        if (n === 1) throw new Error("boom");
      },
      { name: "the sweep", everyMs: 100, logger: log },
    );
    await loop.start();
    await vi.advanceTimersByTimeAsync(200);
    expect(n).toBe(2);
    expect(log.warn).toHaveBeenCalledWith({ err: "boom" }, "the sweep failed; retrying at the next interval");
    loop.stop();
  });

  it("uses the injected clock's timers when it has them", async () => {
    const wakes: { ms: number; fn: () => void; cancelled: boolean }[] = [];
    const clock = {
      now: () => new Date(0),
      after(ms: number, fn: () => void) {
        const w = { ms, fn, cancelled: false };
        wakes.push(w);
        return () => {
          w.cancelled = true;
        };
      },
    };
    const task = vi.fn();
    const loop = periodic(task, { name: "t", everyMs: 5000, clock });
    await loop.start();
    expect(wakes.map((w) => w.ms)).toEqual([5000]);
    wakes[0].fn();
    await Promise.resolve();
    expect(task).toHaveBeenCalledTimes(1);
    expect(wakes).toHaveLength(2);
    loop.stop();
    expect(wakes[1].cancelled).toBe(true);
  });
});
