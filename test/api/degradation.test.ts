import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type TApp } from '../../api/src/app.ts';
import { openDatabase, type TDatabase } from '../../api/src/db/database.ts';
import { migrate } from '../../api/src/db/migrator.ts';
import { seedDemo, type TSeedResult } from '../../api/src/seed.ts';
import { listen } from '../../api/src/server.ts';
import { ONBOARDING_DOCUMENT } from '../../sdk/src/documents.ts';
import { createPostgresDatabase } from '../support/databases.ts';
import { startFaultProxy, type TFaultProxy } from '../support/fault-proxy.ts';
import { freePort } from '../support/process.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const CACHE_TTL_MS = 300;

/** The API on PostgreSQL through a proxy the tests cut and restore; key and profile caches live 300 ms. */
describe('the API while its database is unreachable', () => {
  let target: Awaited<ReturnType<typeof createPostgresDatabase>>;
  let proxy: TFaultProxy;
  let db: TDatabase;
  let app: TApp;
  let server: Server;
  let url: string;
  let ws: TSeedResult;
  let listenRestored = 0;

  beforeAll(async () => {
    target = await createPostgresDatabase();
    const setup = await openDatabase({ databaseUrl: target.url });
    await migrate(setup);
    ws = await seedDemo(setup.prisma);
    await setup.close();
    proxy = await startFaultProxy();
    db = await openDatabase({ databaseUrl: proxy.proxied(target.url) });
    app = await createApp({ db, runtimeCacheTtlMs: CACHE_TTL_MS });
    // A LISTEN connection that comes back drops every cache (messages may have been missed).
    app.services.bus.subscribe((change) => { if (change.type === 'all') listenRestored++; });
    server = await listen(app, await freePort(), '127.0.0.1');
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });

  afterAll(async () => {
    proxy?.restore();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await app?.close();
    await db?.close();
    await proxy?.close();
    await target?.drop();
  });

  const onboarding = (id: string) => fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ws.publicKey}` },
    body: JSON.stringify({ query: ONBOARDING_DOCUMENT, variables: { user: { id } } }),
  });

  async function withDatabaseDown<T>(work: () => Promise<T>): Promise<T> {
    proxy.cut();
    try {
      return await work();
    } finally {
      proxy.restore();
    }
  }

  it('should report not ready while the database is unreachable, and ready again once it is back', async () => {
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    const down = await withDatabaseDown(async () => {
      const response = await fetch(`${url}/readyz`);
      return { status: response.status, retryAfter: response.headers.get('retry-after'), live: (await fetch(`${url}/healthz`)).status };
    });
    expect(down).toEqual({ status: 503, retryAfter: '5', live: 200 });
    let status = 0;
    for (let attempt = 0; attempt < 50 && status !== 200; attempt++) {
      status = (await fetch(`${url}/readyz`)).status;
      if (status !== 200) await sleep(100);
    }
    expect(status).toBe(200);
    // The next tests warm caches: they wait for the LISTEN connection to come back and drop them first.
    const deadline = Date.now() + 30_000;
    while (listenRestored === 0 && Date.now() < deadline) await sleep(100);
    expect(listenRestored).toBe(1);
  });

  it('should keep serving a known user from memory after their cached key and profile expire', async () => {
    expect((await (await onboarding('known-user')).json()).data.onboarding.flow.key).toBe('self-serve');
    const served = await withDatabaseDown(async () => {
      await sleep(CACHE_TTL_MS * 2);
      const response = await onboarding('known-user');
      return { status: response.status, body: await response.json() };
    });
    expect(served.status).toBe(200);
    expect(served.body.data.onboarding.flow.key).toBe('self-serve');
  });

  it('should keep serving a known user when the database fails again right after the LISTEN connection came back', async () => {
    expect((await (await onboarding('flapping-user')).json()).data.onboarding.flow.key).toBe('self-serve');
    const restoredBefore = listenRestored;
    proxy.cut();
    await sleep(200);
    proxy.restore();
    const deadline = Date.now() + 30_000;
    while (listenRestored === restoredBefore && Date.now() < deadline) await sleep(100);
    expect(listenRestored).toBe(restoredBefore + 1);
    const served = await withDatabaseDown(async () => {
      const response = await onboarding('flapping-user');
      return { status: response.status, body: await response.json() };
    });
    expect(served.status).toBe(200);
    expect(served.body.data.onboarding.flow.key).toBe('self-serve');
  });

  it('should answer 503 with Retry-After and code UNAVAILABLE when a request needs the database', async () => {
    await (await onboarding('warm-key')).text();
    const answer = await withDatabaseDown(async () => {
      const response = await onboarding('never-seen-user');
      return { status: response.status, retryAfter: response.headers.get('retry-after'), body: await response.json() };
    });
    expect(answer.status).toBe(503);
    expect(answer.retryAfter).toBe('5');
    expect(answer.body.errors[0]).toMatchObject({ message: 'The service is briefly unavailable; retry shortly', extensions: { code: 'UNAVAILABLE' } });
    expect(JSON.stringify(answer.body)).not.toMatch(/ECONN|Prisma|stack|at /);
  });
});
