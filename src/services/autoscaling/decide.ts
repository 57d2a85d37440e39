/**
 * Auto Scaling's capacity decisions, pure: how many instances to launch or terminate, in which
 * Availability Zones, and which instances scale-in takes (AWS's default termination policy,
 * simplified: the zone with the most instances first, then the oldest instance there; never one
 * protected from scale-in).
 */

/** An instance as the decisions see it. */
export interface Member {
  id: string;
  zone: string;
  protected: boolean;
  /** Epoch ms. */
  launchedAt: number;
}

export interface CapacityPlan {
  /** One zone per instance to launch. */
  launch: string[];
  /** The instances to terminate. */
  terminate: string[];
}

/** The zones for `n` new instances: each goes to the zone that has the fewest (ties: the zones' order). */
export function launchZones(zones: readonly string[], members: readonly Pick<Member, "zone">[], n: number): string[] {
  if (zones.length === 0) return [];
  const count = new Map(zones.map((z) => [z, 0]));
  for (const m of members) if (count.has(m.zone)) count.set(m.zone, count.get(m.zone)! + 1);
  const out: string[] = [];
  for (let k = 0; k < n; k++) {
    let best = zones[0];
    for (const z of zones) if (count.get(z)! < count.get(best)!) best = z;
    count.set(best, count.get(best)! + 1);
    out.push(best);
  }
  return out;
}

/**
 * The `n` instances scale-in terminates: repeatedly, in the zone with the most instances that
 * still has an unprotected one, the oldest unprotected instance. Fewer than `n` when protection
 * leaves fewer candidates.
 */
export function pickForTermination(members: readonly Member[], n: number): string[] {
  const left = [...members];
  const out: string[] = [];
  while (out.length < n) {
    const perZone = new Map<string, number>();
    for (const m of left) perZone.set(m.zone, (perZone.get(m.zone) ?? 0) + 1);
    const candidates = left.filter((m) => !m.protected);
    if (candidates.length === 0) break;
    const pick = candidates.reduce((best, m) => {
      const zb = perZone.get(best.zone)!;
      const zm = perZone.get(m.zone)!;
      if (zm !== zb) return zm > zb ? m : best;
      if (m.launchedAt !== best.launchedAt) return m.launchedAt < best.launchedAt ? m : best;
      return m.id < best.id ? m : best;
    });
    out.push(pick.id);
    left.splice(left.indexOf(pick), 1);
  }
  return out;
}

/** What brings the group's live instances (launching or in service) to `desired`. */
export function planCapacity(desired: number, zones: readonly string[], live: readonly Member[]): CapacityPlan {
  if (live.length < desired) return { launch: launchZones(zones, live, desired - live.length), terminate: [] };
  if (live.length > desired) return { launch: [], terminate: pickForTermination(live, live.length - desired) };
  return { launch: [], terminate: [] };
}

/** Why a desired capacity is not allowed (AWS's ValidationError text), or undefined. */
export function capacityProblem(min: number, max: number, desired: number): string | undefined {
  if (max < min) return `Max bound, ${max}, must be greater than or equal to min bound, ${min}`;
  if (desired < min || desired > max)
    return `Desired capacity:${desired} must be between the specified min size:${min} and max size:${max}`;
  return undefined;
}

/** A policy's adjustment applied to a capacity, clamped to the group's bounds (ChangeInCapacity, ExactCapacity, PercentChangeInCapacity). */
export function adjustedCapacity(
  current: number,
  type: string,
  adjustment: number,
  bounds: { min: number; max: number; minMagnitude?: number },
): number {
  let next: number;
  if (type === "ExactCapacity") next = adjustment;
  else if (type === "PercentChangeInCapacity") {
    const raw = (current * adjustment) / 100;
    // AWS rounds toward zero for |raw| ≥ 1 and away from zero below 1; MinAdjustmentMagnitude floors it.
    let delta = Math.abs(raw) < 1 ? Math.sign(raw) : Math.trunc(raw);
    if (bounds.minMagnitude && Math.abs(delta) < bounds.minMagnitude) delta = Math.sign(raw) * bounds.minMagnitude;
    next = current + delta;
  } else next = current + adjustment;
  return Math.min(bounds.max, Math.max(bounds.min, next));
}
