import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningBerth, startBerth } from "../support/berth.js";
import { DockerCli, VARIANT_LABEL } from "../support/docker.js";
import { removeContainersOf } from "../support/ecs.js";
import { BUSYBOX_IMAGE } from "../support/images.js";

/** The port of App Runner's shared listener in this test (AWS: 443; Berth's default: 80). */
const PORT = 8087;
const suffix = Date.now().toString(36);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Service {
  ServiceArn: string;
  ServiceUrl: string;
  Status: string;
  ServiceId: string;
  ServiceName: string;
}

describe("App Runner: an ECR image in, a URL out, redeployed, scaled and deleted (AWS CLI v2)", () => {
  let berth: RunningBerth;
  const docker = new DockerCli();
  const local: string[] = [];
  const pushed: string[] = [];
  let repoUri = "";
  const created: string[] = [];

  const env = () => ({
    ...process.env,
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
    AWS_DEFAULT_REGION: "us-east-1",
    AWS_PAGER: "",
  });
  const cli = (...args: string[]) => {
    const out = execFileSync("aws", ["--endpoint-url", berth.endpoint, "--output", "json", ...args], {
      encoding: "utf8",
      env: env(),
      stdio: ["ignore", "pipe", "pipe"],
    });
    return out.trim() ? JSON.parse(out) : {};
  };
  /** The CLI's error text for a call expected to fail. */
  const cliError = (...args: string[]) => {
    try {
      cli(...args);
    } catch (e) {
      return String((e as { stderr?: string }).stderr ?? e);
    }
    return "(no error)";
  };

  /** An image whose httpd on 8080 serves `version` at / and a 1 s CGI at /cgi-bin/slow. */
  const buildAndPush = (version: string, tag: string) => {
    const dir = mkdtempSync(join(tmpdir(), "berth-apprunner-"));
    const local_ = `berth-test/apprunner-${version}:${suffix}`;
    try {
      writeFileSync(join(dir, "index.html"), `${version}\n`);
      writeFileSync(join(dir, "slow"), "#!/bin/sh\nsleep 1\necho 'Content-Type: text/plain'\necho\necho slow\n", {
        mode: 0o755,
      });
      writeFileSync(
        join(dir, "Dockerfile"),
        [
          `FROM ${BUSYBOX_IMAGE}`,
          `LABEL ${VARIANT_LABEL}`,
          "COPY index.html /www/",
          "COPY slow /www/cgi-bin/",
          'CMD ["httpd", "-f", "-p", "8080", "-h", "/www"]',
        ].join("\n"),
      );
      docker.run(["build", "-q", "-t", local_, dir]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    local.push(local_);
    const remote = `${repoUri}:${tag}`;
    docker.run(["tag", local_, remote]);
    pushed.push(remote);
    docker.run(["push", remote]);
    return remote;
  };

  const loadBalancerAddress = () =>
    cli("elbv2", "describe-load-balancers", "--names", "berth-apprunner").LoadBalancers[0].DNSName as string;

  /** GET through the shared listener, naming the service by its URL (curl --resolve). */
  const curl = (url: string, path = "/") => {
    try {
      return execFileSync(
        "curl",
        [
          "-s",
          "-m",
          "5",
          "-w",
          "\n%{http_code}",
          "--resolve",
          `${url}:${PORT}:${loadBalancerAddress()}`,
          `http://${url}:${PORT}${path}`,
        ],
        { encoding: "utf8" },
      );
    } catch (e) {
      return `curl failed: ${(e as Error).message}\n000`;
    }
  };

  const describe_ = (arn: string): Service => cli("apprunner", "describe-service", "--service-arn", arn).Service;

  /** Polls until the service leaves OPERATION_IN_PROGRESS (bounded), returning it. */
  const settled = async (arn: string, limitMs = 150_000): Promise<Service> => {
    const until = Date.now() + limitMs;
    for (;;) {
      const s = describe_(arn);
      if (s.Status !== "OPERATION_IN_PROGRESS" || Date.now() > until) return s;
      await sleep(1000);
    }
  };

  const waitForBody = async (url: string, want: string, limitMs = 90_000) => {
    const until = Date.now() + limitMs;
    let last = "";
    while (Date.now() < until) {
      last = curl(url);
      if (last === `${want}\n\n200`) return last;
      await sleep(1000);
    }
    return last;
  };

  /** The service log's lines (the steps of each operation, and why one failed). */
  const serviceEvents = (s: Service) => {
    try {
      return (
        cli(
          "logs",
          "get-log-events",
          "--log-group-name",
          `/aws/apprunner/${s.ServiceName}/${s.ServiceId}/service`,
          "--log-stream-name",
          "events",
        ).events as { message: string }[]
      )
        .map((e) => e.message)
        .join("\n");
    } catch (e) {
      return String(e);
    }
  };

  const ecsService = (s: Service) =>
    cli(
      "ecs",
      "describe-services",
      "--cluster",
      "apprunner",
      "--services",
      `${s.ServiceName}-${s.ServiceId.slice(0, 8)}`,
    ).services[0];

  beforeAll(async () => {
    berth = await startBerth({ env: { BERTH_APPRUNNER_LISTENER_PORT: String(PORT) } });
    repoUri = cli("ecr", "create-repository", "--repository-name", "apprunner-web").repository.repositoryUri;
    const password = execFileSync("aws", ["--endpoint-url", berth.endpoint, "ecr", "get-login-password"], {
      encoding: "utf8",
      env: env(),
    }).trim();
    docker.run(["login", "-u", "AWS", "--password-stdin", `localhost:${berth.port}`], password);
  });

  afterAll(async () => {
    for (const arn of created) {
      try {
        cli("apprunner", "delete-service", "--service-arn", arn);
      } catch {
        // already deleted
      }
    }
    await berth?.stop();
    if (berth) removeContainersOf(berth.dataDir);
    docker.removeImages(...pushed, ...local);
    docker.dispose();
  });

  it("rejects bad input with InvalidRequestException and creates nothing", async () => {
    const image = buildAndPush("v1", "v1");
    const source = (id: string) =>
      JSON.stringify({
        ImageRepository: { ImageIdentifier: id, ImageRepositoryType: "ECR", ImageConfiguration: { Port: "8080" } },
      });
    const badSize = cliError(
      "apprunner",
      "create-service",
      "--service-name",
      "bad-size",
      "--source-configuration",
      source(image),
      "--instance-configuration",
      "Cpu=256,Memory=4096",
    );
    expect(badSize).toContain("InvalidRequestException");
    expect(badSize).toContain("not a supported combination");
    const noImage = cliError(
      "apprunner",
      "create-service",
      "--service-name",
      "no-image",
      "--source-configuration",
      source(`${repoUri}:missing`),
    );
    expect(noImage).toContain("InvalidRequestException");
    expect(noImage).toContain("not found");
    const noSource = cliError(
      "apprunner",
      "create-service",
      "--service-name",
      "no-source",
      "--source-configuration",
      "{}",
    );
    expect(noSource).toContain("ImageRepository or a CodeRepository");
    const unknown = cliError(
      "apprunner",
      "describe-service",
      "--service-arn",
      "arn:aws:apprunner:us-east-1:000000000000:service/none/0123456789abcdef0123456789abcdef",
    );
    expect(unknown).toContain("ResourceNotFoundException");
    expect(cli("apprunner", "list-services").ServiceSummaryList).toEqual([]);
  });

  it("runs an ECR image at its ServiceUrl, redeploys on update and on a push, scales on concurrency, and deletes everything", async () => {
    const v1 = `${repoUri}:v1`;
    const asc = cli(
      "apprunner",
      "create-auto-scaling-configuration",
      "--auto-scaling-configuration-name",
      "tight",
      "--max-concurrency",
      "2",
      "--min-size",
      "1",
      "--max-size",
      "3",
    ).AutoScalingConfiguration;
    expect(asc).toMatchObject({
      AutoScalingConfigurationRevision: 1,
      Latest: true,
      Status: "ACTIVE",
      MaxConcurrency: 2,
    });

    const out = cli(
      "apprunner",
      "create-service",
      "--service-name",
      "web-app",
      "--source-configuration",
      JSON.stringify({
        ImageRepository: {
          ImageIdentifier: v1,
          ImageRepositoryType: "ECR",
          ImageConfiguration: { Port: "8080", RuntimeEnvironmentVariables: { GREETING: "hi" } },
        },
        AutoDeploymentsEnabled: true,
      }),
      "--instance-configuration",
      "Cpu=0.25 vCPU,Memory=0.5 GB",
      "--auto-scaling-configuration-arn",
      asc.AutoScalingConfigurationArn,
      "--tags",
      "Key=team,Value=web",
    );
    const arn = out.Service.ServiceArn as string;
    created.push(arn);
    expect(out.Service.Status).toBe("OPERATION_IN_PROGRESS");
    expect(out.Service.ServiceUrl).toMatch(/^[a-z0-9]{10}\.us-east-1\.awsapprunner\.com$/);
    expect(out.Service.InstanceConfiguration).toMatchObject({ Cpu: "256", Memory: "512" });
    expect(out.Service.HealthCheckConfiguration).toMatchObject({ Protocol: "TCP", Interval: 5 });

    const running = await settled(arn);
    expect(running.Status, serviceEvents(running)).toBe("RUNNING");
    const url = running.ServiceUrl;
    expect(await waitForBody(url, "v1")).toBe("v1\n\n200");
    // Another Host gets the listener's 404.
    expect(
      execFileSync(
        "curl",
        [
          "-s",
          "-o",
          "/dev/null",
          "-w",
          "%{http_code}",
          "-H",
          "Host: other.example",
          `http://${loadBalancerAddress()}:${PORT}/`,
        ],
        {
          encoding: "utf8",
        },
      ),
    ).toBe("404");
    expect(cli("apprunner", "list-services").ServiceSummaryList.map((s: Service) => s.ServiceName)).toEqual([
      "web-app",
    ]);
    // A custom domain is routed by Host header too.
    const domain = cli(
      "apprunner",
      "associate-custom-domain",
      "--service-arn",
      arn,
      "--domain-name",
      "app.example.com",
    );
    expect(domain).toMatchObject({ DNSTarget: url, CustomDomain: { DomainName: "app.example.com", Status: "ACTIVE" } });
    expect(
      execFileSync("curl", ["-s", "-H", "Host: www.app.example.com", `http://${loadBalancerAddress()}:${PORT}/`], {
        encoding: "utf8",
      }),
    ).toBe("v1\n");
    expect(cli("apprunner", "describe-custom-domains", "--service-arn", arn).CustomDomains).toHaveLength(1);
    expect(cli("apprunner", "list-tags-for-resource", "--resource-arn", arn).Tags).toEqual([
      { Key: "team", Value: "web" },
    ]);
    const inUse = cliError(
      "apprunner",
      "delete-auto-scaling-configuration",
      "--auto-scaling-configuration-arn",
      asc.AutoScalingConfigurationArn,
    );
    expect(inUse).toContain("InvalidStateException");

    // UpdateService to a new image: a new deployment, RUNNING again, serving v2.
    const v2 = buildAndPush("v2", "v2");
    const updated = cli(
      "apprunner",
      "update-service",
      "--service-arn",
      arn,
      "--source-configuration",
      JSON.stringify({
        ImageRepository: { ImageIdentifier: v2, ImageRepositoryType: "ECR", ImageConfiguration: { Port: "8080" } },
        AutoDeploymentsEnabled: true,
      }),
    );
    expect(updated.Service.Status).toBe("OPERATION_IN_PROGRESS");
    expect(cliError("apprunner", "pause-service", "--service-arn", arn)).toContain("InvalidStateException");
    expect((await settled(arn)).Status).toBe("RUNNING");
    expect(await waitForBody(url, "v2")).toBe("v2\n\n200");

    // A push of the same tag redeploys (AutoDeploymentsEnabled).
    buildAndPush("v3", "v2");
    expect(await waitForBody(url, "v3", 120_000)).toBe("v3\n\n200");
    expect((await settled(arn)).Status).toBe("RUNNING");
    const ops = cli("apprunner", "list-operations", "--service-arn", arn).OperationSummaryList as {
      Type: string;
      Status: string;
    }[];
    expect(ops.map((o) => `${o.Type}:${o.Status}`)).toEqual([
      "START_DEPLOYMENT:SUCCEEDED",
      "UPDATE_SERVICE:SUCCEEDED",
      "CREATE_SERVICE:SUCCEEDED",
    ]);

    // Concurrent requests (8 at a time for up to 30 s, on loopback) to a 1 s endpoint: MaxConcurrency 2 → 3 instances.
    const address = loadBalancerAddress();
    const load = spawn(
      "sh",
      [
        "-c",
        `end=$(($(date +%s)+30)); while [ $(date +%s) -lt $end ]; do for i in 1 2 3 4 5 6 7 8; do curl -s -m 5 -o /dev/null --resolve ${url}:${PORT}:${address} http://${url}:${PORT}/cgi-bin/slow & done; wait; done`,
      ],
      { stdio: "ignore" },
    );
    let desired = 1;
    const until = Date.now() + 40_000;
    while (Date.now() < until && desired < 3) {
      await sleep(1000);
      desired = ecsService(running).desiredCount;
    }
    load.kill();
    expect(desired).toBe(3);

    // The load shows in App Runner's own metrics, read from its target group (AWS/AppRunner).
    const dims = [`Name=ServiceID,Value=${out.Service.ServiceId}`, "Name=ServiceName,Value=web-app"];
    const statistic = (metric: string, stat: string) => {
      const points = cli(
        "cloudwatch",
        "get-metric-statistics",
        "--namespace",
        "AWS/AppRunner",
        "--metric-name",
        metric,
        "--dimensions",
        ...dims,
        "--start-time",
        new Date(Date.now() - 600_000).toISOString(),
        "--end-time",
        new Date(Date.now() + 60_000).toISOString(),
        "--period",
        "600",
        "--statistics",
        stat,
      ).Datapoints as Record<string, number>[];
      return points.reduce((a, p) => a + (p[stat] ?? 0), 0);
    };
    let requests = 0;
    for (const until = Date.now() + 20_000; Date.now() < until && requests === 0; await sleep(1000))
      requests = statistic("Requests", "Sum");
    expect(requests).toBeGreaterThan(0);
    expect(statistic("2xxStatusResponses", "Sum")).toBeGreaterThan(0);
    expect(statistic("RequestLatency", "Maximum")).toBeGreaterThan(0); // ms to the first response bytes
    expect(statistic("ActiveInstances", "Maximum")).toBeGreaterThanOrEqual(1);

    // Delete: DELETED, and no containers, target groups or rules are left.
    const del = cli("apprunner", "delete-service", "--service-arn", arn);
    expect(del.Service.Status).toBe("OPERATION_IN_PROGRESS");
    expect((await settled(arn, 120_000)).Status).toBe("DELETED");
    expect(cli("apprunner", "list-services").ServiceSummaryList).toEqual([]);
    const groups = cli("elbv2", "describe-target-groups").TargetGroups as { TargetGroupName: string }[];
    expect(groups.filter((g) => g.TargetGroupName.startsWith("apprunner-"))).toEqual([]);
    const lb = cli("elbv2", "describe-load-balancers", "--names", "berth-apprunner").LoadBalancers[0];
    const listener = cli("elbv2", "describe-listeners", "--load-balancer-arn", lb.LoadBalancerArn).Listeners[0];
    const rules = cli("elbv2", "describe-rules", "--listener-arn", listener.ListenerArn).Rules as {
      IsDefault: boolean;
    }[];
    expect(rules.filter((r) => !r.IsDefault)).toEqual([]);
    expect(ecsService(running).status).toBe("INACTIVE");
    const containers = execFileSync("docker", ["ps", "-q", "--filter", `label=berth.data-dir=${berth.dataDir}`], {
      encoding: "utf8",
    }).trim();
    expect(containers).toBe("");
    expect(curl(url).endsWith("404")).toBe(true);
  }, 600_000);
  it("builds a local Node.js app directory with the NODEJS runtime, rebuilds on StartDeployment, and fails a broken build with its step", async () => {
    const app = mkdtempSync(join(tmpdir(), "berth-apprunner-node-"));
    try {
      writeFileSync(
        join(app, "server.js"),
        [
          'const fs = require("node:fs");',
          'const http = require("node:http");',
          'const built = fs.readFileSync("built.txt", "utf8").trim();',
          'const greeting = fs.readFileSync("greeting.txt", "utf8").trim();',
          'http.createServer((req, res) => res.end([greeting, built, process.env.WHO].join(" ") + "\\n")).listen(Number(process.env.PORT));',
        ].join("\n"),
      );
      writeFileSync(join(app, "greeting.txt"), "hello\n");
      const source = (buildCommand: string) =>
        JSON.stringify({
          CodeRepository: {
            RepositoryUrl: `file://${app}`,
            SourceCodeVersion: { Type: "BRANCH", Value: "main" },
            CodeConfiguration: {
              ConfigurationSource: "API",
              CodeConfigurationValues: {
                Runtime: "NODEJS_22",
                BuildCommand: buildCommand,
                StartCommand: "node server.js",
                Port: "3000",
                RuntimeEnvironmentVariables: { WHO: "from-source" },
              },
            },
          },
          AutoDeploymentsEnabled: false,
        });
      const badRuntime = cliError(
        "apprunner",
        "create-service",
        "--service-name",
        "bad-runtime",
        "--source-configuration",
        source("true").replace("NODEJS_22", "CORRETTO_11"),
      );
      expect(badRuntime).toContain("Runtime CORRETTO_11 is not available");

      const out = cli(
        "apprunner",
        "create-service",
        "--service-name",
        "from-source",
        "--source-configuration",
        source("echo built > built.txt"),
      );
      const arn = out.Service.ServiceArn as string;
      created.push(arn);
      const running = await settled(arn, 240_000);
      expect(running.Status, serviceEvents(running)).toBe("RUNNING");
      expect(await waitForBody(running.ServiceUrl, "hello built from-source")).toBe("hello built from-source\n\n200");
      expect(serviceEvents(running)).toContain("[Build] Successfully built");

      // A Python app with the PYTHON_3 runtime (a base made from the host's python3).
      const py = mkdtempSync(join(tmpdir(), "berth-apprunner-py-"));
      const writeApp = (says: string) =>
        writeFileSync(
          join(py, "app.py"),
          [
            "import http.server, os",
            "class H(http.server.BaseHTTPRequestHandler):",
            "    def do_GET(self):",
            `        self.send_response(200); self.end_headers(); self.wfile.write(b'${says}\\n')`,
            "http.server.HTTPServer(('', int(os.environ['PORT'])), H).serve_forever()",
          ].join("\n"),
        );
      writeApp("python ok");
      const pySource = JSON.stringify({
        CodeRepository: {
          RepositoryUrl: `file://${py}`,
          SourceCodeVersion: { Type: "BRANCH", Value: "main" },
          CodeConfiguration: {
            ConfigurationSource: "API",
            CodeConfigurationValues: { Runtime: "PYTHON_3", StartCommand: "python3 app.py", Port: "8000" },
          },
        },
        AutoDeploymentsEnabled: true,
      });
      const pyArn = cli(
        "apprunner",
        "create-service",
        "--service-name",
        "python-app",
        "--source-configuration",
        pySource,
      ).Service.ServiceArn as string;
      created.push(pyArn);
      const pyRunning = await settled(pyArn, 240_000);
      expect(pyRunning.Status, serviceEvents(pyRunning)).toBe("RUNNING");
      expect(await waitForBody(pyRunning.ServiceUrl, "python ok")).toBe("python ok\n\n200");
      // AutoDeploymentsEnabled: a change to the source deploys by itself.
      writeApp("python v2");
      expect(await waitForBody(pyRunning.ServiceUrl, "python v2", 180_000), serviceEvents(pyRunning)).toBe(
        "python v2\n\n200",
      );
      expect(serviceEvents(pyRunning)).toContain("changed");
      expect((await settled(pyArn, 240_000)).Status).toBe("RUNNING");
      rmSync(py, { recursive: true, force: true });
      cli("apprunner", "delete-service", "--service-arn", pyArn);

      // A change to the source, then StartDeployment: rebuilt and rolled out.
      writeFileSync(join(app, "greeting.txt"), "hi again\n");
      cli("apprunner", "start-deployment", "--service-arn", arn);
      expect((await settled(arn, 240_000)).Status).toBe("RUNNING");
      expect(await waitForBody(running.ServiceUrl, "hi again built from-source")).toBe(
        "hi again built from-source\n\n200",
      );

      // A build that fails: CREATE_FAILED, the service log names the failing step, nothing is left running.
      const broken = cli(
        "apprunner",
        "create-service",
        "--service-name",
        "broken-build",
        "--source-configuration",
        source("echo compiling; exit 3"),
      ).Service as Service;
      created.push(broken.ServiceArn);
      const failed = await settled(broken.ServiceArn, 240_000);
      expect(failed.Status).toBe("CREATE_FAILED");
      const events = serviceEvents(failed);
      expect(events).toContain("Build failed at Step");
      expect(events).toContain("exit 3");
      const groups = cli("elbv2", "describe-target-groups").TargetGroups as { TargetGroupName: string }[];
      expect(groups.filter((g) => g.TargetGroupName === `apprunner-${failed.ServiceId.slice(0, 20)}`)).toEqual([]);
      cli("apprunner", "delete-service", "--service-arn", broken.ServiceArn);
      expect((await settled(broken.ServiceArn)).Status).toBe("DELETED");
      cli("apprunner", "delete-service", "--service-arn", arn);
      expect((await settled(arn, 120_000)).Status).toBe("DELETED");
    } finally {
      rmSync(app, { recursive: true, force: true });
    }
    // Three builds and a redeploy on 2 busy cores: each wait above is bounded, the whole by this.
  }, 900_000);
});
