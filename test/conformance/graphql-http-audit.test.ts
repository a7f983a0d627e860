import type { Server } from 'node:http';
import { auditServer, type AuditResult } from 'graphql-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type TApp } from '../../api/src/app.ts';
import { listen } from '../../api/src/server.ts';
import { createTestDatabase, type TTestDatabase } from '../support/databases.ts';

describe('GraphQL over HTTP audit (graphql-http)', () => {
  let database: TTestDatabase;
  let app: TApp;
  let server: Server;
  let results: AuditResult[];

  beforeAll(async () => {
    database = await createTestDatabase('pglite');
    app = await createApp({ db: database.db });
    server = await listen(app, 0, '127.0.0.1');
    const { port } = server.address() as { port: number };
    results = await auditServer({ url: `http://127.0.0.1:${port}/graphql` });
  });
  afterAll(async () => {
    server?.close();
    await app?.close();
    await database?.drop();
  });

  it('should run the audit', () => {
    expect(results.length).toBeGreaterThan(30);
  });

  it('should report no error and no warning', async () => {
    const problems = await Promise.all(
      results.filter((r) => r.status !== 'ok').map(async (r) => `${r.status} ${r.id}: ${r.name} -- ${'reason' in r ? r.reason : ''}`),
    );
    expect(problems).toEqual([]);
  });
});
