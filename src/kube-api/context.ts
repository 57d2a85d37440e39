/** What every handler of the API server is given: the dependencies, and one request's context. */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "../core/logger.js";
import type {
  Admission,
  Authenticator,
  Authorizer,
  PodExec,
  PodLogs,
  ServiceAccountTokenIssuer,
  UserInfo,
} from "../kube/contracts.js";
import type { ObjectStore } from "../kube/objects.js";
import type { ClusterRef, ResourceType } from "../kube/types.js";
import type { RequestInfo } from "./request-info.js";

/** /version's fields (kube's version.Info); unset fields take EKS-like defaults. */
export interface VersionInfo {
  major: string;
  minor: string;
  gitVersion: string;
  gitCommit: string;
  gitTreeState: string;
  buildDate: string;
  goVersion: string;
  compiler: string;
  platform: string;
}

export interface KubeApiDeps {
  objects: ObjectStore;
  authenticator: Authenticator;
  authorizer: Authorizer;
  /** Mutating admission, run in order on create and update before validation and the write. */
  admission?: Admission[];
  logs?: PodLogs;
  exec?: PodExec;
  /** serviceaccounts/token and OIDC discovery (none: 404). */
  tokens?: ServiceAccountTokenIssuer;
  logger: Logger;
  /** /version: fixed fields, or per cluster (its Kubernetes version). */
  version?: Partial<VersionInfo> | ((cluster: ClusterRef) => Partial<VersionInfo>);
  /** The resources served (default: the built-in table). */
  resources?: readonly ResourceType[];
  /** How often a watch with allowWatchBookmarks gets a BOOKMARK (ms; default 60 s, as kube-apiserver). */
  bookmarkEveryMs?: number;
  /** The longest a watch without timeoutSeconds stays open (ms; default 30–60 min as kube-apiserver's min-request-timeout). */
  maxWatchMs?: number;
}

export interface Call {
  deps: KubeApiDeps;
  cluster: ClusterRef;
  user: UserInfo;
  info: RequestInfo;
  query: URLSearchParams;
  req: IncomingMessage;
  res: ServerResponse;
  /** The resource addressed (resource requests). */
  type: ResourceType;
}
