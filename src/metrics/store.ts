import type { Scope } from "../core/ids.js";
import type { Db } from "../store/db.js";
import { type Sample, aggregate, periodStart } from "./statistics.js";

/** A metric's identity: namespace, name and its dimensions (any order; stored sorted by name). */
export interface MetricKey {
  namespace: string;
  name: string;
  dimensions: { Name: string; Value: string }[];
}

/** Canonical text of a dimension set: sorted by name, so the same set is always the same series. */
export const dimensionsKey = (dims: { Name: string; Value: string }[]) =>
  JSON.stringify(
    [...dims].sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0)).map((d) => [d.Name, d.Value]),
  );

const dimensionsOf = (key: string): { Name: string; Value: string }[] =>
  (JSON.parse(key) as [string, string][]).map(([Name, Value]) => ({ Name, Value }));

export interface SeriesInfo {
  key: MetricKey;
  /** Epoch ms of the newest sample. */
  lastTimestamp: number;
}

export interface RetentionPolicy {
  /** Samples older than this are deleted (ms; CloudWatch keeps 1-minute data 15 days). */
  retentionMs: number;
  /** Sub-minute samples older than this are rolled up into 1-minute samples (ms; CloudWatch: 3 hours). */
  highResolutionMs: number;
}

export const DEFAULT_RETENTION: RetentionPolicy = {
  retentionMs: 15 * 24 * 3600 * 1000,
  highResolutionMs: 3 * 3600 * 1000,
};

type PointRow = {
  ts: number;
  unit: string;
  count: number;
  sum: number;
  min: number;
  max: number;
  vals: string | null;
};

const toSample = (r: PointRow): Sample => ({
  timestamp: r.ts,
  unit: r.unit,
  count: r.count,
  sum: r.sum,
  min: r.min,
  max: r.max,
  values: r.vals ? (JSON.parse(r.vals) as [number, number][]) : undefined,
});

/**
 * Metric samples in SQLite: one row per sample, indexed by series and time, plus a series table
 * (ListMetrics). Durable like every other Berth resource. Retention is bounded: sub-minute
 * samples roll up into 1-minute ones after `highResolutionMs`, everything goes after `retentionMs`.
 */
export class MetricStore {
  private readonly stmts;

  constructor(
    private readonly db: Db,
    readonly retention: RetentionPolicy = DEFAULT_RETENTION,
  ) {
    this.stmts = {
      insert: db.prepare(
        `INSERT INTO metric_points (account, region, namespace, name, dims, ts, unit, count, sum, min, max, vals, hires)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      series: db.prepare(
        `INSERT INTO metric_series (account, region, namespace, name, dims, last_ts) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (account, region, namespace, name, dims) DO UPDATE SET last_ts = CASE WHEN excluded.last_ts > metric_series.last_ts THEN excluded.last_ts ELSE metric_series.last_ts END`,
      ),
      query: db.prepare(
        `SELECT ts, unit, count, sum, min, max, vals FROM metric_points
         WHERE account = ? AND region = ? AND namespace = ? AND name = ? AND dims = ? AND ts >= ? AND ts < ? ORDER BY ts`,
      ),
      list: db.prepare(
        "SELECT namespace, name, dims, last_ts FROM metric_series WHERE account = ? AND region = ? AND last_ts >= ? ORDER BY namespace, name, dims",
      ),
      expire: db.prepare("DELETE FROM metric_points WHERE ts < ?"),
      expireSeries: db.prepare("DELETE FROM metric_series WHERE last_ts < ?"),
      hires: db.prepare(
        `SELECT id, account, region, namespace, name, dims, ts, unit, count, sum, min, max, vals
         FROM metric_points WHERE hires = 1 AND ts < ? ORDER BY account, region, namespace, name, dims, ts LIMIT ?`,
      ),
      remove: db.prepare("DELETE FROM metric_points WHERE id = ?"),
    };
  }

  /** Stores samples of one series. `highResolution`: kept at full resolution (StorageResolution 1). */
  put(scope: Scope, key: MetricKey, samples: Sample[], highResolution: boolean) {
    if (samples.length === 0) return;
    const dims = dimensionsKey(key.dimensions);
    this.db.transaction(() => {
      let last = Number.NEGATIVE_INFINITY;
      for (const s of samples) {
        this.stmts.insert.run(
          scope.account,
          scope.region,
          key.namespace,
          key.name,
          dims,
          s.timestamp,
          s.unit,
          s.count,
          s.sum,
          s.min,
          s.max,
          s.values ? JSON.stringify(s.values) : null,
          highResolution ? 1 : 0,
        );
        last = Math.max(last, s.timestamp);
      }
      this.stmts.series.run(scope.account, scope.region, key.namespace, key.name, dims, last);
    })();
  }

  /** Samples of one series (exact dimension set) with timestamps in [fromMs, toMs). */
  query(scope: Scope, key: MetricKey, fromMs: number, toMs: number): Sample[] {
    return (
      this.stmts.query.all(
        scope.account,
        scope.region,
        key.namespace,
        key.name,
        dimensionsKey(key.dimensions),
        fromMs,
        toMs,
      ) as PointRow[]
    ).map(toSample);
  }

  /** Series with a sample at or after `sinceMs`. */
  listSeries(scope: Scope, sinceMs: number): SeriesInfo[] {
    return (
      this.stmts.list.all(scope.account, scope.region, sinceMs) as {
        namespace: string;
        name: string;
        dims: string;
        last_ts: number;
      }[]
    ).map((r) => ({
      key: { namespace: r.namespace, name: r.name, dimensions: dimensionsOf(r.dims) },
      lastTimestamp: r.last_ts,
    }));
  }

  /** Applies the retention policy once; returns how many rows were deleted or rolled up. */
  sweep(nowMs: number, batch = 5000): number {
    const { retentionMs, highResolutionMs } = this.retention;
    let changed = 0;
    this.db.transaction(() => {
      changed += this.stmts.expire.run(nowMs - retentionMs).changes;
      this.stmts.expireSeries.run(nowMs - retentionMs);
      const rows = this.stmts.hires.all(nowMs - highResolutionMs, batch) as (PointRow & {
        id: number;
        account: string;
        region: string;
        namespace: string;
        name: string;
        dims: string;
      })[];
      const groups = new Map<string, typeof rows>();
      for (const r of rows) {
        const k = JSON.stringify([r.account, r.region, r.namespace, r.name, r.dims, r.unit, periodStart(r.ts, 60)]);
        let list = groups.get(k);
        if (!list) {
          list = [];
          groups.set(k, list);
        }
        list.push(r);
      }
      for (const [k, list] of groups) {
        const [account, region, namespace, name, dims, unit, minute] = JSON.parse(k) as [
          string,
          string,
          string,
          string,
          string,
          string,
          number,
        ];
        const agg = aggregate(list.map(toSample))!;
        for (const r of list) this.stmts.remove.run(r.id);
        this.stmts.insert.run(
          account,
          region,
          namespace,
          name,
          dims,
          minute,
          unit,
          agg.count,
          agg.sum,
          agg.min,
          agg.max,
          agg.values ? JSON.stringify(agg.values) : null,
          0,
        );
        changed += list.length;
      }
    })();
    return changed;
  }
}
