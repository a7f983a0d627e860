import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TDatabase } from '../../api/src/db/database.ts';
import { ProfileStore } from '../../api/src/runtime/profile-store.ts';
import { seedDemo } from '../../api/src/seed.ts';
import { createTestDatabase, DATABASE_KINDS, type TTestDatabase } from '../support/databases.ts';

/**
 * The real database, with a way to hold a read's result back after it was read: a read that
 * started before a change then finishes after it, as it does under load.
 */
function withHeldReads(db: TDatabase) {
  let hold: Promise<void> | null = null;
  let release = () => undefined as void;
  const held: TDatabase = {
    ...db,
    query: async (sql, params) => {
      const rows = await db.query(sql, params);
      if (hold) await hold;
      return rows as never[];
    },
  };
  return {
    db: held,
    holdNext() { hold = new Promise<void>((resolve) => { release = resolve; }); },
    release() { hold = null; release(); },
  };
}

describe.each(DATABASE_KINDS)('the profile cache on %s', (kind) => {
  let database: TTestDatabase;
  let environmentId: string;

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    const ws = await seedDemo(database.db.prisma);
    environmentId = (await database.db.prisma.environment.findFirstOrThrow({ where: { workspaceId: ws.workspaceId, key: 'production' } })).id;
  });
  afterAll(() => database.drop());

  const setAnswers = (externalId: string, answers: Record<string, unknown>) => database.db.prisma.userProfile.upsert({
    where: { environmentId_externalId: { environmentId, externalId } }, create: { environmentId, externalId, answers }, update: { answers },
  });

  it('should give a request after a change the new state while an older read is still under way', async () => {
    const reads = withHeldReads(database.db);
    const store = new ProfileStore(reads.db, async () => undefined);
    await setAnswers('racer', { plan: 'free' });
    reads.holdNext();
    const before = store.get(environmentId, 'racer');
    await new Promise((r) => setTimeout(r, 50));
    await setAnswers('racer', { plan: 'pro' });
    store.changed(environmentId, ['racer']);
    reads.release();
    const after = await store.get(environmentId, 'racer');
    expect(after.answers).toEqual({ plan: 'pro' });
    expect((await before).answers).toEqual({ plan: 'free' });
    // The overtaken read was not cached over the newer one.
    expect((await store.get(environmentId, 'racer')).answers).toEqual({ plan: 'pro' });
  });

  it('should read the profile of a user id that starts with U+FEFF, which PGlite reads back without it, instead of waiting forever', async () => {
    const store = new ProfileStore(database.db, async () => undefined);
    await setAnswers('\ufeffbom', { plan: 'pro' });
    await setAnswers('bom', { plan: 'free' });
    const read = Promise.all([store.get(environmentId, '\ufeffbom'), store.get(environmentId, 'bom')]);
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 5_000));
    const answers = await Promise.race([read.then((states) => states.map((state) => state.answers)), timeout]);
    expect(answers).toEqual([{ plan: 'pro' }, { plan: 'free' }]);
  });

  it('should not cache a read that was under way when every profile was dropped', async () => {
    const reads = withHeldReads(database.db);
    const store = new ProfileStore(reads.db, async () => undefined);
    await setAnswers('cleared', { plan: 'free' });
    reads.holdNext();
    const before = store.get(environmentId, 'cleared');
    await new Promise((r) => setTimeout(r, 50));
    await setAnswers('cleared', { plan: 'pro' });
    store.clear();
    reads.release();
    await before;
    expect((await store.get(environmentId, 'cleared')).answers).toEqual({ plan: 'pro' });
  });

  it('should tell other processes which users changed, many in one notice', async () => {
    const notices: Array<{ userIds: string[] }> = [];
    const store = new ProfileStore(database.db, async (change) => { notices.push(change); });
    store.changed(environmentId, ['a', 'b']);
    store.changed(environmentId, ['c']);
    await store.flush();
    expect(notices).toEqual([{ type: 'profiles', environmentId, userIds: ['a', 'b', 'c'] }]);
  });
});
