import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { progressOf } from "../../src/services/apprunner/progress.js";
import { decideInstances, neededInstances } from "../../src/services/apprunner/scaling.js";
import {
  AppRunnerInvalid,
  commandOf,
  healthCheckOf,
  instanceOf,
  parseImage,
  portOf,
  serviceUrlOf,
  targetGroupHealthCheck,
} from "../../src/services/apprunner/spec.js";
import { parseAutoScalingArn } from "../../src/services/apprunner/autoscaling.js";
import { listingRevision, runtimeBase, runtimeDockerfile, sourceOf } from "../../src/services/apprunner/source.js";

describe("App Runner instance sizes", () => {
  it.each([
    [undefined, undefined, "1024", "2048"],
    ["0.25 vCPU", "0.5 GB", "256", "512"],
    ["256", "1 GB", "256", "1024"],
    ["1 vCPU", "4 GB", "1024", "4096"],
    ["2048", "6144", "2048", "6144"],
    ["4 vCPU", "12 GB", "4096", "12288"],
  ])("Cpu %s Memory %s → %s/%s", (Cpu, Memory, cpu, memory) => {
    expect(instanceOf({ Cpu, Memory })).toEqual({ Cpu: cpu, Memory: memory });
  });

  it.each([
    ["256", "4096", "not a supported combination"],
    ["512", "2048", "not a supported combination"],
    ["3 vCPU", "2048", "Cpu '3 vCPU' is not valid"],
    ["1024", "5 GB", "Memory '5 GB' is not valid"],
  ])("Cpu %s Memory %s is refused", (Cpu, Memory, message) => {
    expect(() => instanceOf({ Cpu, Memory })).toThrow(message);
  });

  it("an update keeps what it leaves out", () => {
    expect(instanceOf({ Memory: "3 GB" }, { Cpu: "1024", Memory: "2048" })).toEqual({ Cpu: "1024", Memory: "3072" });
  });
});

describe("App Runner health checks", () => {
  it("fills App Runner's defaults", () => {
    expect(healthCheckOf(undefined)).toEqual({
      Protocol: "TCP",
      Path: "/",
      Interval: 5,
      Timeout: 2,
      HealthyThreshold: 1,
      UnhealthyThreshold: 5,
    });
  });
  it.each([
    [{ Path: "health" }, "must start with '/'"],
    [{ Interval: 0 }, "Interval must be an integer from 1 to 20"],
    [{ UnhealthyThreshold: 21 }, "UnhealthyThreshold must be an integer from 1 to 20"],
  ])("%j is refused", (input, message) => {
    expect(() => healthCheckOf(input as never)).toThrow(message);
  });
  it("the target group's timeout is always below its interval (ELBv2's rule)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 20 }), (Interval, Timeout) => {
        const tg = targetGroupHealthCheck({ ...healthCheckOf({ Interval, Timeout }) });
        expect(tg.HealthCheckTimeoutSeconds).toBeLessThan(tg.HealthCheckIntervalSeconds);
        expect(tg.HealthCheckTimeoutSeconds).toBeGreaterThanOrEqual(1);
      }),
    );
  });
  it("a TCP check passes on any HTTP answer below 500; an HTTP one on 2xx/3xx at its path", () => {
    expect(targetGroupHealthCheck(healthCheckOf(undefined))).toMatchObject({
      HealthCheckPath: "/",
      Matcher: { HttpCode: "200-499" },
    });
    expect(targetGroupHealthCheck(healthCheckOf({ Protocol: "HTTP", Path: "/health" }))).toMatchObject({
      HealthCheckPath: "/health",
      Matcher: { HttpCode: "200-399" },
    });
  });
});

describe("App Runner start commands and ports", () => {
  it.each([
    ["node server.js", ["node", "server.js"]],
    ["python3 -m http.server 8080", ["python3", "-m", "http.server", "8080"]],
    [`echo "a b" 'c d' e\\ f`, ["echo", "a b", "c d", "e f"]],
    ["npm start && echo done", ["/bin/sh", "-c", "npm start && echo done"]],
  ])("%s → %j", (command, argv) => {
    expect(commandOf(command)).toEqual(argv);
  });
  it("an unclosed quote is refused", () => {
    expect(() => commandOf("node 'x")).toThrow(AppRunnerInvalid);
  });
  it.each([
    [undefined, 8080],
    ["3000", 3000],
  ])("Port %s → %d", (Port, port) => expect(portOf({ Port })).toBe(port));
  it.each(["0", "65536", "http"])("Port %s is refused", (Port) =>
    expect(() => portOf({ Port })).toThrow("is not valid"),
  );
});

describe("App Runner names", () => {
  it("a ServiceUrl is 10 lowercase letters and digits under the region's awsapprunner.com", () => {
    fc.assert(
      fc.property(fc.string(), (seed) => {
        expect(serviceUrlOf("eu-west-1", seed)).toMatch(/^[a-z0-9]{10}\.eu-west-1\.awsapprunner\.com$/);
      }),
    );
  });
  it.each([
    ["localhost:4566/web:v1", { host: "localhost:4566", repository: "web", tag: "v1" }],
    ["localhost:4566/team/web", { host: "localhost:4566", repository: "team/web" }],
    [
      `localhost:4566/web@sha256:${"a".repeat(64)}`,
      { host: "localhost:4566", repository: "web", digest: `sha256:${"a".repeat(64)}` },
    ],
    ["web", undefined],
  ])("image %s", (image, parts) => expect(parseImage(image)).toEqual(parts));
  it.each([
    [
      "arn:aws:apprunner:us-east-1:000000000000:autoscalingconfiguration/fast/2/0123abcd",
      { name: "fast", revision: 2 },
    ],
    ["arn:aws:apprunner:us-east-1:000000000000:autoscalingconfiguration/fast", { name: "fast" }],
    ["arn:aws:apprunner:us-east-1:000000000000:service/x/y", undefined],
  ])("auto scaling ARN %s", (value, parsed) => expect(parseAutoScalingArn(value)).toEqual(parsed));
});

describe("App Runner concurrency scaling", () => {
  it.each([
    [0, 100, 1, 25, 1],
    [100, 100, 1, 25, 1],
    [101, 100, 1, 25, 2],
    [8, 2, 1, 3, 3],
    [0, 10, 2, 5, 2],
  ])("concurrency %d, MaxConcurrency %d, %d..%d → %d", (c, max, min, maxSize, want) => {
    expect(neededInstances(c, max, min, maxSize)).toBe(want);
  });

  const base = { maxConcurrency: 10, minSize: 1, maxSize: 5, scaleInAfterMs: 60_000 };
  it("scales out at once and in only after the window", () => {
    expect(decideInstances({ ...base, current: 1, peakConcurrency: 35, now: 0 })).toEqual({ desired: 4 });
    expect(decideInstances({ ...base, current: 4, peakConcurrency: 5, now: 1000 })).toEqual({
      desired: 4,
      belowSince: 1000,
    });
    expect(decideInstances({ ...base, current: 4, peakConcurrency: 5, now: 30_000, belowSince: 1000 })).toEqual({
      desired: 4,
      belowSince: 1000,
    });
    expect(decideInstances({ ...base, current: 4, peakConcurrency: 5, now: 61_000, belowSince: 1000 })).toEqual({
      desired: 1,
    });
  });
  it("always stays within MinSize..MaxSize and covers the concurrency when MaxSize allows", () => {
    fc.assert(
      fc.property(
        fc.record({
          current: fc.integer({ min: 0, max: 30 }),
          peakConcurrency: fc.integer({ min: 0, max: 10_000 }),
          maxConcurrency: fc.integer({ min: 1, max: 200 }),
          minSize: fc.integer({ min: 1, max: 25 }),
          extra: fc.integer({ min: 0, max: 24 }),
          now: fc.integer({ min: 0, max: 1e9 }),
          belowSince: fc.option(fc.integer({ min: 0, max: 1e9 }), { nil: undefined }),
        }),
        ({ extra, ...s }) => {
          const maxSize = Math.min(25, s.minSize + extra);
          const d = decideInstances({ ...s, maxSize, scaleInAfterMs: 60_000 });
          expect(d.desired).toBeGreaterThanOrEqual(s.minSize);
          expect(d.desired).toBeLessThanOrEqual(maxSize);
          if (Math.ceil(s.peakConcurrency / s.maxConcurrency) <= maxSize)
            expect(d.desired * s.maxConcurrency).toBeGreaterThanOrEqual(
              Math.min(s.peakConcurrency, maxSize * s.maxConcurrency),
            );
        },
      ),
    );
  });
});

describe("App Runner operation progress", () => {
  const d = (id: string, status: "PRIMARY" | "ACTIVE", rolloutState: "IN_PROGRESS" | "COMPLETED" | "FAILED") => ({
    id,
    status,
    rolloutState,
    runningCount: 1,
    desiredCount: 1,
  });
  const op = (type: "CREATE_SERVICE" | "UPDATE_SERVICE") => ({ type, deploymentId: "new", startedAt: 0 });
  it.each([
    ["CREATE_SERVICE", [d("new", "PRIMARY", "IN_PROGRESS")], "waiting"],
    ["CREATE_SERVICE", [d("new", "PRIMARY", "COMPLETED")], "SUCCEEDED"],
    ["CREATE_SERVICE", [d("new", "PRIMARY", "FAILED")], "FAILED"],
    ["UPDATE_SERVICE", [d("old", "PRIMARY", "IN_PROGRESS"), d("new", "ACTIVE", "FAILED")], "rolling-back"],
    ["UPDATE_SERVICE", [d("old", "PRIMARY", "COMPLETED"), d("new", "ACTIVE", "FAILED")], "ROLLBACK_SUCCEEDED"],
    ["UPDATE_SERVICE", [d("new", "PRIMARY", "COMPLETED")], "SUCCEEDED"],
  ] as const)("%s with %j → %s", (type, deployments, want) => {
    const p = progressOf(op(type), deployments, 1000, 600_000);
    expect(p.kind === "done" ? p.status : p.kind).toBe(want);
  });
  it("a deployment not healthy in time has timed out", () => {
    expect(progressOf(op("CREATE_SERVICE"), [d("new", "PRIMARY", "IN_PROGRESS")], 700_000, 600_000).kind).toBe(
      "timed-out",
    );
  });
});

describe("App Runner sources", () => {
  it.each([
    ["file:///srv/app", { kind: "directory", path: "/srv/app" }],
    ["/srv/app", { kind: "directory", path: "/srv/app" }],
    ["git+file:///srv/repo", { kind: "git", path: "/srv/repo" }],
    ["/srv/repo.git", { kind: "git", path: "/srv/repo.git" }],
    ["file:///srv/app.tar.gz", { kind: "archive", path: "/srv/app.tar.gz" }],
    ["file:///srv/my%20app.zip", { kind: "archive", path: "/srv/my app.zip" }],
  ])("%s → %j", (url, want) => expect(sourceOf(url)).toEqual(want));
  it.each(["https://github.com/me/app", "file://relative/x"])("%s is not a local source", (url) =>
    expect(() => sourceOf(url)).toThrow(AppRunnerInvalid),
  );
  it.each([
    ["NODEJS_18", "nodejs"],
    ["NODEJS_22", "nodejs"],
    ["PYTHON_3", "python"],
    ["PYTHON_311", "python"],
    ["CORRETTO_11", undefined],
  ])("runtime %s → %s", (runtime, base) => expect(runtimeBase(runtime)).toBe(base));
  it("a runtime build copies the source and runs the build command with a shell", () => {
    expect(runtimeDockerfile("base:1", "npm ci && npm run build")).toBe(
      'FROM base:1\nCOPY . /app\nWORKDIR /app\nRUN ["/bin/sh","-c","npm ci && npm run build"]',
    );
    expect(runtimeDockerfile("base:1", undefined)).not.toContain("RUN");
  });
});

describe("App Runner source revisions (automatic deployments from source)", () => {
  const entry = fc.record({
    path: fc.stringMatching(/^\/[a-z]{1,8}(\/[a-z]{1,8}){0,2}$/),
    size: fc.nat(1_000_000),
    mtimeMs: fc.nat(2_000_000_000_000),
  });
  it("does not depend on the order the directory is read in", () => {
    fc.assert(
      fc.property(fc.uniqueArray(entry, { selector: (e) => e.path, maxLength: 20 }), (entries) => {
        expect(listingRevision([...entries].reverse())).toBe(listingRevision(entries));
      }),
    );
  });
  it.each<[string, { path: string; size: number; mtimeMs: number }]>([
    ["a file's size", { path: "/app.py", size: 11, mtimeMs: 1000 }],
    ["a file's modification time", { path: "/app.py", size: 10, mtimeMs: 2000 }],
    ["a file's name", { path: "/main.py", size: 10, mtimeMs: 1000 }],
  ])("changes with %s", (_what, changed) => {
    const before = listingRevision([{ path: "/app.py", size: 10, mtimeMs: 1000 }]);
    expect(listingRevision([changed])).not.toBe(before);
    expect(before).toMatch(/^dir:[0-9a-f]{16}$/);
  });
});
