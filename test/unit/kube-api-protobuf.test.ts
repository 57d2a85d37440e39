import { describe, expect, it } from "vitest";
import { decodeKubeProtobuf, kubeProtoRoot, messageTypeOf } from "../../src/kube-api/protobuf.js";

/** Encodes an object the way Go's typed clients do: k8s\0 + runtime.Unknown{typeMeta, raw}. */
function envelope(apiVersion: string, kind: string, msg: Record<string, unknown>): Buffer {
  const t = messageTypeOf(apiVersion, kind)!;
  const raw = t.encode(t.fromObject(msg)).finish();
  const Unknown = kubeProtoRoot().lookupType("k8s.io.apimachinery.pkg.runtime.Unknown");
  const env = Unknown.encode(Unknown.fromObject({ typeMeta: { apiVersion, kind }, raw, contentType: "" })).finish();
  return Buffer.concat([Buffer.from("k8s\0", "latin1"), env]);
}

describe("Kubernetes protobuf request bodies", () => {
  it("a Deployment: inlined structs, IntOrString, Quantity, zero values dropped but replicas: 0 kept", () => {
    const body = envelope("apps/v1", "Deployment", {
      metadata: { name: "web", generateName: "", labels: { app: "web" }, creationTimestamp: {} },
      spec: {
        replicas: 0,
        paused: false,
        selector: { matchLabels: { app: "web" } },
        template: {
          metadata: { labels: { app: "web" } },
          spec: {
            containers: [
              {
                name: "c",
                image: "busybox",
                workingDir: "",
                resources: { limits: { memory: { string: "64Mi" } } },
                readinessProbe: {
                  handler: { httpGet: { path: "/", port: { type: 0, intVal: 80 } } },
                  periodSeconds: 5,
                },
              },
            ],
            volumes: [{ name: "scratch", volumeSource: { emptyDir: { medium: "" } } }],
          },
        },
      },
    });
    expect(decodeKubeProtobuf(body)).toEqual({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web", labels: { app: "web" } },
      spec: {
        replicas: 0,
        selector: { matchLabels: { app: "web" } },
        template: {
          metadata: { labels: { app: "web" } },
          spec: {
            containers: [
              {
                name: "c",
                image: "busybox",
                resources: { limits: { memory: "64Mi" } },
                readinessProbe: { httpGet: { path: "/", port: 80 }, periodSeconds: 5 },
              },
            ],
            volumes: [{ name: "scratch", emptyDir: {} }],
          },
        },
      },
    });
  });

  it("a Secret's bytes are base64; a SelfSubjectAccessReview; an unknown kind is a 415", () => {
    const s = decodeKubeProtobuf(
      envelope("v1", "Secret", { metadata: { name: "s" }, data: { a: Buffer.from("b") }, type: "Opaque" }),
    );
    expect(s).toEqual({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "s" },
      data: { a: "Yg==" },
      type: "Opaque",
    });
    const r = decodeKubeProtobuf(
      envelope("authorization.k8s.io/v1", "SelfSubjectAccessReview", {
        spec: { resourceAttributes: { namespace: "default", verb: "create", resource: "pods", group: "" } },
      }),
    );
    expect(r).toEqual({
      apiVersion: "authorization.k8s.io/v1",
      kind: "SelfSubjectAccessReview",
      spec: { resourceAttributes: { namespace: "default", verb: "create", resource: "pods" } },
    });
    expect(() => decodeKubeProtobuf(Buffer.from("nope"))).toThrow(expect.objectContaining({ code: 400 }));
  });

  it("kinds newer than the vendored schema use another version of their group (policy/v1 Eviction)", () => {
    const e = decodeKubeProtobuf(
      envelope("policy/v1", "Eviction", {
        metadata: { name: "p", namespace: "n" },
        deleteOptions: { gracePeriodSeconds: 0 },
      }),
    );
    expect(e).toEqual({
      apiVersion: "policy/v1",
      kind: "Eviction",
      metadata: { name: "p", namespace: "n" },
      deleteOptions: { gracePeriodSeconds: 0 },
    });
  });
});
