import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyResolver } from '../../api/src/auth/key-resolver.ts';
import type { TDatabase } from '../../api/src/db/database.ts';
import { seedDemo, type TSeedResult } from '../../api/src/seed.ts';
import { createTestDatabase, type TTestDatabase } from '../support/databases.ts';

describe('the key cache', () => {
  let database: TTestDatabase;
  let ws: TSeedResult;
  let lookups = 0;
  let prisma: TDatabase['prisma'];

  beforeAll(async () => {
    database = await createTestDatabase('pglite');
    ws = await seedDemo(database.db.prisma);
    prisma = database.db.prisma.$extends({ query: { $allOperations: ({ args, query }) => { lookups++; return query(args); } } }) as unknown as TDatabase['prisma'];
  });
  afterAll(() => database.drop());

  it('should keep a key in use cached while made-up tokens flood the cache', async () => {
    const keys = new KeyResolver(prisma, 50);
    expect((await keys.resolve(`Bearer ${ws.publicKey}`))?.kind).toBe('public');
    for (let i = 0; i < 200; i++) {
      expect(await keys.resolve(`Bearer dpk_made-up-token-number-${String(i).padStart(6, '0')}-abcdefgh`)).toBeNull();
    }
    const before = lookups;
    expect((await keys.resolve(`Bearer ${ws.publicKey}`))?.kind).toBe('public');
    expect(lookups).toBe(before);
  });

  it('should keep the most recently used keys when there are more keys than room', async () => {
    const keys = new KeyResolver(prisma, 2);
    await keys.resolve(`Bearer ${ws.publicKey}`);
    await keys.resolve(`Bearer ${ws.secretKey}`);
    await keys.resolve(`Bearer ${ws.publicKey}`);
    await keys.resolve(`Bearer ${ws.stagingPublicKey}`);
    const before = lookups;
    await keys.resolve(`Bearer ${ws.publicKey}`);
    expect(lookups).toBe(before);
    await keys.resolve(`Bearer ${ws.secretKey}`);
    expect(lookups).toBe(before + 1);
  });
});
