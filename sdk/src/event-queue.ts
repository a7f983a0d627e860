import { TRACK_DOCUMENT } from './documents.ts';
import type { TQueueStorage } from './storage.ts';
import { RetryableError, type Transport } from './transport.ts';
import type { TClientProblem, TQueuedEvent } from './types.ts';

export type TQueueOptions = {
  storage: TQueueStorage;
  storageKey: string;
  batchSize: number;
  flushIntervalMs: number;
  maxEvents: number;
  retryBaseMs: number;
  retryMaxMs: number;
  onProblem: (problem: TClientProblem) => void;
  /** Until release(): nothing is sent, read from or written to storage; events wait in memory. */
  hold?: boolean;
};

/**
 * Refusals that resending cannot change: the events (or the key, or the user's signature) are
 * wrong. The events they name are dropped and reported; a batch refused without names is resent
 * one event at a time to find the ones at fault.
 */
const FINAL_CODES = new Set(['VALIDATION', 'FORBIDDEN', 'UNAUTHENTICATED', 'BAD_USER_INPUT', 'GRAPHQL_VALIDATION_FAILED']);
/** How many settled ids are remembered, so that another tab's stale copy of them is not adopted. */
const SETTLED_MEMORY = 5_000;

/** The API's own limit on one track call. */
const MAX_BATCH = 100;
/** Browsers cap keepalive request bodies at 64 KB; stay well under it. */
const KEEPALIVE_BYTES = 48_000;

/**
 * Events waiting to be acknowledged by the API, in order, persisted after every change so a reload
 * loses nothing: sent in batches, retried with exponential backoff and jitter, removed only once
 * the API has stored them (ids make a resend harmless). At `maxEvents` the oldest are dropped, and
 * said so.
 */
export class EventQueue {
  private events: TQueuedEvent[];
  private timer: ReturnType<typeof setTimeout> | null = null;
  private timerDue = 0;
  /** No send before this time: a failed send's backoff, which new events must not cut short. */
  private blockedUntil = 0;
  /** Ids this queue removed (stored or dropped): never adopted again from storage. */
  private readonly settled = new Set<string>();
  private draining: Promise<void> | null = null;
  private failures = 0;
  private held: boolean;

  constructor(private readonly transport: Transport, private readonly options: TQueueOptions) {
    this.held = !!options.hold;
    this.events = this.held ? [] : this.load();
    this.schedule(0);
  }

  /** The app allowed requests (consent): what waited in memory joins what storage kept, and is sent. */
  release(): void {
    this.held = false;
    this.save();
    this.schedule(0);
  }

  get size(): number {
    return this.events.length;
  }

  add(event: TQueuedEvent): void {
    this.events.push(event);
    const overflow = this.events.length - this.options.maxEvents;
    if (overflow > 0) {
      const dropped = this.events.splice(0, overflow);
      this.options.onProblem({ kind: 'dropped', events: dropped, message: `The queue holds at most ${this.options.maxEvents} events; the oldest ${overflow} were dropped` });
    }
    this.save();
    this.schedule(this.events.length >= this.options.batchSize ? 0 : this.options.flushIntervalMs);
  }

  /** Sends everything queued now; resolves when the queue is empty or a send failed (a retry is then scheduled). */
  flush(): Promise<void> {
    // One drain at a time: a second caller waits for it rather than sending the same events again.
    this.draining ??= this.drain().finally(() => { this.draining = null; });
    return this.draining;
  }

  private async drain(): Promise<void> {
    while (this.events.length > 0 && !this.held) {
      if (Date.now() < this.blockedUntil) {
        this.schedule(0);
        return;
      }
      try {
        await this.sendBatch(this.events.slice(0, Math.min(MAX_BATCH, this.options.batchSize)));
      } catch {
        return;
      }
    }
  }

  /**
   * The page is going away: hand every queued event to the browser with keepalive, which completes
   * the requests after the page is gone. The events stay persisted until an answer removes them, so
   * a request the browser drops is resent on the next visit.
   */
  sendBeforeUnload(): void {
    if (this.held) return;
    let batch: TQueuedEvent[] = [];
    const send = () => {
      if (batch.length === 0) return;
      const events = batch;
      batch = [];
      this.transport.mutate(TRACK_DOCUMENT, { events }, true).then((result) => {
        if (!result.errors) this.remove(events);
      }, () => undefined);
    };
    let bytes = 0;
    for (const event of this.events) {
      const size = JSON.stringify(event).length;
      if (batch.length === MAX_BATCH || bytes + size > KEEPALIVE_BYTES) {
        send();
        bytes = 0;
      }
      batch.push(event);
      bytes += size;
    }
    send();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(delayMs: number): void {
    if (this.held || this.events.length === 0) return;
    const now = Date.now();
    const wait = Math.max(delayMs, this.blockedUntil - now);
    if (this.timer) {
      // A timer due sooner stays: when it fires during a backoff, drain() schedules again.
      if (this.timerDue <= now + wait) return;
      clearTimeout(this.timer);
    }
    this.timerDue = now + wait;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, wait);
    // A pending flush must not keep a Node process alive; close() flushes explicitly.
    (this.timer as { unref?: () => void }).unref?.();
  }

  private async sendBatch(batch: TQueuedEvent[]): Promise<void> {
    let isolate: TQueuedEvent[] = [];
    try {
      const result = await this.transport.mutate<{ track: { accepted: number } }>(TRACK_DOCUMENT, { events: batch });
      const error = result.errors?.[0];
      if (!error) {
        this.failures = 0;
        this.remove(batch);
        return;
      }
      if (!FINAL_CODES.has(error.extensions?.code ?? '') && result.status !== 400) throw new RetryableError(error.message);
      this.failures = 0;
      // The API refuses a batch whole and names each bad event: drop those; the rest is resent.
      const named = new Set((error.extensions?.issues ?? []).map((issue) => Number(/^events\.(\d+)/.exec(issue.path)?.[1])).filter(Number.isInteger));
      const refused = named.size > 0 ? batch.filter((_, index) => named.has(index)) : batch.length === 1 ? batch : [];
      if (refused.length === 0) isolate = batch;
      for (const event of refused) this.options.onProblem({ kind: 'rejected', event, message: error.message });
      this.remove(refused);
    } catch (error) {
      if (!(error instanceof RetryableError)) throw error;
      const retryAfterMs = error instanceof RetryableError ? error.retryAfterMs : null;
      const ceiling = Math.min(this.options.retryMaxMs, this.options.retryBaseMs * 2 ** this.failures++);
      const retryInMs = Math.max(retryAfterMs ?? 0, Math.round(ceiling / 2 + Math.random() * (ceiling / 2)));
      this.blockedUntil = Date.now() + retryInMs;
      this.options.onProblem({ kind: 'request-failed', message: error.message, retryInMs });
      this.schedule(retryInMs);
      throw error;
    }
    // Outside the try: a network failure while isolating is handled (and backed off) once, inside.
    for (const event of isolate) await this.sendBatch([event]);
  }

  private remove(settled: TQueuedEvent[]): void {
    const ids = new Set(settled.map((event) => event.id));
    this.events = this.events.filter((event) => !ids.has(event.id));
    for (const id of ids) this.settled.add(id);
    for (const id of this.settled) {
      if (this.settled.size <= SETTLED_MEMORY) break;
      this.settled.delete(id);
    }
    this.save();
  }

  private load(): TQueuedEvent[] {
    try {
      const stored: unknown = JSON.parse(this.options.storage.getItem(this.options.storageKey) ?? '[]');
      return Array.isArray(stored) ? stored.filter(isQueuedEvent).slice(-this.options.maxEvents) : [];
    } catch {
      return [];
    }
  }

  /**
   * Another client on the same storage (a second tab, an element's own client) keeps its events
   * there too: they are adopted rather than overwritten, and sent by whichever queue gets there
   * first (ids make the second send harmless).
   */
  private save(): void {
    if (this.held) return;
    const mine = new Set(this.events.map((event) => event.id));
    const adopted = this.load().filter((event) => !mine.has(event.id) && !this.settled.has(event.id));
    if (adopted.length > 0) {
      this.events = [...adopted, ...this.events].sort((a, b) => (a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : 0)).slice(-this.options.maxEvents);
    }
    try {
      if (this.events.length === 0) this.options.storage.removeItem(this.options.storageKey);
      else this.options.storage.setItem(this.options.storageKey, JSON.stringify(this.events));
    } catch {
      // A full or unavailable storage: the events are still held in memory and sent.
    }
  }
}

function isQueuedEvent(value: unknown): value is TQueuedEvent {
  const event = value as Partial<TQueuedEvent> | null;
  return !!event && typeof event.id === 'string' && typeof event.userId === 'string' && typeof event.name === 'string' && typeof event.timestamp === 'string';
}
