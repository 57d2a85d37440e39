/** PURE: reading the controller's annotations, with its parse errors (ModelError: "Failed build model due to …"). */

export class ModelError extends Error {}

export type Annotations = Record<string, string | undefined>;

export function annotationInt(a: Annotations, key: string, fallback: number): number {
  const raw = a[key];
  if (raw === undefined) return fallback;
  if (!/^-?\d+$/.test(raw.trim())) throw new ModelError(`failed to parse int32 annotation, ${key}: ${raw}`);
  return Number(raw.trim());
}

export function annotationBool(a: Annotations, key: string): boolean | undefined {
  const raw = a[key];
  if (raw === undefined) return undefined;
  const v = raw.trim().toLowerCase();
  if (["true", "1", "t"].includes(v)) return true;
  if (["false", "0", "f"].includes(v)) return false;
  throw new ModelError(`failed to parse bool annotation, ${key}: ${raw}`);
}

/** `k1=v1,k2=v2` (the controller's string-map annotations). */
export function annotationMap(a: Annotations, key: string): Record<string, string> {
  const raw = a[key];
  if (raw === undefined || raw.trim() === "") return {};
  const out: Record<string, string> = {};
  for (const part of raw.split(",")) {
    const [k, ...rest] = part.split("=");
    if (!k?.trim() || rest.length === 0) throw new ModelError(`failed to parse stringMap annotation, ${key}: ${raw}`);
    out[k.trim()] = rest.join("=").trim();
  }
  return out;
}
