#!/usr/bin/env node
import { join } from "node:path";
import { loadConfig } from "./config/config.js";
import { systemClock } from "./core/clock.js";
import { createLogger } from "./core/logger.js";
import { createEdgeServer } from "./edge/server.js";
import { openDb } from "./store/db.js";
import { DocumentStore } from "./store/documents.js";
import { logsService } from "./services/logs/provider.js";
import { stsService } from "./services/sts/provider.js";

/** Composition root: builds config, store, clock, runtime, services and controllers; no logic. */
async function main() {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const db = openDb(join(config.dataDir, "berth.db"));
  const store = new DocumentStore(db);
  const clock = systemClock;
  const logs = logsService({ db, store, clock });
  const services = [stsService(), logs.service];
  const server = createEdgeServer({ config, services, logger });
  server.listen(config.port, config.host, () => {
    const addr = server.address();
    const port = typeof addr === "object" && addr ? addr.port : config.port;
    logger.info({ port, host: config.host, dataDir: config.dataDir }, "berth ready");
    // A line tests and scripts can wait for, on stdout.
    process.stdout.write(`berth listening on http://${config.host}:${port}\n`);
  });
  const shutdown = (signal: string) => {
    logger.info({ signal }, "shutting down");
    server.close();
    server.closeAllConnections();
    db.close();
    process.exit(0);
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
}

main().catch((err) => {
  process.stderr.write(`berth failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
