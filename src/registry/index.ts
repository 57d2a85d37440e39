import { join } from "node:path";
import type { Clock } from "../core/clock.js";
import type { Logger } from "../core/logger.js";
import type { Db } from "../store/db.js";
import { FilesystemDriver } from "./driver/filesystem.js";
import type { GcOptions } from "./gc.js";
import { OciRegistry } from "./registry.js";

export type { RegistryRouteDeps } from "./http/router.js";
export { createRegistryRoute } from "./http/router.js";
export { OciRegistry } from "./registry.js";

/** The registry on `<dataDir>/registry/` with its metadata in Berth's database. */
export function createRegistry(deps: {
  db: Db;
  dataDir: string;
  clock: Clock;
  logger?: Logger;
  gc?: Partial<GcOptions>;
}): OciRegistry {
  return new OciRegistry({
    db: deps.db,
    driver: new FilesystemDriver(join(deps.dataDir, "registry")),
    clock: deps.clock,
    logger: deps.logger,
    gc: deps.gc,
  });
}
