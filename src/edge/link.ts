import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { createServer } from "node:net";

/**
 * The edge as the parts built before it reach it: the port it listens on (ECR's registry host,
 * which is known once Berth listens when the configured port is 0) and its request handler
 * (the task endpoint passes on what is not for it). Attached once the edge server exists.
 */
export class EdgeLink {
  private server?: Server;

  constructor(private readonly configuredPort: number) {}

  attach(server: Server) {
    this.server = server;
  }

  /** The port the edge listens on, or the configured one before it listens. */
  port(): number {
    const addr = this.server?.address();
    return typeof addr === "object" && addr ? addr.port : this.configuredPort;
  }

  /**
   * Makes the edge answer on one more address (the instance hosts' bridge gateway), with the
   * same port: connections accepted there are handed to the one HTTP server.
   */
  listenAlso(host: string): Promise<void> {
    const server = this.server;
    if (!server) return Promise.reject(new Error("the edge is not listening yet"));
    const extra = createServer((socket) => server.emit("connection", socket));
    server.on("close", () => extra.close());
    return new Promise((resolve, reject) => {
      extra.once("error", reject);
      extra.listen(this.port(), host, () => resolve());
    });
  }

  /** Hands a request to the edge. */
  handle(req: IncomingMessage, res: ServerResponse) {
    this.server?.emit("request", req, res);
  }
}
