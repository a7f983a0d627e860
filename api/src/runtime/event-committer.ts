import type { TTrackEvent } from '@doorstep/schema';
import type { PrismaClient } from '../generated/prisma/client.ts';
import { databaseErrorKind, describeError } from '../db/database-errors.ts';
import { storeEvents, validateEvents, type TIngestResult, type TValidatedBatch } from '../domain/event-ingest.ts';
import { log } from '../log.ts';
import type { TEnvironmentSnapshot } from './snapshot-store.ts';
import { backoffDelayMs } from './backoff.ts';

export type TEventCommitterOptions = {
  /** How long an idle committer holds the first request for others to join its transaction. */
  windowMs?: number;
  /** Events per transaction, at most; a larger backlog is split over several. */
  maxGroupEvents?: number;
  /** Events queued or being committed, at most; beyond it, `submit` waits for room (nothing is dropped). */
  maxPendingEvents?: number;
  /** Transactions in flight at once. */
  maxConcurrentGroups?: number;
  /** Attempts at one transaction that fails for a transient reason before its requests get the error. */
  maxAttempts?: number;
};

export type TEventCommitterStats = {
  groups: number; requests: number; events: number; groupRetries: number; splitGroups: number; failedRequests: number; largestGroup: number;
};

type TQueued = { batch: TValidatedBatch; resolve: (result: TIngestResult) => void; reject: (error: unknown) => void };

/**
 * Group commit for `track` (design, "Hot path"): each request's events are validated on their own,
 * then the requests that arrive within a few milliseconds, or while a commit is in flight, share one
 * transaction (one multi-row insert and set-based effects, `storeEvents`). A request is answered only
 * once its group has committed, so `accepted` still means stored.
 *
 * Failures: a deadlock, a serialization failure or a lost connection retries the whole group with
 * backoff; it is idempotent, since event ids are unique and only newly stored events take effect. Any
 * other failure retries each request of the group in a transaction of its own, so one request the
 * database refuses fails alone and its neighbours are stored. A request whose own transaction fails
 * gets the error, never an acknowledgement.
 */
export class EventCommitter {
  private readonly windowMs: number;
  private readonly maxGroupEvents: number;
  private readonly maxPendingEvents: number;
  private readonly maxConcurrentGroups: number;
  private readonly maxAttempts: number;
  private queue: TQueued[] = [];
  private queuedEvents = 0;
  /** Queued and in-flight events, the figure the bound applies to. */
  private pendingEvents = 0;
  private inFlight = 0;
  private timer: NodeJS.Timeout | null = null;
  private draining = false;
  private readonly roomWaiters: Array<{ events: number; admit: () => void }> = [];
  private idleWaiters: Array<() => void> = [];
  readonly stats: TEventCommitterStats = { groups: 0, requests: 0, events: 0, groupRetries: 0, splitGroups: 0, failedRequests: 0, largestGroup: 0 };

  constructor(private readonly prisma: PrismaClient, options: TEventCommitterOptions = {}) {
    this.windowMs = options.windowMs ?? 2;
    this.maxGroupEvents = options.maxGroupEvents ?? 2_000;
    this.maxPendingEvents = options.maxPendingEvents ?? 20_000;
    this.maxConcurrentGroups = options.maxConcurrentGroups ?? 2;
    this.maxAttempts = options.maxAttempts ?? 8;
  }

  /**
   * Validates a request's events (a ValidationError rejects it before anything is queued), then
   * resolves once they are committed.
   */
  async submit(snapshot: TEnvironmentSnapshot, events: readonly TTrackEvent[], now = new Date()): Promise<TIngestResult> {
    const batch = validateEvents(snapshot, events, now);
    await this.room(batch.events.length);
    return new Promise<TIngestResult>((resolve, reject) => {
      this.queue.push({ batch, resolve, reject });
      this.queuedEvents += batch.events.length;
      this.schedule(false);
    });
  }

  /** Commits everything queued at once, and resolves when nothing is queued or in flight. */
  async drain(): Promise<void> {
    this.draining = true;
    this.schedule(true);
    if (this.queue.length === 0 && this.inFlight === 0 && this.roomWaiters.length === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  /** Waits, in arrival order, until the request's events fit under the bound (one request always fits an empty queue). */
  private room(events: number): Promise<void> | void {
    const fits = this.pendingEvents === 0 || this.pendingEvents + events <= this.maxPendingEvents;
    if (fits && this.roomWaiters.length === 0) {
      this.pendingEvents += events;
      return;
    }
    return new Promise<void>((admit) => this.roomWaiters.push({ events, admit }));
  }

  private release(events: number): void {
    this.pendingEvents -= events;
    while (this.roomWaiters.length > 0) {
      const next = this.roomWaiters[0];
      if (this.pendingEvents > 0 && this.pendingEvents + next.events > this.maxPendingEvents) break;
      this.roomWaiters.shift();
      this.pendingEvents += next.events;
      next.admit();
    }
  }

  /**
   * Starts groups while there is a free slot. Requests that waited for a commit in flight go at once;
   * a request reaching an idle committer waits `windowMs` for company, unless a full group is there.
   */
  private schedule(immediately: boolean): void {
    while (this.queue.length > 0 && this.inFlight < this.maxConcurrentGroups) {
      if (!immediately && !this.draining && this.queuedEvents < this.maxGroupEvents) {
        this.timer ??= setTimeout(() => {
          this.timer = null;
          this.schedule(true);
        }, this.windowMs);
        return;
      }
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      this.startGroup();
    }
  }

  private startGroup(): void {
    const group: TQueued[] = [];
    let events = 0;
    while (this.queue.length > 0 && (group.length === 0 || events + this.queue[0].batch.events.length <= this.maxGroupEvents)) {
      const next = this.queue.shift()!;
      group.push(next);
      events += next.batch.events.length;
    }
    this.queuedEvents -= events;
    this.inFlight++;
    this.stats.groups++;
    this.stats.requests += group.length;
    this.stats.events += events;
    this.stats.largestGroup = Math.max(this.stats.largestGroup, events);
    void this.commit(group).finally(() => {
      this.inFlight--;
      this.release(events);
      this.schedule(true);
      if (this.queue.length === 0 && this.inFlight === 0 && this.roomWaiters.length === 0) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const resolve of waiters) resolve();
      }
    });
  }

  private async commit(group: TQueued[]): Promise<void> {
    let results: TIngestResult[];
    try {
      results = await this.transaction(group.map((queued) => queued.batch));
    } catch (error) {
      if (group.length === 1 || databaseErrorKind(error) === 'transient') {
        this.fail(group, error);
        return;
      }
      // Something in the group was refused: each request alone, in arrival order, so the first
      // sender of a repeated id still stores it.
      this.stats.splitGroups++;
      log.warn('A grouped commit of events failed; committing its requests one by one', { requests: group.length, error: describeError(error) });
      for (const queued of group) {
        try {
          const [result] = await this.transaction([queued.batch]);
          queued.resolve(result);
        } catch (aloneError) {
          this.fail([queued], aloneError);
        }
      }
      return;
    }
    group.forEach((queued, index) => queued.resolve(results[index]));
  }

  private fail(group: TQueued[], error: unknown): void {
    this.stats.failedRequests += group.length;
    log.error('Events could not be stored; the requests get an error', {
      requests: group.length, events: group.reduce((sum, queued) => sum + queued.batch.events.length, 0), error: describeError(error),
    });
    for (const queued of group) queued.reject(error);
  }

  /**
   * One transaction for the batches, retried with backoff while it fails for a transient reason.
   * After a lost connection the commit may have landed, so a retry finds the events stored: they are
   * counted as duplicates, and every user of the batch is reported affected so that no cached
   * profile stays stale.
   */
  private async transaction(batches: TValidatedBatch[]): Promise<TIngestResult[]> {
    for (let attempt = 0; ; attempt++) {
      try {
        const results = await this.prisma.$transaction((tx) => storeEvents(tx, batches), { maxWait: 10_000, timeout: 30_000 });
        if (attempt === 0) return results;
        return results.map((result, index) => ({ ...result, affectedUsers: [...new Set(batches[index].events.map((e) => e.userId))] }));
      } catch (error) {
        if (databaseErrorKind(error) !== 'transient' || attempt + 1 >= this.maxAttempts) throw error;
        this.stats.groupRetries++;
        const delayMs = backoffDelayMs(attempt, { baseMs: 25, maxMs: 2_000 });
        log.warn('Committing events failed; retrying', { batches: batches.length, attempt: attempt + 1, retryInMs: delayMs, error: describeError(error) });
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      }
    }
  }
}
