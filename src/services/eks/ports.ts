import { createServer } from "node:net";

/** The API server ports of clusters: one per cluster from a range, kept in the record. */
export interface PortRange {
  base: number;
  count: number;
}

/** The ports of the range not held by a cluster, in order. PURE. */
export function candidatePorts(range: PortRange, taken: ReadonlySet<number>): number[] {
  const out: number[] = [];
  for (let p = range.base; p < range.base + range.count && p <= 65535; p++) if (!taken.has(p)) out.push(p);
  return out;
}

/** Whether nothing listens on the port on `host` right now. */
export function portIsFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** The first free port of the range no cluster holds, or undefined when the range is used up. */
export async function allocatePort(
  range: PortRange,
  taken: ReadonlySet<number>,
  host: string,
  isFree: (port: number, host: string) => Promise<boolean> = portIsFree,
): Promise<number | undefined> {
  for (const port of candidatePorts(range, taken)) if (await isFree(port, host)) return port;
  return undefined;
}
