/** The one source of time. Tests and controllers receive it; nothing calls Date.now() directly. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
