import { validTimeZone, wallClock } from "../../core/time-zones.js";
/**
 * Application Auto Scaling schedule expressions, pure: `at(yyyy-mm-ddThh:mm:ss)`,
 * `rate(N minute|minutes|hour|hours|day|days)` and `cron(minutes hours day-of-month month
 * day-of-week year)`, evaluated in UTC or an IANA time zone.
 */

interface LocalTime {
  y: number;
  mo: number;
  d: number;
  h: number;
  mi: number;
  s: number;
}

interface CronFields {
  minutes: number[];
  hours: number[];
  /** Days of the month; "last" for `L`; undefined for `?`. */
  dom?: Set<number> | "last";
  months: Set<number>;
  /** Days of the week, 1 = Sunday … 7 = Saturday; undefined for `?`. */
  dow?: Set<number>;
  /** Undefined: any year. */
  years?: Set<number>;
}

export type Schedule =
  | { kind: "at"; at: LocalTime }
  | { kind: "rate"; ms: number }
  | { kind: "cron"; fields: CronFields };

export class ScheduleError extends Error {}

const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

function parseField(text: string, name: string, min: number, max: number, names?: string[]): Set<number> {
  const out = new Set<number>();
  const value = (v: string): number => {
    const upper = v.toUpperCase();
    const named = names?.indexOf(upper) ?? -1;
    if (named >= 0) return named + min;
    if (!/^\d+$/.test(v)) throw new ScheduleError(`"${v}" is not a valid value for the ${name} field.`);
    const n = Number(v);
    if (n < min || n > max) throw new ScheduleError(`${name} must be between ${min} and ${max}; got ${n}.`);
    return n;
  };
  for (const part of text.split(",")) {
    if (part === "") throw new ScheduleError(`The ${name} field has an empty list item.`);
    const [range, stepText] = part.split("/");
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1)
      throw new ScheduleError(`"${stepText}" is not a valid step in the ${name} field.`);
    let from: number;
    let to: number;
    if (range === "*") {
      from = min;
      to = max;
    } else if (range.includes("-")) {
      const [a, b] = range.split("-");
      from = value(a);
      to = value(b);
      if (from > to) throw new ScheduleError(`The range ${range} in the ${name} field runs backwards.`);
    } else {
      from = value(range);
      to = stepText === undefined ? from : max;
    }
    for (let n = from; n <= to; n += step) out.add(n);
  }
  return out;
}

const pad = (n: number, w = 2) => String(n).padStart(w, "0");

/** Parses a schedule expression; throws ScheduleError saying what is wrong. */
export function parseSchedule(expression: string): Schedule {
  const m = /^(at|rate|cron)\((.*)\)$/.exec(expression.trim());
  if (!m) throw new ScheduleError("A schedule is at(yyyy-mm-ddThh:mm:ss), rate(value unit) or cron(fields).");
  const [, kind, body] = m;
  if (kind === "at") {
    const t = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/.exec(body);
    if (!t) throw new ScheduleError("at() takes a time as yyyy-mm-ddThh:mm:ss.");
    const [y, mo, d, h, mi, s] = t.slice(1).map(Number);
    const check = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
    if (
      check.getUTCFullYear() !== y ||
      check.getUTCMonth() !== mo - 1 ||
      check.getUTCDate() !== d ||
      check.getUTCHours() !== h ||
      check.getUTCMinutes() !== mi ||
      check.getUTCSeconds() !== s
    )
      throw new ScheduleError(`at(${body}) is not a real date and time.`);
    return { kind: "at", at: { y, mo, d, h, mi, s } };
  }
  if (kind === "rate") {
    const r = /^(\d+) (minute|minutes|hour|hours|day|days)$/.exec(body);
    if (!r) throw new ScheduleError("rate() takes a positive whole number and a unit: minute(s), hour(s) or day(s).");
    const n = Number(r[1]);
    if (n < 1) throw new ScheduleError("The value in rate() must be at least 1.");
    if ((n === 1) !== !r[2].endsWith("s"))
      throw new ScheduleError(`Use the singular unit for 1 and the plural otherwise: rate(${n} ${r[2]}) is not valid.`);
    const unit = r[2].startsWith("minute") ? 60_000 : r[2].startsWith("hour") ? 3_600_000 : 86_400_000;
    return { kind: "rate", ms: n * unit };
  }
  const parts = body.trim().split(/\s+/);
  if (parts.length !== 6)
    throw new ScheduleError(
      `cron() takes six fields (minutes hours day-of-month month day-of-week year); got ${parts.length}.`,
    );
  const [min, hour, dom, month, dow, year] = parts;
  if ((dom === "?") === (dow === "?"))
    throw new ScheduleError("Exactly one of the day-of-month and day-of-week fields must be ? in cron().");
  for (const [text, name] of [
    [dom, "day-of-month"],
    [dow, "day-of-week"],
  ])
    if (/[W#]/i.test(text) || (name === "day-of-week" && /L/i.test(text)))
      throw new ScheduleError(`Berth does not support W, # or L in the ${name} field of cron() yet.`);
  return {
    kind: "cron",
    fields: {
      minutes: [...parseField(min, "minutes", 0, 59)].sort((a, b) => a - b),
      hours: [...parseField(hour, "hours", 0, 23)].sort((a, b) => a - b),
      dom: dom === "?" ? undefined : dom.toUpperCase() === "L" ? "last" : parseField(dom, "day-of-month", 1, 31),
      months: parseField(month, "month", 1, 12, MONTHS),
      dow: dow === "?" ? undefined : parseField(dow, "day-of-week", 1, 7, DAYS),
      years: year === "*" ? undefined : parseField(year, "year", 1970, 2199),
    },
  };
}

/** Whether an IANA time zone name is known. */
export const validTimezone = validTimeZone;

function partsIn(ms: number, tz: string): LocalTime {
  const w = wallClock(ms, tz);
  return { y: w.year, mo: w.month, d: w.day, h: w.hour, mi: w.minute, s: w.second };
}

const utcOf = (t: LocalTime) => Date.UTC(t.y, t.mo - 1, t.d, t.h, t.mi, t.s);

/**
 * A wall-clock time in a zone → epoch ms: the earlier instant when the time occurs twice (DST
 * ends), the instant right after the gap when it does not occur at all (DST starts).
 */
export function zonedToEpoch(t: LocalTime, tz: string): number {
  const guess = utcOf(t);
  const offsetAt = (ms: number) => utcOf(partsIn(ms, tz)) - ms;
  const first = guess - offsetAt(guess);
  const second = guess - offsetAt(first);
  const candidates = [first, second, guess - offsetAt(second)];
  const exact = candidates.filter((c) => utcOf(partsIn(c, tz)) === guess);
  return exact.length ? Math.min(...exact) : Math.max(...candidates);
}

const daysInMonth = (y: number, mo: number) => new Date(Date.UTC(y, mo, 0)).getUTCDate();

function dayMatches(f: CronFields, y: number, mo: number, d: number): boolean {
  if (!f.months.has(mo)) return false;
  if (f.years && !f.years.has(y)) return false;
  if (f.dom === "last") return d === daysInMonth(y, mo);
  if (f.dom) return f.dom.has(d);
  const weekday = new Date(Date.UTC(y, mo - 1, d)).getUTCDay() + 1;
  return f.dow!.has(weekday);
}

/** The first time after `afterMs` (exclusive) a cron expression fires in zone `tz`, looking up to ~5 years ahead. */
export function nextCron(f: CronFields, afterMs: number, tz: string): number | undefined {
  const start = partsIn(afterMs, tz);
  let day = Date.UTC(start.y, start.mo - 1, start.d);
  for (let i = 0; i < 366 * 5 + 2; i++, day += 86_400_000) {
    const date = new Date(day);
    const y = date.getUTCFullYear();
    const mo = date.getUTCMonth() + 1;
    const d = date.getUTCDate();
    if (f.years && y > Math.max(...f.years)) return undefined;
    if (!dayMatches(f, y, mo, d)) continue;
    for (const h of f.hours)
      for (const mi of f.minutes) {
        const t = zonedToEpoch({ y, mo, d, h, mi, s: 0 }, tz);
        if (t > afterMs) return t;
      }
  }
  return undefined;
}

export interface ScheduleWindow {
  timezone?: string;
  /** Epoch ms; occurrences before it are skipped (and rate() counts from it). */
  startTime?: number;
  /** Epoch ms; no occurrence after it. */
  endTime?: number;
  /** When the action was created: rate() without a StartTime counts from it. */
  createdAt: number;
}

/** The first occurrence after `afterMs` (exclusive), or undefined when there is none. */
export function nextOccurrence(s: Schedule, afterMs: number, w: ScheduleWindow): number | undefined {
  const tz = w.timezone ?? "UTC";
  const from = Math.max(afterMs, (w.startTime ?? Number.NEGATIVE_INFINITY) - 1);
  let t: number | undefined;
  if (s.kind === "at") {
    const at = zonedToEpoch(s.at, tz);
    t = at > from ? at : undefined;
  } else if (s.kind === "rate") {
    const anchor = w.startTime ?? w.createdAt + s.ms;
    t = from < anchor ? anchor : anchor + (Math.floor((from - anchor) / s.ms) + 1) * s.ms;
  } else {
    t = nextCron(s.fields, from, tz);
  }
  if (t === undefined || (w.endTime !== undefined && t > w.endTime)) return undefined;
  return t;
}

/** The latest occurrence in (fromMs, toMs], or undefined (missed earlier ones are not replayed). */
export function latestDue(s: Schedule, fromMs: number, toMs: number, w: ScheduleWindow): number | undefined {
  let t = nextOccurrence(s, fromMs, w);
  if (t === undefined || t > toMs) return undefined;
  if (s.kind === "rate") {
    const n = Math.floor((toMs - t) / s.ms);
    const last = t + n * s.ms;
    return w.endTime !== undefined && last > w.endTime ? t + Math.floor((w.endTime - t) / s.ms) * s.ms : last;
  }
  for (let i = 0; i < 10_000; i++) {
    const next = nextOccurrence(s, t, w);
    if (next === undefined || next > toMs) break;
    t = next;
  }
  return t;
}

/** A schedule as text in a zone, for activity messages. */
export const describeTime = (ms: number) => {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}Z`;
};
