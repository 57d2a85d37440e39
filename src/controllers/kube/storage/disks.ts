/**
 * EBS-class volumes on the host: the one module that knows their layout. Each volume is the
 * directory `<dataDir>/ebs/<account>/<region>/<vol-id>/`, made when the volume is provisioned and
 * removed only when the volume is deleted (reclaimPolicy Delete), so its data outlives pods,
 * nodes and restarts.
 */
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Scope } from "../../../core/ids.js";

export class VolumeDisks {
  constructor(private readonly dataDir: string) {}

  /** The host directory of a volume (ids are `vol-` + hex, so they cannot leave the root). */
  path(scope: Scope, volumeId: string): string {
    if (!/^vol-[0-9a-f]+$/.test(volumeId)) throw new Error(`not an EBS volume id: ${volumeId}`);
    return join(this.dataDir, "ebs", scope.account, scope.region, volumeId);
  }

  create(scope: Scope, volumeId: string): string {
    const dir = this.path(scope, volumeId);
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    return dir;
  }

  exists(scope: Scope, volumeId: string): boolean {
    return existsSync(this.path(scope, volumeId));
  }

  remove(scope: Scope, volumeId: string) {
    rmSync(this.path(scope, volumeId), { recursive: true, force: true });
  }
}
