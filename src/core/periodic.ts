import { type Clock, type TimerClock, timersOf } from "./clock.js";
import type { Logger } from "./logger.js";

/**
 * One periodic loop: runs `task` every `everyMs` at a fixed rate, never two runs at once (a
 * tick that finds the previous run still going is skipped), logs a failed run and carries on,
 * and never keeps the process alive.
 */

export interface PeriodicOptions {
  /** What the loop does, for the log line of a failed run ("lifecycle policy run"). */
  name: string;
  everyMs: number;
  /** Where a failed run is reported (warn); without one, failures are dropped. */
  logger?: Pick<Logger, "warn">;
  /** Run once at start as well (awaited by `start`). */
  runAtStart?: boolean;
  /** The injected clock; when it is a TimerClock (it has `after`), its timers are used. */
  clock?: Clock | TimerClock;
}

export interface Periodic {
  /** Starts the loop; resolves after the first run when `runAtStart`. Starting twice does nothing. */
  start(): Promise<void>;
  stop(): void;
  /** One run now, unless one is already going (tests, "run soon" triggers); resolves when it is done. */
  runNow(): Promise<void>;
}

export function periodic(task: () => unknown, opts: PeriodicOptions): Periodic {
  const after = timersOf(opts.clock);
  let current: Promise<void> | undefined;
  let cancel: (() => void) | undefined;
  let started = false;

  const runOnce = async () => {
    try {
      await task();
    } catch (err) {
      opts.logger?.warn({ err: (err as Error).message }, `${opts.name} failed; retrying at the next interval`);
    }
  };
  const runNow = (): Promise<void> => {
    // `finally` runs after this assignment even when the task fails at once.
    current ??= runOnce().finally(() => {
      current = undefined;
    });
    return current;
  };
  // Fixed rate, like setInterval: the next tick is set before this one's run, not after it ends.
  const tick = () => {
    if (!started) return;
    cancel = after(opts.everyMs, tick);
    void runNow();
  };

  return {
    async start() {
      if (started) return;
      started = true;
      if (opts.runAtStart) await runNow();
      if (started) cancel = after(opts.everyMs, tick);
    },
    stop() {
      started = false;
      cancel?.();
      cancel = undefined;
    },
    runNow,
  };
}
