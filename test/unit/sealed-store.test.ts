import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ServiceError } from "../../src/core/errors.js";
import { SecretBox } from "../../src/iam/secret-box.js";
import { SealedStore } from "../../src/services/sealed-store.js";
import { ParameterStore } from "../../src/services/ssm/store.js";
import { SecretStore } from "../../src/services/secretsmanager/store.js";
import { openDb } from "../../src/store/db.js";
import { DocumentStore } from "../../src/store/documents.js";

const clock = { now: () => new Date(0) };
const box = new SecretBox(randomBytes(32));
const storeOf = () => new DocumentStore(openDb(":memory:"));

describe("SealedStore", () => {
  const sealed = (purpose: string) =>
    new SealedStore<{ Name: string; ARN: string }>(storeOf(), box, clock, {
      kind: "test.thing",
      purpose,
      name: (r) => r.Name,
      arn: (r) => r.ARN,
      undecryptable: () => new ServiceError("Undecryptable", "cannot open"),
    });

  it("opens what it sealed, and stores no plaintext", () => {
    const s = sealed("a");
    const text = s.seal("hunter2");
    expect(text).not.toContain("hunter2");
    expect(s.open({ sealed: text })).toBe("hunter2");
  });

  it("refuses a value sealed for another purpose with the service's error", () => {
    expect(() => sealed("b").open({ sealed: sealed("a").seal("x") })).toThrow(
      expect.objectContaining({ code: "Undecryptable" }),
    );
  });

  it("keeps each service's purpose and error: a secret's value is no parameter's", () => {
    const secrets = new SecretStore(storeOf(), box, clock);
    const parameters = new ParameterStore(storeOf(), box, clock);
    const v = secrets.seal("s3cret");
    expect(secrets.open({ sealed: v })).toBe("s3cret");
    expect(() => parameters.open({ sealed: v } as never)).toThrow(
      expect.objectContaining({ code: "InternalServerError", status: 500 }),
    );
    expect(() => secrets.open({ sealed: parameters.seal("p") } as never)).toThrow(
      expect.objectContaining({ code: "DecryptionFailure" }),
    );
  });
});
