import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningBerth, startBerth } from "../support/berth.js";
import { awsCli, iamClient, newAccount, rootOf, trustPolicy } from "../support/identity.js";
import { BUSYBOX_IMAGE } from "../support/images.js";
import { eventually, removeClusterContainers, kubeEnv, kubectl, kubectls } from "../support/kube.js";
import { CreateRoleCommand } from "@aws-sdk/client-iam";

const run = promisify(execFile);
const account = newAccount();
const creds = rootOf(account);
const cluster = "lb";

/** An httpd Deployment answering its name on /, /a/ and /b/, ready once it serves. */
const app = (name: string, replicas = 2) => `
apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name} }
spec:
  replicas: ${replicas}
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata: { labels: { app: ${name} } }
    spec:
      terminationGracePeriodSeconds: 1
      containers:
        - name: httpd
          image: ${BUSYBOX_IMAGE}
          command: ["sh", "-c", "mkdir -p /www/a /www/b && for d in /www /www/a /www/b; do echo ${name} > $d/index.html; done && exec httpd -f -p 8080 -h /www"]
          ports: [{ containerPort: 8080, name: http }]
          readinessProbe: { httpGet: { path: /, port: http }, periodSeconds: 1 }
`;

const fastChecks = (prefix: string, interval: string, timeout: string, healthy: string) => `
    ${prefix}${interval}: "5"
    ${prefix}${timeout}: "2"
    ${prefix}${healthy}: "2"`;

const nlbService = `
apiVersion: v1
kind: Service
metadata:
  name: web
  annotations:
    service.beta.kubernetes.io/aws-load-balancer-type: nlb
    service.beta.kubernetes.io/aws-load-balancer-nlb-target-type: ip${fastChecks("service.beta.kubernetes.io/aws-load-balancer-", "healthcheck-interval", "healthcheck-timeout", "healthcheck-healthy-threshold")}
spec:
  type: LoadBalancer
  selector: { app: web }
  ports: [{ name: http, port: 80, targetPort: http }]
`;

/** No annotations: where the in-tree provider makes a Classic ELB, Berth makes an NLB with instance (node port) targets. */
const plainService = `
apiVersion: v1
kind: Service
metadata:
  name: plain
  annotations:${fastChecks("service.beta.kubernetes.io/aws-load-balancer-", "healthcheck-interval", "healthcheck-timeout", "healthcheck-healthy-threshold")}
spec:
  type: LoadBalancer
  selector: { app: web }
  ports: [{ port: 8081, targetPort: 8080 }]
`;

const backendService = (name: string) => `
apiVersion: v1
kind: Service
metadata: { name: ${name} }
spec:
  selector: { app: ${name} }
  ports: [{ port: 80, targetPort: http }]
`;

const ingress = `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: paths
  annotations:
    alb.ingress.kubernetes.io/scheme: internet-facing
    alb.ingress.kubernetes.io/target-type: ip${fastChecks("alb.ingress.kubernetes.io/", "healthcheck-interval-seconds", "healthcheck-timeout-seconds", "healthy-threshold-count")}
spec:
  ingressClassName: alb
  rules:
    - http:
        paths:
          - { path: /a, pathType: Prefix, backend: { service: { name: app-a, port: { number: 80 } } } }
          - { path: /b, pathType: Prefix, backend: { service: { name: app-b, port: { number: 80 } } } }
`;

const curl = async (url: string) => {
  try {
    const { stdout } = await run("curl", ["-sS", "--max-time", "3", "-w", "\n%{http_code}", url]);
    const lines = stdout.trimEnd().split("\n");
    return { code: Number(lines.at(-1)), body: lines.slice(0, -1).join("\n").trim() };
  } catch {
    return { code: 0, body: "" };
  }
};

interface Lb {
  LoadBalancerArn: string;
  LoadBalancerName: string;
  DNSName: string;
  Type: string;
  Scheme: string;
}

describe("EKS Services of type LoadBalancer and Ingresses on ELBv2", () => {
  let berth: RunningBerth;
  let dir: string;
  let env: Record<string, string>;
  const [k120] = kubectls();
  const k = (args: string[], input?: string) => kubectl(k120 as string, env, args, { input });
  const aws = async (args: string[]) => {
    const r = await awsCli(berth.endpoint, creds, args);
    if (!r.ok) throw new Error(r.stderr);
    return r.json as Record<string, unknown>;
  };
  const loadBalancers = async () => ((await aws(["elbv2", "describe-load-balancers"])).LoadBalancers ?? []) as Lb[];
  const hostnameOf = (kind: string, name: string) =>
    eventually(async () => {
      const r = await k(["get", kind, name, "-o", "jsonpath={.status.loadBalancer.ingress[0].hostname}"]);
      return r.stdout.trim() || undefined;
    }, `${kind}/${name}'s load balancer hostname`);
  const healthOf = async (lbArn: string) => {
    const tgs = (await aws(["elbv2", "describe-target-groups", "--load-balancer-arn", lbArn])).TargetGroups as {
      TargetGroupArn: string;
      TargetType: string;
      Port: number;
      HealthCheckIntervalSeconds: number;
    }[];
    const out = [];
    for (const tg of tgs) {
      const h = (await aws(["elbv2", "describe-target-health", "--target-group-arn", tg.TargetGroupArn]))
        .TargetHealthDescriptions as { Target: { Id: string; Port: number }; TargetHealth: { State: string } }[];
      out.push({ tg, targets: h });
    }
    return out;
  };

  beforeAll(async () => {
    berth = await startBerth({ env: { BERTH_EKS_CREATE_MS: "200", BERTH_EKS_DELETE_MS: "300" } });
    dir = mkdtempSync(join(tmpdir(), "berth-eks-lb-"));
    await iamClient(berth.endpoint, creds).send(
      new CreateRoleCommand({
        RoleName: "eks-cluster",
        AssumeRolePolicyDocument: trustPolicy({ Service: "eks.amazonaws.com" }),
      }),
    );
    env = kubeEnv(join(dir, "config"), creds, berth.endpoint);
    await aws([
      "eks",
      "create-cluster",
      "--name",
      cluster,
      "--role-arn",
      `arn:aws:iam::${account}:role/eks-cluster`,
      "--resources-vpc-config",
      "subnetIds=subnet-a,subnet-b",
    ]);
    await aws(["eks", "wait", "cluster-active", "--name", cluster]);
    execFileSync(
      "/usr/bin/aws",
      ["--endpoint-url", berth.endpoint, "eks", "update-kubeconfig", "--name", cluster, "--kubeconfig", env.KUBECONFIG],
      { env },
    );
  }, 60_000);

  afterAll(async () => {
    await awsCli(berth.endpoint, creds, ["eks", "delete-cluster", "--name", cluster]);
    await eventually(
      async () =>
        (await awsCli(berth.endpoint, creds, ["eks", "describe-cluster", "--name", cluster])).ok ? undefined : true,
      "the cluster to go",
      30_000,
    ).catch(() => undefined);
    await berth?.stop();
    removeClusterContainers(account, cluster);
    if (berth) rmSync(berth.dataDir, { recursive: true, force: true });
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("gives a Service of type LoadBalancer an NLB whose DNS name reaches the ready pods", async () => {
    expect((await k(["apply", "-f", "-"], app("web") + "---" + nlbService)).ok).toBe(true);
    const hostname = await hostnameOf("service", "web");
    const lb = (await loadBalancers()).find((l) => l.DNSName === hostname);
    expect(lb?.Type).toBe("network");
    expect(lb?.LoadBalancerName).toMatch(/^k8s-default-web-[0-9a-f]{10}$/);
    expect(lb?.Scheme).toBe("internet-facing");
    const listeners = (await aws(["elbv2", "describe-listeners", "--load-balancer-arn", lb!.LoadBalancerArn]))
      .Listeners as { Port: number; Protocol: string }[];
    expect(listeners.map((l) => [l.Port, l.Protocol])).toEqual([[80, "TCP"]]);

    // Target health follows the pods: both ready pod IPs on 8080, healthy.
    const podIps = async () =>
      (await k(["get", "pods", "-l", "app=web", "-o", "jsonpath={.items[*].status.podIP}"])).stdout.split(" ").sort();
    await k(["rollout", "status", "deployment/web", "--timeout=60s"]);
    const healthy = await eventually(async () => {
      const [g] = await healthOf(lb!.LoadBalancerArn);
      const ok = g?.targets.filter((t) => t.TargetHealth.State === "healthy") ?? [];
      return ok.length === 2 ? g : undefined;
    }, "two healthy targets");
    expect(healthy.tg.TargetType).toBe("ip");
    expect(healthy.targets.map((t) => t.Target.Id).sort()).toEqual(await podIps());
    expect(healthy.targets.every((t) => t.Target.Port === 8080)).toBe(true);

    const r = await eventually(async () => {
      const x = await curl(`http://${hostname}:80/`);
      return x.code === 200 ? x : undefined;
    }, "an answer through the NLB");
    expect(r.body).toBe("web");

    const table = await k(["get", "service", "web"]);
    expect(table.stdout).toContain(hostname);

    // A pod that goes away leaves the target group: its target drains, the other stays healthy.
    await k(["scale", "deployment/web", "--replicas=1"]);
    const states = await eventually(async () => {
      const [g] = await healthOf(lb!.LoadBalancerArn);
      const s = (g?.targets ?? []).map((t) => t.TargetHealth.State).sort();
      return s.join(",") === "draining,healthy" ? s : undefined;
    }, "one healthy and one draining target");
    expect(states).toEqual(["draining", "healthy"]);
    expect((await curl(`http://${hostname}:80/`)).body).toBe("web");

    const events = await k([
      "get",
      "events",
      "--field-selector",
      "involvedObject.name=web",
      "-o",
      "jsonpath={.items[*].reason}",
    ]);
    expect(events.stdout).toMatch(/EnsuringLoadBalancer/);
    expect(events.stdout).toMatch(/EnsuredLoadBalancer/);
    const finalizers = await k(["get", "service", "web", "-o", "jsonpath={.metadata.finalizers}"]);
    expect(finalizers.stdout).toMatch(/service\.k8s\.aws\/resources/);
  });

  it("makes an NLB with node-port (instance) targets for a Service without annotations", async () => {
    expect((await k(["apply", "-f", "-"], plainService)).ok).toBe(true);
    const hostname = await hostnameOf("service", "plain");
    const lb = (await loadBalancers()).find((l) => l.DNSName === hostname);
    expect(lb?.Type).toBe("network");
    const nodePort = Number((await k(["get", "service", "plain", "-o", "jsonpath={.spec.ports[0].nodePort}"])).stdout);
    const g = await eventually(async () => {
      const [x] = await healthOf(lb!.LoadBalancerArn);
      return x?.targets.some((t) => t.TargetHealth.State === "healthy") ? x : undefined;
    }, "a healthy instance target");
    expect(g.tg.TargetType).toBe("instance");
    expect(g.targets.map((t) => t.Target.Port)).toEqual([nodePort]);
    expect(g.targets[0]?.Target.Id).toMatch(/^i-[0-9a-f]{17}$/);
    const r = await eventually(async () => {
      const x = await curl(`http://${hostname}:8081/`);
      return x.code === 200 ? x : undefined;
    }, "an answer through the node port");
    expect(r.body).toBe("web");
  });

  it("routes two paths of an alb Ingress to two Services through one ALB", async () => {
    const classes = await k(["get", "ingressclass", "alb", "-o", "jsonpath={.spec.controller}"]);
    expect(classes.stdout).toBe("ingress.k8s.aws/alb");
    const manifests = [app("app-a", 1), backendService("app-a"), app("app-b", 1), backendService("app-b"), ingress];
    expect((await k(["apply", "-f", "-"], manifests.join("---"))).ok).toBe(true);
    const hostname = await hostnameOf("ingress", "paths");
    const lb = (await loadBalancers()).find((l) => l.DNSName === hostname);
    expect(lb?.Type).toBe("application");
    expect(lb?.LoadBalancerName).toMatch(/^k8s-default-paths-[0-9a-f]{10}$/);
    const listeners = (await aws(["elbv2", "describe-listeners", "--load-balancer-arn", lb!.LoadBalancerArn]))
      .Listeners as { ListenerArn: string; Port: number; Protocol: string }[];
    expect(listeners.map((l) => [l.Port, l.Protocol])).toEqual([[80, "HTTP"]]);
    const rules = (await aws(["elbv2", "describe-rules", "--listener-arn", listeners[0]!.ListenerArn])).Rules as {
      Priority: string;
      Conditions: { Field: string; Values?: string[]; PathPatternConfig?: { Values: string[] } }[];
    }[];
    expect(
      rules.map((r) => [r.Priority, r.Conditions[0]?.PathPatternConfig?.Values ?? r.Conditions[0]?.Values]),
    ).toEqual([
      ["1", ["/a", "/a/*"]],
      ["2", ["/b", "/b/*"]],
      ["default", undefined],
    ]);
    const a = await eventually(async () => {
      const x = await curl(`http://${hostname}/a/`);
      return x.code === 200 ? x : undefined;
    }, "/a/ through the ALB");
    expect(a.body).toBe("app-a");
    const b = await eventually(async () => {
      const x = await curl(`http://${hostname}/b/`);
      return x.code === 200 ? x : undefined;
    }, "/b/ through the ALB");
    expect(b.body).toBe("app-b");
    expect((await curl(`http://${hostname}/elsewhere`)).code).toBe(404);
  });

  it("keeps every load balancer, unduplicated and serving, across a Berth restart", async () => {
    const before = (await loadBalancers()).map((l) => l.LoadBalancerArn).sort();
    await berth.stop();
    berth = await startBerth({
      dataDir: berth.dataDir,
      env: { BERTH_EKS_CREATE_MS: "200", BERTH_EKS_DELETE_MS: "300" },
    });
    env = { ...env, AWS_ENDPOINT_URL: berth.endpoint };
    const ingressHost = await hostnameOf("ingress", "paths");
    const a = await eventually(async () => {
      const x = await curl(`http://${ingressHost}/a/`);
      return x.code === 200 ? x : undefined;
    }, "/a/ after the restart");
    expect(a.body).toBe("app-a");
    await new Promise((r) => setTimeout(r, 2000));
    expect((await loadBalancers()).map((l) => l.LoadBalancerArn).sort()).toEqual(before);
  });

  it("deletes the load balancers and target groups with the Service and the Ingress", async () => {
    const before = await loadBalancers();
    const tgsBefore = ((await aws(["elbv2", "describe-target-groups"])).TargetGroups as unknown[]).length;
    expect(before.length).toBe(3);
    expect(tgsBefore).toBe(4);
    expect((await k(["delete", "service", "web", "--wait=true", "--timeout=60s"])).ok).toBe(true);
    expect((await k(["delete", "ingress", "paths", "--wait=true", "--timeout=60s"])).ok).toBe(true);
    const after = await loadBalancers();
    expect(after.map((l) => l.LoadBalancerName)).toEqual(
      before.filter((l) => !/^k8s-default-(web|paths)-/.test(l.LoadBalancerName)).map((l) => l.LoadBalancerName),
    );
    expect(((await aws(["elbv2", "describe-target-groups"])).TargetGroups as unknown[]).length).toBe(1);
    const gone = await curl(`http://${before.find((l) => /^k8s-default-web-/.test(l.LoadBalancerName))!.DNSName}:80/`);
    expect(gone.code).toBe(0);

    // Changing the type away from LoadBalancer removes its load balancer too.
    expect((await k(["patch", "service", "plain", "-p", '{"spec":{"type":"ClusterIP"}}'])).ok).toBe(true);
    await eventually(async () => ((await loadBalancers()).length === 0 ? true : undefined), "no load balancers left");
    const status = await k(["get", "service", "plain", "-o", "jsonpath={.status.loadBalancer}"]);
    expect(status.stdout).toBe("{}");
    const fin = await k(["get", "service", "plain", "-o", "jsonpath={.metadata.finalizers}"]);
    expect(fin.stdout).toBe("");
  });
});
