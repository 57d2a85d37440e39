/**
 * How a document is written to the store: JSON text plus the list of paths that held Dates.
 * Dates are named explicitly so a user string that merely looks like a timestamp (a docker label,
 * a Kubernetes annotation) comes back byte for byte, and a Date comes back as a Date.
 */

/** A path from the document's root to a member: object keys and array indices. */
export type DocPath = (string | number)[];

export interface EncodedDocument {
  body: string;
  /** JSON array of the DocPaths that held Dates ("[]" when none). */
  dates: string;
}

export function encodeDocument(doc: unknown): EncodedDocument {
  const dates: DocPath[] = [];
  collectDates(doc, [], dates);
  return { body: JSON.stringify(doc), dates: JSON.stringify(dates) };
}

export function decodeDocument<T>(body: string, dates: string): T {
  const doc = JSON.parse(body) as unknown;
  const paths = JSON.parse(dates) as DocPath[];
  if (paths.length === 0) return doc as T;
  for (const path of paths) {
    if (path.length === 0) return new Date(doc as string) as T;
    let holder = doc as Record<string | number, unknown>;
    for (const key of path.slice(0, -1)) holder = holder[key] as Record<string | number, unknown>;
    const last = path[path.length - 1]!;
    holder[last] = new Date(holder[last] as string);
  }
  return doc as T;
}

function collectDates(value: unknown, path: DocPath, out: DocPath[]) {
  if (value instanceof Date) {
    // An invalid Date serializes as null; there is nothing to revive.
    if (!Number.isNaN(value.getTime())) out.push([...path]);
    return;
  }
  if (value === null || typeof value !== "object") return;
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      path.push(i);
      collectDates(item, path, out);
      path.pop();
    });
    return;
  }
  // Only plain members JSON.stringify writes: skip undefined and functions; toJSON objects other
  // than Date are not walked (their JSON is theirs).
  if (typeof (value as { toJSON?: unknown }).toJSON === "function") return;
  for (const [key, item] of Object.entries(value)) {
    if (item === undefined || typeof item === "function") continue;
    path.push(key);
    collectDates(item, path, out);
    path.pop();
  }
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const TIME_KEY = /(At|Time|Date|Timestamp)$/;
/**
 * How documents were read before dates were explicit (ISO text under a time-named key became a
 * Date). Used once, by the migration that re-encodes documents written by older Berths.
 */
export const reviveLegacyDocument = <T>(body: string): T =>
  JSON.parse(body, (k, v) => (typeof v === "string" && TIME_KEY.test(k) && ISO.test(v) ? new Date(v) : v));
