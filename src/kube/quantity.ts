/**
 * resource.Quantity's canonical form, as kube-apiserver stores and returns quantities: "0.5" →
 * "500m", 1 → "1", "1024Mi" → "1Gi", "1.5Gi" → "1536Mi", "1000m" → "1". Exact (BigInt nanos,
 * rounded up below a nano as kube does); the original's suffix family (binary Ki…Ei or decimal
 * n…E) is kept; exponent forms ("1e3") are left as written. PURE.
 */

const BINARY: Record<string, number> = { Ki: 1, Mi: 2, Gi: 3, Ti: 4, Pi: 5, Ei: 6 };
const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, "": 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const FORM = /^([+-]?)(\d*)(?:\.(\d*))?(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$/;

const pow = (b: bigint, e: number) => b ** BigInt(e);

/** The canonical string of a quantity, or undefined when it is not one (validation reports that). */
export function canonicalQuantity(q: unknown): string | undefined {
  let text: string;
  if (typeof q === "number") {
    if (!Number.isFinite(q)) return undefined;
    text = Number.isInteger(q) ? q.toFixed(0) : String(q);
    if (/e/i.test(text)) text = q.toFixed(9).replace(/0+$/, "").replace(/\.$/, "");
  } else if (typeof q === "string") text = q.trim();
  else return undefined;
  const m = FORM.exec(text);
  if (!m || (m[2] === "" && (m[3] ?? "") === ""))
    return typeof q === "string" && /^[+-]?[\d.]+[eE][+-]?\d+$/.test(text) ? text : undefined;
  const sign = m[1] === "-" ? -1n : 1n;
  const intPart = m[2] ?? "";
  const frac = m[3] ?? "";
  const suffix = m[4] ?? "";
  const digits = BigInt(`${intPart}${frac}` || "0");
  const binary = suffix in BINARY;
  // value in nanos = digits * 10^(9 - frac.length + exp10) * 1024^k, rounded up.
  const exp10 = binary ? 0 : (DECIMAL[suffix] as number);
  const num = digits * (binary ? pow(1024n, BINARY[suffix] as number) : 1n);
  const scale = 9 - frac.length + exp10;
  let nanos: bigint;
  if (scale >= 0) nanos = num * pow(10n, scale);
  else {
    const d = pow(10n, -scale);
    nanos = num / d + (num % d === 0n ? 0n : 1n);
  }
  if (nanos === 0n) return "0";
  const s = sign < 0n ? "-" : "";
  if (binary && nanos % 1_000_000_000n === 0n) {
    const bytes = nanos / 1_000_000_000n;
    for (let k = 6; k >= 1; k--) {
      const unit = pow(1024n, k);
      if (bytes % unit === 0n) return `${s}${bytes / unit}${Object.keys(BINARY)[k - 1]}`;
    }
    // Not a whole number of Ki: kube falls back to the decimal form.
  }
  for (const [suf, e] of Object.entries(DECIMAL).sort((a, b) => b[1] - a[1])) {
    const unit = pow(10n, e + 9);
    if (nanos % unit === 0n) return `${s}${nanos / unit}${suf}`;
  }
  return `${s}${nanos}n`;
}
