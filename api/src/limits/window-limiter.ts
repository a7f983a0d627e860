import type { TDatabase } from '../db/database.ts';
import { databaseErrorKind } from '../db/database-errors.ts';

export type TWindowLimit = {
  /** Requests allowed per window; 0 turns the limit off. */
  limit: number;
  windowMs: number;
};

type TCount = {
  windowStart: number;
  /** Counted here in this window. */
  mine: number;
  /** Of `mine`, what the shared table has. */
  shared: number;
  /** Counted by the other nodes, as of the last exchange with the table. */
  others: number;
};

const MAX_BUCKETS = 100_000;

/**
 * Fixed-window counters decided in memory and shared through PostgreSQL. A request costs a map
 * lookup: the table is written once a second per node with everything counted since (one
 * statement, see RateLimitSync), which answers with each bucket's total over all nodes. A bucket
 * can thus go over its limit by what the other nodes let through in one exchange (a second of
 * traffic) plus what each holds back before sharing (5% of the limit). A write to the table per
 * request would cost more than serving the request.
 */
export class WindowLimiter {
  // Two generations instead of an ordered LRU (a reorder per request cost more than the counting):
  // buckets are added to `current`; when it is full it becomes `previous`, and a bucket found only
  // there moves back. A flood of new buckets thus evicts the ones not seen for a generation, whose
  // shared totals come back at their next exchange.
  private current = new Map<string, TCount>();
  private previous = new Map<string, TCount>();
  private readonly dirty = new Set<string>();
  /** Buckets at half their limit or more: refreshed at every exchange, even with nothing new here. */
  private readonly warm = new Set<string>();
  /** Rows of buckets dropped before their counts were shared. */
  private evicted: TShareRow[] = [];

  /**
   * A bucket is shared once it counted this much here in a window: most buckets (a user's address)
   * never come near their limit, and sharing each of them cost 18% of the runtime's throughput with
   * distinct users. Each node can thus hold back up to 5% of a limit from the others.
   */
  private readonly shareFrom: number;

  constructor(readonly name: string, private readonly rule: TWindowLimit, private readonly maxBuckets = MAX_BUCKETS) {
    this.shareFrom = Math.max(1, Math.floor(rule.limit / 20));
  }

  /** Counts a request; returns 0 when it may go on, otherwise the seconds until the window ends. */
  take(bucket: string, now = Date.now()): number {
    if (this.rule.limit <= 0) return 0;
    const windowStart = now - (now % this.rule.windowMs);
    let count = this.find(bucket);
    if (!count || count.windowStart !== windowStart) {
      count = { windowStart, mine: 0, shared: 0, others: 0 };
      this.keep(bucket, count);
    }
    // Refused requests count too: a client that keeps hammering stays refused.
    count.mine++;
    if (count.mine >= this.shareFrom) this.dirty.add(bucket);
    if (2 * (count.mine + count.others) >= this.rule.limit) this.warm.add(bucket);
    if (count.mine + count.others <= this.rule.limit) return 0;
    return Math.max(1, Math.ceil((windowStart + this.rule.windowMs - now) / 1000));
  }

  private find(bucket: string): TCount | undefined {
    const count = this.current.get(bucket);
    if (count) return count;
    const old = this.previous.get(bucket);
    if (old) {
      this.previous.delete(bucket);
      this.keep(bucket, old);
    }
    return old;
  }

  private keep(bucket: string, count: TCount): void {
    if (this.current.size >= this.maxBuckets / 2 && !this.current.has(bucket)) {
      for (const [gone, goneCount] of this.previous) {
        // What it counted since the last exchange still goes to the table.
        if (this.dirty.delete(gone) && goneCount.mine > goneCount.shared && this.evicted.length < this.maxBuckets) this.evicted.push(this.row(gone, goneCount));
        this.warm.delete(gone);
      }
      this.previous = this.current;
      this.current = new Map();
    }
    this.current.set(bucket, count);
  }

  /**
   * What was counted since the last exchange, for the shared table, and a zero for each warm bucket:
   * a bucket this node no longer counts must still learn what the others count, before its next
   * request here decides on old totals.
   */
  unshared(now = Date.now()): TShareRow[] {
    const rows = this.evicted;
    this.evicted = [];
    for (const bucket of new Set([...this.dirty, ...this.warm])) {
      const count = this.current.get(bucket) ?? this.previous.get(bucket);
      if (!count || count.windowStart + this.rule.windowMs <= now) {
        this.warm.delete(bucket);
        continue;
      }
      rows.push(this.row(bucket, count));
    }
    this.dirty.clear();
    return rows;
  }

  /**
   * The table's answer to a row sent: `total` is every node's count, the row's included. The row
   * holds the counter it was taken from, which a bucket evicted and counted anew meanwhile no longer is.
   */
  shared(row: TShareRow, total: number): void {
    row.from.shared += row.count;
    row.from.others = Math.max(0, total - row.from.shared);
  }

  private row(bucket: string, count: TCount): TShareRow {
    return { key: `${this.name}:${bucket}`, windowStart: count.windowStart, count: count.mine - count.shared, bucket, from: count };
  }

  /** Rows that could not be written are sent again at the next exchange. */
  unsent(rows: TShareRow[]): void {
    for (const row of rows) {
      if ((this.current.get(row.bucket) ?? this.previous.get(row.bucket)) === row.from) this.dirty.add(row.bucket);
      else if (row.count > 0 && this.evicted.length < this.maxBuckets) this.evicted.push(row);
    }
  }
}

export type TShareRow = { key: string; windowStart: number; count: number; bucket: string; from: TCount };

const SYNC_INTERVAL_MS = 1_000;
const PRUNE_EVERY = 60;

/**
 * Exchanges the limiters' counts with the shared table on PostgreSQL, once a second, in one
 * statement. While the database cannot be reached, counts stay local and are sent later.
 */
export class RateLimitSync {
  private timer: NodeJS.Timeout | undefined;
  private ticks = 0;
  private running: Promise<void> | undefined;

  constructor(private readonly db: TDatabase, private readonly limiters: WindowLimiter[], private readonly intervalMs = SYNC_INTERVAL_MS) {}

  start(): void {
    this.timer = setInterval(() => void this.exchange(), this.intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and shares what was counted since the last exchange. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
    await this.exchange();
  }

  exchange(): Promise<void> {
    this.running ??= this.exchangeOnce().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async exchangeOnce(): Promise<void> {
    const now = Date.now();
    const byLimiter = this.limiters.map((limiter) => ({ limiter, rows: limiter.unshared(now) }));
    const rows = byLimiter.flatMap((entry) => entry.rows);
    try {
      if (rows.length > 0) {
        const payload = rows.map(({ key, windowStart, count }) => ({ key, windowStart, count }));
        const totals = await this.db.query<{ key: string; windowStart: string; count: number }>(`
          INSERT INTO "RateLimitWindow" ("key", "windowStart", "count")
          SELECT r.key, r."windowStart", sum(r.count) FROM jsonb_to_recordset($1::jsonb) AS r(key text, "windowStart" bigint, count int)
          GROUP BY r.key, r."windowStart"
          ON CONFLICT ("key", "windowStart") DO UPDATE SET "count" = "RateLimitWindow"."count" + EXCLUDED."count"
          RETURNING "key", "windowStart", "count"`, [JSON.stringify(payload)]);
        const byKey = new Map(totals.map((total) => [`${total.key}\u0000${total.windowStart}`, total.count]));
        for (const { limiter, rows: sent } of byLimiter) {
          for (const row of sent) {
            const total = byKey.get(`${row.key}\u0000${row.windowStart}`);
            if (total !== undefined) limiter.shared(row, total);
          }
        }
      }
      if (++this.ticks % PRUNE_EVERY === 0) await this.db.query('DELETE FROM "RateLimitWindow" WHERE "windowStart" < $1', [now - 3_600_000]);
    } catch (error) {
      if (databaseErrorKind(error) !== 'transient') logOnce(error);
      for (const { limiter, rows: sent } of byLimiter) limiter.unsent(sent);
    }
  }
}

let lastLogged = 0;
function logOnce(error: unknown): void {
  if (Date.now() - lastLogged < 60_000) return;
  lastLogged = Date.now();
  console.error('Rate limits could not be shared with the database; counting locally meanwhile:', error);
}
