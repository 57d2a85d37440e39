import type { ImageSources } from "../../runtime/image-pull.js";
import type { Clock } from "../../core/clock.js";
import type { Logger } from "../../core/logger.js";
import { bootstrapClusterObjects, startKubeControllers } from "../../controllers/kube/index.js";
import { startDisruptionController } from "../../controllers/kube/disruption.js";
import { fargateAdmission, startFargateScheduler } from "../../controllers/kube/fargate/index.js";
import { startKubelet } from "../../controllers/kube/kubelet/index.js";
import { startNodegroupController } from "../../controllers/kube/nodegroups/index.js";
import { type Elbv2Api, startLoadBalancerControllers } from "../../controllers/kube/loadbalancers/index.js";
import {
  bootstrapServices,
  createPodNetworking,
  serviceAdmission,
  startServiceNetworking,
} from "../../controllers/kube/networking/index.js";
import {
  claimMounts,
  type EfsApi,
  type InstalledDrivers,
  startStorageControllers,
  VolumeDisks,
} from "../../controllers/kube/storage/index.js";
import type { HostRegistry } from "../../hosts/registry.js";
import { eksAuthorize } from "../../kube/access-policies.js";
import { unionAuthenticator } from "../../kube/authenticators.js";
import type {
  Admission,
  Authorizer,
  ClusterEndpoint,
  KubeApiEndpoints,
  PodExec,
  PodLogs,
} from "../../kube/contracts.js";
import { ObjectStore } from "../../kube/objects.js";
import { bootstrapRbac, type RbacObjects } from "../../kube/rbac.js";
import { BUILTIN_RESOURCES, builtin } from "../../kube/resources.js";
import { type ClusterRef, clusterKey, type KubeObject, type ResourceType } from "../../kube/types.js";
import { createKubeApiEndpoints } from "../../kube-api/index.js";
import { KUBE_LABEL } from "../../runtime/labels.js";
import type { ContainerRuntime, RegistryAuth } from "../../runtime/runtime.js";
import type { DocumentStore } from "../../store/documents.js";
import { serviceModule } from "../module.js";
import type { EksModule } from "./module.js";

export interface KubernetesDeps {
  store: DocumentStore;
  clock: Clock;
  logger: Logger;
  runtime: ContainerRuntime;
  hosts: HostRegistry;
  dataDir: string;
  eks: EksModule;
  registryAuth?: (image: string) => RegistryAuth | undefined;
  /** The mirror list pods' images are pulled through (ECR's pull-through rules, then the upstream). */
  imageSources?: ImageSources;
  /** ELBv2, for Services of type LoadBalancer and Ingresses of class alb (none: they stay pending). */
  elbv2?: Elbv2Api;
  /** EFS, for the efs.csi.aws.com provisioner and its mounts (none: EFS-class claims stay Pending). */
  efs?: EfsApi;
  /** The CSI drivers the clusters' EKS add-ons install (none: only CSIDriver objects made by hand count). */
  csiDrivers?: InstalledDrivers;
}

const RBAC = {
  roles: builtin("rbac.authorization.k8s.io", "roles"),
  clusterRoles: builtin("rbac.authorization.k8s.io", "clusterroles"),
  roleBindings: builtin("rbac.authorization.k8s.io", "rolebindings"),
  clusterRoleBindings: builtin("rbac.authorization.k8s.io", "clusterrolebindings"),
};

/**
 * The Kubernetes side of EKS, composed: one ObjectStore on Berth's store; the API server's
 * listeners (handed to the EKS module, which serves each ACTIVE cluster); authorization as EKS
 * does it (RBAC, then the access entry's access policies); the controllers, the kubelet on the
 * hosts ECS uses, and the pod network with Services and cluster DNS.
 */
export function kubernetesModule(deps: KubernetesDeps) {
  const { logger, clock } = deps;
  const objects = new ObjectStore(deps.store);
  const clusters = () => deps.eks.activeClusters();
  // The kubelet lends a cluster without compute of its own the Docker host as a stand-in node.
  const kubeletClusters = () => clusters().map((c) => ({ ...c, standInNode: !deps.eks.hasOwnCompute(c) }));
  const networking = createPodNetworking({ runtime: deps.runtime, logger });
  const admissions = [serviceAdmission({ objects }), fargateAdmission(deps.eks.fargateProfiles)];
  const admission = chainAdmission(admissions);
  const caOf = (c: ClusterRef) => deps.eks.endpointOf(c)?.caPem;

  // RBAC objects are read once per store revision, not on every request.
  const rbacCache = new Map<string, { head: number; rbac: RbacObjects }>();
  const rbacFor = (cluster: ClusterRef) => {
    const head = objects.head();
    const hit = rbacCache.get(clusterKey(cluster));
    if (hit?.head === head) return hit.rbac;
    const rbac = rbacOf(objects, cluster);
    rbacCache.set(clusterKey(cluster), { head, rbac });
    return rbac;
  };
  const authorizer: Authorizer = {
    authorize(cluster, user, attrs) {
      return eksAuthorize(user, attrs, rbacFor(cluster), deps.eks.associationsFor(cluster, user));
    },
  };
  let kubelet: ReturnType<typeof startKubelet> | undefined;
  const running = () => {
    if (!kubelet) throw new Error("the kubelet is not running");
    return kubelet;
  };
  const logs: PodLogs = { logs: (...a) => running().logs.logs(...a) };
  const exec: PodExec = { exec: (...a) => running().exec.exec(...a) };
  const api = createKubeApiEndpoints({
    objects,
    // As EKS: IAM tokens (aws eks get-token) or service account tokens.
    authenticator: unionAuthenticator(deps.eks.authenticator, deps.eks.serviceAccountTokens),
    authorizer,
    tokens: deps.eks.serviceAccountTokens,
    admission: admissions,
    logs,
    exec,
    logger,
    version: (c) => {
      const v = clusters().find((x) => x.name === c.name && x.scope.account === c.scope.account)?.version;
      return v ? { major: v.split(".")[0], minor: v.split(".")[1] } : {};
    },
  });

  /** What a cluster starts with, written (idempotently) before its API server first answers. */
  const bootstrap = async (endpoint: ClusterEndpoint) => {
    const cluster = endpoint.cluster;
    bootstrapClusterObjects(objects, cluster, { caPem: endpoint.caPem });
    for (const obj of bootstrapRbac()) createIfMissing(objects, cluster, obj);
    const net = await networking.network(cluster);
    bootstrapServices(objects, cluster, { host: net.gateway, port: endpoint.port });
    return net.gateway;
  };
  const endpoints: KubeApiEndpoints = {
    async serve(endpoint) {
      // The API server listens on the pod network's gateway too: the `kubernetes` Service's endpoint.
      const gateway = await bootstrap(endpoint);
      await api.serve({ ...endpoint, alsoOn: [...(endpoint.alsoOn ?? []), gateway] });
    },
    close: (cluster) => api.close(cluster),
  };
  deps.eks.useEndpoints(endpoints);
  // A deleted cluster takes its objects, its pods' containers and its pod network with it.
  deps.eks.onClusterDeleted(async (cluster) => {
    objects.purge(cluster, BUILTIN_RESOURCES);
    for (const c of await deps.runtime.list({ [KUBE_LABEL.cluster]: clusterKey(cluster) }))
      await deps.runtime.removeContainer(c.id);
    await networking
      .release(cluster)
      .catch((err) => logger.warn({ err: (err as Error).message }, "pod network not removed"));
  });

  let controllers: ReturnType<typeof startKubeControllers> | undefined;
  let services: ReturnType<typeof startServiceNetworking> | undefined;
  let loadBalancers: ReturnType<typeof startLoadBalancerControllers> | undefined;
  let fargate: ReturnType<typeof startFargateScheduler> | undefined;
  let storage: ReturnType<typeof startStorageControllers> | undefined;
  const disks = new VolumeDisks(deps.dataDir);
  let disruption: ReturnType<typeof startDisruptionController> | undefined;
  let nodegroups: ReturnType<typeof startNodegroupController> | undefined;
  return serviceModule({
    name: "kubernetes",
    definitions: [],
    iam: { prefixes: {} },
    async start() {
      controllers = startKubeControllers({ objects, clusters, clock, logger, caPem: caOf, admission });
      services = startServiceNetworking({ objects, clusters, networking, runtime: deps.runtime, clock, logger });
      if (deps.elbv2)
        loadBalancers = startLoadBalancerControllers({ objects, clusters, elbv2: deps.elbv2, clock, logger });
      kubelet = startKubelet({
        objects,
        runtime: deps.runtime,
        hosts: deps.hosts,
        networking,
        clusters: kubeletClusters,
        clock,
        logger,
        dataDir: deps.dataDir,
        clusterCa: caOf,
        tokens: deps.eks.serviceAccountTokens,
        registryAuth: deps.registryAuth,
        imageSources: deps.imageSources,
        claimMounts: claimMounts({ objects, disks, efs: deps.efs }),
      });
      storage = startStorageControllers({
        objects,
        clusters,
        disks,
        efs: deps.efs,
        installed: deps.csiDrivers ?? deps.eks.csiDrivers,
        clock,
        logger,
      });
      disruption = startDisruptionController({ objects, clusters, clock, logger });
      nodegroups = startNodegroupController({
        objects,
        clusters,
        nodegroups: deps.eks.nodegroups,
        hosts: deps.hosts,
        clock,
        logger,
      });
      fargate = startFargateScheduler({
        objects,
        clusters,
        profiles: deps.eks.fargateProfiles,
        hosts: deps.hosts,
        clock,
        logger,
      });
    },
    async stop() {
      await fargate?.stop();
      await storage?.stop();
      await disruption?.stop();
      await nodegroups?.stop();
      await kubelet?.stop();
      await loadBalancers?.stop();
      await services?.stop();
      await controllers?.stop();
    },
  });
}

/** Admission steps run in order, as the API server runs its list (the controllers take one). */
function chainAdmission(steps: Admission[]): Admission {
  return { admit: (c, op, type, obj, old) => steps.reduce((o, a) => a.admit(c, op, type, o, old), obj) };
}

function rbacOf(objects: ObjectStore, cluster: ClusterRef): RbacObjects {
  const all = (t: ResourceType) => objects.list(cluster, t).items;
  return {
    roles: all(RBAC.roles),
    clusterRoles: all(RBAC.clusterRoles),
    roleBindings: all(RBAC.roleBindings),
    clusterRoleBindings: all(RBAC.clusterRoleBindings),
  };
}

function createIfMissing(objects: ObjectStore, cluster: ClusterRef, obj: KubeObject) {
  const [group] = obj.apiVersion.includes("/") ? obj.apiVersion.split("/") : [""];
  const type = Object.values(RBAC).find((t) => t.kind === obj.kind && t.group === group);
  if (!type) return;
  if (objects.get(cluster, type, obj.metadata.namespace, obj.metadata.name ?? "")) return;
  try {
    objects.create(cluster, type, obj);
  } catch {
    // created meanwhile
  }
}
