import type { Server } from "node:net";

/**
 * Binds a listener's socket: exclusively (never shared with a cluster worker) and with a deep
 * backlog for bursts of new connections; rejects with the bind error (EADDRINUSE, EACCES, …).
 */
export function listenExclusive(server: Server, address: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once("error", onError);
    server.listen({ host: address, port, exclusive: true, backlog: 1024 }, () => {
      server.off("error", onError);
      resolve();
    });
  });
}
