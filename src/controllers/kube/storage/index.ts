/** PersistentVolumes, claims, classes, attachments and the EBS / EFS CSI provisioners: what the composition root wires. */
export type { EfsApi, InstalledDrivers } from "./api.js";
export { startStorageControllers, type StorageControllerDeps, type StorageControllers } from "./controller.js";
export { VolumeDisks } from "./disks.js";
export { type ClaimMounts, claimMounts } from "./mounts.js";
export { EBS_DRIVER, EFS_DRIVER } from "./parameters.js";
