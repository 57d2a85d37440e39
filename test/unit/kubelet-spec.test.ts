import { mkdtempSync, readFileSync, rmSync, statSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serviceEnv } from "../../src/controllers/kube/networking/service-env.js";
import { describe, expect, it } from "vitest";
import { pullPolicyOf, observePod } from "../../src/controllers/kube/kubelet/kubelet.js";
import { kubeletVersionOf, nodeObject, nodeResources, nodeStatus } from "../../src/controllers/kube/kubelet/node.js";
import {
  ConfigError,
  containerEnv,
  containerSpec,
  type EnvLookups,
  expand,
  sandboxSpec,
} from "../../src/controllers/kube/kubelet/spec.js";
import { chooseContainer } from "../../src/controllers/kube/kubelet/streams.js";
import type { Pod } from "../../src/controllers/kube/kubelet/types.js";
import {
  preparePodVolumes,
  SERVICE_ACCOUNT_PATH,
  withServiceAccountVolume,
} from "../../src/controllers/kube/kubelet/volumes.js";
import { localDockerHost } from "../../src/hosts/local.js";
import type { KubeObject } from "../../src/kube/types.js";
import type { ContainerRuntime } from "../../src/runtime/runtime.js";

const pod = (spec: Partial<Pod["spec"]> = {}): Pod => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "web", namespace: "shop", uid: "u1", labels: { app: "web", tier: "fe" } },
  spec: {
    nodeName: "berth-local",
    serviceAccountName: "builder",
    containers: [{ name: "app", image: "busybox:1" }],
    ...spec,
  },
});
const svc = (name: string, ip: string, ports: object[], ns = "shop"): KubeObject => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: { name, namespace: ns },
  spec: { clusterIP: ip, ports },
});
const lookups = (extra: Partial<EnvLookups> = {}): EnvLookups => ({
  configMap: (n) => (n === "cfg" ? { MODE: "prod", LEVEL: "3" } : undefined),
  secret: (n) => (n === "creds" ? { PASSWORD: "s3cret" } : undefined),
  services: [],
  podIP: "10.0.0.7",
  hostIP: "10.0.0.1",
  nodeAllocatable: { cpu: "4", memory: "8Gi" },
  ...extra,
});

describe("kubelet container env", () => {
  it("value, valueFrom (configMap, secret, fieldRef, resourceFieldRef), envFrom with prefix, $(VAR) expansion", () => {
    const p = pod({
      containers: [
        {
          name: "app",
          image: "b",
          resources: { limits: { memory: "64Mi" } },
          envFrom: [{ configMapRef: { name: "cfg" }, prefix: "CFG_" }, { secretRef: { name: "creds" } }],
          env: [
            { name: "A", value: "1" },
            { name: "B", value: "$(A)-$(MODE_UNSET)-$$(A)" },
            { name: "M", valueFrom: { configMapKeyRef: { name: "cfg", key: "MODE" } } },
            { name: "P", valueFrom: { secretKeyRef: { name: "creds", key: "PASSWORD" } } },
            { name: "POD", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
            { name: "NS", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
            { name: "UID", valueFrom: { fieldRef: { fieldPath: "metadata.uid" } } },
            { name: "APP", valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
            { name: "IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
            { name: "NODE", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
            { name: "SA", valueFrom: { fieldRef: { fieldPath: "spec.serviceAccountName" } } },
            { name: "MEM", valueFrom: { resourceFieldRef: { resource: "limits.memory", divisor: "1Mi" } } },
            { name: "CPU", valueFrom: { resourceFieldRef: { resource: "limits.cpu" } } },
          ],
        },
      ],
    });
    const env = containerEnv(p, p.spec.containers[0], lookups());
    expect(env).toMatchObject({
      CFG_MODE: "prod",
      CFG_LEVEL: "3",
      PASSWORD: "s3cret",
      A: "1",
      B: "1-$(MODE_UNSET)-$(A)",
      M: "prod",
      P: "s3cret",
      POD: "web",
      NS: "shop",
      UID: "u1",
      APP: "web",
      IP: "10.0.0.7",
      NODE: "berth-local",
      SA: "builder",
      MEM: "64",
      CPU: "4",
    });
  });

  it("a missing ConfigMap or key is a CreateContainerConfigError unless optional", () => {
    const p = (env: object[]) => pod({ containers: [{ name: "app", image: "b", env: env as never }] });
    const a = p([{ name: "X", valueFrom: { configMapKeyRef: { name: "nope", key: "k" } } }]);
    expect(() => containerEnv(a, a.spec.containers[0], lookups())).toThrow(ConfigError);
    expect(() => containerEnv(a, a.spec.containers[0], lookups())).toThrow('configmap "nope" not found');
    const b = p([{ name: "X", valueFrom: { configMapKeyRef: { name: "cfg", key: "k" } } }]);
    expect(() => containerEnv(b, b.spec.containers[0], lookups())).toThrow("couldn't find key k in ConfigMap shop/cfg");
    const c = p([{ name: "X", valueFrom: { secretKeyRef: { name: "nope", key: "k", optional: true } } }]);
    expect(containerEnv(c, c.spec.containers[0], lookups()).X).toBeUndefined();
  });

  it("service links for the namespace's Services and KUBERNETES_SERVICE_*; enableServiceLinks: false keeps only the latter", () => {
    const l = lookups({
      services: [
        svc("redis-primary", "10.100.0.9", [{ name: "redis", port: 6379, protocol: "TCP" }]),
        svc("other", "10.100.0.3", [{ port: 1 }], "elsewhere"),
      ],
      kubernetes: svc("kubernetes", "10.100.0.1", [{ name: "https", port: 443 }], "default"),
    });
    const env = containerEnv(pod(), pod().spec.containers[0], l);
    expect(env).toMatchObject({
      REDIS_PRIMARY_SERVICE_HOST: "10.100.0.9",
      REDIS_PRIMARY_SERVICE_PORT: "6379",
      REDIS_PRIMARY_SERVICE_PORT_REDIS: "6379",
      REDIS_PRIMARY_PORT: "tcp://10.100.0.9:6379",
      REDIS_PRIMARY_PORT_6379_TCP: "tcp://10.100.0.9:6379",
      REDIS_PRIMARY_PORT_6379_TCP_PROTO: "tcp",
      REDIS_PRIMARY_PORT_6379_TCP_PORT: "6379",
      REDIS_PRIMARY_PORT_6379_TCP_ADDR: "10.100.0.9",
      KUBERNETES_SERVICE_HOST: "10.100.0.1",
      KUBERNETES_SERVICE_PORT: "443",
    });
    expect(env.OTHER_SERVICE_HOST).toBeUndefined();
    const off = pod({ enableServiceLinks: false });
    const env2 = containerEnv(off, off.spec.containers[0], l);
    expect(env2.REDIS_PRIMARY_SERVICE_HOST).toBeUndefined();
    expect(env2.KUBERNETES_SERVICE_HOST).toBe("10.100.0.1");
    expect(serviceEnv([svc("headless", "None", [{ port: 80 }])], "default")).toEqual([]);
  });

  it("$(VAR) expansion", () => {
    expect(expand("$(A)/$(B)/$$(A)/$(", { A: "x" })).toBe("x/$(B)/$(A)/$(");
  });
});

describe("kubelet container specs", () => {
  it("command → entrypoint, args → cmd (expanded), limits, user, the sandbox's network namespace", () => {
    const p = pod({
      securityContext: { runAsUser: 1000, supplementalGroups: [5], fsGroup: 2000 },
      containers: [
        {
          name: "app",
          image: "b",
          command: ["sh", "-c"],
          args: ["echo $(GREETING)"],
          workingDir: "/w",
          resources: { limits: { cpu: "500m", memory: "128Mi" }, requests: { cpu: "250m" } },
          securityContext: { runAsGroup: 3000 },
        },
      ],
    });
    const s = containerSpec(p, p.spec.containers[0], {
      labels: { a: "b" },
      sandboxId: "sb1",
      env: { GREETING: "hi" },
      mounts: [],
      attempt: 2,
    });
    expect(s).toMatchObject({
      name: "k8s_app_web_shop_u1_2",
      entryPoint: ["sh", "-c"],
      command: ["echo hi"],
      workingDir: "/w",
      user: "1000:3000",
      network: { kind: "container", id: "sb1" },
      memoryBytes: 128 * 2 ** 20,
      nanoCpus: 5e8,
      cpuShares: 256,
      groupAdd: ["5", "2000"],
    });
  });

  it("the sandbox: hostname, cluster DNS with the namespace's search path and ndots:5, host ports", () => {
    const p = pod({
      containers: [{ name: "app", image: "b", ports: [{ containerPort: 80, hostPort: 8080 }] }],
      dnsConfig: { options: [{ name: "ndots", value: "2" }, { name: "edns0" }] },
    });
    const s = sandboxSpec(p, {
      image: "pause",
      labels: {},
      network: "berth-kube-dev",
      publishHost: "0.0.0.0",
      attempt: 0,
      dns: {
        nameservers: ["10.100.0.10"],
        searches: ["shop.svc.cluster.local", "svc.cluster.local", "cluster.local"],
        options: ["ndots:5"],
      },
    });
    expect(s).toMatchObject({
      name: "k8s_POD_web_shop_u1_0",
      hostname: "web",
      network: { kind: "network", name: "berth-kube-dev" },
      dns: ["10.100.0.10"],
      dnsSearch: ["shop.svc.cluster.local", "svc.cluster.local", "cluster.local"],
      dnsOptions: ["ndots:2", "edns0"],
      ports: [{ containerPort: 80, hostPort: 8080, protocol: "tcp" }],
    });
    const d = sandboxSpec(pod({ dnsPolicy: "Default" }), {
      image: "p",
      labels: {},
      network: "n",
      publishHost: "",
      attempt: 0,
      dns: { nameservers: ["1.1.1.1"], searches: ["x"], options: ["ndots:5"] },
    });
    expect(d.dns).toEqual([]);
  });

  it("image pull policy defaults", () => {
    expect(pullPolicyOf({ name: "a", image: "busybox" })).toBe("Always");
    expect(pullPolicyOf({ name: "a", image: "busybox:latest" })).toBe("Always");
    expect(pullPolicyOf({ name: "a", image: "localhost:5000/busybox" })).toBe("Always");
    expect(pullPolicyOf({ name: "a", image: "busybox:1.36" })).toBe("IfNotPresent");
    expect(pullPolicyOf({ name: "a", image: "busybox@sha256:abc" })).toBe("IfNotPresent");
    expect(pullPolicyOf({ name: "a", image: "busybox", imagePullPolicy: "Never" })).toBe("Never");
  });

  it("observePod groups instances newest first and finds the sandbox", () => {
    const c = (container: string, attempt: number, id: string) => ({
      id,
      name: id,
      image: "",
      imageId: "",
      labels: {
        "berth.kube.container": container,
        "berth.kube.attempt": String(attempt),
        "berth.kube.backoff-base": "0",
      },
      state: "running" as const,
      ports: [],
    });
    const o = observePod([c("app", 0, "a0"), c("POD", 0, "s0"), c("app", 1, "a1"), c("POD", 1, "s1")]);
    expect(o.sandbox?.id).toBe("s1");
    expect(o.staleSandboxes.map((x) => x.id)).toEqual(["s0"]);
    expect(o.containers.get("app")?.map((i) => i.container.id)).toEqual(["a1", "a0"]);
  });

  it("logs/exec container choice", () => {
    const two = pod({
      containers: [
        { name: "a", image: "b" },
        { name: "b", image: "b" },
      ],
    });
    expect(chooseContainer(pod(), undefined)).toBe("app");
    expect(() => chooseContainer(two, undefined)).toThrow(
      "a container name must be specified for pod web, choose one of: [a b]",
    );
    expect(() => chooseContainer(two, "zz")).toThrow("container zz is not valid for pod web");
  });
});

describe("kubelet nodes", () => {
  it("a host as a Node: labels, capacity, conditions, node info", () => {
    const host = localDockerHost({} as ContainerRuntime, { cpuUnits: 4096, memoryMiB: 8000 });
    const n = nodeObject(
      {
        host,
        cluster: { scope: { account: "000000000000", region: "us-west-2" }, name: "dev" },
        kubeletVersion: kubeletVersionOf("1.27"),
        runtimeVersion: "docker://24.0.7",
        hostIP: "172.20.0.1",
      },
      "2026-01-01T00:00:00Z",
    );
    expect(n.metadata.name).toBe("berth-local");
    expect(n.metadata.labels).toMatchObject({
      "kubernetes.io/hostname": "berth-local",
      "kubernetes.io/os": "linux",
      "topology.kubernetes.io/region": "us-west-2",
      "topology.kubernetes.io/zone": "us-west-2a",
      "node.kubernetes.io/instance-type": "berth.local",
    });
    expect(nodeResources(host)).toMatchObject({ cpu: "4", memory: `${8000 * 1024}Ki`, pods: "110" });
    const status = n.status as {
      conditions: { type: string; status: string }[];
      nodeInfo: Record<string, string>;
      addresses: object[];
    };
    expect(status.conditions.map((c) => `${c.type}=${c.status}`)).toEqual([
      "MemoryPressure=False",
      "DiskPressure=False",
      "PIDPressure=False",
      "Ready=True",
    ]);
    expect(status.nodeInfo).toMatchObject({
      kubeletVersion: "v1.27.0-eks-berth",
      containerRuntimeVersion: "docker://24.0.7",
    });
    expect(status.addresses).toContainEqual({ type: "InternalIP", address: "172.20.0.1" });
    const down = nodeStatus(
      {
        host,
        cluster: { scope: { account: "0", region: "r" }, name: "c" },
        kubeletVersion: "v",
        runtimeVersion: "d",
        hostIP: "i",
        runtimeUp: false,
      },
      "2026-01-01T00:01:00Z",
      status as never,
    ) as { conditions: { type: string; status: string; reason: string; lastTransitionTime: string }[] };
    expect(down.conditions.find((c) => c.type === "Ready")).toMatchObject({
      status: "False",
      reason: "KubeletNotReady",
      lastTransitionTime: "2026-01-01T00:01:00Z",
    });
    expect(down.conditions.find((c) => c.type === "MemoryPressure")?.lastTransitionTime).toBe("2026-01-01T00:00:00Z");
  });
});

describe("kubelet volumes", () => {
  it("adds the service account volume at its well-known path unless opted out", () => {
    const s = withServiceAccountVolume(pod().spec);
    expect(s.containers[0].volumeMounts).toContainEqual({
      name: "kube-api-access-berth",
      mountPath: SERVICE_ACCOUNT_PATH,
      readOnly: true,
    });
    expect(withServiceAccountVolume(pod({ automountServiceAccountToken: false }).spec).volumes).toBeUndefined();
    // The service account's automountServiceAccountToken applies when the pod says nothing; the pod's wins.
    expect(withServiceAccountVolume(pod().spec, false).volumes).toBeUndefined();
    expect(withServiceAccountVolume(pod({ automountServiceAccountToken: true }).spec, false).volumes).toHaveLength(1);
  });

  it("writes configMap / secret / projected files with items and modes, updates them, and makes emptyDirs", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kubelet-vol-"));
    try {
      let data: Record<string, Buffer> = { "app.conf": Buffer.from("a=1"), other: Buffer.from("x") };
      const p = pod({
        volumes: [
          { name: "cfg", configMap: { name: "cfg" } },
          { name: "one", configMap: { name: "cfg", items: [{ key: "app.conf", path: "conf/app.conf", mode: 0o600 }] } },
          { name: "sec", secret: { secretName: "creds", defaultMode: 0o400 } },
          { name: "scratch", emptyDir: {} },
        ],
      });
      const spec = withServiceAccountVolume(p.spec);
      const src = {
        configMap: (n: string) =>
          n === "cfg" ? data : n === "kube-root-ca.crt" ? { "ca.crt": Buffer.from("CA") } : undefined,
        secret: (n: string) => (n === "creds" ? { password: Buffer.from("pw") } : undefined),
        token: async () => "tok",
        podIP: "10.0.0.2",
        hostIP: "10.0.0.1",
        nodeAllocatable: {},
      };
      const vols = await preparePodVolumes({ ...p, spec }, dir, src);
      const path = (v: string, f: string) => join(vols.get(v)!.hostPath, f);
      expect(readFileSync(path("cfg", "app.conf"), "utf8")).toBe("a=1");
      expect(readFileSync(path("one", "conf/app.conf"), "utf8")).toBe("a=1");
      expect(statSync(path("one", "conf/app.conf")).mode & 0o777).toBe(0o600);
      expect(existsSync(path("one", "other"))).toBe(false);
      expect(statSync(path("sec", "password")).mode & 0o777).toBe(0o400);
      expect(vols.get("sec")!.readOnly).toBe(true);
      expect(vols.get("scratch")!.readOnly).toBe(false);
      expect(readFileSync(path("kube-api-access-berth", "token"), "utf8")).toBe("tok");
      expect(readFileSync(path("kube-api-access-berth", "ca.crt"), "utf8")).toBe("CA");
      expect(readFileSync(path("kube-api-access-berth", "namespace"), "utf8")).toBe("shop");
      data = { "app.conf": Buffer.from("a=2") };
      await preparePodVolumes({ ...p, spec }, dir, src);
      expect(readFileSync(path("cfg", "app.conf"), "utf8")).toBe("a=2");
      expect(existsSync(path("cfg", "other"))).toBe(false);
      const missing = pod({ volumes: [{ name: "x", configMap: { name: "nope" } }] });
      await expect(preparePodVolumes(missing, dir, src)).rejects.toThrow('configmap "nope" not found');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
