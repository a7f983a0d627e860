import { ONBOARDING_DOCUMENT } from './documents.ts';
import { EventQueue } from './event-queue.ts';
import { subscribeToChanges, type TChangeListener, type TEventSourceConstructor } from './live.ts';
import { defaultStorage, type TQueueStorage } from './storage.ts';
import { Transport } from './transport.ts';
import type { TClientProblem, TEvent, TOnboarding, TUser } from './types.ts';

export type TDoorstepOptions = {
  /** The API's GraphQL endpoint, e.g. https://doorstep.example.com/graphql. */
  apiUrl: string;
  /** The environment's public key (dpk_…). */
  publicKey: string;
  /** Defaults to the global fetch (browsers, Node 18+). */
  fetch?: typeof fetch;
  /** Where unsent events survive a reload; defaults to localStorage in browsers, memory elsewhere. */
  storage?: TQueueStorage;
  /** Events wait this long to be sent with others (ms); default 1000. */
  flushIntervalMs?: number;
  /** At most this many events per request; default 20. */
  batchSize?: number;
  /** The queue keeps at most this many unsent events, dropping the oldest; default 1000. */
  maxQueuedEvents?: number;
  /** First retry after about this long (ms), doubling up to retryMaxMs; defaults 1000 and 60000. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** The API's change stream, for `subscribe`; defaults to apiUrl with `/graphql` replaced by `/events`. */
  eventsUrl?: string;
  /** For `subscribe`: defaults to the global EventSource (browsers); in Node, pass one (e.g. the `eventsource` package's). */
  EventSource?: TEventSourceConstructor;
  /** Told when an event is refused or dropped, or a request failed (it is retried). */
  onProblem?: (problem: TClientProblem) => void;
};

/** The error getOnboarding throws when the API refuses or cannot answer; `code` is the API's. */
export class DoorstepRequestError extends Error {
  constructor(message: string, readonly code: string | null) {
    super(message);
  }
}

/**
 * The runtime client: the onboarding a user should see (answers reused by ETag) and their events
 * (queued, batched, persisted, retried). Works in browsers and Node; it depends on nothing but fetch.
 */
export class DoorstepClient {
  private readonly transport: Transport;
  private readonly queue: EventQueue;
  private readonly detach: () => void;
  private readonly subscriptions = new Set<() => void>();

  constructor(private readonly options: TDoorstepOptions) {
    const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.transport = new Transport({ apiUrl: options.apiUrl, publicKey: options.publicKey, fetch: fetchImpl });
    this.queue = new EventQueue(this.transport, {
      storage: options.storage ?? defaultStorage(),
      // One queue per key: two environments on one page must not send each other's events.
      storageKey: `doorstep:events:${options.publicKey.slice(0, 16)}`,
      batchSize: options.batchSize ?? 20,
      flushIntervalMs: options.flushIntervalMs ?? 1000,
      maxEvents: options.maxQueuedEvents ?? 1000,
      retryBaseMs: options.retryBaseMs ?? 1000,
      retryMaxMs: options.retryMaxMs ?? 60_000,
      onProblem: options.onProblem ?? (() => undefined),
    });
    this.detach = this.attachToPage();
  }

  /**
   * The onboarding this user should get now in a placement (main by default), or null. An unchanged
   * answer is reused through its ETag, kept per user, locale and placement.
   */
  async getOnboarding(user: TUser, options: { locale?: string; placement?: string } = {}): Promise<TOnboarding | null> {
    // An absent placement is left out of the variables (main), so the main answer's cache key is unchanged.
    const result = await this.transport.query<{ onboarding: TOnboarding | null }>(ONBOARDING_DOCUMENT, { user, locale: options.locale ?? null, placement: options.placement });
    const error = result.errors?.[0];
    if (error || !result.data) throw new DoorstepRequestError(error?.message ?? 'Doorstep gave no answer', error?.extensions?.code ?? null);
    return result.data.onboarding;
  }

  /** Queues an event for this user, stamped now with a fresh id; returns the id. */
  track(user: TUser, event: TEvent): string {
    const id = newEventId();
    this.queue.add({ ...event, id, userId: user.id, ...(user.hash ? { userHash: user.hash } : {}), timestamp: new Date().toISOString() });
    return id;
  }

  /**
   * Opt-in live updates: calls `onChange` when the environment publishes (or rolls back, or changes
   * an experiment or segment), so the app refetches what it shows. Opens one connection to the API's
   * `GET /events` until the returned function is called; without it, nothing is opened and a session
   * keeps what it was served until it asks again.
   */
  subscribe(onChange: TChangeListener): () => void {
    const { apiUrl, publicKey, eventsUrl, retryBaseMs } = this.options;
    const EventSourceImpl = this.options.EventSource ?? (globalThis as { EventSource?: TEventSourceConstructor }).EventSource;
    if (!EventSourceImpl) throw new Error('No EventSource: pass one');
    const url = new URL(eventsUrl ?? apiUrl.replace(/\/graphql\/?$/, '/events'));
    url.searchParams.set('key', publicKey);
    const stop = subscribeToChanges(url.href, EventSourceImpl, onChange, retryBaseMs);
    const unsubscribe = () => { this.subscriptions.delete(unsubscribe); stop(); };
    this.subscriptions.add(unsubscribe);
    return unsubscribe;
  }

  /** Events not yet acknowledged by the API. */
  get pendingEvents(): number {
    return this.queue.size;
  }

  /** Sends queued events now; resolves when they are stored, or when a send failed (a retry is scheduled). */
  flush(): Promise<void> {
    return this.queue.flush();
  }

  /** Flushes and stops: for Node processes and tests. Unsent events stay in storage for the next client. */
  async close(): Promise<void> {
    this.detach();
    for (const unsubscribe of [...this.subscriptions]) unsubscribe();
    await this.queue.flush();
    this.queue.stop();
  }

  private attachToPage(): () => void {
    const page = globalThis as { document?: Document; addEventListener?: Window['addEventListener']; removeEventListener?: Window['removeEventListener'] };
    if (!page.document || !page.addEventListener || !page.removeEventListener) return () => undefined;
    // pagehide and a hidden tab are the last moments a page reliably runs (the unload event is not).
    const onHide = () => { if (page.document?.visibilityState === 'hidden') this.queue.sendBeforeUnload(); };
    const onPageHide = () => this.queue.sendBeforeUnload();
    page.document.addEventListener('visibilitychange', onHide);
    page.addEventListener('pagehide', onPageHide);
    return () => {
      page.document?.removeEventListener('visibilitychange', onHide);
      page.removeEventListener?.('pagehide', onPageHide);
    };
  }
}

/**
 * A random UUID v4. Browsers offer randomUUID only in secure contexts (https, localhost); a page
 * served over plain http on a LAN address still has getRandomValues.
 */
function newEventId(): string {
  const crypto = globalThis.crypto;
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function createDoorstep(options: TDoorstepOptions): DoorstepClient {
  return new DoorstepClient(options);
}
