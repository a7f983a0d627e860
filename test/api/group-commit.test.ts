import { describe, expect, it } from 'vitest';
import { useTestApi, useTestWorkspace, type TTestApi } from '../support/api.ts';
import { DATABASE_KINDS } from '../support/databases.ts';
import { createApp } from '../../api/src/app.ts';
import { EventCommitter } from '../../api/src/runtime/event-committer.ts';
import type { TSeedResult } from '../../api/src/seed.ts';

const TRACK = `mutation($events: [TrackEventInput!]!) { track(events: $events) { accepted duplicates } }`;

type TEvent = { id: string; userId: string; name: string; flowKey?: string; stepId?: string };

const pageViews = (prefix: string, userId: string, count: number): TEvent[] =>
  Array.from({ length: count }, (_, i) => ({ id: `${prefix}-${i}`, userId, name: 'page_viewed' }));

async function productionId(api: TTestApi, ws: TSeedResult): Promise<string> {
  return (await api.database.db.prisma.environment.findFirstOrThrow({ where: { workspaceId: ws.workspaceId, key: 'production' }, select: { id: true } })).id;
}

/** The stored events with the transaction that wrote each: rows one transaction inserted share `xmin`. */
async function storedWithWriter(api: TTestApi, environmentId: string, ids: string[]) {
  return api.database.db.prisma.$queryRaw<Array<{ clientEventId: string; userId: string; writer: string }>>`
    SELECT "clientEventId", "userId", xmin::text AS "writer" FROM "Event"
    WHERE "environmentId" = ${environmentId}::uuid AND "clientEventId" = ANY(${ids}::text[])`;
}

describe.each(DATABASE_KINDS)('group commit of track on %s', (kind) => {
  // A wide window: requests sent together then share a group however slow the machine is.
  const api = useTestApi(kind, { eventCommitter: { windowMs: 100 } });
  const ws = useTestWorkspace(api);
  const track = (events: TEvent[]) => api.gql(ws.publicKey, TRACK, { events });

  it('should commit requests that arrive together in one transaction and answer each with its own counts', async () => {
    const batches = [pageViews('tog-a', 'tog-user-a', 5), pageViews('tog-b', 'tog-user-b', 3), pageViews('tog-c', 'tog-user-c', 7)];
    const answers = await Promise.all(batches.map(track));
    expect(answers.map((res) => res.data?.track)).toEqual([{ accepted: 5, duplicates: 0 }, { accepted: 3, duplicates: 0 }, { accepted: 7, duplicates: 0 }]);
    const stored = await storedWithWriter(api, await productionId(api, ws), batches.flat().map((e) => e.id));
    expect(stored).toHaveLength(15);
    expect(new Set(stored.map((row) => row.writer)).size).toBe(1);
  });

  it('should store an id two requests of one group carry once, for the earlier request, and count it as a duplicate for the later one', async () => {
    const environmentId = await productionId(api, ws);
    const snapshot = await api.app.services.snapshots.get(environmentId);
    const first = [...pageViews('dup-a', 'dup-user-a', 2), { id: 'dup-shared', userId: 'dup-user-a', name: 'page_viewed' }];
    const second = [{ id: 'dup-shared', userId: 'dup-user-b', name: 'page_viewed' }, ...pageViews('dup-b', 'dup-user-b', 1)];
    // Submitted in this order within one window: the committer keeps arrival order.
    const [a, b] = await Promise.all([api.app.services.events.submit(snapshot, first), api.app.services.events.submit(snapshot, second)]);
    expect(a).toEqual({ accepted: 3, duplicates: 0, affectedUsers: ['dup-user-a'] });
    expect(b).toEqual({ accepted: 2, duplicates: 1, affectedUsers: ['dup-user-b'] });
    const stored = await storedWithWriter(api, environmentId, ['dup-a-0', 'dup-a-1', 'dup-shared', 'dup-b-0']);
    expect(stored).toHaveLength(4);
    expect(stored.find((row) => row.clientEventId === 'dup-shared')!.userId).toBe('dup-user-a');
    expect(new Set(stored.map((row) => row.writer)).size).toBe(1);
  });

  it('should reject a request with a bad event alone and store the other requests of its window', async () => {
    const good = [pageViews('bad-win-a', 'bad-win-user-a', 4), pageViews('bad-win-c', 'bad-win-user-c', 2)];
    const bad = [...pageViews('bad-win-b', 'bad-win-user-b', 2), { id: 'bad-win-b-x', userId: 'bad-win-user-b', name: 'step_completed', flowKey: 'self-serve', stepId: 'no-such-step' }];
    const [a, rejected, c] = await Promise.all([track(good[0]), track(bad), track(good[1])]);
    expect(rejected.errors![0].extensions).toMatchObject({ code: 'VALIDATION', issues: [{ path: 'events.2.stepId' }] });
    expect([a.data?.track, c.data?.track]).toEqual([{ accepted: 4, duplicates: 0 }, { accepted: 2, duplicates: 0 }]);
    const stored = await storedWithWriter(api, await productionId(api, ws), [...good.flat(), ...bad].map((e) => e.id));
    expect(stored.map((row) => row.clientEventId).sort()).toEqual(good.flat().map((e) => e.id).sort());
    expect(new Set(stored.map((row) => row.writer)).size).toBe(1);
  });

  it('should fail only the request the database refuses and store its neighbours', async () => {
    const splitBefore = api.app.services.events.stats.splitGroups;
    const good = [pageViews('poison-a', 'poison-user-a', 3), pageViews('poison-c', 'poison-user-c', 3)];
    // Valid to the API, refused by the database: a constraint this test adds to its own database
    // (the API's validation already refuses what PostgreSQL cannot store, such as NUL characters).
    const poisonous = pageViews('poison-b', 'poison-user-b', 3);
    await api.database.db.prisma.$executeRawUnsafe('ALTER TABLE "Event" ADD CONSTRAINT "refuse_poison" CHECK ("userId" <> \'poison-user-b\')');
    const [a, refused, c] = await Promise.all([track(good[0]), track(poisonous), track(good[1])]).finally(() =>
      api.database.db.prisma.$executeRawUnsafe('ALTER TABLE "Event" DROP CONSTRAINT "refuse_poison"'));
    expect(refused.errors).toHaveLength(1);
    expect(refused.data?.track ?? null).toBeNull();
    expect([a.data?.track, c.data?.track]).toEqual([{ accepted: 3, duplicates: 0 }, { accepted: 3, duplicates: 0 }]);
    expect(api.app.services.events.stats.splitGroups).toBe(splitBefore + 1);
    const stored = await storedWithWriter(api, await productionId(api, ws), [...good.flat(), ...poisonous].map((e) => e.id));
    expect(stored.map((row) => row.clientEventId).sort()).toEqual(good.flat().map((e) => e.id).sort());
  });

  it('should hold requests beyond its bound until there is room, dropping none', async () => {
    const committer = new EventCommitter(api.database.db.prisma, { maxPendingEvents: 20, windowMs: 20 });
    const snapshot = await api.app.services.snapshots.get(await productionId(api, ws));
    const batches = Array.from({ length: 5 }, (_, i) => pageViews(`bound-${i}`, `bound-user-${i}`, 20));
    const answers = await Promise.all(batches.map((batch) => committer.submit(snapshot, batch)));
    expect(answers.map(({ accepted, duplicates }) => ({ accepted, duplicates }))).toEqual(batches.map(() => ({ accepted: 20, duplicates: 0 })));
    // Never more than the bound at once: each group held one request.
    expect(committer.stats).toMatchObject({ groups: 5, largestGroup: 20 });
    expect(await storedWithWriter(api, await productionId(api, ws), batches.flat().map((e) => e.id))).toHaveLength(100);
  });

  it('should commit the requests waiting for their group before a shutdown completes', async () => {
    // A second API on the same database whose window would hold the requests for a minute.
    const closing = await createApp({ db: api.database.db, eventCommitter: { windowMs: 60_000 } });
    const environmentId = await productionId(api, ws);
    const snapshot = await closing.services.snapshots.get(environmentId);
    const batches = [pageViews('shutdown-a', 'shutdown-user-a', 4), pageViews('shutdown-b', 'shutdown-user-b', 2)];
    const answers = Promise.all(batches.map((batch) => closing.services.events.submit(snapshot, batch)));
    const started = Date.now();
    await closing.close();
    expect(Date.now() - started).toBeLessThan(10_000);
    expect((await answers).map(({ accepted, duplicates }) => ({ accepted, duplicates }))).toEqual([{ accepted: 4, duplicates: 0 }, { accepted: 2, duplicates: 0 }]);
    expect(await storedWithWriter(api, environmentId, batches.flat().map((e) => e.id))).toHaveLength(6);
  });
});

describe('group commit under load on PostgreSQL', () => {
  const api = useTestApi('postgres');
  const ws = useTestWorkspace(api);

  it('should store every event of 32 concurrent clients sending 20 events a request exactly once, failing no request', async () => {
    const CLIENTS = 32;
    const REQUESTS_PER_CLIENT = 8;
    // Clients share users, so concurrent groups lock the same profiles and must not deadlock.
    const batch = (client: number, request: number): TEvent[] => {
      const userId = `load-user-${(client + request) % 8}`;
      return Array.from({ length: 20 }, (_, i) => {
        const id = `load-${client}-${request}-${i}`;
        if (i === 0) return { id, userId, name: 'flow_started', flowKey: 'self-serve' };
        if (i === 1) return { id, userId, name: 'first_event_received' };
        if (i === 2) return { id, userId, name: 'step_completed', flowKey: 'self-serve', stepId: 'about-you' };
        return { id, userId, name: 'page_viewed' };
      });
    };
    const answers = await Promise.all(Array.from({ length: CLIENTS }, async (_, client) => {
      const mine = [];
      for (let request = 0; request < REQUESTS_PER_CLIENT; request++) mine.push(await api.gql(ws.publicKey, TRACK, { events: batch(client, request) }));
      return mine;
    }));
    const failed = answers.flat().filter((res) => res.errors || res.data?.track?.accepted !== 20 || res.data.track.duplicates !== 0);
    expect(failed).toEqual([]);
    const [{ rows, distinct }] = await api.database.db.prisma.$queryRaw<Array<{ rows: bigint; distinct: bigint }>>`
      SELECT count(*) AS "rows", count(DISTINCT e."clientEventId") AS "distinct" FROM "Event" e JOIN "Environment" env ON env."id" = e."environmentId"
      WHERE env."workspaceId" = ${ws.workspaceId}::uuid AND e."clientEventId" LIKE 'load-%'`;
    expect([Number(rows), Number(distinct)]).toEqual([CLIENTS * REQUESTS_PER_CLIENT * 20, CLIENTS * REQUESTS_PER_CLIENT * 20]);
  });
});
