/**
 * Builds images with the Docker Engine (App Runner's builds from source): a directory as the
 * build context, output lines streamed, the failing step named when a build fails. And the
 * runtime base images App Runner's managed runtimes stand on, made FROM scratch out of this
 * host's own binaries (Node.js and npm, busybox for a shell) — nothing is pulled from a registry.
 */
import { execFileSync, spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import Docker from "dockerode";

export interface ImageBuilder {
  /** Builds `contextDir` (its Dockerfile, or `dockerfile` text written into it) as `tag`; throws with the failing step. */
  build(contextDir: string, tag: string, onLine: (line: string) => void): Promise<void>;
  /** The base image of a managed runtime ("nodejs"), built from the host's binaries on first use. */
  runtimeImage(runtime: "nodejs" | "python", onLine: (line: string) => void): Promise<string>;
  hasImage(tag: string): Promise<boolean>;
  removeImage(tag: string): Promise<void>;
}

/** The shared libraries a binary loads, by the paths the loader looks for them (ldd). */
function sharedLibraries(binary: string): string[] {
  try {
    return execFileSync("ldd", [binary], { encoding: "utf8" })
      .split("\n")
      .map((l) => /(\/\S+)\s+\(0x/.exec(l)?.[1])
      .filter((p): p is string => !!p);
  } catch {
    return []; // static
  }
}

/** Copies a binary and its libraries into a root file system. */
function copyBinary(rootfs: string, binary: string, as: string) {
  mkdirSync(join(rootfs, dirname(as)), { recursive: true });
  cpSync(realpathSync(binary), join(rootfs, as));
  for (const lib of sharedLibraries(binary)) {
    mkdirSync(join(rootfs, dirname(lib)), { recursive: true });
    cpSync(realpathSync(lib), join(rootfs, lib));
  }
}

/** The shell base images get (static busybox), when the host has one. */
function addShell(rootfs: string) {
  const busybox = ["/bin/busybox", "/usr/bin/busybox"].find((p) => existsSync(p));
  if (!busybox) return false;
  copyBinary(rootfs, busybox, "/bin/busybox");
  for (const tool of [
    "sh",
    "ls",
    "cat",
    "cp",
    "mv",
    "rm",
    "mkdir",
    "echo",
    "env",
    "sleep",
    "wget",
    "tar",
    "grep",
    "sed",
  ])
    execFileSync("ln", ["-sf", "busybox", join(rootfs, "bin", tool)]);
  return true;
}

export function dockerImageBuilder(options: Docker.DockerOptions = {}): ImageBuilder {
  const docker = new Docker(options);

  const hasImage = async (tag: string) => {
    try {
      await docker.getImage(tag).inspect();
      return true;
    } catch {
      return false;
    }
  };

  const build = async (contextDir: string, tag: string, onLine: (line: string) => void) => {
    // The build context as a tar stream (the host's tar: symlinks and modes kept).
    const tar = spawn("tar", ["-C", contextDir, "-cf", "-", "."], { stdio: ["ignore", "pipe", "ignore"] });
    const stream = await docker.buildImage(tar.stdout, { t: tag, rm: true, forcerm: true });
    let step = "";
    let failure: string | undefined;
    await new Promise<void>((resolve, reject) => {
      docker.modem.followProgress(
        stream,
        (err: Error | null) => (err ? reject(err) : resolve()),
        (event: { stream?: string; error?: string; errorDetail?: { message?: string } }) => {
          for (const line of (event.stream ?? "").split("\n")) {
            const text = line.trimEnd();
            if (!text) continue;
            if (/^Step \d+\/\d+ : /.test(text)) step = text;
            onLine(text);
          }
          if (event.error) {
            failure = event.errorDetail?.message ?? event.error;
            onLine(`ERROR: ${failure}`);
          }
        },
      );
    });
    if (failure) throw new Error(`Build failed at ${step || "the start"}: ${failure}`);
  };

  const runtimeImage = async (runtime: "nodejs" | "python", onLine: (line: string) => void) => {
    const version = runtime === "nodejs" ? process.version.slice(1) : pythonVersion();
    const tag = `berth-apprunner/runtime-${runtime}:${version}`;
    if (await hasImage(tag)) return tag;
    onLine(`Building the ${runtime} ${version} base image from this host's binaries (once).`);
    const dir = mkdtempSync(join(tmpdir(), "berth-apprunner-runtime-"));
    try {
      const rootfs = join(dir, "rootfs");
      mkdirSync(join(rootfs, "tmp"), { recursive: true });
      mkdirSync(join(rootfs, "bin"), { recursive: true });
      const shell = addShell(rootfs);
      if (runtime === "nodejs") {
        copyBinary(rootfs, process.execPath, "/bin/node");
        // npm, when the host has it, so a BuildCommand can `npm install` (from a registry it can reach).
        const npmCli = ["/usr/lib/node_modules/npm", "/usr/local/lib/node_modules/npm"].find((p) => existsSync(p));
        if (npmCli && shell) {
          cpSync(npmCli, join(rootfs, "usr/lib/node_modules/npm"), { recursive: true });
          writeFileSync(
            join(rootfs, "bin/npm"),
            '#!/bin/sh\nexec /bin/node /usr/lib/node_modules/npm/bin/npm-cli.js "$@"\n',
            { mode: 0o755 },
          );
        }
      } else {
        const python = realpathSync(
          execFileSync("python3", ["-c", "import sys;print(sys.executable)"], { encoding: "utf8" }).trim(),
        );
        const prefix = execFileSync(python, ["-c", "import sys;print(sys.base_prefix)"], { encoding: "utf8" }).trim();
        const stdlib = execFileSync(python, ["-c", "import sysconfig;print(sysconfig.get_paths()['stdlib'])"], {
          encoding: "utf8",
        }).trim();
        copyBinary(rootfs, python, "/bin/python3");
        const libDir = join(prefix, "lib");
        for (const lib of sharedLibraries(python)) if (lib.startsWith(libDir)) cpSync(lib, join(rootfs, lib));
        cpSync(stdlib, join(rootfs, "usr/lib", stdlib.split("/").pop()!), {
          recursive: true,
          filter: (src) => !/\/(test|tests|__pycache__|idlelib|tkinter|turtledemo|ensurepip)(\/|$)/.test(src),
        });
        for (const lib of sharedLibrariesOf(join(rootfs, "usr/lib", stdlib.split("/").pop()!, "lib-dynload")))
          if (!existsSync(join(rootfs, lib))) {
            mkdirSync(join(rootfs, dirname(lib)), { recursive: true });
            cpSync(realpathSync(lib), join(rootfs, lib));
          }
        execFileSync("ln", ["-sf", "python3", join(rootfs, "bin/python")]);
      }
      const env =
        runtime === "nodejs"
          ? "ENV PATH=/bin HOME=/tmp"
          : `ENV PATH=/bin HOME=/tmp PYTHONHOME=/usr PYTHONDONTWRITEBYTECODE=1`;
      writeFileSync(join(dir, "Dockerfile"), ["FROM scratch", "COPY rootfs/ /", env, "WORKDIR /app"].join("\n"));
      await build(dir, tag, () => undefined);
      return tag;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  return {
    build,
    runtimeImage,
    hasImage,
    async removeImage(tag) {
      await docker
        .getImage(tag)
        .remove({ force: true })
        .catch(() => undefined);
    },
  };
}

function pythonVersion(): string {
  return execFileSync("python3", ["-c", "import platform;print(platform.python_version())"], {
    encoding: "utf8",
  }).trim();
}

/** The libraries the extension modules of a directory load (Python's lib-dynload). */
function sharedLibrariesOf(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out = new Set<string>();
  for (const f of execFileSync("ls", [dir], { encoding: "utf8" })
    .split("\n")
    .filter((x) => x.endsWith(".so")))
    for (const lib of sharedLibraries(join(dir, f))) out.add(lib);
  return [...out];
}
