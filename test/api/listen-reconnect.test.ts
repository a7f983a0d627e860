import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openDatabase, type TDatabase } from '../../api/src/db/database.ts';
import { createPostgresDatabase } from '../support/databases.ts';

// LISTEN/NOTIFY crosses processes only on PostgreSQL; PGlite delivers in-process and cannot lose it.
describe('the change listener on postgres', () => {
  let database: { url: string; drop(): Promise<void> };
  let db: TDatabase;
  beforeAll(async () => {
    database = await createPostgresDatabase();
    db = await openDatabase({ databaseUrl: database.url });
  });
  afterAll(async () => {
    await db?.close();
    await database?.drop();
  });

  const waitFor = async (condition: () => boolean, timeoutMs = 10_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error('timed out');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };

  it('should log a lost connection, reconnect with backoff, report the reconnect and receive messages again', async () => {
    const warned = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const informed = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const received: string[] = [];
    let reconnects = 0;
    const stop = await db.listen('doorstep_reconnect_test', (payload) => received.push(payload), () => { reconnects++; });
    try {
      const admin = new pg.Client({ connectionString: database.url });
      await admin.connect();
      const killed = await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'`);
      await admin.end();
      expect(killed.rowCount).toBe(1);

      await waitFor(() => reconnects === 1);
      const lost = warned.mock.calls.map((call) => String(call[0])).filter((line) => line.includes('LISTEN connection lost'));
      expect(lost[0]).toMatch(/channel="doorstep_reconnect_test" attempt=1 retryInMs=\d+/);
      expect(informed.mock.calls.map((call) => String(call[0])).some((line) => line.includes('LISTEN connection restored'))).toBe(true);

      await db.notify('doorstep_reconnect_test', 'after');
      await waitFor(() => received.includes('after'));
    } finally {
      warned.mockRestore();
      informed.mockRestore();
      await stop();
    }
  });
});
