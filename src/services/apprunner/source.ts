/**
 * App Runner from source: a CodeRepository is a local directory, a git repository or an archive
 * on this machine (RepositoryUrl `file:///path`, see docs/apprunner.md), built with the Docker
 * Engine: its Dockerfile when it has one, else the managed runtime's base image (Node.js or
 * Python, made from the host's binaries) with the BuildCommand run at build time and the
 * StartCommand as the instances' command. Build output goes to the service log.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { CodeRepository } from "../../protocol/generated/types/apprunner.js";
import type { ImageBuilder } from "../../runtime/docker/image-builder.js";
import type { SourceBuilder } from "./services.js";
import { AppRunnerInvalid, checkEnvironment, portOf, resourceNames } from "./spec.js";

export type SourceKind = "directory" | "git" | "archive";

const ARCHIVE = /\.(tar|tar\.gz|tgz|tar\.bz2|tar\.xz|zip)$/;

/** PURE: RepositoryUrl → what it is and where (`file:///p`, `/p`, `git+file:///p`, `/p.git`, `/p.tar.gz`). */
export function sourceOf(url: string): { kind: SourceKind; path: string } {
  const git = url.startsWith("git+");
  const rest = git ? url.slice(4) : url;
  let path: string;
  if (rest.startsWith("file://")) path = decodeURIComponent(rest.slice("file://".length));
  else if (rest.startsWith("/")) path = rest;
  else
    throw new AppRunnerInvalid(
      `RepositoryUrl '${url}' is not a local source: Berth builds from this machine's files, as file:///path/to/dir (a directory), git+file:///path/to/repo (a git repository's branch) or file:///path/to/app.tar.gz (an archive).`,
    );
  if (!path.startsWith("/")) throw new AppRunnerInvalid(`RepositoryUrl '${url}' must name an absolute path.`);
  if (git || path.endsWith(".git")) return { kind: "git", path };
  if (ARCHIVE.test(path)) return { kind: "archive", path };
  return { kind: "directory", path };
}

/** PURE: the managed runtime's base, or undefined when Berth has none for it. */
export function runtimeBase(runtime: string): "nodejs" | "python" | undefined {
  if (runtime.startsWith("NODEJS_")) return "nodejs";
  if (runtime === "PYTHON_3" || runtime === "PYTHON_311") return "python";
  return undefined;
}

/** PURE: the Dockerfile of a managed-runtime build. */
export function runtimeDockerfile(base: string, buildCommand: string | undefined): string {
  return [
    `FROM ${base}`,
    "COPY . /app",
    "WORKDIR /app",
    ...(buildCommand ? [`RUN ${JSON.stringify(["/bin/sh", "-c", buildCommand])}`] : []),
  ].join("\n");
}

/** Puts the source's files (SourceDirectory of it) in `into`. */
function fetchSource(code: CodeRepository, into: string, log: (line: string) => void) {
  const { kind, path } = sourceOf(code.RepositoryUrl);
  const checkout = mkdtempSync(join(tmpdir(), "berth-apprunner-src-"));
  try {
    if (kind === "directory") cpSync(path, checkout, { recursive: true, filter: (src) => !/\/\.git(\/|$)/.test(src) });
    else if (kind === "archive") {
      log(`[Build] Extracting ${path}.`);
      if (path.endsWith(".zip")) execFileSync("unzip", ["-q", path, "-d", checkout]);
      else execFileSync("tar", ["-xf", path, "-C", checkout]);
    } else {
      const branch = code.SourceCodeVersion?.Value;
      log(`[Build] Cloning branch ${branch} of ${path}.`);
      execFileSync("git", ["clone", "-q", "--depth", "1", "--branch", branch, `file://${path}`, checkout], {
        stdio: ["ignore", "ignore", "pipe"],
      });
      rmSync(join(checkout, ".git"), { recursive: true, force: true });
    }
    const sub = resolve(checkout, `.${code.SourceDirectory ?? "/"}`);
    if (!sub.startsWith(checkout) || !existsSync(sub) || !statSync(sub).isDirectory())
      throw new Error(`SourceDirectory '${code.SourceDirectory}' is not a directory of the source.`);
    cpSync(sub, into, { recursive: true });
  } finally {
    rmSync(checkout, { recursive: true, force: true });
  }
}

/** Directory entries read at most for a revision (a bound on the walk). */
const MAX_ENTRIES = 20_000;

/** PURE: a directory listing's revision: a hash of each entry's path, size and modification time. */
export function listingRevision(entries: readonly { path: string; size: number; mtimeMs: number }[]): string {
  const h = createHash("sha256");
  for (const e of [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)))
    h.update(`${e.path}\0${e.size}\0${Math.trunc(e.mtimeMs)}\n`);
  return `dir:${h.digest("hex").slice(0, 16)}`;
}

function directoryEntries(root: string) {
  const out: { path: string; size: number; mtimeMs: number }[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (out.length >= MAX_ENTRIES) return;
      if (e.name === ".git" || e.name === "node_modules") continue;
      const full = join(dir, e.name);
      const st = statSync(full);
      out.push({ path: full.slice(root.length), size: e.isDirectory() ? 0 : st.size, mtimeMs: st.mtimeMs });
      if (e.isDirectory()) walk(full);
    }
  };
  walk(root);
  return out;
}

/** The source's current revision: the branch's commit, the archive's hash, or the directory listing's. */
export function sourceRevision(code: CodeRepository): string | undefined {
  try {
    const { kind, path } = sourceOf(code.RepositoryUrl);
    if (kind === "git") {
      const branch = code.SourceCodeVersion?.Value ?? "HEAD";
      const commit = execFileSync("git", ["-C", path, "rev-parse", "--verify", `${branch}^{commit}`], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
      }).trim();
      return `git:${commit}`;
    }
    if (kind === "archive")
      return `archive:${createHash("sha256").update(readFileSync(path)).digest("hex").slice(0, 16)}`;
    return listingRevision(directoryEntries(path));
  } catch {
    return undefined;
  }
}

export function sourceBuilder(images: ImageBuilder): SourceBuilder {
  return {
    check(code) {
      const { kind, path } = sourceOf(code.RepositoryUrl);
      if (!existsSync(path))
        throw new AppRunnerInvalid(`RepositoryUrl '${code.RepositoryUrl}': ${path} does not exist.`);
      if (kind === "directory" && !statSync(path).isDirectory())
        throw new AppRunnerInvalid(
          `RepositoryUrl '${code.RepositoryUrl}': ${path} is not a directory (or a .tar.gz/.zip archive).`,
        );
      if (kind === "git" && !code.SourceCodeVersion?.Value)
        throw new AppRunnerInvalid("A git CodeRepository needs SourceCodeVersion Type=BRANCH,Value=<branch>.");
      const dockerfile = kind === "directory" && existsSync(join(path, code.SourceDirectory ?? "", "Dockerfile"));
      if (dockerfile) return;
      const config = code.CodeConfiguration;
      if (!config) {
        if (kind !== "directory") return; // a Dockerfile in the repository or archive (the build says when not)
        throw new AppRunnerInvalid("A CodeRepository without a Dockerfile needs a CodeConfiguration.");
      }
      if (config.ConfigurationSource === "REPOSITORY" && kind === "directory")
        throw new AppRunnerInvalid(
          "ConfigurationSource REPOSITORY (apprunner.yaml) is not read by Berth: pass ConfigurationSource API with CodeConfigurationValues, or add a Dockerfile.",
        );
      const values = config.CodeConfigurationValues;
      if (values) {
        if (!runtimeBase(values.Runtime))
          throw new AppRunnerInvalid(
            `Runtime ${values.Runtime} is not available in Berth (NODEJS_* and PYTHON_3/PYTHON_311 are): add a Dockerfile to the source instead.`,
          );
        if (!values.StartCommand?.trim())
          throw new AppRunnerInvalid("CodeConfigurationValues.StartCommand is needed (e.g. 'node server.js').");
        portOf(values);
        checkEnvironment(values.RuntimeEnvironmentVariables, "CodeConfigurationValues.RuntimeEnvironmentVariables");
      }
    },

    revision: sourceRevision,

    async build(_ctx, service, log) {
      const code = service.SourceConfiguration.CodeRepository!;
      // Read before fetching: a change while the build runs is then seen by the next check.
      const revision = sourceRevision(code);
      const values = code.CodeConfiguration?.CodeConfigurationValues;
      const names = resourceNames(service.ServiceName, service.ServiceId);
      const tag = `berth-apprunner/${names.ecsService.toLowerCase()}:${Date.now().toString(36)}`;
      const context = mkdtempSync(join(tmpdir(), "berth-apprunner-build-"));
      try {
        log(`[Build] Fetching source ${code.RepositoryUrl}.`);
        fetchSource(code, context, log);
        if (existsSync(join(context, "Dockerfile"))) log("[Build] Building the source's Dockerfile.");
        else {
          if (!values) throw new Error("The source has no Dockerfile and the service no CodeConfigurationValues.");
          const base = await images.runtimeImage(runtimeBase(values.Runtime)!, log);
          log(
            `[Build] Runtime ${values.Runtime} on ${base}${values.BuildCommand ? `; BuildCommand: ${values.BuildCommand}` : ""}.`,
          );
          writeFileSync(join(context, "Dockerfile"), runtimeDockerfile(base, values.BuildCommand));
        }
        await images.build(context, tag, (line) => log(`[Build] ${line}`));
        log(`[Build] Successfully built ${tag}.`);
      } finally {
        rmSync(context, { recursive: true, force: true });
      }
      return {
        image: tag,
        ...(revision ? { revision } : {}),
        run: {
          port: portOf(values),
          ...(values?.StartCommand ? { startCommand: values.StartCommand } : {}),
          environment: values?.RuntimeEnvironmentVariables ?? {},
          secrets: values?.RuntimeEnvironmentSecrets ?? {},
        },
      };
    },

    removeImage: (tag) => images.removeImage(tag),
  };
}
