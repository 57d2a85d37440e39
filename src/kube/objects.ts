import { uuid } from "../core/ids.js";
import { type DocumentStore, RevisionConflict } from "../store/documents.js";
import type { Change, Watch } from "../store/watch.js";
import { KubeError, kubeErrors } from "./errors.js";
import { type ClusterRef, type KubeObject, type ResourceType, storeKindOf, type WatchEvent } from "./types.js";

/**
 * Kubernetes objects on Berth's store: one code path for every kind. The resourceVersion is the
 * store revision of the object's last write; watch is the store's change log read from a
 * resourceVersion. The API server and the Kubernetes controllers both read and write through this,
 * so object semantics (uid, generation, graceful deletion, finalizers) live in one place.
 */
export class ObjectStore {
  constructor(private readonly store: DocumentStore) {}

  get(cluster: ClusterRef, type: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    const v = this.col(type).getVersioned(cluster.scope, idOf(cluster, type, namespace, name));
    return v && withVersion(v.doc.o, v.rev);
  }

  /** Every object of a resource in the cluster (in one namespace when given), and the list's resourceVersion. */
  list(cluster: ClusterRef, type: ResourceType, namespace?: string): { items: KubeObject[]; resourceVersion: string } {
    return this.store.transaction(() => {
      const head = this.store.head();
      const col = this.col(type);
      const rows =
        type.namespaced && namespace !== undefined
          ? col.children(cluster.scope, `${cluster.name}/${namespace}`)
          : col.list(cluster.scope).filter((d) => d.c === cluster.name);
      const items = rows.map((d) => withVersion(d.o, d.rv)).sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
      return { items, resourceVersion: String(head) };
    });
  }

  /** Creates an object: uid, creationTimestamp, generation 1, a name from generateName. */
  create(cluster: ClusterRef, type: ResourceType, obj: KubeObject, opts: { dryRun?: boolean } = {}): KubeObject {
    const meta = { ...obj.metadata };
    if (!meta.name && meta.generateName) meta.name = `${meta.generateName}${randomSuffix()}`;
    if (!meta.name)
      throw kubeErrors.invalid(type.group, type.kind, "", [
        {
          field: "metadata.name",
          reason: "FieldValueRequired",
          message: "Required value: name or generateName is required",
        },
      ]);
    const namespace = type.namespaced ? (meta.namespace ?? "default") : undefined;
    const created: KubeObject = {
      ...obj,
      metadata: {
        ...meta,
        ...(namespace !== undefined ? { namespace } : {}),
        uid: uuid(),
        generation: 1,
        creationTimestamp: nowRfc3339(),
        resourceVersion: undefined,
        deletionTimestamp: undefined,
      },
    };
    stripUndefined(created.metadata);
    if (opts.dryRun) {
      if (this.get(cluster, type, namespace, meta.name))
        throw kubeErrors.alreadyExists(type.group, type.resource, meta.name);
      return created;
    }
    try {
      const rev = this.write(cluster, type, created, "create", 0);
      return withVersion(created, rev);
    } catch (e) {
      if (e instanceof RevisionConflict) throw kubeErrors.alreadyExists(type.group, type.resource, meta.name);
      throw e;
    }
  }

  /**
   * Replaces an object. With metadata.resourceVersion set the write is conditional (409 Conflict
   * when stale), as kube-apiserver's update. `subresource: "status"` takes only the status; a main
   * update of a kind with a status subresource keeps the stored status. generation goes up when
   * anything but metadata and status changes. Removing the last finalizer of an object being
   * deleted removes it.
   */
  update(
    cluster: ClusterRef,
    type: ResourceType,
    obj: KubeObject,
    opts: { subresource?: "status"; dryRun?: boolean } = {},
  ): KubeObject {
    const name = obj.metadata.name ?? "";
    const namespace = type.namespaced ? (obj.metadata.namespace ?? "default") : undefined;
    return this.store.transaction(() => {
      const id = idOf(cluster, type, namespace, name);
      const stored = this.col(type).getVersioned(cluster.scope, id);
      if (!stored) throw kubeErrors.notFound(type.group, type.resource, name);
      const expect = obj.metadata.resourceVersion;
      if (expect !== undefined && expect !== "" && Number(expect) !== stored.rev) {
        throw kubeErrors.conflict(
          type.group,
          type.resource,
          name,
          "the object has been modified; please apply your changes to the latest version and try again",
        );
      }
      const old = stored.doc.o;
      const next = merged(type, old, obj, opts.subresource);
      if (
        next.metadata.deletionTimestamp &&
        (next.metadata.finalizers ?? []).length === 0 &&
        !type.graceful &&
        specFinalizers(type, next).length === 0
      ) {
        if (!opts.dryRun) this.col(type).delete(cluster.scope, id, { expect: stored.rev });
        return withVersion(next, stored.rev);
      }
      if (opts.dryRun) return withVersion(next, stored.rev);
      const rev = this.write(cluster, type, next, "update", stored.rev);
      return withVersion(next, rev);
    });
  }

  /**
   * Read-modify-write for controllers: fn gets the current object and returns the new one (or
   * undefined to leave it); a concurrent write makes it read again (a few times).
   */
  mutate(
    cluster: ClusterRef,
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    fn: (current: KubeObject) => KubeObject | undefined,
    opts: { subresource?: "status" } = {},
  ): KubeObject | undefined {
    for (let attempt = 0; ; attempt++) {
      const current = this.get(cluster, type, namespace, name);
      if (!current) return undefined;
      const next = fn(structuredClone(current));
      if (!next) return current;
      try {
        return this.update(
          cluster,
          type,
          { ...next, metadata: { ...next.metadata, resourceVersion: current.metadata.resourceVersion } },
          opts,
        );
      } catch (e) {
        if (!(e instanceof KubeError && e.reason === "Conflict") || attempt >= 5) throw e;
      }
    }
  }

  /**
   * Deletes an object as kube-apiserver does: with finalizers it is only marked (deletionTimestamp)
   * until they are gone; a graceful kind (pods) bound to a node is marked with its grace period and
   * removed by its kubelet; otherwise it is removed now. Returns the object as deleted or marked.
   */
  delete(
    cluster: ClusterRef,
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    opts: {
      gracePeriodSeconds?: number;
      uid?: string;
      resourceVersion?: string;
      dryRun?: boolean;
      finalizers?: string[];
    } = {},
  ): { object: KubeObject; removed: boolean } {
    const ns = type.namespaced ? (namespace ?? "default") : undefined;
    return this.store.transaction(() => {
      const id = idOf(cluster, type, ns, name);
      const stored = this.col(type).getVersioned(cluster.scope, id);
      if (!stored) throw kubeErrors.notFound(type.group, type.resource, name);
      const obj = stored.doc.o;
      if (opts.uid && opts.uid !== obj.metadata.uid) {
        throw kubeErrors.conflict(
          type.group,
          type.resource,
          name,
          `Precondition failed: UID in precondition: ${opts.uid}, UID in object meta: ${obj.metadata.uid}`,
        );
      }
      if (opts.resourceVersion && Number(opts.resourceVersion) !== stored.rev) {
        throw kubeErrors.conflict(
          type.group,
          type.resource,
          name,
          `Precondition failed: ResourceVersion in precondition: ${opts.resourceVersion}, ResourceVersion in object meta: ${stored.rev}`,
        );
      }
      const finalizers = [...new Set([...(obj.metadata.finalizers ?? []), ...(opts.finalizers ?? [])])];
      const grace = type.graceful ? gracePeriodOf(obj, opts.gracePeriodSeconds) : 0;
      // A namespace with spec.finalizers is only marked Terminating: the namespace controller empties it.
      const nsFinalizers = specFinalizers(type, obj);
      const mark = finalizers.length > 0 || grace > 0 || nsFinalizers.length > 0;
      if (!mark) {
        if (!opts.dryRun) this.col(type).delete(cluster.scope, id, { expect: stored.rev });
        return { object: withVersion(obj, stored.rev), removed: true };
      }
      if (obj.metadata.deletionTimestamp && !opts.finalizers?.length)
        return { object: withVersion(obj, stored.rev), removed: false };
      const marked: KubeObject = {
        ...obj,
        metadata: {
          ...obj.metadata,
          finalizers: finalizers.length ? finalizers : undefined,
          deletionTimestamp: obj.metadata.deletionTimestamp ?? nowRfc3339(Date.now() + grace * 1000),
          deletionGracePeriodSeconds: grace,
        },
      };
      stripUndefined(marked.metadata);
      if (nsFinalizers.length) marked.status = { ...((obj.status as object | undefined) ?? {}), phase: "Terminating" };
      if (opts.dryRun) return { object: withVersion(marked, stored.rev), removed: false };
      const rev = this.write(cluster, type, marked, "update", stored.rev);
      return { object: withVersion(marked, rev), removed: false };
    });
  }

  /**
   * Watch events after a resourceVersion (0 or undefined: from now), for one resource (or, with
   * `type` undefined, every resource) of a cluster. `onGone` is called when that version was
   * compacted away (the client must relist: 410 Expired).
   */
  watch(
    cluster: ClusterRef,
    types: ResourceType[] | undefined,
    opts: { namespace?: string; from?: number; onGone?: () => void },
    handler: (events: WatchEvent[], position: number) => void | Promise<void>,
  ): Watch {
    const kinds = types?.map(storeKindOf);
    return this.store.watch(
      {
        from: opts.from || undefined,
        kinds: kinds ?? ((k) => k.startsWith("k8s.")),
        onCompacted: opts.onGone,
      },
      async (changes: Change[]) => {
        const events: WatchEvent[] = [];
        for (const c of changes) {
          const doc = c.doc as Stored;
          if (doc.c !== cluster.name || c.account !== cluster.scope.account || c.region !== cluster.scope.region)
            continue;
          if (opts.namespace !== undefined && doc.o.metadata.namespace !== opts.namespace) continue;
          const object = withVersion(doc.o, c.seq);
          events.push({ type: c.op === "delete" ? "DELETED" : doc.op === "create" ? "ADDED" : "MODIFIED", object });
        }
        const position = changes.at(-1)?.seq ?? 0;
        if (events.length) await handler(events, position);
      },
    );
  }

  /** Removes every object of these resources in a cluster at once (the cluster itself was deleted). */
  purge(cluster: ClusterRef, types: readonly ResourceType[]): number {
    return this.store.transaction(() => {
      let n = 0;
      for (const type of types) {
        const col = this.col(type);
        for (const d of col.list(cluster.scope).filter((x) => x.c === cluster.name)) {
          col.delete(cluster.scope, idOf(cluster, type, d.o.metadata.namespace, d.o.metadata.name ?? ""));
          n++;
        }
      }
      return n;
    });
  }

  /** The store's newest revision: a list or watch "from now" position. */
  head(): number {
    return this.store.head();
  }

  /** Runs fn in one store transaction (several writes that must land together). */
  transaction<T>(fn: () => T): T {
    return this.store.transaction(fn);
  }

  private write(cluster: ClusterRef, type: ResourceType, obj: KubeObject, op: Stored["op"], expect: number): number {
    const { resourceVersion: _rv, ...metadata } = obj.metadata;
    return this.col(type).putVersioned(cluster.scope, { c: cluster.name, op, o: { ...obj, metadata } }, { expect });
  }

  private readonly cols = new Map<string, ReturnType<typeof collectionOf>>();
  private col(type: ResourceType) {
    const kind = storeKindOf(type);
    let col = this.cols.get(kind);
    if (!col) {
      col = collectionOf(this.store, kind, type);
      this.cols.set(kind, col);
    }
    return col;
  }
}

/** What the store holds for one object: its cluster, whether this write created it, the object. */
interface Stored {
  c: string;
  op: "create" | "update";
  o: KubeObject;
  /** Filled on read from the row's revision (never stored). */
  rv?: number;
}

function collectionOf(store: DocumentStore, kind: string, type: ResourceType) {
  const col = store.collection<Stored>(kind, {
    id: (d) => idOf({ name: d.c }, type, d.o.metadata.namespace, d.o.metadata.name ?? ""),
    parent: (d) => `${d.c}/${d.o.metadata.namespace ?? ""}`,
  });
  // Listed documents carry their row's revision (their resourceVersion).
  const withRev = ({ doc, rev }: { doc: Stored; rev: number }): Stored => ({ ...doc, rv: rev });
  return {
    getVersioned: col.getVersioned.bind(col),
    putVersioned: col.putVersioned.bind(col),
    delete: col.delete.bind(col),
    list: (scope: ClusterRef["scope"]) => col.listVersioned(scope).map(withRev),
    children: (scope: ClusterRef["scope"], parent: string) => col.childrenVersioned(scope, parent).map(withRev),
  };
}

const idOf = (cluster: Pick<ClusterRef, "name">, type: ResourceType, namespace: string | undefined, name: string) =>
  `${cluster.name}/${type.namespaced ? (namespace ?? "default") : ""}/${name}`;

const keyOf = (o: KubeObject) => `${o.metadata.namespace ?? ""}/${o.metadata.name ?? ""}`;

const withVersion = (o: KubeObject, rev: number | undefined): KubeObject => ({
  ...o,
  metadata: { ...o.metadata, resourceVersion: String(rev ?? 0) },
});

/** The object an update stores: identity and bookkeeping from the stored one, the rest from the request. */
function merged(type: ResourceType, old: KubeObject, req: KubeObject, subresource?: "status"): KubeObject {
  if (subresource === "status") {
    return { ...old, status: req.status, metadata: { ...old.metadata } };
  }
  const next: KubeObject = {
    ...req,
    apiVersion: req.apiVersion ?? old.apiVersion,
    kind: req.kind ?? old.kind,
    metadata: {
      ...req.metadata,
      name: old.metadata.name,
      namespace: old.metadata.namespace,
      uid: old.metadata.uid,
      creationTimestamp: old.metadata.creationTimestamp,
      generation: old.metadata.generation,
      deletionTimestamp: old.metadata.deletionTimestamp,
      deletionGracePeriodSeconds: old.metadata.deletionGracePeriodSeconds,
    },
  };
  if (type.status) {
    if (old.status === undefined) delete next.status;
    else next.status = old.status;
  }
  if (specChanged(old, next)) next.metadata.generation = (old.metadata.generation ?? 1) + 1;
  stripUndefined(next.metadata);
  return next;
}

function specChanged(a: KubeObject, b: KubeObject): boolean {
  const body = (o: KubeObject) => {
    const { metadata: _m, status: _s, ...rest } = o;
    return JSON.stringify(rest);
  };
  return body(a) !== body(b);
}

/** A namespace's spec.finalizers ("kubernetes"): they hold its deletion as metadata.finalizers do (kube's ShouldDeleteNamespaceDuringUpdate). */
function specFinalizers(type: ResourceType, obj: KubeObject): string[] {
  if (type.group !== "" || type.resource !== "namespaces") return [];
  return ((obj.spec as { finalizers?: string[] } | undefined)?.finalizers ?? []) as string[];
}

function gracePeriodOf(obj: KubeObject, requested: number | undefined): number {
  const spec = obj.spec as { nodeName?: string; terminationGracePeriodSeconds?: number } | undefined;
  // A pod no kubelet runs yet (unscheduled) goes at once, as kube-apiserver does.
  if (!spec?.nodeName) return 0;
  const phase = (obj.status as { phase?: string } | undefined)?.phase;
  if (phase === "Succeeded" || phase === "Failed") return 0;
  return Math.max(0, requested ?? spec.terminationGracePeriodSeconds ?? 30);
}

function stripUndefined(o: Record<string, unknown>) {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
}

export const nowRfc3339 = (ms = Date.now()) => `${new Date(ms).toISOString().slice(0, 19)}Z`;

const SUFFIX = "bcdfghjklmnpqrstvwxz2456789";
/** Five characters from kube's alphabet (no vowels, no look-alikes), as generateName gets. */
export function randomSuffix(n = 5): string {
  let s = "";
  for (let i = 0; i < n; i++) s += SUFFIX[Math.floor(Math.random() * SUFFIX.length)];
  return s;
}
