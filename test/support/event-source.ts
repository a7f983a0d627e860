/**
 * A small WHATWG EventSource over fetch, for SDK tests: Node 20 has none. It follows the parts of
 * the spec the SDK relies on: `ready`/`message` events by name, `retry:` and `Last-Event-ID` on
 * reconnect after a dropped stream, and failing for good (readyState CLOSED) on a refused connect.
 */
export class TestEventSource {
  static readonly opened: TestEventSource[] = [];
  readyState = 0;
  private readonly listeners = new Map<string, Set<(event: { data?: unknown }) => void>>();
  private readonly abort = new AbortController();
  private lastEventId = '';
  private retryMs = 3000;

  constructor(readonly url: string) {
    TestEventSource.opened.push(this);
    void this.run();
  }

  addEventListener(type: string, listener: (event: { data?: unknown }) => void): void {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type)!.add(listener);
  }

  close(): void {
    this.readyState = 2;
    this.abort.abort();
  }

  private dispatch(type: string, data?: string): void {
    for (const listener of this.listeners.get(type) ?? []) listener({ data });
  }

  private async run(): Promise<void> {
    let response: Response;
    try {
      response = await fetch(this.url, { headers: { accept: 'text/event-stream', ...(this.lastEventId ? { 'last-event-id': this.lastEventId } : {}) }, signal: this.abort.signal });
    } catch {
      return this.fail();
    }
    if (response.status !== 200 || !response.headers.get('content-type')?.startsWith('text/event-stream') || !response.body) {
      await response.body?.cancel();
      return this.fail();
    }
    this.readyState = 1;
    this.dispatch('open');
    const decoder = new TextDecoder();
    let buffer = '';
    let type = '';
    let data: string[] = [];
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        const lines = buffer.split('\n');
        buffer = lines.pop()!;
        for (const line of lines) {
          if (line === '') {
            if (data.length) this.dispatch(type || 'message', data.join('\n'));
            type = '';
            data = [];
            continue;
          }
          const colon = line.indexOf(':');
          if (colon === 0) continue;
          const field = colon < 0 ? line : line.slice(0, colon);
          const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'event') type = value;
          else if (field === 'data') data.push(value);
          else if (field === 'id') this.lastEventId = value;
          else if (field === 'retry' && /^\d+$/.test(value)) this.retryMs = Number(value);
        }
      }
    } catch {
      // Dropped, or closed by close().
    }
    if (this.readyState === 2) return;
    // A stream that ended is reconnected after `retry`, as browsers do.
    this.readyState = 0;
    this.dispatch('error');
    setTimeout(() => { if (this.readyState !== 2) void this.run(); }, this.retryMs);
  }

  private fail(): void {
    if (this.readyState === 2) return;
    this.readyState = 2;
    this.dispatch('error');
  }
}
