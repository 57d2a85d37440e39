/**
 * watch: a chunked stream of JSON watch events from the store's change log. resourceVersion unset
 * or "0" starts with the current objects as ADDED (then what follows); a specific one streams
 * what changed after it, or — compacted away — an ERROR event with a 410 Expired Status.
 * Selectors apply to events as in kube-apiserver (an object leaving the selection is DELETED, one
 * entering it ADDED); allowWatchBookmarks gives periodic BOOKMARKs; timeoutSeconds ends the stream.
 */
import { KubeError, kubeErrors } from "../kube/errors.js";
import type { KubeObject, WatchEventType } from "../kube/types.js";
import type { Call } from "./context.js";
import { wantsTable } from "./http.js";
import { includeObjectOf, listMatching, typed } from "./read.js";
import { type Filter, matchesFilter, parseFilter } from "./selectors.js";
import { toTable } from "./tables.js";

export interface WatchDecision {
  type: WatchEventType;
  object: KubeObject;
}

/**
 * What a filtered watch sends for one change, given whether the object matched before (undefined:
 * not known, the watch began after it was last seen). PURE; updates `matched`.
 */
export function filterEvent(
  filter: Filter,
  matched: Map<string, boolean>,
  type: WatchEventType,
  object: KubeObject,
): WatchEventType | undefined {
  const key = `${object.metadata.namespace ?? ""}/${object.metadata.name ?? ""}`;
  const prev = matched.get(key);
  const now = matchesFilter(filter, object);
  if (type === "DELETED") {
    matched.delete(key);
    return now || prev ? "DELETED" : undefined;
  }
  if (now) {
    matched.set(key, true);
    return prev === false ? "ADDED" : type;
  }
  matched.set(key, false);
  return prev ? "DELETED" : undefined;
}

export async function handleWatch(c: Call): Promise<void> {
  const filter = parseFilter(c.query, c.type);
  if (c.info.name && !c.query.get("fieldSelector"))
    filter.fields.push({ field: "metadata.name", op: "=", value: c.info.name });
  const rvParam = c.query.get("resourceVersion") ?? "";
  const sendInitial = c.query.get("sendInitialEvents") === "true";
  if (rvParam !== "" && !/^\d+$/.test(rvParam)) throw kubeErrors.badRequest(`invalid resource version: ${rvParam}`);
  const timeout = c.query.get("timeoutSeconds");
  const timeoutMs =
    timeout !== null && timeout !== ""
      ? Number(timeout) * 1000
      : (c.deps.maxWatchMs ?? (30 + Math.random() * 30) * 60_000);
  if (!Number.isFinite(timeoutMs) || timeoutMs < 0) throw kubeErrors.badRequest(`invalid timeoutSeconds: ${timeout}`);
  const bookmarks = c.query.get("allowWatchBookmarks") === "true";
  const table = wantsTable(c.req.headers.accept);
  const includeObject = includeObjectOf(c.query);

  let from: number;
  let initial: KubeObject[] = [];
  if (rvParam === "" || rvParam === "0" || sendInitial) {
    const l = listMatching({ ...c, query: withoutPaging(c.query) });
    initial = l.items.filter((o) => matchesFilter(filter, o));
    from = Number(l.resourceVersion);
  } else from = Number(rvParam);

  const res = c.res;
  res.writeHead(200, {
    "content-type": table ? "application/json;as=Table;v=v1;g=meta.k8s.io" : "application/json",
    "cache-control": "no-cache, private",
    "transfer-encoding": "chunked",
  });
  res.flushHeaders();

  let done = false;
  let resolveDone!: () => void;
  const finished = new Promise<void>((r) => {
    resolveDone = r;
  });
  const write = (type: WatchEventType, object: unknown) => {
    if (done) return true;
    return res.write(`${JSON.stringify({ type, object })}\n`);
  };
  const render = (o: KubeObject) => (table ? toTable(c.type, [o], { includeObject }) : o);
  const bookmark = (rv: number, extra: Record<string, string> = {}) =>
    write("BOOKMARK", {
      kind: c.type.kind,
      apiVersion: c.type.group ? `${c.type.group}/${c.type.version}` : c.type.version,
      metadata: { resourceVersion: String(rv), ...(Object.keys(extra).length ? { annotations: extra } : {}) },
    });

  const matched = new Map<string, boolean>();
  for (const o of initial) {
    matched.set(`${o.metadata.namespace ?? ""}/${o.metadata.name ?? ""}`, true);
    write("ADDED", render(o));
  }
  if (sendInitial && bookmarks) bookmark(from, { "k8s.io/initial-events-end": "true" });

  let lastRv = from;
  const finish = () => {
    if (done) return;
    done = true;
    watch?.stop();
    clearTimeout(timer);
    clearInterval(ticker);
    res.end();
    resolveDone();
  };
  const oldest = () => from;
  const watch = c.deps.objects.watch(
    c.cluster,
    [c.type],
    {
      namespace: c.type.namespaced ? c.info.namespace : undefined,
      from: from || c.deps.objects.head(),
      onGone: () => {
        const err = new KubeError(410, "Expired", `too old resource version: ${oldest()} (${c.deps.objects.head()})`);
        write("ERROR", err.toStatus());
        setImmediate(finish);
      },
    },
    async (events, position) => {
      if (done) return;
      let ok = true;
      for (const e of events) {
        const obj = typed(c, e.object);
        const t = filterEvent(filter, matched, e.type, obj);
        if (t) ok = write(t, render(obj)) && ok;
      }
      lastRv = position;
      if (!ok && !done) await new Promise<void>((r) => res.once("drain", r));
    },
  );
  const timer = setTimeout(finish, timeoutMs);
  const ticker = setInterval(() => {
    if (bookmarks) bookmark(Math.max(lastRv, watch.position()));
  }, c.deps.bookmarkEveryMs ?? 60_000);
  timer.unref?.();
  ticker.unref?.();
  c.req.on("close", finish);
  res.on("close", finish);
  await finished;
}

function withoutPaging(q: URLSearchParams): URLSearchParams {
  const out = new URLSearchParams(q);
  out.delete("limit");
  out.delete("continue");
  return out;
}
