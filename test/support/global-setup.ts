import type { TestProject } from "vitest/node";
import { buildTestImages } from "./images.js";
import { type RunningBerth, startBerth } from "./berth.js";
import { removeVariantImages } from "./docker.js";
import { removeContainersOf } from "./ecs.js";

let berth: RunningBerth | undefined;

/** One shared Berth for the integration suite; tests that restart Berth start their own. */
export async function setup(project: TestProject) {
  await buildTestImages();
  berth = await startBerth();
  project.provide("endpoint", berth.endpoint);
}

export async function teardown() {
  if (!berth) return;
  const code = await berth.stop();
  removeContainersOf(berth.dataDir);
  try {
    removeVariantImages();
  } catch {
    // an image still in use elsewhere stays; it is removed next time
  }
  if (code !== 0) throw new Error(`shared berth exited with ${code}:\n${berth.output().slice(-4000)}`);
}

declare module "vitest" {
  export interface ProvidedContext {
    endpoint: string;
  }
}
