import type { Host } from "./host.js";

export type HostChange = { type: "added" | "removed"; host: Host };

/**
 * The one registry of hosts. The composition root adds the local Docker host; agent hosts come
 * and go as their channels connect and close. The views over it (ECS container instances, EKS
 * nodes, the task controller's runtimes) ask it which hosts exist, or follow its changes.
 */
export class HostRegistry {
  private readonly hosts = new Map<string, Host>();
  private readonly listeners = new Set<(change: HostChange) => void>();

  constructor(hosts: Host[] = []) {
    for (const h of hosts) this.add(h);
  }

  add(host: Host): void {
    if (this.hosts.has(host.id)) throw new Error(`host ${host.id} is already registered`);
    this.hosts.set(host.id, host);
    this.emit({ type: "added", host });
  }

  /** Takes a host out (its channel closed); nothing when it is not there. */
  remove(id: string): void {
    const host = this.hosts.get(id);
    if (!host) return;
    this.hosts.delete(id);
    this.emit({ type: "removed", host });
  }

  get(id: string): Host | undefined {
    return this.hosts.get(id);
  }

  /** Every host, in the order they joined. */
  list(): Host[] {
    return [...this.hosts.values()];
  }

  /** Follows hosts coming and going; returns the unsubscribe function. */
  onChange(listener: (change: HostChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(change: HostChange) {
    for (const l of this.listeners) l(change);
  }
}
