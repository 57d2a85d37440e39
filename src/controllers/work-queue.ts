import { type CancelTimer, type Clock, type TimerClock, timersOf } from "../core/clock.js";

/**
 * A keyed work queue in the controller-runtime style: it holds keys, not events; a key queued
 * while it is being processed runs once more afterwards; failures retry with backoff.
 */
export class WorkQueue {
  private readonly queued = new Set<string>();
  private readonly active = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, CancelTimer>();
  private readonly after: TimerClock["after"];
  private running = 0;
  private closed = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly process: (key: string) => Promise<{ requeueAfterMs?: number } | undefined>,
    private readonly concurrency = 8,
    private readonly onError: (key: string, err: unknown) => void = () => {},
    /** Requeue and backoff delays run on this clock's timers (the system's when it has none). */
    clock?: Clock | TimerClock,
  ) {
    this.after = timersOf(clock);
  }

  add(key: string) {
    if (this.closed) return;
    if (this.active.has(key)) {
      this.dirty.add(key);
      return;
    }
    this.queued.add(key);
    this.pump();
  }

  addAfter(key: string, ms: number) {
    if (this.closed || this.timers.has(key)) return;
    this.timers.set(
      key,
      this.after(ms, () => {
        this.timers.delete(key);
        this.add(key);
      }),
    );
  }

  /** Resolves when nothing is queued or running (tests and shutdown). */
  idle(): Promise<void> {
    if (this.running === 0 && this.queued.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  close() {
    this.closed = true;
    for (const cancel of this.timers.values()) cancel();
    this.timers.clear();
    this.queued.clear();
  }

  private pump() {
    while (this.running < this.concurrency && this.queued.size > 0) {
      const key = this.queued.values().next().value as string;
      this.queued.delete(key);
      this.active.add(key);
      this.running++;
      void this.run(key);
    }
    if (this.running === 0 && this.queued.size === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private async run(key: string) {
    try {
      const result = await this.process(key);
      this.failures.delete(key);
      if (result?.requeueAfterMs !== undefined) {
        if (result.requeueAfterMs <= 0) this.dirty.add(key);
        else this.addAfter(key, result.requeueAfterMs);
      }
    } catch (err) {
      const n = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, n);
      this.onError(key, err);
      this.addAfter(key, Math.min(30_000, 100 * 2 ** Math.min(n, 9)));
    } finally {
      this.active.delete(key);
      this.running--;
      if (this.dirty.delete(key)) this.queued.add(key);
      this.pump();
    }
  }
}
