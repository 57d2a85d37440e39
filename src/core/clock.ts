/** The one source of time. Tests and controllers receive it; nothing calls Date.now() directly. */
export interface Clock {
  now(): Date;
}

/** Cancels a timer set with TimerClock.after; calling it again (or after it fired) does nothing. */
export type CancelTimer = () => void;

/**
 * A clock that can also wake code later, for the components that wait on time themselves (the
 * load balancer data plane's resync, deregistration and health-check timers). Timers never keep
 * the process alive.
 */
export interface TimerClock extends Clock {
  /** Calls `fn` once after `ms` milliseconds. */
  after(ms: number, fn: () => void): CancelTimer;
}

export const systemClock: TimerClock = {
  now: () => new Date(),
  after(ms, fn) {
    const timer = setTimeout(fn, ms);
    timer.unref();
    return () => clearTimeout(timer);
  },
};
