import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { TApp } from './app.ts';
import { RateLimitedError, waitInWords } from './errors.ts';

/** How long a request may take to arrive, headers and body. */
const REQUEST_ARRIVAL_MS = 30_000;

/** Larger than any valid request: a draft at every content limit is a few hundred KB. */
export const MAX_REQUEST_BODY_BYTES = 1_000_000;

/**
 * The HTTP listener: /healthz (the process lives) and /readyz (it can reach its database) for load
 * balancers and orchestrators, everything else to yoga. The body limit lives
 * here rather than in yoga, whose streaming check cost 40% of the runtime path's throughput: Node's
 * parser never reads past Content-Length, so bounding the header bounds the body.
 */
export function listen(app: TApp, port: number, host: string): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url === '/healthz') return reply(res, 200, { status: 'ok' });
    if (req.url === '/readyz') return void ready(app).then((isReady) => (isReady
      ? reply(res, 200, { status: 'ready' })
      : reply(res, 503, { status: 'unavailable', reason: 'The database does not answer' }, { 'retry-after': '5' })));
    const refusal = bodyRefusal(req);
    if (refusal) return reply(res, refusal.status, { errors: [{ message: refusal.message }] });
    if (req.method === 'OPTIONS') return toYoga(app, req, res);
    void app.services.limits.admit(req).then((limited) => {
      if (limited) return tooManyRequests(req, res, limited.retryAfterSeconds);
      if (req.method === 'POST' && isGraphQLPath(req.url)) void runtimeOrYoga(app, req, res);
      else toYoga(app, req, res);
    });
  });
  // A request's headers and body must arrive within these, or its socket is closed: slow senders
  // cannot hold connections open (Node's defaults are 60 s and 300 s).
  server.headersTimeout = REQUEST_ARRIVAL_MS;
  server.requestTimeout = REQUEST_ARRIVAL_MS;
  // close() waits for every open connection, and an event stream never ends by itself: end the
  // streams first (their clients reconnect elsewhere), so shutting down cannot hang on them.
  const close = server.close.bind(server);
  server.close = ((callback?: (error?: Error) => void) => {
    app.services.streams.closeAll();
    return close(callback);
  }) as Server['close'];
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

/**
 * Reads a POST's body once: the runtime's fast path answers it, or yoga gets the same bytes (the
 * stream is consumed, so they are handed over as the request's body).
 */
async function runtimeOrYoga(app: TApp, req: IncomingMessage, res: ServerResponse): Promise<void> {
  let body: Buffer;
  try {
    body = await readBody(req);
  } catch {
    if (!res.headersSent) reply(res, 400, { errors: [{ message: 'The request body could not be read' }] });
    return;
  }
  if (body.length > 0 && isJsonContentType(req.headers['content-type']) && await app.runtime.answer(req, res, body.toString('utf8')).catch(() => false)) return;
  (req as IncomingMessage & { body?: unknown }).body = asReadBody(body);
  toYoga(app, req, res);
}

/**
 * A body already read, in a form yoga's server adapter (@whatwg-node/server) takes in constant time.
 * It takes `req.body` when that has own keys, counting them with Object.keys, and a Buffer's keys
 * are its indices: a million strings for a 1 MB body, which cost more than answering it and filled
 * the heap with garbage. An async iterable with one key is taken as it is.
 */
function asReadBody(bytes: Buffer): { bytes: Buffer; [Symbol.asyncIterator](): AsyncGenerator<Buffer> } {
  return {
    bytes,
    async *[Symbol.asyncIterator]() {
      yield bytes;
    },
  };
}

/**
 * Yoga builds the request's URL from the Host header and the path; a Host it cannot parse (`[`,
 * `a b`) throws there, outside any error handling of ours, and its server adapter answers 500 with
 * the error's stack (source paths included) as the body. Such a request is the caller's mistake.
 */
function toYoga(app: TApp, req: IncomingMessage, res: ServerResponse): void {
  if (!URL.canParse(`http://${req.headers.host ?? 'localhost'}${req.url ?? '/'}`)) {
    return reply(res, 400, { errors: [{ message: 'The Host header and the request target do not form a valid URL' }] });
  }
  void app.yoga(req, res);
}

/** Yoga's rule for a JSON POST (isContentTypeMatch): the first media type exactly, or followed by parameters. */
function isJsonContentType(header: string | undefined): boolean {
  const first = header?.split(',')[0];
  if (!first) return false;
  return ['application/json', 'application/graphql+json'].some((type) => first === type || first.startsWith(`${type};`));
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function isGraphQLPath(url: string | undefined): boolean {
  return url === '/graphql' || (url?.startsWith('/graphql?') ?? false);
}

function bodyRefusal(req: IncomingMessage): { status: number; message: string } | null {
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD' && req.method !== 'OPTIONS';
  if (!hasBody) return null;
  const length = req.headers['content-length'];
  if (length === undefined) {
    return req.headers['transfer-encoding'] ? { status: 411, message: 'Send a Content-Length header' } : null;
  }
  return Number(length) > MAX_REQUEST_BODY_BYTES
    ? { status: 413, message: `Request bodies are limited to ${MAX_REQUEST_BODY_BYTES} bytes` }
    : null;
}

/**
 * 429 in GraphQL's error shape, as yoga writes a RateLimitedError, with the CORS headers a browser
 * app needs to read it. The body is not read: the connection closes.
 */
function tooManyRequests(req: IncomingMessage, res: ServerResponse, retryAfterSeconds: number): void {
  const error = new RateLimitedError(`Too many requests; try again ${waitInWords(retryAfterSeconds)}`, retryAfterSeconds);
  const origin = req.headers.origin;
  reply(res, 429, { errors: [{ message: error.message, extensions: { code: error.code, retryAfterSeconds } }] }, {
    'retry-after': String(retryAfterSeconds),
    ...(origin ? { 'access-control-allow-origin': origin, vary: 'Origin', 'access-control-expose-headers': 'retry-after' } : {}),
  });
}

function reply(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', connection: status === 200 ? 'keep-alive' : 'close', ...headers }).end(JSON.stringify(body));
}

/** Ready when the database answers a trivial query within a second. */
async function ready(app: TApp): Promise<boolean> {
  const timeout = new Promise<false>((resolve) => setTimeout(() => resolve(false), 1_000).unref());
  return Promise.race([app.services.db.query('SELECT 1', []).then(() => true, () => false), timeout]);
}
