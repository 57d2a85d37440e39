/**
 * ECS as AWS documents it (issue 16): cluster tags only when asked for (CreateCluster answers
 * with its own), PutClusterCapacityProviders with FARGATE / FARGATE_SPOT and a default strategy
 * that RunTask and CreateService use when no launch type is given, DeleteCluster's answer — SDK v3
 * and the AWS CLI v2.
 */
import { randomUUID } from "node:crypto";
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DeleteClusterCommand,
  type DeleteClusterCommandOutput,
  DeleteServiceCommand,
  DescribeClustersCommand,
  type ECSClient,
  PutClusterCapacityProvidersCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
} from "@aws-sdk/client-ecs";
import { describe, expect, inject, it } from "vitest";
import { awsvpc, ecsClient, stopped, waitForTask } from "../support/ecs.js";
import { awsCli } from "../support/identity.js";
import { BUSYBOX_IMAGE } from "../support/images.js";

async function refusal(p: Promise<unknown>) {
  try {
    await p;
  } catch (e) {
    const err = e as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: err.name, message: err.message, status: err.$metadata?.httpStatusCode };
  }
  throw new Error("the call succeeded");
}

describe("ECS fidelity: cluster tags and capacity providers", () => {
  const endpoint = inject("endpoint");
  const ecs: ECSClient = ecsClient(endpoint);
  const cluster = `fid-${randomUUID().slice(0, 8)}`;
  const family = `fid-cp-${randomUUID().slice(0, 8)}`;
  const cli = (...args: string[]) =>
    awsCli(endpoint, { accessKeyId: "test", secretAccessKey: "test" }, ["ecs", ...args]);

  it("tags: CreateCluster answers with them, DescribeClusters only with include=TAGS", async () => {
    const created = await ecs.send(
      new CreateClusterCommand({ clusterName: cluster, tags: [{ key: "team", value: "web" }] }),
    );
    expect(created.cluster?.tags).toEqual([{ key: "team", value: "web" }]);
    const plain = await ecs.send(new DescribeClustersCommand({ clusters: [cluster] }));
    expect(plain.clusters?.[0]).not.toHaveProperty("tags");
    const tagged = await ecs.send(new DescribeClustersCommand({ clusters: [cluster], include: ["TAGS"] }));
    expect(tagged.clusters?.[0].tags).toEqual([{ key: "team", value: "web" }]);
  });

  it("PutClusterCapacityProviders: FARGATE and FARGATE_SPOT with a default strategy; AWS's refusals", async () => {
    const put = await cli(
      "put-cluster-capacity-providers",
      "--cluster",
      cluster,
      "--capacity-providers",
      "FARGATE",
      "FARGATE_SPOT",
      "--default-capacity-provider-strategy",
      "capacityProvider=FARGATE,weight=1,base=1",
      "capacityProvider=FARGATE_SPOT,weight=1",
    );
    expect(put.ok && put.json).toMatchObject({
      cluster: {
        clusterName: cluster,
        capacityProviders: ["FARGATE", "FARGATE_SPOT"],
        defaultCapacityProviderStrategy: [
          { capacityProvider: "FARGATE", weight: 1, base: 1 },
          { capacityProvider: "FARGATE_SPOT", weight: 1, base: 0 },
        ],
      },
    });
    expect(
      await refusal(
        ecs.send(
          new PutClusterCapacityProvidersCommand({
            cluster,
            capacityProviders: ["FARGATE"],
            defaultCapacityProviderStrategy: [{ capacityProvider: "FARGATE_SPOT", weight: 1 }],
          }),
        ),
      ),
    ).toMatchObject({
      name: "InvalidParameterException",
      status: 400,
      message: expect.stringMatching(/not associated with the cluster/),
    });
    expect(
      (
        await refusal(
          ecs.send(
            new PutClusterCapacityProvidersCommand({
              cluster,
              capacityProviders: ["my-asg"],
              defaultCapacityProviderStrategy: [],
            }),
          ),
        )
      ).name,
    ).toBe("InvalidParameterException");
    expect(
      (
        await refusal(
          ecs.send(
            new PutClusterCapacityProvidersCommand({
              cluster: "no-such",
              capacityProviders: [],
              defaultCapacityProviderStrategy: [],
            }),
          ),
        )
      ).name,
    ).toBe("ClusterNotFoundException");
    const described = await ecs.send(new DescribeClustersCommand({ clusters: [cluster] }));
    expect(described.clusters?.[0].capacityProviders).toEqual(["FARGATE", "FARGATE_SPOT"]);
    const providers = await cli("describe-capacity-providers", "--capacity-providers", "FARGATE_SPOT", "my-asg");
    expect(providers.ok && providers.json).toMatchObject({
      capacityProviders: [{ name: "FARGATE_SPOT", status: "ACTIVE" }],
      failures: [{ reason: "MISSING", arn: expect.stringMatching(/:capacity-provider\/my-asg$/) }],
    });
  });

  it("RunTask and CreateService without a launch type go through the default strategy", async () => {
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family,
        requiresCompatibilities: ["FARGATE"],
        networkMode: "awsvpc",
        cpu: "256",
        memory: "512",
        containerDefinitions: [{ name: "app", image: BUSYBOX_IMAGE, command: ["sleep", "1"] }],
      }),
    );
    const run = await ecs.send(
      new RunTaskCommand({ cluster, taskDefinition: family, count: 3, networkConfiguration: awsvpc }),
    );
    // base 1 on FARGATE, then 1:1: two FARGATE tasks and one FARGATE_SPOT.
    expect(run.tasks?.map((t) => [t.launchType, t.capacityProviderName]).sort()).toEqual([
      ["FARGATE", "FARGATE"],
      ["FARGATE", "FARGATE"],
      ["FARGATE", "FARGATE_SPOT"],
    ]);
    for (const t of run.tasks ?? []) await waitForTask(ecs, cluster, t.taskArn!, stopped);

    const service = await ecs.send(
      new CreateServiceCommand({
        cluster,
        serviceName: "cp",
        taskDefinition: family,
        desiredCount: 0,
        networkConfiguration: awsvpc,
      }),
    );
    expect(service.service).not.toHaveProperty("launchType");
    expect(service.service?.capacityProviderStrategy).toEqual([
      { capacityProvider: "FARGATE", weight: 1, base: 1 },
      { capacityProvider: "FARGATE_SPOT", weight: 1, base: 0 },
    ]);
    expect(
      await refusal(
        ecs.send(
          new PutClusterCapacityProvidersCommand({
            cluster,
            capacityProviders: [],
            defaultCapacityProviderStrategy: [],
          }),
        ),
      ),
    ).toMatchObject({
      name: "ResourceInUseException",
      message: expect.stringMatching(/is in use and cannot be removed/),
    });
    await ecs.send(new DeleteServiceCommand({ cluster, service: "cp", force: true }));
  }, 120_000);

  it("DeleteCluster answers with the INACTIVE cluster, without tags", async () => {
    let deleted: DeleteClusterCommandOutput | undefined;
    for (let i = 0; i < 100 && !deleted; i++) {
      try {
        deleted = await ecs.send(new DeleteClusterCommand({ cluster }));
      } catch (e) {
        if (
          (e as Error).name !== "ClusterContainsServicesException" &&
          (e as Error).name !== "ClusterContainsTasksException"
        )
          throw e;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    expect(deleted?.cluster).toMatchObject({
      clusterName: cluster,
      status: "INACTIVE",
      capacityProviders: ["FARGATE", "FARGATE_SPOT"],
    });
    expect(deleted?.cluster).not.toHaveProperty("tags");
    expect((await refusal(ecs.send(new DeleteClusterCommand({ cluster })))).name).toBe("ClusterNotFoundException");
  }, 60_000);
});
