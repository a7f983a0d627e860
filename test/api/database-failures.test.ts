import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createApp, type TApp } from '../../api/src/app.ts';
import { openDatabase, type TDatabase } from '../../api/src/db/database.ts';
import { migrate } from '../../api/src/db/migrator.ts';
import { BatchWriter } from '../../api/src/runtime/batch-writer.ts';
import { seedDemo, type TSeedResult } from '../../api/src/seed.ts';
import type { TGraphQLResponse, TTestApi } from '../support/api.ts';
import { createPostgresDatabase } from '../support/databases.ts';
import { launchedExperiment } from '../support/experiments.ts';
import { startFaultProxy, type TFaultProxy } from '../support/fault-proxy.ts';

const TRACK = `mutation($events: [TrackEventInput!]!) { track(events: $events) { accepted duplicates } }`;
const SERVE = `query($id: ID!) { onboarding(user: { id: $id }) { version variant } }`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function gqlOf(app: TApp) {
  return async (key: string, query: string, variables?: Record<string, unknown>): Promise<TGraphQLResponse> =>
    (await app.yoga.fetch('http://doorstep.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query, variables }),
    })).json();
}

/**
 * The API on PostgreSQL through a proxy the tests cut and restore, so the database fails under it
 * mid-batch; the checks read PostgreSQL directly, around the API and its caches.
 */
describe('the API when PostgreSQL fails under it', () => {
  let target: Awaited<ReturnType<typeof createPostgresDatabase>>;
  let proxy: TFaultProxy;
  let setup: TDatabase;
  let db: TDatabase;
  let app: TApp;
  let direct: pg.Client;
  let ws: TSeedResult;
  let environmentId: string;

  beforeAll(async () => {
    target = await createPostgresDatabase();
    setup = await openDatabase({ databaseUrl: target.url });
    await migrate(setup);
    proxy = await startFaultProxy();
    db = await openDatabase({ databaseUrl: proxy.proxied(target.url) });
    // Few attempts, so that a request caught by the cut fails instead of outlasting it.
    app = await createApp({ db, eventCommitter: { maxAttempts: 2 } });
    direct = new pg.Client({ connectionString: target.url });
    await direct.connect();
  });

  afterAll(async () => {
    proxy?.restore();
    await app?.close();
    await db?.close();
    await direct?.end();
    await setup?.close();
    await proxy?.close();
    await target?.drop();
  });

  beforeEach(async () => {
    const suffix = randomBytes(4).toString('hex');
    ws = await seedDemo(setup.prisma, {}, { slug: `failures-${suffix}`, name: `Failures ${suffix}` });
    environmentId = (await setup.prisma.environment.findFirstOrThrow({ where: { workspaceId: ws.workspaceId, key: 'production' } })).id;
  });

  afterEach(async () => {
    proxy.restore();
    await Promise.all([app.services.profiles.flush(), app.services.serves.flush()]);
    await setup.prisma.workspace.delete({ where: { id: ws.workspaceId } });
  });

  const storedEventIds = async () => new Set((await direct.query<{ clientEventId: string }>(
    'SELECT "clientEventId" FROM "Event" WHERE "environmentId" = $1', [environmentId])).rows.map((row) => row.clientEventId));

  it('should lose no acknowledged event when the database fails mid-batch, and store each event once when clients retry', async () => {
    const gql = gqlOf(app);
    const CLIENTS = 12;
    const REQUESTS_PER_CLIENT = 8;
    const outcomes: Array<{ ids: string[]; events: unknown[]; res: TGraphQLResponse }> = [];
    const retriesBefore = app.services.events.stats.groupRetries;
    const load = Promise.all(Array.from({ length: CLIENTS }, async (_, client) => {
      for (let request = 0; request < REQUESTS_PER_CLIENT; request++) {
        const userId = `mid-${client}`;
        const events = Array.from({ length: 20 }, (_, i) => ({
          id: `mid-${client}-${request}-${i}`, userId, ...(i === 0 ? { name: 'flow_started', flowKey: 'self-serve' } : { name: 'page_viewed' }),
        }));
        const res = await gql(ws.publicKey, TRACK, { events });
        outcomes.push({ ids: events.map((e) => e.id), events, res });
      }
    }));
    // Cut once acknowledgements come in, so that the cut falls on batches in flight.
    while (outcomes.length < CLIENTS) await sleep(2);
    proxy.cut();
    await sleep(400);
    proxy.restore();
    await load;

    const stored = await storedEventIds();
    const acknowledged = outcomes.filter((o) => o.res.data?.track);
    const failed = outcomes.filter((o) => !o.res.data?.track);
    for (const { ids, res } of acknowledged) {
      expect(res.data!.track.accepted).toBe(20);
      expect(ids.filter((id) => !stored.has(id))).toEqual([]);
    }
    for (const { res } of failed) expect(res.errors?.length).toBeGreaterThan(0);
    // The cut did hit the committer: requests failed or groups were retried.
    expect(failed.length + app.services.events.stats.groupRetries - retriesBefore).toBeGreaterThan(0);

    for (const { events } of failed) {
      let res = await gql(ws.publicKey, TRACK, { events });
      for (let attempt = 0; !res.data?.track && attempt < 20; attempt++) {
        await sleep(100);
        res = await gql(ws.publicKey, TRACK, { events });
      }
      expect(res.data?.track?.accepted).toBe(20);
    }
    const { rows } = await direct.query<{ rows: string; distinct: string }>(
      'SELECT count(*) AS "rows", count(DISTINCT "clientEventId") AS "distinct" FROM "Event" WHERE "environmentId" = $1 AND "clientEventId" LIKE \'mid-%\'',
      [environmentId]);
    expect(rows[0]).toEqual({ rows: String(CLIENTS * REQUESTS_PER_CLIENT * 20), distinct: String(CLIENTS * REQUESTS_PER_CLIENT * 20) });
  });

  it('should store the exposures, flow serves and first sightings of users served while the database was down once it is back', async () => {
    const gql = gqlOf(app);
    const experimentId = await launchedExperiment({ gql } as TTestApi, ws, 'while-down');
    const users = Array.from({ length: 20 }, (_, i) => `down-${i}`);
    // The snapshot and the profiles are read while the database is up; serving then needs no database.
    expect((await gql(ws.publicKey, SERVE, { id: 'warm-up' })).errors).toBeUndefined();
    await Promise.all(users.map((user) => app.services.profiles.get(environmentId, user)));
    // The warm-up's own serve is stored first, so what waits below is the twenty users' only.
    await Promise.all([app.services.serves.flush(), app.services.profiles.flush()]);
    proxy.cut();
    const served = await Promise.all(users.map((id) => gql(ws.publicKey, SERVE, { id })));
    expect(served.map((res) => res.errors)).toEqual(users.map(() => undefined));
    // The writers fail and keep their items meanwhile.
    while (app.services.serves.stats.exposures.retries === 0 || app.services.serves.stats.flowServes.retries === 0) await sleep(20);
    expect(app.services.serves.stats.exposures.pending).toBe(20);
    proxy.restore();
    await Promise.all([app.services.serves.flush(), app.services.profiles.flush()]);

    const count = async (sql: string, params: unknown[]) => Number((await direct.query<{ n: string }>(sql, params)).rows[0].n);
    expect(await count('SELECT count(*) AS n FROM "Exposure" WHERE "experimentId" = $1 AND "userId" LIKE \'down-%\'', [experimentId])).toBe(20);
    expect(await count('SELECT count(*) AS n FROM "FlowServe" WHERE "environmentId" = $1 AND "userId" LIKE \'down-%\'', [environmentId])).toBe(20);
    expect(await count('SELECT count(*) AS n FROM "UserProfile" WHERE "environmentId" = $1 AND "externalId" LIKE \'down-%\'', [environmentId])).toBe(20);
  });

  it('should store the exposures, flow serves and first sightings of users served just before a shutdown', async () => {
    // A second API process on the same database, closed right after serving.
    const ownDb = await openDatabase({ databaseUrl: target.url });
    const closing = await createApp({ db: ownDb });
    let closed = false;
    try {
      const gql = gqlOf(closing);
      const experimentId = await launchedExperiment({ gql } as TTestApi, ws, 'before-shutdown');
      const users = Array.from({ length: 20 }, (_, i) => `closing-${i}`);
      const served = await Promise.all(users.map((id) => gql(ws.publicKey, SERVE, { id })));
      expect(served.map((res) => res.errors)).toEqual(users.map(() => undefined));
      await closing.close();
      closed = true;

      const count = async (sql: string, params: unknown[]) => Number((await direct.query<{ n: string }>(sql, params)).rows[0].n);
      expect(await count('SELECT count(*) AS n FROM "Exposure" WHERE "experimentId" = $1 AND "userId" LIKE \'closing-%\'', [experimentId])).toBe(20);
      expect(await count('SELECT count(*) AS n FROM "FlowServe" WHERE "environmentId" = $1 AND "userId" LIKE \'closing-%\'', [environmentId])).toBe(20);
      expect(await count('SELECT count(*) AS n FROM "UserProfile" WHERE "environmentId" = $1 AND "externalId" LIKE \'closing-%\'', [environmentId])).toBe(20);
    } finally {
      if (!closed) await closing.close();
      await ownDb.close();
    }
  });

  it('should give up writing at a shutdown deadline while the database is down, and log once how many items and which keys were lost', async () => {
    const writer = new BatchWriter((data: Array<{ environmentId: string; flowKey: string; userId: string }>) => db.prisma.flowServe.createMany({ data, skipDuplicates: true }), {
      label: 'test flow serves', intervalMs: 10,
    });
    proxy.cut();
    for (const userId of ['lost-a', 'lost-b', 'lost-c']) writer.add(userId, { environmentId, flowKey: 'self-serve', userId });
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      await writer.flush({ deadline: Date.now() + 300 });
      expect(errors).toHaveBeenCalledTimes(1);
      expect(errors.mock.calls[0][0]).toMatch(/lost .*count=3 keys="lost-a, lost-b, lost-c"/);
    } finally {
      errors.mockRestore();
    }
    expect(writer.stats).toMatchObject({ lost: 3, pending: 0, written: 0 });
  });
});
