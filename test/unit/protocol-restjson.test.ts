import {
  CreateClusterCommand,
  type CreateClusterCommandInput,
  DescribeClusterCommand,
  EKSClient,
  InvalidParameterException,
  ListClustersCommand,
  ListTagsForResourceCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  TagResourceCommand,
  UntagResourceCommand,
} from "@aws-sdk/client-eks";
import { describe, expect, it } from "vitest";
import { errorStatus, loadModel } from "../../src/protocol/model.js";
import { restJsonProtocol } from "../../src/protocol/restjson/protocol.js";
import { WireHandler, clientOptions, toWire } from "../support/wire.js";

const eksModel = loadModel("eks");
const eks = restJsonProtocol(eksModel, "InvalidParameterException");
const client = (wire: WireHandler) => new EKSClient(clientOptions(wire));

describe("restJson1: SDK request → Berth input", () => {
  it("CreateCluster: body members, nested structures, maps, and the idempotency token", async () => {
    const wire = new WireHandler();
    const input: CreateClusterCommandInput = {
      name: "dev",
      version: "1.31",
      roleArn: "arn:aws:iam::000000000000:role/eks",
      resourcesVpcConfig: {
        subnetIds: ["subnet-1", "subnet-2"],
        securityGroupIds: ["sg-1"],
        endpointPublicAccess: true,
        endpointPrivateAccess: false,
        publicAccessCidrs: ["0.0.0.0/0"],
      },
      kubernetesNetworkConfig: { serviceIpv4Cidr: "10.100.0.0/16", ipFamily: "ipv4" },
      logging: { clusterLogging: [{ types: ["api", "audit"], enabled: true }] },
      tags: { team: "platform", "kubernetes.io/cluster/dev": "owned" },
      accessConfig: { authenticationMode: "API_AND_CONFIG_MAP", bootstrapClusterCreatorAdminPermissions: true },
    };
    await client(wire).send(new CreateClusterCommand(input));
    const req = toWire(wire.last);
    expect(req.method).toBe("POST");
    expect(req.path).toBe("/clusters");
    const parsed = eks.parse(req);
    expect(parsed.operation).toBe("CreateCluster");
    const { clientRequestToken, ...rest } = parsed.input;
    expect(rest).toEqual(input);
    expect(clientRequestToken).toEqual(expect.any(String));
  });

  it("DescribeCluster: the URI label", async () => {
    const wire = new WireHandler();
    await client(wire).send(new DescribeClusterCommand({ name: "my-cluster_1" }));
    expect(wire.last.path).toBe("/clusters/my-cluster_1");
    expect(eks.parse(toWire(wire.last))).toEqual({ operation: "DescribeCluster", input: { name: "my-cluster_1" } });
  });

  it("ListClusters: integer and string query parameters, and a list repeated in the query", async () => {
    const wire = new WireHandler();
    await client(wire).send(new ListClustersCommand({ maxResults: 25, nextToken: "abc/def+==", include: ["all"] }));
    expect(eks.parse(toWire(wire.last))).toEqual({
      operation: "ListClusters",
      input: { maxResults: 25, nextToken: "abc/def+==", include: ["all"] },
    });
    const bare = new WireHandler();
    await client(bare).send(new ListClustersCommand({}));
    expect(eks.parse(toWire(bare.last))).toEqual({ operation: "ListClusters", input: {} });
  });

  it("TagResource: an ARN in the URI label arrives percent-encoded and is decoded", async () => {
    const wire = new WireHandler();
    const resourceArn = "arn:aws:eks:us-east-1:000000000000:cluster/dev";
    await client(wire).send(new TagResourceCommand({ resourceArn, tags: { "a b": "c/d", env: "" } }));
    const req = toWire(wire.last);
    expect(req.path).toBe("/tags/arn%3Aaws%3Aeks%3Aus-east-1%3A000000000000%3Acluster%2Fdev");
    expect(eks.parse(req)).toEqual({
      operation: "TagResource",
      input: { resourceArn, tags: { "a b": "c/d", env: "" } },
    });
  });

  it("UntagResource and ListTagsForResource share the path and differ by method", async () => {
    const resourceArn = "arn:aws:eks:us-east-1:000000000000:nodegroup/dev/ng/1234";
    const wire = new WireHandler();
    await client(wire).send(new UntagResourceCommand({ resourceArn, tagKeys: ["a", "b,c"] }));
    expect(eks.parse(toWire(wire.last))).toEqual({
      operation: "UntagResource",
      input: { resourceArn, tagKeys: ["a", "b,c"] },
    });
    await client(wire).send(new ListTagsForResourceCommand({ resourceArn }));
    expect(eks.parse(toWire(wire.last))).toEqual({ operation: "ListTagsForResource", input: { resourceArn } });
  });
});

describe("restJson1: Berth output → SDK", () => {
  it("DescribeCluster output with timestamps, maps and nested lists", async () => {
    const cluster = {
      name: "dev",
      arn: "arn:aws:eks:us-east-1:000000000000:cluster/dev",
      createdAt: new Date("2026-05-06T07:08:09.123Z"),
      version: "1.31",
      endpoint: "https://127.0.0.1:6443",
      roleArn: "arn:aws:iam::000000000000:role/eks",
      resourcesVpcConfig: { subnetIds: ["subnet-1"], endpointPublicAccess: true, endpointPrivateAccess: false },
      logging: { clusterLogging: [{ types: ["api"], enabled: false }] },
      identity: { oidc: { issuer: "https://oidc.local/id/1" } },
      status: "ACTIVE",
      certificateAuthority: { data: "LS0tLS1CRUdJTg==" },
      tags: { team: "platform" },
      health: { issues: [] },
    };
    const response = eks.serialize("DescribeCluster", { cluster }, "req-e1");
    expect(JSON.parse(String(response.body)).cluster.createdAt).toBe(cluster.createdAt.getTime() / 1000);
    const got = await client(new WireHandler().reply(response)).send(new DescribeClusterCommand({ name: "dev" }));
    expect(got.cluster).toEqual(cluster);
    expect(got.$metadata).toMatchObject({ httpStatusCode: 200, requestId: "req-e1" });
  });

  it("ListClusters output", async () => {
    const response = eks.serialize("ListClusters", { clusters: ["a", "b"], nextToken: "t" }, "r");
    const got = await client(new WireHandler().reply(response)).send(new ListClustersCommand({}));
    expect(got).toMatchObject({ clusters: ["a", "b"], nextToken: "t" });
  });
});

describe("restJson1: Berth errors → SDK exceptions", () => {
  const fail = async (code: string, message: string, fields?: Record<string, unknown>) => {
    const response = eks.renderError(code, message, errorStatus(eksModel, code, 400), "Sender", "req-e2", fields);
    expect(response.headers["x-amzn-errortype"]).toBe(code);
    const err = await client(new WireHandler().reply(response))
      .send(new DescribeClusterCommand({ name: "dev" }))
      .catch((e: unknown) => e);
    return err as Error & { $metadata: { httpStatusCode?: number; requestId?: string }; clusterName?: string };
  };

  it("ResourceNotFoundException: 404 from the model, with its modelled members", async () => {
    const e = await fail("ResourceNotFoundException", "No cluster found for name: dev.", { clusterName: "dev" });
    expect(e).toBeInstanceOf(ResourceNotFoundException);
    expect(e.message).toBe("No cluster found for name: dev.");
    expect(e.$metadata.httpStatusCode).toBe(404);
    expect(e.$metadata.requestId).toBe("req-e2");
    expect(e.clusterName).toBe("dev");
  });

  it("ResourceInUseException: 409", async () => {
    const e = await fail("ResourceInUseException", "Cluster already exists with name: dev");
    expect(e).toBeInstanceOf(ResourceInUseException);
    expect(e.$metadata.httpStatusCode).toBe(409);
  });

  it("InvalidParameterException from validation: 400", async () => {
    const e = await fail("InvalidParameterException", "1 validation error detected: ...");
    expect(e).toBeInstanceOf(InvalidParameterException);
    expect(e.$metadata.httpStatusCode).toBe(400);
  });

  it("an unmodelled code still reaches the SDK by name", async () => {
    const e = await fail("UnknownOperationException", "No EKS operation matches GET /nope.");
    expect(e.name).toBe("UnknownOperationException");
    expect(e.message).toBe("No EKS operation matches GET /nope.");
  });
});
