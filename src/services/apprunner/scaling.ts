/**
 * PURE: App Runner's concurrency scaling. Each instance takes up to MaxConcurrency requests at
 * once; the service runs enough instances for the peak concurrency of the recent window, between
 * MinSize and MaxSize. It scales out at once and in only after concurrency has stayed below the
 * current size for `scaleInAfterMs` (App Runner scales in gradually, after traffic drops).
 */

export interface ScalingInput {
  /** Instances the service runs (wants) now. */
  current: number;
  /** The highest number of requests in flight to the service in the recent window. */
  peakConcurrency: number;
  maxConcurrency: number;
  minSize: number;
  maxSize: number;
  now: number;
  /** Since when the needed size has been below `current` (epoch ms), if it has. */
  belowSince?: number;
  scaleInAfterMs: number;
}

export interface ScalingDecision {
  desired: number;
  belowSince?: number;
}

/** Instances needed for a concurrency: ⌈concurrency ÷ MaxConcurrency⌉ within MinSize..MaxSize. */
export function neededInstances(concurrency: number, maxConcurrency: number, minSize: number, maxSize: number) {
  const raw = Math.ceil(Math.max(0, concurrency) / Math.max(1, maxConcurrency));
  return Math.min(Math.max(raw, minSize), Math.max(minSize, maxSize));
}

export function decideInstances(s: ScalingInput): ScalingDecision {
  const needed = neededInstances(s.peakConcurrency, s.maxConcurrency, s.minSize, s.maxSize);
  const current = Math.min(Math.max(s.current, s.minSize), Math.max(s.minSize, s.maxSize));
  if (needed > current) return { desired: needed };
  if (needed === current) return { desired: current };
  const since = s.belowSince ?? s.now;
  if (s.now - since >= s.scaleInAfterMs) return { desired: needed };
  return { desired: current, belowSince: since };
}
