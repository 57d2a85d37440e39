/**
 * Wire timestamps → Date, shared by every protocol. Accepted: epoch seconds (number or numeric
 * text, fractions allowed — awsJson and restJson bodies), ISO 8601 date-times (query, restJson
 * query strings) and HTTP dates (restJson headers). Anything else, including impossible
 * calendar dates, is undefined so the caller can reject it with a SerializationException.
 */
export function parseTimestamp(value: unknown): Date | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? valid(fromEpochSeconds(value)) : undefined;
  if (typeof value !== "string") return undefined;
  const s = value.trim().toUpperCase();
  if (/^-?\d+(\.\d+)?$/.test(s)) return valid(fromEpochSeconds(Number(s)));
  const iso = ISO_8601.exec(s);
  if (iso) {
    if (!dayExists(+iso[1], +iso[2], +iso[3])) return undefined;
    // A date-time without an offset is UTC, as AWS reads it (JavaScript would take local time).
    return valid(new Date(iso[4] && !iso[5] ? `${s}Z` : s));
  }
  const http = HTTP_DATE.exec(s);
  if (http) {
    const month = MONTHS.indexOf(http[2]) + 1;
    if (!dayExists(+http[3], month, +http[1])) return undefined;
    return valid(new Date(s));
  }
  return undefined;
}

/** Epoch seconds → Date, exact to the millisecond (`s * 1000` alone is off by one ms for ~1 value in 160). */
export const fromEpochSeconds = (seconds: number) => new Date(Math.round(seconds * 1000));

const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})(T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
const HTTP_DATE = /^[A-Z]{3}, (\d{1,2}) ([A-Z]{3}) (\d{4}) \d{2}:\d{2}:\d{2} (?:GMT|UTC)$/;
const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];

const dayExists = (year: number, month: number, day: number) =>
  month >= 1 && month <= 12 && day >= 1 && new Date(Date.UTC(year, month - 1, day)).getUTCDate() === day;

const valid = (d: Date) => (Number.isNaN(d.getTime()) ? undefined : d);
