import { randomBytes, randomUUID } from "node:crypto";
import type { DocumentStore } from "./documents.js";

const SYSTEM = { account: "-", region: "-" };

/** A random id created with the data directory: labels tie Docker objects to this store. */
export function storeIdentity(store: DocumentStore): string {
  const meta = store.collection<{ id: string; storeId: string }>("berth.meta", { id: (m) => m.id });
  const existing = meta.get(SYSTEM, "identity");
  if (existing) return existing.storeId;
  return meta.put(SYSTEM, { id: "identity", storeId: randomUUID() }).storeId;
}

/** A random secret created once per data directory (e.g. for signing registry passwords). */
export function storeSecret(store: DocumentStore, name: string): string {
  const meta = store.collection<{ id: string; secret: string }>("berth.secret", { id: (m) => m.id });
  const existing = meta.get(SYSTEM, name);
  if (existing) return existing.secret;
  return meta.put(SYSTEM, { id: name, secret: randomBytes(32).toString("base64url") }).secret;
}
