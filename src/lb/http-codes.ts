/** ELBv2 health check matchers: the data plane reads them, the API validates them with the same parser. */

/** "200", "200,202", "200-299" → whether a code is in the set; undefined when the text is not a matcher. */
export function parseHttpCodeMatcher(text: string, min: number, max: number): ((code: number) => boolean) | undefined {
  const parts = text.split(",");
  const ranges: [number, number][] = [];
  for (const part of parts) {
    const m = /^(\d{3})(?:-(\d{3}))?$/.exec(part.trim());
    if (!m) return undefined;
    const lo = Number(m[1]);
    const hi = m[2] ? Number(m[2]) : lo;
    if (lo < min || hi > max || lo > hi) return undefined;
    ranges.push([lo, hi]);
  }
  return (code) => ranges.some(([lo, hi]) => code >= lo && code <= hi);
}
