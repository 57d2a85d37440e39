// biome-ignore-all lint/suspicious/noExplicitAny: fixtures are reached into by path
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { KubeError } from "../../src/kube/errors.js";
import {
  applyJsonPatch,
  applyPatch,
  createMergePatch,
  mergePatch,
  type PatchType,
  strategicMerge,
  managerOrUserAgent,
  updateManagedFields,
} from "../../src/kube/patch.js";
import { type GroupVersionKind, loadOpenApi, schemaFor } from "../../src/kube/schema.js";
import type { KubeObject } from "../../src/kube/types.js";
import jsonPatchFixtures from "./fixtures/kube-json-patch-kubectl.json" with { type: "json" };
import smpFixtures from "./fixtures/kube-smp-kubectl.json" with { type: "json" };

const ix = loadOpenApi();
const DEPLOY: GroupVersionKind = { group: "apps", version: "v1", kind: "Deployment" };
const now = new Date("2026-01-02T03:04:05Z");

const deployment = (): any => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: {
    name: "web",
    namespace: "default",
    uid: "u1",
    resourceVersion: "7",
    labels: { app: "web" },
    annotations: { "deployment.kubernetes.io/revision": "2" },
    finalizers: ["a", "b"],
  },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: "web" } },
    strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: "25%" } },
    template: {
      metadata: { labels: { app: "web" } },
      spec: {
        containers: [
          {
            name: "web",
            image: "nginx:1.25",
            ports: [{ containerPort: 80, protocol: "TCP" }],
            env: [
              { name: "A", value: "1" },
              { name: "B", value: "2" },
            ],
          },
          { name: "sidecar", image: "busybox:1.36" },
        ],
      },
    },
  },
});

/** `current` null: no object yet (server-side apply creates). */
const patch = (type: PatchType, body: unknown, current: KubeObject | null = deployment(), opts = {}) =>
  applyPatch(
    ix,
    DEPLOY,
    current ?? undefined,
    typeof body === "string" ? body : JSON.stringify(body),
    type,
    opts,
  ) as any;
const SMP: PatchType = "application/strategic-merge-patch+json";
const MERGE: PatchType = "application/merge-patch+json";
const JSONP: PatchType = "application/json-patch+json";
const APPLY: PatchType = "application/apply-patch+yaml";

const thrown = (f: () => unknown): KubeError => {
  try {
    f();
  } catch (e) {
    return e as KubeError;
  }
  throw new Error("expected a throw");
};

describe("strategic merge patch (what kubectl sends)", () => {
  it("kubectl set image: containers merge by name, the others stay", () => {
    const out = patch(SMP, { spec: { template: { spec: { containers: [{ image: "nginx:1.26", name: "web" }] } } } });
    expect(out.spec.template.spec.containers.map((c: any) => [c.name, c.image])).toEqual([
      ["web", "nginx:1.26"],
      ["sidecar", "busybox:1.36"],
    ]);
    expect(out.spec.template.spec.containers[0].env).toHaveLength(2);
  });

  it("kubectl apply: last-applied annotation, $setElementOrder, a removed env var and sidecar", () => {
    const out = patch(SMP, {
      metadata: { annotations: { "kubectl.kubernetes.io/last-applied-configuration": '{"x":1}\n' } },
      spec: {
        template: {
          spec: {
            $setElementOrder: undefined,
            "$setElementOrder/containers": [{ name: "web" }],
            containers: [
              {
                "$setElementOrder/env": [{ name: "C" }, { name: "A" }],
                env: [
                  { name: "C", value: "3" },
                  { $patch: "delete", name: "B" },
                ],
                name: "web",
              },
              { $patch: "delete", name: "sidecar" },
            ],
          },
        },
      },
    });
    expect(out.metadata.annotations).toEqual({
      "deployment.kubernetes.io/revision": "2",
      "kubectl.kubernetes.io/last-applied-configuration": '{"x":1}\n',
    });
    expect(out.spec.template.spec.containers).toHaveLength(1);
    expect(out.spec.template.spec.containers[0].env).toEqual([
      { name: "C", value: "3" },
      { name: "A", value: "1" },
    ]);
  });

  it("ports merge by containerPort", () => {
    const out = patch(SMP, {
      spec: { template: { spec: { containers: [{ name: "web", ports: [{ containerPort: 8080 }] }] } } },
    });
    // New patch items come first, as strategicpatch's normalizeElementOrder puts them.
    expect(out.spec.template.spec.containers[0].ports).toEqual([
      { containerPort: 8080 },
      { containerPort: 80, protocol: "TCP" },
    ]);
  });

  it("$retainKeys drops the strategy members not kept (kubectl apply switching to Recreate)", () => {
    const out = patch(SMP, { spec: { strategy: { $retainKeys: ["type"], rollingUpdate: null, type: "Recreate" } } });
    expect(out.spec.strategy).toEqual({ type: "Recreate" });
  });

  it("kubectl rollout restart: an annotation on the template", () => {
    const out = patch(SMP, {
      spec: {
        template: { metadata: { annotations: { "kubectl.kubernetes.io/restartedAt": "2026-01-02T03:04:05Z" } } },
      },
    });
    expect(out.spec.template.metadata).toEqual({
      labels: { app: "web" },
      annotations: { "kubectl.kubernetes.io/restartedAt": "2026-01-02T03:04:05Z" },
    });
  });

  it("$patch: replace and delete on maps and lists; $deleteFromPrimitiveList; finalizers are a merged set", () => {
    expect(patch(SMP, { spec: { selector: { $patch: "replace", matchLabels: { app: "x" } } } }).spec.selector).toEqual({
      matchLabels: { app: "x" },
    });
    expect(patch(SMP, { spec: { strategy: { $patch: "delete" } } }).spec.strategy).toBeUndefined();
    const replaced = patch(SMP, {
      spec: { template: { spec: { containers: [{ name: "only", image: "x" }, { $patch: "replace" }] } } },
    });
    expect(replaced.spec.template.spec.containers).toEqual([{ name: "only", image: "x" }]);
    expect(patch(SMP, { metadata: { finalizers: ["c", "a"] } }).metadata.finalizers).toEqual(["c", "a", "b"]);
    expect(patch(SMP, { metadata: { "$deleteFromPrimitiveList/finalizers": ["a"] } }).metadata.finalizers).toEqual([
      "b",
    ]);
    // Lists without a merge strategy are replaced.
    const args = patch(SMP, { spec: { template: { spec: { containers: [{ name: "web", args: ["x"] }] } } } });
    expect(args.spec.template.spec.containers[0].args).toEqual(["x"]);
  });

  it("matches kubectl's own strategic merge (fixtures from kubectl patch --local)", () => {
    for (const d of smpFixtures.documents) {
      const schema = schemaFor(ix, { group: d.kind === "Pod" ? "" : "apps", version: "v1", kind: d.kind });
      for (const c of d.cases as { patch: any; result: any }[]) {
        const ours = (() => {
          try {
            return strategicMerge(ix, schema, structuredClone(d.original) as any, c.patch);
          } catch (e) {
            return { error: `error: ${(e as Error).message}` };
          }
        })();
        expect([c.patch, ours]).toEqual([c.patch, c.result]);
      }
    }
  });

  it("a list item without its merge key, or a kind without a schema, is refused", () => {
    expect(thrown(() => patch(SMP, { spec: { template: { spec: { containers: [{ image: "x" }] } } } })).code).toBe(500);
    const e = thrown(() =>
      applyPatch(ix, { group: "example.com", version: "v1", kind: "Widget" }, deployment(), "{}", SMP, {}),
    );
    expect([e.code, e.reason]).toEqual([415, "UnsupportedMediaType"]);
  });
});

describe("merge patch and JSON patch", () => {
  it("kubectl label/annotate/scale send merge patches", () => {
    expect(patch(MERGE, { metadata: { labels: { tier: "web" } } }).metadata.labels).toEqual({
      app: "web",
      tier: "web",
    });
    expect(patch(MERGE, { metadata: { labels: { app: null } } }).metadata.labels).toEqual({});
    expect(patch(MERGE, { spec: { replicas: 5 } }).spec.replicas).toBe(5);
    // Merge patch replaces lists whole.
    expect(
      patch(MERGE, { spec: { template: { spec: { containers: [{ name: "x" }] } } } }).spec.template.spec.containers,
    ).toEqual([{ name: "x" }]);
  });

  it("kubectl rollout undo: a JSON patch replacing the template and annotations", () => {
    const template = {
      metadata: { labels: { app: "web" } },
      spec: { containers: [{ name: "web", image: "nginx:1.24" }] },
    };
    const out = patch(JSONP, [
      { op: "replace", path: "/spec/template", value: template },
      { op: "replace", path: "/metadata/annotations", value: { "deployment.kubernetes.io/revision": "1" } },
    ]);
    expect(out.spec.template).toEqual(template);
    expect(out.metadata.annotations).toEqual({ "deployment.kubernetes.io/revision": "1" });
  });

  it("JSON patch ops: add/remove/move/copy/test, escaping, array indices", () => {
    const out = patch(JSONP, [
      { op: "add", path: "/metadata/labels/app.kubernetes.io~1name", value: "web" },
      { op: "test", path: "/spec/replicas", value: 2 },
      { op: "add", path: "/metadata/finalizers/-", value: "c" },
      { op: "remove", path: "/metadata/finalizers/0" },
      { op: "copy", from: "/metadata/labels/app", path: "/metadata/labels/copy" },
      { op: "move", from: "/metadata/labels/copy", path: "/metadata/labels/moved" },
    ]);
    expect(out.metadata.labels).toEqual({ app: "web", "app.kubernetes.io/name": "web", moved: "web" });
    expect(out.metadata.finalizers).toEqual(["b", "c"]);
  });

  it("matches kubectl's own JSON patch library (fixtures from kubectl patch --local)", () => {
    for (const c of jsonPatchFixtures.cases as { patch: any; result: any }[]) {
      const ours = (() => {
        try {
          return applyJsonPatch(structuredClone(jsonPatchFixtures.original) as any, c.patch);
        } catch (e) {
          return { error: `error: ${(e as Error).message}` };
        }
      })();
      expect([c.patch, ours]).toEqual([c.patch, c.result]);
    }
  });

  it("a failed test or a missing path is 422 as kube answers; a malformed patch 400", () => {
    const e = thrown(() => patch(JSONP, [{ op: "test", path: "/spec/replicas", value: 3 }]));
    expect([e.code, e.reason, e.message]).toEqual([
      422,
      "Invalid",
      "the server rejected our request due to an error in our request",
    ]);
    expect(e.details?.causes?.[0]?.message).toBe("testing value /spec/replicas failed: test failed");
    expect(thrown(() => patch(JSONP, [{ op: "replace", path: "/nope/x", value: 1 }])).code).toBe(422);
    expect(thrown(() => patch(JSONP, [{ op: "remove", path: "/metadata/labels/nope" }])).code).toBe(422);
    expect(thrown(() => patch(JSONP, "{not json")).code).toBe(400);
    expect(thrown(() => patch(JSONP, { op: "add" })).code).toBe(400);
    expect(thrown(() => patch(MERGE, "[1]")).code).toBe(400);
    expect(thrown(() => patch("text/plain" as PatchType, "{}")).code).toBe(415);
  });

  it("a patch carrying a resourceVersion keeps it (the store then answers 409 when it is stale)", () => {
    expect(patch(MERGE, { metadata: { resourceVersion: "3" } }).metadata.resourceVersion).toBe("3");
  });
});

describe("server-side apply", () => {
  const config = (replicas: number, image = "nginx:1.25", extra: Record<string, unknown> = {}) => `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
spec:
  replicas: ${replicas}
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: web
        image: ${image}
${Object.entries(extra)
  .map(([k, v]) => `        ${k}: ${JSON.stringify(v)}`)
  .join("\n")}
`;

  it("creates with one Apply entry and the applied field set", () => {
    const out = patch(APPLY, config(2), null, { fieldManager: "kubectl", now });
    expect(out.spec.replicas).toBe(2);
    expect(out.metadata.managedFields).toEqual([
      {
        manager: "kubectl",
        operation: "Apply",
        apiVersion: "apps/v1",
        time: "2026-01-02T03:04:05Z",
        fieldsType: "FieldsV1",
        fieldsV1: {
          "f:metadata": { "f:labels": { "f:app": {} } },
          "f:spec": {
            "f:replicas": {},
            "f:selector": {},
            "f:template": {
              "f:metadata": { "f:labels": { "f:app": {} } },
              "f:spec": { "f:containers": { 'k:{"name":"web"}': { ".": {}, "f:image": {}, "f:name": {} } } },
            },
          },
        },
      },
    ]);
  });

  it("re-applying without a field removes it; fields owned by others stay", () => {
    const first = patch(APPLY, config(2, "nginx:1.25", { workingDir: "/srv" }), null, {
      fieldManager: "kubectl",
      now,
    });
    first.spec.template.spec.containers[0].command = ["httpd"];
    first.metadata.managedFields = updateManagedFields(
      ix,
      DEPLOY,
      patch(APPLY, config(2, "nginx:1.25", { workingDir: "/srv" }), null, { fieldManager: "kubectl", now }),
      first,
      "editor",
      { now },
    );
    const second = patch(APPLY, config(2), first, { fieldManager: "kubectl", now });
    expect(second.spec.template.spec.containers[0].workingDir).toBeUndefined();
    expect(second.spec.template.spec.containers[0].command).toEqual(["httpd"]);
    // Sorted as kube sorts them: Apply entries first.
    expect(second.metadata.managedFields.map((e: any) => [e.manager, e.operation])).toEqual([
      ["kubectl", "Apply"],
      ["editor", "Update"],
    ]);
  });

  it("conflicts with another manager's differing value are a 409 in kube's words, unless forced", () => {
    const created = patch(APPLY, config(2), null, { fieldManager: "kubectl", now });
    const scaled = { ...created, spec: { ...created.spec, replicas: 5 } };
    scaled.metadata = {
      ...created.metadata,
      managedFields: updateManagedFields(ix, DEPLOY, created, scaled, "kube-controller-manager", { now }),
    };
    const e = thrown(() => patch(APPLY, config(3, "nginx:1.26"), scaled, { fieldManager: "kubectl", now }));
    expect([e.code, e.reason, e.message]).toEqual([
      409,
      "Conflict",
      'Apply failed with 1 conflict: conflict with "kube-controller-manager" using apps/v1: .spec.replicas',
    ]);
    expect(e.details?.causes).toEqual([
      {
        reason: "FieldManagerConflict",
        message: 'conflict with "kube-controller-manager" using apps/v1',
        field: ".spec.replicas",
      },
    ]);
    // The same value is no conflict; a second applier sharing it co-owns.
    expect(patch(APPLY, config(5), scaled, { fieldManager: "kubectl", now }).spec.replicas).toBe(5);
    const forced = patch(APPLY, config(3), scaled, { fieldManager: "kubectl", force: true, now });
    expect(forced.spec.replicas).toBe(3);
    expect(forced.metadata.managedFields.map((e: any) => e.manager)).toEqual(["kubectl"]);
  });

  it("two conflicting managers are listed, sorted", () => {
    const a = patch(APPLY, config(2, "a:1"), null, { fieldManager: "alpha", now });
    const b = patch(APPLY, config(2, "a:1"), a, { fieldManager: "beta", now });
    const e = thrown(() => patch(APPLY, config(4, "b:2"), b, { fieldManager: "gamma", now }));
    expect(e.message).toBe(
      'Apply failed with 4 conflicts: conflicts with "alpha":\n- .spec.replicas\n- .spec.template.spec.containers[name="web"].image\nconflicts with "beta":\n- .spec.replicas\n- .spec.template.spec.containers[name="web"].image',
    );
  });

  it("list-map keys take their defaults: an applied port without protocol is the live TCP port", () => {
    const SVC: GroupVersionKind = { group: "", version: "v1", kind: "Service" };
    const svc =
      "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  ports:\n  - port: 80\n    targetPort: 8080\n";
    const created: any = applyPatch(ix, SVC, undefined, svc, APPLY, { fieldManager: "kubectl", now });
    expect(Object.keys(created.metadata.managedFields[0].fieldsV1["f:spec"]["f:ports"])).toEqual([
      'k:{"port":80,"protocol":"TCP"}',
    ]);
    created.spec.ports[0].protocol = "TCP"; // defaulted on create
    const again: any = applyPatch(ix, SVC, created, svc.replace("8080", "9090"), APPLY, {
      fieldManager: "kubectl",
      now,
    });
    expect(again.spec.ports).toEqual([{ port: 80, protocol: "TCP", targetPort: 9090 }]);
  });

  it("re-applying the same configuration changes nothing, not even the entry's time", () => {
    const created = patch(APPLY, config(2), null, { fieldManager: "kubectl", now });
    const later = new Date("2026-02-01T00:00:00Z");
    expect(patch(APPLY, config(2), created, { fieldManager: "kubectl", now: later })).toEqual(created);
    expect(
      patch(APPLY, config(3), created, { fieldManager: "kubectl", now: later }).metadata.managedFields[0].time,
    ).toBe("2026-02-01T00:00:00Z");
  });

  it("refuses a configuration of another kind, or without a field manager", () => {
    expect(
      thrown(() => patch(APPLY, "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\n", null, { fieldManager: "m" })).code,
    ).toBe(400);
    expect(thrown(() => patch(APPLY, config(1), null, {})).message).toBe(
      'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
    );
    expect(thrown(() => patch(MERGE, {}, deployment(), { force: true })).code).toBe(422);
    expect(thrown(() => patch(APPLY, "a: [", null, { fieldManager: "m" })).code).toBe(400);
  });

  it("updateManagedFields: an update owns what it changed and takes it from others", () => {
    const created = patch(APPLY, config(2), null, { fieldManager: "kubectl", now });
    const changed = structuredClone(created);
    changed.spec.replicas = 4;
    changed.metadata.labels.extra = "x";
    const entries = updateManagedFields(ix, DEPLOY, created, changed, "kubectl-edit", { now });
    const edit = entries.find((e) => e.manager === "kubectl-edit");
    expect(edit?.fieldsV1).toEqual({ "f:metadata": { "f:labels": { "f:extra": {} } }, "f:spec": { "f:replicas": {} } });
    // A status write leaves the spec's owners alone; removing a map drops its entry.
    const withStatus = {
      ...changed,
      metadata: { ...changed.metadata, managedFields: entries },
      status: { replicas: 4 },
    };
    const statusEntries = updateManagedFields(
      ix,
      DEPLOY,
      { ...changed, metadata: { ...changed.metadata, managedFields: entries } },
      withStatus,
      "kube-controller-manager",
      { subresource: "status", now },
    );
    expect(statusEntries.map((e) => [e.manager, e.subresource ?? ""])).toEqual([
      ["kubectl", ""],
      ["kube-controller-manager", "status"],
      ["kubectl-edit", ""],
    ]);
    const unlabelled = structuredClone(changed);
    delete unlabelled.metadata.labels;
    const after = updateManagedFields(
      ix,
      DEPLOY,
      { ...changed, metadata: { ...changed.metadata, managedFields: entries } },
      unlabelled,
      "x",
      { now },
    );
    expect(after.some((e) => (e.fieldsV1 as any)["f:metadata"]?.["f:labels"])).toBe(false);
    // Creating a map or list owns it too ("."), as kube's Update entries show.
    const created2 = updateManagedFields(ix, DEPLOY, undefined, deployment(), "kubectl-create", { now })[0] as any;
    expect(created2.fieldsV1["f:metadata"]["f:labels"]).toEqual({ ".": {}, "f:app": {} });
    expect(created2.fieldsV1["f:spec"]["f:template"]["f:spec"]["f:containers"]["."]).toBeUndefined();
    expect(
      created2.fieldsV1["f:spec"]["f:template"]["f:spec"]["f:containers"]['k:{"name":"web"}']["f:env"]["."],
    ).toEqual({});
    const apply = entries.find((e) => e.manager === "kubectl");
    expect((apply as any).fieldsV1["f:spec"]["f:replicas"]).toBeUndefined();
  });
});

it("the field manager defaults to the User-Agent's product", () => {
  expect(managerOrUserAgent(undefined, "kubectl/v1.20.15 (linux/amd64) kubernetes/8f1e5bf")).toBe("kubectl");
  expect(managerOrUserAgent("helm", "kubectl/v1.32")).toBe("helm");
});

describe("patch properties", () => {
  const leaf = fc.oneof(fc.string({ maxLength: 3 }), fc.integer(), fc.boolean());
  const tree = fc.letrec((tie) => ({
    node: fc.dictionary(fc.constantFrom("a", "b", "c", "d"), fc.oneof({ depthSize: "small" }, leaf, tie("node")), {
      maxKeys: 4,
    }),
  })).node as fc.Arbitrary<Record<string, any>>;

  it("property: the merge patch of a diff reproduces the target", () => {
    fc.assert(
      fc.property(tree, tree, (a, b) => {
        expect(mergePatch(a, createMergePatch(a, b))).toEqual(b);
      }),
    );
  });

  it("property: strategic merge with no directives on maps equals merge patch", () => {
    const schema = schemaFor(ix, DEPLOY);
    const patchTree = fc.letrec((tie) => ({
      node: fc.dictionary(
        fc.constantFrom("a", "b", "c", "d"),
        fc.oneof({ depthSize: "small" }, leaf, fc.constant(null), tie("node")),
        {
          maxKeys: 4,
        },
      ),
    })).node as fc.Arbitrary<Record<string, any>>;
    fc.assert(
      fc.property(tree, patchTree, (labels, p) => {
        const original = { metadata: { name: "x", annotations: labels }, spec: { foo: labels } };
        const body = { metadata: { annotations: p }, spec: { foo: p } };
        expect(strategicMerge(ix, schema, original, body)).toEqual(mergePatch(original, body));
      }),
    );
  });
});

describe("server-side apply properties", () => {
  const labels = fc.dictionary(fc.stringMatching(/^[a-z]{1,5}$/), fc.stringMatching(/^[a-z0-9]{0,5}$/), { maxKeys: 4 });
  const containers = fc.uniqueArray(
    fc.record({ name: fc.stringMatching(/^[a-z]{1,4}$/), image: fc.constantFrom("a:1", "b:2", "c") }),
    { minLength: 1, maxLength: 3, selector: (c) => c.name },
  );
  const cfg = fc.record({
    labels,
    replicas: fc.option(fc.integer({ min: 0, max: 9 }), { nil: undefined }),
    containers,
  });
  const toObject = (c: { labels: Record<string, string>; replicas?: number; containers: unknown[] }) => ({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", labels: c.labels },
    spec: {
      ...(c.replicas !== undefined ? { replicas: c.replicas } : {}),
      template: { spec: { containers: c.containers } },
    },
  });

  it("property: applying twice equals applying once; the result holds the applied values; dropped fields go", () => {
    fc.assert(
      fc.property(cfg, cfg, (a, b) => {
        const one = patch(APPLY, toObject(a), null, { fieldManager: "m", now });
        expect(patch(APPLY, toObject(a), one, { fieldManager: "m", now })).toEqual(one);
        const two = patch(APPLY, toObject(b), one, { fieldManager: "m", now });
        expect(two.metadata.labels ?? {}).toEqual(b.labels);
        expect(two.spec.replicas).toBe(b.replicas);
        expect(two.spec.template.spec.containers.map((c: any) => [c.name, c.image]).sort()).toEqual(
          b.containers.map((c) => [c.name, c.image]).sort(),
        );
      }),
    );
  });

  it("property: two appliers — a forced apply wins its fields; the other then conflicts or agrees, never loses silently", () => {
    fc.assert(
      fc.property(cfg, cfg, (a, b) => {
        const one = patch(APPLY, toObject(a), null, { fieldManager: "alpha", now });
        const two = patch(APPLY, toObject(b), one, { fieldManager: "beta", force: true, now });
        expect(two.spec.replicas).toBe(b.replicas ?? a.replicas);
        for (const [k, v] of Object.entries(b.labels)) expect(two.metadata.labels[k]).toBe(v);
        try {
          const three = patch(APPLY, toObject(a), two, { fieldManager: "alpha", now });
          // Without a conflict, alpha's values hold and beta's still-owned fields stay.
          for (const [k, v] of Object.entries(a.labels)) expect(three.metadata.labels[k]).toBe(v);
          for (const k of Object.keys(b.labels)) expect(three.metadata.labels).toHaveProperty(k);
        } catch (e) {
          expect((e as KubeError).code).toBe(409);
        }
      }),
    );
  });
});
