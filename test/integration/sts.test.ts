import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { describe, expect, inject, it } from "vitest";
import { clientConfig } from "../support/berth.js";

describe("sts over awsQuery", () => {
  const endpoint = inject("endpoint");

  it("answers GetCallerIdentity for the root key with the default account", async () => {
    const sts = new STSClient(clientConfig(endpoint));
    const id = await sts.send(new GetCallerIdentityCommand({}));
    expect(id.Account).toBe("000000000000");
    expect(id.Arn).toBe("arn:aws:iam::000000000000:root");
  });

  it("selects the account named by a 12-digit access key id", async () => {
    const sts = new STSClient({
      ...clientConfig(endpoint),
      credentials: { accessKeyId: "111122223333", secretAccessKey: "x" },
    });
    const id = await sts.send(new GetCallerIdentityCommand({}));
    expect(id.Account).toBe("111122223333");
  });

  it("refuses the root key with a wrong secret with SignatureDoesNotMatch", async () => {
    const sts = new STSClient({
      ...clientConfig(endpoint),
      credentials: { accessKeyId: "test", secretAccessKey: "wrong" },
    });
    await expect(sts.send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({
      name: "SignatureDoesNotMatch",
      $metadata: { httpStatusCode: 403 },
    });
  });
});
