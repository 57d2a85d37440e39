import { execFileSync } from "node:child_process";
import {
  BatchDeleteImageCommand,
  BatchGetImageCommand,
  CreateRepositoryCommand,
  DeleteRepositoryCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  GetLifecyclePolicyPreviewCommand,
  ListImagesCommand,
  PutImageCommand,
  PutImageTagMutabilityCommand,
  PutLifecyclePolicyCommand,
  StartLifecyclePolicyPreviewCommand,
} from "@aws-sdk/client-ecr";
import {
  CreateRepositoryCommand as CreatePublicRepositoryCommand,
  ECRPUBLICClient,
  GetAuthorizationTokenCommand as GetPublicToken,
} from "@aws-sdk/client-ecr-public";
import { RegisterTaskDefinitionCommand, RunTaskCommand, StopTaskCommand } from "@aws-sdk/client-ecs";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { clientConfig } from "../support/berth.js";
import { DockerCli } from "../support/docker.js";
import { awsvpc, ecsClient, running, stopped, waitForTask } from "../support/ecs.js";

const suffix = Date.now().toString(36);
const env = {
  ...process.env,
  AWS_ACCESS_KEY_ID: "test",
  AWS_SECRET_ACCESS_KEY: "test",
  AWS_DEFAULT_REGION: "us-east-1",
  AWS_PAGER: "",
};

describe("ECR: a registry docker, skopeo and the AWS CLI use", () => {
  let endpoint: string;
  let host: string;
  let ecr: ECRClient;
  const docker = new DockerCli();
  const pushed: string[] = [];

  const login = (cli: DockerCli) => {
    const password = execFileSync("/usr/bin/aws", ["--endpoint-url", endpoint, "ecr", "get-login-password"], {
      encoding: "utf8",
      env,
    }).trim();
    return cli.run(["login", "-u", "AWS", "--password-stdin", host], password);
  };
  const push = (local: string, remote: string) => {
    docker.run(["tag", local, remote]);
    pushed.push(remote);
    return docker.attempt(["push", remote]);
  };

  beforeAll(() => {
    endpoint = inject("endpoint");
    host = `localhost:${new URL(endpoint).port}`;
    ecr = new ECRClient(clientConfig(endpoint));
  });
  afterAll(() => {
    docker.removeImages(...pushed);
    docker.dispose();
  });

  it("creates a repository whose URI docker can push to, logs in, pushes, pulls and describes", async () => {
    const name = `app-${suffix}`;
    const created = await ecr.send(
      new CreateRepositoryCommand({ repositoryName: name, tags: [{ Key: "team", Value: "a" }] }),
    );
    const uri = created.repository!.repositoryUri!;
    expect(uri).toBe(`${host}/${name}`);
    expect(created.repository!.repositoryArn).toBe(`arn:aws:ecr:us-east-1:000000000000:repository/${name}`);
    expect(login(docker)).toContain("Login Succeeded");

    docker.buildVariant(`berth-test/ecr-a:${suffix}`, "a");
    const result = push(`berth-test/ecr-a:${suffix}`, `${uri}:v1`);
    expect(result.ok, result.output).toBe(true);

    const described = await ecr.send(new DescribeImagesCommand({ repositoryName: name }));
    const image = described.imageDetails![0];
    expect(image.imageTags).toEqual(["v1"]);
    expect(image.imageDigest).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(image.imageSizeInBytes).toBeGreaterThan(100_000);
    expect(image.imagePushedAt).toBeInstanceOf(Date);
    expect(image.imageManifestMediaType).toMatch(/manifest/);

    docker.removeImages(`${uri}:v1`);
    const pulled = docker.attempt(["pull", `${uri}:v1`]);
    expect(pulled.ok, pulled.output).toBe(true);
    const again = await ecr.send(new DescribeImagesCommand({ repositoryName: name, imageIds: [{ imageTag: "v1" }] }));
    expect(again.imageDetails![0].lastRecordedPullTime).toBeInstanceOf(Date);

    const listed = await ecr.send(new ListImagesCommand({ repositoryName: name }));
    expect(listed.imageIds).toEqual([{ imageDigest: image.imageDigest, imageTag: "v1" }]);
    const got = await ecr.send(
      new BatchGetImageCommand({ repositoryName: name, imageIds: [{ imageTag: "v1" }, { imageTag: "nope" }] }),
    );
    expect(JSON.parse(got.images![0].imageManifest!).layers.length).toBeGreaterThan(0);
    expect(got.failures).toEqual([
      { imageId: { imageTag: "nope" }, failureCode: "ImageNotFound", failureReason: "Requested image not found" },
    ]);
  });

  it("refuses pulls without credentials", () => {
    const stranger = new DockerCli();
    try {
      const r = stranger.attempt(["pull", `${host}/app-${suffix}:v1`]);
      expect(r.ok).toBe(false);
      expect(r.output).toMatch(/no basic auth credentials|unauthorized/i);
    } finally {
      stranger.dispose();
    }
  });

  it("refuses to overwrite a tag in an IMMUTABLE repository and moves tags in a MUTABLE one", async () => {
    const name = `imm-${suffix}`;
    const { repository } = await ecr.send(new CreateRepositoryCommand({ repositoryName: name }));
    login(docker);
    docker.buildVariant(`berth-test/ecr-b:${suffix}`, "b");
    docker.buildVariant(`berth-test/ecr-c:${suffix}`, "c");
    expect(push(`berth-test/ecr-b:${suffix}`, `${repository!.repositoryUri}:t`).ok).toBe(true);
    expect(push(`berth-test/ecr-c:${suffix}`, `${repository!.repositoryUri}:t`).ok).toBe(true); // MUTABLE: the tag moves
    const images = await ecr.send(new DescribeImagesCommand({ repositoryName: name }));
    expect(images.imageDetails!.filter((i) => i.imageTags?.includes("t"))).toHaveLength(1);

    await ecr.send(new PutImageTagMutabilityCommand({ repositoryName: name, imageTagMutability: "IMMUTABLE" }));
    const refused = push(`berth-test/ecr-b:${suffix}`, `${repository!.repositoryUri}:t`);
    expect(refused.ok).toBe(false);
    expect(refused.output).toMatch(/already exists|immutable/i);
  });

  it("deletes images by tag and digest, and refuses to delete a non-empty repository without force", async () => {
    const name = `app-${suffix}`;
    await expect(ecr.send(new DeleteRepositoryCommand({ repositoryName: name }))).rejects.toMatchObject({
      name: "RepositoryNotEmptyException",
    });
    const del = await ecr.send(
      new BatchDeleteImageCommand({ repositoryName: name, imageIds: [{ imageTag: "v1" }, { imageTag: "missing" }] }),
    );
    expect(del.imageIds![0].imageTag).toBe("v1");
    expect(del.failures![0].failureCode).toBe("ImageNotFound");
    expect((await ecr.send(new ListImagesCommand({ repositoryName: name }))).imageIds).toEqual([]);
    await ecr.send(new DeleteRepositoryCommand({ repositoryName: `imm-${suffix}`, force: true }));
    const left = await ecr.send(new DescribeRepositoriesCommand({}));
    expect(left.repositories!.map((r) => r.repositoryName)).not.toContain(`imm-${suffix}`);
  });

  it("answers bad input with ECR's errors and stores nothing", async () => {
    await expect(ecr.send(new CreateRepositoryCommand({ repositoryName: "Bad_Name!" }))).rejects.toMatchObject({
      name: "InvalidParameterException",
    });
    await expect(ecr.send(new CreateRepositoryCommand({ repositoryName: `app-${suffix}` }))).rejects.toMatchObject({
      name: "RepositoryAlreadyExistsException",
    });
    await expect(ecr.send(new DescribeImagesCommand({ repositoryName: "no-such-repo" }))).rejects.toMatchObject({
      name: "RepositoryNotFoundException",
    });
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.docker.distribution.manifest.v2+json",
      config: {
        mediaType: "application/vnd.docker.container.image.v1+json",
        size: 2,
        digest: `sha256:${"0".repeat(64)}`,
      },
      layers: [],
    });
    await expect(
      ecr.send(new PutImageCommand({ repositoryName: `app-${suffix}`, imageManifest: manifest, imageTag: "x" })),
    ).rejects.toMatchObject({
      name: "LayersNotFoundException",
    });
    await expect(
      ecr.send(
        new PutImageCommand({
          repositoryName: `app-${suffix}`,
          imageManifest: manifest,
          imageDigest: `sha256:${"1".repeat(64)}`,
        }),
      ),
    ).rejects.toMatchObject({ name: "ImageDigestDoesNotMatchException" });
    expect((await ecr.send(new ListImagesCommand({ repositoryName: `app-${suffix}` }))).imageIds).toEqual([]);
  });

  it("expires images by lifecycle policy, with a preview first", async () => {
    const name = `life-${suffix}`;
    const { repository } = await ecr.send(new CreateRepositoryCommand({ repositoryName: name }));
    login(docker);
    for (const v of ["1", "2", "3"]) {
      docker.buildVariant(`berth-test/ecr-life:${v}`, `life-${v}-${suffix}`);
      expect(push(`berth-test/ecr-life:${v}`, `${repository!.repositoryUri}:v${v}`).ok).toBe(true);
    }
    const policy = JSON.stringify({
      rules: [
        {
          rulePriority: 1,
          selection: { tagStatus: "tagged", tagPrefixList: ["v"], countType: "imageCountMoreThan", countNumber: 1 },
          action: { type: "expire" },
        },
      ],
    });
    await ecr.send(new StartLifecyclePolicyPreviewCommand({ repositoryName: name, lifecyclePolicyText: policy }));
    const preview = await ecr.send(new GetLifecyclePolicyPreviewCommand({ repositoryName: name }));
    expect(preview.status).toBe("COMPLETE");
    expect(preview.summary!.expiringImageTotalCount).toBe(2);
    expect(preview.previewResults!.flatMap((r) => r.imageTags)).not.toContain("v3");

    await ecr.send(new PutLifecyclePolicyCommand({ repositoryName: name, lifecyclePolicyText: policy }));
    const deadline = Date.now() + 15_000;
    let tags: string[] = [];
    while (Date.now() < deadline) {
      const out = await ecr.send(new DescribeImagesCommand({ repositoryName: name }));
      tags = out.imageDetails!.flatMap((i) => i.imageTags ?? []);
      if (tags.length === 1) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(tags).toEqual(["v3"]);
    await expect(
      ecr.send(new PutLifecyclePolicyCommand({ repositoryName: name, lifecyclePolicyText: '{"rules":[]}' })),
    ).rejects.toMatchObject({
      name: "InvalidParameterException",
    });
  });

  it("serves ECR Public repositories to anonymous pulls", async () => {
    const pub = new ECRPUBLICClient(clientConfig(endpoint));
    const name = `pub-${suffix}`;
    const created = await pub.send(
      new CreatePublicRepositoryCommand({ repositoryName: name, catalogData: { description: "demo" } }),
    );
    const uri = created.repository!.repositoryUri!;
    expect(uri).toBe(`${host}/public.ecr.aws/berth/${name}`);
    const token = await pub.send(new GetPublicToken({}));
    const password = Buffer.from(token.authorizationData!.authorizationToken!, "base64").toString().split(":")[1];
    docker.run(["login", "-u", "AWS", "--password-stdin", host], password);
    docker.buildVariant(`berth-test/ecr-pub:${suffix}`, "pub");
    expect(push(`berth-test/ecr-pub:${suffix}`, `${uri}:latest`).ok).toBe(true);
    docker.removeImages(`${uri}:latest`);
    const anonymous = new DockerCli();
    try {
      const r = anonymous.attempt(["pull", `${uri}:latest`]);
      expect(r.ok, r.output).toBe(true);
    } finally {
      anonymous.dispose();
    }
  });

  it("runs ECS tasks from a repositoryUri, and fails tasks whose tag is missing", async () => {
    const ecs = ecsClient(endpoint);
    const name = `task-${suffix}`;
    const { repository } = await ecr.send(new CreateRepositoryCommand({ repositoryName: name }));
    login(docker);
    docker.buildVariant(`berth-test/ecr-task:${suffix}`, "task");
    expect(push(`berth-test/ecr-task:${suffix}`, `${repository!.repositoryUri}:1`).ok).toBe(true);
    docker.removeImages(`${repository!.repositoryUri}:1`); // the task must pull it from Berth
    const register = (family: string, image: string) =>
      ecs.send(
        new RegisterTaskDefinitionCommand({
          family,
          networkMode: "awsvpc",
          requiresCompatibilities: ["FARGATE"],
          cpu: "256",
          memory: "512",
          containerDefinitions: [
            { name: "c", image, command: ["sh", "-c", "cat /variant.txt; sleep 60"], stopTimeout: 1 },
          ],
        }),
      );
    await register(`ecr-ok-${suffix}`, `${repository!.repositoryUri}:1`);
    await register(`ecr-missing-${suffix}`, `${repository!.repositoryUri}:nope`);
    const ok = await ecs.send(
      new RunTaskCommand({ taskDefinition: `ecr-ok-${suffix}`, launchType: "FARGATE", networkConfiguration: awsvpc }),
    );
    const okArn = ok.tasks![0].taskArn!;
    const t = await waitForTask(ecs, undefined, okArn, running, 60_000);
    expect(t.pullStartedAt).toBeInstanceOf(Date);
    expect(t.pullStoppedAt).toBeInstanceOf(Date);
    await ecs.send(new StopTaskCommand({ task: okArn }));
    await waitForTask(ecs, undefined, okArn, stopped);

    const bad = await ecs.send(
      new RunTaskCommand({
        taskDefinition: `ecr-missing-${suffix}`,
        launchType: "FARGATE",
        networkConfiguration: awsvpc,
      }),
    );
    const failed = await waitForTask(ecs, undefined, bad.tasks![0].taskArn!, stopped, 60_000);
    expect(failed.stopCode).toBe("TaskFailedToStart");
    expect(failed.stoppedReason).toContain(`${repository!.repositoryUri}:nope`);
    docker.removeImages(`${repository!.repositoryUri}:1`);
  });
});
