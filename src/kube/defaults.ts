/**
 * Kubernetes' defaulting (pkg/apis/<group>/v1/defaults.go, plus what the registry strategies and the
 * default admission plugins add on create: a pod's service account, priority, toleration seconds, a
 * namespace's finalizer and phase, a job's selector). PURE; mutates the object it is given
 * (schema.defaultObject hands it a copy). Every default applies only where the member is unset,
 * so defaulting twice equals defaulting once.
 */
import type { KubeObject } from "./types.js";

type Obj = Record<string, unknown>;
interface GVK {
  group: string;
  version: string;
  kind: string;
}

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
/**
 * The object at `key`, created when absent. A value of the wrong type (`"strategy": ["x"]`) is
 * left in place for validation to report (422 naming the field); defaults go into a throwaway.
 */
const obj = (parent: Obj, key: string): Obj => {
  const v = parent[key];
  if (v === undefined || v === null) {
    parent[key] = {};
    return parent[key] as Obj;
  }
  return isObj(v) ? v : {};
};
const def = (o: Obj, key: string, value: unknown) => {
  if (o[key] === undefined || o[key] === null) o[key] = value;
};
const list = (o: Obj, key: string): Obj[] => (Array.isArray(o[key]) ? (o[key] as unknown[]).filter(isObj) : []);

/** Always for `:latest` or an untagged image, else IfNotPresent (a digest counts as a tag). */
export function defaultPullPolicy(image: unknown): "Always" | "IfNotPresent" {
  if (typeof image !== "string") return "IfNotPresent";
  if (image.includes("@")) return "IfNotPresent";
  const lastSlash = image.lastIndexOf("/");
  const colon = image.indexOf(":", lastSlash + 1);
  const tag = colon < 0 ? "" : image.slice(colon + 1);
  return tag === "" || tag === "latest" ? "Always" : "IfNotPresent";
}

function defaultProbe(p: unknown) {
  if (!isObj(p)) return;
  def(p, "timeoutSeconds", 1);
  def(p, "periodSeconds", 10);
  def(p, "successThreshold", 1);
  def(p, "failureThreshold", 3);
  if (isObj(p.httpGet)) def(p.httpGet, "scheme", "HTTP");
}

function defaultContainer(c: Obj) {
  def(c, "imagePullPolicy", defaultPullPolicy(c.image));
  def(c, "terminationMessagePath", "/dev/termination-log");
  def(c, "terminationMessagePolicy", "File");
  def(c, "resources", {});
  for (const p of list(c, "ports")) def(p, "protocol", "TCP");
  for (const e of list(c, "env")) {
    const ref = isObj(e.valueFrom) ? e.valueFrom.fieldRef : undefined;
    if (isObj(ref)) def(ref, "apiVersion", "v1");
  }
  defaultProbe(c.livenessProbe);
  defaultProbe(c.readinessProbe);
  defaultProbe(c.startupProbe);
  if (isObj(c.lifecycle)) {
    for (const h of [c.lifecycle.postStart, c.lifecycle.preStop])
      if (isObj(h) && isObj(h.httpGet)) def(h.httpGet, "scheme", "HTTP");
  }
}

function defaultVolume(v: Obj) {
  if (!Object.keys(v).some((k) => k !== "name" && v[k] != null)) v.emptyDir = {};
  if (isObj(v.configMap)) def(v.configMap, "defaultMode", 420);
  if (isObj(v.secret)) def(v.secret, "defaultMode", 420);
  if (isObj(v.projected)) def(v.projected, "defaultMode", 420);
  if (isObj(v.hostPath)) def(v.hostPath, "type", "");
}

/** SetDefaults_PodSpec and its containers/volumes (pods and pod templates alike). */
export function defaultPodSpec(spec: Obj) {
  def(spec, "restartPolicy", "Always");
  def(spec, "dnsPolicy", "ClusterFirst");
  def(spec, "terminationGracePeriodSeconds", 30);
  def(spec, "schedulerName", "default-scheduler");
  def(spec, "securityContext", {});
  if (typeof spec.serviceAccount === "string" && spec.serviceAccountName === undefined)
    spec.serviceAccountName = spec.serviceAccount;
  for (const c of [...list(spec, "initContainers"), ...list(spec, "containers")]) defaultContainer(c);
  for (const v of list(spec, "volumes")) defaultVolume(v);
}

/** What a Pod gets on create beyond its spec defaults: the ServiceAccount, Priority and DefaultTolerationSeconds admission plugins. */
function defaultPod(pod: Obj) {
  const spec = obj(pod, "spec");
  defaultPodSpec(spec);
  def(spec, "serviceAccountName", "default");
  def(spec, "serviceAccount", spec.serviceAccountName);
  def(spec, "enableServiceLinks", true);
  def(spec, "priority", 0);
  def(spec, "preemptionPolicy", "PreemptLowerPriority");
  const tolerations = Array.isArray(spec.tolerations) ? (spec.tolerations as Obj[]) : [];
  for (const key of ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"]) {
    const has = tolerations.some(
      (t) => isObj(t) && (t.key === key || (t.key === undefined && t.operator === "Exists")),
    );
    if (!has) tolerations.push({ key, operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 });
  }
  spec.tolerations = tolerations;
}

function defaultTemplate(spec: Obj) {
  const template = obj(spec, "template");
  defaultPodSpec(obj(template, "spec"));
}

/** A workload's selector and labels default from its template's labels (what kube did for extensions/v1beta1; apps/v1 requires them). */
function defaultDeployment(d: Obj) {
  const spec = obj(d, "spec");
  def(spec, "replicas", 1);
  const strategy = obj(spec, "strategy");
  def(strategy, "type", "RollingUpdate");
  if (strategy.type === "RollingUpdate") {
    const ru = obj(strategy, "rollingUpdate");
    def(ru, "maxUnavailable", "25%");
    def(ru, "maxSurge", "25%");
  }
  def(spec, "revisionHistoryLimit", 10);
  def(spec, "progressDeadlineSeconds", 600);
  defaultTemplate(spec);
}

function defaultStatefulSet(s: Obj) {
  const spec = obj(s, "spec");
  def(spec, "replicas", 1);
  def(spec, "podManagementPolicy", "OrderedReady");
  const strategy = obj(spec, "updateStrategy");
  def(strategy, "type", "RollingUpdate");
  if (strategy.type === "RollingUpdate") def(obj(strategy, "rollingUpdate"), "partition", 0);
  def(spec, "revisionHistoryLimit", 10);
  const retention = obj(spec, "persistentVolumeClaimRetentionPolicy");
  def(retention, "whenDeleted", "Retain");
  def(retention, "whenScaled", "Retain");
  for (const pvc of list(spec, "volumeClaimTemplates")) {
    def(obj(pvc, "spec"), "volumeMode", "Filesystem");
    def(pvc, "apiVersion", "v1");
    def(pvc, "kind", "PersistentVolumeClaim");
  }
  defaultTemplate(spec);
}

function defaultDaemonSet(d: Obj) {
  const spec = obj(d, "spec");
  const strategy = obj(spec, "updateStrategy");
  def(strategy, "type", "RollingUpdate");
  if (strategy.type === "RollingUpdate") {
    const ru = obj(strategy, "rollingUpdate");
    def(ru, "maxUnavailable", 1);
    def(ru, "maxSurge", 0);
  }
  def(spec, "revisionHistoryLimit", 10);
  defaultTemplate(spec);
}

/** Job defaults; with metadata.uid set, also the selector and template labels the Job strategy generates. */
function defaultJob(j: Obj) {
  const spec = obj(j, "spec");
  if (spec.completions == null && spec.parallelism == null) {
    spec.completions = 1;
    spec.parallelism = 1;
  }
  def(spec, "parallelism", 1);
  def(spec, "backoffLimit", 6);
  def(spec, "completionMode", "NonIndexed");
  def(spec, "suspend", false);
  defaultTemplate(spec);
  const meta = isObj(j.metadata) ? j.metadata : {};
  const uid = meta.uid;
  if (typeof uid === "string" && spec.manualSelector !== true && spec.selector == null) {
    const name = String(meta.name ?? "");
    spec.selector = { matchLabels: { "batch.kubernetes.io/controller-uid": uid } };
    const tmeta = obj(obj(spec, "template"), "metadata");
    const labels = obj(tmeta, "labels");
    def(labels, "controller-uid", uid);
    def(labels, "job-name", name);
    def(labels, "batch.kubernetes.io/controller-uid", uid);
    def(labels, "batch.kubernetes.io/job-name", name);
  }
}

function defaultCronJob(c: Obj) {
  const spec = obj(c, "spec");
  def(spec, "concurrencyPolicy", "Allow");
  def(spec, "suspend", false);
  def(spec, "successfulJobsHistoryLimit", 3);
  def(spec, "failedJobsHistoryLimit", 1);
  const jobSpec = obj(obj(spec, "jobTemplate"), "spec");
  def(jobSpec, "backoffLimit", 6);
  def(jobSpec, "completionMode", "NonIndexed");
  def(jobSpec, "suspend", false);
  defaultTemplate(jobSpec);
}

function defaultService(s: Obj) {
  const spec = obj(s, "spec");
  def(spec, "type", "ClusterIP");
  def(spec, "sessionAffinity", "None");
  if (spec.sessionAffinity === "ClientIP") {
    const cfg = obj(obj(spec, "sessionAffinityConfig"), "clientIP");
    def(cfg, "timeoutSeconds", 10800);
  }
  for (const p of list(spec, "ports")) {
    def(p, "protocol", "TCP");
    def(p, "targetPort", p.port);
  }
  if (spec.type !== "ExternalName") {
    def(spec, "internalTrafficPolicy", "Cluster");
    def(spec, "ipFamilies", ["IPv4"]);
    // A headless Service without a selector may have addresses of every family.
    const headlessNoSelector = spec.clusterIP === "None" && !isObj(spec.selector);
    def(spec, "ipFamilyPolicy", headlessNoSelector ? "RequireDualStack" : "SingleStack");
  }
  if (spec.type === "NodePort" || spec.type === "LoadBalancer") def(spec, "externalTrafficPolicy", "Cluster");
  if (spec.type === "LoadBalancer") def(spec, "allocateLoadBalancerNodePorts", true);
}

function defaultNamespace(n: Obj) {
  const meta = obj(n, "metadata");
  if (typeof meta.name === "string") def(obj(meta, "labels"), "kubernetes.io/metadata.name", meta.name);
  def(obj(n, "spec"), "finalizers", ["kubernetes"]);
  def(obj(n, "status"), "phase", "Active");
}

function defaultEndpoints(e: Obj) {
  for (const subset of list(e, "subsets")) for (const p of list(subset, "ports")) def(p, "protocol", "TCP");
}

function defaultEndpointSlice(e: Obj) {
  for (const p of list(e, "ports")) def(p, "protocol", "TCP");
}

function defaultPvc(p: Obj) {
  def(obj(p, "spec"), "volumeMode", "Filesystem");
}

function defaultPv(p: Obj) {
  const spec = obj(p, "spec");
  def(spec, "persistentVolumeReclaimPolicy", "Retain");
  def(spec, "volumeMode", "Filesystem");
}

function defaultStorageClass(c: Obj) {
  def(c, "reclaimPolicy", "Delete");
  def(c, "volumeBindingMode", "Immediate");
}

function defaultCsiDriver(d: Obj) {
  const spec = obj(d, "spec");
  def(spec, "attachRequired", true);
  def(spec, "podInfoOnMount", false);
  def(spec, "storageCapacity", false);
  def(spec, "fsGroupPolicy", "ReadWriteOnceWithFSType");
  def(spec, "requiresRepublish", false);
  def(spec, "seLinuxMount", false);
  if (!Array.isArray(spec.volumeLifecycleModes)) spec.volumeLifecycleModes = ["Persistent"];
}

const BY_KIND: Record<string, (o: Obj) => void> = {
  "/Pod": defaultPod,
  "/PodTemplate": (o) => defaultPodSpec(obj(obj(o, "template"), "spec")),
  "/ReplicationController": (o) => {
    const spec = obj(o, "spec");
    def(spec, "replicas", 1);
    defaultTemplate(spec);
  },
  "/Service": defaultService,
  "/Namespace": defaultNamespace,
  "/Secret": (o) => def(o, "type", "Opaque"),
  "/Endpoints": defaultEndpoints,
  "/PersistentVolumeClaim": defaultPvc,
  "/PersistentVolume": defaultPv,
  "storage.k8s.io/StorageClass": defaultStorageClass,
  "storage.k8s.io/CSIDriver": defaultCsiDriver,
  "apps/Deployment": defaultDeployment,
  "apps/ReplicaSet": (o) => {
    const spec = obj(o, "spec");
    def(spec, "replicas", 1);
    defaultTemplate(spec);
  },
  "apps/StatefulSet": defaultStatefulSet,
  "apps/DaemonSet": defaultDaemonSet,
  "batch/Job": defaultJob,
  "batch/CronJob": defaultCronJob,
  "discovery.k8s.io/EndpointSlice": defaultEndpointSlice,
};

export function applyDefaults(gvk: GVK, o: KubeObject): KubeObject {
  BY_KIND[`${gvk.group}/${gvk.kind}`]?.(o as Obj);
  return o;
}
