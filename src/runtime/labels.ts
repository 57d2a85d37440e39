/** The labels every container Berth creates carries (how Berth finds its containers again after a restart). */
export const LABEL = {
  managed: "berth.managed",
  instance: "berth.instance",
  store: "berth.store",
  dataDir: "berth.data-dir",
  taskArn: "berth.task-arn",
  account: "berth.account",
  region: "berth.region",
  container: "berth.container",
} as const;

/** The labels of the containers the kubelet runs for Kubernetes pods (with LABEL.dataDir, LABEL.account, LABEL.region). */
export const KUBE_LABEL = {
  /** "pod": a pod's container or sandbox. */
  kind: "berth.kube",
  /** `<account>/<region>/<cluster name>` */
  cluster: "berth.kube.cluster",
  namespace: "berth.kube.namespace",
  pod: "berth.kube.pod",
  uid: "berth.kube.uid",
  /** The pod container's name, or "POD" for the sandbox. */
  container: "berth.kube.container",
  init: "berth.kube.init",
  /** The container's start number (its restartCount). */
  attempt: "berth.kube.attempt",
  /** The start the crash back-off counts from (reset after a long run). */
  backoffBase: "berth.kube.backoff-base",
} as const;
