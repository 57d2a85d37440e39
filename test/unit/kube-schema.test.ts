// biome-ignore-all lint/suspicious/noExplicitAny: fixtures are reached into by path
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { defaultPullPolicy } from "../../src/kube/defaults.js";
import {
  defaultObject,
  type GroupVersionKind,
  gvkOf,
  loadOpenApi,
  patchMetaOf,
  propertySchema,
  pruneUnknownFields,
  schemaFor,
  strictDecodingError,
  validateObject,
  validateUpdate,
} from "../../src/kube/schema.js";
import type { KubeObject } from "../../src/kube/types.js";
import kubectlCreated from "./fixtures/kube-kubectl-created.json" with { type: "json" };

const ix = loadOpenApi();
const DEPLOY: GroupVersionKind = { group: "apps", version: "v1", kind: "Deployment" };
const POD: GroupVersionKind = { group: "", version: "v1", kind: "Pod" };
const SVC: GroupVersionKind = { group: "", version: "v1", kind: "Service" };
const JOB: GroupVersionKind = { group: "batch", version: "v1", kind: "Job" };
const NS: GroupVersionKind = { group: "", version: "v1", kind: "Namespace" };

const deployment = (over: (d: any) => void = () => {}): KubeObject => {
  const d: any = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", namespace: "default", labels: { app: "web" } },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: "web" } },
      template: {
        metadata: { labels: { app: "web" } },
        spec: { containers: [{ name: "httpd", image: "busybox:1.36", ports: [{ containerPort: 80 }] }] },
      },
    },
  };
  over(d);
  return d;
};
const pod = (spec: Record<string, unknown>, name = "p"): KubeObject => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name },
  spec,
});

const check = (gvk: GroupVersionKind, obj: KubeObject, fieldValidation: "Strict" | "Warn" | "Ignore" = "Strict") =>
  validateObject(ix, gvk, defaultObject(ix, gvk, obj), { fieldValidation });

describe("kube OpenAPI index", () => {
  it("indexes definitions, kinds and patch metadata", () => {
    expect(ix.definitions.size).toBeGreaterThan(400);
    expect(ix.kinds.get("apps/v1/Deployment")).toBe("io.k8s.api.apps.v1.Deployment");
    expect(ix.kinds.get("/v1/Pod")).toBe("io.k8s.api.core.v1.Pod");
    expect(ix.kinds.get("/v1/DeleteOptions")).toBe("io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions");
    const podSpec = propertySchema(ix, schemaFor(ix, POD), "spec");
    const containers = propertySchema(ix, podSpec, "containers");
    expect(patchMetaOf(containers)).toMatchObject({ strategies: ["merge"], mergeKey: "name" });
    const volumes = propertySchema(ix, podSpec, "volumes");
    expect(patchMetaOf(volumes).strategies).toEqual(["merge", "retainKeys"]);
    expect(loadOpenApi()).toBe(ix);
  });
});

describe("kube validation", () => {
  it("a valid Deployment has no causes", () => {
    expect(check(DEPLOY, deployment())).toEqual({ causes: [], unknownFields: [] });
  });

  const cases: [string, GroupVersionKind, KubeObject, { field: string; reason: string; message: string }[]][] = [
    [
      "missing image",
      DEPLOY,
      deployment((d) => delete d.spec.template.spec.containers[0].image),
      [{ field: "spec.template.spec.containers[0].image", reason: "FieldValueRequired", message: "Required value" }],
    ],
    [
      "replicas of the wrong type",
      DEPLOY,
      deployment((d) => (d.spec.replicas = "3")),
      [
        {
          field: "spec.replicas",
          reason: "FieldValueTypeInvalid",
          message: 'Invalid value: "string": spec.replicas in body must be of type integer: "string"',
        },
      ],
    ],
    [
      "selector missing",
      DEPLOY,
      deployment((d) => delete d.spec.selector),
      [{ field: "spec.selector", reason: "FieldValueRequired", message: "Required value" }],
    ],
    [
      "empty selector",
      DEPLOY,
      deployment((d) => (d.spec.selector = {})),
      [
        {
          field: "spec.selector",
          reason: "FieldValueInvalid",
          message:
            "Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment",
        },
      ],
    ],
    [
      "selector not matching",
      DEPLOY,
      deployment((d) => (d.spec.template.metadata.labels = { app: "other" })),
      [
        {
          field: "spec.template.metadata.labels",
          reason: "FieldValueInvalid",
          message: 'Invalid value: map[string]string{"app":"other"}: `selector` does not match template `labels`',
        },
      ],
    ],
    [
      "bad name",
      DEPLOY,
      deployment((d) => (d.metadata.name = "Web_1")),
      [
        {
          field: "metadata.name",
          reason: "FieldValueInvalid",
          message:
            "Invalid value: \"Web_1\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
        },
      ],
    ],
    [
      "duplicate container names",
      POD,
      pod({
        containers: [
          { name: "a", image: "x" },
          { name: "a", image: "y" },
        ],
      }),
      [{ field: "spec.containers[1].name", reason: "FieldValueDuplicate", message: 'Duplicate value: "a"' }],
    ],
    [
      "port out of range",
      POD,
      pod({ containers: [{ name: "a", image: "x", ports: [{ containerPort: 70000 }] }] }),
      [
        {
          field: "spec.containers[0].ports[0].containerPort",
          reason: "FieldValueInvalid",
          message: "Invalid value: 70000: must be between 1 and 65535, inclusive",
        },
      ],
    ],
    [
      "restartPolicy not supported",
      POD,
      pod({ restartPolicy: "Sometimes", containers: [{ name: "a", image: "x" }] }),
      [
        {
          field: "spec.restartPolicy",
          reason: "FieldValueNotSupported",
          message: 'Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
        },
      ],
    ],
    [
      "container name not a DNS label",
      POD,
      pod({ containers: [{ name: "Web", image: "x" }] }),
      [
        {
          field: "spec.containers[0].name",
          reason: "FieldValueInvalid",
          message:
            "Invalid value: \"Web\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
        },
      ],
    ],
    [
      "bad quantity",
      POD,
      pod({ containers: [{ name: "a", image: "x", resources: { limits: { memory: "lots" } } }] }),
      [
        {
          field: "spec.containers[0].resources.limits.memory",
          reason: "FieldValueInvalid",
          message:
            "Invalid value: \"lots\": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
        },
      ],
    ],
    [
      "no containers",
      POD,
      pod({ containers: [] }),
      [{ field: "spec.containers", reason: "FieldValueRequired", message: "Required value" }],
    ],
    [
      "Service port 0 and two unnamed ports",
      SVC,
      {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "web" },
        spec: { ports: [{ port: 80 }, { port: 0 }] },
      },
      [
        { field: "spec.ports[0].name", reason: "FieldValueRequired", message: "Required value" },
        { field: "spec.ports[1].name", reason: "FieldValueRequired", message: "Required value" },
        {
          field: "spec.ports[1].port",
          reason: "FieldValueInvalid",
          message: "Invalid value: 0: must be between 1 and 65535, inclusive",
        },
        {
          field: "spec.ports[1].targetPort",
          reason: "FieldValueInvalid",
          message: "Invalid value: 0: must be between 1 and 65535, inclusive",
        },
      ],
    ],
    [
      "Service name is a DNS-1035 label",
      SVC,
      { apiVersion: "v1", kind: "Service", metadata: { name: "1web" }, spec: { ports: [{ port: 80 }] } },
      [
        {
          field: "metadata.name",
          reason: "FieldValueInvalid",
          message:
            "Invalid value: \"1web\": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
        },
      ],
    ],
    [
      "Job with restartPolicy Always",
      JOB,
      {
        apiVersion: "batch/v1",
        kind: "Job",
        metadata: { name: "j" },
        spec: { template: { spec: { containers: [{ name: "a", image: "x" }] } } },
      },
      [
        {
          field: "spec.template.spec.restartPolicy",
          reason: "FieldValueNotSupported",
          message: 'Unsupported value: "Always": supported values: "OnFailure", "Never"',
        },
      ],
    ],
    [
      "a probe without a handler, env with value and valueFrom",
      POD,
      pod({
        containers: [
          {
            name: "a",
            image: "x",
            livenessProbe: { periodSeconds: 5 },
            env: [{ name: "E", value: "v", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }],
          },
        ],
      }),
      [
        {
          field: "spec.containers[0].env[0].valueFrom",
          reason: "FieldValueInvalid",
          message: 'Invalid value: "": may not be specified when `value` is not empty',
        },
        {
          field: "spec.containers[0].livenessProbe",
          reason: "FieldValueRequired",
          message: "Required value: must specify a handler type",
        },
      ],
    ],
    [
      "a TLS Secret without its key",
      { group: "", version: "v1", kind: "Secret" },
      {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: "t" },
        type: "kubernetes.io/tls",
        data: { "tls.crt": "YQ==" },
      },
      [{ field: "data[tls.key]", reason: "FieldValueRequired", message: "Required value" }],
    ],
    [
      "missing name",
      NS,
      { apiVersion: "v1", kind: "Namespace", metadata: {} },
      [
        {
          field: "metadata.name",
          reason: "FieldValueRequired",
          message: "Required value: name or generateName is required",
        },
      ],
    ],
  ];
  it.each(cases)("%s", (_name, gvk, obj, expected) => {
    expect(check(gvk, obj).causes).toEqual(expected);
  });

  it("reports unknown fields as kube does, unless Ignore; prune drops them", () => {
    const d = deployment((x) => {
      x.spec.foo = 1;
      x.spec.template.spec.containers[0].imagePolicy = "Always";
    });
    expect(check(DEPLOY, d).unknownFields).toEqual([
      'unknown field "spec.template.spec.containers[0].imagePolicy"',
      'unknown field "spec.foo"',
    ]);
    expect(check(DEPLOY, d, "Warn").unknownFields).toHaveLength(2);
    expect(strictDecodingError(DEPLOY, check(DEPLOY, d).unknownFields).message).toBe(
      'Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.template.spec.containers[0].imagePolicy", unknown field "spec.foo"',
    );
    expect(check(DEPLOY, d, "Ignore").unknownFields).toEqual([]);
    const pruned: any = pruneUnknownFields(ix, DEPLOY, d);
    expect(pruned.spec.foo).toBeUndefined();
    expect(pruned.spec.template.spec.containers[0]).toEqual((deployment() as any).spec.template.spec.containers[0]);
    expect(pruned.metadata.labels).toEqual({ app: "web" });
  });

  it("int-or-string, quantities as numbers, date-time, free-form members", () => {
    const d = deployment((x) => {
      x.spec.strategy = { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: "50%" } };
      x.spec.template.spec.containers[0].resources = { requests: { cpu: "100m", memory: 64 * 1024 * 1024 } };
      x.metadata.creationTimestamp = "2024-01-01T00:00:00Z";
      x.metadata.managedFields = [{ manager: "kubectl", fieldsV1: { "f:spec": { "f:replicas": {} } } }];
    });
    expect(check(DEPLOY, d).causes).toEqual([]);
    d.metadata.creationTimestamp = "yesterday";
    expect(check(DEPLOY, d).causes[0]?.field).toBe("metadata.creationTimestamp");
  });
});

describe("kube defaults", () => {
  it("Pod defaults as kube-apiserver stores them", () => {
    const p: any = defaultObject(
      ix,
      POD,
      pod({ containers: [{ name: "a", image: "nginx", ports: [{ containerPort: 80 }] }] }),
    );
    expect(p.spec).toMatchObject({
      restartPolicy: "Always",
      dnsPolicy: "ClusterFirst",
      terminationGracePeriodSeconds: 30,
      schedulerName: "default-scheduler",
      securityContext: {},
      serviceAccountName: "default",
      serviceAccount: "default",
      enableServiceLinks: true,
      tolerations: [
        { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 },
        { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 },
      ],
    });
    expect(p.spec.containers[0]).toEqual({
      name: "a",
      image: "nginx",
      ports: [{ containerPort: 80, protocol: "TCP" }],
      imagePullPolicy: "Always",
      terminationMessagePath: "/dev/termination-log",
      terminationMessagePolicy: "File",
      resources: {},
    });
  });

  it.each([
    ["nginx", "Always"],
    ["nginx:latest", "Always"],
    ["nginx:1.25", "IfNotPresent"],
    ["localhost:5000/nginx", "Always"],
    ["localhost:5000/nginx:1", "IfNotPresent"],
    ["nginx@sha256:abc", "IfNotPresent"],
  ])("imagePullPolicy of %s is %s", (image, policy) => expect(defaultPullPolicy(image)).toBe(policy));

  it("Deployment, Job, Service and Namespace defaults", () => {
    const d: any = defaultObject(
      ix,
      DEPLOY,
      deployment((x) => delete x.spec.replicas),
    );
    expect(d.spec).toMatchObject({
      replicas: 1,
      strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: "25%", maxSurge: "25%" } },
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
    });
    expect(d.spec.template.spec.enableServiceLinks).toBeUndefined(); // templates get PodSpec defaults only
    const j: any = defaultObject(ix, JOB, {
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name: "j", uid: "u1" },
      spec: { template: { spec: { restartPolicy: "Never", containers: [{ name: "a", image: "x" }] } } },
    });
    expect(j.spec).toMatchObject({ completions: 1, parallelism: 1, backoffLimit: 6, completionMode: "NonIndexed" });
    expect(j.spec.selector).toEqual({ matchLabels: { "batch.kubernetes.io/controller-uid": "u1" } });
    expect(check(JOB, j).causes).toEqual([]);
    const s: any = defaultObject(ix, SVC, {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "web" },
      spec: { selector: { app: "web" }, ports: [{ port: 80 }] },
    });
    expect(s.spec).toEqual({
      selector: { app: "web" },
      ports: [{ port: 80, protocol: "TCP", targetPort: 80 }],
      type: "ClusterIP",
      sessionAffinity: "None",
      internalTrafficPolicy: "Cluster",
      ipFamilies: ["IPv4"],
      ipFamilyPolicy: "SingleStack",
    });
    const n: any = defaultObject(ix, NS, { apiVersion: "v1", kind: "Namespace", metadata: { name: "team" } });
    expect(n).toMatchObject({
      metadata: { labels: { "kubernetes.io/metadata.name": "team" } },
      spec: { finalizers: ["kubernetes"] },
      status: { phase: "Active" },
    });
  });

  const label = fc.stringMatching(/^[a-z][a-z0-9]{0,8}$/);
  const container = fc.record({
    name: label,
    image: fc.constantFrom("nginx", "busybox:1.36", "registry.local:5000/app@sha256:00", "httpd:latest"),
    ports: fc.array(fc.record({ containerPort: fc.integer({ min: 1, max: 65535 }) }), { maxLength: 3 }),
  });
  const workload = fc.record({
    kind: fc.constantFrom("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Pod"),
    app: label,
    replicas: fc.option(fc.integer({ min: 0, max: 50 }), { nil: undefined }),
    containers: fc.uniqueArray(container, { minLength: 1, maxLength: 3, selector: (c) => c.name }),
  });
  const build = (w: typeof workload extends fc.Arbitrary<infer T> ? T : never): [GroupVersionKind, KubeObject] => {
    if (w.kind === "Pod")
      return [
        POD,
        {
          apiVersion: "v1",
          kind: "Pod",
          metadata: { name: w.app, labels: { app: w.app } },
          spec: { containers: w.containers },
        },
      ];
    const spec: Record<string, unknown> = {
      selector: { matchLabels: { app: w.app } },
      template: { metadata: { labels: { app: w.app } }, spec: { containers: w.containers } },
      ...(w.replicas !== undefined && w.kind !== "DaemonSet" ? { replicas: w.replicas } : {}),
      ...(w.kind === "StatefulSet" ? { serviceName: w.app } : {}),
    };
    return [
      { group: "apps", version: "v1", kind: w.kind },
      { apiVersion: "apps/v1", kind: w.kind, metadata: { name: w.app }, spec },
    ];
  };

  it("property: defaulting is idempotent and does not modify its input", () => {
    fc.assert(
      fc.property(workload, (w) => {
        const [gvk, obj] = build(w);
        const before = structuredClone(obj);
        const once = defaultObject(ix, gvk, obj);
        expect(obj).toEqual(before);
        expect(defaultObject(ix, gvk, once)).toEqual(once);
      }),
    );
  });

  it("property: valid objects stay valid once defaulted", () => {
    fc.assert(
      fc.property(workload, (w) => {
        const [gvk, obj] = build(w);
        expect(validateObject(ix, gvk, obj, { fieldValidation: "Strict" }).causes).toEqual([]);
        expect(validateObject(ix, gvk, defaultObject(ix, gvk, obj), { fieldValidation: "Strict" })).toEqual({
          causes: [],
          unknownFields: [],
        });
      }),
    );
  });
});

describe("kube 422 Invalid", () => {
  it("words several causes as kube's aggregate, one as it is", async () => {
    const { kubeErrors } = await import("../../src/kube/errors.js");
    const d = defaultObject(
      ix,
      DEPLOY,
      deployment((x) => {
        delete x.spec.selector;
        delete x.spec.template.spec.containers[0].image;
      }),
    );
    const { causes } = validateObject(ix, DEPLOY, d, { fieldValidation: "Strict" });
    expect(kubeErrors.invalid("apps", "Deployment", "web", causes).message).toBe(
      'Deployment.apps "web" is invalid: [spec.selector: Required value, spec.template.spec.containers[0].image: Required value]',
    );
    expect(kubeErrors.invalid("", "Pod", "p", causes.slice(0, 1)).message).toBe(
      'Pod "p" is invalid: spec.selector: Required value',
    );
  });
});

describe("kube update validation", () => {
  const upd = (gvk: GroupVersionKind, obj: KubeObject, old: KubeObject) =>
    validateUpdate(ix, gvk, defaultObject(ix, gvk, obj), defaultObject(ix, gvk, old), { fieldValidation: "Strict" })
      .causes;

  it("a Deployment's selector is immutable; its template is not", () => {
    const old = deployment();
    expect(
      upd(
        DEPLOY,
        deployment((d) => (d.spec.template.spec.containers[0].image = "x:2")),
        old,
      ),
    ).toEqual([]);
    const moved = deployment((d) => {
      d.spec.selector = { matchLabels: { app: "web", tier: "a" } };
      d.spec.template.metadata.labels.tier = "a";
    });
    expect(upd(DEPLOY, moved, old)).toEqual([
      {
        field: "spec.selector",
        reason: "FieldValueInvalid",
        message:
          'Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"web", "tier":"a"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable',
      },
    ]);
  });

  it("pods: only images, activeDeadlineSeconds, added tolerations", () => {
    const old = pod({ containers: [{ name: "a", image: "x:1" }] });
    expect(upd(POD, pod({ containers: [{ name: "a", image: "x:2" }] }), old)).toEqual([]);
    expect(
      upd(
        POD,
        pod({ containers: [{ name: "a", image: "x:1" }], tolerations: [{ key: "k", operator: "Exists" }] }),
        old,
      ),
    ).toEqual([]);
    const causes = upd(POD, pod({ containers: [{ name: "a", image: "x:1", ports: [{ containerPort: 80 }] }] }), old);
    expect(causes.map((c) => [c.field, c.reason])).toEqual([["spec", "FieldValueForbidden"]]);
    expect(causes[0]?.message).toMatch(
      /^Forbidden: pod updates may not change fields other than `spec.containers\[\*\].image`/,
    );
  });

  it("a Job's template and an immutable ConfigMap's data stay", () => {
    const job = (image: string): KubeObject => ({
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name: "j", uid: "u" },
      spec: { template: { spec: { restartPolicy: "Never", containers: [{ name: "a", image }] } } },
    });
    expect(upd(JOB, job("x:2"), job("x:1")).map((c) => c.field)).toEqual(["spec.template"]);
    const cm = (v: string, immutable = true): KubeObject => ({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "c" },
      immutable,
      data: { k: v },
    });
    const CM: GroupVersionKind = { group: "", version: "v1", kind: "ConfigMap" };
    expect(upd(CM, cm("b"), cm("a")).map((c) => [c.field, c.message])).toEqual([
      ["data", "Forbidden: field is immutable when `immutable` is set"],
    ]);
    expect(upd(CM, cm("b", false), cm("a", false))).toEqual([]);
  });
});

describe("what kubectl creates", () => {
  it("validates once defaulted, with no unknown fields (kubectl 1.20 and 1.32 bodies)", () => {
    for (const [name, o] of Object.entries(kubectlCreated.objects) as [string, any][]) {
      const obj = { ...o, metadata: { ...o.metadata, uid: "u1" } };
      const gvk = gvkOf(obj.apiVersion, obj.kind);
      expect([name, validateObject(ix, gvk, defaultObject(ix, gvk, obj), { fieldValidation: "Strict" })]).toEqual([
        name,
        { causes: [], unknownFields: [] },
      ]);
    }
  });
});
