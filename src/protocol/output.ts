import { type ServiceModel, type Shape, type ShapeRef, shapeOf } from "./model.js";
import { setEntry } from "./validate.js";

/** How one protocol writes a scalar (timestamps, blobs, numbers) of the shape given. */
export type LeafEncoder = (shape: Shape, ref: ShapeRef, value: unknown) => unknown;

/**
 * Typed output → a plain value following the model: structures, lists and maps are walked the
 * same way for every body protocol; only the scalars differ. Members bound to HTTP (restJson's
 * headers, status code) are left out of the body; unknown members are dropped.
 */
export function outputWalker(leaf: LeafEncoder) {
  const walk = (model: ServiceModel, ref: ShapeRef, value: unknown): unknown => {
    if (value === undefined || value === null) return undefined;
    const shape = shapeOf(model, ref);
    if (shape.document) return value;
    switch (shape.type) {
      case "structure": {
        const out: Record<string, unknown> = {};
        const input = value as Record<string, unknown>;
        for (const [name, member] of Object.entries(shape.members ?? {})) {
          if (member.location) continue;
          const v = walk(model, member, input[name]);
          if (v !== undefined) out[name] = v;
        }
        return out;
      }
      case "list":
        return (value as unknown[]).map((item) => walk(model, shape.member!, item));
      case "map": {
        const out: Record<string, unknown> = {};
        for (const [k, item] of Object.entries(value as Record<string, unknown>))
          setEntry(out, k, walk(model, shape.value!, item));
        return out;
      }
      default:
        return leaf(shape, ref, value);
    }
  };
  return walk;
}
