import { IDENTIFY_DOCUMENT, ONBOARDING_DOCUMENT } from './documents.ts';
import { EventQueue } from './event-queue.ts';
import { subscribeToChanges, type TChangeListener, type TEventSourceConstructor } from './live.ts';
import { defaultStorage, type TQueueStorage } from './storage.ts';
import { RetryableError, Transport } from './transport.ts';
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
  /**
   * Consent: no request at all (no onboarding, no events, no change stream) and no write to storage
   * until `start()`. Events tracked before wait in memory; `getOnboarding` waits for `start()`.
   */
  deferStart?: boolean;
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
  private readonly storage: TQueueStorage;
  private readonly guestKey: string;
  private guest: string | null = null;
  private held: boolean;
  private readonly started: Promise<void>;
  private begin!: () => void;

  constructor(private readonly options: TDoorstepOptions) {
    const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
    const key = options.publicKey.slice(0, 16);
    this.held = !!options.deferStart;
    this.started = new Promise((resolve) => { this.begin = resolve; });
    if (!this.held) this.begin();
    this.storage = options.storage ?? defaultStorage();
    this.guestKey = `doorstep:guest:${key}`;
    this.transport = new Transport({ apiUrl: options.apiUrl, publicKey: options.publicKey, fetch: fetchImpl });
    this.queue = new EventQueue(this.transport, {
      storage: this.storage,
      hold: this.held,
      // One queue per key: two environments on one page must not send each other's events.
      storageKey: `doorstep:events:${key}`,
      batchSize: options.batchSize ?? 20,
      flushIntervalMs: options.flushIntervalMs ?? 1000,
      maxEvents: options.maxQueuedEvents ?? 1000,
      retryBaseMs: options.retryBaseMs ?? 1000,
      retryMaxMs: options.retryMaxMs ?? 60_000,
      onProblem: options.onProblem ?? (() => undefined),
    });
    this.detach = this.attachToPage();
  }

  /** With `deferStart`: the app may now talk to Doorstep (the user consented). Sends what waited. */
  start(): void {
    this.held = false;
    this.queue.release();
    this.keepGuest();
    this.begin();
  }

  /**
   * The visitor's id before sign-in: `guest_` and a random UUID, kept in storage (per public key)
   * so a reload carries on; made on first use. `identify` merges it into the user and forgets it.
   */
  guestId(): string {
    this.guest ??= this.storage.getItem(this.guestKey) ?? `guest_${newEventId()}`;
    this.keepGuest();
    return this.guest;
  }

  /**
   * At sign-in: merges the guest's progress, answers, variants and events into the user, on the
   * server, once (a repeat is harmless), then forgets the guest id. Sends the guest's queued events
   * first so they are merged too; retried on network failures. `hash`: the user id signed by your
   * backend, when identity verification is on. Without a guest, there is nothing to merge.
   */
  async identify(userId: string, options: { hash?: string } = {}): Promise<{ merged: boolean; userId: string }> {
    const guestId = this.guest ?? this.storage.getItem(this.guestKey);
    if (!guestId) return { merged: false, userId };
    await this.started;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.queue.flush();
        if (this.queue.size > 0) throw new RetryableError('Queued events are not sent yet');
        const result = await this.transport.mutate<{ identify: { merged: boolean; userId: string } }>(IDENTIFY_DOCUMENT, { guestId, userId, userHash: options.hash ?? null });
        const error = result.errors?.[0];
        const code = error?.extensions?.code ?? null;
        // Merged already into someone else, or not a guest id: this id is of no more use.
        if (!error || code === 'CONFLICT' || code === 'VALIDATION') {
          this.guest = null;
          this.storage.removeItem(this.guestKey);
        }
        if (error || !result.data) throw new DoorstepRequestError(error?.message ?? 'Doorstep gave no answer', code);
        return result.data.identify;
      } catch (error) {
        if (!(error instanceof RetryableError) || attempt > 4) throw error;
        await new Promise((resolve) => setTimeout(resolve, (this.options.retryBaseMs ?? 1000) * 2 ** attempt));
      }
    }
  }

  private keepGuest(): void {
    try {
      if (this.guest && !this.held) this.storage.setItem(this.guestKey, this.guest);
    } catch {
      // A full storage: the id lives as long as the page.
    }
  }

  /**
   * The onboarding this user should get now in a placement (main by default), or null. An unchanged
   * answer is reused through its ETag, kept per user, locale and placement.
   */
  async getOnboarding(user: TUser, options: { locale?: string; placement?: string } = {}): Promise<TOnboarding | null> {
    await this.started;
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
    let stop: (() => void) | null = null;
    const open = () => { stop ??= subscribeToChanges(url.href, EventSourceImpl, onChange, retryBaseMs); };
    // With deferStart, opened at start() unless unsubscribed before.
    if (this.held) void this.started.then(open);
    else open();
    const unsubscribe = () => { this.subscriptions.delete(unsubscribe); stop?.(); stop = () => {}; };
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
