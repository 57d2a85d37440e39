import { type ServiceModel, type ShapeRef, shapeOf } from "../model.js";

/**
 * XML text escaping as AWS and the SDKs do it. Line breaks become character references: an
 * XML parser turns a raw CR (and CRLF) into LF, so "a\rb" would otherwise arrive as "a\nb".
 */
const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&apos;",
  "\r": "&#xD;",
  "\n": "&#xA;",
  "\u0085": "&#x85;",
  "\u2028": "&#x2028;",
};
export const escapeXml = (s: string) => s.replace(/[&<>"'\r\n\u0085\u2028]/g, (c) => ESCAPES[c]);

/** Typed value → XML element `<name>…</name>` following the model (awsQuery response bodies). */
export function toXml(model: ServiceModel, ref: ShapeRef, value: unknown, name: string): string {
  if (value === undefined || value === null) return "";
  const shape = shapeOf(model, ref);
  switch (shape.type) {
    case "structure": {
      let inner = "";
      const input = value as Record<string, unknown>;
      for (const [member, mref] of Object.entries(shape.members ?? {}))
        inner += toXml(model, mref, input[member], mref.locationName ?? member);
      return `<${name}>${inner}</${name}>`;
    }
    case "list": {
      const items = value as unknown[];
      const member = shape.member!;
      if (ref.flattened || shape.flattened)
        return items.map((item) => toXml(model, member, item, member.locationName ?? name)).join("");
      const itemName = member.locationName ?? "member";
      return `<${name}>${items.map((item) => toXml(model, member, item, itemName)).join("")}</${name}>`;
    }
    case "map": {
      const k = shape.key?.locationName ?? "key";
      const v = shape.value?.locationName ?? "value";
      const entries = Object.entries(value as Record<string, unknown>).map(
        ([key, item]) => `<${k}>${escapeXml(key)}</${k}>${toXml(model, shape.value!, item, v)}`,
      );
      if (ref.flattened || shape.flattened) return entries.map((e) => `<${name}>${e}</${name}>`).join("");
      return `<${name}>${entries.map((e) => `<entry>${e}</entry>`).join("")}</${name}>`;
    }
    case "timestamp": {
      const date = value instanceof Date ? value : new Date(value as string);
      return `<${name}>${date.toISOString()}</${name}>`;
    }
    case "blob":
      return `<${name}>${Buffer.from(value as Uint8Array).toString("base64")}</${name}>`;
    default:
      return `<${name}>${escapeXml(String(value))}</${name}>`;
  }
}
