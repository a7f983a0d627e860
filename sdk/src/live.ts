/** What a change notification says: the environment's published state is now `etag`; refetch. */
export type TChange = { etag: string };
export type TChangeListener = (change: TChange) => void;

/** The part of the WHATWG EventSource this uses: browsers' own, or a package's in Node (`eventsource`). */
export type TEventSource = {
  readyState: number;
  addEventListener(type: string, listener: (event: { data?: unknown }) => void): void;
  close(): void;
};
export type TEventSourceConstructor = new (url: string) => TEventSource;

/**
 * Follows the environment's `GET /events` stream and calls `onChange` when what it serves changed,
 * including while the connection was down (each `ready` message carries the current ETag).
 * EventSource cannot send headers, so the public key goes in the URL: the API allows that for public
 * keys only. EventSource reconnects by itself after a dropped stream but gives up after a refusal
 * (429, 503) or a failed connect: then this reconnects with exponential backoff and jitter.
 */
export function subscribeToChanges(url: string, EventSourceImpl: TEventSourceConstructor, onChange: TChangeListener, baseMs = 1000): () => void {
  let etag: string | null = null;
  let attempt = 0;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let source: TEventSource | undefined;

  const receive = (ready: boolean) => (event: { data?: unknown }): void => {
    let message: { type?: string; etag?: unknown } = {};
    try {
      message = JSON.parse(String(event.data)) as typeof message;
    } catch { /* not ours: ignored */ }
    if (typeof message.etag !== 'string') return;
    const changed = ready ? etag !== null && etag !== message.etag : message.type === 'refetchEvaluation';
    if (ready) attempt = 0;
    etag = message.etag;
    if (changed) onChange({ etag });
  };

  const connect = (): void => {
    if (stopped) return;
    const current = (source = new EventSourceImpl(url));
    current.addEventListener('ready', receive(true));
    current.addEventListener('message', receive(false));
    current.addEventListener('error', () => {
      if (current.readyState !== 2 || stopped) return;
      const ceiling = Math.min(60_000, baseMs * 2 ** attempt++);
      timer = setTimeout(connect, ceiling / 2 + Math.random() * (ceiling / 2));
    });
  };

  connect();
  return () => {
    stopped = true;
    clearTimeout(timer);
    source?.close();
  };
}
