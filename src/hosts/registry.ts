import type { Host } from "./host.js";

/**
 * The one registry of hosts. Built by the composition root (the local Docker host today); the
 * views over it (ECS container instances, later EKS nodes) ask it which hosts exist.
 */
export class HostRegistry {
  private readonly hosts = new Map<string, Host>();

  constructor(hosts: Host[] = []) {
    for (const h of hosts) this.add(h);
  }

  add(host: Host): void {
    if (this.hosts.has(host.id)) throw new Error(`host ${host.id} is already registered`);
    this.hosts.set(host.id, host);
  }

  get(id: string): Host | undefined {
    return this.hosts.get(id);
  }

  /** Every host, in the order they joined. */
  list(): Host[] {
    return [...this.hosts.values()];
  }
}
