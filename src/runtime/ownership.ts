import { existsSync } from "node:fs";
import { join } from "node:path";

/**
 * Whether the Berth that made a container (its berth.data-dir label) is gone for good: its data
 * directory no longer holds a store. Such containers are removed by whichever Berth finds them
 * (the task controller and the kubelet both ask this).
 */
export const ownerGone = (dataDir: string | undefined): boolean =>
  dataDir !== undefined && dataDir !== "" && !existsSync(join(dataDir, "berth.db"));
