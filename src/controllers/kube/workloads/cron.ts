import { validTimeZone, wallClock } from "../../../core/time-zones.js";
/**
 * Cron schedules as CronJobs take them (robfig/cron's standard parser, which kube uses): five
 * fields `minute hour day-of-month month day-of-week` with `*`, `?`, lists, ranges, steps and
 * names, the @yearly/@monthly/@weekly/@daily/@hourly macros and `@every <duration>`; a time zone
 * (IANA name) for the wall clock the fields are read in. PURE.
 */
export interface CronSchedule {
  /** The first time strictly after `afterMs` the schedule fires (ms), or undefined (none within 5 years). */
  next(afterMs: number): number | undefined;
}

const MACROS: Record<string, string> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
};
const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

interface Field {
  values: Set<number>;
  /** Written as `*` or `?` (matters for the day-of-month / day-of-week OR rule). */
  star: boolean;
}

function parseField(src: string, min: number, max: number, names?: string[]): Field {
  const values = new Set<number>();
  let star = false;
  const num = (s: string): number => {
    const lower = s.toLowerCase();
    const named = names?.indexOf(lower) ?? -1;
    const n = named >= 0 ? named + (names === MONTHS ? 1 : 0) : /^\d+$/.test(s) ? Number(s) : Number.NaN;
    if (Number.isNaN(n)) throw new Error(`failed to parse int from ${s}`);
    return n;
  };
  for (const part of src.split(",")) {
    const [rangePart, stepPart] = part.split("/") as [string, string | undefined];
    const step = stepPart === undefined ? 1 : num(stepPart);
    if (!(step > 0)) throw new Error(`step of range should be a positive number: ${part}`);
    let lo: number;
    let hi: number;
    if (rangePart === "*" || rangePart === "?") {
      lo = min;
      hi = max;
      if (stepPart === undefined) star = true;
    } else if (rangePart.includes("-")) {
      const [a, b] = rangePart.split("-") as [string, string];
      lo = num(a);
      hi = num(b);
    } else {
      lo = num(rangePart);
      hi = stepPart === undefined ? lo : max;
    }
    if (max === 7 && hi === 7) hi = 7; // 7 is Sunday too
    if (lo < min || hi > max || lo > hi) throw new Error(`end of range (${hi}) above maximum (${max}): ${part}`);
    for (let v = lo; v <= hi; v += step) values.add(max === 7 && v === 7 ? 0 : v);
  }
  return { values, star };
}

/** Wall-clock fields of an instant in a time zone (UTC when none). */
const fieldsOf = wallClock;

const DURATION = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g;
const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses a schedule; throws with a message like kube's validation when it is not one. */
export function parseSchedule(schedule: string, timeZone?: string): CronSchedule {
  let spec = schedule.trim();
  const tzPrefix = /^(?:CRON_TZ|TZ)=(\S+)\s+(.*)$/.exec(spec);
  let tz = timeZone;
  if (tzPrefix) {
    tz = tzPrefix[1];
    spec = tzPrefix[2] ?? "";
  }
  if (tz && !validTimeZone(tz)) throw new Error(`unknown time zone ${tz}`);
  if (spec.startsWith("@every ")) {
    const d = spec.slice(7).trim();
    let ms = 0;
    let matched = "";
    for (const m of d.matchAll(DURATION)) {
      ms += Number(m[1]) * (UNIT_MS[m[2] as string] ?? 0);
      matched += m[0];
    }
    if (matched !== d || ms <= 0) throw new Error(`failed to parse duration ${d}`);
    const every = Math.max(1000, Math.floor(ms / 1000) * 1000);
    return { next: (after) => Math.floor(after / 1000) * 1000 + every };
  }
  spec = MACROS[spec] ?? spec;
  const parts = spec.split(/\s+/);
  if (parts.length !== 5) throw new Error(`expected exactly 5 fields, found ${parts.length}: ${schedule}`);
  const [mi, ho, dom, mo, dow] = parts as [string, string, string, string, string];
  const minute = parseField(mi, 0, 59);
  const hour = parseField(ho, 0, 23);
  const day = parseField(dom, 1, 31);
  const month = parseField(mo, 1, 12, MONTHS);
  const weekday = parseField(dow, 0, 7, DAYS);
  const dayMatches = (f: ReturnType<typeof fieldsOf>) => {
    const d = day.values.has(f.day);
    const w = weekday.values.has(f.weekday);
    // robfig/cron: if either is a star, both must match (the star always does); else either.
    return day.star || weekday.star ? d && w : d || w;
  };
  return {
    next(after) {
      let t = Math.floor(after / 60_000) * 60_000 + 60_000;
      const end = after + 5 * 366 * 86_400_000;
      while (t <= end) {
        const f = fieldsOf(t, tz);
        if (!month.values.has(f.month) || !dayMatches(f)) {
          // On to this day's last hour, then hour by hour into the next day (safe across DST changes).
          t += (f.hour < 23 ? (23 - f.hour) * 3_600_000 : 3_600_000) - f.minute * 60_000;
          continue;
        }
        if (!hour.values.has(f.hour)) {
          t += 3_600_000 - f.minute * 60_000;
          continue;
        }
        if (!minute.values.has(f.minute)) {
          t += 60_000;
          continue;
        }
        return t;
      }
      return undefined;
    },
  };
}
