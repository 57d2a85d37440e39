import type { Scope } from "../core/ids.js";

/** The cluster a Kubernetes object belongs to: an EKS cluster's name in its account and region. */
export interface ClusterRef {
  scope: Scope;
  name: string;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  managedFields?: unknown[];
  [key: string]: unknown;
}

/** Any Kubernetes object: typed members are read through the kind's own interface where needed. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}

/**
 * One resource of the API (`pods`, `deployments`): a kind is data — its group/version, names,
 * scope and subresources — not a file of handlers.
 */
export interface ResourceType {
  /** "" for the core group. */
  group: string;
  version: string;
  /** Plural, lower case: the URL segment. */
  resource: string;
  kind: string;
  singular: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  verbs: string[];
  /** Has a /status subresource: spec and status are written separately. */
  status: boolean;
  /** Other subresources served (log, exec, scale, …). */
  subresources?: string[];
  /** Deletion is graceful (pods): deletionTimestamp is set and the kubelet removes the object once stopped. */
  graceful?: boolean;
}

export const apiVersionOf = (t: Pick<ResourceType, "group" | "version">) =>
  t.group ? `${t.group}/${t.version}` : t.version;

/** The store kind that holds objects of one resource (one kind per group/resource, any version). */
export const storeKindOf = (t: Pick<ResourceType, "group" | "resource">) => `k8s.${t.group || "core"}.${t.resource}`;

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";

export interface WatchEvent {
  type: WatchEventType;
  object: KubeObject;
}

/** `<account>/<region>/<name>`: how a cluster is named in labels and maps. */
export const clusterKey = (c: ClusterRef) => `${c.scope.account}/${c.scope.region}/${c.name}`;
