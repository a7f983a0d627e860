import { databaseErrorKind, describeError } from '../db/database-errors.ts';
import { log } from '../log.ts';
import { backoffDelayMs } from './backoff.ts';

export type TBatchWriterOptions = {
  label: string;
  maxBatch?: number;
  intervalMs?: number;
  /** Items waiting, at most, before `add` asks its caller to wait (`whenRoom`); nothing is dropped. */
  maxPending?: number;
  /** Backoff between attempts at a failing write. */
  retryBaseMs?: number;
  retryMaxMs?: number;
};

export type TBatchWriterStats = { written: number; retries: number; pending: number; refused: number; lost: number };

const ROOM_NOW: Promise<void> = Promise.resolve();

/**
 * Collects writes off the request path and writes them together, when a batch is full or after a
 * short interval. Keys deduplicate what waits. A failed write is retried with backoff and jitter
 * until it is stored (design, "Hot path": written off the request path, retried until stored), while
 * new items keep arriving; items leave memory only once written. Writes run one at a time, in the
 * order items were added.
 *
 * A batch the database refuses for its data (a constraint, a bad value: `databaseErrorKind`) is
 * written item by item, so that one bad item is logged and dropped instead of blocking the others
 * for ever. Every other failure, however long, is waited out.
 */
export class BatchWriter<T> {
  /** Items not yet written, in the order added, the batch being written included. */
  private readonly pending = new Map<string, T>();
  private readonly maxBatch: number;
  private readonly intervalMs: number;
  private readonly maxPending: number;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  /** Ends the backoff sleep early, when a flush wants the write now. */
  private wake: (() => void) | null = null;
  /** Items ever added, and items written or given up; a flush waits for the second to reach the first. */
  private added = 0;
  private settled = 0;
  private readonly flushWaiters: Array<{ upTo: number; resolve: () => void }> = [];
  private readonly roomWaiters: Array<() => void> = [];
  private deadline: number | null = null;
  private readonly counts = { written: 0, retries: 0, refused: 0, lost: 0 };

  constructor(private readonly write: (items: T[]) => Promise<unknown>, private readonly options: TBatchWriterOptions) {
    this.maxBatch = options.maxBatch ?? 500;
    this.intervalMs = options.intervalMs ?? 100;
    this.maxPending = options.maxPending ?? 50_000;
    this.retryBaseMs = options.retryBaseMs ?? 100;
    this.retryMaxMs = options.retryMaxMs ?? 5_000;
  }

  /**
   * Queues an item unless one with its key waits already. Returns false when the writer holds more
   * than `maxPending` items (the database is down or slow): the item is kept all the same, and the
   * caller should wait for `whenRoom()` before adding more.
   */
  add(key: string, item: T): boolean {
    if (!this.pending.has(key)) {
      this.pending.set(key, item);
      this.added++;
    }
    if (this.pending.size >= this.maxBatch) this.start();
    else if (!this.running) this.timer ??= setTimeout(() => this.start(), this.intervalMs);
    return this.pending.size < this.maxPending;
  }

  /** Resolves once fewer than `maxPending` items wait. */
  whenRoom(): Promise<void> {
    if (this.pending.size < this.maxPending) return ROOM_NOW;
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  get stats(): TBatchWriterStats {
    return { ...this.counts, pending: this.pending.size };
  }

  /**
   * Writes what is pending now and resolves once it is stored, retrying as long as it takes. With a
   * deadline (ms since epoch, for shutdown), it stops then: what is still unwritten is dropped, and
   * logged once with its count and keys.
   */
  async flush(options: { deadline?: number } = {}): Promise<void> {
    const upTo = this.added;
    if (this.settled >= upTo) return;
    const done = new Promise<void>((resolve) => this.flushWaiters.push({ upTo, resolve }));
    const { deadline } = options;
    if (deadline !== undefined) this.deadline = Math.min(this.deadline ?? Infinity, deadline);
    this.start();
    this.wake?.();
    if (deadline === undefined) return done;
    let timer: NodeJS.Timeout | undefined;
    // A write that hangs (a network partition) must not hold a shutdown past its deadline either.
    const expired = new Promise<void>((resolve) => { timer = setTimeout(resolve, Math.max(0, deadline - Date.now())); });
    try {
      await Promise.race([done, expired]);
    } finally {
      clearTimeout(timer);
      this.deadline = null;
    }
    if (this.settled < upTo) this.giveUp('a write was still in flight at the deadline');
  }

  private start(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.running ??= this.run().finally(() => {
      this.running = null;
      // Items added while the last write was finishing.
      if (this.pending.size > 0) this.timer ??= setTimeout(() => this.start(), this.intervalMs);
    });
  }

  /** Writes batches until nothing is pending. */
  private async run(): Promise<void> {
    let attempt = 0;
    while (this.pending.size > 0) {
      const batch = this.takeBatch();
      try {
        await this.write(batch.map(([, item]) => item));
        if (attempt > 0) log.info(`Stored ${this.options.label} after retrying`, { label: this.options.label, attempts: attempt + 1, items: batch.length });
        attempt = 0;
        this.done(batch, 'written');
        continue;
      } catch (error) {
        if (databaseErrorKind(error) === 'permanent') {
          await this.writeOneByOne(batch);
          continue;
        }
        if (this.deadline !== null && Date.now() >= this.deadline) {
          this.giveUp(describeError(error));
          return;
        }
        this.counts.retries++;
        const delayMs = Math.min(backoffDelayMs(attempt, { baseMs: this.retryBaseMs, maxMs: this.retryMaxMs }), Math.max(0, (this.deadline ?? Infinity) - Date.now()));
        attempt++;
        log.warn(`Could not write ${this.options.label}; retrying`, {
          label: this.options.label, attempt, items: batch.length, pending: this.pending.size, retryInMs: delayMs, error: describeError(error),
        });
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delayMs);
          this.wake = () => { clearTimeout(timer); resolve(); };
        });
        this.wake = null;
      }
    }
  }

  private takeBatch(): Array<[string, T]> {
    const batch: Array<[string, T]> = [];
    for (const entry of this.pending) {
      batch.push(entry);
      if (batch.length >= this.maxBatch) break;
    }
    return batch;
  }

  /** A batch the database refused: the items it accepts alone are stored, the others dropped and logged. */
  private async writeOneByOne(batch: Array<[string, T]>): Promise<void> {
    const refused: string[] = [];
    let lastError: unknown;
    for (const entry of batch) {
      try {
        await this.write([entry[1]]);
        this.done([entry], 'written');
      } catch (error) {
        // Anything but a refusal of this item is left pending, for the retry loop.
        if (databaseErrorKind(error) !== 'permanent') return;
        refused.push(entry[0]);
        lastError = error;
        this.done([entry], 'refused');
      }
    }
    if (refused.length > 0) {
      log.error(`The database refused ${this.options.label}; dropped`, { label: this.options.label, count: refused.length, keys: refused.join(', '), error: describeError(lastError) });
    }
  }

  /** The deadline passed with the database still failing: drop what remains, said once, loudly. */
  private giveUp(reason: string): void {
    const lost = [...this.pending.keys()];
    if (lost.length === 0) return;
    log.error(`Could not write ${this.options.label} before the deadline; lost`, { label: this.options.label, count: lost.length, keys: lost.join(', '), error: reason });
    this.done([...this.pending], 'lost');
  }

  private done(entries: Array<[string, T]>, outcome: 'written' | 'refused' | 'lost'): void {
    let settled = 0;
    // An entry given up at a deadline may still be in a write that completes later: counted once.
    for (const [key] of entries) if (this.pending.delete(key)) settled++;
    this.counts[outcome] += settled;
    this.settled += settled;
    for (let i = this.flushWaiters.length - 1; i >= 0; i--) {
      if (this.flushWaiters[i].upTo > this.settled) continue;
      this.flushWaiters[i].resolve();
      this.flushWaiters.splice(i, 1);
    }
    if (this.pending.size < this.maxPending) for (const resolve of this.roomWaiters.splice(0)) resolve();
  }
}
