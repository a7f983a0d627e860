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
};

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
  private draining: Promise<void> | null = null;
  private failures = 0;

  constructor(private readonly transport: Transport, private readonly options: TQueueOptions) {
    this.events = this.load();
    if (this.events.length > 0) this.schedule(0);
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
    while (this.events.length > 0) {
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
    if (this.timer) {
      if (delayMs > 0) return;
      clearTimeout(this.timer);
    }
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, delayMs);
    // A pending flush must not keep a Node process alive; close() flushes explicitly.
    (this.timer as { unref?: () => void }).unref?.();
  }

  private async sendBatch(batch: TQueuedEvent[]): Promise<void> {
    try {
      const result = await this.transport.mutate<{ track: { accepted: number } }>(TRACK_DOCUMENT, { events: batch });
      const error = result.errors?.[0];
      if (!error) {
        this.failures = 0;
        this.remove(batch);
        return;
      }
      if (error.extensions?.code === 'VALIDATION') {
        // The API refuses a batch whole and names each bad event: drop those, resend the rest.
        const bad = new Set((error.extensions.issues ?? []).map((issue) => Number(/^events\.(\d+)/.exec(issue.path)?.[1])).filter(Number.isInteger));
        if (bad.size === 0) throw new RetryableError(error.message);
        for (const index of bad) this.options.onProblem({ kind: 'rejected', event: batch[index], message: error.message });
        this.remove(batch.filter((_, index) => bad.has(index)));
        return;
      }
      throw new RetryableError(error.message);
    } catch (error) {
      const retryAfterMs = error instanceof RetryableError ? error.retryAfterMs : null;
      const ceiling = Math.min(this.options.retryMaxMs, this.options.retryBaseMs * 2 ** this.failures++);
      const retryInMs = Math.max(retryAfterMs ?? 0, Math.round(ceiling / 2 + Math.random() * (ceiling / 2)));
      this.options.onProblem({ kind: 'request-failed', message: error instanceof Error ? error.message : String(error), retryInMs });
      this.schedule(retryInMs);
      throw error;
    }
  }

  private remove(sent: TQueuedEvent[]): void {
    const ids = new Set(sent.map((event) => event.id));
    this.events = this.events.filter((event) => !ids.has(event.id));
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

  private save(): void {
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
