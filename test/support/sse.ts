export type TSseEvent = { event: string; id: string | null; retry: number | null; data: any; receivedAt: number };

export type TSseStream = {
  response: Response;
  /** The next event (comments skipped), or an error after `timeoutMs`. */
  next(timeoutMs?: number): Promise<TSseEvent>;
  /** Resolves once the server ended the stream. */
  ended: Promise<void>;
  /** Heartbeat comments seen so far. */
  comments: string[];
  close(): void;
};

/**
 * Opens `GET url` and parses its server-sent events as the spec says (fields up to a blank line), the
 * way EventSource would; Node 20 has no EventSource. A refused request resolves with the response and
 * no events.
 */
export async function openSse(url: string, headers: Record<string, string> = {}): Promise<TSseStream> {
  const abort = new AbortController();
  const response = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: abort.signal });
  const queue: TSseEvent[] = [];
  const waiters: Array<() => void> = [];
  const comments: string[] = [];
  let done = false;
  const wake = () => waiters.splice(0).forEach((w) => w());

  const ended = (async () => {
    if (!response.ok || !response.body) return;
    const decoder = new TextDecoder();
    let buffer = '';
    let fields: Partial<TSseEvent> & { dataLines: string[] } = { dataLines: [] };
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let newline: number;
        while ((newline = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, newline).replace(/\r$/, '');
          buffer = buffer.slice(newline + 1);
          if (line === '') {
            if (fields.dataLines.length > 0) {
              const data = fields.dataLines.join('\n');
              queue.push({ event: fields.event ?? 'message', id: fields.id ?? null, retry: fields.retry ?? null, data: JSON.parse(data), receivedAt: Date.now() });
              wake();
            }
            fields = { dataLines: [] };
          } else if (line.startsWith(':')) {
            comments.push(line.slice(1).trim());
          } else {
            const colon = line.indexOf(':');
            const name = colon < 0 ? line : line.slice(0, colon);
            const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
            if (name === 'data') fields.dataLines.push(value);
            else if (name === 'event') fields.event = value;
            else if (name === 'id') fields.id = value;
            else if (name === 'retry') fields.retry = Number(value);
          }
        }
      }
    } catch {
      // Aborted by close().
    } finally {
      done = true;
      wake();
    }
  })();

  return {
    response,
    comments,
    ended,
    close: () => abort.abort(),
    async next(timeoutMs = 2_000) {
      const deadline = Date.now() + timeoutMs;
      while (queue.length === 0) {
        if (done) throw new Error('The stream ended');
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`No event within ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          waiters.push(() => { clearTimeout(timer); resolve(); });
        });
      }
      return queue.shift()!;
    },
  };
}
