import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { createPostgresDatabase } from '../support/databases.ts';
import { postGraphQL, startApiProcess } from '../support/process.ts';

const SECRET = 'dsk_masking-test-secret-key-0123456789abcdef';

describe('unexpected errors in the running API', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /** The API as a process in development mode on PostgreSQL, whose segments table is then taken from under it. */
  async function brokenApi() {
    const database = await createPostgresDatabase();
    cleanups.push(() => database.drop());
    const api = await startApiProcess({ DATABASE_URL: database.url, NODE_ENV: 'development', DOORSTEP_SEED_SECRET_KEY: SECRET });
    cleanups.push(() => api.stop());
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    await client.query('ALTER TABLE "Segment" RENAME TO "SegmentGone"');
    await client.end();
    return api;
  }

  it('should answer "Unexpected error." without the original message, stack or paths, even in development', async () => {
    const api = await brokenApi();
    const res = await postGraphQL(api.url, SECRET, '{ segments { key } }');
    expect(res.errors).toEqual([{ message: 'Unexpected error.', locations: [{ line: 1, column: 3 }], path: ['segments'], extensions: { code: 'INTERNAL_SERVER_ERROR' } }]);
    expect(JSON.stringify(res)).not.toMatch(/stack|originalError|prisma|does not exist|\.ts|\/api\//i);
  });

  it('should log the unexpected error once, with its field and its cause, for the operator', async () => {
    const api = await brokenApi();
    await postGraphQL(api.url, SECRET, '{ segments { key } }');
    const lines = api.output().split('\n').filter((line) => line.startsWith('[doorstep] error Unexpected error'));
    expect(lines).toEqual([expect.stringMatching(/^\[doorstep\] error Unexpected error path="segments" PrismaClientKnownRequestError/)]);
    expect(api.output()).toMatch(/Segment. does not exist/);
  });
});
