import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BUSYBOX_IMAGE } from "./images.js";

/** Marks images tests build, so the suite's teardown removes them (and their copies pulled back). */
export const VARIANT_LABEL = "berth.test-variant=1";

/** Removes every image a test built from a variant (suite teardown). */
export function removeVariantImages() {
  const ids = execFileSync("docker", ["images", "-q", "--filter", `label=${VARIANT_LABEL}`], { encoding: "utf8" })
    .split("\n")
    .filter(Boolean);
  if (ids.length) execFileSync("docker", ["rmi", "-f", ...new Set(ids)], { stdio: "ignore" });
}

/** The docker CLI with its own config dir, so logins in tests never touch the user's. */
export class DockerCli {
  readonly configDir = mkdtempSync(join(tmpdir(), "berth-docker-config-"));

  run(args: string[], input?: string): string {
    return execFileSync("docker", args, {
      encoding: "utf8",
      input,
      env: { ...process.env, DOCKER_CONFIG: this.configDir },
      stdio: ["pipe", "pipe", "pipe"],
    });
  }

  /** Runs and returns { ok, output } instead of throwing, for expected failures. */
  attempt(args: string[], input?: string): { ok: boolean; output: string } {
    try {
      return { ok: true, output: this.run(args, input) };
    } catch (e) {
      const err = e as { stdout?: string; stderr?: string };
      return { ok: false, output: `${err.stdout ?? ""}${err.stderr ?? ""}` };
    }
  }

  /** A small image FROM the busybox test image whose content differs by `variant`. */
  buildVariant(tag: string, variant: string) {
    const dir = mkdtempSync(join(tmpdir(), "berth-variant-"));
    try {
      writeFileSync(join(dir, "variant.txt"), variant);
      writeFileSync(
        join(dir, "Dockerfile"),
        `FROM ${BUSYBOX_IMAGE}\nLABEL ${VARIANT_LABEL}\nCOPY variant.txt /variant.txt\n`,
      );
      this.run(["build", "-q", "-t", tag, dir]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  removeImages(...refs: string[]) {
    for (const r of refs) this.attempt(["rmi", "-f", r]);
  }

  dispose() {
    rmSync(this.configDir, { recursive: true, force: true });
  }
}
