import { randomUUID } from "node:crypto";
import type { DocumentStore } from "./documents.js";

const SYSTEM = { account: "-", region: "-" };

/** A random id created with the data directory: labels tie Docker objects to this store. */
export function storeIdentity(store: DocumentStore): string {
  const meta = store.collection<{ id: string; storeId: string }>("berth.meta", { id: (m) => m.id });
  const existing = meta.get(SYSTEM, "identity");
  if (existing) return existing.storeId;
  return meta.put(SYSTEM, { id: "identity", storeId: randomUUID() }).storeId;
}
