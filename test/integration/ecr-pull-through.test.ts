import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CreateClusterCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
} from "@aws-sdk/client-ecs";
import {
  CreatePullThroughCacheRuleCommand,
  CreateRepositoryCreationTemplateCommand,
  DeleteRepositoryCreationTemplateCommand,
  DescribePullThroughCacheRulesCommand,
  DescribeRepositoryCreationTemplatesCommand,
  ECRClient,
  UpdatePullThroughCacheRuleCommand,
  ValidatePullThroughCacheRuleCommand,
} from "@aws-sdk/client-ecr";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningBerth, clientConfig, credentials, startBerth } from "../support/berth.js";
import { awsvpc, ecsClient, removeContainersOf, running, waitForTask } from "../support/ecs.js";
import { awsCli } from "../support/identity.js";
import { BUSYBOX_IMAGE } from "../support/images.js";
import { Docker, http } from "../support/registry.js";
import { type UpstreamRegistry, startUpstreamRegistry } from "../support/upstream-registry.js";

/**
 * ECR pull-through cache against a local upstream: Debian's docker-registry (CNCF distribution
 * 2.8) with token auth standing in for Docker Hub. Rules and secrets through the AWS CLI v2,
 * pulls through docker and skopeo, an ECS task naming the image by its plain name, and the
 * upstream stopped while the cache keeps serving.
 */

const suffix = Date.now().toString(36);
const USER = "puller";
const PASSWORD = `pw-${suffix}`;

describe("ECR pull-through cache", () => {
  let berth: RunningBerth;
  let ecr: ECRClient;
  let upstream: UpstreamRegistry;
  const docker = new Docker();
  const work = mkdtempSync(join(tmpdir(), "berth-ptc-"));
  const images = new Set<string>();
  const cli = (...args: string[]) => awsCli(berth.endpoint, credentials, args);
  const ok = async (...args: string[]) => {
    const r = await cli(...args);
    if (!r.ok) throw new Error(`aws ${args.join(" ")} failed: ${r.stderr}`);
    return r.json as Record<string, unknown>;
  };
  const fails = async (code: string, ...args: string[]) => {
    const r = await cli(...args);
    expect(r.ok, `aws ${args.join(" ")} should fail with ${code}`).toBe(false);
    if (!r.ok) expect(r.stderr).toContain(code);
  };
  let host: string;
  let upstreamDigest: string;
  let secretArn: string;
  const local = `berth-test/ptc-app:${suffix}`;
  const dropLocal = (ref: string) => docker.attempt(["rmi", "-f", ref]);

  beforeAll(async () => {
    upstream = await startUpstreamRegistry({ [USER]: PASSWORD });
    berth = await startBerth({ env: { BERTH_ECR_PULL_THROUGH_RECHECK_MS: "500", BERTH_REGISTRY_MIRROR_RULE: "hub" } });
    host = `localhost:${berth.port}`;
    ecr = new ECRClient(clientConfig(berth.endpoint));
    // The upstream's image: the busybox test image with a marker file, pushed with the upstream's credentials.
    const dir = join(work, "img");
    execFileSync("mkdir", ["-p", dir]);
    writeFileSync(join(dir, "marker.txt"), `from-upstream-${suffix}\n`);
    writeFileSync(join(dir, "Dockerfile"), `FROM ${BUSYBOX_IMAGE}\nCOPY marker.txt /marker.txt\n`);
    docker.run(["build", "-q", "-t", local, dir]);
    images.add(local);
    execFileSync(
      "skopeo",
      ["copy", "--quiet", "--dest-tls-verify=false", "--dest-creds", `${USER}:${PASSWORD}`].concat([
        `docker-daemon:${local}`,
        `docker://${upstream.host}/library/app:1`,
      ]),
      { stdio: "pipe", timeout: 60_000 },
    );
    upstreamDigest = JSON.parse(
      execFileSync(
        "skopeo",
        ["inspect", "--tls-verify=false", "--creds", `${USER}:${PASSWORD}`, `docker://${upstream.host}/library/app:1`],
        { encoding: "utf8", timeout: 30_000 },
      ),
    ).Digest;
    const password = execFileSync("/usr/bin/aws", ["--endpoint-url", berth.endpoint, "ecr", "get-login-password"], {
      encoding: "utf8",
      env: {
        ...process.env,
        AWS_ACCESS_KEY_ID: "test",
        AWS_SECRET_ACCESS_KEY: "test",
        AWS_DEFAULT_REGION: "us-east-1",
      },
    }).trim();
    docker.run(["login", "-u", "AWS", "--password-stdin", host], password);
  });

  afterAll(async () => {
    for (const ref of images) dropLocal(ref);
    docker.dispose();
    ecr?.destroy();
    if (berth) {
      await berth.stop();
      removeContainersOf(berth.dataDir);
      rmSync(berth.dataDir, { recursive: true, force: true });
    }
    await upstream?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  /** The error an SDK call failed with (undefined when it worked). */
  const sdkError = (p: Promise<unknown>) =>
    p.then(
      () => undefined,
      (err: Error) => err,
    );

  it("creates a rule with a Secrets Manager secret, and refuses bad rules", async () => {
    secretArn = (
      await ok(
        "secretsmanager",
        "create-secret",
        "--name",
        `ecr-pullthroughcache/upstream-${suffix}`,
        "--secret-string",
        JSON.stringify({ username: USER, accessToken: PASSWORD }),
      )
    ).ARN as string;
    const rule = await ecr.send(
      new CreatePullThroughCacheRuleCommand({
        ecrRepositoryPrefix: "hub",
        upstreamRegistryUrl: upstream.host,
        upstreamRegistry: "docker-hub",
        credentialArn: secretArn,
      }),
    );
    expect(rule).toMatchObject({
      ecrRepositoryPrefix: "hub",
      upstreamRegistryUrl: upstream.host,
      credentialArn: secretArn,
    });
    const described = await ok("ecr", "describe-pull-through-cache-rules");
    expect(described.pullThroughCacheRules).toMatchObject([
      { ecrRepositoryPrefix: "hub", upstreamRegistryUrl: upstream.host },
    ]);
    const valid = await ecr.send(new ValidatePullThroughCacheRuleCommand({ ecrRepositoryPrefix: "hub" }));
    expect(valid).toMatchObject({ isValid: true, upstreamRegistryUrl: upstream.host });

    const create = ["ecr", "create-pull-through-cache-rule", "--ecr-repository-prefix"];
    const url = "--upstream-registry-url";
    await fails("PullThroughCacheRuleAlreadyExistsException", ...create, "hub", url, upstream.host);
    await fails("PullThroughCacheRuleAlreadyExistsException", ...create, "hub/team", url, upstream.host);
    await fails("UnsupportedUpstreamRegistryException", ...create, "other", url, "docker.io");
    await fails("UnsupportedUpstreamRegistryException", ...create, "dh", url, "registry-1.docker.io");
    await fails("InvalidParameterException", ...create, "Bad_Prefix", url, "quay.io");
    const withSecret = (credentialArn: string) =>
      sdkError(
        ecr.send(
          new CreatePullThroughCacheRuleCommand({
            ecrRepositoryPrefix: "dh",
            upstreamRegistryUrl: "registry-1.docker.io",
            credentialArn,
          }),
        ),
      );
    const missing = `arn:aws:secretsmanager:us-east-1:000000000000:secret:ecr-pullthroughcache/missing-${suffix}`;
    expect((await withSecret(missing))?.name).toBe("SecretNotFoundException");
    const wrongName = "arn:aws:secretsmanager:us-east-1:000000000000:secret:not-the-required-prefix-abcdef";
    expect((await withSecret(wrongName))?.name).toBe("InvalidParameterException");
    const notJson = (
      await ok(
        "secretsmanager",
        "create-secret",
        "--name",
        `ecr-pullthroughcache/plain-${suffix}`,
        "--secret-string",
        "u:p",
      )
    ).ARN as string;
    expect((await withSecret(notJson))?.name).toBe("UnableToAccessSecretException");
    const update = await sdkError(
      ecr.send(new UpdatePullThroughCacheRuleCommand({ ecrRepositoryPrefix: "hub", credentialArn: notJson })),
    );
    expect(update?.name).toBe("UnableToAccessSecretException");
    await fails(
      "PullThroughCacheRuleNotFoundException",
      "ecr",
      "describe-pull-through-cache-rules",
      "--ecr-repository-prefixes",
      "nope",
    );
    await fails(
      "PullThroughCacheRuleNotFoundException",
      "ecr",
      "delete-pull-through-cache-rule",
      "--ecr-repository-prefix",
      "nope",
    );
    // Nothing of the refused requests was kept.
    const after = await ecr.send(new DescribePullThroughCacheRulesCommand({}));
    expect(after.pullThroughCacheRules).toMatchObject([{ ecrRepositoryPrefix: "hub", credentialArn: secretArn }]);
  });

  it("applies the PULL_THROUGH_CACHE creation template to the repository a first docker pull creates", async () => {
    const template = {
      prefix: "hub",
      appliedFor: ["PULL_THROUGH_CACHE" as const],
      imageTagMutability: "IMMUTABLE" as const,
      resourceTags: [{ Key: "made-by", Value: "template" }],
    };
    await ecr.send(new CreateRepositoryCreationTemplateCommand(template));
    const again = await sdkError(ecr.send(new CreateRepositoryCreationTemplateCommand(template)));
    expect(again?.name).toBe("TemplateAlreadyExistsException");
    const listed = await ecr.send(new DescribeRepositoryCreationTemplatesCommand({}));
    expect(listed.repositoryCreationTemplates?.map((t) => [t.prefix, t.imageTagMutability])).toEqual([
      ["hub", "IMMUTABLE"],
    ]);

    const tokensBefore = await upstream.tokensIssued();
    docker.run(["pull", "-q", `${host}/hub/library/app:1`]);
    images.add(`${host}/hub/library/app:1`);
    expect(await upstream.tokensIssued()).toBeGreaterThan(tokensBefore);
    const marker = docker.run(["run", "--rm", `${host}/hub/library/app:1`, "cat", "/marker.txt"]);
    expect(marker.trim()).toBe(`from-upstream-${suffix}`);
    const repos = (await ok("ecr", "describe-repositories", "--repository-names", "hub/library/app")).repositories as {
      imageTagMutability: string;
      repositoryArn: string;
    }[];
    expect(repos[0].imageTagMutability).toBe("IMMUTABLE");
    const tags = await ok("ecr", "list-tags-for-resource", "--resource-arn", repos[0].repositoryArn);
    expect(tags.tags).toEqual([{ Key: "made-by", Value: "template" }]);
    const imgs = await ok("ecr", "describe-images", "--repository-name", "hub/library/app");
    expect(imgs.imageDetails).toMatchObject([{ imageDigest: upstreamDigest, imageTags: ["1"] }]);
  });

  it("answers MANIFEST_UNKNOWN for an image the upstream does not have, and creates no repository", async () => {
    const r = docker.attempt(["pull", `${host}/hub/library/nothing-here:1`]);
    expect(r.ok).toBe(false);
    expect(r.output).toMatch(/manifest unknown/i);
    await fails(
      "RepositoryNotFoundException",
      "ecr",
      "describe-repositories",
      "--repository-names",
      "hub/library/nothing-here",
    );
    // skopeo sees the same through the registry API.
    const password = JSON.parse(readFileSync(join(docker.configDir, "config.json"), "utf8")).auths[host].auth;
    const [user, pass] = Buffer.from(password, "base64").toString("utf8").split(/:(.*)/s);
    let message = "";
    try {
      execFileSync(
        "skopeo",
        ["inspect", "--tls-verify=false", "--creds", `${user}:${pass}`, `docker://${host}/hub/library/app:nope`],
        { stdio: "pipe", timeout: 30_000 },
      );
    } catch (e) {
      message = String((e as { stderr?: Buffer }).stderr);
    }
    expect(message).toMatch(/manifest unknown/i);
  });

  it("runs an ECS task whose image is the plain name under the rule's prefix, also with the upstream stopped", async () => {
    const ecs = ecsClient(berth.endpoint);
    await ecs.send(new CreateClusterCommand({ clusterName: "default" }));
    const td = await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: `ptc-${suffix}`,
        networkMode: "awsvpc",
        requiresCompatibilities: ["FARGATE"],
        cpu: "256",
        memory: "512",
        containerDefinitions: [
          {
            name: "app",
            image: "hub/library/app:1",
            essential: true,
            stopTimeout: 1,
            command: ["sh", "-c", "cat /marker.txt; exec sleep 300"],
          },
        ],
      }),
    );
    const runOnce = async () => {
      // The engine forgets the image, so the task must pull it (through Berth's cache).
      dropLocal(`${host}/hub/library/app:1`);
      dropLocal("hub/library/app:1");
      const out = await ecs.send(
        new RunTaskCommand({
          taskDefinition: td.taskDefinition!.taskDefinitionArn!,
          launchType: "FARGATE",
          networkConfiguration: awsvpc,
        }),
      );
      expect(out.failures).toEqual([]);
      const arn = out.tasks![0].taskArn!;
      const task = await waitForTask(ecs, undefined, arn, (t) => running(t) || t.lastStatus === "STOPPED", 90_000);
      expect(task.stoppedReason ?? "", JSON.stringify(task.containers)).toBe("");
      expect(task.lastStatus).toBe("RUNNING");
      await ecs.send(new StopTaskCommand({ task: arn }));
    };
    images.add("hub/library/app:1");
    await runOnce();
    await upstream.stopRegistry();
    try {
      // Past the recheck interval: the upstream is asked, cannot answer, and the cached copy serves.
      await new Promise((r) => setTimeout(r, 600));
      await runOnce();
      dropLocal(`${host}/hub/library/app:1`);
      const pulled = docker.attempt(["pull", "-q", `${host}/hub/library/app:1`]);
      expect(pulled.ok, pulled.output).toBe(true);
    } finally {
      await upstream.startRegistry();
    }
    ecs.destroy();
  });

  it("surfaces the upstream's refusal of wrong or missing credentials, and stores nothing", async () => {
    const wrong = (
      await ok(
        "secretsmanager",
        "create-secret",
        "--name",
        `ecr-pullthroughcache/wrong-${suffix}`,
        "--secret-string",
        JSON.stringify({ username: USER, accessToken: "not-the-password" }),
      )
    ).ARN as string;
    await ecr.send(
      new CreatePullThroughCacheRuleCommand({
        ecrRepositoryPrefix: "badcreds",
        upstreamRegistryUrl: upstream.host,
        credentialArn: wrong,
      }),
    );
    const valid = await ecr.send(new ValidatePullThroughCacheRuleCommand({ ecrRepositoryPrefix: "badcreds" }));
    expect(valid.isValid).toBe(false);
    expect(valid.failure).toMatch(/refused/);
    const r = docker.attempt(["pull", `${host}/badcreds/library/app:1`]);
    expect(r.ok).toBe(false);
    expect(r.output).toMatch(/denied/i);
    await fails(
      "RepositoryNotFoundException",
      "ecr",
      "describe-repositories",
      "--repository-names",
      "badcreds/library/app",
    );
    // A rule without credentials (as the CLI creates it): the upstream refuses an anonymous pull.
    await ok(
      "ecr",
      "create-pull-through-cache-rule",
      "--ecr-repository-prefix",
      "anon",
      "--upstream-registry-url",
      upstream.host,
    );
    const anonPull = docker.attempt(["pull", `${host}/anon/library/app:1`]);
    expect(anonPull.ok).toBe(false);
    expect(anonPull.output).toMatch(/denied/i);
    // Without credentials at Berth, a pull of a cached name is refused as for any private repository.
    const anon = await http(berth.endpoint, "GET", "/v2/hub/library/app/manifests/1");
    expect(anon.status).toBe(401);
  });

  it("serves Docker Hub paths from the mirror rule's cache to anonymous clients (registry mirror mode)", async () => {
    const out = execFileSync(
      "skopeo",
      ["inspect", "--tls-verify=false", "--no-creds", `docker://${host}/library/app:1`],
      { encoding: "utf8", timeout: 30_000 },
    );
    expect(JSON.parse(out).Digest).toBe(upstreamDigest);
    const manifest = await http(berth.endpoint, "GET", "/v2/library/app/manifests/1", {
      headers: { accept: "application/vnd.docker.distribution.manifest.v2+json" },
    });
    expect(manifest.status).toBe(200);
    const layer = manifest.json<{ layers: { digest: string }[] }>().layers[0].digest;
    const blob = await http(berth.endpoint, "HEAD", `/v2/library/app/blobs/${layer}`);
    expect(blob.status).toBe(200);
    // Writes are never mirrored.
    const put = await http(berth.endpoint, "POST", "/v2/library/app/blobs/uploads/");
    expect(put.status).toBe(404);
  });

  it("stores nothing when the upstream's content does not match its digest", async () => {
    // A registry that serves a manifest whose config blob has other bytes than its digest says.
    const script = `
      import { createServer } from "node:http";
      import { createHash } from "node:crypto";
      const sha = (b) => "sha256:" + createHash("sha256").update(b).digest("hex");
      const config = Buffer.from('{"architecture":"amd64","os":"linux"}');
      const manifest = Buffer.from(JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.docker.distribution.manifest.v2+json",
        config: { mediaType: "application/vnd.docker.container.image.v1+json", digest: sha(config), size: config.length },
        layers: [],
      }));
      const server = createServer((req, res) => {
        if (req.url === "/v2/") return res.end("{}");
        if (req.url.includes("/manifests/")) {
          res.writeHead(200, { "content-type": "application/vnd.docker.distribution.manifest.v2+json", "docker-content-digest": sha(manifest) });
          return res.end(req.method === "HEAD" ? undefined : manifest);
        }
        if (req.url.includes("/blobs/")) return res.end(Buffer.alloc(config.length, 120));
        res.writeHead(404).end();
      });
      server.listen(0, "127.0.0.1", () => process.stdout.write("listening " + server.address().port + "\\n"));
    `;
    const { spawn } = await import("node:child_process");
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    try {
      const port = await new Promise<number>((resolve, reject) => {
        child.stdout?.on("data", (d: Buffer) => {
          const m = /listening (\d+)/.exec(String(d));
          if (m) resolve(Number(m[1]));
        });
        child.on("exit", (code) => reject(new Error(`the tampering registry exited with ${code}`)));
      });
      await ok(
        "ecr",
        "create-pull-through-cache-rule",
        "--ecr-repository-prefix",
        "tampered",
        "--upstream-registry-url",
        `127.0.0.1:${port}`,
      );
      const r = docker.attempt(["pull", `${host}/tampered/app:1`]);
      expect(r.ok).toBe(false);
      expect(r.output).toMatch(/digest/i);
      await fails("RepositoryNotFoundException", "ecr", "describe-repositories", "--repository-names", "tampered/app");
      await ok("ecr", "delete-pull-through-cache-rule", "--ecr-repository-prefix", "tampered");
    } finally {
      child.kill("SIGTERM");
    }
  });

  it("deletes rules and templates", async () => {
    await ok("ecr", "delete-pull-through-cache-rule", "--ecr-repository-prefix", "badcreds");
    await ok("ecr", "delete-pull-through-cache-rule", "--ecr-repository-prefix", "anon");
    await ecr.send(new DeleteRepositoryCreationTemplateCommand({ prefix: "hub" }));
    const gone = await sdkError(ecr.send(new DeleteRepositoryCreationTemplateCommand({ prefix: "hub" })));
    expect(gone?.name).toBe("TemplateNotFoundException");
    const left = await ok("ecr", "describe-pull-through-cache-rules");
    expect(left.pullThroughCacheRules).toMatchObject([{ ecrRepositoryPrefix: "hub" }]);
  });
});
