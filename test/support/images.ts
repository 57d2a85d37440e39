import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The image integration tests run: FROM scratch with Debian's static busybox (sh, httpd, nc, wget, sleep). */
export const BUSYBOX_IMAGE = "berth-test/busybox:2";

/** Builds the local test images (nothing is pulled from a registry). Idempotent. */
export async function buildTestImages() {
  try {
    execFileSync("docker", ["image", "inspect", BUSYBOX_IMAGE], { stdio: "ignore" });
    return;
  } catch {
    // not built yet
  }
  const dir = mkdtempSync(join(tmpdir(), "berth-img-"));
  try {
    copyFileSync("/bin/busybox", join(dir, "busybox"));
    writeFileSync(
      join(dir, "Dockerfile"),
      [
        "FROM scratch",
        "COPY busybox /bin/busybox",
        'RUN ["/bin/busybox", "--install", "-s", "/bin"]',
        'RUN ["/bin/busybox", "mkdir", "-p", "/tmp", "/www"]',
        "ENV PATH=/bin",
        'CMD ["sh"]',
      ].join("\n"),
    );
    execFileSync("docker", ["build", "-q", "-t", BUSYBOX_IMAGE, dir], { stdio: "inherit" });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
