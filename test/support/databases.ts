import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openDatabase, type TDatabase } from '../../api/src/db/database.ts';
import { migrate } from '../../api/src/db/migrator.ts';

export type TDatabaseKind = 'pglite' | 'postgres';
export const DATABASE_KINDS: TDatabaseKind[] = ['pglite', 'postgres'];

/** The machine's PostgreSQL; its absence fails the suite instead of skipping half of it. */
export const POSTGRES_ADMIN_URL = process.env.DOORSTEP_TEST_POSTGRES_URL ?? 'postgresql://root@127.0.0.1:5432/postgres';

export type TTestDatabase = { kind: TDatabaseKind; db: TDatabase; url: string | null; drop(): Promise<void> };

/** A fresh PostgreSQL database (not yet migrated) and a way to remove it; the fuzzer names its own. */
export async function createPostgresDatabase(adminUrl = POSTGRES_ADMIN_URL, prefix = 'doorstep_test'): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const cleanup = new pg.Client({ connectionString: adminUrl });
      await cleanup.connect();
      await cleanup.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await cleanup.end();
    },
  };
}

/** A migrated database of the given kind, private to the calling test file. */
export async function createTestDatabase(kind: TDatabaseKind): Promise<TTestDatabase> {
  if (kind === 'pglite') {
    const db = await openDatabase({});
    await migrate(db);
    return { kind, db, url: null, drop: () => db.close() };
  }
  const postgres = await createPostgresDatabase();
  const db = await openDatabase({ databaseUrl: postgres.url });
  await migrate(db);
  return {
    kind,
    db,
    url: postgres.url,
    drop: async () => {
      await db.close();
      await postgres.drop();
    },
  };
}
