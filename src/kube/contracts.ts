/**
 * The seams between the parts of Berth's Kubernetes: the API server (src/kube-api), the EKS
 * service (src/services/eks), the Kubernetes controllers and kubelet (src/controllers/kube), and the
 * pod network. Each side depends on these interfaces only; services/eks/module.ts composes them.
 */
import type { ClusterRef, KubeObject } from "./types.js";

/** Who a request is, after authentication (as kube-apiserver's user.Info). */
export interface UserInfo {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

/** Turns a bearer token into a user; undefined (or a throw) means 401 Unauthorized. */
export interface Authenticator {
  authenticate(cluster: ClusterRef, token: string): Promise<UserInfo | undefined>;
}

/** What a request asks to do (kube-apiserver's authorizer.Attributes). */
export interface RequestAttributes {
  verb: string;
  /** Resource requests: */
  apiGroup?: string;
  resource?: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  /** Non-resource requests (/version, /healthz, /api, …): the URL path. */
  path?: string;
  resourceRequest: boolean;
}

export interface AuthorizationDecision {
  allowed: boolean;
  /** Why (allowed: what granted it; denied: kube-apiserver's RBAC reason text). */
  reason: string;
}

export interface Authorizer {
  authorize(cluster: ClusterRef, user: UserInfo, attrs: RequestAttributes): AuthorizationDecision;
}

/** What the API server serves a cluster with: its listener and TLS identity. */
export interface ClusterEndpoint {
  cluster: ClusterRef;
  host: string;
  port: number;
  /** PEM server certificate (signed by the cluster CA) and key. */
  certPem: string;
  keyPem: string;
  caPem: string;
  /**
   * More addresses to listen on at the same port, for in-cluster clients: the pod network's
   * gateway, so pods reach the API (these listeners also accept minimal TLS clients like busybox's).
   */
  alsoOn?: string[];
}

/** The API server side: one HTTPS listener per cluster. */
export interface KubeApiEndpoints {
  serve(endpoint: ClusterEndpoint): Promise<void>;
  close(cluster: ClusterRef): Promise<void>;
}

export interface PodLogOptions {
  container?: string;
  follow?: boolean;
  previous?: boolean;
  tailLines?: number;
  sinceSeconds?: number;
  timestamps?: boolean;
  limitBytes?: number;
}

/** The kubelet side of `pods/log`: a pod container's output as a stream of chunks. */
export interface PodLogs {
  logs(
    cluster: ClusterRef,
    namespace: string,
    pod: string,
    opts: PodLogOptions,
    signal: AbortSignal,
  ): AsyncIterable<Buffer>;
}

/** The kubelet side of `pods/exec` (and attach): a process in a pod container with its streams. */
export interface PodExec {
  exec(
    cluster: ClusterRef,
    namespace: string,
    pod: string,
    opts: { container?: string; command: string[]; stdin: boolean; stdout: boolean; stderr: boolean; tty: boolean },
  ): Promise<ExecSession>;
  /** pods/attach: the streams of the container's main process (command is empty). Optional. */
  attach?(
    cluster: ClusterRef,
    namespace: string,
    pod: string,
    opts: { container?: string; command: string[]; stdin: boolean; stdout: boolean; stderr: boolean; tty: boolean },
  ): Promise<ExecSession>;
}

export interface ExecSession {
  stdin?: NodeJS.WritableStream;
  stdout?: NodeJS.ReadableStream;
  stderr?: NodeJS.ReadableStream;
  resize?(cols: number, rows: number): void;
  /** Resolves with the exit code once the process ended. */
  exit: Promise<number>;
}

/** Where a cluster's pods are attached and how they resolve names: the pod network's answer to the kubelet. */
export interface PodNetworking {
  /** Makes sure the cluster's pod network exists; returns what a pod sandbox is created with. */
  prepare(cluster: ClusterRef): Promise<PodNetworkConfig>;
}

export interface PodNetworkConfig {
  /** Docker network the pod sandbox (pause container) joins. */
  dockerNetwork: string;
  /** resolv.conf of the pod: cluster DNS first. */
  dns: { nameservers: string[]; searches: (namespace: string) => string[]; options: string[] };
}

/**
 * Mutating admission: runs on create and update before validation and the write (defaults, a
 * Service's clusterIP and nodePort, …). Returns the object to store; throws KubeError to refuse.
 */
export interface Admission {
  admit(
    cluster: ClusterRef,
    op: "create" | "update",
    type: import("./types.js").ResourceType,
    obj: import("./types.js").KubeObject,
    old?: import("./types.js").KubeObject,
  ): import("./types.js").KubeObject;
}

/** The TokenRequest API (serviceaccounts/token) and OIDC discovery of a cluster's service account issuer. */
export interface ServiceAccountTokenIssuer {
  /** Answers a TokenRequest for a service account (the TokenRequest object with status.token); throws KubeError. */
  request(
    cluster: ClusterRef,
    namespace: string,
    serviceAccount: string,
    body: Record<string, unknown>,
    opts: { dryRun: boolean },
  ): KubeObject;
  /** /.well-known/openid-configuration and /openid/v1/jwks (undefined: the cluster has no issuer). */
  discovery(cluster: ClusterRef): { configuration: unknown; jwks: unknown } | undefined;
}
