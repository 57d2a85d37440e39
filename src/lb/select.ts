/**
 * Choosing where a request goes, pure (state is passed in and returned or mutated explicitly):
 * the routable subset of a target group, then one target by the group's algorithm; and one
 * target group of a weighted forward action.
 */

export interface SelectableTarget {
  state: "initial" | "healthy" | "unhealthy";
  draining: boolean;
  /** False when the target has no address to send to (an unresolvable instance). */
  addressable: boolean;
  inflight: number;
  /** When the target last became healthy (ms), for slow start. */
  healthySince: number;
}

/**
 * The targets a request may go to: the healthy ones; when none is healthy but some are
 * unhealthy, all unhealthy ones (AWS "fails open"); never initial or draining targets.
 */
export function routable<T extends SelectableTarget>(targets: T[]): T[] {
  const healthy: T[] = [];
  let unhealthy: T[] | undefined;
  for (const t of targets) {
    if (t.draining || !t.addressable) continue;
    if (t.state === "healthy") healthy.push(t);
    else if (t.state === "unhealthy") {
      unhealthy ??= [];
      unhealthy.push(t);
    }
  }
  return healthy.length > 0 ? healthy : (unhealthy ?? healthy);
}

export interface Cursor {
  next: number;
}

/** Round robin, skipping targets in slow start with probability 1 − (time healthy ÷ slow start). */
export function pickRoundRobin<T extends SelectableTarget>(
  targets: T[],
  cursor: Cursor,
  opts: { now: number; slowStartMs: number; random: () => number },
): T | undefined {
  const n = targets.length;
  if (n === 0) return undefined;
  if (opts.slowStartMs <= 0 || n === 1) {
    const t = targets[cursor.next % n];
    cursor.next = (cursor.next + 1) % n;
    return t;
  }
  for (let tries = 0; tries < n; tries++) {
    const t = targets[cursor.next % n];
    cursor.next = (cursor.next + 1) % n;
    const share = (opts.now - t.healthySince) / opts.slowStartMs;
    if (share >= 1 || opts.random() < share) return t;
  }
  return targets[cursor.next % n];
}

/** Least outstanding requests; ties go round robin. */
export function pickLeastOutstanding<T extends SelectableTarget>(targets: T[], cursor: Cursor): T | undefined {
  const n = targets.length;
  if (n === 0) return undefined;
  let best: T | undefined;
  let bestIndex = 0;
  for (let i = 0; i < n; i++) {
    const t = targets[(cursor.next + i) % n];
    if (!best || t.inflight < best.inflight) {
      best = t;
      bestIndex = (cursor.next + i) % n;
    }
  }
  cursor.next = (bestIndex + 1) % n;
  return best;
}

export const pickRandom = <T>(targets: T[], random: () => number): T | undefined =>
  targets.length === 0 ? undefined : targets[Math.floor(random() * targets.length) % targets.length];

/**
 * Smooth weighted round robin (as nginx does it): deterministic, spreads picks evenly, and
 * over any run of sum(weights) picks gives each item exactly its weight. `current` holds one
 * number per item and is updated in place. Returns -1 when every weight is 0.
 */
export function pickWeighted(weights: number[], current: number[]): number {
  let total = 0;
  let best = -1;
  for (let i = 0; i < weights.length; i++) {
    if (weights[i] <= 0) continue;
    current[i] += weights[i];
    total += weights[i];
    if (best < 0 || current[i] > current[best]) best = i;
  }
  if (best >= 0) current[best] -= total;
  return best;
}
