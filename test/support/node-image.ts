import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * An image holding Node.js and the AWS SDK for JavaScript v3, built FROM scratch out of the host's
 * own `node` binary, the shared libraries `ldd` names, and the SDK packages from this repository's
 * node_modules. Nothing is pulled from a registry. Its entry point is `node`.
 */
export const NODE_SDK_IMAGE = "berth-test/node-sdk:1";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const CLIENTS = ["@aws-sdk/client-sts", "@aws-sdk/client-ssm", "@aws-sdk/client-secrets-manager"];

/** The packages the SDK clients need at run time (their dependency closure). */
function sdkPackages(): string[] {
  const seen = new Set<string>();
  const resolvePkg = (name: string, from: string): string | undefined => {
    let dir = from;
    for (;;) {
      const p = join(dir, "node_modules", name, "package.json");
      if (existsSync(p)) return dirname(p);
      const up = dirname(dir);
      if (up === dir) return undefined;
      dir = up;
    }
  };
  const walk = (dir: string) => {
    if (seen.has(dir)) return;
    seen.add(dir);
    const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
      dependencies?: Record<string, string>;
    };
    for (const dep of Object.keys(pkg.dependencies ?? {})) {
      const found = resolvePkg(dep, dir);
      if (found) walk(found);
    }
  };
  for (const c of CLIENTS) {
    const found = resolvePkg(c, root);
    if (!found) throw new Error(`${c} is not installed; run npm install`);
    walk(found);
  }
  return [...seen];
}

/** Builds the image unless it exists (idempotent). */
export function buildNodeSdkImage() {
  try {
    execFileSync("docker", ["image", "inspect", NODE_SDK_IMAGE], { stdio: "ignore" });
    return;
  } catch {
    // not built yet
  }
  const dir = mkdtempSync(join(tmpdir(), "berth-node-img-"));
  try {
    const node = realpathSync(process.execPath);
    mkdirSync(join(dir, "rootfs/bin"), { recursive: true });
    cpSync(node, join(dir, "rootfs/bin/node"));
    // Every shared library the binary loads, at the path the loader looks for it.
    const libs = execFileSync("ldd", [node], { encoding: "utf8" })
      .split("\n")
      .map((l) => /(\/\S+)\s+\(0x/.exec(l)?.[1])
      .filter((p): p is string => !!p);
    for (const lib of libs) {
      mkdirSync(join(dir, "rootfs", dirname(lib)), { recursive: true });
      cpSync(realpathSync(lib), join(dir, "rootfs", lib));
    }
    for (const pkg of sdkPackages()) cpSync(pkg, join(dir, "rootfs/app", relative(root, pkg)), { recursive: true });
    mkdirSync(join(dir, "rootfs/tmp"), { recursive: true });
    writeFileSync(
      join(dir, "Dockerfile"),
      ["FROM scratch", "COPY rootfs/ /", "ENV PATH=/bin HOME=/tmp", "WORKDIR /app", 'ENTRYPOINT ["/bin/node"]'].join(
        "\n",
      ),
    );
    execFileSync("docker", ["build", "-q", "-t", NODE_SDK_IMAGE, dir], { stdio: "inherit" });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
