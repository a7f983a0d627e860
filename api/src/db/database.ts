import { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { PrismaClient } from '../generated/prisma/client.ts';
import { log } from '../log.ts';
import { backoffDelayMs } from '../runtime/backoff.ts';

export type TSqlSession = {
  exec(sql: string): Promise<void>;
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
};

export type TDatabase = {
  driver: 'pglite' | 'postgres';
  prisma: PrismaClient;
  /**
   * A parameterized read outside Prisma, for the runtime's hot path: one round trip, no query
   * compilation. Everything else goes through Prisma.
   */
  query<T = Record<string, unknown>>(sql: string, params: unknown[]): Promise<T[]>;
  /** One dedicated connection, for work that must not interleave (migrations). */
  withSession<T>(fn: (session: TSqlSession) => Promise<T>): Promise<T>;
  /** Cross-process messages: NOTIFY on PostgreSQL, in-process on PGlite (it has one process). */
  notify(channel: string, payload: string): Promise<void>;
  listen(channel: string, onMessage: (payload: string) => void, onReconnect?: () => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
};

export type TDatabaseOptions = { databaseUrl?: string; dataDir?: string };

/** PostgreSQL when a URL is given, otherwise PGlite in `dataDir` (or in memory without one). */
export async function openDatabase(options: TDatabaseOptions): Promise<TDatabase> {
  return options.databaseUrl ? openPostgres(options.databaseUrl) : openPglite(options.dataDir);
}

async function openPglite(dataDir?: string): Promise<TDatabase> {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const pglite = dataDir ? new PGlite(dataDir) : new PGlite();
  await pglite.waitReady;
  const prisma = new PrismaClient({ adapter: new PrismaPGlite(pglite) });
  const bus = new EventEmitter();
  bus.setMaxListeners(0);
  const session: TSqlSession = {
    exec: async (sql) => { await pglite.exec(sql); },
    query: async (sql, params) => (await pglite.query(sql, params)).rows as never[],
  };
  return {
    driver: 'pglite',
    prisma,
    query: session.query,
    withSession: (fn) => fn(session),
    notify: async (channel, payload) => { queueMicrotask(() => bus.emit(channel, payload)); },
    listen: async (channel, onMessage) => {
      bus.on(channel, onMessage);
      return async () => { bus.off(channel, onMessage); };
    },
    close: async () => {
      await prisma.$disconnect();
      await pglite.close();
    },
  };
}

async function openPostgres(databaseUrl: string): Promise<TDatabase> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 10 });
  // An idle connection the server drops (restart, failover) is reported here; without a listener
  // the process would crash. The pool replaces it on the next checkout.
  pool.on('error', (error) => log.warn('PostgreSQL connection lost', { error: error.message }));
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  const listeners: Array<() => Promise<void>> = [];
  return {
    driver: 'postgres',
    prisma,
    query: async (sql, params) => (await pool.query(sql, params)).rows,
    withSession: async (fn) => {
      const client = await pool.connect();
      try {
        return await fn({
          exec: async (sql) => { await client.query(sql); },
          query: async (sql, params) => (await client.query(sql, params)).rows,
        });
      } finally {
        client.release();
      }
    },
    notify: async (channel, payload) => {
      await pool.query('SELECT pg_notify($1, $2)', [channel, payload]);
    },
    listen: async (channel, onMessage, onReconnect) => {
      const stop = await listenWithReconnect(databaseUrl, channel, onMessage, onReconnect);
      listeners.push(stop);
      return stop;
    },
    close: async () => {
      await Promise.all(listeners.map((stop) => stop()));
      await prisma.$disconnect();
      await pool.end().catch(() => undefined);
    },
  };
}

/** A dedicated LISTEN connection; on loss it reconnects and reports it, since messages may have been missed. */
async function listenWithReconnect(
  databaseUrl: string, channel: string, onMessage: (payload: string) => void, onReconnect?: () => void,
): Promise<() => Promise<void>> {
  let stopped = false;
  let client: pg.Client | null = null;
  let retry: NodeJS.Timeout | undefined;

  const connect = async (isReconnect: boolean): Promise<void> => {
    const next = new pg.Client({ connectionString: databaseUrl });
    next.on('notification', (msg) => { if (msg.channel === channel) onMessage(msg.payload ?? ''); });
    next.on('error', (error) => scheduleReconnect(error));
    next.on('end', () => scheduleReconnect());
    await next.connect();
    await next.query(`LISTEN "${channel.replace(/"/g, '')}"`);
    client = next;
    if (isReconnect) onReconnect?.();
  };
  let failures = 0;
  const scheduleReconnect = (error?: unknown) => {
    if (stopped || retry) return;
    client = null;
    const delayMs = backoffDelayMs(failures++);
    log.warn('LISTEN connection lost; reconnecting', { channel, attempt: failures, retryInMs: delayMs, error: error instanceof Error ? error.message : undefined });
    retry = setTimeout(() => {
      retry = undefined;
      connect(true).then(() => {
        log.info('LISTEN connection restored; caches dropped, since messages may have been missed', { channel, attempts: failures });
        failures = 0;
      }, (reconnectError: unknown) => scheduleReconnect(reconnectError));
    }, delayMs);
  };

  await connect(false);
  return async () => {
    stopped = true;
    clearTimeout(retry);
    await client?.end().catch(() => undefined);
  };
}
