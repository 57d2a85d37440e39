import { createHmac } from "node:crypto";
import type { Collection, DocumentStore } from "../store/documents.js";

/** What an id in a task's credential or metadata URI stands for. */
export interface EndpointIdRecord {
  id: string;
  kind: "credentials" | "metadata";
  taskArn: string;
  /** Metadata ids are per container. */
  container?: string;
}

const SYSTEM = { account: "-", region: "-" };

/**
 * The unguessable ids in `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` and `ECS_CONTAINER_METADATA_URI_V4`.
 * They are derived from the task (a MAC with a per-data-directory secret), so a container that
 * restarts gets the same one, and remembered in the store, so they survive a Berth restart.
 */
export class EndpointIds {
  private readonly ids: Collection<EndpointIdRecord>;

  constructor(
    store: DocumentStore,
    private readonly secret: string,
  ) {
    this.ids = store.collection<EndpointIdRecord>("agent.endpointId", { id: (r) => r.id, parent: (r) => r.taskArn });
  }

  private mac(text: string) {
    return createHmac("sha256", this.secret).update(text).digest("hex");
  }

  /** The credentials id of a task (UUID-shaped like the ECS agent's). */
  credentials(taskArn: string): string {
    const h = this.mac(`credentials\n${taskArn}`);
    const id = `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
    this.remember({ id, kind: "credentials", taskArn });
    return id;
  }

  /** The metadata id of one container: `<task id>-<mac>`, like the agent's `<task id>-<n>`. */
  metadata(taskArn: string, container: string): string {
    const id = `${taskArn.split("/").pop()}-${this.mac(`metadata\n${taskArn}\n${container}`).slice(0, 12)}`;
    this.remember({ id, kind: "metadata", taskArn, container });
    return id;
  }

  resolve(id: string): EndpointIdRecord | undefined {
    return this.ids.get(SYSTEM, id);
  }

  /** Forgets every id of a task (it stopped). */
  forget(taskArn: string) {
    for (const r of this.ids.children(SYSTEM, taskArn)) this.ids.delete(SYSTEM, r.id);
  }

  /** Every task that still has ids (for pruning). */
  tasks(): string[] {
    return [...new Set(this.ids.listAll().map((r) => r.doc.taskArn))];
  }

  private remember(r: EndpointIdRecord) {
    const existing = this.ids.get(SYSTEM, r.id);
    if (!existing) this.ids.put(SYSTEM, r);
  }
}
